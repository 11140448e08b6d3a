package powerbifeed

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/faultnet"
	"github.com/council-ict/govkit/shared/feeds"
	"github.com/council-ict/govkit/shared/powerbi"
	"github.com/council-ict/govkit/shared/powerbi/powerbitest"
)

// checkPushed asserts the one dataset holds, for every table, exactly the
// rows the run wrote to its CSV, none twice.
func checkPushed(t *testing.T, s *powerbitest.Server, rep Report) {
	t.Helper()
	if n := len(s.Datasets(workspace)); n != 1 {
		t.Errorf("%d datasets; want 1", n)
	}
	for _, rt := range rep.Tables {
		tb, _ := s.Table(workspace, "Council Governance", rt.Table)
		seen := map[string]bool{}
		for _, r := range tb.Rows {
			seen[fmt.Sprint(r)] = true
		}
		if tb.RowCount != rt.Rows || len(seen) != rt.Rows {
			t.Errorf("%s holds %d rows (%d distinct); the CSV has %d", rt.Table, tb.RowCount, len(seen), rt.Rows)
		}
	}
}

// TestPushUnderConnectionFaults: a row POST whose connection drops or
// resets mid-push, or whose answer comes too late, leaves the dataset with
// exactly the rows of the CSVs, in the same run; when every row POST fails
// the run is reported partial, naming the table, and the next run repairs
// the dataset.
func TestPushUnderConnectionFaults(t *testing.T) {
	post := func(f faultnet.Fault, after, times int) faultnet.Rule {
		return faultnet.Rule{Fault: f, Method: http.MethodPost, Path: "/rows", After: after, Times: times, Delay: time.Minute}
	}
	for _, tc := range []struct {
		name    string
		rule    faultnet.Rule
		lasting bool
	}{
		{"fault-free", faultnet.Rule{Path: "/none-such"}, false},
		{"dropped after the service applied it", post(faultnet.DropAfter, 3, 1), false},
		{"reset", post(faultnet.Reset, 2, 1), false},
		{"answer too slow", post(faultnet.Slow, 4, 1), false},
		{"every post dropped from the fourth", post(faultnet.DropAfter, 3, -1), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := powerbitest.New(t)
			clock := powerbi.NewFakeClock(t0)
			s.Now = clock.Now
			plan := faultnet.NewPlan(tc.rule)
			proxy := faultnet.NewProxy(t, s.URL, plan)
			client, err := powerbi.New(powerbi.Config{BaseURL: faultnet.Rehost(s.URL, proxy.URL), Credential: powerbitest.Credential{},
				Clock: clock, HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}, MaxAttempts: 3,
				Limits: powerbi.Limits{RowsPerPost: 5}})
			if err != nil {
				t.Fatal(err)
			}
			sink, runs := &memSink{files: map[string]string{}}, &memRuns{}
			h, err := New(Config{WorkspaceID: workspace, DatasetName: "Council Governance"}, Deps{Tables: feeds.Tables(),
				Sources: feeds.Sources{FeedRuns: runs}, CSV: sink, Runs: runs, Pusher: client, Schemas: powerbi.NewMemorySchemaStore()})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := h.Run(context.Background(), t0)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d faults; %d requests, %d row posts for %d rows", plan.Fired(), rep.Requests.Requests, rep.Requests.PostRows, rep.Rows)
			if !tc.lasting {
				if rep.Outcome != "ok" {
					t.Fatalf("outcome %s: %+v; want ok after retrying", rep.Outcome, rep.Tables)
				}
				checkPushed(t, s, rep)
				return
			}
			var problems []string
			for _, rt := range rep.Tables {
				if rt.Problem != "" {
					problems = append(problems, rt.Table+": "+rt.Problem)
				}
			}
			if rep.Outcome != "partial" || len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), "until the next run replaces them") {
				t.Fatalf("outcome %s, problems %q; want partial, naming the table that may hold rows twice", rep.Outcome, problems)
			}
			plan.Clear()
			rep, err = h.Run(context.Background(), t0.Add(time.Hour))
			if err != nil || rep.Outcome != "ok" {
				t.Fatalf("next run: %v, %s %+v", err, rep.Outcome, rep.Tables)
			}
			checkPushed(t, s, rep)
		})
	}
}
