package contracts

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/ukdates"
)

func d(s string) ukdates.Date {
	x, err := ukdates.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return x
}

func TestParsePeriod(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Period
		ok   bool
	}{
		{"P3M", Period{Months: 3}, true},
		{"P90D", Period{Days: 90}, true},
		{"P1Y2M", Period{Years: 1, Months: 2}, true},
		{"P1Y2M10D", Period{1, 2, 10}, true},
		{"P2W", Period{Days: 14}, true},
		{"p6m", Period{Months: 6}, true},
		{"P0D", Period{}, true},
		{"P", Period{}, false},
		{"3M", Period{}, false},
		{"PT3H", Period{}, false},
		{"P3M1Y", Period{}, false},
		{"P3M3M", Period{}, false},
		{"P-3M", Period{}, false},
		{"P1.5M", Period{}, false},
		{"P99999999Y", Period{}, false},
	} {
		got, err := ParsePeriod(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParsePeriod(%q) = %+v, %v", tc.in, got, err)
		}
		if tc.ok && !got.IsZero() {
			if back, _ := ParsePeriod(got.String()); back != got {
				t.Errorf("round trip %q -> %q", tc.in, got.String())
			}
		}
	}
}

func TestPeriodAddTo(t *testing.T) {
	for _, tc := range []struct {
		date string
		p    string
		sign int
		want string
	}{
		{"2026-05-31", "P3M", -1, "2026-02-28"}, // month end: clamp to February's last day
		{"2028-05-31", "P3M", -1, "2028-02-29"}, // leap year
		{"2026-05-31", "P1M", -1, "2026-04-30"},
		{"2026-06-30", "P1M", -1, "2026-05-30"}, // corresponding date, not "last day"
		{"2026-03-31", "P1M", -1, "2026-02-28"},
		{"2024-02-29", "P1Y", 1, "2025-02-28"},
		{"2028-02-29", "P4Y", 1, "2032-02-29"},
		{"2026-01-31", "P1M", 1, "2026-02-28"},
		{"2026-12-31", "P90D", -1, "2026-10-02"},
		{"2026-03-01", "P1D", -1, "2026-02-28"},
		{"2027-01-15", "P1Y2M", -1, "2025-11-15"},
		{"2026-01-31", "P1M10D", -1, "2025-12-21"},
		{"2026-02-15", "P14M", -1, "2024-12-15"},
	} {
		p, err := ParsePeriod(tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.AddTo(d(tc.date), tc.sign).String(); got != tc.want {
			t.Errorf("%s %+d×%s = %s, want %s", tc.date, tc.sign, tc.p, got, tc.want)
		}
	}
}

func contract() Contract {
	return Contract{ID: "C-104", Title: "Managed print", Supplier: "Acme Print Ltd", ServiceArea: "Housing",
		Owner: "jo.bloggs@council.example", Route: "ict-champions-housing", EscalationRoute: "tier2-housing",
		StartDate: d("2024-06-01"), EndDate: d("2027-05-31"), NoticePeriod: Period{Months: 3},
		InternalLeadTime: Period{Days: 90}, RenewalType: RenewalNone, AnnualValue: 48250.5, Status: StatusActive}
}

func TestMilestones(t *testing.T) {
	c := contract()
	got := c.Milestones(d("2026-12-01"))
	want := []Milestone{
		{MilestoneDecision, d("2026-11-30"), d("2027-05-31")}, // 28 Feb 2027 − 90 days
		{MilestoneNotice, d("2027-02-28"), d("2027-05-31")},   // 31 May − P3M
		{MilestoneEnd, d("2027-05-31"), d("2027-05-31")},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v", got)
	}

	// Automatic renewal: rolls over, and the next term is computed from the
	// original end date in one step (no month-end drift).
	a := contract()
	a.StartDate, a.EndDate = d("2025-02-01"), d("2026-01-31")
	a.RenewalType, a.RenewalTerm = RenewalAutomatic, Period{Months: 1}
	a.InternalLeadTime = Period{}
	a.NoticePeriod = Period{Days: 7}
	for _, tc := range []struct{ today, termEnd string }{
		{"2026-01-31", "2026-01-31"},
		{"2026-02-01", "2026-02-28"},
		{"2026-03-15", "2026-03-31"},
		{"2026-04-30", "2026-04-30"}, // 31 Jan + P3M, not 28 Apr
		{"2026-05-01", "2026-05-31"},
		{"2031-07-01", "2031-07-31"},
	} {
		end, _ := a.TermEnd(d(tc.today))
		if end.String() != tc.termEnd {
			t.Errorf("today %s: term end %s, want %s", tc.today, end, tc.termEnd)
		}
		ms := a.Milestones(d(tc.today))
		if ms[len(ms)-1].Kind != MilestoneRenewal {
			t.Errorf("automatic renewal milestone kind %s", ms[len(ms)-1].Kind)
		}
	}
	// Yearly renewal from 29 Feb.
	a.EndDate, a.RenewalTerm = d("2024-02-29"), Period{Years: 1}
	for _, tc := range []struct{ today, termEnd string }{
		{"2024-03-01", "2025-02-28"}, {"2027-03-01", "2028-02-29"},
	} {
		if end, _ := a.TermEnd(d(tc.today)); end.String() != tc.termEnd {
			t.Errorf("today %s: term end %s, want %s", tc.today, end, tc.termEnd)
		}
	}
	// In exit: no roll-over.
	a.Status = StatusInExit
	if end, _ := a.TermEnd(d("2027-03-01")); end.String() != "2024-02-29" {
		t.Errorf("in-exit contract rolled over to %s", end)
	}
}

func ids(as []Alert) []string {
	var out []string
	for i := range as {
		out = append(out, as[i].ID())
	}
	return out
}

func TestEvaluate(t *testing.T) {
	p := DefaultPolicy()
	c := contract() // decision 2026-11-30, notice 2027-02-28, end 2027-05-31
	for _, tc := range []struct {
		name  string
		today string
		edit  func(*Contract)
		want  []string
		check func(t *testing.T, as []Alert)
	}{
		{name: "nothing due yet", today: "2026-05-01", want: nil},
		{name: "first rung of the decision date", today: "2026-06-05",
			want: []string{"contracts:C-104:decision:2026-11-30:180"}},
		{name: "late import: most urgent rung only, the rest superseded", today: "2026-11-10",
			want: []string{"contracts:C-104:decision:2026-11-30:30:escalation", "contracts:C-104:decision:2026-11-30:30",
				"contracts:C-104:notice-deadline:2027-02-28:180"},
			check: func(t *testing.T, as []Alert) {
				for _, a := range as {
					if a.Milestone.Kind == MilestoneDecision && !slices.Equal(a.Superseded, []int{180, 90, 60}) {
						t.Errorf("superseded %v", a.Superseded)
					}
				}
			}},
		{name: "decision recorded: no escalation", today: "2026-11-10", edit: func(c *Contract) { c.ExitPlanAgreedOn = d("2026-10-01") },
			want: []string{"contracts:C-104:decision:2026-11-30:30", "contracts:C-104:notice-deadline:2027-02-28:180"}},
		{name: "no escalation route: flagged only", today: "2026-11-10", edit: func(c *Contract) { c.EscalationRoute = "" },
			want: []string{"contracts:C-104:decision:2026-11-30:30", "contracts:C-104:notice-deadline:2027-02-28:180"},
			check: func(t *testing.T, as []Alert) {
				if !as[0].Escalate || as[0].Severity != "urgent" {
					t.Errorf("want escalate flag and urgent: %+v", as[0])
				}
			}},
		{name: "missed weekend: milestone passed yesterday still sent once", today: "2026-12-01",
			want: []string{"contracts:C-104:decision:2026-11-30:0:escalation", "contracts:C-104:decision:2026-11-30:0",
				"contracts:C-104:notice-deadline:2027-02-28:90"}},
		{name: "past catch-up: decision no longer sent", today: "2026-12-08", want: []string{"contracts:C-104:notice-deadline:2027-02-28:90", "contracts:C-104:end:2027-05-31:180"}},
		{name: "ended: not evaluated", today: "2026-11-10", edit: func(c *Contract) { c.Status = StatusEnded }, want: nil},
		{name: "DBS unconfirmed: monthly reminder", today: "2026-05-01", edit: func(c *Contract) { c.DBSRequired = true },
			want: []string{"contracts:C-104:dbs:2026-05"}},
		{name: "post-contract prompt", today: "2027-06-03", edit: func(c *Contract) { c.ExitPlanAgreedOn = d("2027-01-01") },
			want: []string{"contracts:C-104:end:2027-05-31:0", "contracts:C-104:post-contract:2027-05-31"}},
		{name: "renewal rolls over and keeps alerting", today: "2027-06-04", edit: func(c *Contract) {
			c.RenewalType, c.RenewalTerm, c.InternalLeadTime, c.NoticePeriod = RenewalAutomatic, Period{Months: 6}, Period{}, Period{}
			c.ExitPlanAgreedOn = d("2027-01-01")
		}, want: []string{"contracts:C-104:renewal:2027-05-31:0", "contracts:C-104:renewal:2027-11-30:180"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := c
			if tc.edit != nil {
				tc.edit(&c)
			}
			got := Evaluate(nil, &c, d(tc.today), p)
			gi, want := ids(got), slices.Clone(tc.want)
			slices.Sort(gi)
			slices.Sort(want)
			if !slices.Equal(gi, want) {
				t.Errorf("got %q\nwant %q", gi, want)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

// Re-running on every day of a year yields each (milestone, rung) at most
// once per rung and never a rung below one already sent.
func TestEvaluateDailyYieldsEachRungOnce(t *testing.T) {
	c := contract()
	p := DefaultPolicy()
	seen := map[string]int{}
	for day := d("2026-05-01"); day.Before(d("2027-07-01")); day = day.AddDays(1) {
		for _, id := range ids(Evaluate(nil, &c, day, p)) {
			seen[id]++
		}
	}
	var rungs []string
	for id := range seen {
		if strings.HasPrefix(id, "contracts:C-104:notice-deadline:") && !strings.HasSuffix(id, "escalation") {
			rungs = append(rungs, id[strings.LastIndex(id, ":")+1:])
		}
	}
	slices.Sort(rungs)
	if got := strings.Join(rungs, ","); got != "0,1,14,180,30,60,7,90" {
		t.Errorf("notice-deadline rungs %s", got)
	}
}

func fieldNames(err error) []string {
	var out []string
	var fes []funcapp.FieldError
	collect(&fes, err)
	for _, fe := range fes {
		out = append(out, fe.Field)
	}
	slices.Sort(out)
	return out
}

func TestValidate(t *testing.T) {
	p, err := ParsePatch([]byte(`{"id":"C-1","title":"T","supplier":"S","serviceArea":"Housing","owner":"not-an-email",
		"route":"Bad Route","startDate":"2026-05-01","endDate":"2026-04-30","renewalType":"sometimes","annualValue":-5,
		"noticePeriod":"3 months","dbsRequired":"yes","colour":"blue"}`))
	if got := fieldNames(err); !slices.Equal(got, []string{"colour"}) {
		t.Errorf("unknown fields: %v", got)
	}
	c, err := p.Apply(Contract{})
	if got := fieldNames(err); !slices.Equal(got, []string{"dbsRequired", "noticePeriod"}) {
		t.Errorf("apply errors: %v", got)
	}
	c.Normalize()
	if got := fieldNames(c.Validate()); !slices.Equal(got, []string{"annualValue", "endDate", "owner", "renewalType", "route"}) {
		t.Errorf("validate errors: %v", got)
	}
	good := contract()
	if err := good.Validate(); err != nil {
		t.Errorf("valid contract: %v", err)
	}
	if _, err := ParsePatch([]byte(`{"startDate":"31/05/2026"}`)); err != nil {
		t.Fatal(err)
	}
	p, _ = ParsePatch([]byte(`{"startDate":"31/05/2026"}`))
	if _, err := p.Apply(good); !slices.Equal(fieldNames(err), []string{"startDate"}) {
		t.Errorf("JSON accepts only ISO dates: %v", err)
	}
	p, _ = ParsePatch([]byte(`{"notes":null,"annualValue":1000}`))
	g2 := good
	g2.Notes = "x"
	if c, err := p.Apply(g2); err != nil || c.Notes != "" || c.AnnualValue != 1000 {
		t.Errorf("patch with null: %+v %v", c, err)
	}
}

const goodCSV = "\uFEFFid,title,supplier,serviceArea,owner,route,escalationRoute,startDate,endDate,noticePeriod,internalLeadTime,renewalType,renewalTerm,annualValue,dbsRequired,dbsConfirmedOn,status,notes\r\n" +
	"C-1,Managed print,Acme Print Ltd,Housing,a@council.example,ict-champions-housing,tier2-housing,01/06/2024,31/05/2027,P3M,P90D,none,,\"£48,250.50\",yes,15/06/2024,active,\"Line one\nline two, with \"\"quotes\"\"\"\r\n" +
	"C-2,Care app,CareSoft,Adults,b@council.example,ict-champions-adults,,2025-01-01,2025-12-31,P1M,,automatic,P1Y,1200,no,,,\r\n"

func TestParseCSV(t *testing.T) {
	cs, err := ParseCSV([]byte(goodCSV))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].AnnualValue != 48250.5 || cs[0].StartDate != d("2024-06-01") || !cs[0].DBSRequired ||
		cs[0].Notes != "Line one\nline two, with \"quotes\"" || cs[1].RenewalTerm != (Period{Years: 1}) || cs[1].Status != StatusActive {
		t.Errorf("parsed %+v", cs)
	}

	bad := "id,title,supplier,serviceArea,owner,route,startDate,endDate,renewalType,annualValue\n" +
		"C-1,ok,S,A,a@b.example,r-one,01/01/2025,31/12/2025,none,1\n" +
		"C-2,\"multi\nline\",S,A,a@b.example,r-one,31/02/2025,31/12/2025,none,1\n" + // line 3: impossible date
		"C-3,t,S,A,a@b.example,r-one,01/01/2025,01/01/2024,weekly,-3\n" + // line 5
		"C-1,dup,S,A,a@b.example,r-one,01/01/2025,31/12/2025,none,1\n" + // line 6
		"C-4,short\n" // line 7
	_, err = ParseCSV([]byte(bad))
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("want ImportError, got %v", err)
	}
	var lines []int
	for _, r := range ie.Rows {
		lines = append(lines, r.Line)
	}
	if !slices.Equal(lines, []int{3, 5, 6, 7}) {
		t.Errorf("bad lines %v: %+v", lines, ie.Rows)
	}
	if got := fieldNames(errors.Join(func() []error {
		var es []error
		for _, fe := range ie.Rows[1].Errors {
			es = append(es, fe)
		}
		return es
	}()...)); !slices.Equal(got, []string{"annualValue", "endDate", "renewalType"}) {
		t.Errorf("line 5 errors %v", got)
	}
	if _, err := ParseCSV([]byte("id,colour\nC-1,blue\n")); err == nil || !strings.Contains(err.Error(), "line(s) 1") {
		t.Errorf("unknown column: %v", err)
	}
}

func TestDigestIDStable(t *testing.T) {
	a := DigestID("r", d("2026-12-03"), []string{"x", "y"})
	if b := DigestID("r", d("2026-12-03"), []string{"y", "x"}); a != b {
		t.Error("order matters")
	}
	if b := DigestID("r", d("2026-12-03"), []string{"x", "y", "z"}); a == b {
		t.Error("different sets share an ID")
	}
	if len(a) > 200 {
		t.Error("too long")
	}
	_ = time.Now
}
