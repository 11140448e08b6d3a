package localhost

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule yields a timer's occurrences.
type Schedule interface {
	// Next returns the first occurrence strictly after t, or the zero time
	// when there is none within five years.
	Next(t time.Time) time.Time
	// String returns the expression the schedule was parsed from.
	String() string
}

// ParseSchedule parses a timer schedule as the Functions timer trigger
// does: an NCRONTAB expression with six fields ({second} {minute} {hour}
// {day} {month} {day-of-week}) or five (no seconds; second 0), or a TimeSpan
// ("hh:mm:ss", "d.hh:mm:ss") for a fixed interval.
//
// NCRONTAB differs from Vixie cron, and therefore from robfig/cron, in one
// way that matters: when both day-of-month and day-of-week are restricted,
// both must match (robfig/cron fires when either matches). Month and
// day-of-week names may be given as 3-letter abbreviations or full English
// names, case-insensitively; day-of-week runs 0-6 with 0 = Sunday. Times are
// UTC.
func ParseSchedule(expr string) (Schedule, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, errors.New("schedule is empty")
	}
	fields := strings.Fields(expr)
	if len(fields) == 1 && strings.Contains(expr, ":") {
		d, err := parseTimeSpan(expr)
		if err != nil {
			return nil, err
		}
		if d <= 0 {
			return nil, errors.New("a TimeSpan schedule must be positive")
		}
		return intervalSchedule{every: d, expr: expr}, nil
	}
	return parseCron(expr)
}

// CronSchedule is a parsed NCRONTAB expression.
type CronSchedule struct {
	expr                                  string
	second, minute, hour, dom, month, dow uint64 // bit i set = value i allowed
}

type cronField struct {
	name     string
	min, max int
	names    []string // index 0 = value min
}

var (
	monthNames = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
	dayNames   = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
	cronFields = []cronField{
		{name: "second", min: 0, max: 59},
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: monthNames},
		{name: "day-of-week", min: 0, max: 6, names: dayNames},
	}
)

func parseCron(expr string) (*CronSchedule, error) {
	fields := strings.Fields(expr)
	switch len(fields) {
	case 5:
		fields = append([]string{"0"}, fields...)
	case 6:
	default:
		return nil, fmt.Errorf("an NCRONTAB expression has 5 or 6 fields, this has %d", len(fields))
	}
	var bits [6]uint64
	var errs []error
	for i, f := range fields {
		b, err := cronFields[i].parse(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s field %q: %w", cronFields[i].name, f, err))
		}
		bits[i] = b
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &CronSchedule{expr: expr, second: bits[0], minute: bits[1], hour: bits[2], dom: bits[3], month: bits[4], dow: bits[5]}
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, errors.New("the schedule never fires")
	}
	return s, nil
}

func (f cronField) parse(s string) (uint64, error) {
	var bits uint64
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			return 0, errors.New("empty list item")
		}
		rng, stepStr, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("step %q must be a positive integer", stepStr)
			}
			step = n
		}
		lo, hi := f.min, f.max
		switch {
		case rng == "*" || rng == "?":
		default:
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return 0, err
			}
			hi = lo
			if isRange {
				if hi, err = f.value(b); err != nil {
					return 0, err
				}
				if hi < lo {
					return 0, fmt.Errorf("range %q runs backwards", rng)
				}
			} else if hasStep {
				hi = f.max // "a/n" means from a to the end, every n
			}
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

func (f cronField) value(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < f.min || n > f.max {
			return 0, fmt.Errorf("%d is outside %d-%d", n, f.min, f.max)
		}
		return n, nil
	}
	if f.names != nil && len(s) >= 3 {
		ls := strings.ToLower(s)
		for i, name := range f.names {
			if ls == name[:3] || ls == name {
				return f.min + i, nil
			}
		}
	}
	return 0, fmt.Errorf("%q is not a number in %d-%d or a known name", s, f.min, f.max)
}

func has(bits uint64, v int) bool { return bits&(1<<uint(v)) != 0 }

// Next returns the first occurrence strictly after t (in UTC), or the zero
// time if there is none within five years.
func (s *CronSchedule) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Second).Add(time.Second)
	// The Gregorian calendar repeats every 400 years: a schedule that does
	// not fire within them never fires. (Five years was too short: Tuesday
	// 20 January comes round in 2032 after 2026.)
	limit := t.Year() + 400
	for t.Year() <= limit {
		switch {
		case !has(s.month, int(t.Month())):
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !has(s.dom, t.Day()) || !has(s.dow, int(t.Weekday())):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		case !has(s.hour, t.Hour()):
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
		case !has(s.minute, t.Minute()):
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute()+1, 0, 0, time.UTC)
		case !has(s.second, t.Second()):
			t = t.Add(time.Second)
		default:
			return t
		}
	}
	return time.Time{}
}

// String returns the expression.
func (s *CronSchedule) String() string { return s.expr }

type intervalSchedule struct {
	every time.Duration
	expr  string
}

func (s intervalSchedule) Next(t time.Time) time.Time { return t.UTC().Add(s.every) }
func (s intervalSchedule) String() string             { return s.expr }

// monitorDefault mirrors the timer extension: schedules that fire at least a
// minute apart are monitored (ScheduleStatus is sent), more frequent ones not.
func monitorDefault(s Schedule) bool {
	t := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	a := s.Next(t)
	b := s.Next(a)
	return b.Sub(a) >= time.Minute
}

// parseTimeSpan parses a .NET TimeSpan in the forms host.json and timer
// schedules use: [d.]hh:mm[:ss[.fffffff]].
func parseTimeSpan(s string) (time.Duration, error) {
	orig := s
	bad := fmt.Errorf("%q is not a TimeSpan ([d.]hh:mm[:ss[.fff]])", orig)
	var days int
	if d, rest, ok := strings.Cut(s, "."); ok && strings.Contains(rest, ":") && !strings.Contains(d, ":") {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, bad
		}
		days, s = n, rest
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, bad
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, bad
	}
	var sec float64
	if len(parts) == 3 {
		f, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || f < 0 || f >= 60 {
			return 0, bad
		}
		sec = f
	}
	return time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec*float64(time.Second)), nil
}
