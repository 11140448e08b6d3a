package subjectrequests

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/ukdates"
)

// Errors the service returns besides field and transition errors.
var (
	// ErrNotFound: no such request.
	ErrNotFound = errors.New("subjectrequests: no such request")
	// ErrChainBroken: the request's audit trail does not verify, so no
	// event is appended until someone investigates.
	ErrChainBroken = errors.New("subjectrequests: the audit trail does not verify")
	// ErrBusy: concurrent writers kept winning; the caller may retry.
	ErrBusy = errors.New("subjectrequests: the request is being changed by someone else; try again")
)

// Service creates, changes and reads requests. It is safe for concurrent use.
type Service struct {
	st  *Store
	cal func() (*ukdates.Calendar, error)
	now func() time.Time
}

// NewService returns the service over st, with calendar cal and clock now
// (time.Now when nil).
func NewService(st *Store, cal func() (*ukdates.Calendar, error), now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, cal: cal, now: now}
}

// Store returns the service's store.
func (s *Service) Store() *Store { return s.st }

// Today is the UK date now.
func (s *Service) Today() ukdates.Date { return ukdates.LondonDate(s.now()) }

func (s *Service) stamp() string { return s.now().UTC().Format(time.RFC3339Nano) }

// NewID allocates an id for a request created today.
func (s *Service) NewID(ctx context.Context) (string, error) {
	return s.st.NextID(ctx, s.Today().Year)
}

// Create writes request id with intake it (already validated) and optional
// personal details. It is idempotent for the same id and intake, so a
// create interrupted after the first event resumes. Order: event 1 (the
// truth), personal details, then the tracking record.
func (s *Service) Create(ctx context.Context, id string, it Intake, p Person, by, keyHash string) (View, error) {
	cal, err := s.cal()
	if err != nil {
		return View{}, err
	}
	e := Event{RequestID: id, Seq: 1, Type: EventCreated, On: it.ReceivedOn, RecordedAt: s.stamp(), By: by, Intake: &it, KeyHash: keyHash}
	e.Seal(nil)
	// Check the deadline before writing anything (e.g. data not covered).
	st, err := Replay([]Event{e})
	if err != nil {
		return View{}, err
	}
	if _, err := NewView(st, cal, s.Today()); err != nil {
		return View{}, err
	}
	if err := s.st.appendEvent(ctx, e); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			return View{}, err
		}
		existing, err := s.st.Events(ctx, id)
		if err != nil {
			return View{}, err
		}
		if len(existing) == 0 || existing[0].Intake == nil || *existing[0].Intake != it {
			return View{}, fmt.Errorf("subjectrequests: id %s is already used by another request", id)
		}
	}
	if !p.IsZero() {
		if err := s.st.putPerson(ctx, id, p); err != nil {
			return View{}, err
		}
	}
	v, _, err := s.load(ctx, id, cal, !p.IsZero())
	return v, err
}

// Append validates e against the request's state and appends it. e comes
// from EventInput.Validate; keyHash (optional) makes a retried post a no-op.
// Invalid events write nothing.
func (s *Service) Append(ctx context.Context, id string, e Event, by, keyHash string) (View, error) {
	cal, err := s.cal()
	if err != nil {
		return View{}, err
	}
	for range 5 {
		rec, err := s.st.Record(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return View{}, err
		}
		events, err := s.st.Events(ctx, id)
		if err != nil {
			return View{}, err
		}
		if len(events) == 0 {
			return View{}, ErrNotFound
		}
		if c := VerifyChain(events, rec.Value.EventCount, rec.Value.HeadHash); !c.Verified {
			return View{}, fmt.Errorf("%w: %s", ErrChainBroken, c.Problem)
		}
		if keyHash != "" {
			for _, old := range events {
				if old.KeyHash == keyHash {
					v, _, err := s.load(ctx, id, cal, false)
					return v, err
				}
			}
		}
		state, err := Replay(events)
		if err != nil {
			return View{}, err
		}
		if _, err := state.Apply(e, cal); err != nil {
			return View{}, err
		}
		last := events[len(events)-1]
		ne := Event{RequestID: id, Seq: last.Seq + 1, Type: e.Type, On: e.On, RecordedAt: s.stamp(), By: by,
			Reason: e.Reason, LegalBasis: e.LegalBasis, KeyHash: keyHash}
		ne.Seal(&last)
		if err := s.st.appendEvent(ctx, ne); errors.Is(err, store.ErrConflict) {
			continue // someone else appended this sequence number: re-read and re-check
		} else if err != nil {
			return View{}, err
		}
		v, _, err := s.load(ctx, id, cal, false)
		return v, err
	}
	return View{}, ErrBusy
}

// Get returns the request with its events, whether its chain verifies, and
// (when withPerson) its personal details. A stale tracking record is
// repaired.
func (s *Service) Get(ctx context.Context, id string, withPerson bool) (View, error) {
	cal, err := s.cal()
	if err != nil {
		return View{}, err
	}
	v, events, err := s.load(ctx, id, cal, false)
	if err != nil {
		return v, err
	}
	v.Events = events
	if withPerson {
		p, err := s.st.Person(ctx, id)
		if err != nil {
			return v, err
		}
		if !p.IsZero() {
			v.Person = &p
		}
	}
	return v, nil
}

// load reads the log, verifies it against the record, brings the record up
// to date (unless the chain is broken: the evidence is left as found) and
// returns the view. hasPerson marks the record as holding personal details.
func (s *Service) load(ctx context.Context, id string, cal *ukdates.Calendar, hasPerson bool) (View, []Event, error) {
	if _, ok := ParseID(id); !ok {
		return View{}, nil, ErrNotFound
	}
	for range 5 {
		rec, err := s.st.Record(ctx, id)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return View{}, nil, err
		}
		events, err := s.st.Events(ctx, id)
		if err != nil {
			return View{}, nil, err
		}
		if len(events) == 0 {
			return View{}, nil, ErrNotFound
		}
		chain := VerifyChain(events, rec.Value.EventCount, rec.Value.HeadHash)
		state, err := Replay(events)
		if err != nil {
			return View{}, events, err
		}
		v, err := NewView(state, cal, s.Today())
		if err != nil {
			return v, events, err
		}
		v.ChainVerified = &chain.Verified
		v.ChainProblem = chain.Problem
		var old *Record
		if exists {
			old = &rec.Value
			v.PersonPurgedOn = day(rec.Value.PersonPurgedOn)
		}
		if !chain.Verified {
			return v, events, nil
		}
		next := NewRecord(state, v, old)
		if hasPerson && next.PersonPurgedOn == "" {
			next.HasPerson = true
		}
		if exists && next == rec.Value {
			return v, events, nil
		}
		err = s.st.writeRecord(ctx, next, rec.ETag, exists)
		if errors.Is(err, store.ErrPreconditionFailed) || errors.Is(err, store.ErrConflict) {
			continue
		}
		return v, events, err
	}
	return View{}, nil, ErrBusy
}

// ListFilter selects requests for List.
type ListFilter struct {
	Status      Status
	Overdue     *bool
	DueWithin   int // days; <0 means no filter
	ServiceArea string
	Limit       int
	Token       string
}

// Page is one page of a list.
type Page struct {
	Items             []View `json:"items"`
	ContinuationToken string `json:"continuationToken,omitempty"`
}

// Filter builds the OData filter for f on today.
func (f ListFilter) Filter(today ukdates.Date) (string, error) {
	var parts []string
	q := func(s string) string { return store.Quote(s) }
	if f.Status != "" {
		parts = append(parts, "Status eq "+q(string(f.Status)))
	}
	if f.ServiceArea != "" {
		parts = append(parts, "ServiceAreaKey eq "+q(ServiceAreaKey(f.ServiceArea)))
	}
	t := today.String()
	if f.Overdue != nil {
		if *f.Overdue {
			parts = append(parts, "Status eq 'open' and DueOn ne '' and DueOn lt "+q(t))
		} else {
			parts = append(parts, "(Status ne 'open' or DueOn eq '' or DueOn ge "+q(t)+")")
		}
	}
	if f.DueWithin >= 0 {
		parts = append(parts, "Status eq 'open' and DueOn ge "+q(t)+" and DueOn le "+q(today.AddDays(f.DueWithin).String()))
	}
	if f.Token != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Token)
		pk, rk, ok := strings.Cut(string(b), "\x00")
		if err != nil || !ok {
			return "", fieldError("continuationToken", "is not a token this API issued")
		}
		parts = append(parts, "(PartitionKey gt "+q(pk)+" or (PartitionKey eq "+q(pk)+" and RowKey gt "+q(rk)+"))")
	}
	for i, p := range parts {
		parts[i] = "(" + p + ")"
	}
	return strings.Join(parts, " and "), nil
}

var errPageFull = errors.New("page full")

// List returns one page of tracking-record views in id order.
func (s *Service) List(ctx context.Context, f ListFilter) (Page, error) {
	cal, err := s.cal()
	if err != nil {
		return Page{}, err
	}
	today := s.Today()
	filter, err := f.Filter(today)
	if err != nil {
		return Page{}, err
	}
	page := Page{Items: []View{}}
	var last Record
	err = s.st.QueryRecords(ctx, filter, func(r store.Record[Record]) error {
		if len(page.Items) == f.Limit {
			page.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(last.PartitionKey + "\x00" + last.RowKey))
			return errPageFull
		}
		last = r.Value
		page.Items = append(page.Items, r.Value.View(cal, today))
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return Page{}, err
	}
	return page, nil
}

// KeyHash is the idempotency scope for a caller's key on an operation.
func KeyHash(principal, method, path, key string) string {
	sum := sha256.Sum256([]byte(strconv.Quote(principal) + "\n" + method + "\n" + path + "\n" + key))
	return hex.EncodeToString(sum[:])
}
