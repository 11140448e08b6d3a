package dataerasurechecks

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	ca "github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/erasure"
	"github.com/council-ict/govkit/shared/feeds"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
	"github.com/council-ict/govkit/shared/ukdates"
)

// memBlobs is an in-memory blob store.
type memBlobs struct {
	mu sync.Mutex
	m  map[string]map[string]memBlob
}

type memBlob struct {
	body []byte
	mod  time.Time
}

func (b *memBlobs) put(container, name, body string, mod time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]map[string]memBlob{}
	}
	if b.m[container] == nil {
		b.m[container] = map[string]memBlob{}
	}
	b.m[container][name] = memBlob{[]byte(body), mod}
}

func (b *memBlobs) ListBlobs(_ context.Context, container, prefix string) ([]Blob, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Blob
	for n, x := range b.m[container] {
		if strings.HasPrefix(n, prefix) {
			out = append(out, Blob{Name: n, Modified: x.mod})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (b *memBlobs) GetBlob(_ context.Context, container, name string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[container][name].body, nil
}

func (b *memBlobs) PutBlob(_ context.Context, container, name string, body []byte, _ string) error {
	b.put(container, name, string(body), time.Now())
	return nil
}

// memTransport records what the outbox hands on.
type memTransport struct {
	mu   sync.Mutex
	msgs []notify.Notification
}

func (t *memTransport) Send(_ context.Context, ms []notify.Message) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range ms {
		n, err := notify.Decode(m.Body)
		if err != nil {
			return err
		}
		t.msgs = append(t.msgs, n)
	}
	return nil
}

func (t *memTransport) sent() []notify.Notification {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]notify.Notification(nil), t.msgs...)
}

type fixture struct {
	h       *Handler
	svc     *store.Service
	g       *graphtest.Server
	blobs   *memBlobs
	out     *memTransport
	now     time.Time
	cfg     Config
	entries *store.Table[ca.Entry]
	igs     *store.Table[ca.IG]
}

func setup(t *testing.T) *fixture {
	t.Helper()
	svc, err := store.NewService(store.Config{ConnectionString: testutil.Azurite(t)})
	if err != nil {
		t.Fatal(err)
	}
	g := graphtest.New(graphtest.Options{Generated: 20})
	t.Cleanup(g.Close)
	gc, err := graph.New(graph.Config{BaseURL: g.BaseURL(), Credential: graph.StaticToken("t"),
		Policy: graph.Policy{MaxAttempts: 2, Backoff: time.Millisecond, MaxWait: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{svc: svc, g: g, blobs: &memBlobs{}, out: &memTransport{}, now: time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)}
	copies, _ := erasure.ParseLocations(erasure.DefaultCouncilCopies)
	f.cfg = Config{Policy: erasure.DefaultPolicy(), CouncilCopies: copies,
		CloudAppsTable: testutil.UniqueName("apps"), ContractsTable: testutil.UniqueName("contracts"),
		ChecksTable: testutil.UniqueName("erasure"), ResultsTable: testutil.UniqueName("results"),
		EvidenceTable: testutil.UniqueName("evidence"), Now: func() time.Time { return f.now }}
	ledger := testutil.UniqueName("ledger")
	if err := svc.EnsureTables(context.Background(), ledger); err != nil {
		t.Fatal(err)
	}
	outbox := notify.NewOutbox(svc, ledger, f.out)
	f.h, err = New(f.cfg, svc, gc, f.blobs, outbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.h.ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.entries = store.NewTable[ca.Entry](svc, f.cfg.CloudAppsTable)
	f.igs = store.NewTable[ca.IG](svc, f.cfg.CloudAppsTable)
	return f
}

func (f *fixture) app(t *testing.T, appID, name string, terminatedDaysAgo int) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.entries.Upsert(ctx, ca.Entry{PartitionKey: ca.PartitionEntra, RowKey: appID, DisplayName: name}); err != nil {
		t.Fatal(err)
	}
	if terminatedDaysAgo < 0 {
		return
	}
	ig := ca.IG{PartitionKey: ca.PartitionIG, RowKey: appID, Classification: "official",
		TerminationDate: f.now.AddDate(0, 0, -terminatedDaysAgo).Format(time.DateOnly)}
	if _, err := f.igs.Upsert(ctx, ig); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) row(t *testing.T, appID string) erasure.CheckRow {
	t.Helper()
	r, err := store.NewTable[erasure.CheckRow](f.svc, f.cfg.ChecksTable).Get(context.Background(), erasure.ChecksPartition, appID)
	if err != nil {
		t.Fatalf("overall row of %s: %v", appID, err)
	}
	return r.Value
}

func (f *fixture) run(t *testing.T) Report {
	t.Helper()
	rep, err := f.h.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

const complete = `{"method":"purge","scope":{"systems":"production tenant, file store","backups":true,"subProcessors":true},
"performedOn":"2026-11-20","attestedBy":"A Supplier, Head of Security","reference":"ERASE-2026-17","document":"cert.pdf"}`

func TestOverdueThenCompliantAlertsOncePerChange(t *testing.T) {
	f := setup(t)
	appID := graphtest.GeneratedAppID(4) // enabled, no grants, no credentials
	f.app(t, appID, "Old Case System", 100)

	rep := f.run(t)
	row := f.row(t, appID)
	if row.OverallStatus != erasure.StatusOverdue || rep.Notified != 1 {
		t.Fatalf("run 1: %s, notified %d", row.OverallStatus, rep.Notified)
	}
	want := "access-removed: service principal still enabled in Entra ID; supplier-certificate: no supplier erasure certificate filed"
	if row.Reasons != want {
		t.Errorf("reasons %q\nwant %q", row.Reasons, want)
	}
	if row.TerminationDate != "2026-08-25" || row.Deadline != "2026-11-23" || row.AppName != "Old Case System" || row.Severity != "overdue" {
		t.Errorf("row %+v", row)
	}

	// Run 2, next day, nothing changed: no alert.
	f.now = f.now.AddDate(0, 0, 1)
	if rep := f.run(t); rep.Notified != 0 || rep.Changes != 0 {
		t.Fatalf("run 2: %+v", rep)
	}

	// Disable the service principal and file a complete certificate.
	f.g.Update(graphtest.GeneratedID(4), func(a *graphtest.App) { a.SP.AccountEnabled = false })
	f.blobs.put(erasure.EvidenceContainer, appID+"/cert.pdf", "%PDF", f.now)
	f.blobs.put(erasure.EvidenceContainer, appID+"/cert.json", complete, f.now)
	f.now = f.now.AddDate(0, 0, 1)
	rep = f.run(t)
	row = f.row(t, appID)
	if row.OverallStatus != erasure.StatusCompliant || row.CompliantOn != "2026-12-05" || rep.Notified != 1 {
		t.Fatalf("run 3: %+v notified %d", row, rep.Notified)
	}
	// And a repeat of run 3 (same day, as a retried invocation) alerts nothing.
	if rep := f.run(t); rep.Notified != 0 {
		t.Fatalf("repeat: %+v", rep)
	}
	sent := f.out.sent()
	if len(sent) != 2 {
		t.Fatalf("%d notifications, want 2", len(sent))
	}
	if sent[0].ID != "erasure:"+appID+":overdue:2026-12-03" || sent[0].Severity != notify.SeverityOverdue || sent[0].Route != "igsg" {
		t.Errorf("first alert %+v", sent[0])
	}
	if sent[1].ID != "erasure:"+appID+":compliant:2026-12-05" || sent[1].Severity != notify.SeverityInfo {
		t.Errorf("second alert %+v", sent[1])
	}
	// History: the access check has one row per day.
	var days []string
	err := store.NewTable[erasure.ResultRow](f.svc, f.cfg.ResultsTable).Query(context.Background(), store.PartitionFilter(appID),
		func(r store.Record[erasure.ResultRow]) error {
			if r.Value.Check == erasure.CheckAccessRemoved {
				days = append(days, r.Value.Day+":"+r.Value.Outcome)
			}
			return nil
		})
	if err != nil || strings.Join(days, " ") != "2026-12-03:failed 2026-12-04:failed 2026-12-05:passed" {
		t.Errorf("history %v %v", days, err)
	}
	// The run report.
	if _, ok := f.blobs.m[ReportContainer][Name+"/2026-12-05.json"]; !ok {
		t.Error("no run report")
	}
	// The Power BI feed reads the overall rows.
	src := feeds.NewTableSources(f.svc, feeds.TableNames{ErasureChecks: f.cfg.ChecksTable})
	var got []feeds.ErasureCheck
	_ = src.ErasureChecks.ErasureChecks(context.Background(), func(e feeds.ErasureCheck) error { got = append(got, e); return nil })
	if len(got) != 1 || got[0].AppID != appID || got[0].Status != "compliant" || got[0].CompliantOn != "2026-12-05" || got[0].TerminationDate != "2026-08-25" || got[0].App != "Old Case System" {
		t.Errorf("feed %+v", got)
	}
}

func TestPartialEvidenceIsIncomplete(t *testing.T) {
	f := setup(t)
	appID := "99999999-0000-4000-8000-000000000001" // no service principal: deleted
	f.app(t, appID, "Deleted App", 10)
	e, err := erasure.ParseEvidence([]byte(`{"method":"destroy","performedOn":"2026-11-30","reference":"R-9"}`), f.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewTable[erasure.EvidenceRow](f.svc, f.cfg.EvidenceTable).Insert(context.Background(), erasure.NewEvidenceRow(appID, e, "oid-1", f.now)); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	row := f.row(t, appID)
	want := "supplier-certificate: certificate incomplete: missing scope.systems, scope.backups, scope.subProcessors, attestedBy"
	if row.OverallStatus != erasure.StatusIncomplete || row.Reasons != want {
		t.Errorf("got %s %q", row.OverallStatus, row.Reasons)
	}
}

func TestGraphStormIsUnknownNotPassed(t *testing.T) {
	f := setup(t)
	a, b := graphtest.GeneratedAppID(4), graphtest.GeneratedAppID(6)
	f.app(t, a, "A", 10)
	f.app(t, b, "B", 10)
	f.blobs.put(erasure.EvidenceContainer, a+"/c.json", complete, f.now)
	f.blobs.put(erasure.EvidenceContainer, b+"/c.json", complete, f.now)
	f.g.Update(graphtest.GeneratedID(4), func(x *graphtest.App) { x.SP.AccountEnabled = false })
	f.g.Inject(graphtest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0", Times: 1000})
	rep := f.run(t)
	for _, id := range []string{a, b} {
		row := f.row(t, id)
		if row.OverallStatus != erasure.StatusUnknown || !strings.Contains(row.Reasons, "access-removed: check could not run: graph: HTTP 503") {
			t.Errorf("%s: %s %q", id, row.OverallStatus, row.Reasons)
		}
	}
	if rep.GraphUnavailable == "" {
		t.Error("the report does not say Graph was unavailable")
	}
	// Only the first application asked Graph (2 attempts); the second was
	// recorded unknown without hammering a failing service.
	if c := f.g.Counts(); c.Other != 2 {
		t.Errorf("Graph asked %d times, want 2", c.Other)
	}
}

func TestEndedContractPropagatesAndCopiesChecked(t *testing.T) {
	f := setup(t)
	appID := "99999999-0000-4000-8000-000000000002"
	f.app(t, appID, "Contracted App", -1) // no IG termination date
	reg := contracts.NewRegister(f.svc, f.cfg.ContractsTable)
	end, _ := ukdates.ParseDate("2026-11-13")
	start, _ := ukdates.ParseDate("2024-01-01")
	c := contracts.Contract{ID: "C-900", Title: "Case system", Supplier: "Acme", ServiceArea: "Housing", Owner: "o@council.example",
		Route: "ict", StartDate: start, EndDate: end, Status: contracts.StatusEnded, CloudAppID: appID}
	c.Normalize()
	if _, err := reg.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	f.blobs.put("app-exports", appID+"/export-2025.csv", "a,b", f.now)
	f.blobs.put(erasure.EvidenceContainer, appID+"/c.json", complete, f.now)
	f.run(t)
	row := f.row(t, appID)
	if row.TerminationSource != "contract:C-900" || row.TerminationDate != "2026-11-13" || row.OverallStatus != erasure.StatusIncomplete ||
		row.Reasons != "council-copies-deleted: 1 blob(s) left in app-exports/"+appID+"/" {
		t.Errorf("row %+v", row)
	}
	var rep Report
	_ = json.Unmarshal(f.blobs.m[ReportContainer][Name+"/2026-12-03.json"].body, &rep)
	if rep.Apps != 1 || rep.ByStatus[erasure.StatusIncomplete] != 1 {
		t.Errorf("report %+v", rep)
	}
}
