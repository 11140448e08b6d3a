package powerbi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/faultnet"
	"github.com/council-ict/govkit/shared/powerbi"
	"github.com/council-ict/govkit/shared/powerbi/powerbitest"
)

// netSetup is setup with every connection to the stand-in going through
// plan, requests that time out after 200ms, 3 attempts, 10 rows a POST.
func netSetup(t *testing.T, plan *faultnet.Plan) (*powerbitest.Server, *powerbi.Client) {
	t.Helper()
	s := powerbitest.New(t)
	clock := powerbi.NewFakeClock(epoch)
	s.Now = clock.Now
	proxy := faultnet.NewProxy(t, s.URL, plan)
	c, err := powerbi.New(powerbi.Config{BaseURL: faultnet.Rehost(s.URL, proxy.URL), Credential: powerbitest.Credential{},
		Clock: clock, HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}, MaxAttempts: 3,
		Limits: powerbi.Limits{RowsPerPost: 10}})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// checkRows asserts the dataset holds one Product table with rows 0..n-1,
// each exactly once.
func checkRows(t *testing.T, s *powerbitest.Server, n int) {
	t.Helper()
	if d := len(s.Datasets(group)); d != 1 {
		t.Errorf("%d datasets; want 1", d)
	}
	tb, _ := s.Table(group, "Council Governance", "Product")
	seen := map[string]int{}
	for _, r := range tb.Rows {
		seen[fmt.Sprint(r["ProductID"])]++
	}
	var dup []string
	for id, k := range seen {
		if k > 1 {
			dup = append(dup, fmt.Sprintf("%s x%d", id, k))
		}
	}
	if tb.RowCount != n || len(seen) != n || len(dup) > 0 {
		t.Errorf("table holds %d rows (%d distinct, duplicated: %v); want each of %d once", tb.RowCount, len(seen), dup, n)
	}
}

// TestSyncUnderConnectionFaults: a dropped, reset, stalled, cut or slow
// exchange anywhere in a push (listing, creating the dataset, deleting
// rows, posting rows) is retried, or for a POST that may have been
// applied, resolved without resending it blind; the run completes and the
// dataset ends with exactly the expected rows.
func TestSyncUnderConnectionFaults(t *testing.T) {
	const n = 45 // 5 POSTs of 10 rows
	rowsPost := faultnet.Rule{Method: http.MethodPost, Path: "/rows", After: 2}
	var cases []faultnet.Rule
	for _, f := range []faultnet.Fault{faultnet.Drop, faultnet.Reset, faultnet.Stall, faultnet.DropAfter, faultnet.Truncate, faultnet.Slow, faultnet.Trickle} {
		r := rowsPost
		r.Fault = f
		if f == faultnet.Slow {
			r.Delay = time.Minute
		}
		cases = append(cases, r)
	}
	cases = append(cases,
		faultnet.Rule{Fault: faultnet.Slow, Method: http.MethodGet, Delay: time.Minute},      // listing datasets
		faultnet.Rule{Fault: faultnet.DropAfter, Method: http.MethodPost, Path: "/datasets"}, // creating the dataset
		faultnet.Rule{Fault: faultnet.Truncate, Method: http.MethodPost, Path: "/datasets"},
		faultnet.Rule{Fault: faultnet.Reset, Method: http.MethodDelete},
		faultnet.Rule{Fault: faultnet.DropAfter, Method: http.MethodPost, Path: "/rows", After: 1, Times: 2},
	)
	for _, rule := range cases {
		t.Run(fmt.Sprintf("%v %s %s x%d", rule.Fault, rule.Method, rule.Path, max(rule.Times, 1)), func(t *testing.T) {
			plan := faultnet.NewPlan(rule)
			s, c := netSetup(t, plan)
			rep, err := c.Sync(context.Background(), group, "Council Governance",
				[]powerbi.Feed{{Table: productTable, Rows: rows(n, productTable)}}, powerbi.NewMemorySchemaStore())
			if err != nil || rep.Failed() != 0 {
				t.Fatalf("sync: %v, %+v", err, rep.Tables)
			}
			if plan.Fired() != max(rule.Times, 1) {
				t.Errorf("%d faults injected; want %d", plan.Fired(), max(rule.Times, 1))
			}
			checkRows(t, s, n)
			st := c.Stats()
			t.Logf("%d requests (%d POST rows, %d retries, %d table restarts); fault-free: 8 (5 POST rows)",
				st.Requests, st.PostRows, st.Retries, rep.Tables[0].Restarts)
		})
	}
}

// TestSyncFaultsBeyondBoundRepairNextRun: when every POST rows after the
// second loses its answer, the table load restarts MaxRestarts times, then
// the table is reported (the rows may be doubled, and the report says so);
// the next run, on a healed network, leaves exactly the expected rows.
func TestSyncFaultsBeyondBoundRepairNextRun(t *testing.T) {
	const n = 45
	plan := faultnet.NewPlan(faultnet.Rule{Fault: faultnet.DropAfter, Method: http.MethodPost, Path: "/rows", After: 2, Times: -1})
	s, c := netSetup(t, plan)
	feeds := []powerbi.Feed{{Table: productTable, Rows: rows(n, productTable)}}
	schemas := powerbi.NewMemorySchemaStore()
	rep, err := c.Sync(context.Background(), group, "Council Governance", feeds, schemas)
	if err != nil {
		t.Fatal(err)
	}
	tr := rep.Tables[0]
	if !errors.Is(tr.Err, powerbi.ErrOutcomeUnknown) || !strings.Contains(tr.Err.Error(), "may hold some rows twice") || tr.Restarts != powerbi.MaxRestarts {
		t.Fatalf("table result %+v (%v); want a reported failure after %d restarts", tr, tr.Err, powerbi.MaxRestarts)
	}
	t.Logf("reported: %v", tr.Err)
	plan.Clear()
	rep, err = c.Sync(context.Background(), group, "Council Governance", feeds, schemas)
	if err != nil || rep.Failed() != 0 {
		t.Fatalf("next run: %v, %+v", err, rep.Tables)
	}
	checkRows(t, s, n)
}
