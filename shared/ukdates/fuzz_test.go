package ukdates

import (
	"bytes"
	"testing"
)

// FuzzLoadCalendar: the gov.uk bank-holidays reader never panics; a
// calendar it accepts answers for every day it covers, and its holidays
// fall within the years it reports.
func FuzzLoadCalendar(f *testing.F) {
	f.Add(embeddedHolidays, "england-and-wales")
	f.Add([]byte(`{"scotland":{"division":"scotland","events":[{"title":"New Year’s Day","date":"2026-01-01","notes":"","bunting":true},{"title":"2nd January","date":"2026-01-02","notes":"Substitute day","bunting":true}]}}`), "scotland")
	f.Add([]byte(`{"northern-ireland":{"division":"northern-ireland","events":[{"title":"a","date":"2024-01-01"},{"title":"b","date":"2026-01-01"}]}}`), "northern-ireland")
	f.Add([]byte(`{"england-and-wales":{"division":"scotland","events":[]}}`), "england-and-wales")
	f.Add([]byte(`{"england-and-wales":{"events":[{"date":"2026-02-30"}]}}`), "")
	f.Add([]byte(`[]`), "wales")
	f.Fuzz(func(t *testing.T, data []byte, div string) {
		c, err := LoadCalendar(bytes.NewReader(data), Division(div))
		if err != nil {
			return
		}
		if c.FirstYear() > c.LastYear() {
			t.Fatalf("years %d..%d", c.FirstYear(), c.LastYear())
		}
		first := Date{c.FirstYear(), 1, 1}
		last := Date{c.LastYear(), 12, 31}
		for _, d := range []Date{first, last} {
			if !c.Covers(d) {
				t.Fatalf("does not cover its own bound %v", d)
			}
			if _, err := c.IsBankHoliday(d); err != nil {
				t.Fatalf("IsBankHoliday(%v): %v", d, err)
			}
			_, _ = c.IsWorkingDay(d)
			_, _ = c.NextWorkingDay(d)
		}
		if c.Covers(Date{c.LastYear() + 1, 1, 1}) {
			t.Fatal("covers the year after its last")
		}
		if c.LastYear()-c.FirstYear() < 3 {
			if _, err := c.WorkingDaysBetween(first, last); err != nil {
				t.Fatalf("WorkingDaysBetween over its own span: %v", err)
			}
		}
	})
}
