package ukdates

import (
	"encoding/json"
	"testing"
	"time"
)

// day parses an ISO date for test tables; "" gives the zero Date.
func day(s string) Date {
	if s == "" {
		return Date{}
	}
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{in: "2024-01-31", want: Date{2024, time.January, 31}},
		{in: "2024-02-29", want: Date{2024, time.February, 29}},
		{in: "2023-02-29", wantErr: true}, // not a leap year
		{in: "2024-04-31", wantErr: true},
		{in: "2024-13-01", wantErr: true},
		{in: "24-01-31", wantErr: true},
		{in: "2024-1-31", wantErr: true},
		{in: "31/01/2024", wantErr: true},
		{in: "2024-01-31T00:00:00Z", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDate(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseDate(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseDate(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if !tt.wantErr && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestLondonDate(t *testing.T) {
	tests := []struct {
		name string
		in   string // RFC 3339 instant
		want string
	}{
		{"late evening BST on 31 March is 31 March", "2024-03-31T22:30:00Z", "2024-03-31"},
		{"23:30 BST on 31 March given with an offset", "2024-03-31T23:30:00+01:00", "2024-03-31"},
		{"00:30 BST on 1 April is 1 April", "2024-03-31T23:30:00Z", "2024-04-01"},
		{"late evening GMT in winter", "2024-01-15T23:30:00Z", "2024-01-15"},
		{"just after midnight BST, still 26 Oct in UTC", "2024-10-26T23:30:00Z", "2024-10-27"},
		{"clocks go back: 01:30 GMT on 27 Oct", "2024-10-27T01:30:00Z", "2024-10-27"},
		{"from a US zone", "2024-06-30T20:00:00-04:00", "2024-07-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := time.Parse(time.RFC3339, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := LondonDate(in); got != day(tt.want) {
				t.Errorf("LondonDate(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		name  string
		d     string
		n     int
		want  string
		weekd time.Weekday
	}{
		{"into leap day", "2024-02-28", 1, "2024-02-29", time.Thursday},
		{"over leap day", "2024-02-28", 2, "2024-03-01", time.Friday},
		{"non-leap", "2023-02-28", 1, "2023-03-01", time.Wednesday},
		{"year end", "2024-12-31", 1, "2025-01-01", time.Wednesday},
		{"backwards", "2025-01-01", -1, "2024-12-31", time.Tuesday},
		{"before 1970", "1969-12-31", 1, "1970-01-01", time.Thursday},
		{"zero", "2024-06-15", 0, "2024-06-15", time.Saturday},
		{"BST change does not matter", "2024-03-30", 2, "2024-04-01", time.Monday},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := day(tt.d).AddDays(tt.n)
			if got != day(tt.want) {
				t.Fatalf("%s.AddDays(%d) = %s, want %s", tt.d, tt.n, got, tt.want)
			}
			if got.Weekday() != tt.weekd {
				t.Errorf("%s.Weekday() = %s, want %s", got, got.Weekday(), tt.weekd)
			}
			if n := day(tt.d).DaysUntil(got); n != tt.n {
				t.Errorf("DaysUntil = %d, want %d", n, tt.n)
			}
		})
	}
}

func TestDateCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2024-01-31", "2024-02-01", -1},
		{"2024-02-01", "2024-01-31", 1},
		{"2024-02-01", "2024-02-01", 0},
		{"2023-12-31", "2024-01-01", -1},
		{"2024-03-02", "2024-03-10", -1},
	}
	for _, tt := range tests {
		a, b := day(tt.a), day(tt.b)
		if got := a.Compare(b); got != tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", a, b, got, tt.want)
		}
		if a.Before(b) != (tt.want < 0) || a.After(b) != (tt.want > 0) {
			t.Errorf("Before/After disagree with Compare for %s, %s", a, b)
		}
	}
}

func TestDateValidity(t *testing.T) {
	tests := []struct {
		d    Date
		want bool
	}{
		{Date{2024, time.February, 29}, true},
		{Date{2023, time.February, 29}, false},
		{Date{2024, time.April, 31}, false},
		{Date{2024, 13, 1}, false},
		{Date{2024, time.January, 0}, false},
		{Date{}, false},
	}
	for _, tt := range tests {
		if got := tt.d.IsValid(); got != tt.want {
			t.Errorf("%+v.IsValid() = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		On       Date `json:"on"`
		Optional Date `json:"optional,omitzero"`
	}
	b, err := json.Marshal(doc{On: day("2024-02-29")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"on":"2024-02-29"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}

	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{in: `{"on":"2024-02-29"}`, want: day("2024-02-29")},
		{in: `{"on":""}`, want: Date{}},
		{in: `{"on":"2023-02-29"}`, wantErr: true},
		{in: `{"on":"2024-02-29T10:00:00Z"}`, wantErr: true},
		{in: `{"on":20240229}`, wantErr: true},
	}
	for _, tt := range tests {
		var got doc
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err != nil) != tt.wantErr {
			t.Errorf("Unmarshal(%s) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if got.On != tt.want {
			t.Errorf("Unmarshal(%s) = %v, want %v", tt.in, got.On, tt.want)
		}
	}

	if _, err := json.Marshal(doc{On: Date{2023, time.February, 29}}); err == nil {
		t.Error("Marshal of an invalid date: want error")
	}
}
