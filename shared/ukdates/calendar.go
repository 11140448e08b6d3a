package ukdates

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Division is a gov.uk bank-holiday division: the part of the UK whose
// bank holidays apply.
type Division string

// The divisions published at https://www.gov.uk/bank-holidays.json.
const (
	EnglandAndWales Division = "england-and-wales"
	Scotland        Division = "scotland"
	NorthernIreland Division = "northern-ireland"
)

// DefaultDivision is the division used when a setting is empty.
const DefaultDivision = EnglandAndWales

// ParseDivision validates a division name from configuration. The empty
// string selects DefaultDivision.
func ParseDivision(s string) (Division, error) {
	switch d := Division(s); d {
	case "":
		return DefaultDivision, nil
	case EnglandAndWales, Scotland, NorthernIreland:
		return d, nil
	}
	return "", fmt.Errorf("ukdates: unknown division %q (want %s, %s or %s)", s, EnglandAndWales, Scotland, NorthernIreland)
}

// ErrNotCovered is returned (wrapped) when a date falls outside the years the
// bank-holiday data covers. The answer would be a guess, so callers must not
// carry on: alert that the bank-holiday data needs updating.
var ErrNotCovered = errors.New("ukdates: bank-holiday data needs updating")

//go:embed bank-holidays.json
var embeddedHolidays []byte

// embeddedCalendars parses the embedded gov.uk file once, for every division.
var embeddedCalendars = sync.OnceValues(func() (map[Division]*Calendar, error) {
	cals := make(map[Division]*Calendar, 3)
	for _, div := range []Division{EnglandAndWales, Scotland, NorthernIreland} {
		c, err := LoadCalendar(bytes.NewReader(embeddedHolidays), div)
		if err != nil {
			return nil, fmt.Errorf("ukdates: embedded bank-holidays.json: %w", err)
		}
		cals[div] = c
	}
	return cals, nil
})

// Calendar knows the weekends and bank holidays of one division for a
// contiguous range of years. It is immutable and safe for concurrent use.
type Calendar struct {
	division  Division
	firstYear int
	lastYear  int
	firstDay  int            // dayNumber of 1 January firstYear
	holidays  []uint64       // bit i set: firstDay+i is a bank holiday
	titles    map[int]string // dayNumber → title (and notes), for explanations
}

// NewCalendar returns the calendar for div from the bank-holiday data
// embedded in this package (gov.uk format). The empty division selects
// DefaultDivision.
func NewCalendar(div Division) (*Calendar, error) {
	div, err := ParseDivision(string(div))
	if err != nil {
		return nil, err
	}
	cals, err := embeddedCalendars()
	if err != nil {
		return nil, err
	}
	return cals[div], nil
}

// govukFile is the shape of https://www.gov.uk/bank-holidays.json.
type govukFile map[string]struct {
	Division string `json:"division"`
	Events   []struct {
		Title string `json:"title"`
		Date  string `json:"date"`
		Notes string `json:"notes"`
	} `json:"events"`
}

// LoadCalendar reads a file in the gov.uk bank-holidays.json format (for
// example a newer copy kept in blob storage) and returns the calendar for
// div. The years covered run from the first to the last year with events;
// a year in between with no events is an error, since every UK year has
// bank holidays and a gap means the file is damaged.
func LoadCalendar(r io.Reader, div Division) (*Calendar, error) {
	div, err := ParseDivision(string(div))
	if err != nil {
		return nil, err
	}
	var f govukFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("ukdates: decode bank holidays: %w", err)
	}
	d, ok := f[string(div)]
	if !ok {
		return nil, fmt.Errorf("ukdates: bank holidays: no %q division in the file", div)
	}
	if d.Division != "" && d.Division != string(div) {
		return nil, fmt.Errorf("ukdates: bank holidays: %s.division is %q", div, d.Division)
	}
	if len(d.Events) == 0 {
		return nil, fmt.Errorf("ukdates: bank holidays: %s.events is empty", div)
	}

	dates := make([]Date, len(d.Events))
	c := &Calendar{division: div, firstYear: 1 << 30, lastYear: -1 << 30, titles: make(map[int]string, len(d.Events))}
	for i, e := range d.Events {
		day, err := ParseDate(e.Date)
		if err != nil {
			return nil, fmt.Errorf("ukdates: bank holidays: %s.events[%d].date: %w", div, i, err)
		}
		dates[i] = day
		c.firstYear = min(c.firstYear, day.Year)
		c.lastYear = max(c.lastYear, day.Year)
		title := e.Title
		if e.Notes != "" {
			title += " (" + e.Notes + ")"
		}
		if _, dup := c.titles[day.dayNumber()]; !dup {
			c.titles[day.dayNumber()] = title
		}
	}

	c.firstDay = Date{c.firstYear, time.January, 1}.dayNumber()
	span := Date{c.lastYear + 1, time.January, 1}.dayNumber() - c.firstDay
	c.holidays = make([]uint64, (span+63)/64)
	seen := make(map[int]bool, c.lastYear-c.firstYear+1)
	for _, day := range dates {
		i := day.dayNumber() - c.firstDay
		c.holidays[i/64] |= 1 << (i % 64)
		seen[day.Year] = true
	}
	for y := c.firstYear; y <= c.lastYear; y++ {
		if !seen[y] {
			return nil, fmt.Errorf("ukdates: bank holidays: %s has no events in %d (between %d and %d); the file looks incomplete", div, y, c.firstYear, c.lastYear)
		}
	}
	return c, nil
}

// Division returns the division whose bank holidays c holds.
func (c *Calendar) Division() Division { return c.division }

// FirstYear returns the first year the bank-holiday data covers.
func (c *Calendar) FirstYear() int { return c.firstYear }

// LastYear returns the last year the bank-holiday data covers.
func (c *Calendar) LastYear() int { return c.lastYear }

// Covers reports whether d falls in a year the bank-holiday data covers.
func (c *Calendar) Covers(d Date) bool {
	return d.Year >= c.firstYear && d.Year <= c.lastYear
}

// check rejects dates that are invalid or outside the data.
func (c *Calendar) check(d Date) error {
	if !d.IsValid() {
		return fmt.Errorf("ukdates: invalid date %d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	if !c.Covers(d) {
		return fmt.Errorf("%w: %s is outside the %s data (%d–%d)", ErrNotCovered, d, c.division, c.firstYear, c.lastYear)
	}
	return nil
}

// IsBankHoliday reports whether d is a bank holiday in c's division. It
// returns an error wrapping ErrNotCovered when d is outside the data.
func (c *Calendar) IsBankHoliday(d Date) (bool, error) {
	if err := c.check(d); err != nil {
		return false, err
	}
	i := d.dayNumber() - c.firstDay
	return c.holidays[i/64]&(1<<(i%64)) != 0, nil
}

// HolidayTitle returns the gov.uk title of the bank holiday on d, with its
// notes (e.g. "christmas (substitute_day)"), or "" if d is not one.
func (c *Calendar) HolidayTitle(d Date) string { return c.titles[d.dayNumber()] }

// IsWorkingDay reports whether d is Monday to Friday and not a bank holiday.
// A Saturday or Sunday is never a working day, so it is answered without the
// data; any other day outside the data is an error wrapping ErrNotCovered.
func (c *Calendar) IsWorkingDay(d Date) (bool, error) {
	if d.IsValid() && d.IsWeekend() {
		return false, nil
	}
	hol, err := c.IsBankHoliday(d)
	if err != nil {
		return false, err
	}
	return !hol, nil
}

// NextWorkingDay returns d if it is a working day, otherwise the first
// working day after it.
func (c *Calendar) NextWorkingDay(d Date) (Date, error) {
	for {
		ok, err := c.IsWorkingDay(d)
		if err != nil {
			return Date{}, err
		}
		if ok {
			return d, nil
		}
		d = d.AddDays(1)
	}
}

// WorkingDaysBetween counts the working days after from, up to and including
// to: from Friday to the following Monday is 1, from a day to itself is 0.
// It is negative when to is before from, so "due in N working days" is
// WorkingDaysBetween(today, due) and an overdue item gives a negative N.
func (c *Calendar) WorkingDaysBetween(from, to Date) (int, error) {
	for _, d := range [2]Date{from, to} {
		if !d.IsValid() {
			return 0, fmt.Errorf("ukdates: invalid date %d-%02d-%02d", d.Year, int(d.Month), d.Day)
		}
	}
	sign := 1
	if to.Before(from) {
		from, to, sign = to, from, -1
	}
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		ok, err := c.IsWorkingDay(d)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return sign * n, nil
}
