package graph_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
)

func newClient(t *testing.T, s *graphtest.Server, p graph.Policy) *graph.Client {
	t.Helper()
	if p.MaxWait == 0 {
		p.MaxWait = 2 * time.Second
	}
	if p.Backoff == 0 {
		p.Backoff = 10 * time.Millisecond
	}
	c, err := graph.New(graph.Config{BaseURL: s.BaseURL(), Credential: graph.StaticToken("test-token"), Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func collect(t *testing.T, ctx context.Context, c *graph.Client, link string) (ids []string, removed []string, deltaLink string, pages int) {
	t.Helper()
	for {
		p, err := c.ServicePrincipalsDelta(ctx, link)
		if err != nil {
			t.Fatalf("delta page %d: %v", pages+1, err)
		}
		pages++
		for _, sp := range p.Items {
			if sp.Removed {
				removed = append(removed, sp.ID)
			} else {
				ids = append(ids, sp.ID)
			}
		}
		if p.DeltaLink != "" {
			return ids, removed, p.DeltaLink, pages
		}
		link = p.NextLink
	}
}

func TestDeltaFullThenIncremental(t *testing.T) {
	s := graphtest.New(graphtest.Options{PageSize: 10, Generated: 25})
	defer s.Close()
	c := newClient(t, s, graph.Policy{})
	ctx := context.Background()
	ids, removed, dl, pages := collect(t, ctx, c, "")
	if len(ids) != 27 || len(removed) != 0 || pages != 3 {
		t.Fatalf("full sync: %d apps, %d removed, %d pages; want 27, 0, 3", len(ids), len(removed), pages)
	}
	if q := s.LastDeltaQuery(); !strings.Contains(q, "skiptoken") {
		t.Errorf("last delta query %q should follow the nextLink", q)
	}
	s.Remove(graphtest.GeneratedID(3))
	s.Update(graphtest.GeneratedID(4), func(a *graphtest.App) { a.SP.DisplayName = "Renamed" })
	ids, removed, _, pages = collect(t, ctx, c, dl)
	if len(ids) != 1 || ids[0] != graphtest.GeneratedID(4) || len(removed) != 1 || removed[0] != graphtest.GeneratedID(3) || pages != 1 {
		t.Fatalf("incremental: ids %v removed %v pages %d", ids, removed, pages)
	}
}

func TestDeltaFirstRequestSelectsFields(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 1})
	defer s.Close()
	c := newClient(t, s, graph.Policy{})
	p, err := c.ServicePrincipalsDelta(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	q := s.LastDeltaQuery()
	for _, f := range []string{"appId", "passwordCredentials", "keyCredentials", "verifiedPublisher", "appOwnerOrganizationId"} {
		if !strings.Contains(q, f) {
			t.Errorf("delta query %q lacks %s in $select", q, f)
		}
	}
	var sp = p.Items[0]
	for _, it := range p.Items {
		if it.ID == graphtest.GeneratedID(0) {
			sp = it
		}
	}
	if sp.AppID != graphtest.GeneratedAppID(0) || sp.AppOwnerOrganizationID != graphtest.MicrosoftTenant || sp.VerifiedPublisher == "" || sp.CreatedAt.IsZero() {
		t.Errorf("parsed %+v", sp)
	}
}

func TestDeltaExpiredMeansResync(t *testing.T) {
	for _, status := range []int{http.StatusGone, http.StatusBadRequest} {
		s := graphtest.New(graphtest.Options{Generated: 3})
		c := newClient(t, s, graph.Policy{})
		_, _, dl, _ := collect(t, context.Background(), c, "")
		s.ExpireDeltaTokens(status)
		_, err := c.ServicePrincipalsDelta(context.Background(), dl)
		var ge *graph.Error
		if !errors.Is(err, graph.ErrResyncRequired) || !errors.As(err, &ge) || ge.Status != status {
			t.Errorf("status %d: err = %v; want ErrResyncRequired with the status", status, err)
		}
		s.Close()
	}
}

func TestThrottlingHonoursRetryAfter(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 2})
	defer s.Close()
	s.Inject(graphtest.Fault{Where: "delta", Status: 429, RetryAfter: "0.2"})
	s.Inject(graphtest.Fault{Where: "delta", Status: 503, RetryAfter: "0.05"})
	c := newClient(t, s, graph.Policy{})
	start := time.Now()
	if _, err := c.ServicePrincipalsDelta(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("took %v; want at least the 0.25s Retry-After asked", d)
	}
	st := c.Stats()
	if st.Requests != 3 || st.Retries != 2 || st.Throttled != 2 {
		t.Errorf("stats %+v; want 3 requests, 2 retries, 2 throttled", st)
	}
}

func TestThrottlingBoundedAttempts(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 2})
	defer s.Close()
	s.Inject(graphtest.Fault{Where: "delta", Status: 429, RetryAfter: "0", Times: 10})
	c := newClient(t, s, graph.Policy{MaxAttempts: 3})
	_, err := c.ServicePrincipalsDelta(context.Background(), "")
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Status != 429 || !ge.Transient() || ge.Code != "TooManyRequests" {
		t.Fatalf("err = %v; want the 429 after 3 attempts", err)
	}
	if n := s.Counts().DeltaPages; n != 3 {
		t.Errorf("server saw %d attempts; want 3", n)
	}
}

func TestRetryAfterLongerThanMaxWaitIsNotWaited(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 2})
	defer s.Close()
	s.Inject(graphtest.Fault{Where: "delta", Status: 429, RetryAfter: "3600"})
	c := newClient(t, s, graph.Policy{})
	start := time.Now()
	_, err := c.ServicePrincipalsDelta(context.Background(), "")
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %v; want an immediate 429", err, time.Since(start))
	}
}

func TestCancellationStopsWaiting(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 2})
	defer s.Close()
	s.Inject(graphtest.Fault{Where: "delta", Status: 503, RetryAfter: "1.5"})
	c := newClient(t, s, graph.Policy{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ServicePrincipalsDelta(ctx, "")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %v; want the deadline, promptly", err, time.Since(start))
	}
}

func TestBudget(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 30, PageSize: 10})
	defer s.Close()
	c := newClient(t, s, graph.Policy{})
	b := graph.NewBudget(2)
	ctx := graph.WithBudget(context.Background(), b)
	p, err := c.ServicePrincipalsDelta(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err = c.ServicePrincipalsDelta(ctx, p.NextLink)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ServicePrincipalsDelta(ctx, p.NextLink)
	if !errors.Is(err, graph.ErrBudgetExhausted) || b.Used() != 2 || !b.Exhausted() {
		t.Fatalf("err = %v, used %d; want ErrBudgetExhausted after 2", err, b.Used())
	}
	if n := s.Counts().DeltaPages; n != 2 {
		t.Errorf("server saw %d requests; want 2", n)
	}
}

func TestChildrenBatchWithThrottledItemsAndPaging(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 40, ChildPageSize: 1})
	defer s.Close()
	s.Inject(graphtest.Fault{Where: "item", Status: 429, RetryAfter: "0.05", Times: 3, After: 5})
	s.Inject(graphtest.Fault{Where: "batch", Status: 503, RetryAfter: "0.01"})
	c := newClient(t, s, graph.Policy{})
	var ids []string
	for i := range 40 {
		ids = append(ids, graphtest.GeneratedID(i))
	}
	ids = append(ids, "ffffffff-0000-4000-8000-000000000000") // unknown: 404
	got, err := c.Children(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		want := graphtest.Generate(i, time.Time{})
		ch := got[graphtest.GeneratedID(i)]
		if len(ch.AppRoleAssignments) != len(want.Assignments) || len(ch.Grants) != len(want.Grants) || len(ch.Owners) != len(want.Owners) {
			t.Errorf("app %d: %d/%d/%d children; want %d/%d/%d", i, len(ch.AppRoleAssignments), len(ch.Grants), len(ch.Owners),
				len(want.Assignments), len(want.Grants), len(want.Owners))
		}
	}
	if ch := got[graphtest.GeneratedID(0)]; len(ch.AppRoleAssignments) != 2 || ch.AppRoleAssignments[0].AppRoleID != graphtest.RoleID("Mail.Read") || ch.AppRoleAssignments[0].ResourceID != graphtest.GraphResourceID {
		t.Errorf("app 0 assignments %+v", ch.AppRoleAssignments)
	}
	if ch := got[graphtest.GeneratedID(1)]; len(ch.Owners) != 1 || ch.Owners[0].Type != "user" {
		t.Errorf("app 1 owners %+v", ch.Owners)
	}
	if !got["ffffffff-0000-4000-8000-000000000000"].Gone {
		t.Error("unknown service principal not marked gone")
	}
	st := c.Stats()
	if st.Throttled != 4 || st.BatchItems < 123 {
		t.Errorf("stats %+v; want 4 throttled (3 items + 1 batch), at least 123 items", st)
	}
}

func TestChildrenItemThrottledTooOften(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 1})
	defer s.Close()
	s.Inject(graphtest.Fault{Where: "item", Status: 429, RetryAfter: "0", Times: 100})
	c := newClient(t, s, graph.Policy{MaxAttempts: 3})
	_, err := c.Children(context.Background(), []string{graphtest.GeneratedID(0)})
	if err == nil || !strings.Contains(err.Error(), "throttled 3 times") {
		t.Fatalf("err = %v; want giving up after 3 attempts", err)
	}
}

func TestChildrenForbiddenItemFails(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 1})
	defer s.Close()
	s.Inject(graphtest.Fault{Where: "item", Status: 403, Code: "Authorization_RequestDenied"})
	c := newClient(t, s, graph.Policy{})
	_, err := c.Children(context.Background(), []string{graphtest.GeneratedID(0)})
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Status != 403 || ge.Code != "Authorization_RequestDenied" {
		t.Fatalf("err = %v; want the 403 with its code", err)
	}
}

func TestResources(t *testing.T) {
	s := graphtest.New(graphtest.Options{})
	defer s.Close()
	c := newClient(t, s, graph.Policy{})
	got, err := c.Resources(context.Background(), []string{graphtest.GraphResourceID, graphtest.SharePointResID})
	if err != nil {
		t.Fatal(err)
	}
	g := got[graphtest.GraphResourceID]
	if g.AppID != graphtest.GraphAppID || g.DisplayName != "Microsoft Graph" || g.Roles[graphtest.RoleID("Mail.Read")] != "Mail.Read" {
		t.Errorf("graph resource %+v", g)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{" 2.25 ", 2250 * time.Millisecond, true},
		{"Thu, 01 Jan 2026 12:00:10 GMT", 10 * time.Second, true},
		{"Thu, 01 Jan 2026 11:00:00 GMT", 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
		{"NaN", 0, false},
	} {
		got, ok := graph.RetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := graph.New(graph.Config{}); err == nil {
		t.Error("no credential accepted")
	}
	if _, err := graph.New(graph.Config{Credential: graph.StaticToken("x"), BaseURL: "not a url"}); err == nil {
		t.Error("relative base URL accepted")
	}
}
