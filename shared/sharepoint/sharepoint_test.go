package sharepoint_test

import (
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/sharepoint"
)

func TestParseListsNamesBadFields(t *testing.T) {
	_, errs := sharepoint.ParseLists(`[{"name":"Bad Name","kind":"invoices","siteId":"x","listId":"a,b","ownerRoute":"","columns":{"nope":"X"}}]`)
	var got []string
	for _, e := range errs {
		got = append(got, e.Field)
	}
	want := "[0].name [0].kind [0].siteId [0].listId [0].ownerRoute"
	if strings.Join(got, " ") != want {
		t.Fatalf("fields = %v, want %s", got, want)
	}
	if _, errs := sharepoint.ParseLists(`{}`); len(errs) != 1 || errs[0].Field != "(json)" {
		t.Fatalf("non-array: %v", errs)
	}
	ls, errs := sharepoint.ParseLists(`[{"name":"sar","kind":"subject-requests","siteId":"` + site + `","listId":"` + list + `","ownerRoute":"igsg","columns":{"email":"Mail"}}]`)
	if errs != nil || ls[0].Column("email") != "Mail" || ls[0].Column("type") != "RequestType" {
		t.Fatalf("%+v %v", ls, errs)
	}
}

func TestNotificationsAndClientState(t *testing.T) {
	ns, err := sharepoint.ParseNotifications([]byte(`{"value":[{"subscriptionId":"s","clientState":"c","resource":"B9F6F714-9df8-470b-b22e-653855e1c181"}]}`))
	if err != nil || len(ns) != 1 {
		t.Fatal(ns, err)
	}
	lists := []sharepoint.List{{Name: "x", ListID: "b9f6f714-9df8-470b-b22e-653855e1c181"}}
	for _, r := range []string{"b9f6f714-9df8-470b-b22e-653855e1c181", "sites/a,b,c/lists/b9f6f714-9df8-470b-b22e-653855e1c181",
		"https://contoso.sharepoint.com/_api/web/lists('B9F6F714-9DF8-470B-B22E-653855E1C181')"} {
		if _, ok := sharepoint.ByResource(lists, r); !ok {
			t.Errorf("resource %q not matched", r)
		}
	}
	for _, bad := range []string{``, `[]`, `{"value":{}}`, `{"value":[{"clientState":"c"}]}`, `{"value":[]} x`, `{}`} {
		if _, err := sharepoint.ParseNotifications([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	s := config.NewSecret("a-long-client-state")
	if !sharepoint.ClientStateMatches("a-long-client-state", s) || sharepoint.ClientStateMatches("a-long-client-statf", s) ||
		sharepoint.ClientStateMatches("", config.Secret{}) {
		t.Error("client state comparison wrong")
	}
}

func TestPlanSubscriptions(t *testing.T) {
	now := time.Date(2026, 5, 1, 2, 15, 0, 0, time.UTC)
	url := "https://app.example/api/sharepoint/webhook"
	l := sharepoint.List{Name: "contracts", SiteID: site, ListID: list}
	res := l.Resource()
	pol := sharepoint.SubscriptionPolicy{RenewBefore: 7 * 24 * time.Hour}
	maxExp := now.Add(sharepoint.MaxListSubscriptionLifetime - time.Minute)
	cases := []struct {
		name     string
		existing []graph.Subscription
		kind, id string
	}{
		{"none", nil, sharepoint.ActionCreate, ""},
		{"other url", []graph.Subscription{{ID: "1", Resource: res, NotificationURL: "https://other/", Expiration: now.Add(20 * 24 * time.Hour)}}, sharepoint.ActionCreate, ""},
		{"expired", []graph.Subscription{{ID: "1", Resource: res, NotificationURL: url, Expiration: now.Add(-time.Hour)}}, sharepoint.ActionCreate, ""},
		{"fresh", []graph.Subscription{{ID: "1", Resource: res, NotificationURL: url, Expiration: now.Add(20 * 24 * time.Hour)}}, sharepoint.ActionKeep, "1"},
		{"expiring", []graph.Subscription{{ID: "1", Resource: res, NotificationURL: url + "/", Expiration: now.Add(6 * 24 * time.Hour)}}, sharepoint.ActionRenew, "1"},
		{"latest of two", []graph.Subscription{
			{ID: "1", Resource: res, NotificationURL: url, Expiration: now.Add(2 * 24 * time.Hour)},
			{ID: "2", Resource: "sites/other/lists/" + strings.ToUpper(list), NotificationURL: url, Expiration: now.Add(3 * 24 * time.Hour)}}, sharepoint.ActionRenew, "2"},
	}
	for _, c := range cases {
		got := sharepoint.PlanSubscriptions([]sharepoint.List{l}, c.existing, url, now, pol)
		if len(got) != 1 || got[0].Kind != c.kind || got[0].SubscriptionID != c.id {
			t.Errorf("%s: %+v", c.name, got)
			continue
		}
		if c.kind != sharepoint.ActionKeep && !got[0].Expiration.Equal(maxExp.Truncate(time.Second)) {
			t.Errorf("%s: expiration %v, want %v", c.name, got[0].Expiration, maxExp)
		}
	}
	// A lifetime above Graph's maximum is capped.
	got := sharepoint.PlanSubscriptions([]sharepoint.List{l}, nil, url, now, sharepoint.SubscriptionPolicy{Lifetime: 180 * 24 * time.Hour})
	if got[0].Expiration.After(now.Add(sharepoint.MaxListSubscriptionLifetime)) {
		t.Errorf("lifetime not capped: %v", got[0].Expiration)
	}
}
