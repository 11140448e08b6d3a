package sharepoint_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/sharepoint"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
)

const (
	site = "contoso.sharepoint.com,11111111-1111-1111-1111-111111111111,22222222-2222-2222-2222-222222222222"
	list = "5c77031a-9621-4dfc-bb5d-57803a94e91d"
)

type notes struct {
	mu  sync.Mutex
	got []notify.Notification
	// fail is how many Publish calls fail before one succeeds.
	fail int
}

func (n *notes) Publish(_ context.Context, ns []notify.Notification) (notify.Stats, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail > 0 {
		n.fail--
		return notify.Stats{}, errors.New("transport down")
	}
	n.got = append(n.got, ns...)
	return notify.Stats{}, nil
}

type fixture struct {
	lists  *graphtest.Lists
	engine *sharepoint.Engine
	reg    *contracts.Register
	list   sharepoint.List
	notes  *notes
	svc    *store.Service
}

func newFixture(t *testing.T, pageSize int) *fixture {
	t.Helper()
	svc, err := store.NewService(store.Config{ConnectionString: testutil.Azurite(t)})
	if err != nil {
		t.Fatal(err)
	}
	ls := graphtest.NewLists(pageSize)
	t.Cleanup(ls.Close)
	c, err := graph.New(graph.Config{BaseURL: ls.BaseURL(), Credential: graph.StaticToken("t"),
		Policy: graph.Policy{MaxAttempts: 3, MaxWait: 2 * time.Second, Backoff: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	reg := contracts.NewRegister(svc, testutil.UniqueName("spcontracts"))
	n := &notes{}
	lists, errs := sharepoint.ParseLists(`[{"name":"` + testutil.UniqueName("contracts") + `","kind":"contracts","siteId":"` + site +
		`","listId":"` + list + `","ownerRoute":"procurement"}]`)
	if errs != nil {
		t.Fatal(errs)
	}
	e := sharepoint.NewEngine(c, svc, map[sharepoint.Kind]sharepoint.Applier{sharepoint.KindContracts: sharepoint.ContractsApplier{Register: reg}}, n)
	return &fixture{lists: ls, engine: e, reg: reg, list: lists[0], notes: n, svc: svc}
}

func contractItem(id, title string) graphtest.ListItem {
	return graphtest.ListItem{ID: id, CreatedBy: "user-1", Fields: map[string]any{
		"ContractId": "C-" + id, "Title": title, "Supplier": "Acme Ltd", "ServiceArea": "ICT", "ContractOwner": "owner@council.gov.uk",
		"NotifyRoute": "ict-contracts", "StartDate": "2025-03-31T23:00:00Z", "EndDate": "2027-03-30T23:00:00Z",
		"NoticePeriod": "P3M", "RenewalType": "none", "AnnualValue": 12000.0, "DBSRequired": false, "ContractStatus": "active",
	}}
}

func (f *fixture) mark(t *testing.T) string {
	t.Helper()
	rec, err := store.NewTable[sharepoint.Watermark](f.svc, sharepoint.WatermarkTable).Get(context.Background(), "list", f.list.Name)
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return rec.Value.DeltaLink
}

func TestSyncPagesAppliesAndRecordsBadItem(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	for _, id := range []string{"1", "2", "4", "5"} {
		f.lists.Put(site, list, contractItem(id, "Contract "+id))
	}
	bad := contractItem("3", "Broken")
	bad.Fields["AnnualValue"] = "lots"
	bad.Fields["EndDate"] = "not a date"
	f.lists.Put(site, list, bad)

	res, err := f.engine.Sync(ctx, f.list)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 3 || res.Items != 5 || res.Changed != 4 || res.Errors != 1 {
		t.Fatalf("result = %+v", res)
	}
	for _, id := range []string{"C-1", "C-2", "C-4", "C-5"} {
		c, err := f.reg.Get(ctx, id)
		if err != nil || c.Supplier != "Acme Ltd" || c.StartDate.String() != "2025-04-01" || c.AnnualValue != 12000 {
			t.Fatalf("%s = %+v, %v", id, c, err)
		}
	}
	ie, err := store.NewTable[sharepoint.ItemError](f.svc, sharepoint.ItemErrorTable).Get(ctx, f.list.Name, "3")
	if err != nil || ie.Value.Columns != "AnnualValue,EndDate" {
		t.Fatalf("item error = %+v, %v", ie.Value, err)
	}
	if len(f.notes.got) != 1 || f.notes.got[0].Route != "procurement" || !strings.HasPrefix(f.notes.got[0].ID, "sharepoint:"+f.list.Name+":3:") {
		t.Fatalf("notifications = %+v", f.notes.got)
	}
	if f.mark(t) == "" {
		t.Fatal("delta link not stored")
	}
	// Fixed in SharePoint: applied, error cleared; same version again: nothing.
	f.lists.Put(site, list, contractItem("3", "Fixed"))
	if res, err = f.engine.Sync(ctx, f.list); err != nil || res.Changed != 1 || res.Items != 1 {
		t.Fatalf("second sync = %+v, %v", res, err)
	}
	if _, err := store.NewTable[sharepoint.ItemError](f.svc, sharepoint.ItemErrorTable).Get(ctx, f.list.Name, "3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("item error not cleared: %v", err)
	}
	if len(f.notes.got) != 1 {
		t.Fatalf("renotified: %d", len(f.notes.got))
	}
}

func TestSyncStoresDeltaLinkOnlyAfterAllPages(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	f.lists.Put(site, list, contractItem("1", "One"))
	f.lists.Put(site, list, contractItem("2", "Two"))
	f.lists.Inject(graphtest.Fault{Where: "delta", Status: 500, After: 1, Times: 1})
	if _, err := f.engine.Sync(ctx, f.list); err == nil {
		t.Fatal("a 500 on page 2 must fail the sync (redelivery)")
	}
	if f.mark(t) != "" {
		t.Fatal("delta link stored although a page failed")
	}
	res, err := f.engine.Sync(ctx, f.list)
	if err != nil || res.Changed != 1 || res.Unchanged != 1 || f.mark(t) == "" {
		t.Fatalf("retry = %+v, %v (item 1 must be skipped as already applied)", res, err)
	}
}

func TestSyncHonoursRetryAfterAndResyncsOnGone(t *testing.T) {
	f := newFixture(t, 10)
	ctx := context.Background()
	f.lists.Put(site, list, contractItem("1", "One"))
	f.lists.Inject(graphtest.Fault{Where: "delta", Status: 429, RetryAfter: "0.05"})
	start := time.Now()
	if _, err := f.engine.Sync(ctx, f.list); err != nil || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("429: %v after %v", err, time.Since(start))
	}
	first := f.mark(t)
	f.lists.ExpireDeltaTokens()
	f.lists.Put(site, list, contractItem("2", "Two"))
	res, err := f.engine.Sync(ctx, f.list)
	if err != nil || !res.Resynced || res.Changed != 1 || res.Unchanged != 1 {
		t.Fatalf("resync = %+v, %v", res, err)
	}
	if m := f.mark(t); m == "" || m == first {
		t.Fatal("new delta link not stored after resync")
	}
}

func TestReplayedSyncChangesRegisterOnce(t *testing.T) {
	f := newFixture(t, 10)
	ctx := context.Background()
	f.lists.Put(site, list, contractItem("1", "One"))
	var stamps []string
	for range 10 {
		if _, err := f.engine.Sync(ctx, f.list); err != nil {
			t.Fatal(err)
		}
		c, err := f.reg.Get(ctx, "C-1")
		if err != nil {
			t.Fatal(err)
		}
		stamps = append(stamps, c.ETag)
	}
	for _, s := range stamps[1:] {
		if s != stamps[0] {
			t.Fatalf("register entry changed on a replay: %v", stamps)
		}
	}
}

// A failed report of an unmappable item fails the sync (so the message is
// redelivered) and is made on the retry: it is never marked reported before
// it was.
func TestItemErrorReportSurvivesFailedPublish(t *testing.T) {
	f := newFixture(t, 10)
	ctx := context.Background()
	f.lists.Put(site, list, contractItem("1", "Good"))
	bad := contractItem("2", "Broken")
	bad.Fields["EndDate"] = "soon"
	f.lists.Put(site, list, bad)
	f.notes.fail = 1
	if _, err := f.engine.Sync(ctx, f.list); err == nil {
		t.Fatal("sync with a failing notifier succeeded")
	}
	if f.mark(t) != "" {
		t.Fatal("delta link stored although the report failed")
	}
	for run := 0; run < 3; run++ {
		res, err := f.engine.Sync(ctx, f.list)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if run == 0 && res.Errors != 1 {
			t.Fatalf("retry result = %+v", res)
		}
	}
	if len(f.notes.got) != 1 || !strings.HasPrefix(f.notes.got[0].ID, "sharepoint:"+f.list.Name+":2:") {
		t.Fatalf("reports = %+v, want the broken item once", f.notes.got)
	}
	if _, err := f.reg.Get(ctx, "C-1"); err != nil {
		t.Fatalf("good item: %v", err)
	}
}
