package subjectrequestsweep

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/functions/internal/outboxtest"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
	"github.com/council-ict/govkit/shared/testutil"
	"github.com/council-ict/govkit/shared/ukdates"
)

// The tests here prove that a sweep interrupted for real (the process
// killed with SIGKILL, or Azurite stopped under it) and then run again
// ends exactly where one uninterrupted sweep ends: each reminder and
// escalation recorded once in the outbox ledger and delivered once by
// TeamsNotify, and each due purge done.

// sweepNow is when every sweep here runs: Monday 2 March 2026.
var sweepNow = time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC)

// sweepChunk is the sweep's publish chunk. A chunk is flushed once it
// holds 10 or more, so the 90 notifications go out in chunks of 12, 11,
// 11, 11 (the fourth ends at 45), ...
const sweepChunk = 10

// sweepConfig configures TestSweepChild.
type sweepConfig struct {
	Conn, GateURL, Ledger, Queue string
	Tables                       sr.TableNames
}

// sweepWorld is one set of tables, ledger and queue on one Azurite, seeded
// alike, with a gate on the way to the queue (and, with a proxy, to the
// Table service).
type sweepWorld struct {
	conn string
	svc  *store.Service
	st   *sr.Store
	gate *testutil.Gate
	cfg  sweepConfig
}

// storageGatePoint names the gate point of a Table request: the sweep's
// purge deletes a person ("delete") then updates the record ("update").
func storageGatePoint(r *http.Request) string {
	switch r.Method {
	case http.MethodDelete:
		return "delete"
	case http.MethodPut, "MERGE", http.MethodPatch:
		return "update"
	}
	return ""
}

// newSweepWorld seeds a world whose gate holds from the at-th pass of
// point ("" never holds). With proxyTables, the sweep reaches the Table service
// through the gate too.
func newSweepWorld(t *testing.T, conn, point string, at int, proxyTables bool) *sweepWorld {
	t.Helper()
	svc, err := store.NewService(store.Config{ConnectionString: conn})
	if err != nil {
		t.Fatal(err)
	}
	g := testutil.NewGate(point, at)
	w := &sweepWorld{conn: conn, svc: svc, gate: g, cfg: sweepConfig{Conn: conn, GateURL: g.Serve(t),
		Ledger: testutil.UniqueName("ledger"), Queue: testutil.UniqueName("notes"), Tables: tables()}}
	w.st = sr.NewStore(svc, w.cfg.Tables)
	ctx := context.Background()
	if err := w.st.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.EnsureTables(ctx, w.cfg.Ledger); err != nil {
		t.Fatal(err)
	}
	seedSweep(t, w.st)
	if proxyTables {
		proxy := g.Proxy(t, testutil.Endpoint(conn, "TableEndpoint"), storageGatePoint)
		w.cfg.Conn = testutil.ReplaceEndpoint(conn, "TableEndpoint", proxy)
	}
	return w
}

// seedSweep stores 40 open requests, one in four overdue (3 notifications
// each) and the rest on the 1-, 2- or 5-day reminder rung (2 each): 90
// notifications; and 3 requests closed in January with personal details,
// due for purging (retention 30 days).
func seedSweep(t *testing.T, st *sr.Store) {
	t.Helper()
	ctx := context.Background()
	today := ukdates.LondonDate(sweepNow)
	var recs []sr.Record
	for i := range 40 {
		due := today.AddDays([]int{-3, 1, 2, 5}[i%4])
		recs = append(recs, sr.Record{PartitionKey: "2026", RowKey: sr.FormatID(2026, i+1), Type: "access", Status: "open",
			ServiceArea: "Housing", ServiceAreaKey: "housing", ReceivedOn: due.AddDays(-30).String(), DueOn: due.String(), EventCount: 1})
	}
	if err := st.PutRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	jan := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	svc := sr.NewService(st, func() (*ukdates.Calendar, error) { return ukdates.NewCalendar("") }, func() time.Time { return jan })
	for i := range 3 {
		id := sr.FormatID(2026, 900+i)
		it := sr.Intake{Type: sr.Access, ReceivedOn: ukdates.Date{Year: 2026, Month: 1, Day: 2}, Channel: sr.ChannelEmail, ServiceArea: "Housing"}
		if _, err := svc.Create(ctx, id, it, sr.Person{Name: "Requester " + id}, "test", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Append(ctx, id, sr.Event{Type: sr.EventCompleted, On: ukdates.Date{Year: 2026, Month: 1, Day: 5}}, "test", ""); err != nil {
			t.Fatal(err)
		}
	}
}

// sweepHandler builds the sweep as the function app does, on the world's
// tables and queue, its hand-ons passing gate.
func sweepHandler(t testing.TB, c sweepConfig, gate testutil.Passer) *Handler {
	t.Helper()
	svc, err := store.NewService(store.Config{ConnectionString: c.Conn})
	if err != nil {
		t.Fatal(err)
	}
	q, err := notify.NewQueueTransport(c.Conn, c.Queue)
	if err != nil {
		t.Fatal(err)
	}
	conf := cfg()
	conf.PublishChunk = sweepChunk
	h, err := New(conf, sr.NewStore(svc, c.Tables), notify.NewOutbox(svc, c.Ledger, outboxtest.GatedTransport{Next: q, Gate: gate}))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestSweepChild is the sweep run as a separate process by
// TestSweepKilledMidRun. It reports the run's Report.
func TestSweepChild(t *testing.T) {
	if !testutil.IsChild(t.Name()) {
		t.Skip("helper process of TestSweepKilledMidRun")
	}
	var c sweepConfig
	testutil.ChildConfig(t, &c)
	rep, err := sweepHandler(t, c, testutil.RemoteGate{URL: c.GateURL}).Run(context.Background(), sweepNow)
	if err != nil {
		t.Fatalf("sweep: %v (report %+v)", err, rep)
	}
	testutil.WriteChildReport(t, rep)
}

// sweepEnd is what a sweep leaves behind.
type sweepEnd struct {
	records map[string]sr.Record
	people  int // requests whose personal details are held
	notes   outboxtest.End
}

// end reads the world's end state, then delivers what is on the queue
// through TeamsNotify (every copy, as the queue trigger would).
func (w *sweepWorld) end(t *testing.T) sweepEnd {
	t.Helper()
	ctx := context.Background()
	es := sweepEnd{records: map[string]sr.Record{}}
	err := w.st.QueryRecords(ctx, "", func(r store.Record[sr.Record]) error {
		es.records[r.Value.RowKey] = r.Value
		if p, err := w.st.Person(ctx, r.Value.RowKey); err != nil {
			return err
		} else if !p.IsZero() {
			es.people++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	es.notes = outboxtest.Delivered(t, w.svc, w.conn, w.cfg.Ledger, w.cfg.Queue)
	return es
}

// checkSweepLikeClean fails t where got differs from the end state of a
// clean sweep; requeued is how many notifications the interruption put on
// the queue twice (the outbox hands on at least once; TeamsNotify's
// delivery ledger makes delivery exactly once).
func checkSweepLikeClean(t *testing.T, got, want sweepEnd, requeued int) {
	t.Helper()
	if !maps.Equal(got.records, want.records) {
		for id, w := range want.records {
			if got.records[id] != w {
				t.Errorf("request %s differs from a clean sweep's:\n got %+v\nwant %+v", id, got.records[id], w)
			}
		}
		t.Errorf("%d requests; a clean sweep leaves %d", len(got.records), len(want.records))
	}
	if got.people != want.people {
		t.Errorf("personal details held for %d requests; after a clean sweep %d", got.people, want.people)
	}
	got.notes.CheckLikeClean(t, want.notes, requeued)
}

// cleanSweep sweeps a fresh world once, uninterrupted, and returns its end
// state: 90 notifications handed on and delivered once, 3 purges.
func cleanSweep(t *testing.T, conn string) sweepEnd {
	t.Helper()
	clean := newSweepWorld(t, conn, "", 0, false)
	rep, err := sweepHandler(t, clean.cfg, clean.gate).Run(context.Background(), sweepNow)
	if err != nil || rep.Notifications != 90 || rep.Purge.Purged != 3 {
		t.Fatalf("clean sweep: %+v, %v; want 90 notifications and 3 purges", rep, err)
	}
	want := clean.end(t)
	if l, c := want.notes.Ledger, want.notes.Cards; len(l) != 90 || len(c) != 90 || want.people != 0 ||
		slices.ContainsFunc(slices.Collect(maps.Values(l)), func(s string) bool { return s != "handed-on" }) {
		t.Fatalf("a clean sweep left %d ledger rows, %d cards, %d people; want 90 handed on, 90 cards, none", len(l), len(c), want.people)
	}
	return want
}

// TestSweepKilledMidRun kills a sweep process (SIGKILL) at points through
// a run, sweeps again in a fresh process, and checks that the end state is
// that of one clean sweep: the same 90 notifications recorded once and
// each card delivered once, and the same requests purged.
func TestSweepKilledMidRun(t *testing.T) {
	conn := testutil.Azurite(t)
	want := cleanSweep(t, conn)

	for _, tc := range []struct {
		name   string
		point  string
		at     int
		tables bool
		// midRun checks the child is provably mid-run when held.
		midRun   func(t *testing.T, w *sweepWorld)
		requeued int
	}{
		{name: "fourth chunk recorded, not handed on", point: outboxtest.PointSend, at: 4, midRun: ledgerAt(34, 11)},
		{name: "fourth chunk three messages handed on", point: outboxtest.PointEnqueue, at: 34 + 4, midRun: ledgerAt(34, 11), requeued: 3},
		{name: "fourth chunk handed on, not marked", point: outboxtest.PointSent, at: 4, midRun: ledgerAt(34, 11), requeued: 11},
		{name: "purge: a person deleted, its record not updated", point: "update", at: 2, tables: true, midRun: midPurge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newSweepWorld(t, conn, tc.point, tc.at, tc.tables)
			var rep Report
			testutil.KillAndRerun(t, "TestSweepChild", w.cfg, w.gate, func() { tc.midRun(t, w) }, nil, &rep)
			if rep.Notifications != 90 {
				t.Errorf("re-run %+v; want 90 notifications considered", rep)
			}
			checkSweepLikeClean(t, w.end(t), want, tc.requeued)
		})
	}
}

// ledgerAt checks that the ledger holds handedOn notifications handed on
// and pending ones not yet.
func ledgerAt(handedOn, pending int) func(t *testing.T, w *sweepWorld) {
	return func(t *testing.T, w *sweepWorld) {
		t.Helper()
		n := map[string]int{}
		for _, s := range outboxtest.Ledger(t, w.svc, w.cfg.Ledger) {
			n[s]++
		}
		if n["handed-on"] != handedOn || n["pending"] != pending || len(n) > 2 {
			t.Fatalf("held with ledger states %v; want %d handed on, %d pending", n, handedOn, pending)
		}
	}
}

// midPurge checks that every notification is out and the purge is half
// done: one request purged, one whose person is deleted but whose record
// still says it holds one, one untouched.
func midPurge(t *testing.T, w *sweepWorld) {
	t.Helper()
	ledgerAt(90, 0)(t, w)
	ctx := context.Background()
	var state []string
	for i := range 3 {
		id := sr.FormatID(2026, 900+i)
		rec, err := w.st.Record(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		p, err := w.st.Person(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		state = append(state, map[bool]string{true: "record-purged", false: "record-holds"}[!rec.Value.HasPerson]+
			map[bool]string{true: "/person-gone", false: "/person-held"}[p.IsZero()])
	}
	if got := strings.Join(state, " "); got != "record-purged/person-gone record-holds/person-gone record-holds/person-held" {
		t.Fatalf("held with purge state %s; want the second request's person deleted and its record not yet updated", got)
	}
}

// TestSweepSurvivesAzuriteRestart stops a private Azurite under a running
// sweep while it hands a chunk on: the run fails with a transient error
// (within the storage SDK's retries) instead of hanging or panicking; with
// Azurite started again on the same data, the next run of the same handler
// ends where a clean sweep ends.
func TestSweepSurvivesAzuriteRestart(t *testing.T) {
	az := testutil.StartPrivateAzurite(t)
	conn := az.ConnectionString()
	want := cleanSweep(t, conn)

	w := newSweepWorld(t, conn, outboxtest.PointSend, 4, false)
	h := sweepHandler(t, w.cfg, w.gate)
	outboxtest.StopStorageUnder(t, az, w.gate, func() error {
		_, err := h.Run(context.Background(), sweepNow)
		return err
	})
	if rep, err := h.Run(context.Background(), sweepNow); err != nil {
		t.Fatalf("sweep after restart: %+v, %v", rep, err)
	}
	checkSweepLikeClean(t, w.end(t), want, 0)
}
