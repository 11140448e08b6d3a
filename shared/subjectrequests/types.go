package subjectrequests

import (
	"fmt"
	"slices"
	"strings"

	"github.com/council-ict/govkit/shared/ukdates"
)

// Type is the right the requester is exercising.
type Type string

// The request types (UK GDPR Articles 15-21).
const (
	Access        Type = "access"
	Rectification Type = "rectification"
	Erasure       Type = "erasure"
	Restriction   Type = "restriction"
	Portability   Type = "portability"
	Objection     Type = "objection"
)

// Types lists every request type.
var Types = []Type{Access, Rectification, Erasure, Restriction, Portability, Objection}

// Channel is how the request arrived.
type Channel string

// The intake channels.
const (
	ChannelEmail      Channel = "email"
	ChannelWeb        Channel = "web"
	ChannelPost       Channel = "post"
	ChannelPhone      Channel = "phone"
	ChannelInPerson   Channel = "in-person"
	ChannelSharePoint Channel = "sharepoint"
)

// Channels lists every channel.
var Channels = []Channel{ChannelEmail, ChannelWeb, ChannelPost, ChannelPhone, ChannelInPerson, ChannelSharePoint}

// Status is where a request is in its life.
type Status string

// The statuses. Only StatusOpen and StatusPaused have a running (or
// stopped) statutory clock; StatusAwaitingID has none until the identity,
// authority or fee arrives.
const (
	StatusAwaitingID Status = "awaiting-id"
	StatusOpen       Status = "open"
	StatusPaused     Status = "paused"
	StatusCompleted  Status = "completed"
	StatusRefused    Status = "refused"
	StatusWithdrawn  Status = "withdrawn"
)

// Statuses lists every status.
var Statuses = []Status{StatusAwaitingID, StatusOpen, StatusPaused, StatusCompleted, StatusRefused, StatusWithdrawn}

// Closed reports whether s is final.
func (s Status) Closed() bool {
	return s == StatusCompleted || s == StatusRefused || s == StatusWithdrawn
}

// EventType is what happened.
type EventType string

// The event types. EventCreated is written by Create, always as event 1;
// the others are posted by users.
const (
	EventCreated                EventType = "created"
	EventIDRequested            EventType = "id-requested"
	EventIDReceived             EventType = "id-received"
	EventClarificationRequested EventType = "clarification-requested"
	EventClarificationReceived  EventType = "clarification-received"
	EventExtended               EventType = "extended"
	EventExtensionNotified      EventType = "extension-notified"
	EventCompleted              EventType = "completed"
	EventRefused                EventType = "refused"
	EventWithdrawn              EventType = "withdrawn"
)

// PostableEvents are the event types a user may append.
var PostableEvents = []EventType{EventIDRequested, EventIDReceived, EventClarificationRequested,
	EventClarificationReceived, EventExtended, EventExtensionNotified, EventCompleted, EventRefused, EventWithdrawn}

// Intake is what a request was created with: the first event's payload and
// the tracking record's fixed fields. It holds no personal data:
// RequesterRef is the council's own case or correspondence reference.
type Intake struct {
	Type         Type         `json:"type"`
	ReceivedOn   ukdates.Date `json:"receivedOn"`
	Channel      Channel      `json:"channel"`
	RequesterRef string       `json:"requesterRef,omitempty"`
	ServiceArea  string       `json:"serviceArea"`
	IDRequired   bool         `json:"idRequired"`
}

// Person is the requester's personal details, stored apart from the
// tracking record and purged after the retention period.
type Person struct {
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Address string `json:"address,omitempty"`
}

// IsZero reports whether p holds nothing.
func (p Person) IsZero() bool { return p == Person{} }

// Field length limits.
const (
	maxRef         = 100
	maxServiceArea = 100
	maxReason      = 2000
	maxLegalBasis  = 300
	maxPersonField = 500
)

func oneOf[T ~string](v T, all []T) bool { return slices.Contains(all, v) }

func names[T ~string](all []T) string {
	s := make([]string, len(all))
	for i, v := range all {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// ServiceAreaKey is the service area in lower-case kebab form, used for
// routing ("Adult Social Care" → "adult-social-care").
func ServiceAreaKey(area string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(area)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	return b.String()
}

func tooLong(field string, v string, n int) error {
	if len(v) > n {
		return fieldError(field, fmt.Sprintf("at most %d characters", n))
	}
	return nil
}
