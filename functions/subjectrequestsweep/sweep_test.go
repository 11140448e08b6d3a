package subjectrequestsweep

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
	"github.com/council-ict/govkit/shared/testutil"
	"github.com/council-ict/govkit/shared/ukdates"
)

type recordingTransport struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (r *recordingTransport) Send(_ context.Context, ms []notify.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, ms...)
	return nil
}

func (r *recordingTransport) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, m := range r.msgs {
		ids = append(ids, m.ID)
	}
	r.msgs = nil
	return ids
}

func tables() sr.TableNames {
	return sr.TableNames{Requests: testutil.UniqueName("wreq"), People: testutil.UniqueName("wppl"),
		Events: testutil.UniqueName("wevt"), Idempotency: testutil.UniqueName("widm"), Counters: testutil.UniqueName("wcnt")}
}

func cfg() Config {
	return Config{Retention: Retention{Days: 30}, Reminders: sr.ReminderConfig{Offsets: []int{1, 2, 5, 10}, IGRoute: "igsg",
		DPORoute: "dpo", ServiceAreaPrefix: "sar-", ExtensionNoticeWarnDays: 2}}
}

func at(s string) time.Time {
	d, _ := ukdates.ParseDate(s)
	return time.Date(d.Year, d.Month, d.Day, 7, 30, 0, 0, time.UTC)
}

func TestSweepRemindersOnceCatchUpOverdueAndPurge(t *testing.T) {
	ctx := context.Background()
	svcSt, err := store.NewService(store.Config{ConnectionString: testutil.Azurite(t)})
	if err != nil {
		t.Fatal(err)
	}
	names := tables()
	st := sr.NewStore(svcSt, names)
	if err := st.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	now := at("2028-11-05")
	svc := sr.NewService(st, func() (*ukdates.Calendar, error) { return ukdates.NewCalendar("") }, func() time.Time { return now })
	ledger := testutil.UniqueName("wledger")
	if err := svcSt.EnsureTables(ctx, ledger); err != nil {
		t.Fatal(err)
	}
	tr := &recordingTransport{}
	h, err := New(cfg(), st, notify.NewOutbox(svcSt, ledger, tr))
	if err != nil {
		t.Fatal(err)
	}
	// Due Fri 1 Dec 2028.
	it := sr.Intake{Type: sr.Access, ReceivedOn: ukdates.Date{Year: 2028, Month: 11, Day: 1}, Channel: sr.ChannelEmail, ServiceArea: "Housing"}
	v, err := svc.Create(ctx, "SAR-2028-000001", it, sr.Person{}, "test", "")
	if err != nil || v.DueOn.String() != "2028-12-01" {
		t.Fatalf("%v %v", v.DueOn, err)
	}
	// A closed request with personal details, closed 5 Nov.
	if _, err := svc.Create(ctx, "SAR-2028-000002", it, sr.Person{Name: "A Person"}, "test", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Append(ctx, "SAR-2028-000002", sr.Event{Type: sr.EventCompleted, On: ukdates.Date{Year: 2028, Month: 11, Day: 5}}, "test", ""); err != nil {
		t.Fatal(err)
	}

	id := "sar:SAR-2028-000001:due:2028-12-01:"
	for _, step := range []struct {
		day    string
		want   []string
		purged int
	}{
		{"2028-11-20", nil, 0},
		{"2028-11-21", []string{id + "reminder:10:sar-housing", id + "reminder:10:igsg"}, 0},
		{"2028-11-21", nil, 0}, // second run the same day
		{"2028-11-22", nil, 0}, // still the 10-day rung
		// 23-28 Nov missed: catch up with the most urgent rung only.
		{"2028-11-29", []string{id + "reminder:2:sar-housing", id + "reminder:2:igsg"}, 0},
		{"2028-12-01", []string{id + "reminder:1:sar-housing", id + "reminder:1:igsg"}, 0},
		{"2028-12-02", []string{id + "overdue:dpo", id + "overdue:igsg", id + "overdue:sar-housing"}, 0},
		{"2028-12-03", nil, 0},
		{"2028-12-05", nil, 1}, // 30 days after closure on 5 Nov
		{"2028-12-06", nil, 0},
	} {
		rep, err := h.Run(ctx, at(step.day))
		if err != nil {
			t.Fatal(err)
		}
		got := tr.take()
		if fmt.Sprint(got) != fmt.Sprint(step.want) {
			t.Errorf("%s: sent %v, want %v", step.day, got, step.want)
		}
		if rep.Purge.Purged != step.purged || rep.OpenScanned != 1 || rep.TableQueries != 2 {
			t.Errorf("%s: report %+v", step.day, rep)
		}
	}
	if p, err := st.Person(ctx, "SAR-2028-000002"); err != nil || !p.IsZero() {
		t.Errorf("person not purged: %v", err)
	}
	g, err := svc.Get(ctx, "SAR-2028-000002", true)
	if err != nil || g.Person != nil || g.PersonPurgedOn.String() != "2028-12-05" || g.Status != sr.StatusCompleted || g.ChainVerified == nil || !*g.ChainVerified {
		t.Errorf("after purge: %+v %v", g, err)
	}
}

func TestParseRetention(t *testing.T) {
	for _, tc := range []struct {
		in, today, closedBy string
	}{{"6y", "2032-02-29", "2026-03-01"}, {"18m", "2026-08-31", "2025-03-03"}, {"30d", "2026-03-01", "2026-01-30"}} {
		r, err := ParseRetention(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		today, _ := ukdates.ParseDate(tc.today)
		if got := r.ClosedBy(today).String(); got != tc.closedBy {
			t.Errorf("%s on %s: %s, want %s", tc.in, tc.today, got, tc.closedBy)
		}
	}
	for _, bad := range []string{"", "6", "y", "6w", "-1y"} {
		if _, err := ParseRetention(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

type countingNotifier struct{ n int }

func (c *countingNotifier) Publish(_ context.Context, ns []notify.Notification) (notify.Stats, error) {
	c.n += len(ns)
	return notify.Stats{New: len(ns)}, nil
}

// BenchmarkSweep100k sweeps 100,000 open requests (SWEEP_BENCH_N to
// change), due dates spread over the next 90 days, and reports the time per
// sweep and table reads. Notifications go to a counter, so this measures
// the sweep, not the outbox.
func BenchmarkSweep100k(b *testing.B) {
	ctx := context.Background()
	svcSt, err := store.NewService(store.Config{ConnectionString: testutil.Azurite(b)})
	if err != nil {
		b.Fatal(err)
	}
	n := 100_000
	if s := os.Getenv("SWEEP_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	st := sr.NewStore(svcSt, tables())
	if err := st.Ensure(ctx); err != nil {
		b.Fatal(err)
	}
	today := ukdates.Date{Year: 2026, Month: 3, Day: 2}
	setup := time.Now()
	const chunk = 5000
	recs := make([]sr.Record, 0, chunk)
	for i := range n {
		due := today.AddDays(i%90 - 5)
		status := "open"
		if i%10 == 0 {
			status = "completed" // not swept
		}
		recs = append(recs, sr.Record{PartitionKey: "2026", RowKey: sr.FormatID(2026, i+1), Type: "access", Status: status,
			ServiceArea: "Housing", ServiceAreaKey: "housing", ReceivedOn: due.AddDays(-30).String(), DueOn: due.String(), EventCount: 1})
		if len(recs) == chunk || i == n-1 {
			if err := st.PutRecords(ctx, recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	b.Logf("set up %d requests with Batch in %s", n, time.Since(setup).Round(time.Millisecond))
	c := &countingNotifier{}
	h, err := New(cfg(), st, c)
	if err != nil {
		b.Fatal(err)
	}
	var rep Report
	b.ResetTimer()
	for b.Loop() {
		c.n = 0
		if rep, err = h.Run(ctx, time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rep.OpenScanned), "open-requests/op")
	b.ReportMetric(float64(rep.EntitiesRead), "entities-read/op")
	b.ReportMetric(float64((rep.OpenScanned+999)/1000+1), "min-query-pages/op")
	b.ReportMetric(float64(c.n), "notifications/op")
}
