package ukdates

// This file is the one place that encodes the ICO's time limits for UK GDPR
// individual-rights requests (UK GDPR Art. 12(3), as amended by the Data (Use
// and Access) Act 2025). When the guidance changes, change this file and its
// tests (ico_test.go), nothing else.
//
// Sources, as quoted in shared/reference/governance-apis.md §1.5:
//
//   - ICO, "What should we consider when responding to a request?" (latest
//     update 08 December 2025):
//     "To calculate a month, you must start from the actual date you receive
//     the request, fee or other requested information and count forward to
//     the end of the same date in the following month. Even if you receive
//     the request on a non-working day, you must start from this date."
//     "If the same date doesn't exist in the following month (because it's
//     shorter), use the last day of that month instead."
//     "If the date for responding falls on a weekend or is a public holiday,
//     the deadline moves to the end of the next working day."
//     Worked examples: 1 January (a bank holiday) → end of 1 February;
//     Monday 25 November (2024) → end of Friday 27 December "because 25 and
//     26 December are both bank holidays"; 31 January → 28 February (29 in a
//     leap year), "If that date falls on a weekend, the deadline is the end
//     of the next Monday."
//   - ICO statement on the 2019 change: "a SAR received on 3 September should
//     be responded to by 3 October" (day of receipt is day one).
//   - ICO (pre-DUAA text, cy.ico.org.uk): "You should calculate the extension
//     as three months from the original start date … you must let the
//     individual know within one month of receiving their request and explain
//     why."
//   - Stopping the clock (no ICO worked example in the reference; secondary,
//     DAC Beachcroft): "if a DSAR is submitted on 14 November, clarification
//     is sought … on 16 November but … not provided … until 16 December, the
//     data controller will benefit from an additional month … (as the clock
//     stops between 16 November and 16 December)." The reference's derived
//     algorithm: "paused_days = (clarification_received −
//     clarification_requested); due shifts by paused days (then re-roll)".
//
// The rules as implemented:
//
//  1. Start. The start date is the day the request was received or, when the
//     council asked for proof of identity, authority or a fee, the day the
//     last of those arrived. It is day one whatever the time of arrival (take
//     it with LondonDate) and whether or not it is a working day.
//  2. Base date. The same day of the month in the next month; where that
//     month is shorter, its last day (31 Jan → 28/29 Feb, 31 Mar → 30 Apr).
//  3. Clock stops. A stop excludes the days from the day clarification was
//     asked for (pausedOn) up to but not including the day it arrived
//     (resumedOn): the half-open range [pausedOn, resumedOn). The day it
//     arrives counts as a running day, exactly as the day of receipt does, so
//     a stop adds resumedOn − pausedOn calendar days; a same-day answer adds
//     none. Days before the start date are not counted twice (the clock was
//     not running). The total is added to the base date, and only then is
//     the working-day rule applied. A stop that begins after the deadline
//     (as moved by earlier stops) is an error: the time had already run out.
//     While a stop is open (no resumedOn) there is no deadline: the result
//     says "paused".
//  4. Working day. A deadline on a Saturday, Sunday or bank holiday (of the
//     calendar's division) moves to the next working day. A deadline beyond
//     the bank-holiday data is an error wrapping ErrNotCovered, never a guess.
//  5. Extension. Three months from the start date, by rules 2–4 (the same
//     clock stops are added).
//  6. Extension notice. Due by the base date of rule 2: one month from the
//     start, with clock stops NOT added and NOT moved to a working day.
//
// Interpretation where the sources leave room. The DAC Beachcroft example
// ("an additional month": 14 Dec → 14 Jan) and the wording Parliament used in
// the DUAA amendments for Part 3 requests (DPA 2018 s.54(3C): the period
// "beginning with the day on which the controller makes the request and ending
// with the day on which the controller receives the information does not
// count", which would also pause the notice period) would exclude both end
// days and pause the notice period too, giving dates one day (or, for the
// notice, the paused days plus any weekend) LATER. The reference's own
// algorithm counts resumedOn − pausedOn. Where readings differ this file takes
// the one that gives the EARLIER date, so the council's deadline is never
// later than any reading the ICO might take: answering a day early is
// harmless, a day late is a breach. The DAC example is therefore answered
// 13 January here (a test documents it). Changing rule 3 to the inclusive
// reading is a one-line change in stoppedDays; rule 6 in noticeBy.

import (
	"errors"
	"fmt"
	"time"
)

// ClockStop records one wait for clarification the council reasonably needed.
type ClockStop struct {
	// PausedOn is the day the council asked for clarification.
	PausedOn Date `json:"pausedOn"`
	// ResumedOn is the day the clarification arrived; zero while still waiting.
	ResumedOn Date `json:"resumedOn,omitzero"`
}

// DeadlineInput is what the deadline depends on. Field names in errors are
// the JSON names below.
type DeadlineInput struct {
	// ReceivedOn is the UK date the request arrived (see LondonDate).
	ReceivedOn Date `json:"receivedOn"`
	// RequirementsMetOn is the day the proof of identity, proof of authority
	// or fee the council asked for arrived (the last of them); zero if none
	// was needed. When set, the clock starts on this day instead.
	RequirementsMetOn Date `json:"requirementsMetOn,omitzero"`
	// Extended is true when the council has extended the time limit by two
	// further months (complex or numerous requests).
	Extended bool `json:"extended,omitzero"`
	// ClockStops are the clarification waits, in date order, not overlapping;
	// only the last may be open.
	ClockStops []ClockStop `json:"clockStops,omitempty"`
}

// DeadlineResult is the outcome of Deadline. Dates that do not apply are zero.
type DeadlineResult struct {
	// Start is day one of the clock (rule 1).
	Start Date `json:"start"`
	// Base is one month from Start, before clock stops and the working-day
	// rule (rule 2).
	Base Date `json:"base"`
	// DaysPaused is the number of calendar days the clock was stopped by
	// closed stops (rule 3).
	DaysPaused int `json:"daysPaused"`
	// Statutory is the one-month deadline: the end of this day (rules 2–4).
	// Zero while paused. It adds every closed clock stop, so for an extended
	// request with a stop begun after the first month it is informational
	// only; Due and ExtensionNoticeBy are the dates that apply.
	Statutory Date `json:"statutory,omitzero"`
	// ExtendedBase is three months from Start before stops and the
	// working-day rule; zero unless extended.
	ExtendedBase Date `json:"extendedBase,omitzero"`
	// Extended is the extended deadline (rule 5); zero unless extended or
	// while paused.
	Extended Date `json:"extended,omitzero"`
	// Due is the deadline that applies: Extended if extended, else
	// Statutory. Zero while paused.
	Due Date `json:"due,omitzero"`
	// ExtensionNoticeBy is the last day to tell the requester of an
	// extension, with reasons (rule 6). Always set.
	ExtensionNoticeBy Date `json:"extensionNoticeBy"`
	// Paused is true while a clock stop is open; no deadline is computed.
	Paused bool `json:"paused,omitzero"`
	// PausedSince is the PausedOn of the open stop.
	PausedSince Date `json:"pausedSince,omitzero"`

	in  DeadlineInput
	cal *Calendar
}

// FieldError is a validation error naming the input field at fault, using
// the JSON field names of DeadlineInput (e.g. "clockStops[1].resumedOn").
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return "ukdates: " + e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Deadline applies the ICO rules (documented at the top of ico.go) to in,
// with bank holidays from cal.
// Invalid input gives a *FieldError; a date beyond the bank-holiday data gives
// an error wrapping ErrNotCovered. It does not allocate on success.
func Deadline(in DeadlineInput, cal *Calendar) (DeadlineResult, error) {
	if cal == nil {
		return DeadlineResult{}, errors.New("ukdates: deadline: nil calendar")
	}
	start, err := startDate(in)
	if err != nil {
		return DeadlineResult{}, err
	}
	r := DeadlineResult{Start: start, in: in, cal: cal}
	r.Base = correspondingDate(start, 1)
	r.ExtensionNoticeBy = noticeBy(r.Base)
	governing := r.Base
	if in.Extended {
		r.ExtendedBase = correspondingDate(start, 3)
		governing = r.ExtendedBase
	}

	for i, s := range in.ClockStops {
		if err := checkStop(in, i); err != nil {
			return DeadlineResult{}, err
		}
		due, err := cal.NextWorkingDay(governing.AddDays(r.DaysPaused))
		if err != nil {
			return DeadlineResult{}, fmt.Errorf("ukdates: deadline: %w", err)
		}
		if s.PausedOn.After(due) {
			return DeadlineResult{}, fieldErr(fmt.Sprintf("clockStops[%d].pausedOn", i),
				"%s is after the deadline %s; the time limit had already run out", s.PausedOn, due)
		}
		if s.ResumedOn.IsZero() {
			r.Paused, r.PausedSince = true, s.PausedOn
			return r, nil
		}
		r.DaysPaused += stoppedDays(start, s)
	}

	if r.Statutory, err = cal.NextWorkingDay(r.Base.AddDays(r.DaysPaused)); err != nil {
		return DeadlineResult{}, fmt.Errorf("ukdates: deadline: %w", err)
	}
	r.Due = r.Statutory
	if in.Extended {
		if r.Extended, err = cal.NextWorkingDay(r.ExtendedBase.AddDays(r.DaysPaused)); err != nil {
			return DeadlineResult{}, fmt.Errorf("ukdates: extended deadline: %w", err)
		}
		r.Due = r.Extended
	}
	return r, nil
}

// startDate is rule 1.
func startDate(in DeadlineInput) (Date, error) {
	if in.ReceivedOn.IsZero() {
		return Date{}, fieldErr("receivedOn", "required")
	}
	if !in.ReceivedOn.IsValid() {
		return Date{}, fieldErr("receivedOn", "not a calendar date")
	}
	if in.RequirementsMetOn.IsZero() {
		return in.ReceivedOn, nil
	}
	if !in.RequirementsMetOn.IsValid() {
		return Date{}, fieldErr("requirementsMetOn", "not a calendar date")
	}
	if in.RequirementsMetOn.Before(in.ReceivedOn) {
		return Date{}, fieldErr("requirementsMetOn", "%s is before receivedOn %s", in.RequirementsMetOn, in.ReceivedOn)
	}
	return in.RequirementsMetOn, nil
}

// correspondingDate is rule 2: the same day of the month, months later,
// or the last day of that month when it is shorter.
func correspondingDate(d Date, months int) Date {
	m0 := int(d.Month) - 1 + months
	y, m := d.Year+m0/12, time.Month(m0%12+1)
	return Date{Year: y, Month: m, Day: min(d.Day, daysIn(y, m))}
}

// stoppedDays is rule 3: the days in [PausedOn, ResumedOn) on or after the
// start date. For the inclusive reading (both end days excluded) add one here.
func stoppedDays(start Date, s ClockStop) int {
	from := s.PausedOn
	if from.Before(start) {
		from = start
	}
	return max(0, from.DaysUntil(s.ResumedOn))
}

// noticeBy is rule 6: the extension notice is due within one month of the
// start, i.e. by the base date, not moved by clock stops or working days.
func noticeBy(base Date) Date { return base }

// checkStop validates in.ClockStops[i] on its own and against the stop
// before it.
func checkStop(in DeadlineInput, i int) error {
	s := in.ClockStops[i]
	field := func(name string) string { return fmt.Sprintf("clockStops[%d].%s", i, name) }
	switch {
	case s.PausedOn.IsZero():
		return fieldErr(field("pausedOn"), "required")
	case !s.PausedOn.IsValid():
		return fieldErr(field("pausedOn"), "not a calendar date")
	case s.PausedOn.Before(in.ReceivedOn):
		return fieldErr(field("pausedOn"), "%s is before receivedOn %s", s.PausedOn, in.ReceivedOn)
	case s.ResumedOn.IsZero() && i != len(in.ClockStops)-1:
		return fieldErr(field("resumedOn"), "required: only the last clock stop may still be open")
	case !s.ResumedOn.IsZero() && !s.ResumedOn.IsValid():
		return fieldErr(field("resumedOn"), "not a calendar date")
	case !s.ResumedOn.IsZero() && s.ResumedOn.Before(s.PausedOn):
		return fieldErr(field("resumedOn"), "%s is before pausedOn %s", s.ResumedOn, s.PausedOn)
	}
	if i > 0 {
		prev := in.ClockStops[i-1]
		if s.PausedOn.Before(prev.ResumedOn) {
			return fieldErr(field("pausedOn"), "%s overlaps clockStops[%d] (%s to %s); stops must be in date order and must not overlap",
				s.PausedOn, i-1, prev.PausedOn, prev.ResumedOn)
		}
	}
	return nil
}

// Explanation describes, step by step and in plain English, how r was worked
// out, naming any weekend or bank holiday skipped, for the audit trail and
// the UI. It allocates, so it is separate from Deadline.
func (r DeadlineResult) Explanation() []string {
	if r.cal == nil {
		return nil
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	if r.Start == r.in.ReceivedOn {
		add("The clock started on %s, the day the request was received: that day is day one, whatever the time and whether or not it is a working day.", human(r.Start))
	} else {
		add("The request was received on %s; the clock started on %s, the day the identity, authority or fee the council asked for arrived.", human(r.in.ReceivedOn), human(r.Start))
	}
	out = append(out, monthStep("One month", r.Start, r.Base, 1))

	for i, s := range r.in.ClockStops {
		if s.ResumedOn.IsZero() {
			add("Clock stop %d: paused since %s awaiting clarification. No deadline can be set until the clarification arrives.", i+1, human(s.PausedOn))
			break
		}
		add("Clock stop %d: clarification asked for on %s and received on %s: %d day(s) not counted.", i+1, human(s.PausedOn), human(s.ResumedOn), stoppedDays(r.Start, s))
	}
	if r.Paused {
		add("The extension notice, if one is needed, must still be sent by %s (clock stops are not counted for it)%s.", human(r.ExtensionNoticeBy), r.noticeHint())
		return out
	}
	if r.DaysPaused > 0 {
		add("The clock was stopped for %d day(s) in all, so the one-month date moves from %s to %s.", r.DaysPaused, human(r.Base), human(r.Base.AddDays(r.DaysPaused)))
	}
	out = append(out, r.rollStep("The one-month deadline", r.Base.AddDays(r.DaysPaused), r.Statutory))

	if r.in.Extended {
		out = append(out, monthStep("Extended: three months", r.Start, r.ExtendedBase, 3))
		if r.DaysPaused > 0 {
			add("Adding the %d day(s) the clock was stopped gives %s.", r.DaysPaused, human(r.ExtendedBase.AddDays(r.DaysPaused)))
		}
		out = append(out, r.rollStep("The extended deadline", r.ExtendedBase.AddDays(r.DaysPaused), r.Extended))
		add("The requester had to be told of the extension, with reasons, by %s (one month from the start)%s.", human(r.ExtensionNoticeBy), r.noticeHint())
	} else {
		add("If the deadline is extended, the requester must be told, with reasons, by %s (one month from the start)%s.", human(r.ExtensionNoticeBy), r.noticeHint())
	}
	return out
}

// monthStep explains rule 2.
func monthStep(what string, start, got Date, months int) string {
	if got.Day == start.Day {
		return fmt.Sprintf("%s from %s is the same date, %s.", what, human(start), human(got))
	}
	return fmt.Sprintf("%s from %s: %s %d has no %d%s, so it is the last day of that month, %s.",
		what, human(start), got.Month, got.Year, start.Day, ordinal(start.Day), human(got))
}

// rollStep explains rule 4, naming each day skipped.
func (r DeadlineResult) rollStep(what string, from, to Date) string {
	if from == to {
		return fmt.Sprintf("%s is the end of %s, a working day.", what, human(to))
	}
	s := fmt.Sprintf("%s would fall on %s, which is not a working day (", what, human(from))
	for d := from; d.Before(to); d = d.AddDays(1) {
		if d != from {
			s += "; "
		}
		if t := r.cal.HolidayTitle(d); t != "" {
			s += fmt.Sprintf("%s is a bank holiday in %s: %s", human(d), r.cal.Division(), t)
		} else {
			s += human(d) + " is a weekend"
		}
	}
	return s + fmt.Sprintf("), so it moves to the end of the next working day, %s.", human(to))
}

// noticeHint warns when the notice date is not a working day: rule 6 does
// not move it, so the notice should go out on the working day before.
func (r DeadlineResult) noticeHint() string {
	if ok, err := r.cal.IsWorkingDay(r.ExtensionNoticeBy); err == nil && !ok {
		return "; that is not a working day, so send it by the working day before"
	}
	return ""
}

func human(d Date) string { return d.midnightUTC().Format("Monday 2 January 2006") }

func ordinal(n int) string {
	if n%100 >= 11 && n%100 <= 13 {
		return "th"
	}
	switch n % 10 {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}
