package cloudappharvest

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/functions/internal/outboxtest"
	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
)

// The tests here prove that a harvest interrupted for real (the process
// killed with SIGKILL, or Azurite stopped under it) and then run again
// ends exactly where one uninterrupted harvest of the same tenant ends:
// the same register, every finding in one digest recorded once in the
// outbox ledger, and each card delivered once by TeamsNotify.

// crashTenant is the tenant every crash world harvests: 100 generated
// apps plus the resource service principals, in delta pages of 10, with
// over 100 findings (so clearing them takes two table transactions).
var crashTenant = graphtest.Options{PageSize: 10, Generated: 100}

// crashNewApp is the application that appears after a kill in some
// cases, with three findings; one value, so its dates agree across worlds.
var crashNewApp = graphtest.DemoNewApp()

// crashConfig configures TestHarvestChild.
type crashConfig struct {
	Conn, GraphURL, GateURL                     string
	Table, WatermarkTable, FindingsTable, Queue string
	Ledger                                      string
}

// crashWorld is one tenant stand-in and one set of tables, queue and
// ledger on one Azurite, with a gate on the way to Graph and to the queue.
type crashWorld struct {
	conn   string
	svc    *store.Service
	server *graphtest.Server
	gate   *testutil.Gate
	cfg    crashConfig
}

// tableGatePoint names the gate point of a Table request: "delete" for a
// transaction of deletes (the harvest deletes only pending findings).
func tableGatePoint(r *http.Request) string {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/$batch") {
		return ""
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return ""
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if bytes.Contains(body, []byte("DELETE ")) {
		return "delete"
	}
	return "transaction"
}

// graphGatePoint names the gate point of a Graph request.
func graphGatePoint(r *http.Request) string {
	switch {
	case strings.HasSuffix(r.URL.Path, "/servicePrincipals/delta"), strings.HasSuffix(r.URL.Path, "/servicePrincipals/delta()"):
		return "delta"
	case strings.HasSuffix(r.URL.Path, "/$batch"):
		return "batch"
	}
	return ""
}

// newCrashWorld builds a world whose gate holds from the at-th pass of
// point ("" for a world that never holds). With tables, the harvest
// reaches the Table service through the gate too.
func newCrashWorld(t *testing.T, conn, point string, at int, tables bool) *crashWorld {
	t.Helper()
	svc, err := store.NewService(store.Config{ConnectionString: conn})
	if err != nil {
		t.Fatal(err)
	}
	g := testutil.NewGate(point, at)
	s := graphtest.NewUnstarted(crashTenant)
	s.Config.Handler = g.Wrap(s.Config.Handler, graphGatePoint)
	s.Start()
	t.Cleanup(s.Close)
	w := &crashWorld{conn: conn, svc: svc, server: s, gate: g, cfg: crashConfig{Conn: conn, GraphURL: s.BaseURL(), GateURL: g.Serve(t),
		Table: testutil.UniqueName("apps"), WatermarkTable: testutil.UniqueName("marks"), FindingsTable: testutil.UniqueName("finds"),
		Ledger: testutil.UniqueName("ledger"), Queue: testutil.UniqueName("notes")}}
	if err := svc.EnsureTables(context.Background(), w.cfg.Ledger); err != nil {
		t.Fatal(err)
	}
	if tables {
		proxy := g.Proxy(t, testutil.Endpoint(conn, "TableEndpoint"), tableGatePoint)
		w.cfg.Conn = testutil.ReplaceEndpoint(conn, "TableEndpoint", proxy)
	}
	return w
}

// crashHandler builds the harvest as the function app does, on the
// world's Graph, tables and queue, its hand-ons passing gate.
func crashHandler(t testing.TB, c crashConfig, gate testutil.Passer) *Handler {
	t.Helper()
	svc, err := store.NewService(store.Config{ConnectionString: c.Conn})
	if err != nil {
		t.Fatal(err)
	}
	client, err := graph.New(graph.Config{BaseURL: c.GraphURL, Credential: graph.StaticToken("t"),
		Policy: graph.Policy{MaxWait: 2 * time.Second, Backoff: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := notify.NewQueueTransport(c.Conn, c.Queue)
	if err != nil {
		t.Fatal(err)
	}
	out := notify.NewOutbox(svc, c.Ledger, outboxtest.GatedTransport{Next: q, Gate: gate})
	h, err := New(Config{CouncilTenant: graphtest.CouncilTenant, Table: c.Table, WatermarkTable: c.WatermarkTable,
		FindingsTable: c.FindingsTable}, client, svc, out)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHarvestChild is the harvest run as a separate process by
// TestHarvestKilledMidRun. It reports the run's Report.
func TestHarvestChild(t *testing.T) {
	if !testutil.IsChild(t.Name()) {
		t.Skip("helper process of TestHarvestKilledMidRun")
	}
	var c crashConfig
	testutil.ChildConfig(t, &c)
	rep, err := crashHandler(t, c, testutil.RemoteGate{URL: c.GateURL}).Run(context.Background())
	if err != nil {
		t.Fatalf("harvest: %v (report %+v)", err, rep)
	}
	testutil.WriteChildReport(t, rep)
}

// crashEnd is what a harvest leaves behind, with run-dependent fields
// blanked.
type crashEnd struct {
	register map[string]cloudapps.Entry
	mark     watermark
	leftover int // rows left in the findings table
	notes    outboxtest.End
}

// end reads the world's end state, then delivers what is on the queue
// through TeamsNotify (every copy, as the queue trigger would).
func (w *crashWorld) end(t *testing.T) crashEnd {
	t.Helper()
	ctx := context.Background()
	var es crashEnd
	es.register = registerIn(t, w.svc, w.cfg.Table)
	m, err := store.NewTable[watermark](w.svc, w.cfg.WatermarkTable).Get(ctx, Name, "servicePrincipals")
	if err != nil {
		t.Fatalf("watermark: %v", err)
	}
	es.mark = m.Value
	err = store.NewTable[pendingFinding](w.svc, w.cfg.FindingsTable).Query(ctx, "", func(store.Record[pendingFinding]) error {
		es.leftover++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	es.notes = outboxtest.Delivered(t, w.svc, w.conn, w.cfg.Ledger, w.cfg.Queue)
	return es
}

// checkLikeClean fails t where got differs from the end state of a clean
// run; requeued is how many notifications the interruption put on the
// queue twice (the outbox hands on at least once; TeamsNotify's delivery
// ledger makes delivery exactly once).
func checkLikeClean(t *testing.T, got, want crashEnd, requeued int) {
	t.Helper()
	if len(got.register) != len(want.register) {
		t.Errorf("register has %d entries; a clean run leaves %d", len(got.register), len(want.register))
	}
	for id, w := range want.register {
		if g, ok := got.register[id]; !ok || g != w {
			t.Errorf("entry %s differs from a clean run:\n got %+v\nwant %+v", id, g, w)
		}
	}
	if got.mark.Cursor != "" || got.mark.DeltaLink == "" || got.mark.LastOutcome != "complete" {
		t.Errorf("watermark %+v; want complete, a delta link and no cursor", got.mark)
	}
	if got.leftover != 0 {
		t.Errorf("%d rows (pending findings, digest mark) left in the findings table", got.leftover)
	}
	got.notes.CheckLikeClean(t, want.notes, requeued)
}

// cleanHarvest runs one uninterrupted harvest of crashTenant on conn and,
// when change, a second one after a new application appears. It returns
// the end state: one digest per run, recorded, handed on and delivered
// once.
func cleanHarvest(t *testing.T, conn string, change bool) crashEnd {
	t.Helper()
	clean := newCrashWorld(t, conn, "", 0, false)
	h := crashHandler(t, clean.cfg, clean.gate)
	runs := 1
	if rep, err := h.Run(context.Background()); err != nil || !rep.Complete || rep.Findings == 0 {
		t.Fatalf("clean run: %+v, %v; want a complete run with findings", rep, err)
	}
	if change {
		runs++
		clean.server.Add(crashNewApp)
		if rep, err := h.Run(context.Background()); err != nil || !rep.Complete || rep.Findings == 0 {
			t.Fatalf("clean run after the change: %+v, %v; want a complete run with findings", rep, err)
		}
	}
	want := clean.end(t)
	if l, c := want.notes.Ledger, want.notes.Cards; len(l) != runs || slices.ContainsFunc(slices.Collect(maps.Values(l)), func(s string) bool { return s != "handed-on" }) ||
		len(c) < runs || slices.ContainsFunc(slices.Collect(maps.Values(c)), func(n int) bool { return n != 1 }) {
		t.Fatalf("clean runs left ledger %v and cards %v; want %d digests handed on and their cards delivered once", l, c, runs)
	}
	return want
}

// TestHarvestKilledMidRun kills a harvest process (SIGKILL) at points
// through a run, runs the harvest again in a fresh process, and checks
// that the end state is that of one clean run: same register and
// watermark, no finding left pending, the one digest recorded once and
// delivered once.
func TestHarvestKilledMidRun(t *testing.T) {
	conn := testutil.Azurite(t)
	want := map[bool]crashEnd{false: cleanHarvest(t, conn, false), true: cleanHarvest(t, conn, true)}

	for _, tc := range []struct {
		name  string
		point string
		at    int
		// midRun checks the child is provably mid-run when held.
		midRun func(t *testing.T, w *crashWorld)
		// change adds an application with findings of its own after the
		// kill: the next run must not send the interrupted digest's
		// findings again with the new ones.
		change   bool
		tables   bool // the gate sits before the Table service too
		resumed  bool // the re-run resumes a page set from the cursor
		requeued int
	}{
		{name: "waiting for the third delta page", point: "delta", at: 3, midRun: crashMidPageSet, resumed: true},
		{name: "fetching children in a later page", point: "batch", at: 5, midRun: crashMidPageSet, resumed: true},
		{name: "a page's findings written, its entries not", point: "transaction", at: 4, tables: true, midRun: crashMidPageSet, resumed: true},
		{name: "digest recorded, not handed on", point: outboxtest.PointSend, at: 1, midRun: crashDigestPending},
		{name: "digest handed on, not marked", point: outboxtest.PointSent, at: 1, midRun: crashDigestPending, requeued: 1},
		{name: "digest recorded, not handed on; then a new app", point: outboxtest.PointSend, at: 1, midRun: crashDigestPending, change: true},
		{name: "digest handed on, not marked; then a new app", point: outboxtest.PointSent, at: 1, midRun: crashDigestPending, change: true, requeued: 1},
		{name: "digest sent, its findings half cleared", point: "delete", at: 2, tables: true, midRun: crashHalfCleared},
		{name: "digest sent, its findings half cleared; then a new app", point: "delete", at: 2, tables: true, midRun: crashHalfCleared, change: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newCrashWorld(t, conn, tc.point, tc.at, tc.tables)
			var after func()
			if tc.change {
				after = func() { w.server.Add(crashNewApp) }
			}
			var rep Report
			testutil.KillAndRerun(t, "TestHarvestChild", w.cfg, w.gate, func() { tc.midRun(t, w) }, after, &rep)
			if !rep.Complete || rep.Resumed != tc.resumed {
				t.Errorf("re-run %+v; want complete, resumed %v", rep, tc.resumed)
			}
			checkLikeClean(t, w.end(t), want[tc.change], tc.requeued)
		})
	}
}

// crashMidPageSet checks that some pages and not all are written and the
// cursor is saved.
func crashMidPageSet(t *testing.T, w *crashWorld) {
	t.Helper()
	n := len(registerIn(t, w.svc, w.cfg.Table))
	m, err := store.NewTable[watermark](w.svc, w.cfg.WatermarkTable).Get(context.Background(), Name, "servicePrincipals")
	if n == 0 || n >= crashTenant.Generated || err != nil || m.Value.Cursor == "" || m.Value.DeltaLink != "" {
		t.Fatalf("held with %d entries written, watermark %+v (%v); want a page set part-written", n, m.Value, err)
	}
}

// crashDigestPending checks that the harvest is done and its digest is in
// the ledger, not yet marked handed on.
func crashDigestPending(t *testing.T, w *crashWorld) {
	t.Helper()
	l := outboxtest.Ledger(t, w.svc, w.cfg.Ledger)
	if len(l) != 1 || slices.Collect(maps.Values(l))[0] != "pending" {
		t.Fatalf("held with ledger %v; want one pending digest", l)
	}
}

// crashHalfCleared checks that the digest is handed on and only some of
// its findings are cleared.
func crashHalfCleared(t *testing.T, w *crashWorld) {
	t.Helper()
	l := outboxtest.Ledger(t, w.svc, w.cfg.Ledger)
	n := 0
	err := store.NewTable[pendingFinding](w.svc, w.cfg.FindingsTable).Query(context.Background(), store.PartitionFilter(pendingPartition),
		func(store.Record[pendingFinding]) error {
			n++
			return nil
		})
	if len(l) != 1 || slices.Collect(maps.Values(l))[0] != "handed-on" || err != nil || n == 0 || n >= store.MaxTransactionActions {
		t.Fatalf("held with ledger %v and %d findings pending (%v); want the digest handed on and one transaction of findings cleared", l, n, err)
	}
}

// TestHarvestSurvivesAzuriteRestart stops a private Azurite under a
// running harvest: the run fails with a transient error (within the
// storage SDK's retries) instead of hanging or panicking; with Azurite
// started again on the same data, the next run of the same handler ends
// where a clean run ends.
func TestHarvestSurvivesAzuriteRestart(t *testing.T) {
	az := testutil.StartPrivateAzurite(t)
	conn := az.ConnectionString()
	want := cleanHarvest(t, conn, false)

	for _, tc := range []struct {
		name, point string
		at          int
		tables      bool
	}{
		{"between delta pages", "delta", 3, false},
		{"handing the digest on", outboxtest.PointSend, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newCrashWorld(t, conn, tc.point, tc.at, tc.tables)
			h := crashHandler(t, w.cfg, w.gate)
			outboxtest.StopStorageUnder(t, az, w.gate, func() error {
				_, err := h.Run(context.Background())
				return err
			})
			rep, err := h.Run(context.Background())
			if err != nil || !rep.Complete {
				t.Fatalf("run after restart: %+v, %v", rep, err)
			}
			checkLikeClean(t, w.end(t), want, 0)
		})
	}
}
