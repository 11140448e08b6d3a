package subjectrequests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/ukdates"
)

// TableNames are the tables the package uses.
type TableNames struct {
	// Requests holds the tracking records (no personal data).
	Requests string
	// People holds personal details, purgeable after retention.
	People string
	// Events is the append-only event log.
	Events string
	// Idempotency remembers Idempotency-Key results.
	Idempotency string
	// Counters holds the per-year id counters.
	Counters string
}

// DefaultTables are the production table names.
var DefaultTables = TableNames{Requests: "subjectrequests", People: "subjectrequestpeople",
	Events: "subjectrequestevents", Idempotency: "subjectrequestidempotency", Counters: "subjectrequestcounters"}

type eventEntity struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Seq          int    `json:"Seq"`
	Type         string `json:"Type"`
	On           string `json:"On"`
	RecordedAt   string `json:"RecordedAt"`
	By           string `json:"By"`
	Reason       string `json:"Reason"`
	LegalBasis   string `json:"LegalBasis"`
	Intake       string `json:"Intake"` // JSON, created event only
	KeyHash      string `json:"KeyHash"`
	PrevHash     string `json:"PrevHash"`
	Hash         string `json:"Hash"`
}

// seqKey is the event row key: zero-padded so key order is event order.
func seqKey(seq int) string { return fmt.Sprintf("%010d", seq) }

func toEntity(e Event) (eventEntity, error) {
	ent := eventEntity{PartitionKey: e.RequestID, RowKey: seqKey(e.Seq), Seq: e.Seq, Type: string(e.Type), On: iso(e.On),
		RecordedAt: e.RecordedAt, By: e.By, Reason: e.Reason, LegalBasis: e.LegalBasis, KeyHash: e.KeyHash,
		PrevHash: e.PrevHash, Hash: e.Hash}
	if e.Intake != nil {
		b, err := json.Marshal(e.Intake)
		if err != nil {
			return ent, err
		}
		ent.Intake = string(b)
	}
	return ent, nil
}

func fromEntity(ent eventEntity) (Event, error) {
	e := Event{RequestID: ent.PartitionKey, Seq: ent.Seq, Type: EventType(ent.Type), On: day(ent.On), RecordedAt: ent.RecordedAt,
		By: ent.By, Reason: ent.Reason, LegalBasis: ent.LegalBasis, KeyHash: ent.KeyHash, PrevHash: ent.PrevHash, Hash: ent.Hash}
	if ent.Intake != "" {
		var it Intake
		if err := json.Unmarshal([]byte(ent.Intake), &it); err != nil {
			return e, fmt.Errorf("event %d intake: %w", ent.Seq, err)
		}
		e.Intake = &it
	}
	return e, nil
}

type personEntity struct {
	PartitionKey string `json:"PartitionKey"` // request id
	RowKey       string `json:"RowKey"`       // "person"
	Name         string `json:"Name"`
	Email        string `json:"Email"`
	Phone        string `json:"Phone"`
	Address      string `json:"Address"`
}

const personRow = "person"

type counterEntity struct {
	PartitionKey string `json:"PartitionKey"` // "counter"
	RowKey       string `json:"RowKey"`       // year
	Last         int    `json:"Last"`
}

// Idempotency is a remembered Idempotency-Key: partition = hash of
// (caller, method, path, key), row = "key".
type Idempotency struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	BodyHash     string `json:"BodyHash"`
	// State is "pending" until the result is stored, then "done".
	State     string `json:"State"`
	RequestID string `json:"RequestID"`
	Status    int    `json:"Status"`
	Body      string `json:"Body"`
	CreatedAt string `json:"CreatedAt"`
}

// Store is the package's tables. It is safe for concurrent use.
type Store struct {
	svc         *store.Service
	names       TableNames
	requests    *store.Table[Record]
	people      *store.Table[personEntity]
	events      *store.Table[eventEntity]
	idempotency *store.Table[Idempotency]
	counters    *store.Table[counterEntity]

	mu      sync.Mutex
	ensured bool
}

// NewStore returns the store over svc. It makes no call.
func NewStore(svc *store.Service, names TableNames) *Store {
	return &Store{svc: svc, names: names,
		requests:    store.NewTable[Record](svc, names.Requests),
		people:      store.NewTable[personEntity](svc, names.People),
		events:      store.NewTable[eventEntity](svc, names.Events),
		idempotency: store.NewTable[Idempotency](svc, names.Idempotency),
		counters:    store.NewTable[counterEntity](svc, names.Counters)}
}

// Ensure creates the tables once per process.
func (s *Store) Ensure(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ensured {
		return nil
	}
	n := s.names
	if err := s.svc.EnsureTables(ctx, n.Requests, n.People, n.Events, n.Idempotency, n.Counters); err != nil {
		return err
	}
	s.ensured = true
	return nil
}

// NextID allocates the next id of year (SAR-2026-000123) with an
// optimistic-concurrency counter. An allocated id whose create then fails
// leaves a gap in the numbering; the id is never reused.
func (s *Store) NextID(ctx context.Context, year int) (string, error) {
	yk := fmt.Sprintf("%04d", year)
	for range 20 {
		rec, err := s.counters.Get(ctx, "counter", yk)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if _, err := s.counters.Insert(ctx, counterEntity{PartitionKey: "counter", RowKey: yk, Last: 1}); err == nil {
				return FormatID(year, 1), nil
			} else if !errors.Is(err, store.ErrConflict) {
				return "", err
			}
		case err != nil:
			return "", err
		default:
			c := rec.Value
			c.Last++
			if _, err := s.counters.Update(ctx, c, rec.ETag); err == nil {
				return FormatID(year, c.Last), nil
			} else if !errors.Is(err, store.ErrPreconditionFailed) {
				return "", err
			}
		}
	}
	return "", errors.New("subjectrequests: id counter is too contended; try again")
}

// Events reads a request's log in sequence order.
func (s *Store) Events(ctx context.Context, id string) ([]Event, error) {
	var out []Event
	err := s.events.Query(ctx, store.PartitionFilter(id), func(r store.Record[eventEntity]) error {
		e, err := fromEntity(r.Value)
		if err != nil {
			return fmt.Errorf("subjectrequests: %s: %w", id, err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// appendEvent inserts e; an existing event with its sequence number is
// store.ErrConflict (a concurrent writer won).
func (s *Store) appendEvent(ctx context.Context, e Event) error {
	ent, err := toEntity(e)
	if err != nil {
		return err
	}
	_, err = s.events.Insert(ctx, ent)
	return err
}

// Record reads a tracking record.
func (s *Store) Record(ctx context.Context, id string) (store.Record[Record], error) {
	pk, ok := ParseID(id)
	if !ok {
		return store.Record[Record]{}, store.ErrNotFound
	}
	return s.requests.Get(ctx, pk, id)
}

// PutRecords upserts records in as few transactions as possible (bulk
// loads, benchmarks).
func (s *Store) PutRecords(ctx context.Context, recs []Record) error {
	ops := make([]store.Op[Record], len(recs))
	for i, r := range recs {
		ops[i] = store.Op[Record]{Kind: store.OpUpsert, Value: r}
	}
	_, err := s.requests.Batch(ctx, ops)
	return err
}

// writeRecord writes r if etag is the stored version ("" with !exists:
// insert). A lost race is store.ErrPreconditionFailed or ErrConflict.
func (s *Store) writeRecord(ctx context.Context, r Record, etag azcore.ETag, exists bool) error {
	if !exists {
		_, err := s.requests.Insert(ctx, r)
		return err
	}
	_, err := s.requests.Update(ctx, r, etag)
	return err
}

// QueryRecords streams the tracking records matching filter.
func (s *Store) QueryRecords(ctx context.Context, filter string, fn func(store.Record[Record]) error) error {
	return s.requests.Query(ctx, filter, fn)
}

// OpenFilter selects requests whose clock is running or stopped.
var OpenFilter = "Status eq " + store.Quote(string(StatusOpen)) + " or Status eq " + store.Quote(string(StatusPaused))

// Person reads a request's personal details (zero when none).
func (s *Store) Person(ctx context.Context, id string) (Person, error) {
	r, err := s.people.Get(ctx, id, personRow)
	if errors.Is(err, store.ErrNotFound) {
		return Person{}, nil
	}
	if err != nil {
		return Person{}, err
	}
	v := r.Value
	return Person{Name: v.Name, Email: v.Email, Phone: v.Phone, Address: v.Address}, nil
}

func (s *Store) putPerson(ctx context.Context, id string, p Person) error {
	_, err := s.people.Upsert(ctx, personEntity{PartitionKey: id, RowKey: personRow, Name: p.Name, Email: p.Email, Phone: p.Phone, Address: p.Address})
	return err
}

// PurgeStats counts a retention purge.
type PurgeStats struct {
	Examined int `json:"examined"`
	Purged   int `json:"purged"`
	Skipped  int `json:"skipped"`
}

// PurgePeople deletes the personal details of requests closed on or
// before closedBy and marks their records purged on today. A record
// changed meanwhile is skipped and picked up next run.
func (s *Store) PurgePeople(ctx context.Context, closedBy, today ukdates.Date) (PurgeStats, error) {
	var st PurgeStats
	filter := "HasPerson eq true and ClosedOn ne '' and ClosedOn le " + store.Quote(closedBy.String())
	err := s.requests.Query(ctx, filter, func(r store.Record[Record]) error {
		st.Examined++
		if err := s.people.Delete(ctx, r.Value.RowKey, personRow, ""); err != nil {
			return err
		}
		rec := r.Value
		rec.HasPerson, rec.PersonPurgedOn = false, today.String()
		if _, err := s.requests.Update(ctx, rec, r.ETag); err != nil {
			if errors.Is(err, store.ErrPreconditionFailed) {
				st.Skipped++
				return nil
			}
			return err
		}
		st.Purged++
		return nil
	})
	return st, err
}

// Idempotency reads a remembered key (store.ErrNotFound when new).
func (s *Store) Idempotency(ctx context.Context, keyHash string) (store.Record[Idempotency], error) {
	return s.idempotency.Get(ctx, keyHash, "key")
}

// InsertIdempotency claims a key; store.ErrConflict when it exists.
func (s *Store) InsertIdempotency(ctx context.Context, v Idempotency) error {
	v.RowKey = "key"
	_, err := s.idempotency.Insert(ctx, v)
	return err
}

// UpdateIdempotency stores the result for a key.
func (s *Store) UpdateIdempotency(ctx context.Context, v Idempotency) error {
	v.RowKey = "key"
	_, err := s.idempotency.Upsert(ctx, v)
	return err
}
