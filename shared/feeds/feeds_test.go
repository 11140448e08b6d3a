package feeds

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/store"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
	"github.com/council-ict/govkit/shared/ukdates"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var now = time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)

type contractFixture []contracts.Stored

func (f contractFixture) List(_ context.Context, _ string, fn func(contracts.Stored) error) error {
	for _, s := range f {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

type requestFixture []sr.Record

func (f requestFixture) QueryRecords(_ context.Context, _ string, fn func(store.Record[sr.Record]) error) error {
	for _, r := range f {
		if err := fn(store.Record[sr.Record]{Value: r}); err != nil {
			return err
		}
	}
	return nil
}

type appFixture []struct {
	e  cloudapps.Entry
	ig *cloudapps.IG
}

func (f appFixture) CloudApps(_ context.Context, fn func(cloudapps.Entry, *cloudapps.IG) error) error {
	for _, a := range f {
		if err := fn(a.e, a.ig); err != nil {
			return err
		}
	}
	return nil
}

type erasureFixture []ErasureCheck

func (f erasureFixture) ErasureChecks(_ context.Context, fn func(ErasureCheck) error) error {
	for _, e := range f {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

type runFixture []FeedRun

func (f runFixture) FeedRuns(_ context.Context, since time.Time, fn func(FeedRun) error) error {
	for _, r := range f {
		if !r.At.Before(since) {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func day(s string) ukdates.Date {
	d, err := ukdates.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func period(s string) contracts.Period {
	p, err := contracts.ParsePeriod(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Fixtures hold personal data on purpose (owner, requester reference,
// notes, business owner): the test checks none reaches a feed.
func fixtures() Sources {
	cs := contractFixture{
		{Contract: contracts.Contract{ID: "C-001", Title: "Case management system", Supplier: "Acme Software Ltd", ServiceArea: "Adult Social Care",
			Owner: "jane.smith@council.gov.uk", Route: "asc", StartDate: day("2023-04-01"), EndDate: day("2026-09-30"),
			NoticePeriod: period("P3M"), InternalLeadTime: period("P2M"), RenewalType: contracts.RenewalByAgreement, AnnualValue: 120000.5,
			DBSRequired: true, Status: contracts.StatusActive, Notes: "Call Jane on 07700 900123"}},
		{Contract: contracts.Contract{ID: "C-002", Title: "Parking permits, \"phase 2\"", Supplier: "Permits, Inc", ServiceArea: "Highways",
			Owner: "bob@council.gov.uk", StartDate: day("2024-01-01"), EndDate: day("2025-12-31"), NoticePeriod: period("P1M"),
			RenewalType: contracts.RenewalAutomatic, RenewalTerm: period("P1Y"), AnnualValue: 9999, DBSRequired: true,
			DBSConfirmedOn: day("2024-02-01"), Status: contracts.StatusActive}},
		{Contract: contracts.Contract{ID: "C-003", Title: "Old contract", Supplier: "Gone Ltd", ServiceArea: "Finance",
			StartDate: day("2020-01-01"), EndDate: day("2025-01-31"), RenewalType: contracts.RenewalNone, Status: contracts.StatusEnded,
			ExitPlanAgreedOn: day("2024-10-01")}},
		{Contract: contracts.Contract{ID: "C-004", Title: "Deleted", Supplier: "X", ServiceArea: "Finance", EndDate: day("2026-05-01"),
			RenewalType: contracts.RenewalNone, Status: contracts.StatusActive}, DeletedAt: "2026-01-01T00:00:00Z"},
	}
	reqs := requestFixture{
		{RowKey: "SAR-2026-000001", Type: "access", Status: "completed", Channel: "email", ServiceArea: "Housing", RequesterRef: "REF-JOHN-DOE",
			ReceivedOn: "2026-01-05", DueOn: "2026-02-05", ClosedOn: "2026-02-01", CreatedBy: "officer@council.gov.uk"},
		{RowKey: "SAR-2026-000002", Type: "erasure", Status: "open", Channel: "web", ServiceArea: "Housing",
			ReceivedOn: "2026-01-20", DueOn: "2026-02-20"},
		{RowKey: "SAR-2025-000090", Type: "access", Status: "completed", Channel: "post", ServiceArea: "Children's Services",
			ReceivedOn: "2025-11-03", DueOn: "2026-02-03", Extended: true, ClosedOn: "2026-02-10"},
		{RowKey: "SAR-2026-000003", Type: "rectification", Status: "awaiting-id", Channel: "phone", ServiceArea: "Council Tax",
			ReceivedOn: "2026-03-10"},
	}
	apps := appFixture{
		{e: cloudapps.Entry{RowKey: "11111111-1111-1111-1111-111111111111", DisplayName: "Payroll SaaS", Category: "third-party",
			RiskLevel: "high", AccountEnabled: true, FirstSeen: "2025-06-01T10:00:00Z", Owners: `[{"ID":"u1","Type":"user"}]`,
			Credentials: `[{"keyId":"k1","kind":"password","end":"2026-01-01T00:00:00Z"},{"keyId":"k2","kind":"certificate","end":"2026-06-30T12:00:00Z"},{"keyId":"k3","kind":"password","end":"2027-01-01T00:00:00Z"}]`},
			ig: &cloudapps.IG{RowKey: "11111111-1111-1111-1111-111111111111", DataLocation: "uk", PersonalData: "special-category",
				AgreementInPlace: "yes", ReviewStatus: "approved", LastReviewed: "2025-07-01", ReviewDate: "2026-07-01",
				Classification: "official-sensitive", BusinessOwner: "Jane Smith", ReviewedBy: "Bob Jones", Notes: "private notes"}},
		{e: cloudapps.Entry{RowKey: "22222222-2222-2222-2222-222222222222", DisplayName: "Survey tool", Category: "third-party",
			RiskLevel: "low", AccountEnabled: false, Removed: true, FirstSeen: "2024-01-01T00:00:00Z"}},
	}
	erasure := erasureFixture{
		{AppID: "22222222-2222-2222-2222-222222222222", App: "Survey tool", Status: "Overdue", TerminationDate: "2025-12-06"},
		{AppID: "33333333-3333-3333-3333-333333333333", App: "Old CRM", Status: "compliant", TerminationDate: "2025-06-01", CompliantOn: "2025-08-01"},
		{AppID: "22222222-2222-2222-2222-222222222222", Status: "passed"}, // a per-check result: skipped
	}
	runs := runFixture{
		{At: now.Add(-time.Hour), Outcome: "partial", Tables: []FeedRunTable{{Table: "Contracts", Rows: 3, CSV: true, Pushed: true},
			{Table: "CloudApps", Rows: 2, CSV: true, Problem: "table CloudApps stopped: HTTP 400"}}},
		{At: now.AddDate(0, 0, -100), Outcome: "ok", Tables: []FeedRunTable{{Table: "Contracts", Rows: 1, CSV: true}}},
	}
	return Sources{Contracts: cs, SubjectRequests: reqs, CloudApps: apps, ErasureChecks: erasure, FeedRuns: runs}
}

func TestCSVGolden(t *testing.T) {
	in := NewInput(fixtures(), now)
	for _, tb := range Tables() {
		t.Run(tb.Name, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := WriteCSV(context.Background(), &buf, tb, in); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tb.Name+".csv")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("CSV differs from %s:\n%s", golden, buf.String())
			}
			for _, pii := range []string{"jane", "Jane", "bob", "Bob", "07700", "REF-JOHN", "officer@", "private", "SAR-"} {
				if strings.Contains(buf.String(), pii) {
					t.Errorf("%s leaks %q", tb.Name, pii)
				}
			}
		})
	}
}

func TestDefinitionsAreValidPushTables(t *testing.T) {
	seen := map[string]bool{}
	for _, tb := range Tables() {
		if err := tb.Schema().Validate(); err != nil {
			t.Error(err)
		}
		if seen[tb.Name] || tb.Rows == nil || tb.Description == "" {
			t.Errorf("table %s: duplicate, no rows function or no description", tb.Name)
		}
		seen[tb.Name] = true
		for _, c := range tb.Columns {
			if c.Date && c.Type != "DateTime" {
				t.Errorf("%s.%s is a date but not DateTime", tb.Name, c.Name)
			}
		}
	}
	for _, want := range []string{"Contracts", "ContractPipeline", "CloudApps", "SubjectRequests", "SubjectRequestMonthly", "ErasureChecks", "FeedRuns"} {
		if !seen[want] {
			t.Errorf("no %s table", want)
		}
	}
}

func TestEmptySourcesGiveHeadersAndEmptyMonths(t *testing.T) {
	in := NewInput(Sources{}, now)
	for _, tb := range Tables() {
		var buf bytes.Buffer
		n, err := WriteCSV(context.Background(), &buf, tb, in)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		switch tb.Name {
		case "ContractPipeline":
			want = PipelineMonths
		case "SubjectRequestMonthly":
			want = MonthlyMonths
		}
		if n != want || !strings.HasPrefix(buf.String(), tb.Columns[0].Name+",") {
			t.Errorf("%s: %d rows, %q", tb.Name, n, buf.String()[:min(40, buf.Len())])
		}
	}
}

func TestBlobNames(t *testing.T) {
	d, l := BlobNames("Contracts", time.Date(2026, 3, 6, 7, 5, 9, 0, time.FixedZone("BST", 3600)))
	if d != "Contracts/2026/03/06/Contracts-20260306T060509Z.csv" || l != "Contracts/latest.csv" {
		t.Errorf("%s %s", d, l)
	}
}
