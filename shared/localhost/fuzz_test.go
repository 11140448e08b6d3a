package localhost

import (
	"testing"
	"time"
)

// FuzzParseSchedule: NCRONTAB and TimeSpan parsing never panics, and an
// accepted schedule gives a later time that parses to the same schedule.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{
		"0 */5 * * * *", "0 30 9 * * 1-5", "0 0 6 * * Mon-Fri", "0 0 6 * * monday,FRIDAY", "0 0 0 1 Jan,Jul *",
		"0 0 0 29 2 *", "0 0 0 31 * 1", "*/15 * * * *", "00:05:00", "1.00:00:00", "0 0 0 30 2 *", "0 0 * * * 7", "", "1-60/0 * * * * *",
	} {
		f.Add(s)
	}
	base := time.Date(2026, 3, 2, 10, 2, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := ParseSchedule(expr)
		if err != nil {
			return
		}
		if s == nil {
			t.Fatalf("ParseSchedule(%q) = nil, nil", expr)
		}
		next := s.Next(base)
		if next.IsZero() || !next.After(base) {
			t.Fatalf("ParseSchedule(%q).Next(%v) = %v", expr, base, next)
		}
		s2, err := ParseSchedule(expr)
		if err != nil || !s2.Next(base).Equal(next) {
			t.Fatalf("ParseSchedule(%q) not deterministic: %v", expr, err)
		}
	})
}
