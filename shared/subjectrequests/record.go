package subjectrequests

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/council-ict/govkit/shared/ukdates"
)

// Record is the tracking record in table "subjectrequests": the request's
// current state, derived from its events, with no personal data. Partition
// = the id's year (so bulk loads batch and a list pages in id order), row
// key = id. Dates are ISO strings ("" when absent), so filters compare them
// as text.
type Record struct {
	PartitionKey        string `json:"PartitionKey"`
	RowKey              string `json:"RowKey"`
	Type                string `json:"Type"`
	Status              string `json:"Status"`
	Channel             string `json:"Channel"`
	ServiceArea         string `json:"ServiceArea"`
	ServiceAreaKey      string `json:"ServiceAreaKey"`
	RequesterRef        string `json:"RequesterRef"`
	IDRequired          bool   `json:"IDRequired"`
	ReceivedOn          string `json:"ReceivedOn"`
	ClockStartedOn      string `json:"ClockStartedOn"`
	DueOn               string `json:"DueOn"`
	Extended            bool   `json:"Extended"`
	ExtensionNoticeBy   string `json:"ExtensionNoticeBy"`
	ExtensionNotifiedOn string `json:"ExtensionNotifiedOn"`
	Paused              bool   `json:"Paused"`
	PausedSince         string `json:"PausedSince"`
	DaysPaused          int    `json:"DaysPaused"`
	ClosedOn            string `json:"ClosedOn"`
	// HasPerson is true while personal details are held for the request.
	HasPerson      bool   `json:"HasPerson"`
	PersonPurgedOn string `json:"PersonPurgedOn"`
	// EventCount and HeadHash are the last event the record reflects.
	EventCount int    `json:"EventCount"`
	HeadHash   string `json:"HeadHash"`
	CreatedAt  string `json:"CreatedAt"`
	CreatedBy  string `json:"CreatedBy"`
	UpdatedAt  string `json:"UpdatedAt"`
}

// ID returns the request id.
func (r Record) ID() string { return r.RowKey }

var idRE = regexp.MustCompile(`^SAR-([0-9]{4})-([0-9]{6,})$`)

// FormatID returns the id of the n-th request of year: SAR-2026-000123.
func FormatID(year, n int) string { return fmt.Sprintf("SAR-%04d-%06d", year, n) }

// ParseID checks id and returns the partition (its year) of its record.
func ParseID(id string) (partition string, ok bool) {
	m := idRE.FindStringSubmatch(id)
	if m == nil {
		return "", false
	}
	if n, err := strconv.Atoi(m[2]); err != nil || n < 1 {
		return "", false
	}
	return m[1], true
}

func iso(d ukdates.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func day(s string) ukdates.Date {
	d, _ := ukdates.ParseDate(s)
	return d
}

// NewRecord derives the tracking record from a state and its view. The
// personal-data flags are carried over from old (the stored record, if any),
// since they are not events.
func NewRecord(s State, v View, old *Record) Record {
	pk, _ := ParseID(s.ID)
	r := Record{PartitionKey: pk, RowKey: s.ID, Type: string(s.Intake.Type), Status: string(s.Status),
		Channel: string(s.Intake.Channel), ServiceArea: s.Intake.ServiceArea, ServiceAreaKey: ServiceAreaKey(s.Intake.ServiceArea),
		RequesterRef: s.Intake.RequesterRef, IDRequired: s.Intake.IDRequired, ReceivedOn: iso(s.Intake.ReceivedOn),
		ClockStartedOn: iso(v.ClockStartedOn), DueOn: iso(v.DueOn), Extended: s.Extended,
		ExtensionNoticeBy: iso(v.ExtensionNoticeBy), ExtensionNotifiedOn: iso(s.ExtensionNotifiedOn),
		Paused: v.Paused, PausedSince: iso(v.PausedSince), DaysPaused: v.DaysPaused, ClosedOn: iso(s.ClosedOn),
		EventCount: s.Events, HeadHash: s.HeadHash, CreatedAt: s.CreatedAt, CreatedBy: s.CreatedBy, UpdatedAt: s.UpdatedAt}
	if old != nil {
		r.HasPerson, r.PersonPurgedOn = old.HasPerson, old.PersonPurgedOn
	}
	return r
}

// View returns the list view of r on today: the stored deadline fields,
// with days left recomputed for today. It has no events or explanation.
func (r Record) View(cal *ukdates.Calendar, today ukdates.Date) View {
	v := View{ID: r.RowKey, Type: Type(r.Type), Status: Status(r.Status), Channel: Channel(r.Channel),
		ServiceArea: r.ServiceArea, RequesterRef: r.RequesterRef, IDRequired: r.IDRequired, ReceivedOn: day(r.ReceivedOn),
		ClockStartedOn: day(r.ClockStartedOn), DueOn: day(r.DueOn), Extended: r.Extended,
		ExtensionNoticeBy: day(r.ExtensionNoticeBy), ExtensionNotifiedOn: day(r.ExtensionNotifiedOn),
		Paused: r.Paused, PausedSince: day(r.PausedSince), DaysPaused: r.DaysPaused, ClosedOn: day(r.ClosedOn),
		PersonPurgedOn: day(r.PersonPurgedOn), CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, UpdatedAt: r.UpdatedAt}
	if v.DueOn.IsZero() {
		return v
	}
	if v.Status.Closed() {
		onTime := !v.ClosedOn.After(v.DueOn)
		v.AnsweredOnTime = &onTime
		return v
	}
	_ = v.setDaysLeft(cal, today) // beyond the data: days left stay absent
	return v
}
