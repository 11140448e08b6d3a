package subjectrequests

import (
	"github.com/council-ict/govkit/shared/ukdates"
)

// View is a request as the API shows it.
type View struct {
	ID           string       `json:"id"`
	Type         Type         `json:"type"`
	Status       Status       `json:"status"`
	Channel      Channel      `json:"channel"`
	ServiceArea  string       `json:"serviceArea"`
	RequesterRef string       `json:"requesterRef,omitempty"`
	IDRequired   bool         `json:"idRequired"`
	ReceivedOn   ukdates.Date `json:"receivedOn"`
	// ClockStartedOn is day one of the statutory clock; absent while the
	// council waits for the identity, authority or fee it asked for.
	ClockStartedOn ukdates.Date `json:"clockStartedOn,omitzero"`
	// DueOn is the deadline that applies (end of that day); absent while
	// the clock has not started or is stopped.
	DueOn ukdates.Date `json:"dueOn,omitzero"`
	// DaysLeft and WorkingDaysLeft count from today to DueOn (negative when
	// overdue); absent when there is no deadline or the request is closed.
	DaysLeft            *int         `json:"daysLeft,omitempty"`
	WorkingDaysLeft     *int         `json:"workingDaysLeft,omitempty"`
	Overdue             bool         `json:"overdue"`
	Extended            bool         `json:"extended"`
	ExtendedOn          ukdates.Date `json:"extendedOn,omitzero"`
	ExtensionNoticeBy   ukdates.Date `json:"extensionNoticeBy,omitzero"`
	ExtensionNotifiedOn ukdates.Date `json:"extensionNotifiedOn,omitzero"`
	Paused              bool         `json:"paused"`
	PausedSince         ukdates.Date `json:"pausedSince,omitzero"`
	DaysPaused          int          `json:"daysPaused"`
	ClosedOn            ukdates.Date `json:"closedOn,omitzero"`
	// AnsweredOnTime is set once closed with a deadline.
	AnsweredOnTime *bool    `json:"answeredOnTime,omitempty"`
	Explanation    []string `json:"explanation,omitempty"`
	Events         []Event  `json:"events,omitempty"`
	ChainVerified  *bool    `json:"chainVerified,omitempty"`
	ChainProblem   string   `json:"chainProblem,omitempty"`
	Person         *Person  `json:"person,omitempty"`
	// PersonPurgedOn is when the personal details were deleted after the
	// retention period.
	PersonPurgedOn ukdates.Date `json:"personPurgedOn,omitzero"`
	CreatedAt      string       `json:"createdAt"`
	CreatedBy      string       `json:"createdBy"`
	UpdatedAt      string       `json:"updatedAt"`
}

// NewView computes the view of s on today with cal. A deadline error (such
// as ukdates.ErrNotCovered) is returned with the view built so far.
func NewView(s State, cal *ukdates.Calendar, today ukdates.Date) (View, error) {
	v := View{ID: s.ID, Type: s.Intake.Type, Status: s.Status, Channel: s.Intake.Channel, ServiceArea: s.Intake.ServiceArea,
		RequesterRef: s.Intake.RequesterRef, IDRequired: s.Intake.IDRequired, ReceivedOn: s.Intake.ReceivedOn,
		Extended: s.Extended, ExtendedOn: s.ExtendedOn, ExtensionNotifiedOn: s.ExtensionNotifiedOn, ClosedOn: s.ClosedOn,
		CreatedAt: s.CreatedAt, CreatedBy: s.CreatedBy, UpdatedAt: s.UpdatedAt}
	r, ok, err := s.Deadline(cal)
	if err != nil {
		return v, deadlineErr(err)
	}
	if !ok {
		return v, nil
	}
	v.ClockStartedOn, v.DueOn, v.ExtensionNoticeBy = r.Start, r.Due, r.ExtensionNoticeBy
	v.Paused, v.PausedSince, v.DaysPaused = r.Paused, r.PausedSince, r.DaysPaused
	v.Explanation = r.Explanation()
	if v.DueOn.IsZero() {
		return v, nil
	}
	if s.Status.Closed() {
		onTime := !s.ClosedOn.After(v.DueOn)
		v.AnsweredOnTime = &onTime
		return v, nil
	}
	return v, v.setDaysLeft(cal, today)
}

func (v *View) setDaysLeft(cal *ukdates.Calendar, today ukdates.Date) error {
	days := today.DaysUntil(v.DueOn)
	v.DaysLeft = &days
	v.Overdue = days < 0
	wd, err := cal.WorkingDaysBetween(today, v.DueOn)
	if err != nil {
		return deadlineErr(err)
	}
	v.WorkingDaysLeft = &wd
	return nil
}
