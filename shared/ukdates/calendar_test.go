package ukdates

import (
	"errors"
	"strings"
	"testing"
)

func mustCalendar(t testing.TB, div Division) *Calendar {
	t.Helper()
	c, err := NewCalendar(div)
	if err != nil {
		t.Fatalf("NewCalendar(%q): %v", div, err)
	}
	return c
}

func TestNewCalendar(t *testing.T) {
	tests := []struct {
		div     Division
		want    Division
		wantErr bool
	}{
		{div: "", want: EnglandAndWales},
		{div: EnglandAndWales, want: EnglandAndWales},
		{div: Scotland, want: Scotland},
		{div: NorthernIreland, want: NorthernIreland},
		{div: "wales", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(string(tt.div), func(t *testing.T) {
			c, err := NewCalendar(tt.div)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if c.Division() != tt.want || c.FirstYear() != 2019 || c.LastYear() != 2028 {
				t.Errorf("got %s %d–%d, want %s 2019–2028", c.Division(), c.FirstYear(), c.LastYear(), tt.want)
			}
		})
	}
}

func TestIsBankHoliday(t *testing.T) {
	tests := []struct {
		name string
		div  Division
		d    string
		want bool
	}{
		{"new year", EnglandAndWales, "2024-01-01", true},
		{"2 January is Scottish only (E&W)", EnglandAndWales, "2025-01-02", false},
		{"2 January is Scottish only (Scotland)", Scotland, "2025-01-02", true},
		{"Easter Monday E&W", EnglandAndWales, "2024-04-01", true},
		{"Easter Monday not in Scotland", Scotland, "2024-04-01", false},
		{"Easter Monday NI", NorthernIreland, "2024-04-01", true},
		{"Good Friday Scotland", Scotland, "2024-03-29", true},
		{"St Andrew's Day Scotland", Scotland, "2023-11-30", true},
		{"St Andrew's Day not E&W", EnglandAndWales, "2023-11-30", false},
		{"Battle of the Boyne NI", NorthernIreland, "2023-07-12", true},
		{"12 July not E&W", EnglandAndWales, "2023-07-12", false},
		{"St Patrick's substitute NI 2024", NorthernIreland, "2024-03-18", true},
		{"summer E&W is late August", EnglandAndWales, "2024-08-26", true},
		{"summer Scotland is early August", Scotland, "2024-08-05", true},
		{"summer Scotland not late August", Scotland, "2024-08-26", false},
		{"Christmas 2021 substitute Mon 27", EnglandAndWales, "2021-12-27", true},
		{"Boxing Day 2021 substitute Tue 28", EnglandAndWales, "2021-12-28", true},
		{"New Year 2022 substitute Mon 3 Jan", EnglandAndWales, "2022-01-03", true},
		{"Saturday Christmas itself is not listed", EnglandAndWales, "2021-12-25", false},
		{"2027 Christmas substitute", EnglandAndWales, "2027-12-27", true},
		{"2027 Boxing Day substitute", EnglandAndWales, "2027-12-28", true},
		{"coronation 2023", EnglandAndWales, "2023-05-08", true},
		{"Queen's funeral 2022", EnglandAndWales, "2022-09-19", true},
		{"ordinary Tuesday", EnglandAndWales, "2024-03-12", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustCalendar(t, tt.div).IsBankHoliday(day(tt.d))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("IsBankHoliday(%s) in %s = %v, want %v", tt.d, tt.div, got, tt.want)
			}
		})
	}
}

func TestWorkingDays(t *testing.T) {
	tests := []struct {
		name        string
		div         Division
		d           string
		wantWorking bool
		wantNext    string
	}{
		{"weekday", EnglandAndWales, "2024-03-12", true, "2024-03-12"},
		{"Saturday", EnglandAndWales, "2024-06-15", false, "2024-06-17"},
		{"Sunday", EnglandAndWales, "2024-06-16", false, "2024-06-17"},
		{"Good Friday to Tuesday after Easter Monday", EnglandAndWales, "2024-03-29", false, "2024-04-02"},
		{"Good Friday to Easter Monday in Scotland", Scotland, "2024-03-29", false, "2024-04-01"},
		{"Christmas 2021 Saturday → Wed 29", EnglandAndWales, "2021-12-25", false, "2021-12-29"},
		{"New Year 2022 Saturday → Tue 4 (E&W)", EnglandAndWales, "2022-01-01", false, "2022-01-04"},
		{"New Year 2022 Saturday → Wed 5 (Scotland)", Scotland, "2022-01-01", false, "2022-01-05"},
		{"Christmas 2022 Sunday → Wed 28", EnglandAndWales, "2022-12-25", false, "2022-12-28"},
		{"Christmas 2027 Saturday → Wed 29", EnglandAndWales, "2027-12-25", false, "2027-12-29"},
		{"Saturday outside data is still not a working day", EnglandAndWales, "2029-01-06", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCalendar(t, tt.div)
			got, err := c.IsWorkingDay(day(tt.d))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.wantWorking {
				t.Errorf("IsWorkingDay(%s) = %v, want %v", tt.d, got, tt.wantWorking)
			}
			next, err := c.NextWorkingDay(day(tt.d))
			if tt.wantNext == "" {
				if !errors.Is(err, ErrNotCovered) {
					t.Errorf("NextWorkingDay(%s) error = %v, want ErrNotCovered", tt.d, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if next != day(tt.wantNext) {
				t.Errorf("NextWorkingDay(%s) = %s, want %s", tt.d, next, tt.wantNext)
			}
		})
	}
}

func TestNotCovered(t *testing.T) {
	c := mustCalendar(t, EnglandAndWales)
	tests := []struct {
		name string
		d    string
	}{
		{"year after the data", "2029-01-02"},
		{"year before the data", "2018-12-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := day(tt.d)
			if c.Covers(d) {
				t.Errorf("Covers(%s) = true", d)
			}
			_, err := c.IsBankHoliday(d)
			if !errors.Is(err, ErrNotCovered) {
				t.Fatalf("IsBankHoliday error = %v, want ErrNotCovered", err)
			}
			if !strings.Contains(err.Error(), "needs updating") || !strings.Contains(err.Error(), "2019–2028") {
				t.Errorf("error %q should say the data needs updating and give the covered years", err)
			}
			if _, err := c.IsWorkingDay(d); !errors.Is(err, ErrNotCovered) {
				t.Errorf("IsWorkingDay error = %v, want ErrNotCovered", err)
			}
		})
	}
	for _, d := range []string{"2019-01-01", "2028-12-31"} {
		if !c.Covers(day(d)) {
			t.Errorf("Covers(%s) = false", d)
		}
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		want     int
	}{
		{"same day", "2024-03-12", "2024-03-12", 0},
		{"Friday to Monday", "2024-03-08", "2024-03-11", 1},
		{"a full week", "2024-03-11", "2024-03-18", 5},
		{"over Easter", "2024-03-28", "2024-04-03", 2},
		{"over Christmas 2024", "2024-12-20", "2024-12-31", 5},
		{"overdue is negative", "2024-03-11", "2024-03-08", -1},
	}
	c := mustCalendar(t, EnglandAndWales)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.WorkingDaysBetween(day(tt.from), day(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
	if _, err := c.WorkingDaysBetween(day("2028-12-20"), day("2029-01-10")); !errors.Is(err, ErrNotCovered) {
		t.Errorf("beyond the data: error = %v, want ErrNotCovered", err)
	}
}

func TestLoadCalendar(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		div     Division
		wantErr string
		check   func(t *testing.T, c *Calendar)
	}{
		{
			name: "newer file extends coverage",
			json: `{"england-and-wales":{"division":"england-and-wales","events":[
				{"title":"New Year’s Day","date":"2029-01-01","notes":"","bunting":true},
				{"title":"Christmas Day","date":"2030-12-25","notes":"","bunting":true}]}}`,
			div: EnglandAndWales,
			check: func(t *testing.T, c *Calendar) {
				if c.FirstYear() != 2029 || c.LastYear() != 2030 {
					t.Errorf("years %d–%d, want 2029–2030", c.FirstYear(), c.LastYear())
				}
				if ok, err := c.IsBankHoliday(day("2030-12-25")); err != nil || !ok {
					t.Errorf("2030-12-25: %v, %v", ok, err)
				}
				if c.HolidayTitle(day("2029-01-01")) != "New Year’s Day" {
					t.Errorf("title = %q", c.HolidayTitle(day("2029-01-01")))
				}
			},
		},
		{name: "missing division", json: `{"scotland":{"division":"scotland","events":[{"title":"x","date":"2029-01-01"}]}}`, div: EnglandAndWales, wantErr: `no "england-and-wales" division`},
		{name: "mismatched division", json: `{"scotland":{"division":"england-and-wales","events":[{"title":"x","date":"2029-01-01"}]}}`, div: Scotland, wantErr: "scotland.division"},
		{name: "no events", json: `{"scotland":{"division":"scotland","events":[]}}`, div: Scotland, wantErr: "events is empty"},
		{name: "bad date names the event", json: `{"scotland":{"events":[{"title":"x","date":"2029-02-30"}]}}`, div: Scotland, wantErr: "scotland.events[0].date"},
		{name: "gap year", json: `{"scotland":{"events":[{"title":"x","date":"2029-01-01"},{"title":"y","date":"2031-01-01"}]}}`, div: Scotland, wantErr: "no events in 2030"},
		{name: "not JSON", json: `<html>`, div: Scotland, wantErr: "decode"},
		{name: "unknown division", json: `{}`, div: "wales", wantErr: "unknown division"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadCalendar(strings.NewReader(tt.json), tt.div)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
