package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/faultnet"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
)

// faultyServer starts a stand-in whose every connection goes through plan.
func faultyServer(t *testing.T, opts graphtest.Options, plan *faultnet.Plan) *graphtest.Server {
	t.Helper()
	s := graphtest.NewUnstarted(opts)
	s.Config.Handler = plan.Handler(s.Config.Handler)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// faultClient is a client with short waits and a 200ms attempt timeout.
func faultClient(t *testing.T, base string, attempts int) *graph.Client {
	t.Helper()
	c, err := graph.New(graph.Config{BaseURL: base, Credential: graph.StaticToken("t"), AttemptTimeout: 200 * time.Millisecond,
		Policy: graph.Policy{MaxAttempts: attempts, MaxWait: 2 * time.Second, Backoff: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// faults is every fault faultnet injects, with delays beyond the 200ms
// attempt timeout where a delay applies.
var faults = []faultnet.Rule{
	{Fault: faultnet.Drop}, {Fault: faultnet.Reset}, {Fault: faultnet.Stall},
	{Fault: faultnet.DropAfter}, {Fault: faultnet.Truncate},
	{Fault: faultnet.Slow, Delay: time.Minute}, {Fault: faultnet.Trickle, Delay: 100 * time.Millisecond},
}

// TestDeltaAndBatchSurviveConnectionFaults: a delta page or a $batch whose
// connection drops, resets, stalls, is cut mid-answer or answers too slowly
// is retried, and the pages and children read are those of a fault-free
// read.
func TestDeltaAndBatchSurviveConnectionFaults(t *testing.T) {
	opts := graphtest.Options{PageSize: 10, Generated: 25, ChildPageSize: 2}
	clean := faultyServer(t, opts, faultnet.NewPlan())
	wantIDs, _, _, wantPages := collect(t, context.Background(), faultClient(t, clean.BaseURL(), 5), "")
	wantChildren, err := faultClient(t, clean.BaseURL(), 5).Children(context.Background(), wantIDs)
	if err != nil {
		t.Fatal(err)
	}
	for _, where := range []string{"/servicePrincipals/delta", "/$batch"} {
		for _, f := range faults {
			t.Run(fmt.Sprintf("%s %v", where, f.Fault), func(t *testing.T) {
				f.Path, f.After, f.Times = where, 1, 2 // the second and third such request
				plan := faultnet.NewPlan(f)
				s := faultyServer(t, opts, plan)
				c := faultClient(t, s.BaseURL(), 5)
				ids, _, _, pages := collect(t, context.Background(), c, "")
				children, err := c.Children(context.Background(), ids)
				if err != nil {
					t.Fatalf("children: %v", err)
				}
				if !slices.Equal(ids, wantIDs) || pages != wantPages {
					t.Errorf("read %d apps in %d pages; want %d in %d", len(ids), pages, len(wantIDs), wantPages)
				}
				for id, w := range wantChildren {
					g := children[id]
					if fmt.Sprint(g) != fmt.Sprint(w) {
						t.Errorf("children of %s:\n got %+v\nwant %+v", id, g, w)
					}
				}
				if plan.Fired() != 2 {
					t.Errorf("%d faults injected; want 2", plan.Fired())
				}
				// net/http itself resends a GET that failed on a reused
				// connection before any answer, so a Drop or Reset may cost
				// the client one retry instead of two.
				if st := c.Stats(); st.Retries < 1 || st.Retries > 2 {
					t.Errorf("client retried %d times; want 1 or 2 for 2 faults", st.Retries)
				}
			})
		}
	}
}

// TestSlowAnswerIsBoundedAndReported: a service that never answers in time
// costs MaxAttempts attempts of AttemptTimeout each, then an error naming
// the request and the timeout, not a hung run.
func TestSlowAnswerIsBoundedAndReported(t *testing.T) {
	for _, f := range []faultnet.Fault{faultnet.Slow, faultnet.Stall, faultnet.Drop} {
		t.Run(f.String(), func(t *testing.T) {
			plan := faultnet.NewPlan(faultnet.Rule{Fault: f, Path: "/delta", Times: -1})
			s := faultyServer(t, graphtest.Options{Generated: 3}, plan)
			c := faultClient(t, s.BaseURL(), 3)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang fails here, not in CI's timeout
			defer cancel()
			_, err := c.ServicePrincipalsDelta(ctx, "")
			if err == nil || ctx.Err() != nil {
				t.Fatalf("err = %v (ctx %v); want the client to give up on its own", err, ctx.Err())
			}
			if !strings.Contains(err.Error(), "/v1.0/servicePrincipals/delta()") || !strings.Contains(err.Error(), "graph: attempt 3 of 3: ") {
				t.Errorf("error %q does not say which request failed after how many attempts", err)
			}
			if f != faultnet.Drop && (!strings.Contains(err.Error(), "200ms attempt timeout") || !errors.Is(err, context.DeadlineExceeded)) {
				t.Errorf("error %q does not name the attempt timeout", err)
			}
			if st := c.Stats(); st.Requests != 3 {
				t.Errorf("client made %d attempts; want 3", st.Requests)
			}
		})
	}
}

// TestDefaultAttemptTimeout: a client built without one still has one.
func TestDefaultAttemptTimeout(t *testing.T) {
	if graph.DefaultAttemptTimeout <= 0 || graph.DefaultAttemptTimeout > 2*time.Minute {
		t.Errorf("DefaultAttemptTimeout %s", graph.DefaultAttemptTimeout)
	}
}

// TestCreateSubscriptionIsNotResentAfterArrival: a POST whose connection
// failed after the request was written is not sent again, since the client
// cannot tell whether the service acted on it (a second subscription would
// double every notification). The error goes up; the subscriptions job
// lists and creates what is missing on its next run.
func TestCreateSubscriptionIsNotResentAfterArrival(t *testing.T) {
	for _, tc := range []struct {
		fault faultnet.Fault
		held  int
	}{
		{faultnet.DropAfter, 1},
		{faultnet.Truncate, 1},
		{faultnet.Drop, 0},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			l := graphtest.NewLists(10)
			defer l.Close()
			plan := faultnet.NewPlan(faultnet.Rule{Fault: tc.fault, Method: http.MethodPost, Path: "/subscriptions"})
			proxy := faultnet.NewProxy(t, l.URL, plan)
			c := faultClient(t, faultnet.Rehost(l.BaseURL(), proxy.URL), 3)
			_, err := c.CreateSubscription(context.Background(), graph.Subscription{Resource: "sites/" + testSite + "/lists/" + testList,
				NotificationURL: "https://example.org/api/sharepoint/webhook", ClientState: "secret", Expiration: time.Now().Add(24 * time.Hour)})
			if err == nil {
				t.Fatal("no error")
			}
			if plan.Requests() != 1 {
				t.Errorf("the POST was sent %d times; want once", plan.Requests())
			}
			if got := len(l.Subscriptions()); got != tc.held {
				t.Errorf("the service holds %d subscriptions; want %d", got, tc.held)
			}
		})
	}
}
