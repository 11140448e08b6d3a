package subjectrequests

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/ukdates"
)

func d(s string) ukdates.Date {
	x, err := ukdates.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return x
}

func cal(t testing.TB) *ukdates.Calendar {
	c, err := ukdates.NewCalendar(ukdates.EnglandAndWales)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// build folds created + evs, sealing each, applying with validation.
func build(t *testing.T, it Intake, evs ...Event) (State, []Event, error) {
	t.Helper()
	c := cal(t)
	first := Event{RequestID: "SAR-2026-000001", Seq: 1, Type: EventCreated, On: it.ReceivedOn, Intake: &it}
	first.Seal(nil)
	log := []Event{first}
	s, err := Replay(log)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		next, err := s.Apply(e, c)
		if err != nil {
			return s, log, err
		}
		e.RequestID, e.Seq = s.ID, len(log)+1
		e.Seal(&log[len(log)-1])
		log = append(log, e)
		s = next
	}
	return s, log, nil
}

var noon = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ev(t EventType, on string) Event { return Event{Type: t, On: d(on)} }

func TestStateMachineAndDeadlines(t *testing.T) {
	base := Intake{Type: Access, ReceivedOn: d("2026-01-31"), Channel: ChannelEmail, ServiceArea: "Housing"}
	withID := base
	withID.IDRequired = true
	for _, tc := range []struct {
		name   string
		intake Intake
		events []Event
		status Status
		due    string // "" = no deadline
		err    string // "409", "400:<field>" or ""
	}{
		{"plain: 31 Jan → 28 Feb 2026 (Saturday) → Mon 2 Mar", base, nil, StatusOpen, "2026-03-02", ""},
		{"id required: no clock", withID, nil, StatusAwaitingID, "", ""},
		{"id received starts clock", withID, []Event{ev(EventIDReceived, "2026-02-10")}, StatusOpen, "2026-03-10", ""},
		{"id requested later", base, []Event{ev(EventIDRequested, "2026-02-02"), ev(EventIDReceived, "2026-02-03")}, StatusOpen, "2026-03-03", ""},
		{"pause 10 days", base, []Event{ev(EventClarificationRequested, "2026-02-02"), ev(EventClarificationReceived, "2026-02-12")}, StatusOpen, "2026-03-10", ""},
		{"paused: no deadline", base, []Event{ev(EventClarificationRequested, "2026-02-02")}, StatusPaused, "", ""},
		{"extended: 31 Jan + 3 months = 30 Apr 2026", base, []Event{{Type: EventExtended, On: d("2026-02-20"), Reason: "complex"}}, StatusOpen, "2026-04-30", ""},
		{"extended then notified", base, []Event{{Type: EventExtended, On: d("2026-02-20"), Reason: "x"}, ev(EventExtensionNotified, "2026-02-21")}, StatusOpen, "2026-04-30", ""},
		{"completed", base, []Event{ev(EventCompleted, "2026-02-20")}, StatusCompleted, "2026-03-02", ""},
		{"refused while paused", base, []Event{ev(EventClarificationRequested, "2026-02-02"), {Type: EventRefused, On: d("2026-02-05"), LegalBasis: "manifestly unfounded"}}, StatusRefused, "2026-03-03", ""},
		// invalid transitions
		{"complete a withdrawn request", base, []Event{ev(EventWithdrawn, "2026-02-01"), ev(EventCompleted, "2026-02-02")}, StatusWithdrawn, "2026-03-02", "409"},
		{"extend twice", base, []Event{{Type: EventExtended, On: d("2026-02-01"), Reason: "x"}, {Type: EventExtended, On: d("2026-02-02"), Reason: "y"}}, StatusOpen, "2026-04-30", "409"},
		{"extend after original deadline", base, []Event{{Type: EventExtended, On: d("2026-03-03"), Reason: "x"}}, StatusOpen, "2026-03-02", "409"},
		{"extend on the original deadline is fine", base, []Event{{Type: EventExtended, On: d("2026-03-02"), Reason: "x"}}, StatusOpen, "2026-04-30", ""},
		{"notify without extension", base, []Event{ev(EventExtensionNotified, "2026-02-02")}, StatusOpen, "2026-03-02", "409"},
		{"id received when not awaiting", base, []Event{ev(EventIDReceived, "2026-02-02")}, StatusOpen, "2026-03-02", "409"},
		{"clarification received while open", base, []Event{ev(EventClarificationReceived, "2026-02-02")}, StatusOpen, "2026-03-02", "409"},
		{"complete while awaiting id", withID, []Event{ev(EventCompleted, "2026-02-02")}, StatusAwaitingID, "", "409"},
		{"clarification after deadline", base, []Event{ev(EventClarificationRequested, "2026-03-05")}, StatusOpen, "2026-03-02", "409"},
		{"id requested after a pause", base, []Event{ev(EventClarificationRequested, "2026-02-02"), ev(EventClarificationReceived, "2026-02-03"), ev(EventIDRequested, "2026-02-04")}, StatusOpen, "2026-03-02", "409"},
		{"event before receipt", base, []Event{ev(EventCompleted, "2026-01-30")}, StatusOpen, "2026-03-02", "400:on"},
		{"event before previous event", base, []Event{ev(EventClarificationRequested, "2026-02-10"), ev(EventClarificationReceived, "2026-02-09")}, StatusPaused, "", "400:on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, log, err := build(t, tc.intake, tc.events...)
			switch {
			case tc.err == "409":
				var te *TransitionError
				if !errors.As(err, &te) {
					t.Fatalf("err = %v, want TransitionError", err)
				}
			case strings.HasPrefix(tc.err, "400:"):
				var fe funcapp.FieldError
				if !errors.As(err, &fe) || fe.Field != strings.TrimPrefix(tc.err, "400:") {
					t.Fatalf("err = %v, want field error %s", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			}
			if s.Status != tc.status {
				t.Errorf("status = %s, want %s", s.Status, tc.status)
			}
			v, err := NewView(s, cal(t), d("2026-02-01"))
			if err != nil {
				t.Fatal(err)
			}
			if got := iso(v.DueOn); got != tc.due {
				t.Errorf("dueOn = %q, want %q", got, tc.due)
			}
			// The log as stored replays to the same state and verifies.
			again, err := Replay(log)
			if err != nil || again.Status != s.Status || again.Events != len(log) {
				t.Errorf("replay = %+v, %v", again, err)
			}
			if c := VerifyChain(log, len(log), log[len(log)-1].Hash); !c.Verified {
				t.Errorf("chain: %+v", c)
			}
		})
	}
}

func TestVerifyChainDetectsTampering(t *testing.T) {
	it := Intake{Type: Erasure, ReceivedOn: d("2026-03-02"), Channel: ChannelWeb, ServiceArea: "Revenues"}
	_, log, err := build(t, it, ev(EventClarificationRequested, "2026-03-03"), ev(EventClarificationReceived, "2026-03-10"), ev(EventCompleted, "2026-03-20"))
	if err != nil {
		t.Fatal(err)
	}
	head := log[len(log)-1]
	for _, tc := range []struct {
		name   string
		mutate func([]Event) []Event
		at     int
	}{
		{"edited date", func(l []Event) []Event { l[1].On = d("2026-03-09"); return l }, 2},
		{"edited intake", func(l []Event) []Event { x := *l[0].Intake; x.ReceivedOn = d("2026-03-01"); l[0].Intake = &x; return l }, 1},
		{"re-hashed edit", func(l []Event) []Event { l[2].On = d("2026-03-15"); l[2].Hash = l[2].ComputeHash(); return l }, 4},
		{"removed event", func(l []Event) []Event { return append(l[:1:1], l[2:]...) }, 2},
		{"truncated", func(l []Event) []Event { return l[:3] }, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.mutate(append([]Event(nil), log...))
			c := VerifyChain(l, head.Seq, head.Hash)
			if c.Verified || c.BrokenAt != tc.at {
				t.Errorf("got %+v, want broken at %d", c, tc.at)
			}
		})
	}
}

func TestEvaluateReminders(t *testing.T) {
	cfg := ReminderConfig{Offsets: []int{1, 2, 5, 10}, IGRoute: "igsg", DPORoute: "dpo", ServiceAreaPrefix: "sar-", ExtensionNoticeWarnDays: 2}
	rec := func(status, due string) Record {
		return Record{RowKey: "SAR-2026-000001", Type: "access", Status: status, ServiceArea: "Adult Social Care", DueOn: due}
	}
	for _, tc := range []struct {
		name  string
		r     Record
		today string
		want  []string // alert keys
	}{
		{"11 days: nothing", rec("open", "2026-03-12"), "2026-03-01", nil},
		{"10 days", rec("open", "2026-03-11"), "2026-03-01", []string{"due:2026-03-11:reminder:10"}},
		{"7 days: still the 10-day rung", rec("open", "2026-03-08"), "2026-03-01", []string{"due:2026-03-08:reminder:10"}},
		{"catch-up at 2 days: only rung 2", rec("open", "2026-03-03"), "2026-03-01", []string{"due:2026-03-03:reminder:2"}},
		{"due today: rung 1", rec("open", "2026-03-01"), "2026-03-01", []string{"due:2026-03-01:reminder:1"}},
		{"overdue", rec("open", "2026-02-27"), "2026-03-01", []string{"due:2026-02-27:overdue"}},
		{"paused: nothing", rec("paused", ""), "2026-03-01", nil},
		{"closed: nothing", rec("completed", "2026-02-27"), "2026-03-01", nil},
		{"extension notice due", Record{RowKey: "SAR-2026-000002", Status: "open", DueOn: "2026-05-01", Extended: true, ExtensionNoticeBy: "2026-03-02"}, "2026-03-01",
			[]string{"extension-notice:due"}},
		{"extension notice late", Record{RowKey: "SAR-2026-000002", Status: "paused", Extended: true, ExtensionNoticeBy: "2026-02-27"}, "2026-03-01",
			[]string{"extension-notice:late"}},
		{"extension notified: no warning", Record{RowKey: "SAR-2026-000002", Status: "open", DueOn: "2026-05-01", Extended: true, ExtensionNoticeBy: "2026-02-27", ExtensionNotifiedOn: "2026-02-20"}, "2026-03-01", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alerts := Evaluate(tc.r, d(tc.today), cfg)
			var got []string
			for _, a := range alerts {
				got = append(got, a.Key)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("alerts = %v, want %v", got, tc.want)
			}
			for _, n := range Notifications(tc.r, alerts, cfg, noon) {
				if err := n.Validate(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	// Routes: service area and IG for reminders; DPO first for overdue.
	ns := Notifications(rec("open", "2026-02-27"), Evaluate(rec("open", "2026-02-27"), d("2026-03-01"), cfg), cfg, noon)
	var routes []string
	for _, n := range ns {
		routes = append(routes, n.Route)
		if n.Severity != notify.SeverityOverdue || !strings.HasPrefix(n.ID, "sar:SAR-2026-000001:due:2026-02-27:overdue:") {
			t.Errorf("notification %+v", n)
		}
	}
	if strings.Join(routes, ",") != "dpo,igsg,sar-adult-social-care" {
		t.Errorf("routes = %v", routes)
	}
}

func TestFromListItem(t *testing.T) {
	item := ListItem{ListID: "list1", ID: "42", CreatedByID: "00000000-0000-0000-0000-0000000000aa", Fields: map[string]any{
		"RequestType": "Subject access request", "DateReceived": "2026-06-13T23:00:00Z", "ServiceArea": "Housing",
		"IDRequired": true, "RequesterName": "A Person", "RequesterEmail": "a@example.org", "Channel": "E-mail",
	}}
	got, err := FromListItem(item, ListColumns{})
	if err != nil {
		t.Fatal(err)
	}
	in := got.Input
	if in.Type != "access" || in.ReceivedOn != "2026-06-14" || in.Channel != "email" || in.ServiceArea != "Housing" ||
		!in.IDRequired || in.RequesterRef != "SP-42" || in.Person == nil || in.Person.Email != "a@example.org" {
		t.Errorf("input = %+v", in)
	}
	if got.By != "sharepoint:00000000-0000-0000-0000-0000000000aa" || got.IdempotencyKey != "sharepoint:list1:42" {
		t.Errorf("by/key = %q %q", got.By, got.IdempotencyKey)
	}
	if _, _, err := in.Validate(d("2026-06-20")); err != nil {
		t.Errorf("mapped input does not validate: %v", err)
	}
	bad := ListItem{ID: "43", Fields: map[string]any{"RequestType": "Complaint", "DateReceived": "yesterday"}}
	_, err = FromListItem(bad, ListColumns{})
	if err == nil || !strings.Contains(err.Error(), "RequestType") || !strings.Contains(err.Error(), "DateReceived") {
		t.Errorf("err = %v", err)
	}
}

func TestCreateInputValidate(t *testing.T) {
	_, _, err := CreateInput{Type: "complaint", ReceivedOn: "2026-02-30", Channel: "fax", ServiceArea: " "}.Validate(d("2026-03-01"))
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		fields = append(fields, e.(funcapp.FieldError).Field)
	}
	if strings.Join(fields, ",") != "type,receivedOn,channel,serviceArea" {
		t.Errorf("fields = %v", fields)
	}
}
