package localhost

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestParseScheduleNext(t *testing.T) {
	// 2026-03-02 is a Monday.
	tests := []struct {
		name string
		expr string
		from string
		want []string
	}{
		{"every 5 minutes", "0 */5 * * * *", "2026-03-02T10:02:30Z", []string{"2026-03-02T10:05:00Z", "2026-03-02T10:10:00Z"}},
		{"on the boundary is strictly after", "0 */5 * * * *", "2026-03-02T10:05:00Z", []string{"2026-03-02T10:10:00Z"}},
		{"weekdays 9:30", "0 30 9 * * 1-5", "2026-03-06T10:00:00Z", []string{"2026-03-09T09:30:00Z", "2026-03-10T09:30:00Z"}},
		{"names Mon-Fri", "0 0 6 * * Mon-Fri", "2026-03-07T00:00:00Z", []string{"2026-03-09T06:00:00Z", "2026-03-10T06:00:00Z"}},
		{"full names, any case", "0 0 6 * * monday,FRIDAY", "2026-03-03T00:00:00Z", []string{"2026-03-06T06:00:00Z", "2026-03-09T06:00:00Z"}},
		{"month names", "0 0 0 1 Jan,Jul *", "2026-03-02T00:00:00Z", []string{"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
		{"5 fields: minute first, second 0", "30 9 * * 1-5", "2026-03-02T09:29:59Z", []string{"2026-03-02T09:30:00Z", "2026-03-03T09:30:00Z"}},
		{"every second", "*/1 * * * * *", "2026-03-02T10:00:00.5Z", []string{"2026-03-02T10:00:01Z", "2026-03-02T10:00:02Z"}},
		{"hourly", "0 0 * * * *", "2026-03-02T10:59:59Z", []string{"2026-03-02T11:00:00Z"}},
		{"list and range with step", "0 0 8-18/5,23 * * *", "2026-03-02T00:00:00Z", []string{"2026-03-02T08:00:00Z", "2026-03-02T13:00:00Z", "2026-03-02T18:00:00Z", "2026-03-02T23:00:00Z"}},
		{"value/step runs to the end", "0 50/5 * * * *", "2026-03-02T10:00:00Z", []string{"2026-03-02T10:50:00Z", "2026-03-02T10:55:00Z", "2026-03-02T11:50:00Z"}},
		{"day-of-month AND day-of-week (NCRONTAB, not Vixie OR)", "0 0 9 1 * Mon", "2026-01-01T00:00:00Z", []string{"2026-06-01T09:00:00Z", "2027-02-01T09:00:00Z"}},
		{"Sunday is 0", "0 0 12 * * 0", "2026-03-02T00:00:00Z", []string{"2026-03-08T12:00:00Z"}},
		{"29 February", "0 0 0 29 2 *", "2026-01-01T00:00:00Z", []string{"2028-02-29T00:00:00Z"}},
		{"31st skips short months", "0 0 0 31 * *", "2026-04-01T00:00:00Z", []string{"2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"}},
		{"year rollover", "0 0 0 1 1 *", "2026-12-31T23:59:59Z", []string{"2027-01-01T00:00:00Z"}},
		{"question mark as star", "0 0 0 ? * 1", "2026-03-03T00:00:00Z", []string{"2026-03-09T00:00:00Z"}},
		{"TimeSpan interval", "00:05:00", "2026-03-02T10:02:30Z", []string{"2026-03-02T10:07:30Z", "2026-03-02T10:12:30Z"}},
		{"TimeSpan with days", "1.00:00:00", "2026-03-02T10:00:00Z", []string{"2026-03-03T10:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSchedule(tt.expr)
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", tt.expr, err)
			}
			at := utc(strings.Replace(tt.from, ".5Z", "Z", 1))
			if strings.HasSuffix(tt.from, ".5Z") {
				at = at.Add(500 * time.Millisecond)
			}
			for _, w := range tt.want {
				at = s.Next(at)
				if !at.Equal(utc(w)) {
					t.Fatalf("next = %s, want %s", at.Format(time.RFC3339), w)
				}
			}
		})
	}
}

func TestParseScheduleErrors(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{"", "empty"},
		{"* * * *", "5 or 6 fields"},
		{"* * * * * * *", "5 or 6 fields"},
		{"60 * * * * *", "second field"},
		{"0 60 * * * *", "minute field"},
		{"0 0 24 * * *", "hour field"},
		{"0 0 0 0 * *", "day field"},
		{"0 0 0 32 * *", "day field"},
		{"0 0 0 * 13 *", "month field"},
		{"0 0 0 * * 7", "day-of-week field"},
		{"0 0 0 * * Mo", "day-of-week field"},
		{"0 0 0 * * Funday", "day-of-week field"},
		{"0 */0 * * * *", "step"},
		{"0 */x * * * *", "step"},
		{"0 30-10 * * * *", "backwards"},
		{"0 1,,2 * * * *", "empty list item"},
		{"0 0 0 30 2 *", "never fires"},
		{"25:00:00", "TimeSpan"},
		{"00:00:00", "positive"},
		{"@daily", "5 or 6 fields"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := ParseSchedule(tt.expr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseSchedule(%q) error = %v, want one mentioning %q", tt.expr, err, tt.want)
			}
		})
	}
}

// TestScheduleAgreesWithRobfig cross-checks expressions where NCRONTAB and
// robfig/cron share semantics (at most one of day-of-month and day-of-week
// restricted).
func TestScheduleAgreesWithRobfig(t *testing.T) {
	p := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)
	exprs := []string{
		"0 */5 * * * *", "0 30 9 * * 1-5", "0 0 6 * * Mon-Fri", "*/7 */3 * * * *",
		"0 15 2 */2 * *", "0 0 0 * Feb,Aug *", "30 9 * * 1-5", "0 0 12 L-W * *",
	}
	from := utc("2026-01-01T00:00:00Z")
	for _, e := range exprs {
		ours, err := ParseSchedule(e)
		theirs, err2 := p.Parse(e)
		if err != nil || err2 != nil {
			if (err == nil) != (err2 == nil) && !strings.Contains(e, "L") {
				t.Errorf("%q: ours err=%v robfig err=%v", e, err, err2)
			}
			continue
		}
		a, b := from, from
		for i := 0; i < 200; i++ {
			a, b = ours.Next(a), theirs.Next(b)
			if !a.Equal(b) {
				t.Fatalf("%q step %d: ours %s, robfig %s", e, i, a, b)
			}
		}
	}
}

func TestMonitorDefault(t *testing.T) {
	for expr, want := range map[string]bool{"*/1 * * * * *": false, "*/30 * * * * *": false, "0 * * * * *": true, "0 */5 * * * *": true, "00:00:10": false, "00:01:00": true} {
		s, err := ParseSchedule(expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := monitorDefault(s); got != want {
			t.Errorf("monitorDefault(%q) = %v, want %v", expr, got, want)
		}
	}
}
