package teamsnotify

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/faultnet"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/teams"
	"github.com/council-ict/govkit/shared/teams/teamstest"
	"github.com/council-ict/govkit/shared/testutil"
)

// netHandler is newHandler with a sender whose requests time out after
// 200ms, and waits that pass at once.
func netHandler(t *testing.T, routes teams.Routes, l Ledger) *Handler {
	t.Helper()
	h, err := New(Config{Routes: routes}, l, teams.New(&http.Client{Timeout: 200 * time.Millisecond}), &memBlobs{m: map[string][]byte{}})
	if err != nil {
		t.Fatal(err)
	}
	h.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return h
}

// behindFaults starts a Teams stand-in behind rule's faults and a
// netHandler, on an in-memory ledger, whose housing route posts through
// them.
func behindFaults(t *testing.T, rule faultnet.Rule) (*teamstest.Server, *faultnet.Plan, *Handler, *memLedger) {
	t.Helper()
	srv := teamstest.NewServer(t)
	plan := faultnet.NewPlan(rule)
	proxy := faultnet.NewProxy(t, srv.URL(), plan)
	routes, err := teams.NewRoutes(map[string]string{"ict-champions-housing": faultnet.Rehost(srv.URL(), proxy.URL)})
	if err != nil {
		t.Fatal(err)
	}
	l := &memLedger{m: map[string]Delivery{}}
	return srv, plan, netHandler(t, routes, l), l
}

// TestWebhookConnectionFaults: a webhook POST whose connection drops,
// resets, stalls, is cut or answers too slowly is retried within the
// invocation and the card is delivered and recorded; a redelivery of the
// message sends nothing. When the request never reached the flow the card
// is posted exactly once.
//
// Known gap: when the flow received the POST and the answer was lost (the
// connection dropped after it, or the answer came after the client's
// timeout), the sender cannot tell and posts again, so that card may be
// posted twice. Teams Workflows webhooks take no idempotency key, so this
// is at most one repeat per lost answer: asserted as at most 2 below.
func TestWebhookConnectionFaults(t *testing.T) {
	for _, tc := range []struct {
		rule    faultnet.Rule
		arrived bool // the flow received the failed POST
	}{
		{rule: faultnet.Rule{Fault: faultnet.Drop}},
		{rule: faultnet.Rule{Fault: faultnet.Reset}},
		{rule: faultnet.Rule{Fault: faultnet.Stall}},
		{rule: faultnet.Rule{Fault: faultnet.Drop, Times: 3}},
		{rule: faultnet.Rule{Fault: faultnet.DropAfter}, arrived: true},
		{rule: faultnet.Rule{Fault: faultnet.Slow, Delay: time.Minute}, arrived: true},
		// 202 has no body: the answer is complete before the cut.
		{rule: faultnet.Rule{Fault: faultnet.Truncate}},
		{rule: faultnet.Rule{Fault: faultnet.Trickle}},
	} {
		t.Run(fmt.Sprintf("%v x%d", tc.rule.Fault, max(tc.rule.Times, 1)), func(t *testing.T) {
			srv, plan, h, l := behindFaults(t, tc.rule)
			n := digest(2)
			if _, err := h.Invoke(context.Background(), message(t, n)); err != nil {
				t.Fatalf("invoke: %v", err)
			}
			if d, ok, _ := l.Get(context.Background(), n.ID, "card"); !ok || d.Status != StatusDelivered {
				t.Errorf("ledger %+v, %v; want delivered", d, ok)
			}
			// A redelivered message sends nothing more.
			if _, err := h.Invoke(context.Background(), message(t, n)); err != nil {
				t.Fatal(err)
			}
			got := len(srv.Accepted())
			switch {
			case !tc.arrived && got != 1:
				t.Errorf("card posted %d times; want exactly once (the failed request never reached the flow)", got)
			case tc.arrived && (got < 1 || got > 2):
				t.Errorf("card posted %d times; want once, or twice for the lost answer (known gap)", got)
			}
			if plan.Fired() != max(tc.rule.Times, 1) {
				t.Errorf("%d faults injected; want %d", plan.Fired(), max(tc.rule.Times, 1))
			}
			t.Logf("%v: %d requests for 1 card, %d posted", tc.rule.Fault, plan.Requests(), got)
		})
	}
}

// TestWebhookFaultsBeyondBoundRedeliver: a webhook that cannot be reached
// on any attempt fails the invocation (retryable; the cards not delivered
// are not recorded and not posted); the queue's redelivery after the
// network heals posts each remaining card once. The split digest loses the
// network after its first card.
func TestWebhookFaultsBeyondBoundRedeliver(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     notify.Notification
		after int // requests let through before the network fails
	}{
		{"one card", digest(2), 0},
		{"split digest, after its first card", digest(60), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := Render(tc.n, 0)
			if err != nil || len(parts) < tc.after+1 {
				t.Fatalf("%d parts, %v", len(parts), err)
			}
			srv, plan, h, l := behindFaults(t, faultnet.Rule{Fault: faultnet.Reset, After: tc.after, Times: -1})
			_, err = h.Invoke(context.Background(), message(t, tc.n))
			if err == nil || funcapp.IsPermanent(err) {
				t.Fatalf("err = %v; want a retryable failure", err)
			}
			if len(l.m) != tc.after {
				t.Errorf("%d cards recorded; want the %d delivered", len(l.m), tc.after)
			}
			if plan.Fired() != h.cfg.MaxWaits+1 || len(srv.Requests()) != tc.after {
				t.Errorf("%d failed attempts, %d requests reached the flow; want %d bounded attempts and %d arrivals",
					plan.Fired(), len(srv.Requests()), h.cfg.MaxWaits+1, tc.after)
			}
			plan.Clear()
			if _, err := h.Invoke(context.Background(), message(t, tc.n)); err != nil {
				t.Fatalf("redelivery: %v", err)
			}
			seen := map[string]int{}
			for _, r := range srv.Accepted() {
				seen[string(r.Body)]++
			}
			if len(seen) != len(parts) || len(srv.Accepted()) != len(parts) {
				t.Errorf("%d cards posted, %d distinct; want each of the %d parts once", len(srv.Accepted()), len(seen), len(parts))
			}
		})
	}
}

// TestDuplicateAndOutOfOrderDelivery: the queue delivers each message
// twice and in any order; the cards posted are exactly those of a single
// in-order delivery, each once (the delivery ledger in Tables skips what
// was delivered).
func TestDuplicateAndOutOfOrderDelivery(t *testing.T) {
	conn := testutil.Azurite(t)
	svc, err := store.NewService(store.Config{ConnectionString: conn})
	if err != nil {
		t.Fatal(err)
	}
	big := digest(60) // several cards
	big.ID = "contracts:digest:big"
	other := digest(1)
	other.ID, other.Route = "contracts:digest:igsg", "igsg"
	single := notify.Notification{ID: "sar:S-1:reminder:5", Source: "SubjectRequestSweep", Route: "igsg",
		Severity: notify.SeverityWarning, Title: "Subject request due in 5 days", Summary: "Reply by 8 December 2026.",
		CreatedAt: time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)}
	ns := []notify.Notification{digest(2), big, other, single}

	// cards delivers the notifications in order (indexes into ns) and
	// returns the bodies the webhooks accepted, sorted.
	cards := func(t *testing.T, order []int) []string {
		t.Helper()
		srv := teamstest.NewServer(t)
		routes, err := teams.NewRoutes(map[string]string{"ict-champions-housing": srv.URL(), "igsg": srv.URL()})
		if err != nil {
			t.Fatal(err)
		}
		table := testutil.UniqueName("deliveries")
		if err := svc.EnsureTables(context.Background(), table); err != nil {
			t.Fatal(err)
		}
		h := netHandler(t, routes, NewTableLedger(svc, table))
		for _, i := range order {
			if _, err := h.Invoke(context.Background(), message(t, ns[i])); err != nil {
				t.Fatalf("deliver %s: %v", ns[i].ID, err)
			}
		}
		var out []string
		for _, r := range srv.Accepted() {
			out = append(out, string(r.Body))
		}
		slices.Sort(out)
		return out
	}
	want := cards(t, []int{0, 1, 2, 3})
	if len(want) < len(ns)+1 {
		t.Fatalf("in-order delivery posted %d cards; want more than %d (one digest splits)", len(want), len(ns))
	}
	for _, tc := range []struct {
		name  string
		order []int
	}{
		{"twice in order", []int{0, 1, 2, 3, 0, 1, 2, 3}},
		{"each at once twice", []int{0, 0, 1, 1, 2, 2, 3, 3}},
		{"twice reversed", []int{3, 2, 1, 0, 3, 2, 1, 0}},
		{"twice shuffled", []int{2, 0, 3, 2, 1, 3, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cards(t, tc.order)
			if !slices.Equal(got, want) {
				t.Errorf("posted %d cards; a single in-order delivery posts %d, each once", len(got), len(want))
			}
		})
	}
}
