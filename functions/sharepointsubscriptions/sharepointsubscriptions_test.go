package sharepointsubscriptions

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
	"github.com/council-ict/govkit/shared/sharepoint"
)

const site = "contoso.sharepoint.com,11111111-1111-1111-1111-111111111111,22222222-2222-2222-2222-222222222222"

type fakeSync struct {
	calls []string
	fail  string // list whose sync fails
}

func (f *fakeSync) Sync(_ context.Context, l sharepoint.List) (sharepoint.Result, error) {
	f.calls = append(f.calls, l.Name)
	if l.Name == f.fail {
		return sharepoint.Result{}, errors.New("graph: 503")
	}
	return sharepoint.Result{Pages: 1}, nil
}

func lists(t *testing.T) []sharepoint.List {
	t.Helper()
	ls, errs := sharepoint.ParseLists(`[
		{"name":"contracts","kind":"contracts","siteId":"` + site + `","listId":"5c77031a-9621-4dfc-bb5d-57803a94e91d","ownerRoute":"procurement"},
		{"name":"reviews","kind":"cloud-app-reviews","siteId":"` + site + `","listId":"6d88142b-0732-4e0d-8c6e-68914b05f02e","ownerRoute":"igsg"}]`)
	if errs != nil {
		t.Fatal(errs)
	}
	return ls
}

func client(t *testing.T, l *graphtest.Lists) *graph.Client {
	t.Helper()
	c, err := graph.New(graph.Config{BaseURL: l.BaseURL(), Credential: graph.StaticToken("t"),
		Policy: graph.Policy{MaxAttempts: 2, MaxWait: time.Second, Backoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Over several daily runs against the Graph list stand-in: subscriptions
// are created once per list with the client state, renewed within the
// window (never beyond Graph's 42,300-minute cap), kept outside it, and
// every list is reconciled on every run, even when Graph's subscription
// endpoint fails or one list's sync fails.
func TestDailyRuns(t *testing.T) {
	ls := graphtest.NewLists(10)
	defer ls.Close()
	secret := config.NewSecret("client-state-for-the-test-0001")
	tests := []struct {
		name        string
		url         string
		renewBefore time.Duration
		fault       bool
		failList    string
		wantSubs    int
		wantRenewed bool
		wantErr     bool
	}{
		{name: "no notification URL: reconcile only", renewBefore: 30 * 24 * time.Hour},
		{name: "first run creates one per list", url: "https://govkit.example/api/sharepoint/webhook", renewBefore: 30 * 24 * time.Hour, wantSubs: 2},
		{name: "next run renews within the window", url: "https://govkit.example/api/sharepoint/webhook", renewBefore: 30 * 24 * time.Hour, wantSubs: 2, wantRenewed: true},
		{name: "outside the window they are kept", url: "https://govkit.example/api/sharepoint/webhook", renewBefore: time.Hour, wantSubs: 2},
		{name: "Graph subscription failure still reconciles", url: "https://govkit.example/api/sharepoint/webhook", renewBefore: time.Hour, fault: true, wantSubs: 2, wantErr: true},
		{name: "one list's sync failure does not stop the other", url: "https://govkit.example/api/sharepoint/webhook", renewBefore: time.Hour, failList: "contracts", wantSubs: 2, wantErr: true},
	}
	now := time.Date(2026, 12, 3, 2, 15, 0, 0, time.UTC)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault {
				ls.Inject(graphtest.Fault{Where: "subscriptions", Status: 500, Times: 2})
			}
			before := ls.Subscriptions()
			s := &fakeSync{fail: tt.failList}
			h, err := New(Config{Lists: lists(t), NotificationURL: tt.url, ClientState: secret,
				Policy: sharepoint.SubscriptionPolicy{RenewBefore: tt.renewBefore}}, client(t, ls), s)
			if err != nil {
				t.Fatal(err)
			}
			h.now = func() time.Time { return now.Add(time.Duration(i) * time.Hour) }
			_, err = h.Invoke(context.Background(), invocationForTimer())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if len(s.calls) != 2 {
				t.Fatalf("reconciled %v, want both lists", s.calls)
			}
			subs := ls.Subscriptions()
			if len(subs) != tt.wantSubs {
				t.Fatalf("%d subscriptions, want %d", len(subs), tt.wantSubs)
			}
			for j, sub := range subs {
				if sub.ClientState != secret.Value() || sub.NotificationURL != tt.url {
					t.Errorf("subscription %s: clientState or URL wrong", sub.ID)
				}
				if sub.Expiration.After(h.now().Add(sharepoint.MaxListSubscriptionLifetime)) {
					t.Errorf("subscription %s expires %s, beyond Graph's cap", sub.ID, sub.Expiration)
				}
				if j < len(before) && tt.wantRenewed != sub.Expiration.After(before[j].Expiration) {
					t.Errorf("subscription %s: expiry %s -> %s, renewed want %v", sub.ID, before[j].Expiration, sub.Expiration, tt.wantRenewed)
				}
			}
		})
	}
}

func invocationForTimer() funcapp.Invocation {
	inv, err := funcapp.DecodeInvocation("SharePointSubscriptions", "inv-1",
		[]byte(`{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{}}`))
	if err != nil {
		panic(err)
	}
	return inv
}
