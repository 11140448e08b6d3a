package subjectrequests

import (
	"errors"
	"fmt"

	"github.com/council-ict/govkit/shared/ukdates"
)

// TransitionError is an event the request's current state does not allow
// (HTTP 409). Nothing is written.
type TransitionError struct {
	Status Status
	Event  EventType
	Detail string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("subjectrequests: %s is not allowed while the request is %s: %s", e.Event, e.Status, e.Detail)
}

// State is a request folded from its events.
type State struct {
	ID     string
	Intake Intake
	Status Status
	// RequirementsMetOn is the day the identity, authority or fee asked for
	// arrived; the clock starts then.
	RequirementsMetOn   ukdates.Date
	IDRequested         bool
	Extended            bool
	ExtendedOn          ukdates.Date
	ExtensionNotifiedOn ukdates.Date
	ClockStops          []ukdates.ClockStop
	ClosedOn            ukdates.Date
	LastOn              ukdates.Date
	// Events is how many events were folded; HeadHash is the last one's hash.
	Events    int
	HeadHash  string
	CreatedAt string
	CreatedBy string
	UpdatedAt string
}

// ClockRunning reports whether the statutory clock has started: not
// while the council waits for the identity, authority or fee it asked for.
func (s State) ClockRunning() bool {
	return !(s.Intake.IDRequired || s.IDRequested) || !s.RequirementsMetOn.IsZero()
}

// DeadlineInput is the ukdates input for s; ok is false while the clock
// has not started.
func (s State) DeadlineInput() (in ukdates.DeadlineInput, ok bool) {
	if !s.ClockRunning() {
		return ukdates.DeadlineInput{}, false
	}
	return ukdates.DeadlineInput{ReceivedOn: s.Intake.ReceivedOn, RequirementsMetOn: s.RequirementsMetOn,
		Extended: s.Extended, ClockStops: s.ClockStops}, true
}

// Deadline computes s's deadline with cal. ok is false while the clock has
// not started.
func (s State) Deadline(cal *ukdates.Calendar) (r ukdates.DeadlineResult, ok bool, err error) {
	in, ok := s.DeadlineInput()
	if !ok {
		return ukdates.DeadlineResult{}, false, nil
	}
	r, err = ukdates.Deadline(in, cal)
	return r, err == nil, err
}

// Replay folds a stored log, in sequence order, without re-validating it:
// the log is the truth. The first event must be the created event.
func Replay(events []Event) (State, error) {
	var s State
	for i, e := range events {
		if i == 0 && (e.Type != EventCreated || e.Intake == nil) {
			return State{}, fmt.Errorf("subjectrequests: %s: event 1 is %q, not a created event", e.RequestID, e.Type)
		}
		if i > 0 && e.Type == EventCreated {
			return State{}, fmt.Errorf("subjectrequests: %s: event %d is a second created event", e.RequestID, e.Seq)
		}
		s = s.fold(e)
	}
	if len(events) == 0 {
		return State{}, errors.New("subjectrequests: empty log")
	}
	return s, nil
}

// Apply checks that e may follow s and returns the new state. It is the
// state machine:
//
//	created                  → awaiting-id (idRequired) or open
//	id-requested             open → awaiting-id, only before anything else happened to the clock
//	id-received (on)         awaiting-id → open; the clock starts on "on"
//	clarification-requested  open → paused (not after the deadline)
//	clarification-received   paused → open
//	extended (reason)        open → open, once, on or before the original deadline
//	extension-notified       open|paused → same, once, only when extended
//	completed                open → completed
//	refused (legalBasis)     awaiting-id|open|paused → refused
//	withdrawn                awaiting-id|open|paused → withdrawn
//
// Closed requests take no events. Every event's date must be on or after the
// receipt date and the previous event's date (a FieldError on "on", HTTP
// 400); a disallowed event is a *TransitionError (HTTP 409). cal is needed
// for the rules about the deadline; a deadline beyond the bank-holiday data
// is an error wrapping ukdates.ErrNotCovered.
func (s State) Apply(e Event, cal *ukdates.Calendar) (State, error) {
	bad := func(format string, args ...any) error {
		return &TransitionError{Status: s.Status, Event: e.Type, Detail: fmt.Sprintf(format, args...)}
	}
	if e.Type == EventCreated {
		return s, bad("a request is created once")
	}
	if s.Status.Closed() {
		return s, bad("the request was %s on %s; a closed request takes no further events", s.Status, s.ClosedOn)
	}
	if e.On.Before(s.Intake.ReceivedOn) {
		return s, fieldError("on", fmt.Sprintf("%s is before the request was received (%s)", e.On, s.Intake.ReceivedOn))
	}
	if e.On.Before(s.LastOn) {
		return s, fieldError("on", fmt.Sprintf("%s is before the latest event (%s); events are recorded in date order", e.On, s.LastOn))
	}
	allowed := map[EventType][]Status{
		EventIDRequested:            {StatusOpen},
		EventIDReceived:             {StatusAwaitingID},
		EventClarificationRequested: {StatusOpen},
		EventClarificationReceived:  {StatusPaused},
		EventExtended:               {StatusOpen},
		EventExtensionNotified:      {StatusOpen, StatusPaused},
		EventCompleted:              {StatusOpen},
		EventRefused:                {StatusAwaitingID, StatusOpen, StatusPaused},
		EventWithdrawn:              {StatusAwaitingID, StatusOpen, StatusPaused},
	}[e.Type]
	if allowed == nil {
		return s, fieldError("type", "must be one of "+names(PostableEvents))
	}
	if !oneOf(s.Status, allowed) {
		return s, bad("allowed only while the request is %s", names(allowed))
	}
	switch e.Type {
	case EventIDRequested:
		if s.IDRequested || s.Intake.IDRequired || len(s.ClockStops) > 0 || s.Extended {
			return s, bad("identity can be asked for only once, before any clarification or extension")
		}
	case EventIDReceived:
		// Allowed from awaiting-id only (checked above).
	case EventExtended:
		if s.Extended {
			return s, bad("the request was already extended on %s; it can be extended once", s.ExtendedOn)
		}
		r, ok, err := s.Deadline(cal)
		if err != nil {
			return s, deadlineErr(err)
		}
		if ok && e.On.After(r.Statutory) {
			return s, bad("an extension must be made by the original deadline, %s", r.Statutory)
		}
	case EventExtensionNotified:
		if !s.Extended {
			return s, bad("the request has not been extended")
		}
		if !s.ExtensionNotifiedOn.IsZero() {
			return s, bad("the extension notice was already recorded on %s", s.ExtensionNotifiedOn)
		}
	}
	next := s.fold(e)
	// The clock rules of ukdates must still hold (e.g. a clarification
	// asked for after the deadline).
	if _, _, err := next.Deadline(cal); err != nil {
		var fe *ukdates.FieldError
		if errors.As(err, &fe) {
			return s, bad("%s", fe.Reason)
		}
		return s, deadlineErr(err)
	}
	return next, nil
}

// deadlineErr keeps ErrNotCovered recognisable.
func deadlineErr(err error) error { return fmt.Errorf("subjectrequests: deadline: %w", err) }

// fold applies e to s without checks.
func (s State) fold(e Event) State {
	s.Events = e.Seq
	s.HeadHash = e.Hash
	s.UpdatedAt = e.RecordedAt
	if e.On.After(s.LastOn) {
		s.LastOn = e.On
	}
	switch e.Type {
	case EventCreated:
		s.ID = e.RequestID
		s.Intake = *e.Intake
		s.CreatedAt, s.CreatedBy = e.RecordedAt, e.By
		s.LastOn = e.Intake.ReceivedOn
		s.Status = StatusOpen
		if s.Intake.IDRequired {
			s.Status = StatusAwaitingID
		}
	case EventIDRequested:
		s.IDRequested = true
		s.Status = StatusAwaitingID
	case EventIDReceived:
		s.RequirementsMetOn = e.On
		s.Status = StatusOpen
	case EventClarificationRequested:
		s.ClockStops = append(s.ClockStops[:len(s.ClockStops):len(s.ClockStops)], ukdates.ClockStop{PausedOn: e.On})
		s.Status = StatusPaused
	case EventClarificationReceived:
		if n := len(s.ClockStops); n > 0 {
			stops := append([]ukdates.ClockStop(nil), s.ClockStops...)
			stops[n-1].ResumedOn = e.On
			s.ClockStops = stops
		}
		s.Status = StatusOpen
	case EventExtended:
		s.Extended, s.ExtendedOn = true, e.On
	case EventExtensionNotified:
		s.ExtensionNotifiedOn = e.On
	case EventCompleted:
		s.Status, s.ClosedOn = StatusCompleted, e.On
	case EventRefused:
		s.Status, s.ClosedOn = StatusRefused, e.On
	case EventWithdrawn:
		s.Status, s.ClosedOn = StatusWithdrawn, e.On
	}
	// Closing while paused ends the stop that day, so a closed request
	// still shows the deadline it had.
	if s.Status.Closed() {
		if n := len(s.ClockStops); n > 0 && s.ClockStops[n-1].ResumedOn.IsZero() {
			stops := append([]ukdates.ClockStop(nil), s.ClockStops...)
			stops[n-1].ResumedOn = e.On
			s.ClockStops = stops
		}
	}
	return s
}
