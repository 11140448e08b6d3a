package contractexpiryalerts

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/ukdates"
)

type source []contracts.Contract

func (s source) List(_ context.Context, _ string, fn func(contracts.Stored) error) error {
	for _, c := range s {
		if err := fn(contracts.Stored{Contract: c}); err != nil {
			return err
		}
	}
	return nil
}

type ledger struct {
	mu sync.Mutex
	m  map[string]contracts.Claim
}

func (l *ledger) Live(_ context.Context, today ukdates.Date) (map[string]contracts.Claim, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]contracts.Claim{}
	for k, c := range l.m {
		if c.Expires > today.String() {
			out[k] = c
		}
	}
	return out, nil
}

func (l *ledger) Put(_ context.Context, cs []contracts.Claim) (store.BatchStats, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range cs {
		l.m[c.RowKey] = c
	}
	return store.BatchStats{Transactions: 1, Entities: len(cs)}, nil
}

// outbox behaves as notify.Outbox does: an ID is handed on once.
type outbox struct {
	fail  error
	seen  map[string]bool
	sent  []notify.Notification
	calls int
}

func (o *outbox) Publish(_ context.Context, ns []notify.Notification) (notify.Stats, error) {
	o.calls++
	if o.fail != nil {
		return notify.Stats{}, o.fail
	}
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
		st.HandedOn++
	}
	return st, nil
}

func fixture() contracts.Contract {
	return contracts.Contract{ID: "C-104", Title: "Managed print", Supplier: "Acme", ServiceArea: "Housing",
		Owner: "jo@council.example", Route: "ict-champions-housing", EscalationRoute: "tier2-housing",
		StartDate: ukdates.Date{Year: 2024, Month: 6, Day: 1}, EndDate: ukdates.Date{Year: 2027, Month: 5, Day: 31},
		NoticePeriod: contracts.Period{Months: 3}, InternalLeadTime: contracts.Period{Days: 90},
		RenewalType: contracts.RenewalNone, Status: contracts.StatusActive, AnnualValue: 1000}
}

func TestRunExactlyOnceAndCrashRecovery(t *testing.T) {
	ctx := context.Background()
	l := &ledger{m: map[string]contracts.Claim{}}
	o := &outbox{seen: map[string]bool{}}
	src := source{fixture()}
	h, err := New(Config{Policy: contracts.DefaultPolicy()}, src, l, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 10, 7, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return day }

	// A crash after claiming, before the Outbox took the digests.
	o.fail = errors.New("service bus down")
	if _, err := h.Run(ctx); err == nil {
		t.Fatal("want error")
	}
	o.fail = nil
	// Meanwhile another contract fell due: it gets its own digest, the
	// pending ones are re-published under their recorded IDs.
	c2 := fixture()
	c2.ID = "C-200"
	h.source = source{fixture(), c2}
	rep, err := h.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Recovered != 2 || rep.New != 3 || rep.Outbox.HandedOn != 4 {
		t.Errorf("recovery run %+v", rep)
	}
	seen := map[string]int{}
	for _, n := range o.sent {
		for _, it := range n.Items {
			for _, f := range it.Facts {
				if f.Title == "Ref" {
					seen[f.Value]++
				}
			}
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s sent %d times", id, n)
		}
	}
	if len(seen) != 6 {
		t.Errorf("%d distinct alerts sent, want 6: %v", len(seen), seen)
	}
	// Re-run the same day: nothing new.
	rep, err = h.Run(ctx)
	if err != nil || rep.New != 0 || rep.AlreadySent != 6 || rep.Outbox.HandedOn != 0 {
		t.Errorf("re-run %+v %v", rep, err)
	}
	// A week later the next rung of the decision date falls due (14 days).
	day = day.AddDate(0, 0, 7)
	rep, err = h.Run(ctx)
	if err != nil || rep.New != 4 { // decision 14 + escalation 14 for each contract
		t.Errorf("next week %+v %v", rep, err)
	}
}
