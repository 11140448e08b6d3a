package contracts

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/ukdates"
)

// Period is an ISO 8601 duration of whole calendar units, as contracts state
// notice periods and terms: P3M, P90D, P1Y2M, P2W. Time components (PT…) are
// refused: a contract's notice is never "three hours". The zero Period is
// "not stated".
type Period struct {
	Years, Months, Days int
}

// ErrPeriod is wrapped by ParsePeriod errors.
var ErrPeriod = errors.New("not an ISO 8601 period such as P3M, P90D or P1Y2M")

// maxPeriodUnits bounds each component, so arithmetic cannot overflow and a
// typo such as P3000Y is caught.
const maxPeriodUnits = 100 * 366

// ParsePeriod parses an ISO 8601 duration with Y, M, W and D components
// (weeks become 7 days). Components must appear in that order, each at most
// once; "P0D" is a valid zero period.
func ParsePeriod(s string) (Period, error) {
	var p Period
	s = strings.TrimSpace(s)
	if len(s) < 3 || (s[0] != 'P' && s[0] != 'p') {
		return p, ErrPeriod
	}
	rest := strings.ToUpper(s[1:])
	order := "YMWD"
	last := -1
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || i > 6 {
			return Period{}, ErrPeriod
		}
		n, _ := strconv.Atoi(rest[:i])
		pos := strings.IndexByte(order, rest[i])
		if pos <= last || n > maxPeriodUnits {
			return Period{}, ErrPeriod
		}
		last = pos
		switch rest[i] {
		case 'Y':
			p.Years = n
		case 'M':
			p.Months = n
		case 'W':
			p.Days += 7 * n
		case 'D':
			p.Days += n
		}
		rest = rest[i+1:]
	}
	return p, nil
}

// IsZero reports whether p is zero (not stated, or P0D).
func (p Period) IsZero() bool { return p == Period{} }

// String formats p as ISO 8601 ("" for the zero Period).
func (p Period) String() string {
	if p.IsZero() {
		return ""
	}
	b := []byte{'P'}
	if p.Years != 0 {
		b = strconv.AppendInt(b, int64(p.Years), 10)
		b = append(b, 'Y')
	}
	if p.Months != 0 {
		b = strconv.AppendInt(b, int64(p.Months), 10)
		b = append(b, 'M')
	}
	if p.Days != 0 {
		b = strconv.AppendInt(b, int64(p.Days), 10)
		b = append(b, 'D')
	}
	return string(b)
}

// MarshalText encodes p as ISO 8601.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses ISO 8601 ("" is the zero Period).
func (p *Period) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = Period{}
		return nil
	}
	q, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Times returns p multiplied by k (k whole terms of a renewal period).
func (p Period) Times(k int) Period {
	return Period{Years: p.Years * k, Months: p.Months * k, Days: p.Days * k}
}

// approxDays is p's length in days on average, for estimates only.
func (p Period) approxDays() float64 {
	return float64(p.Years)*365.2425 + float64(p.Months)*30.436875 + float64(p.Days)
}

// AddTo returns d moved forward by p (or back, when sign is negative).
//
// Years and months move first, together, to the corresponding date: the same
// day of the target month or, when that month is shorter, its last day
// (31 May minus P3M is 28 February, or 29 in a leap year; 29 February 2028
// plus P1Y is 28 February 2029). The whole month count moves in one step, so
// 31 May minus P3M never drifts through 30 April and 30 March. Days follow.
// A month-end date is not treated as "the last day of the month" in general:
// 30 June minus P1M is 30 May, as the corresponding-date rule in English
// law (Dodds v Walker) reads a month.
func (p Period) AddTo(d ukdates.Date, sign int) ukdates.Date {
	if sign < 0 {
		sign = -1
	} else {
		sign = 1
	}
	if months := sign * (12*p.Years + p.Months); months != 0 {
		m0 := int(d.Month) - 1 + months
		y := d.Year + floorDiv(m0, 12)
		m := time.Month(m0-12*floorDiv(m0, 12)) + 1
		d = ukdates.Date{Year: y, Month: m, Day: min(d.Day, daysIn(y, m))}
	}
	if p.Days != 0 {
		d = d.AddDays(sign * p.Days)
	}
	return d
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func daysIn(y int, m time.Month) int {
	switch m {
	case time.April, time.June, time.September, time.November:
		return 30
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}
