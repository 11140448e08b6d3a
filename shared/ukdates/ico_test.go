package ukdates

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// stops builds clock stops from "pausedOn/resumedOn" pairs; "2024-09-05/"
// is an open stop.
func stops(pairs ...string) []ClockStop {
	out := make([]ClockStop, len(pairs))
	for i, p := range pairs {
		a, b, _ := strings.Cut(p, "/")
		out[i] = ClockStop{PausedOn: day(a), ResumedOn: day(b)}
	}
	return out
}

func TestDeadline(t *testing.T) {
	tests := []struct {
		name     string
		div      Division // "" means england-and-wales
		received string
		reqMet   string // RequirementsMetOn
		extended bool
		stops    []ClockStop

		wantBase      string
		wantStatutory string
		wantExtended  string
		wantNoticeBy  string // defaults to wantBase
		wantPaused    int
	}{
		// --- The ICO's own worked examples (governance-apis.md §1.5) ---
		{
			// ICO: "A request is received on 1 January (a bank holiday), so the
			// one-month period ends at the end of 1 February." (2024: 1 Feb is a Thursday.)
			name: "ICO: 1 January bank holiday → 1 February", received: "2024-01-01",
			wantBase: "2024-02-01", wantStatutory: "2024-02-01",
		},
		{
			// ICO: "A request is received on Monday 25 November. The time to respond
			// will run until the end of Friday 27 December. This is because 25 and
			// 26 December are both bank holidays."
			name: "ICO: Monday 25 November 2024 → Friday 27 December", received: "2024-11-25",
			wantBase: "2024-12-25", wantStatutory: "2024-12-27",
		},
		{
			// ICO: "A request received on 31 January will run until the end of
			// 28 February (or 29 February in a leap year)."
			name: "ICO: 31 January non-leap → 28 February", received: "2023-01-31",
			wantBase: "2023-02-28", wantStatutory: "2023-02-28",
		},
		{
			// ICO: same example, leap year.
			name: "ICO: 31 January leap → 29 February", received: "2024-01-31",
			wantBase: "2024-02-29", wantStatutory: "2024-02-29",
		},
		{
			// ICO: "If that date falls on a weekend, the deadline is the end of the
			// next Monday." 28 Feb 2021 was a Sunday.
			name: "ICO: 31 January → 28 February on a Sunday → Monday", received: "2021-01-31",
			wantBase: "2021-02-28", wantStatutory: "2021-03-01",
		},
		{
			// ICO: same, leap year: 29 Feb 2020 was a Saturday.
			name: "ICO: 31 January → 29 February on a Saturday → Monday", received: "2020-01-31",
			wantBase: "2020-02-29", wantStatutory: "2020-03-02",
		},
		{
			// ICO: same, 28 Feb 2026 is a Saturday.
			name: "ICO: 31 January 2026 → Saturday 28 February → Monday 2 March", received: "2026-01-31",
			wantBase: "2026-02-28", wantStatutory: "2026-03-02",
		},
		{
			// ICO statement (2019) and SME checklist: "a SAR received on 3 September
			// should be responded to by 3 October."
			name: "ICO: 3 September → 3 October", received: "2024-09-03",
			wantBase: "2024-10-03", wantStatutory: "2024-10-03",
		},
		{
			// Older ICO example: "receives a request on 31 March … As there is no
			// equivalent date in April, the organisation has until 30 April".
			name: "ICO: 31 March → 30 April", received: "2025-03-31",
			wantBase: "2025-04-30", wantStatutory: "2025-04-30",
		},
		{
			// Stop-the-clock example (DAC Beachcroft, secondary): submitted 14 Nov,
			// clarification sought 16 Nov, provided 16 Dec: "an additional month …
			// (as the clock stops between 16 November and 16 December)". Rule 3
			// counts 16 Dec − 16 Nov = 30 days: 14 Dec + 30 = Mon 13 Jan 2025.
			// The inclusive reading (31 days) would give 14 Jan; we take the
			// earlier date on purpose (see ico.go).
			name: "stop-the-clock example 14 Nov / 16 Nov–16 Dec", received: "2024-11-14",
			stops:    stops("2024-11-16/2024-12-16"),
			wantBase: "2024-12-14", wantStatutory: "2025-01-13", wantPaused: 30,
		},

		// --- Month ends and short months ---
		{name: "30 January non-leap → 28 February", received: "2023-01-30", wantBase: "2023-02-28", wantStatutory: "2023-02-28"},
		{name: "29 January leap → 29 February", received: "2024-01-29", wantBase: "2024-02-29", wantStatutory: "2024-02-29"},
		{name: "29 January non-leap → 28 February", received: "2023-01-29", wantBase: "2023-02-28", wantStatutory: "2023-02-28"},
		{name: "29 February → 29 March (Good Friday) → Tuesday after Easter", received: "2024-02-29", wantBase: "2024-03-29", wantStatutory: "2024-04-02"},
		{name: "31 May → 30 June", received: "2023-05-31", wantBase: "2023-06-30", wantStatutory: "2023-06-30"},
		{name: "31 August → Saturday 30 September → Monday 2 October", received: "2023-08-31", wantBase: "2023-09-30", wantStatutory: "2023-10-02"},
		{name: "31 October → 30 November", received: "2023-10-31", wantBase: "2023-11-30", wantStatutory: "2023-11-30"},
		{name: "31 October 2024 → Saturday 30 November → Monday 2 December", received: "2024-10-31", wantBase: "2024-11-30", wantStatutory: "2024-12-02"},
		{name: "30 November → 30 December", received: "2024-11-30", wantBase: "2024-12-30", wantStatutory: "2024-12-30"},
		{name: "31 December → 31 January across the year", received: "2023-12-31", wantBase: "2024-01-31", wantStatutory: "2024-01-31"},
		{name: "30 April → 30 May (31-day month follows)", received: "2024-04-30", wantBase: "2024-05-30", wantStatutory: "2024-05-30"},

		// --- Weekends ---
		{name: "deadline on a Saturday", received: "2024-05-15", wantBase: "2024-06-15", wantStatutory: "2024-06-17"},
		{name: "deadline on a Sunday", received: "2024-05-16", wantBase: "2024-06-16", wantStatutory: "2024-06-17"},
		{name: "received on a Saturday still counts as day one", received: "2024-08-03", wantBase: "2024-09-03", wantStatutory: "2024-09-03"},
		{name: "received on a Sunday still counts as day one", received: "2024-08-04", wantBase: "2024-09-04", wantStatutory: "2024-09-04"},
		{name: "received late evening BST on 31 March (LondonDate)", received: "2024-03-31", wantBase: "2024-04-30", wantStatutory: "2024-04-30"},

		// --- Christmas, New Year and substitute days ---
		{name: "Christmas Day 2023 (Mon) and Boxing Day → Wednesday 27", received: "2023-11-25", wantBase: "2023-12-25", wantStatutory: "2023-12-27"},
		{name: "Boxing Day 2024 → Friday 27", received: "2024-11-26", wantBase: "2024-12-26", wantStatutory: "2024-12-27"},
		{name: "Christmas 2021 on Saturday, substitutes 27 and 28 → Wednesday 29", received: "2021-11-25", wantBase: "2021-12-25", wantStatutory: "2021-12-29"},
		{name: "Boxing Day substitute 28 December 2021 → 29", received: "2021-11-28", wantBase: "2021-12-28", wantStatutory: "2021-12-29"},
		{name: "New Year 2022 on Saturday, substitute 3 January → Tuesday 4 (E&W)", received: "2021-12-01", wantBase: "2022-01-01", wantStatutory: "2022-01-04"},
		{name: "New Year 2022 → Wednesday 5 in Scotland (2 January substitute too)", div: Scotland, received: "2021-12-01", wantBase: "2022-01-01", wantStatutory: "2022-01-05"},
		{name: "Christmas 2022 on Sunday, Boxing Day Mon, substitute Tue → Wednesday 28", received: "2022-11-25", wantBase: "2022-12-25", wantStatutory: "2022-12-28"},
		{name: "Christmas 2027 Saturday, substitutes 27 and 28 → Wednesday 29", received: "2027-11-26", wantBase: "2027-12-26", wantStatutory: "2027-12-29"},
		{name: "New Year 2028 on Saturday → Tuesday 4 (E&W)", received: "2027-12-01", wantBase: "2028-01-01", wantStatutory: "2028-01-04"},
		{name: "New Year 2028 on Saturday → Wednesday 5 (Scotland)", div: Scotland, received: "2027-12-01", wantBase: "2028-01-01", wantStatutory: "2028-01-05"},

		// --- Division differences ---
		{name: "Easter Monday E&W", received: "2024-03-01", wantBase: "2024-04-01", wantStatutory: "2024-04-02"},
		{name: "Easter Monday is a working day in Scotland", div: Scotland, received: "2024-03-01", wantBase: "2024-04-01", wantStatutory: "2024-04-01"},
		{name: "Easter Monday NI", div: NorthernIreland, received: "2024-03-01", wantBase: "2024-04-01", wantStatutory: "2024-04-02"},
		{name: "Good Friday Scotland → Easter Monday", div: Scotland, received: "2024-02-29", wantBase: "2024-03-29", wantStatutory: "2024-04-01"},
		{name: "2 January E&W is a working day", received: "2024-12-02", wantBase: "2025-01-02", wantStatutory: "2025-01-02"},
		{name: "2 January Scotland is a holiday", div: Scotland, received: "2024-12-02", wantBase: "2025-01-02", wantStatutory: "2025-01-03"},
		{name: "St Andrew's Day E&W is a working day", received: "2023-10-30", wantBase: "2023-11-30", wantStatutory: "2023-11-30"},
		{name: "St Andrew's Day Scotland", div: Scotland, received: "2023-10-30", wantBase: "2023-11-30", wantStatutory: "2023-12-01"},
		{name: "12 July NI", div: NorthernIreland, received: "2023-06-12", wantBase: "2023-07-12", wantStatutory: "2023-07-13"},
		{name: "12 July E&W is a working day", received: "2023-06-12", wantBase: "2023-07-12", wantStatutory: "2023-07-12"},
		{name: "St Patrick's Day on Sunday, substitute Monday NI", div: NorthernIreland, received: "2024-02-17", wantBase: "2024-03-17", wantStatutory: "2024-03-19"},

		// --- Identity / fee ---
		{name: "clock starts when the ID arrives", received: "2024-01-10", reqMet: "2024-01-31", wantBase: "2024-02-29", wantStatutory: "2024-02-29"},
		{name: "ID on the day of receipt", received: "2024-09-03", reqMet: "2024-09-03", wantBase: "2024-10-03", wantStatutory: "2024-10-03"},

		// --- Extensions ---
		{name: "extension from 31 October → 31 January", received: "2023-10-31", extended: true, wantBase: "2023-11-30", wantStatutory: "2023-11-30", wantExtended: "2024-01-31"},
		{name: "extension from 30 November → 29 February (leap)", received: "2023-11-30", extended: true, wantBase: "2023-12-30", wantStatutory: "2024-01-02", wantExtended: "2024-02-29"},
		{name: "extension from 30 November → 28 February (non-leap)", received: "2022-11-30", extended: true, wantBase: "2022-12-30", wantStatutory: "2022-12-30", wantExtended: "2023-02-28"},
		{name: "extension from 31 December → Easter Sunday 31 March → Tuesday 2 April", received: "2023-12-31", extended: true, wantBase: "2024-01-31", wantStatutory: "2024-01-31", wantExtended: "2024-04-02"},
		{name: "extension from 31 December 2024 → 31 March 2025", received: "2024-12-31", extended: true, wantBase: "2025-01-31", wantStatutory: "2025-01-31", wantExtended: "2025-03-31"},
		{name: "extension from 31 October 2024 → 31 January 2025", received: "2024-10-31", extended: true, wantBase: "2024-11-30", wantStatutory: "2024-12-02", wantExtended: "2025-01-31"},
		{name: "extension counts from the ID date", received: "2024-01-10", reqMet: "2024-01-31", extended: true, wantBase: "2024-02-29", wantStatutory: "2024-02-29", wantExtended: "2024-04-30"},

		// --- Clock stops ---
		{name: "stop of 0 days (answered the same day)", received: "2024-09-03", stops: stops("2024-09-10/2024-09-10"), wantBase: "2024-10-03", wantStatutory: "2024-10-03"},
		{name: "stop of 1 day", received: "2024-09-03", stops: stops("2024-09-10/2024-09-11"), wantBase: "2024-10-03", wantStatutory: "2024-10-04", wantPaused: 1},
		{name: "stop pushes the deadline onto a weekend", received: "2024-09-03", stops: stops("2024-09-04/2024-09-06"), wantBase: "2024-10-03", wantStatutory: "2024-10-07", wantPaused: 2},
		{name: "multiple stops add up", received: "2024-09-03", stops: stops("2024-09-05/2024-09-10", "2024-09-20/2024-09-23"), wantBase: "2024-10-03", wantStatutory: "2024-10-11", wantPaused: 8},
		{name: "back-to-back stops (resume and pause the same day)", received: "2024-09-03", stops: stops("2024-09-05/2024-09-10", "2024-09-10/2024-09-12"), wantBase: "2024-10-03", wantStatutory: "2024-10-10", wantPaused: 7},
		{name: "stop spanning a month end", received: "2024-01-15", stops: stops("2024-01-29/2024-02-03"), wantBase: "2024-02-15", wantStatutory: "2024-02-20", wantPaused: 5},
		{name: "stop days are added after the month-end clamp", received: "2023-01-31", stops: stops("2023-02-10/2023-02-12"), wantBase: "2023-02-28", wantStatutory: "2023-03-02", wantPaused: 2},
		{name: "stop into Christmas", received: "2024-11-20", stops: stops("2024-11-21/2024-11-26"), wantBase: "2024-12-20", wantStatutory: "2024-12-27", wantPaused: 5},
		{name: "stop begun before the ID arrived counts from the start date", received: "2024-01-10", reqMet: "2024-01-20", stops: stops("2024-01-15/2024-01-25"), wantBase: "2024-02-20", wantStatutory: "2024-02-26", wantPaused: 5},
		{name: "stop wholly before the ID arrived counts nothing", received: "2024-01-10", reqMet: "2024-01-20", stops: stops("2024-01-12/2024-01-18"), wantBase: "2024-02-20", wantStatutory: "2024-02-20"},
		{name: "stop asked on the deadline day itself", received: "2024-09-03", stops: stops("2024-10-03/2024-10-08"), wantBase: "2024-10-03", wantStatutory: "2024-10-08", wantPaused: 5},
		{name: "stop asked on the rolled deadline day gains nothing: the month had already run", received: "2024-05-15", stops: stops("2024-06-17/2024-06-18"), wantBase: "2024-06-15", wantStatutory: "2024-06-17", wantPaused: 1},
		{name: "stop moves both deadlines when extended; notice does not move", received: "2023-10-31", extended: true, stops: stops("2023-11-01/2023-11-08"), wantBase: "2023-11-30", wantStatutory: "2023-12-07", wantExtended: "2024-02-07", wantPaused: 7},
		{name: "stop in month two of an extended request", received: "2024-09-03", extended: true, stops: stops("2024-11-04/2024-11-11"), wantBase: "2024-10-03", wantStatutory: "2024-10-10", wantExtended: "2024-12-10", wantPaused: 7},

		// --- Beyond the data but computable ---
		{name: "received before the data's first year", received: "2018-12-20", wantBase: "2019-01-20", wantStatutory: "2019-01-21"},
		{name: "last full month of the data", received: "2028-11-15", wantBase: "2028-12-15", wantStatutory: "2028-12-15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := DeadlineInput{ReceivedOn: day(tt.received), RequirementsMetOn: day(tt.reqMet), Extended: tt.extended, ClockStops: tt.stops}
			got, err := Deadline(in, mustCalendar(t, tt.div))
			if err != nil {
				t.Fatalf("Deadline: %v", err)
			}
			notice := tt.wantNoticeBy
			if notice == "" {
				notice = tt.wantBase
			}
			wantDue := tt.wantStatutory
			if tt.extended {
				wantDue = tt.wantExtended
			}
			checks := []struct {
				field     string
				got, want Date
			}{
				{"Base", got.Base, day(tt.wantBase)},
				{"Statutory", got.Statutory, day(tt.wantStatutory)},
				{"Extended", got.Extended, day(tt.wantExtended)},
				{"Due", got.Due, day(wantDue)},
				{"ExtensionNoticeBy", got.ExtensionNoticeBy, day(notice)},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %s (%s), want %s", c.field, c.got, c.got.Weekday(), c.want)
				}
			}
			if got.DaysPaused != tt.wantPaused {
				t.Errorf("DaysPaused = %d, want %d", got.DaysPaused, tt.wantPaused)
			}
			if got.Paused {
				t.Error("Paused = true, want false")
			}
			if len(got.Explanation()) == 0 {
				t.Error("no explanation")
			}
		})
	}
}

func TestDeadlinePaused(t *testing.T) {
	tests := []struct {
		name       string
		stops      []ClockStop
		wantSince  string
		wantPaused int
	}{
		{name: "open stop", stops: stops("2024-09-05/"), wantSince: "2024-09-05"},
		{name: "open stop after a closed one", stops: stops("2024-09-05/2024-09-10", "2024-09-20/"), wantSince: "2024-09-20", wantPaused: 5},
	}
	cal := mustCalendar(t, EnglandAndWales)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Deadline(DeadlineInput{ReceivedOn: day("2024-09-03"), Extended: true, ClockStops: tt.stops}, cal)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Paused || got.PausedSince != day(tt.wantSince) || got.DaysPaused != tt.wantPaused {
				t.Errorf("Paused=%v PausedSince=%s DaysPaused=%d, want true %s %d", got.Paused, got.PausedSince, got.DaysPaused, tt.wantSince, tt.wantPaused)
			}
			if !got.Due.IsZero() || !got.Statutory.IsZero() || !got.Extended.IsZero() {
				t.Errorf("a paused request must have no deadline, got Due=%s Statutory=%s Extended=%s", got.Due, got.Statutory, got.Extended)
			}
			if got.ExtensionNoticeBy != day("2024-10-03") {
				t.Errorf("ExtensionNoticeBy = %s, want 2024-10-03 even while paused", got.ExtensionNoticeBy)
			}
			if ex := strings.Join(got.Explanation(), "\n"); !strings.Contains(ex, "paused since") {
				t.Errorf("explanation does not say paused:\n%s", ex)
			}
		})
	}
}

func TestDeadlineErrors(t *testing.T) {
	tests := []struct {
		name        string
		in          DeadlineInput
		div         Division
		wantField   string // a *FieldError for this field, or
		wantCovered bool   // an error wrapping ErrNotCovered
	}{
		{name: "no received date", in: DeadlineInput{}, wantField: "receivedOn"},
		{name: "impossible received date", in: DeadlineInput{ReceivedOn: Date{2023, time.February, 29}}, wantField: "receivedOn"},
		{name: "ID before the request", in: DeadlineInput{ReceivedOn: day("2024-09-03"), RequirementsMetOn: day("2024-09-02")}, wantField: "requirementsMetOn"},
		{name: "impossible ID date", in: DeadlineInput{ReceivedOn: day("2024-09-03"), RequirementsMetOn: Date{2024, time.September, 31}}, wantField: "requirementsMetOn"},
		{name: "resume before pause", in: DeadlineInput{ReceivedOn: day("2024-09-03"), ClockStops: stops("2024-09-10/2024-09-09")}, wantField: "clockStops[0].resumedOn"},
		{name: "pause before receipt", in: DeadlineInput{ReceivedOn: day("2024-09-03"), ClockStops: stops("2024-09-02/2024-09-09")}, wantField: "clockStops[0].pausedOn"},
		{name: "missing pause date", in: DeadlineInput{ReceivedOn: day("2024-09-03"), ClockStops: []ClockStop{{ResumedOn: day("2024-09-09")}}}, wantField: "clockStops[0].pausedOn"},
		{name: "overlapping stops", in: DeadlineInput{ReceivedOn: day("2024-09-03"), ClockStops: stops("2024-09-05/2024-09-10", "2024-09-08/2024-09-12")}, wantField: "clockStops[1].pausedOn"},
		{name: "stops out of order", in: DeadlineInput{ReceivedOn: day("2024-09-03"), ClockStops: stops("2024-09-20/2024-09-23", "2024-09-05/2024-09-10")}, wantField: "clockStops[1].pausedOn"},
		{name: "open stop not last", in: DeadlineInput{ReceivedOn: day("2024-09-03"), ClockStops: stops("2024-09-05/", "2024-09-20/2024-09-23")}, wantField: "clockStops[0].resumedOn"},
		{name: "stop after the deadline had passed", in: DeadlineInput{ReceivedOn: day("2024-09-03"), ClockStops: stops("2024-10-04/2024-10-10")}, wantField: "clockStops[0].pausedOn"},
		{name: "second stop after the moved deadline", in: DeadlineInput{ReceivedOn: day("2024-09-03"), ClockStops: stops("2024-09-05/2024-09-07", "2024-10-08/2024-10-10")}, wantField: "clockStops[1].pausedOn"},
		{name: "impossible resume date", in: DeadlineInput{ReceivedOn: day("2024-09-03"), ClockStops: []ClockStop{{PausedOn: day("2024-09-05"), ResumedOn: Date{2024, time.September, 31}}}}, wantField: "clockStops[0].resumedOn"},
		{name: "deadline in a year beyond the data", in: DeadlineInput{ReceivedOn: day("2028-12-15")}, wantCovered: true},
		{name: "deadline rolls out of the data (Sat 30 Dec 2028 → 2029)", in: DeadlineInput{ReceivedOn: day("2028-11-30")}, wantCovered: true},
		{name: "extended deadline beyond the data", in: DeadlineInput{ReceivedOn: day("2028-11-15"), Extended: true}, wantCovered: true},
		{name: "clock stop pushes the deadline beyond the data", in: DeadlineInput{ReceivedOn: day("2028-11-15"), ClockStops: stops("2028-11-20/2029-01-05")}, wantCovered: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Deadline(tt.in, mustCalendar(t, tt.div))
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.wantCovered {
				if !errors.Is(err, ErrNotCovered) {
					t.Errorf("error = %v, want ErrNotCovered", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField {
				t.Errorf("error = %v, want a FieldError for %q", err, tt.wantField)
			}
		})
	}
	if _, err := Deadline(DeadlineInput{ReceivedOn: day("2024-09-03")}, nil); err == nil {
		t.Error("nil calendar: want error")
	}
}

func TestExplanation(t *testing.T) {
	tests := []struct {
		name string
		in   DeadlineInput
		want []string // substrings, in order
	}{
		{
			name: "ICO Christmas example names the holidays",
			in:   DeadlineInput{ReceivedOn: day("2024-11-25")},
			want: []string{
				"started on Monday 25 November 2024",
				"same date, Wednesday 25 December 2024",
				"Wednesday 25 December 2024 is a bank holiday in england-and-wales: christmas",
				"Thursday 26 December 2024 is a bank holiday in england-and-wales: boxing_day",
				"next working day, Friday 27 December 2024",
			},
		},
		{
			name: "month-end clamp and weekend",
			in:   DeadlineInput{ReceivedOn: day("2021-01-31")},
			want: []string{"February 2021 has no 31st", "Sunday 28 February 2021", "is a weekend", "Monday 1 March 2021"},
		},
		{
			name: "ID, stop and extension",
			in:   DeadlineInput{ReceivedOn: day("2023-10-20"), RequirementsMetOn: day("2023-10-31"), Extended: true, ClockStops: stops("2023-11-01/2023-11-08")},
			want: []string{
				"received on Friday 20 October 2023", "started on Tuesday 31 October 2023",
				"7 day(s) not counted", "from Thursday 30 November 2023 to Thursday 7 December 2023",
				"Extended: three months", "Wednesday 7 February 2024",
				"by Thursday 30 November 2023",
			},
		},
	}
	cal := mustCalendar(t, EnglandAndWales)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Deadline(tt.in, cal)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(r.Explanation(), "\n")
			rest := text
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("explanation lacks %q (in order):\n%s", w, text)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// FuzzDeadline checks invariants over arbitrary receipts, ID dates, stops and
// divisions within the data's years.
func FuzzDeadline(f *testing.F) {
	f.Add(uint16(0), uint8(0), uint8(0), false, uint8(0), uint8(0), uint8(0))
	f.Add(uint16(1856), uint8(3), uint8(5), true, uint8(2), uint8(30), uint8(1))
	f.Add(uint16(2160), uint8(0), uint8(0), true, uint8(0), uint8(0), uint8(2))
	cals := map[uint8]*Calendar{}
	for i, div := range []Division{EnglandAndWales, Scotland, NorthernIreland} {
		cals[uint8(i)] = mustCalendar(f, div)
	}
	first := Date{2019, time.January, 1}
	f.Fuzz(func(t *testing.T, offset uint16, idAfter, pauseAfter uint8, extended bool, pauseLen, gap uint8, div uint8) {
		cal := cals[div%3]
		received := first.AddDays(int(offset) % (365 * 10))
		in := DeadlineInput{ReceivedOn: received, Extended: extended}
		if idAfter%4 != 0 {
			in.RequirementsMetOn = received.AddDays(int(idAfter % 40))
		}
		if pauseAfter%3 != 0 {
			p := received.AddDays(int(pauseAfter % 35))
			in.ClockStops = append(in.ClockStops, ClockStop{PausedOn: p, ResumedOn: p.AddDays(int(pauseLen % 60))})
			if gap%2 == 1 {
				p2 := p.AddDays(int(pauseLen%60) + int(gap%20))
				in.ClockStops = append(in.ClockStops, ClockStop{PausedOn: p2, ResumedOn: p2.AddDays(int(gap % 9))})
			}
		}

		r, err := Deadline(in, cal)
		r2, err2 := Deadline(in, cal)
		if (err == nil) != (err2 == nil) || r.Due != r2.Due || r.Extended != r2.Extended || r.Statutory != r2.Statutory || r.DaysPaused != r2.DaysPaused {
			t.Fatalf("not deterministic: %+v %v / %+v %v", r, err, r2, err2)
		}
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) && !errors.Is(err, ErrNotCovered) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if r.Paused {
			t.Fatalf("no open stops were given, but Paused: %+v", r)
		}
		for _, d := range []Date{r.Statutory, r.Due} {
			if ok, err := cal.IsWorkingDay(d); err != nil || !ok {
				t.Fatalf("deadline %s (%s) is not a working day (%v); input %+v", d, d.Weekday(), err, in)
			}
		}
		if r.Statutory.Before(r.Base) || r.Due.Before(r.Base) {
			t.Fatalf("deadline %s before base %s", r.Due, r.Base)
		}
		if r.Base.Before(r.Start.AddDays(28)) || r.Start.Before(in.ReceivedOn) {
			t.Fatalf("base %s is less than 28 days after start %s (received %s)", r.Base, r.Start, in.ReceivedOn)
		}
		if r.ExtensionNoticeBy.After(r.Statutory) {
			t.Fatalf("notice by %s after statutory %s", r.ExtensionNoticeBy, r.Statutory)
		}
		if extended {
			if r.Extended.Before(r.Statutory) || r.Due != r.Extended {
				t.Fatalf("extended %s before statutory %s, or not due", r.Extended, r.Statutory)
			}
			if ok, err := cal.IsWorkingDay(r.Extended); err != nil || !ok {
				t.Fatalf("extended %s not a working day", r.Extended)
			}
		}
		// Monotone: a request received a day later is never due earlier
		// (no stops, so the inputs are comparable).
		if len(in.ClockStops) == 0 && in.RequirementsMetOn.IsZero() {
			later, err := Deadline(DeadlineInput{ReceivedOn: received.AddDays(1), Extended: extended}, cal)
			if err == nil && later.Due.Before(r.Due) {
				t.Fatalf("received %s due %s, but received a day later due %s", received, r.Due, later.Due)
			}
		}
	})
}

// BenchmarkDeadline computes deadlines for a spread of receipts (every day
// 2019–2027, a fifth extended, a seventh with a clock stop). Multiply ns/op
// by 1e6 for the cost of a million deadlines.
func BenchmarkDeadline(b *testing.B) {
	cal := mustCalendar(b, EnglandAndWales)
	first := Date{2019, time.January, 1}
	const n = 365 * 9
	inputs := make([]DeadlineInput, n)
	for i := range inputs {
		r := first.AddDays(i)
		inputs[i] = DeadlineInput{ReceivedOn: r, Extended: i%5 == 0}
		if i%7 == 0 {
			inputs[i].ClockStops = []ClockStop{{PausedOn: r.AddDays(2), ResumedOn: r.AddDays(9)}}
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := Deadline(inputs[i%n], cal); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
