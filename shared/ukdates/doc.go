// Package ukdates is the date engine for UK statutory deadlines: a civil
// [Date] type, UK bank-holiday calendars from gov.uk data ([Calendar]) and
// the ICO's time limits for UK GDPR individual-rights requests ([Deadline]).
//
// All the ICO rules, and the reading taken where the guidance leaves room,
// are in one file, ico.go, whose header comment cites the guidance.
//
// Bank holidays come from a copy of https://www.gov.uk/bank-holidays.json
// embedded at build time ([NewCalendar]); a newer copy can be loaded at run
// time with [LoadCalendar]. A date outside the years the data covers is an
// error wrapping [ErrNotCovered], never a silent "no holidays" answer.
package ukdates
