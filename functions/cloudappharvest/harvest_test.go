package cloudappharvest

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
)

// outbox is a Notifier that, like notify.Outbox, hands on each id once.
type outbox struct {
	mu   sync.Mutex
	seen map[string]bool
	sent []notify.Notification
}

func (o *outbox) Publish(_ context.Context, ns []notify.Notification) (notify.Stats, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var st notify.Stats
	for _, n := range ns {
		if err := n.Validate(); err != nil {
			return st, err
		}
		if o.seen[n.ID] {
			st.Duplicates++
			continue
		}
		o.seen[n.ID] = true
		o.sent = append(o.sent, n)
		st.New++
	}
	return st, nil
}

// items returns every digest item title sent so far.
func (o *outbox) items() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, n := range o.sent {
		for _, it := range n.Items {
			out = append(out, it.Title)
		}
	}
	sort.Strings(out)
	return out
}

type fixture struct {
	svc    *store.Service
	server *graphtest.Server
	client *graph.Client
	out    *outbox
	cfg    Config
}

func newFixture(t testing.TB, opts graphtest.Options, apps ...graphtest.App) *fixture {
	conn := testutil.Azurite(t)
	svc, err := store.NewService(store.Config{ConnectionString: conn})
	if err != nil {
		t.Fatal(err)
	}
	s := graphtest.New(opts, apps...)
	t.Cleanup(s.Close)
	c, err := graph.New(graph.Config{BaseURL: s.BaseURL(), Credential: graph.StaticToken("t"),
		Policy: graph.Policy{MaxWait: 2 * time.Second, Backoff: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{svc: svc, server: s, client: c, out: &outbox{seen: map[string]bool{}}, cfg: Config{
		CouncilTenant: graphtest.CouncilTenant, Table: testutil.UniqueName("apps"),
		WatermarkTable: testutil.UniqueName("marks"), FindingsTable: testutil.UniqueName("finds")}}
	return f
}

func (f *fixture) handler(t testing.TB, mutate ...func(*Config)) *Handler {
	cfg := f.cfg
	for _, m := range mutate {
		m(&cfg)
	}
	h, err := New(cfg, f.client, f.svc, f.out)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (f *fixture) run(t testing.TB, h *Handler) Report {
	t.Helper()
	rep, err := h.Run(context.Background())
	if err != nil {
		t.Fatalf("run: %v (report %+v)", err, rep)
	}
	return rep
}

// register returns the stored entries by app id, with run-dependent fields
// blanked so that two harvests of one tenant compare equal.
func (f *fixture) register(t testing.TB) map[string]cloudapps.Entry {
	t.Helper()
	return registerIn(t, f.svc, f.cfg.Table)
}

// registerIn returns the entries stored in table by app id, with
// run-dependent fields blanked.
func registerIn(t testing.TB, svc *store.Service, table string) map[string]cloudapps.Entry {
	t.Helper()
	out := map[string]cloudapps.Entry{}
	err := store.NewTable[cloudapps.Entry](svc, table).Query(context.Background(), store.PartitionFilter(cloudapps.PartitionEntra), func(r store.Record[cloudapps.Entry]) error {
		e := r.Value
		e.FirstSeen, e.LastSeen, e.SyncGen, e.RemovedAt, e.NextCheck = "", "", "", "", ""
		out[e.RowKey] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func demoApp(t *testing.T, apps []graphtest.App, name string) graphtest.App {
	for _, a := range apps {
		if a.SP.DisplayName == name {
			return a
		}
	}
	t.Fatalf("no demo app %q", name)
	return graphtest.App{}
}

func TestFullHarvestThenIncremental(t *testing.T) {
	apps := graphtest.Demo(time.Now())
	f := newFixture(t, graphtest.Options{PageSize: 10}, apps...)
	h := f.handler(t)
	rep := f.run(t, h)
	if rep.Mode != modeFull || !rep.Complete || rep.Apps != len(apps)+2 || rep.New != rep.Apps || rep.Pages != 4 {
		t.Fatalf("first run %+v; want a complete full harvest of %d apps in 4 pages", rep, len(apps)+2)
	}
	reg := f.register(t)
	if len(reg) != len(apps)+2 {
		t.Fatalf("register has %d entries; want %d", len(reg), len(apps)+2)
	}
	legacy := reg[demoApp(t, apps, "Legacy Document Scanner").SP.AppID]
	if legacy.Category != cloudapps.CategoryThirdParty || legacy.RiskLevel != cloudapps.PrivilegeHigh || legacy.OwnerCount != 0 ||
		!strings.Contains(legacy.Permissions, "Directory.ReadWrite.All") || !strings.Contains(legacy.RiskReasons, cloudapps.ReasonCredentialExpired) {
		t.Errorf("Legacy Document Scanner entry %+v", legacy)
	}
	if e := reg[demoApp(t, apps, "Govkit Functions").SP.AppID]; e.Category != cloudapps.CategoryManagedIdentity {
		t.Errorf("managed identity classified %q", e.Category)
	}
	if e := reg[demoApp(t, apps, "Microsoft Teams").SP.AppID]; e.Category != cloudapps.CategoryMicrosoft || e.RiskLevel != cloudapps.PrivilegeLow {
		t.Errorf("Teams: %s/%s", e.Category, e.RiskLevel)
	}
	if e := reg[demoApp(t, apps, "Council HR Connector").SP.AppID]; e.Category != cloudapps.CategoryCouncil || !strings.Contains(e.Findings, ":30") {
		t.Errorf("HR connector: %s, findings %q", e.Category, e.Findings)
	}
	if len(f.out.sent) != 1 || rep.Notified == 0 || f.out.sent[0].Route != "igsg" {
		t.Fatalf("first run sent %d notifications (%d findings); want one digest to igsg", len(f.out.sent), rep.Notified)
	}

	// People record an IG review; the tenant changes.
	igs := store.NewTable[cloudapps.IG](f.svc, f.cfg.Table)
	civica := demoApp(t, apps, "Civica Pay")
	ig := cloudapps.IG{PartitionKey: cloudapps.PartitionIG, RowKey: civica.SP.AppID, DataLocation: cloudapps.LocationUK,
		PersonalData: cloudapps.PersonalSome, AgreementInPlace: cloudapps.AgreementYes, LastReviewed: "2026-01-10", ReviewDate: "2099-01-10"}
	igTag, err := igs.Insert(context.Background(), ig)
	if err != nil {
		t.Fatal(err)
	}
	newApp := graphtest.DemoNewApp()
	f.server.Add(newApp)
	trello := demoApp(t, apps, "Trello")
	f.server.Remove(trello.SP.ID)
	f.server.Update(civica.SP.ID, func(a *graphtest.App) {
		a.Assignments = append(a.Assignments, graphtest.Assign(civica.SP.ID, "Mail.Read"))
	})
	before := f.server.Counts()
	rep = f.run(t, h)
	if rep.Mode != modeDelta || rep.Apps != 2 || rep.New != 1 || rep.Removed != 1 || rep.Pages != 1 {
		t.Fatalf("second run %+v; want a delta of 2 apps (1 new) and 1 removal in 1 page", rep)
	}
	after := f.server.Counts()
	if d := after.DeltaPages - before.DeltaPages; d != 1 {
		t.Errorf("second run read %d delta pages; want 1", d)
	}
	if d := after.BatchItems - before.BatchItems; d != 7 {
		t.Errorf("second run sent %d batch sub-requests; want 7 (3 per changed app, 1 resource)", d)
	}
	reg = f.register(t)
	if e := reg[trello.SP.AppID]; !e.Removed {
		t.Errorf("Trello not marked removed: %+v", e)
	}
	if e := reg[newApp.SP.AppID]; e.Category != cloudapps.CategoryThirdParty || e.RiskLevel != cloudapps.PrivilegeHigh {
		t.Errorf("new app %+v", e)
	}
	if len(f.out.sent) != 2 {
		t.Fatalf("sent %d digests; want 2", len(f.out.sent))
	}
	var second []string
	for _, it := range f.out.sent[1].Items {
		second = append(second, it.Title)
	}
	sort.Strings(second)
	want := []string{
		"Civica Pay: Application gained high-risk application permission Mail.Read",
		"Sketchy PDF Converter: Application has high-risk delegated permission Files.ReadWrite.All",
		"Sketchy PDF Converter: Application has no owner",
		"Sketchy PDF Converter: New third-party application",
	}
	if strings.Join(second, "\n") != strings.Join(want, "\n") {
		t.Errorf("second digest:\n%s\nwant:\n%s", strings.Join(second, "\n"), strings.Join(want, "\n"))
	}
	// The harvest never touched the IG record.
	got, err := igs.Get(context.Background(), cloudapps.PartitionIG, civica.SP.AppID)
	if err != nil || got.ETag != igTag || got.Value != ig {
		t.Errorf("IG record changed by the harvest: %+v (%v)", got, err)
	}

	// A third run with no change sends nothing and writes nothing.
	rep = f.run(t, h)
	if rep.Apps != 0 || rep.Notified != 0 || len(f.out.sent) != 2 || rep.EntitiesWritten != 0 {
		t.Errorf("idle run %+v, %d digests; want nothing done", rep, len(f.out.sent))
	}
}

func TestFindingsOncePerAppAcrossFullResync(t *testing.T) {
	f := newFixture(t, graphtest.Options{PageSize: 7}, graphtest.Demo(time.Now())...)
	f.run(t, f.handler(t))
	first := f.out.items()
	// Force full resyncs: same tenant, nothing new to tell.
	hf := f.handler(t, func(c *Config) { c.FullResyncAfter = time.Nanosecond })
	rep := f.run(t, hf)
	if rep.Mode != modeFull || rep.Notified != 0 || len(f.out.items()) != len(first) {
		t.Errorf("full resync %+v re-notified: %d items, had %d", rep, len(f.out.items()), len(first))
	}
}

func TestCrashMidPageSetResumes(t *testing.T) {
	clean := newFixture(t, graphtest.Options{PageSize: 10, Generated: 60})
	clean.run(t, clean.handler(t))
	want := clean.register(t)

	f := newFixture(t, graphtest.Options{PageSize: 10, Generated: 60})
	// The fourth delta page fails hard (after retries).
	f.server.Inject(graphtest.Fault{Where: "delta", Status: 500, After: 3, Times: 10})
	h := f.handler(t)
	rep, err := h.Run(context.Background())
	if err == nil || rep.Complete || rep.Pages != 3 {
		t.Fatalf("crashing run: %+v, %v; want an error after 3 pages", rep, err)
	}
	wm, err := h.marks.Get(context.Background(), Name, "servicePrincipals")
	if err != nil || wm.Value.DeltaLink != "" || !strings.Contains(wm.Value.Cursor, "skiptoken") {
		t.Fatalf("watermark after crash %+v, %v; want no delta link yet and a cursor", wm.Value, err)
	}
	for f.server.Counts().Faults < 10 {
		// Spend the rest of the injected fault so the re-run meets a healthy service.
		_, _ = f.client.ServicePrincipalsDelta(context.Background(), "")
	}
	rep = f.run(t, h)
	if !rep.Resumed || !rep.Complete || rep.Pages != 4 {
		t.Fatalf("re-run %+v; want a resumed, complete run of the remaining 4 pages", rep)
	}
	got := f.register(t)
	if len(got) != len(want) {
		t.Fatalf("register has %d entries; want %d", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("entry %s differs after crash and resume:\n got %+v\nwant %+v", id, got[id], w)
		}
	}
	if a, b := len(f.out.items()), len(clean.out.items()); a != b {
		t.Errorf("crash and resume notified %d findings; an uninterrupted run %d", a, b)
	}
}

func TestExpiredDeltaFallsBackToFullResync(t *testing.T) {
	for _, status := range []int{410, 400} {
		f := newFixture(t, graphtest.Options{PageSize: 10, Generated: 25})
		h := f.handler(t)
		f.run(t, h)
		f.server.ExpireDeltaTokens(status)
		f.server.Remove(graphtest.GeneratedID(5)) // its @removed is lost with the expired state
		rep := f.run(t, h)
		if !rep.Resynced || rep.Mode != modeFull || !rep.Complete || rep.Swept != 1 {
			t.Errorf("status %d: %+v; want a full resync sweeping 1 removed app", status, rep)
		}
		if e := f.register(t)[graphtest.GeneratedAppID(5)]; !e.Removed {
			t.Errorf("status %d: removed app not marked: %+v", status, e)
		}
	}
}

func TestThrottledHarvestCompletes(t *testing.T) {
	f := newFixture(t, graphtest.Options{PageSize: 10, Generated: 30})
	f.server.Inject(graphtest.Fault{Where: "delta", Status: 429, RetryAfter: "0.05", After: 1})
	f.server.Inject(graphtest.Fault{Where: "batch", Status: 503, RetryAfter: "0.01", After: 2})
	f.server.Inject(graphtest.Fault{Where: "item", Status: 429, RetryAfter: "0.02", After: 10, Times: 5})
	rep := f.run(t, f.handler(t))
	if !rep.Complete || rep.Apps != 32 {
		t.Fatalf("%+v; want a complete harvest of 32 apps", rep)
	}
	if st := f.client.Stats(); st.Throttled != 7 || st.Retries != 2 {
		t.Errorf("client stats %+v; want 7 throttled answers (2 top-level retried, 5 sub-requests re-batched)", st)
	}
}

func TestBudgetStopsCleanlyAndResumes(t *testing.T) {
	f := newFixture(t, graphtest.Options{PageSize: 10, Generated: 48})
	h := f.handler(t, func(c *Config) { c.Budget = 6 })
	runs := 0
	for {
		runs++
		if runs > 20 {
			t.Fatal("harvest never completed under the budget")
		}
		rep := f.run(t, h)
		if rep.GraphRequests > 6 {
			t.Fatalf("run %d made %d requests; budget 6", runs, rep.GraphRequests)
		}
		if rep.Complete {
			break
		}
		if !rep.BudgetSpent {
			t.Fatalf("run %d incomplete without spending the budget: %+v", runs, rep)
		}
	}
	if runs < 3 {
		t.Errorf("completed in %d runs; the budget should have split it", runs)
	}
	if n := len(f.register(t)); n != 50 {
		t.Errorf("register has %d entries; want 50", n)
	}
}

func TestRecheckRaisesExpiryFindingsWithoutGraphChanges(t *testing.T) {
	now := time.Now()
	f := newFixture(t, graphtest.Options{}, graphtest.Demo(now)...)
	h := f.handler(t, func(c *Config) { c.FullResyncAfter = 365 * 24 * time.Hour })
	f.run(t, h)
	sent := len(f.out.items())
	// 40 days on: the Committee Papers Uploader's secret (45 days) is now
	// within 7 days; Planning Portal's certificate is still far off.
	h.now = func() time.Time { return now.Add(40 * 24 * time.Hour) }
	rep := f.run(t, h)
	if rep.Apps != 0 || rep.Rechecked == 0 {
		t.Fatalf("%+v; want no Graph changes and some rechecked entries", rep)
	}
	var found bool
	for _, it := range f.out.items()[:] {
		if strings.HasPrefix(it, "Committee Papers Uploader: A password credential expires within 7 days") {
			found = true
		}
	}
	if !found || len(f.out.items()) <= sent {
		t.Errorf("items after recheck: %v", f.out.items())
	}
}

func TestIGFindings(t *testing.T) {
	apps := graphtest.Demo(time.Now())
	f := newFixture(t, graphtest.Options{}, apps...)
	h := f.handler(t)
	f.run(t, h)
	zoom := demoApp(t, apps, "Zoom")
	igs := store.NewTable[cloudapps.IG](f.svc, f.cfg.Table)
	if _, err := igs.Insert(context.Background(), cloudapps.IG{PartitionKey: cloudapps.PartitionIG, RowKey: zoom.SP.AppID,
		PersonalData: cloudapps.PersonalSpecial, AgreementInPlace: cloudapps.AgreementNo, ReviewDate: "2020-01-01"}); err != nil {
		t.Fatal(err)
	}
	f.run(t, h)
	last := f.out.sent[len(f.out.sent)-1]
	var titles []string
	for _, it := range last.Items {
		titles = append(titles, it.Title)
	}
	sort.Strings(titles)
	want := "Zoom: IG review overdue since 2020-01-01\n" +
		"Zoom: Third-party application holds personal data in an unknown location\n" +
		"Zoom: Third-party application holds personal data without a data processing agreement"
	if strings.Join(titles, "\n") != want {
		t.Errorf("IG digest:\n%s\nwant:\n%s", strings.Join(titles, "\n"), want)
	}
	n := len(f.out.sent)
	f.run(t, h)
	if len(f.out.sent) != n {
		t.Error("IG findings notified twice")
	}
}
