package powerbi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/powerbi"
	"github.com/council-ict/govkit/shared/powerbi/powerbitest"
)

const group = "f089354e-8366-4e18-aea3-4cb4a3a50b48"

var epoch = time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)

func setup(t testing.TB) (*powerbitest.Server, *powerbi.FakeClock, *powerbi.Client) {
	s := powerbitest.New(t)
	clock := powerbi.NewFakeClock(epoch)
	s.Now = clock.Now
	return s, clock, s.Client(powerbi.Config{Clock: clock})
}

var productTable = powerbi.Table{Name: "Product", Columns: []powerbi.Column{
	{Name: "ProductID", DataType: powerbi.Int64}, {Name: "Name", DataType: powerbi.String},
	{Name: "IsCompete", DataType: powerbi.Boolean}, {Name: "ManufacturedOn", DataType: powerbi.DateTime},
	{Name: "Sales", DataType: powerbi.Double}}}

// rows returns a source of n generated rows for productTable (plus extra
// columns, if the table has more, filled with "x").
func rows(n int, t powerbi.Table) powerbi.RowSource {
	return func(ctx context.Context, emit func([]any) error) error {
		vals := make([]any, len(t.Columns))
		for i := range n {
			vals[0], vals[1], vals[2], vals[3], vals[4] = i, fmt.Sprintf("product %d", i), i%2 == 0, epoch.AddDate(0, 0, -i%400), float64(i)*1.5
			for j := 5; j < len(vals); j++ {
				vals[j] = "x"
			}
			if err := emit(vals); err != nil {
				return err
			}
		}
		return nil
	}
}

func named(name string, t powerbi.Table) powerbi.Table {
	t.Name = name
	return t
}

func TestSyncCreatesOnceThenReplacesRows(t *testing.T) {
	s, _, c := setup(t)
	schemas := powerbi.NewMemorySchemaStore()
	feeds := []powerbi.Feed{{Table: productTable, Rows: rows(120, productTable)},
		{Table: named("Other", productTable), Rows: rows(3, productTable)}}
	for run := 1; run <= 2; run++ {
		rep, err := c.Sync(context.Background(), group, "Council Governance", feeds, schemas)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if rep.Created != (run == 1) || rep.Failed() != 0 {
			t.Fatalf("run %d: %+v", run, rep)
		}
		if rep.Tables[0].Rows != 120 || rep.Tables[1].Rows != 3 {
			t.Errorf("run %d: %+v", run, rep.Tables)
		}
	}
	if n := len(s.Datasets(group)); n != 1 {
		t.Fatalf("%d datasets, want 1", n)
	}
	if s.Count("CreateDataset", 201) != 1 || s.Count("PutTable", 0) != 0 {
		t.Errorf("creates %d, puts %d", s.Count("CreateDataset", 0), s.Count("PutTable", 0))
	}
	tb, _ := s.Table(group, "Council Governance", "Product")
	if tb.RowCount != 120 || len(tb.Rows) != 120 {
		t.Fatalf("Product holds %d rows after two runs, want 120 (no duplicates)", tb.RowCount)
	}
	if got := tb.Rows[1]; got["Name"] != "product 1" || got["IsCompete"] != false || got["ManufacturedOn"] != "2026-03-15T09:00:00Z" {
		t.Errorf("row 1 = %v", got)
	}
	if s.Count("DeleteRows", 200) != 4 {
		t.Errorf("deletes = %d, want 4", s.Count("DeleteRows", 200))
	}
}

func TestSchemaChangePutsTheTable(t *testing.T) {
	s, _, c := setup(t)
	schemas := powerbi.NewMemorySchemaStore()
	other := named("Other", productTable)
	if _, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: productTable, Rows: rows(5, productTable)},
		{Table: other, Rows: rows(5, other)}}, schemas); err != nil {
		t.Fatal(err)
	}
	changed := productTable
	changed.Columns = append(append([]powerbi.Column(nil), productTable.Columns...), powerbi.Column{Name: "Region", DataType: powerbi.String})
	rep, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: changed, Rows: rows(5, changed)},
		{Table: other, Rows: rows(5, other)}}, schemas)
	if err != nil || rep.Failed() != 0 {
		t.Fatal(err, rep)
	}
	if !rep.Tables[0].SchemaUpdated || rep.Tables[1].SchemaUpdated {
		t.Errorf("schema updated = %v, %v; want true, false", rep.Tables[0].SchemaUpdated, rep.Tables[1].SchemaUpdated)
	}
	if s.Count("PutTable", 200) != 1 {
		t.Errorf("PUTs = %d, want 1", s.Count("PutTable", 0))
	}
	tb, _ := s.Table(group, "DS", "Product")
	if len(tb.Columns) != 6 || tb.Rows[0]["Region"] != "x" {
		t.Errorf("table after PUT: %d columns, row %v", len(tb.Columns), tb.Rows[0])
	}
	// A third run with the same definitions PUTs nothing.
	if _, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: changed, Rows: rows(5, changed)}}, schemas); err != nil {
		t.Fatal(err)
	}
	if s.Count("PutTable", 0) != 1 {
		t.Errorf("PUTs = %d after an unchanged run, want 1", s.Count("PutTable", 0))
	}
}

func TestThrottlingStormIsHonoured(t *testing.T) {
	s, clock, c := setup(t)
	s.Script("PostRows", "", powerbitest.Throttled("2"), powerbitest.Throttled("0.5"), powerbitest.Throttled("1.25"),
		powerbitest.ServerError(), powerbitest.Throttled(""))
	s.Script("DeleteRows", "", powerbitest.Throttled("3"))
	rep, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: productTable, Rows: rows(10, productTable)}},
		powerbi.NewMemorySchemaStore())
	if err != nil || rep.Failed() != 0 {
		t.Fatal(err, rep.Tables[0].Err)
	}
	st := c.Stats()
	if st.Throttled != 5 || st.Retries != 6 || st.PostRows != 6 {
		t.Errorf("stats %+v", st)
	}
	// 3 + 2 + 0.5 + 1.25 + backoff after 500 (4 s, the 4th retry) + backoff after a bare 429 (8 s)... at least the asked waits.
	if slept := clock.Slept(); slept < 6750*time.Millisecond {
		t.Errorf("slept %s, less than the Retry-After values asked for", slept)
	}
	tb, _ := s.Table(group, "DS", "Product")
	if tb.RowCount != 10 {
		t.Errorf("rows = %d", tb.RowCount)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	s, _, _ := setup(t)
	clock := powerbi.NewFakeClock(epoch)
	c := s.Client(powerbi.Config{Clock: clock, MaxAttempts: 3})
	s.Script("PostRows", "Product", powerbitest.Throttled("1"), powerbitest.Throttled("1"), powerbitest.Throttled("1"))
	other := named("Other", productTable)
	rep, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: productTable, Rows: rows(10, productTable)},
		{Table: other, Rows: rows(10, other)}}, powerbi.NewMemorySchemaStore())
	if err != nil {
		t.Fatal(err)
	}
	var api *powerbi.APIError
	if !errors.As(rep.Tables[0].Err, &api) || api.Status != 429 || api.Attempts != 3 || !api.Transient() {
		t.Fatalf("Product err = %v", rep.Tables[0].Err)
	}
	if rep.Tables[1].Err != nil || rep.Tables[1].Rows != 10 {
		t.Errorf("Other = %+v", rep.Tables[1])
	}
	// A Retry-After beyond MaxRetryWait fails at once.
	s.Script("DeleteRows", "", powerbitest.Throttled("3600"))
	r := c.ReplaceRows(context.Background(), group, rep.DatasetID, productTable, rows(1, productTable))
	if r.Err == nil || !strings.Contains(r.Err.Error(), "longer than") {
		t.Errorf("err = %v", r.Err)
	}
}

func TestSchemaErrorStopsOnlyThatTable(t *testing.T) {
	s, _, c := setup(t)
	schemas := powerbi.NewMemorySchemaStore()
	b := named("B", productTable)
	stale := b
	stale.Columns = stale.Columns[:4] // the dataset's B lacks Sales
	id := s.Seed(group, "DS", named("A", productTable), stale, named("C", productTable))
	for _, n := range []string{"A", "B", "C"} {
		_ = schemas.SetSchemaHash(context.Background(), id, n, named(n, productTable).Hash()) // the store believes B is current
	}
	rep, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{
		{Table: named("A", productTable), Rows: rows(20, productTable)},
		{Table: b, Rows: rows(25000, b)},
		{Table: named("C", productTable), Rows: rows(20, productTable)}}, schemas)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tables[0].Err != nil || rep.Tables[2].Err != nil || rep.Tables[0].Rows != 20 || rep.Tables[2].Rows != 20 {
		t.Errorf("A, C = %+v, %+v", rep.Tables[0], rep.Tables[2])
	}
	e := rep.Tables[1].Err
	var api *powerbi.APIError
	if !errors.As(e, &api) || api.Status != 400 || !strings.Contains(e.Error(), "column Sales is not in table B") ||
		!strings.Contains(e.Error(), "table B stopped") {
		t.Errorf("B err = %v", e)
	}
	if got := s.Count("PostRows", 400); got < 1 || got > 3 { // stops after the first refusal (in-flight chunks may finish)
		t.Errorf("refused posts = %d", got)
	}
	if rep.Failed() != 1 {
		t.Errorf("failed = %d", rep.Failed())
	}
}

func TestRowsAreChunkedAt10000(t *testing.T) {
	s, _, c := setup(t)
	rep, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: productTable, Rows: rows(25001, productTable)}},
		powerbi.NewMemorySchemaStore())
	if err != nil || rep.Failed() != 0 {
		t.Fatal(err, rep.Tables[0].Err)
	}
	var sizes []int
	for _, r := range s.Requests() {
		if r.Op == "PostRows" {
			sizes = append(sizes, r.Rows)
		}
	}
	if len(sizes) != 3 || rep.Tables[0].Posts != 3 {
		t.Fatalf("post sizes %v", sizes)
	}
	for _, n := range sizes {
		if n > 10000 {
			t.Errorf("a POST of %d rows", n)
		}
	}
	tb, _ := s.Table(group, "DS", "Product")
	if tb.RowCount != 25001 {
		t.Errorf("rows = %d", tb.RowCount)
	}
}

func TestLongStringsAreTruncatedAndCounted(t *testing.T) {
	s, _, c := setup(t)
	tbl := powerbi.Table{Name: "Notes", Columns: []powerbi.Column{{Name: "Text", DataType: powerbi.String}}}
	long := strings.Repeat("é", 3999) + "😀" + "tail"
	src := func(ctx context.Context, emit func([]any) error) error {
		if err := emit([]any{long}); err != nil {
			return err
		}
		return emit([]any{"short \"quoted\"\n\x01"})
	}
	rep, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: tbl, Rows: src}}, powerbi.NewMemorySchemaStore())
	if err != nil || rep.Failed() != 0 {
		t.Fatal(err, rep.Tables[0].Err)
	}
	if rep.Tables[0].Truncated != 1 {
		t.Errorf("truncated = %d", rep.Tables[0].Truncated)
	}
	got, _ := s.Table(group, "DS", "Notes")
	if v := got.Rows[0]["Text"].(string); v != strings.Repeat("é", 3999) {
		t.Errorf("truncated to %d runes", len([]rune(v)))
	}
	if v := got.Rows[1]["Text"].(string); v != "short \"quoted\"\n\x01" {
		t.Errorf("escaped string came back as %q", v)
	}
}

func TestTooManyColumnsFailsBeforeAnyRequest(t *testing.T) {
	s, _, c := setup(t)
	wide := powerbi.Table{Name: "Wide"}
	for i := range 76 {
		wide.Columns = append(wide.Columns, powerbi.Column{Name: fmt.Sprint("c", i), DataType: powerbi.Int64})
	}
	rep, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: wide, Rows: rows(1, wide)},
		{Table: productTable, Rows: rows(1, productTable)}}, powerbi.NewMemorySchemaStore())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tables[0].Err == nil || !strings.Contains(rep.Tables[0].Err.Error(), "at most 75") || rep.Tables[1].Err != nil {
		t.Errorf("%v / %v", rep.Tables[0].Err, rep.Tables[1].Err)
	}
	if tb, ok := s.Table(group, "DS", "Wide"); ok {
		t.Errorf("Wide was created: %+v", tb)
	}
}

func TestWrongValueTypeStopsTheTable(t *testing.T) {
	_, _, c := setup(t)
	bad := func(ctx context.Context, emit func([]any) error) error {
		return emit([]any{"1", "n", true, epoch, 1.0})
	}
	rep, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: productTable, Rows: bad}}, powerbi.NewMemorySchemaStore())
	if err != nil || rep.Tables[0].Err == nil || !strings.Contains(rep.Tables[0].Err.Error(), "ProductID") {
		t.Errorf("%v %v", err, rep.Tables[0].Err)
	}
}

func TestCancellationStopsWaiting(t *testing.T) {
	s := powerbitest.New(t)
	c := s.Client(powerbi.Config{}) // the real clock
	s.Script("ListDatasets", "", powerbitest.Throttled("30"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Sync(ctx, group, "DS", []powerbi.Feed{{Table: productTable, Rows: rows(1, productTable)}}, powerbi.NewMemorySchemaStore())
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %s", err, time.Since(start))
	}
}

func TestUnauthorisedIsClear(t *testing.T) {
	s, _, c := setup(t)
	s.Script("ListDatasets", "", powerbitest.Response{Status: http.StatusUnauthorized,
		Body: `{"error":{"code":"PowerBINotAuthorizedException","pbi.error":{"code":"PowerBINotAuthorizedException","parameters":{},"details":[],"exceptionCulprit":1}}}`})
	_, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: productTable, Rows: rows(1, productTable)}}, powerbi.NewMemorySchemaStore())
	if err == nil || !strings.Contains(err.Error(), "HTTP 401 PowerBINotAuthorizedException") {
		t.Errorf("err = %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{"1": time.Second, "0.5": 500 * time.Millisecond, " 2.25 ": 2250 * time.Millisecond,
		"0": 0, "Mon, 16 Mar 2026 09:00:30 GMT": 30 * time.Second} {
		if got, ok := powerbi.RetryAfter(v, now); !ok || got != want {
			t.Errorf("RetryAfter(%q) = %s, %v; want %s", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "soon", "-1", "NaN"} {
		if _, ok := powerbi.RetryAfter(v, now); ok {
			t.Errorf("RetryAfter(%q) accepted", v)
		}
	}
}

// TestPacingKeepsWithinLimits pushes 1.32 million rows to one dataset: the
// client must spread them over an hour of virtual time without a single
// refusal from the stand-in.
func TestPacingKeepsWithinLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("1.32M rows")
	}
	s, clock, c := setup(t)
	s.KeepRows = false
	small := powerbi.Table{Name: "T", Columns: []powerbi.Column{{Name: "N", DataType: powerbi.Int64}}}
	var feeds []powerbi.Feed
	for i := range 6 {
		tb := named(fmt.Sprint("T", i), small)
		feeds = append(feeds, powerbi.Feed{Table: tb, Rows: func(ctx context.Context, emit func([]any) error) error {
			v := []any{0}
			for j := range 220000 {
				v[0] = j
				if err := emit(v); err != nil {
					return err
				}
			}
			return nil
		}})
	}
	rep, err := c.Sync(context.Background(), group, "DS", feeds, powerbi.NewMemorySchemaStore())
	if err != nil || rep.Failed() != 0 {
		t.Fatal(err, rep)
	}
	if s.LimitRefusals() != 0 || s.Count("PostRows", 429) != 0 {
		t.Errorf("the stand-in refused %d posts for exceeding a limit", s.LimitRefusals())
	}
	if got := s.MaxRowsPerHour(); got > 1000000 {
		t.Errorf("max rows per hour = %d", got)
	}
	if clock.Slept() < time.Hour/4 {
		t.Errorf("slept only %s for 1.32M rows", clock.Slept())
	}
	t.Logf("virtual time %s, max posts/min %d, max rows/hour %d, max pending %d", clock.Slept(), s.MaxPostsPerMinute(), s.MaxRowsPerHour(), s.MaxPending())
}

func TestPacerPerMinute(t *testing.T) {
	s, clock, c := setup(t)
	s.KeepRows = false
	small := powerbi.Table{Name: "T", Columns: []powerbi.Column{{Name: "N", DataType: powerbi.Int64}}}
	c2 := s.Client(powerbi.Config{Clock: clock, Limits: powerbi.Limits{RowsPerPost: 1}, Workers: 5})
	_ = c
	rep, err := c2.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: small, Rows: func(ctx context.Context, emit func([]any) error) error {
		for j := range 400 {
			if err := emit([]any{j}); err != nil {
				return err
			}
		}
		return nil
	}}}, powerbi.NewMemorySchemaStore())
	if err != nil || rep.Failed() != 0 {
		t.Fatal(err, rep.Tables[0].Err)
	}
	if got := s.MaxPostsPerMinute(); got > 120 || got < 100 {
		t.Errorf("max posts per minute = %d, want ≤120 (and near it)", got)
	}
	if s.MaxPending() > 5 || s.LimitRefusals() != 0 {
		t.Errorf("pending %d, refusals %d", s.MaxPending(), s.LimitRefusals())
	}
	if clock.Slept() < 3*time.Minute {
		t.Errorf("400 posts took %s of virtual time; at 120/min they need over 3 min", clock.Slept())
	}
}

// BenchmarkPush250k pushes 250,000 rows of a 7-column table to the stand-in
// on virtual time and reports POSTs made against the minimum (rows/10,000),
// the largest number of POSTs in any minute, and peak heap.
func BenchmarkPush250k(b *testing.B) {
	const n = 250000
	tbl := powerbi.Table{Name: "Contracts", Columns: []powerbi.Column{
		{Name: "ContractID", DataType: powerbi.String}, {Name: "ServiceArea", DataType: powerbi.String},
		{Name: "Supplier", DataType: powerbi.String}, {Name: "AnnualValue", DataType: powerbi.Double},
		{Name: "EndDate", DataType: powerbi.DateTime}, {Name: "DaysToNextMilestone", DataType: powerbi.Int64},
		{Name: "DBSRequired", DataType: powerbi.Boolean}}}
	src := func(ctx context.Context, emit func([]any) error) error {
		v := make([]any, 7)
		for i := range n {
			v[0], v[1], v[2], v[3], v[4], v[5], v[6] = fmt.Sprintf("C-%06d", i), "Adult Social Care", "Supplier Ltd",
				float64(i)*10.5, epoch.AddDate(0, 0, i%1000), i%365, i%3 == 0
			if err := emit(v); err != nil {
				return err
			}
		}
		return nil
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	var posts, perMinute int
	b.ReportAllocs()
	for b.Loop() {
		s, _, c := setup(b)
		s.KeepRows = false
		rep, err := c.Sync(context.Background(), group, "DS", []powerbi.Feed{{Table: tbl, Rows: src}}, powerbi.NewMemorySchemaStore())
		if err != nil || rep.Failed() != 0 || rep.Tables[0].Rows != n {
			b.Fatal(err, rep)
		}
		if s.LimitRefusals() != 0 {
			b.Fatalf("%d limit refusals", s.LimitRefusals())
		}
		posts, perMinute = int(c.Stats().PostRows), s.MaxPostsPerMinute()
		if perMinute > 120 {
			b.Fatalf("%d POSTs in one minute", perMinute)
		}
	}
	close(stop)
	b.ReportMetric(float64(posts), "posts/op")
	b.ReportMetric(float64((n+9999)/10000), "min-posts/op")
	b.ReportMetric(float64(perMinute), "max-posts/min")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}
