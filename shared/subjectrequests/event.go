package subjectrequests

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/ukdates"
)

// Event is one entry in a request's append-only log.
type Event struct {
	RequestID string    `json:"requestId"`
	Seq       int       `json:"seq"`
	Type      EventType `json:"type"`
	// On is the day it happened (the day ID arrived, the day clarification
	// was asked for, ...), a UK date.
	On ukdates.Date `json:"on"`
	// RecordedAt is when it was written, UTC, RFC 3339 with nanoseconds.
	RecordedAt string `json:"recordedAt"`
	// By is the caller's principal id (never a display name), or
	// "anonymous-local", or "sharepoint:<user id>".
	By         string `json:"by"`
	Reason     string `json:"reason,omitempty"`
	LegalBasis string `json:"legalBasis,omitempty"`
	// Intake is set on the created event only.
	Intake *Intake `json:"intake,omitempty"`
	// KeyHash is the hash of the Idempotency-Key the event was posted
	// with, so a retried post is recognised.
	KeyHash  string `json:"keyHash,omitempty"`
	PrevHash string `json:"prevHash"`
	Hash     string `json:"hash"`
}

// hashedEvent fixes the canonical encoding: encoding/json writes struct
// fields in declaration order, with no insignificant white space, and
// escapes strings deterministically. Its version prefix lets a future
// encoding coexist with this one.
type hashedEvent struct {
	V          int       `json:"v"`
	RequestID  string    `json:"requestId"`
	Seq        int       `json:"seq"`
	Type       EventType `json:"type"`
	On         string    `json:"on"`
	RecordedAt string    `json:"recordedAt"`
	By         string    `json:"by"`
	Reason     string    `json:"reason"`
	LegalBasis string    `json:"legalBasis"`
	Intake     *Intake   `json:"intake"`
	KeyHash    string    `json:"keyHash"`
	PrevHash   string    `json:"prevHash"`
}

// ComputeHash returns hex(SHA-256(canonical JSON of e, including PrevHash,
// excluding Hash)).
func (e Event) ComputeHash() string {
	on := ""
	if !e.On.IsZero() {
		on = e.On.String()
	}
	b, err := json.Marshal(hashedEvent{V: 1, RequestID: e.RequestID, Seq: e.Seq, Type: e.Type, On: on,
		RecordedAt: e.RecordedAt, By: e.By, Reason: e.Reason, LegalBasis: e.LegalBasis, Intake: e.Intake,
		KeyHash: e.KeyHash, PrevHash: e.PrevHash})
	if err != nil { // unreachable: every field marshals
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Seal sets e's PrevHash and Hash, chaining it after prev (nil for the
// first event).
func (e *Event) Seal(prev *Event) {
	e.PrevHash = ""
	if prev != nil {
		e.PrevHash = prev.Hash
	}
	e.Hash = e.ComputeHash()
}

// ChainResult says whether a log verifies.
type ChainResult struct {
	Verified bool `json:"verified"`
	// BrokenAt is the first sequence number that fails (0 when verified).
	BrokenAt int `json:"brokenAt,omitempty"`
	// Problem says what is wrong (no personal data).
	Problem string `json:"problem,omitempty"`
}

// VerifyChain checks that events (in sequence order) are numbered 1..n with
// no gap, each PrevHash is the previous Hash, and each Hash is right. When
// headSeq > 0 it also checks that the log reaches the head recorded on the
// tracking record, with the same hash there, which detects a truncated log.
func VerifyChain(events []Event, headSeq int, headHash string) ChainResult {
	prev := ""
	for i, e := range events {
		switch {
		case e.Seq != i+1:
			return ChainResult{BrokenAt: i + 1, Problem: fmt.Sprintf("event %d is missing (found sequence %d)", i+1, e.Seq)}
		case e.PrevHash != prev:
			return ChainResult{BrokenAt: e.Seq, Problem: fmt.Sprintf("event %d does not follow event %d (previous hash differs)", e.Seq, i)}
		case e.ComputeHash() != e.Hash:
			return ChainResult{BrokenAt: e.Seq, Problem: fmt.Sprintf("event %d has been altered (hash differs)", e.Seq)}
		}
		prev = e.Hash
	}
	if headSeq > 0 {
		if len(events) < headSeq {
			return ChainResult{BrokenAt: len(events) + 1, Problem: fmt.Sprintf("the log ends at event %d but the record saw event %d", len(events), headSeq)}
		}
		if events[headSeq-1].Hash != headHash {
			return ChainResult{BrokenAt: headSeq, Problem: fmt.Sprintf("event %d differs from the one the record saw", headSeq)}
		}
	}
	if len(events) == 0 {
		return ChainResult{BrokenAt: 1, Problem: "the log is empty"}
	}
	return ChainResult{Verified: true}
}

// CreateInput is the body of POST /subject-requests. Dates are strings so
// that a bad date is reported against its field.
type CreateInput struct {
	Type         string  `json:"type"`
	ReceivedOn   string  `json:"receivedOn"`
	Channel      string  `json:"channel"`
	RequesterRef string  `json:"requesterRef,omitempty"`
	ServiceArea  string  `json:"serviceArea"`
	IDRequired   bool    `json:"idRequired"`
	Person       *Person `json:"person,omitempty"`
}

// Validate checks in against today (a receipt date in the future is
// refused) and returns the intake and personal details. Every problem is
// reported, each as a funcapp.FieldError, joined.
func (in CreateInput) Validate(today ukdates.Date) (Intake, Person, error) {
	var errs []error
	it := Intake{Type: Type(in.Type), Channel: Channel(in.Channel), RequesterRef: strings.TrimSpace(in.RequesterRef),
		ServiceArea: strings.TrimSpace(in.ServiceArea), IDRequired: in.IDRequired}
	switch {
	case in.Type == "":
		errs = append(errs, fieldError("type", "required; one of "+names(Types)))
	case !oneOf(it.Type, Types):
		errs = append(errs, fieldError("type", "must be one of "+names(Types)))
	}
	on, err := parseDay("receivedOn", in.ReceivedOn, true, today)
	errs = append(errs, err)
	it.ReceivedOn = on
	switch {
	case in.Channel == "":
		errs = append(errs, fieldError("channel", "required; one of "+names(Channels)))
	case !oneOf(it.Channel, Channels):
		errs = append(errs, fieldError("channel", "must be one of "+names(Channels)))
	}
	errs = append(errs, tooLong("requesterRef", it.RequesterRef, maxRef))
	switch {
	case it.ServiceArea == "":
		errs = append(errs, fieldError("serviceArea", "required: the service area that holds the data (it routes reminders)"))
	case ServiceAreaKey(it.ServiceArea) == "":
		errs = append(errs, fieldError("serviceArea", "must contain letters or digits"))
	default:
		errs = append(errs, tooLong("serviceArea", it.ServiceArea, maxServiceArea))
	}
	var p Person
	if in.Person != nil {
		p = Person{Name: strings.TrimSpace(in.Person.Name), Email: strings.TrimSpace(in.Person.Email),
			Phone: strings.TrimSpace(in.Person.Phone), Address: strings.TrimSpace(in.Person.Address)}
		errs = append(errs, tooLong("person.name", p.Name, maxPersonField), tooLong("person.email", p.Email, maxPersonField),
			tooLong("person.phone", p.Phone, maxPersonField), tooLong("person.address", p.Address, maxPersonField))
		if p.Email != "" && !strings.Contains(p.Email, "@") {
			errs = append(errs, fieldError("person.email", "is not an e-mail address"))
		}
	}
	return it, p, errors.Join(errs...)
}

// EventInput is the body of POST /subject-requests/{id}/events.
type EventInput struct {
	Type string `json:"type"`
	// On is the day it happened (YYYY-MM-DD); today when empty, except for
	// id-received, which requires it.
	On         string `json:"on,omitempty"`
	Reason     string `json:"reason,omitempty"`
	LegalBasis string `json:"legalBasis,omitempty"`
}

// Validate checks the fields that do not depend on the request's state
// and returns the event to apply (without ids, times or hashes).
func (in EventInput) Validate(today ukdates.Date) (Event, error) {
	var errs []error
	e := Event{Type: EventType(in.Type), Reason: strings.TrimSpace(in.Reason), LegalBasis: strings.TrimSpace(in.LegalBasis)}
	switch {
	case in.Type == "":
		errs = append(errs, fieldError("type", "required; one of "+names(PostableEvents)))
	case !oneOf(e.Type, PostableEvents):
		errs = append(errs, fieldError("type", "must be one of "+names(PostableEvents)))
	}
	on, err := parseDay("on", in.On, e.Type == EventIDReceived, today)
	errs = append(errs, err)
	e.On = on
	if e.On.IsZero() {
		e.On = today
	}
	switch e.Type {
	case EventExtended:
		if e.Reason == "" {
			errs = append(errs, fieldError("reason", "required: why the request is complex or numerous (the requester must be told)"))
		}
	case EventRefused:
		if e.LegalBasis == "" {
			errs = append(errs, fieldError("legalBasis", "required: the exemption or ground relied on, e.g. \"manifestly unfounded (Art 12(5))\""))
		}
	}
	if e.LegalBasis != "" && e.Type != EventRefused && e.Type != "" {
		errs = append(errs, fieldError("legalBasis", "only a refused event takes a legal basis"))
	}
	if e.Reason != "" && e.Type != EventExtended && e.Type != EventRefused && e.Type != EventWithdrawn && e.Type != "" {
		errs = append(errs, fieldError("reason", "only extended, refused and withdrawn events take a reason"))
	}
	errs = append(errs, tooLong("reason", e.Reason, maxReason), tooLong("legalBasis", e.LegalBasis, maxLegalBasis))
	return e, errors.Join(errs...)
}

func parseDay(field, s string, required bool, today ukdates.Date) (ukdates.Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return ukdates.Date{}, fieldError(field, "required (YYYY-MM-DD)")
		}
		return ukdates.Date{}, nil
	}
	d, err := ukdates.ParseDate(s)
	if err != nil || !d.IsValid() {
		return ukdates.Date{}, fieldError(field, fmt.Sprintf("%q is not a date (YYYY-MM-DD)", s))
	}
	if !today.IsZero() && d.After(today) {
		return ukdates.Date{}, fieldError(field, fmt.Sprintf("%s is in the future (today is %s)", d, today))
	}
	return d, nil
}

func fieldError(field, detail string) error { return funcapp.FieldError{Field: field, Detail: detail} }
