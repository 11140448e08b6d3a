package teamsnotify

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/teams"
	"github.com/council-ict/govkit/shared/teams/teamstest"
	"github.com/council-ict/govkit/shared/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files")

func digest(items int) notify.Notification {
	n := notify.Notification{ID: "contracts:digest:ict-champions-housing:2026-12-03:0a1b2c3d4e5f", Source: "ContractExpiryAlerts",
		Route: "ict-champions-housing", Severity: notify.SeverityUrgent, Title: "Contract register: 2 alerts",
		Summary:   "Contracts with milestones coming up or passed.",
		CreatedAt: time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)}
	for i := range items {
		n.Items = append(n.Items, notify.Item{
			Title:    fmt.Sprintf("C-%03d: supplier notice deadline in 30 days", i),
			Severity: notify.SeverityWarning,
			Facts: []notify.Fact{
				{Title: "Contract", Value: fmt.Sprintf("C-%03d – Managed print *Phase 2*", i)},
				{Title: "Supplier", Value: "Acme Print Ltd"},
				{Title: "Date", Value: "28 February 2027"},
				{Title: "Days left", Value: "30"},
				{Title: "Annual value", Value: "£48,250.50"},
				{Title: "Owner", Value: "jo.bloggs@council.example"},
				{Title: "Notes", Value: strings.Repeat("Long free text that pads the card. ", 8)},
			},
			Link: &notify.Link{Title: "Open register entry", URL: fmt.Sprintf("https://govkit.example.gov.uk/api/contracts/C-%03d", i)},
		})
	}
	return n
}

func golden(t *testing.T, name string, m teams.Message) {
	t.Helper()
	b, err := teams.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	var pretty map[string]any
	_ = json.Unmarshal(b, &pretty)
	got, _ := json.MarshalIndent(pretty, "", "  ")
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from golden file; run go test ./functions/teamsnotify -update and review the diff\n%s", name, got)
	}
}

func TestRenderGolden(t *testing.T) {
	parts, err := Render(digest(2), 0)
	if err != nil || len(parts) != 1 || parts[0].Key != "card" {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	golden(t, "digest-2-items", parts[0].Message)

	single := notify.Notification{ID: "sar:S-1:reminder:5", Source: "SubjectRequestSweep", Route: "igsg",
		Severity: notify.SeverityWarning, Title: "Subject request due in 5 days", Summary: "Reply by 8 December 2026.",
		Links: []notify.Link{{Title: "Open", URL: "https://govkit.example.gov.uk/api/subject-requests/S-1"}}}
	parts, err = Render(single, 0)
	if err != nil || len(parts) != 1 {
		t.Fatal(err)
	}
	golden(t, "single-alert", parts[0].Message)
}

func TestRenderSplitsLargeDigest(t *testing.T) {
	parts, err := Render(digest(60), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 2 {
		t.Fatalf("%d parts", len(parts))
	}
	items := 0
	for i, p := range parts {
		b, _ := teams.Encode(p.Message)
		if len(b) > teams.DefaultMaxBytes {
			t.Errorf("part %d is %d bytes", i+1, len(b))
		}
		if want := fmt.Sprintf("part-%d-of-%d", i+1, len(parts)); p.Key != want {
			t.Errorf("key %s, want %s", p.Key, want)
		}
		raw, _ := json.Marshal(p.Message)
		if !strings.Contains(string(raw), fmt.Sprintf("(part %d of %d)", i+1, len(parts))) {
			t.Errorf("part %d has no part label", i+1)
		}
		items += strings.Count(string(raw), "Open register entry")
	}
	if items != 60 {
		t.Errorf("%d items over all parts, want 60", items)
	}
}

type memLedger struct {
	mu sync.Mutex
	m  map[string]Delivery
}

func (l *memLedger) Get(_ context.Context, id, part string) (Delivery, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.m[id+"/"+part]
	return d, ok, nil
}

func (l *memLedger) Put(_ context.Context, d Delivery) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[d.PartitionKey+"/"+d.RowKey] = d
	return nil
}

type memBlobs struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (b *memBlobs) PutBlob(_ context.Context, container, name string, body []byte, _ string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[container+"/"+name] = body
	return nil
}

func newHandler(t *testing.T, routes teams.Routes, l Ledger, blobs BlobWriter) (*Handler, *[]time.Duration) {
	t.Helper()
	h, err := New(Config{Routes: routes}, l, teams.New(nil), blobs)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var waits []time.Duration
	clock := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	h.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	h.sleep = func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		if d > 0 {
			waits = append(waits, d)
			clock = clock.Add(d)
		}
		return nil
	}
	return h, &waits
}

func message(t *testing.T, n notify.Notification) funcapp.Invocation {
	t.Helper()
	body, _ := json.Marshal(n)
	return rawMessage(t, string(body))
}

func rawMessage(t *testing.T, body string) funcapp.Invocation {
	t.Helper()
	b, _ := json.Marshal(body)
	inv, err := funcapp.DecodeInvocation("TeamsNotify", "inv-1", []byte(`{"Data":{"msg":`+string(b)+`},"Metadata":{"MessageId":"\"m-1\"","DeliveryCount":"1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestWebhookOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		script    []teamstest.Response
		wantErr   bool
		status    string
		code      int
		waits     []time.Duration
		requests  int
		permanent bool
	}{
		{name: "202", status: StatusDelivered, code: 202, requests: 1},
		{name: "400 permanent, recorded", script: []teamstest.Response{teamstest.SchemaMismatch("bad")}, status: StatusFailed, code: 400, requests: 1},
		{name: "429 fractional Retry-After then 202", script: []teamstest.Response{teamstest.Throttled("1.5")},
			status: StatusDelivered, code: 202, waits: []time.Duration{1500 * time.Millisecond}, requests: 2},
		{name: "500 then 202", script: []teamstest.Response{teamstest.ServerError()}, status: StatusDelivered, code: 202,
			waits: []time.Duration{time.Second}, requests: 2},
		{name: "429 forever: error for redelivery", script: []teamstest.Response{teamstest.Throttled("120"), teamstest.Throttled("120"),
			teamstest.Throttled("120"), teamstest.Throttled("120")}, wantErr: true, requests: 4,
			waits: []time.Duration{30 * time.Second, 30 * time.Second, 30 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := teamstest.NewServer(t)
			srv.Enqueue(tc.script...)
			routes, err := teams.NewRoutes(map[string]string{"ict-champions-housing": srv.URL()})
			if err != nil {
				t.Fatal(err)
			}
			l := &memLedger{m: map[string]Delivery{}}
			h, waits := newHandler(t, routes, l, &memBlobs{m: map[string][]byte{}})
			n := digest(2)
			_, err = h.Invoke(context.Background(), message(t, n))
			if (err != nil) != tc.wantErr || funcapp.IsPermanent(err) {
				t.Fatalf("err = %v", err)
			}
			if err != nil && strings.Contains(err.Error(), teamstest.Signature) {
				t.Error("the webhook signature leaked into an error")
			}
			if got := len(srv.Requests()); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			if fmt.Sprint(*waits) != fmt.Sprint(tc.waits) {
				t.Errorf("waits %v, want %v", *waits, tc.waits)
			}
			d, ok, _ := l.Get(context.Background(), n.ID, "card")
			if tc.status == "" {
				if ok {
					t.Errorf("recorded %+v on a retryable failure", d)
				}
				return
			}
			if d.Status != tc.status || d.StatusCode != tc.code {
				t.Errorf("ledger %+v", d)
			}
			// Redelivery is a no-op.
			before := len(srv.Requests())
			if _, err := h.Invoke(context.Background(), message(t, n)); err != nil {
				t.Fatal(err)
			}
			if len(srv.Requests()) != before {
				t.Error("a delivered notification was sent again")
			}
		})
	}
}

func TestMalformedIsPermanent(t *testing.T) {
	h, _ := newHandler(t, teams.Routes{}, &memLedger{m: map[string]Delivery{}}, &memBlobs{m: map[string][]byte{}})
	for _, body := range []string{"not json", `{"id":"x"}`} {
		_, err := h.Invoke(context.Background(), rawMessage(t, body))
		if !funcapp.IsPermanent(err) {
			t.Errorf("%q: %v", body, err)
		}
	}
}

func TestPacing(t *testing.T) {
	h, waits := newHandler(t, teams.Routes{}, &memLedger{m: map[string]Delivery{}}, &memBlobs{m: map[string][]byte{}})
	h.sleep = func(_ context.Context, d time.Duration) error { // the clock stands still
		*waits = append(*waits, d)
		return nil
	}
	now := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return now }
	for range 3 {
		_ = h.pace(context.Background(), "r")
	}
	if fmt.Sprint(*waits) != "[0s 250ms 500ms]" {
		t.Errorf("waits %v", *waits)
	}
}

// TestOutboxAzurite: no webhook → the card lands in blob teams-outbox, the
// delivery is recorded in Tables, and a redelivery writes nothing new.
func TestOutboxAzurite(t *testing.T) {
	conn := testutil.Azurite(t)
	ctx := context.Background()
	svc, err := store.NewService(store.Config{ConnectionString: conn})
	if err != nil {
		t.Fatal(err)
	}
	table := testutil.UniqueName("deliveries")
	if err := svc.EnsureTables(ctx, table); err != nil {
		t.Fatal(err)
	}
	blobs := &memBlobs{m: map[string][]byte{}}
	h, _ := newHandler(t, teams.Routes{}, NewTableLedger(svc, table), blobs)
	n := digest(60)
	for range 2 {
		if _, err := h.Invoke(ctx, message(t, n)); err != nil {
			t.Fatal(err)
		}
	}
	if len(blobs.m) < 2 {
		t.Fatalf("blobs %d", len(blobs.m))
	}
	for name := range blobs.m {
		if !strings.HasPrefix(name, "teams-outbox/ict-champions-housing/"+n.ID+".part-") {
			t.Errorf("blob %s", name)
		}
	}
	d, ok, err := NewTableLedger(svc, table).Get(ctx, n.ID, "part-1-of-"+fmt.Sprint(len(blobs.m)))
	if err != nil || !ok || d.Status != StatusOutbox {
		t.Errorf("ledger %+v %v %v", d, ok, err)
	}
	_ = errors.New
}
