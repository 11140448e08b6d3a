package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/council-ict/govkit/shared/store"
)

// LedgerTable is the default name of the outbox ledger table.
const LedgerTable = "notificationledger"

// Ledger states.
const (
	statePending  = "pending"
	stateHandedOn = "handed-on"
)

// ledgerEntry is one notification in the ledger: partition = source,
// row = notification ID.
type ledgerEntry struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	State        string `json:"state"`
	Route        string `json:"route"`
	Severity     string `json:"severity"`
	Body         string `json:"body"`
	CreatedAt    string `json:"createdAt"`
	HandedOnAt   string `json:"handedOnAt,omitempty"`
}

// Outbox records notifications before handing them on, so each is handed
// on at least once and recorded exactly once.
type Outbox struct {
	svc       *store.Service
	ledger    *store.Table[ledgerEntry]
	transport Transport
	now       func() time.Time
	mu        sync.Mutex
	ensured   bool
}

// NewOutbox returns an outbox with its ledger in table (LedgerTable when
// empty) on svc, handing on through t.
func NewOutbox(svc *store.Service, table string, t Transport) *Outbox {
	if table == "" {
		table = LedgerTable
	}
	return &Outbox{svc: svc, ledger: store.NewTable[ledgerEntry](svc, table), transport: t, now: time.Now}
}

// ensure creates the ledger table on first use, so that no caller has to
// remember it (a fresh storage account has no tables).
func (o *Outbox) ensure(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ensured {
		return nil
	}
	if err := o.svc.EnsureTables(ctx, o.ledger.Name()); err != nil {
		return fmt.Errorf("create the notification ledger table: %w", err)
	}
	o.ensured = true
	return nil
}

// Stats counts what a Publish did.
type Stats struct {
	// New is notifications recorded for the first time.
	New int
	// Duplicates were already handed on by an earlier run and were skipped.
	Duplicates int
	// Resent were pending from an earlier, interrupted run and were handed on now.
	Resent int
	// HandedOn is messages given to the transport.
	HandedOn int
}

// Publish records each notification that is not in the ledger yet, hands
// on every one not yet handed on (including any left pending by an
// interrupted earlier run of the same sources), and marks them handed on.
// Calling it again with the same notifications does nothing new.
func (o *Outbox) Publish(ctx context.Context, ns []Notification) (Stats, error) {
	var st Stats
	if len(ns) == 0 {
		return st, nil
	}
	if err := o.ensure(ctx); err != nil {
		return st, err
	}
	var toSend []ledgerEntry
	sources := map[string]bool{}
	for _, n := range ns {
		if err := n.Validate(); err != nil {
			return st, err
		}
		sources[n.Source] = true
		if n.CreatedAt.IsZero() {
			n.CreatedAt = o.now().UTC()
		}
		body, err := json.Marshal(n)
		if err != nil {
			return st, fmt.Errorf("encode notification %s: %w", n.ID, err)
		}
		e := ledgerEntry{PartitionKey: n.Source, RowKey: n.ID, State: statePending, Route: n.Route,
			Severity: n.Severity, Body: string(body), CreatedAt: n.CreatedAt.UTC().Format(time.RFC3339)}
		_, err = o.ledger.Insert(ctx, e)
		switch {
		case err == nil:
			st.New++
			toSend = append(toSend, e)
		case errors.Is(err, store.ErrConflict):
			// Already recorded: handed on already, or picked up below as pending.
		default:
			return st, fmt.Errorf("record notification %s: %w", n.ID, err)
		}
	}
	// Anything pending for these sources: this run's new ones and any an
	// interrupted run left behind.
	seen := map[string]bool{}
	for _, e := range toSend {
		seen[e.PartitionKey+"\x00"+e.RowKey] = true
	}
	for src := range sources {
		filter := store.PartitionFilter(src) + " and state eq " + store.Quote(statePending)
		err := o.ledger.Query(ctx, filter, func(r store.Record[ledgerEntry]) error {
			if !seen[r.Value.PartitionKey+"\x00"+r.Value.RowKey] {
				toSend = append(toSend, r.Value)
				st.Resent++
			}
			return nil
		})
		if err != nil {
			return st, fmt.Errorf("read pending notifications: %w", err)
		}
	}
	st.Duplicates = len(ns) - st.New
	if len(toSend) == 0 {
		return st, nil
	}
	msgs := make([]Message, len(toSend))
	for i, e := range toSend {
		msgs[i] = Message{ID: e.RowKey, Body: []byte(e.Body)}
	}
	if err := o.transport.Send(ctx, msgs); err != nil {
		return st, fmt.Errorf("hand on %d notifications (they stay pending and are resent next run): %w", len(msgs), err)
	}
	st.HandedOn = len(msgs)
	now := o.now().UTC().Format(time.RFC3339)
	ops := make([]store.Op[ledgerEntry], len(toSend))
	for i, e := range toSend {
		e.State, e.HandedOnAt = stateHandedOn, now
		ops[i] = store.Op[ledgerEntry]{Kind: store.OpUpsert, Value: e}
	}
	if _, err := o.ledger.Batch(ctx, ops); err != nil {
		// The messages went; marking failed. They will be handed on again
		// next run, and TeamsNotify's delivery ledger drops the repeat.
		return st, fmt.Errorf("mark notifications handed on: %w", err)
	}
	return st, nil
}

// Decode parses a notification from a queue message body and validates it.
func Decode(body []byte) (Notification, error) {
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return n, fmt.Errorf("notification is not JSON: %w", err)
	}
	return n, n.Validate()
}
