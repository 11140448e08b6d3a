package graph_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
)

const (
	testSite = "contoso.sharepoint.com,11111111-1111-1111-1111-111111111111,22222222-2222-2222-2222-222222222222"
	testList = "5c77031a-9621-4dfc-bb5d-57803a94e91d"
)

func listClient(t *testing.T, l *graphtest.Lists) *graph.Client {
	t.Helper()
	c, err := graph.New(graph.Config{BaseURL: l.BaseURL(), Credential: graph.StaticToken("t"),
		Policy: graph.Policy{MaxWait: 2 * time.Second, Backoff: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func drain(t *testing.T, c *graph.Client, link string) (items []graph.ListItem, delta string, pages int) {
	t.Helper()
	for {
		p, err := c.ListItemsDelta(context.Background(), testSite, testList, link)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		items = append(items, p.Items...)
		if p.DeltaLink != "" {
			return items, p.DeltaLink, pages
		}
		link = p.NextLink
	}
}

func TestListItemsDeltaPagesThenIncremental(t *testing.T) {
	l := graphtest.NewLists(2)
	defer l.Close()
	for _, id := range []string{"1", "2", "3"} {
		l.Put(testSite, testList, graphtest.ListItem{ID: id, Fields: map[string]any{"Title": "item " + id, "Value": 12.5}, CreatedBy: "u1"})
	}
	c := listClient(t, l)
	items, delta, pages := drain(t, c, "")
	if len(items) != 3 || pages != 2 {
		t.Fatalf("full sync: %d items in %d pages, want 3 in 2", len(items), pages)
	}
	if items[0].Fields["Title"] != "item 1" || items[0].Fields["Value"] != 12.5 || items[0].CreatedByID != "u1" || items[0].ETag == "" {
		t.Errorf("item 1 = %+v", items[0])
	}
	l.Put(testSite, testList, graphtest.ListItem{ID: "2", Fields: map[string]any{"Title": "changed"}})
	l.Delete(testSite, testList, "3")
	items, _, _ = drain(t, c, delta)
	if len(items) != 2 || items[0].ID != "2" || items[0].Fields["Title"] != "changed" || !items[1].Deleted || items[1].ID != "3" {
		t.Fatalf("incremental = %+v", items)
	}
}

func TestListItemsDeltaRetriesThrottlingAndReportsResync(t *testing.T) {
	l := graphtest.NewLists(10)
	defer l.Close()
	l.Put(testSite, testList, graphtest.ListItem{ID: "1", Fields: map[string]any{"Title": "a"}})
	l.Inject(graphtest.Fault{Where: "delta", Status: 429, RetryAfter: "0.02"})
	c := listClient(t, l)
	start := time.Now()
	_, delta, _ := drain(t, c, "")
	if time.Since(start) < 20*time.Millisecond || c.Stats().Throttled != 1 {
		t.Errorf("Retry-After not honoured: %v, stats %+v", time.Since(start), c.Stats())
	}
	l.ExpireDeltaTokens()
	_, err := c.ListItemsDelta(context.Background(), testSite, testList, delta)
	if !errors.Is(err, graph.ErrResyncRequired) {
		t.Fatalf("expired delta link: %v, want ErrResyncRequired", err)
	}
}

func TestSubscriptionsCreateListRenew(t *testing.T) {
	l := graphtest.NewLists(10)
	defer l.Close()
	c := listClient(t, l)
	ctx := context.Background()
	exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	s, err := c.CreateSubscription(ctx, graph.Subscription{Resource: "sites/" + testSite + "/lists/" + testList,
		NotificationURL: "https://example.org/api/sharepoint/webhook", ClientState: "secret", Expiration: exp})
	if err != nil || s.ID == "" {
		t.Fatalf("create: %+v %v", s, err)
	}
	if got := l.Subscriptions(); len(got) != 1 || got[0].ClientState != "secret" || got[0].ChangeType != "updated" {
		t.Fatalf("held = %+v", got)
	}
	later := exp.Add(48 * time.Hour)
	if got, err := c.RenewSubscription(ctx, s.ID, later); err != nil || !got.Equal(later) {
		t.Fatalf("renew: %v %v", got, err)
	}
	all, err := c.Subscriptions(ctx)
	if err != nil || len(all) != 1 || !all[0].Expiration.Equal(later) || all[0].Resource != s.Resource {
		t.Fatalf("list: %+v %v", all, err)
	}
}
