package ukdates

import (
	"cmp"
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // Europe/London must resolve even on hosts without zoneinfo.
)

// isoLayout is the only text form of a Date: ISO 8601 calendar date.
const isoLayout = "2006-01-02"

// Date is a civil (calendar) date with no time of day and no time zone.
// The zero value means "no date"; see IsZero. Build one with a literal,
// e.g. Date{2024, time.January, 31}, or with ParseDate or LondonDate.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses an ISO 8601 date such as "2024-01-31". It rejects
// impossible dates such as "2023-02-29".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(isoLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("ukdates: parse date %q (want YYYY-MM-DD): %w", s, err)
	}
	return dateOf(t), nil
}

// london is Europe/London, loaded once. The time/tzdata import guarantees it
// resolves, so a failure here is a build defect rather than a runtime condition.
var london = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(fmt.Sprintf("ukdates: load Europe/London despite embedded tzdata: %v", err))
	}
	return loc
})

// London returns the Europe/London time zone (GMT in winter, BST in summer).
func London() *time.Location { return london() }

// LondonDate returns the UK calendar date of the instant t, whatever zone t
// carries: 2024-03-31T22:30:00Z is 23:30 BST, so it is 31 March.
func LondonDate(t time.Time) Date { return dateOf(t.In(london())) }

// Today returns the current UK calendar date.
func Today() Date { return LondonDate(time.Now()) }

// dateOf takes the calendar date of t in t's own location.
func dateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsZero reports whether d is the zero Date (no date recorded).
func (d Date) IsZero() bool { return d == Date{} }

// IsValid reports whether d names a real calendar date.
func (d Date) IsValid() bool {
	return d.Month >= time.January && d.Month <= time.December &&
		d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

// String formats d as YYYY-MM-DD; the zero Date formats as "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.midnightUTC().Format(isoLayout)
}

// MarshalText implements encoding.TextMarshaler (and so JSON) as YYYY-MM-DD.
// The zero Date marshals as the empty string.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	if !d.IsValid() {
		return nil, fmt.Errorf("ukdates: marshal invalid date %d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	return d.midnightUTC().AppendFormat(nil, isoLayout), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (and so JSON) from
// YYYY-MM-DD. The empty string gives the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.midnightUTC().Weekday() }

// IsWeekend reports whether d is a Saturday or a Sunday.
func (d Date) IsWeekend() bool {
	w := d.Weekday()
	return w == time.Saturday || w == time.Sunday
}

// AddDays returns d moved by n calendar days (n may be negative).
func (d Date) AddDays(n int) Date { return fromDayNumber(d.dayNumber() + n) }

// DaysUntil returns the number of calendar days from d to e: positive when e
// is later, zero when equal, negative when e is earlier.
func (d Date) DaysUntil(e Date) int { return e.dayNumber() - d.dayNumber() }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmp.Compare(d.Year, e.Year)
	case d.Month != e.Month:
		return cmp.Compare(int(d.Month), int(e.Month))
	default:
		return cmp.Compare(d.Day, e.Day)
	}
}

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// midnightUTC is d as a time.Time, used only for calendar arithmetic.
// UTC has no daylight-saving gaps, so every day is exactly 24 hours.
func (d Date) midnightUTC() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

const secondsPerDay = 24 * 60 * 60

// dayNumber counts days since 1970-01-01 (negative before it).
func (d Date) dayNumber() int {
	// Midnight UTC is an exact multiple of a day, so the division is exact
	// for dates before 1970 too.
	return int(d.midnightUTC().Unix() / secondsPerDay)
}

func fromDayNumber(n int) Date {
	return dateOf(time.Unix(int64(n)*secondsPerDay, 0).UTC())
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	// Day 0 of the next month is the last day of this one.
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
