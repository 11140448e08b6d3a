package cloudappharvest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/faultnet"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
)

// netFaultFixture is newFixture with every connection to the Graph stand-in
// going through plan, and a client whose attempts time out after 200ms and
// give up after attempts tries.
func netFaultFixture(t *testing.T, opts graphtest.Options, plan *faultnet.Plan, attempts int) *fixture {
	t.Helper()
	svc, err := store.NewService(store.Config{ConnectionString: testutil.Azurite(t)})
	if err != nil {
		t.Fatal(err)
	}
	s := graphtest.NewUnstarted(opts)
	s.Config.Handler = plan.Handler(s.Config.Handler)
	s.Start()
	t.Cleanup(s.Close)
	c, err := graph.New(graph.Config{BaseURL: s.BaseURL(), Credential: graph.StaticToken("t"), AttemptTimeout: 200 * time.Millisecond,
		Policy: graph.Policy{MaxAttempts: attempts, MaxWait: 2 * time.Second, Backoff: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, server: s, client: c, out: &outbox{seen: map[string]bool{}}, cfg: Config{
		CouncilTenant: graphtest.CouncilTenant, Table: testutil.UniqueName("apps"),
		WatermarkTable: testutil.UniqueName("marks"), FindingsTable: testutil.UniqueName("finds")}}
}

// sameAsFaultFree compares a harvest's register and the findings it sent with
// a fault-free harvest's: the same entries, the same digest items, each
// once, in one digest.
func sameAsFaultFree(t *testing.T, got, want *fixture) {
	t.Helper()
	g, w := got.register(t), want.register(t)
	if len(g) != len(w) {
		t.Errorf("register has %d entries; a fault-free harvest %d", len(g), len(w))
	}
	for id, e := range w {
		if g[id] != e {
			t.Errorf("entry %s differs from a fault-free harvest:\n got %+v\nwant %+v", id, g[id], e)
		}
	}
	gi, wi := got.out.items(), want.out.items()
	if !slices.Equal(gi, wi) {
		t.Errorf("findings sent:\n%v\nfault-free:\n%v", gi, wi)
	}
	if len(slices.Compact(slices.Clone(gi))) != len(gi) {
		t.Errorf("a finding was sent twice: %v", gi)
	}
	if len(got.out.sent) != len(want.out.sent) {
		t.Errorf("%d digests sent; a fault-free harvest sent %d", len(got.out.sent), len(want.out.sent))
	}
}

// TestHarvestUnderConnectionFaults: dropped, reset, stalled, truncated and
// slow answers to delta pages and $batch requests, each within the retry
// bound, leave the register and the findings sent exactly as a fault-free
// harvest does, in one run.
func TestHarvestUnderConnectionFaults(t *testing.T) {
	opts := graphtest.Options{PageSize: 10, Generated: 45, ChildPageSize: 3}
	clean := netFaultFixture(t, opts, faultnet.NewPlan(), 5)
	clean.run(t, clean.handler(t))

	const delta, batch = "/servicePrincipals/delta", "/$batch"
	plan := faultnet.NewPlan(
		faultnet.Rule{Fault: faultnet.Drop, Path: delta},
		faultnet.Rule{Fault: faultnet.Slow, Path: delta, After: 1, Delay: time.Minute},
		faultnet.Rule{Fault: faultnet.Truncate, Path: delta, After: 2},
		faultnet.Rule{Fault: faultnet.Stall, Path: delta, After: 4},
		faultnet.Rule{Fault: faultnet.Reset, Path: batch, After: 1},
		faultnet.Rule{Fault: faultnet.DropAfter, Path: batch, After: 3},
		faultnet.Rule{Fault: faultnet.Trickle, Path: batch, After: 5, Delay: 100 * time.Millisecond},
		faultnet.Rule{Fault: faultnet.Slow, Path: batch, After: 7, Delay: time.Minute},
		faultnet.Rule{Fault: faultnet.Truncate, Path: batch, After: 9, Times: 2},
	)
	f := netFaultFixture(t, opts, plan, 5)
	h := f.handler(t)
	rep := f.run(t, h)
	if !rep.Complete || rep.Resumed {
		t.Fatalf("run %+v; want one complete run", rep)
	}
	if plan.Fired() != 10 {
		t.Errorf("%d faults injected; want all 10: %v", plan.Fired(), plan.Events())
	}
	sameAsFaultFree(t, f, clean)
	cs, fs := clean.client.Stats(), f.client.Stats()
	t.Logf("fault-free: %d requests; under %d faults: %d requests (%d retries), %d reached the server",
		cs.Requests, plan.Fired(), fs.Requests, fs.Retries, plan.Requests())

	// The next run finds nothing new and sends nothing.
	rep = f.run(t, h)
	if rep.Apps != 0 || rep.Notified != 0 || len(f.out.sent) != 1 {
		t.Errorf("idle run after faults %+v, %d digests; want nothing done", rep, len(f.out.sent))
	}
}

// TestHarvestFaultsBeyondRetryBoundResume: when delta pages or $batch
// requests fail on every attempt, the run stops with an error after the
// pages it finished and sends nothing; once the network heals, the next run
// resumes to the register and findings of a fault-free harvest, none sent
// twice.
func TestHarvestFaultsBeyondRetryBoundResume(t *testing.T) {
	opts := graphtest.Options{PageSize: 10, Generated: 45}
	clean := netFaultFixture(t, opts, faultnet.NewPlan(), 3)
	clean.run(t, clean.handler(t))

	for _, tc := range []struct {
		name  string
		rule  faultnet.Rule
		pages int // finished before the failure
	}{
		// From the fourth delta page on, every answer is too slow.
		{"delta slow", faultnet.Rule{Fault: faultnet.Slow, Path: "/servicePrincipals/delta", After: 3, Times: -1, Delay: time.Minute}, 3},
		// From the second page's batches on, every $batch answer is cut.
		{"batch truncated", faultnet.Rule{Fault: faultnet.Truncate, Path: "/$batch", After: 3, Times: -1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := faultnet.NewPlan(tc.rule)
			f := netFaultFixture(t, opts, plan, 3)
			h := f.handler(t)
			rep, err := h.Run(context.Background())
			if err == nil || rep.Complete || rep.Pages != tc.pages {
				t.Fatalf("run under lasting faults: %+v, %v; want an error after %d pages", rep, err, tc.pages)
			}
			if len(f.out.sent) != 0 {
				t.Errorf("the failed run sent %d digests; its findings wait for a run that gets through", len(f.out.sent))
			}
			t.Logf("reported: %v", err)
			t.Logf("%d faults injected, %d requests made before giving up", plan.Fired(), f.client.Stats().Requests)
			plan.Clear()
			rep = f.run(t, h)
			if !rep.Resumed || !rep.Complete {
				t.Fatalf("next run %+v; want a resumed, complete run", rep)
			}
			sameAsFaultFree(t, f, clean)
		})
	}
}
