package powerbifeed

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/feeds"
	"github.com/council-ict/govkit/shared/powerbi"
	"github.com/council-ict/govkit/shared/powerbi/powerbitest"
	"github.com/council-ict/govkit/shared/store"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
	"github.com/council-ict/govkit/shared/testutil"
	"github.com/council-ict/govkit/shared/ukdates"
)

const workspace = "f089354e-8366-4e18-aea3-4cb4a3a50b48"

type memSink struct {
	files map[string]string
	fail  string // table whose write fails
	down  bool
}

func (m *memSink) Ensure(context.Context) error {
	if m.down {
		return errors.New("storage unreachable")
	}
	return nil
}

func (m *memSink) WriteTable(_ context.Context, table string, at time.Time, write func(io.Writer) error) error {
	var b strings.Builder
	if err := write(&b); err != nil {
		return err
	}
	if table == m.fail {
		return errors.New("upload failed")
	}
	d, l := feeds.BlobNames(table, at)
	m.files[d], m.files[l] = b.String(), b.String()
	return nil
}

type memRuns struct{ runs []feeds.FeedRun }

func (m *memRuns) Record(_ context.Context, r feeds.FeedRun) error {
	m.runs = append(m.runs, r)
	return nil
}

func (m *memRuns) FeedRuns(_ context.Context, since time.Time, fn func(feeds.FeedRun) error) error {
	for _, r := range m.runs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

var t0 = time.Date(2026, 3, 16, 9, 5, 0, 0, time.UTC)

func TestCSVOnlyWithoutWorkspace(t *testing.T) {
	sink, runs := &memSink{files: map[string]string{}, fail: "CloudApps"}, &memRuns{}
	h, err := New(Config{}, Deps{Tables: feeds.Tables(), Sources: feeds.Sources{FeedRuns: runs}, CSV: sink, Runs: runs})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := h.Run(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != "partial" || rep.CSVWritten != 6 || rep.PushConfigured || len(sink.files) != 12 {
		t.Errorf("%+v, %d files", rep, len(sink.files))
	}
	if got := sink.files["ContractPipeline/latest.csv"]; !strings.HasPrefix(got, "Month,ContractsEnding") || strings.Count(got, "\r\n") != 25 {
		t.Errorf("pipeline CSV = %q", got)
	}
	if len(runs.runs) != 1 || runs.runs[0].Tables[2].Problem != "csv: upload failed" {
		t.Errorf("runs = %+v", runs.runs)
	}
	// Storage down: nothing written, the run fails.
	sink.down = true
	if rep, err := h.Run(context.Background(), t0.Add(time.Hour)); err == nil || rep.Outcome != "failed" {
		t.Errorf("outcome %s, err %v", rep.Outcome, err)
	}
}

func TestPushOutcomes(t *testing.T) {
	s := powerbitest.New(t)
	clock := powerbi.NewFakeClock(t0)
	s.Now = clock.Now
	client := s.Client(powerbi.Config{Clock: clock})
	sink, runs := &memSink{files: map[string]string{}}, &memRuns{}
	h, err := New(Config{WorkspaceID: workspace, DatasetName: "Council Governance"}, Deps{Tables: feeds.Tables(),
		Sources: feeds.Sources{FeedRuns: runs}, CSV: sink, Runs: runs, Pusher: client, Schemas: powerbi.NewMemorySchemaStore()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := h.Run(context.Background(), t0)
	if err != nil || rep.Outcome != "ok" || rep.Pushed != 7 || !rep.DatasetCreated {
		t.Fatalf("%+v %v", rep, err)
	}
	// A schema refusal on one table: the run is partial and names it.
	s.Script("PostRows", "ContractPipeline", powerbitest.BadRequest("InvalidRequest", "column Month is not in table ContractPipeline"))
	rep, err = h.Run(context.Background(), t0.Add(time.Hour))
	if err != nil || rep.Outcome != "partial" || rep.Pushed != 6 || rep.DatasetCreated {
		t.Fatalf("%+v %v", rep, err)
	}
	if p := rep.Tables[1].Problem; !strings.Contains(p, "ContractPipeline stopped") || !rep.Tables[1].CSV {
		t.Errorf("problem = %q", p)
	}
	if n := len(s.Datasets(workspace)); n != 1 {
		t.Errorf("%d datasets", n)
	}
}

// TestAzuriteEndToEnd runs the feed twice over real tables and blobs in
// Azurite with the Power BI stand-in: the CSVs and latest.csv are written,
// the dataset is created once and rows are replaced, not duplicated.
func TestAzuriteEndToEnd(t *testing.T) {
	conn := testutil.Azurite(t)
	ctx := context.Background()
	svc, err := store.NewService(store.Config{ConnectionString: conn})
	if err != nil {
		t.Fatal(err)
	}
	names := feeds.TableNames{Contracts: testutil.UniqueName("fc"), CloudApps: testutil.UniqueName("fa"),
		ErasureChecks: testutil.UniqueName("fe"), FeedRuns: testutil.UniqueName("fr"),
		SubjectRequests: sr.TableNames{Requests: testutil.UniqueName("fs"), People: testutil.UniqueName("fp"),
			Events: testutil.UniqueName("fv"), Idempotency: testutil.UniqueName("fi"), Counters: testutil.UniqueName("fn")}}
	schemasTable := testutil.UniqueName("fh")
	if err := svc.EnsureTables(ctx, names.Contracts, names.CloudApps, names.FeedRuns, schemasTable); err != nil {
		t.Fatal(err)
	} // erasure checks: left missing on purpose (reads as empty)
	if err := sr.NewStore(svc, names.SubjectRequests).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	end, _ := ukdates.ParseDate("2026-09-30")
	if _, err := contracts.NewRegister(svc, names.Contracts).Create(ctx, contracts.Contract{ID: "C-001", Title: "Case management",
		Supplier: "Acme Ltd", ServiceArea: "Adult Social Care", Owner: "jane@council.gov.uk", Route: "asc", EndDate: end,
		RenewalType: contracts.RenewalNone, Status: contracts.StatusActive, AnnualValue: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := sr.NewStore(svc, names.SubjectRequests).PutRecords(ctx, []sr.Record{{PartitionKey: "2026", RowKey: "SAR-2026-000001",
		Type: "access", Status: "open", Channel: "web", ServiceArea: "Housing", RequesterRef: "REF-SECRET", ReceivedOn: "2026-03-01", DueOn: "2026-04-01"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewTable[cloudapps.Entry](svc, names.CloudApps).Upsert(ctx, cloudapps.Entry{PartitionKey: cloudapps.PartitionEntra,
		RowKey: "11111111-1111-1111-1111-111111111111", DisplayName: "Payroll", Category: "third-party", RiskLevel: "high", AccountEnabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewTable[cloudapps.IG](svc, names.CloudApps).Upsert(ctx, cloudapps.IG{PartitionKey: cloudapps.PartitionIG,
		RowKey: "11111111-1111-1111-1111-111111111111", DataLocation: "uk", BusinessOwner: "Jane Smith", ReviewStatus: "approved"}); err != nil {
		t.Fatal(err)
	}
	blobs, err := azblob.NewClientFromConnectionString(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	container := testutil.UniqueName("powerbifeed")
	t.Cleanup(func() { _, _ = blobs.DeleteContainer(context.Background(), container, nil) })

	s := powerbitest.New(t)
	clock := powerbi.NewFakeClock(t0)
	s.Now = clock.Now
	runLog := feeds.NewRunLog(svc, names.FeedRuns)
	h, err := New(Config{WorkspaceID: workspace, DatasetName: "Council Governance"}, Deps{
		Tables: feeds.Tables(), Sources: feeds.NewTableSources(svc, names), CSV: feeds.NewBlobSink(blobs, container),
		Runs: runLog, Pusher: s.Client(powerbi.Config{Clock: clock}), Schemas: feeds.NewSchemaTable(svc, schemasTable)})
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Time{t0, t0.Add(time.Hour)} {
		rep, err := h.Run(ctx, at)
		if err != nil || rep.Outcome != "ok" {
			t.Fatalf("run %d: %v %+v", i+1, err, rep.Tables)
		}
	}
	// Blobs: 2 dated snapshots and one latest.csv per table.
	var got []string
	pager := blobs.NewListBlobsFlatPager(container, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			got = append(got, *b.Name)
		}
	}
	if len(got) != 21 {
		t.Errorf("%d blobs: %v", len(got), got)
	}
	for _, want := range []string{"Contracts/2026/03/16/Contracts-20260316T090500Z.csv", "Contracts/2026/03/16/Contracts-20260316T100500Z.csv", "FeedRuns/latest.csv"} {
		if !strings.Contains(strings.Join(got, " "), want) {
			t.Errorf("no blob %s", want)
		}
	}
	latest := download(t, blobs, container, "Contracts/latest.csv")
	want := "ContractID,Title,Supplier,ServiceArea,Status,RenewalType,AnnualValue,StartDate,EndDate,TermEnd,DecisionDate,NoticeDeadline,NextMilestone,NextMilestoneDate,DaysToNextMilestone,DBSRequired,DBSStatus,ExitPlanAgreed\r\n" +
		"C-001,Case management,Acme Ltd,Adult Social Care,active,none,1000,,2026-09-30,2026-09-30,,,end,2026-09-30,198,false,not-required,false\r\n"
	if latest != want {
		t.Errorf("Contracts/latest.csv =\n%q\nwant\n%q", latest, want)
	}
	for _, table := range []string{"SubjectRequests", "CloudApps"} {
		body := download(t, blobs, container, table+"/latest.csv")
		if strings.Contains(body, "REF-SECRET") || strings.Contains(body, "Jane") || strings.Count(body, "\r\n") != 2 {
			t.Errorf("%s/latest.csv = %q", table, body)
		}
	}
	// FeedRuns on run 2 lists run 1's seven tables.
	if body := download(t, blobs, container, "FeedRuns/latest.csv"); strings.Count(body, "\r\n") != 8 {
		t.Errorf("FeedRuns/latest.csv = %q", body)
	}
	// Power BI: one dataset, created once; rows replaced, not duplicated.
	if s.Count("CreateDataset", http.StatusCreated) != 1 || len(s.Datasets(workspace)) != 1 || s.Count("PutTable", 0) != 0 {
		t.Errorf("creates %d, datasets %d, puts %d", s.Count("CreateDataset", 0), len(s.Datasets(workspace)), s.Count("PutTable", 0))
	}
	for table, n := range map[string]int{"Contracts": 1, "SubjectRequests": 1, "CloudApps": 1, "ErasureChecks": 0, "ContractPipeline": 24, "FeedRuns": 7} {
		if tb, _ := s.Table(workspace, "Council Governance", table); tb.RowCount != n {
			t.Errorf("%s holds %d rows, want %d", table, tb.RowCount, n)
		}
	}
}

func download(t *testing.T, c *azblob.Client, container, name string) string {
	t.Helper()
	resp, err := c.DownloadStream(context.Background(), container, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
