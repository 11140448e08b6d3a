package erasure

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/funcapp"
)

var today = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)

func pass(c string) Result { return Result{Check: c, Outcome: Passed, Reason: "ok"} }
func fail(c, why string) Result {
	return Result{Check: c, Outcome: Failed, Reason: why}
}
func unk(c string) Result { return Result{Check: c, Outcome: Unknown, Reason: "graph: HTTP 503"} }

func TestEvaluate(t *testing.T) {
	p := DefaultPolicy()
	ago := func(n int) Termination { return Termination{Date: today.AddDate(0, 0, -n), Source: "ig"} }
	all := AllChecks
	for _, tc := range []struct {
		name        string
		checks      []string
		term        Termination
		results     []Result
		prev        *Previous
		status      string
		changed     bool
		since       string
		compliantOn string
		reasons     int
		severity    string
	}{
		{"all passed, first run", all, ago(10), []Result{pass(CheckAccessRemoved), pass(CheckCertificate), pass(CheckCouncilCopies)}, nil,
			StatusCompliant, true, "2026-12-03", "2026-12-03", 0, "info"},
		{"still compliant keeps its date", all, ago(10), []Result{pass(CheckAccessRemoved), pass(CheckCertificate), pass(CheckCouncilCopies)},
			&Previous{Status: StatusCompliant, Since: "2026-11-20", CompliantOn: "2026-11-20"}, StatusCompliant, false, "2026-11-20", "2026-11-20", 0, "info"},
		{"failed within window", all, ago(10), []Result{fail(CheckAccessRemoved, "enabled"), pass(CheckCertificate), pass(CheckCouncilCopies)}, nil,
			StatusIncomplete, true, "2026-12-03", "", 1, "warning"},
		{"failed on the deadline day is not overdue", all, ago(90), []Result{fail(CheckCertificate, "none"), pass(CheckAccessRemoved), pass(CheckCouncilCopies)}, nil,
			StatusIncomplete, true, "2026-12-03", "", 1, "warning"},
		{"failed past window", all, ago(100), []Result{fail(CheckAccessRemoved, "enabled"), fail(CheckCertificate, "none"), pass(CheckCouncilCopies)},
			&Previous{Status: StatusIncomplete, Since: "2026-10-01"}, StatusOverdue, true, "2026-12-03", "", 2, "overdue"},
		{"unknown never passes", all, ago(10), []Result{unk(CheckAccessRemoved), pass(CheckCertificate), pass(CheckCouncilCopies)}, nil,
			StatusUnknown, true, "2026-12-03", "", 1, "warning"},
		{"unknown past window is urgent", all, ago(120), []Result{unk(CheckAccessRemoved), pass(CheckCertificate), pass(CheckCouncilCopies)}, nil,
			StatusUnknown, true, "2026-12-03", "", 1, "urgent"},
		{"failed beats unknown", all, ago(120), []Result{unk(CheckAccessRemoved), fail(CheckCertificate, "none"), pass(CheckCouncilCopies)}, nil,
			StatusOverdue, true, "2026-12-03", "", 2, "overdue"},
		{"missing result is unknown", all, ago(5), []Result{pass(CheckAccessRemoved), pass(CheckCertificate)}, nil,
			StatusUnknown, true, "2026-12-03", "", 1, "warning"},
		{"check not in policy ignored", []string{CheckAccessRemoved}, ago(5), []Result{pass(CheckAccessRemoved), fail(CheckCertificate, "x")}, nil,
			StatusCompliant, true, "2026-12-03", "2026-12-03", 0, "info"},
		{"same state, no change", all, ago(100), []Result{fail(CheckAccessRemoved, "enabled"), pass(CheckCertificate), pass(CheckCouncilCopies)},
			&Previous{Status: StatusOverdue, Since: "2026-12-01"}, StatusOverdue, false, "2026-12-01", "", 1, "overdue"},
		{"regression clears compliantOn", all, ago(100), []Result{fail(CheckAccessRemoved, "enabled"), pass(CheckCertificate), pass(CheckCouncilCopies)},
			&Previous{Status: StatusCompliant, Since: "2026-11-01", CompliantOn: "2026-11-01"}, StatusOverdue, true, "2026-12-03", "", 1, "overdue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Evaluate(p, tc.checks, tc.term, tc.results, tc.prev, today.Add(15*time.Hour))
			if o.Status != tc.status || o.Changed != tc.changed || o.Since != tc.since || o.CompliantOn != tc.compliantOn ||
				len(o.Reasons) != tc.reasons || o.Severity() != tc.severity {
				t.Errorf("got %s changed=%v since=%s compliantOn=%s reasons=%q severity=%s", o.Status, o.Changed, o.Since, o.CompliantOn, o.Reasons, o.Severity())
			}
		})
	}
}

func TestParseEvidence(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		errs    []string // fields named in the error
		missing []string
	}{
		{"complete", `{"method":"purge","scope":{"systems":"tenant and file store","backups":true,"subProcessors":true},"performedOn":"2026-11-30","attestedBy":"J Smith, CISO","reference":"CERT-1"}`, nil, nil},
		{"crypto erase spelt out", `{"method":"Cryptographic Erase","scope":{"systems":"all","backups":true,"subProcessors":true},"performedOn":"2026-11-30","attestedBy":"x","reference":"r"}`, nil, nil},
		{"partial", `{"method":"destroy","performedOn":"2026-11-30"}`, nil,
			[]string{"scope.systems", "scope.backups", "scope.subProcessors", "attestedBy", "reference"}},
		{"backups not covered", `{"method":"clear","scope":{"systems":"db","backups":false,"subProcessors":true},"performedOn":"2026-11-30","attestedBy":"x","reference":"r"}`, nil,
			[]string{"scope.backups=false"}},
		{"malformed", `{"method":"shred","performedOn":"30/11/2026","attestedBy":5,"colour":"red","scope":{"backups":"yes"}}`,
			[]string{"attestedBy", "colour", "method", "performedOn", "scope.backups"}, nil},
		{"future date", `{"performedOn":"2027-01-01"}`, []string{"performedOn"}, nil},
		{"not JSON", `{"method":`, []string{"body"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ParseEvidence([]byte(tc.body), today)
			var got []string
			for _, x := range unwrap(err) {
				var fe funcapp.FieldError
				if errors.As(x, &fe) {
					got = append(got, fe.Field)
				}
			}
			if !reflect.DeepEqual(got, tc.errs) {
				t.Fatalf("error fields %q, want %q (%v)", got, tc.errs, err)
			}
			if err != nil {
				return
			}
			if m := e.Missing(); !reflect.DeepEqual(m, tc.missing) {
				t.Errorf("missing %q, want %q", m, tc.missing)
			}
		})
	}
}

func unwrap(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestCertificateResult(t *testing.T) {
	yes := true
	full := Evidence{Method: "purge", Scope: Scope{Systems: "x", Backups: &yes, SubProcessors: &yes}, PerformedOn: "2026-11-01", AttestedBy: "a", Reference: "R1"}
	part := Evidence{Method: "purge"}
	t0 := today
	for _, tc := range []struct {
		name    string
		recs    []Filed
		outcome string
		reason  string
	}{
		{"none", nil, Failed, "no supplier erasure certificate filed"},
		{"partial", []Filed{{Evidence: part, Source: "api", FiledAt: t0}}, Failed, "certificate incomplete: missing scope.systems"},
		{"a complete one wins over a later partial", []Filed{{Evidence: full, Source: "api", FiledAt: t0}, {Evidence: part, Source: "b.json", FiledAt: t0.Add(time.Hour)}}, Passed, "certificate R1"},
		{"unreadable", []Filed{{Source: "x.json", FiledAt: t0, Problem: "malformed JSON"}}, Failed, "certificate record x.json is unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := CertificateResult(tc.recs)
			if r.Outcome != tc.outcome || !strings.HasPrefix(r.Reason, tc.reason) {
				t.Errorf("got %s %q", r.Outcome, r.Reason)
			}
		})
	}
}

func TestAccessResult(t *testing.T) {
	now := today
	live := cloudapps.Credential{KeyID: "k1", Kind: "password", End: now.AddDate(0, 1, 0)}
	old := cloudapps.Credential{KeyID: "k2", Kind: "password", End: now.AddDate(0, -1, 0)}
	for _, tc := range []struct {
		name    string
		sp      cloudapps.ServicePrincipal
		ch      cloudapps.Children
		found   bool
		outcome string
		reason  string
	}{
		{"deleted", cloudapps.ServicePrincipal{}, cloudapps.Children{}, false, Passed, "service principal deleted"},
		{"disabled and clean", cloudapps.ServicePrincipal{Credentials: []cloudapps.Credential{old}}, cloudapps.Children{}, true, Passed, "service principal disabled"},
		{"enabled", cloudapps.ServicePrincipal{AccountEnabled: true}, cloudapps.Children{}, true, Failed, "service principal still enabled in Entra ID"},
		{"disabled with leftovers", cloudapps.ServicePrincipal{Credentials: []cloudapps.Credential{live}},
			cloudapps.Children{Grants: []cloudapps.Grant{{ID: "g"}}, AppRoleAssignments: []cloudapps.AppRoleAssignment{{ID: "a"}}}, true, Failed,
			"1 delegated permission grant(s) not revoked; 1 application permission(s) not removed; 1 credential(s) still valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := AccessResult(tc.sp, tc.ch, tc.found, now)
			if r.Outcome != tc.outcome || !strings.HasPrefix(r.Reason, tc.reason) {
				t.Errorf("got %s %q", r.Outcome, r.Reason)
			}
		})
	}
}

func TestPolicyParsing(t *testing.T) {
	c, err := ParseChecks("*=access-removed,supplier-certificate,council-copies-deleted; official=supplier-certificate,access-removed")
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{Checks: c}
	if got := p.ChecksFor("OFFICIAL"); !reflect.DeepEqual(got, []string{CheckAccessRemoved, CheckCertificate}) {
		t.Errorf("official: %v", got)
	}
	if got := p.ChecksFor(""); len(got) != 3 {
		t.Errorf("default: %v", got)
	}
	if _, err := ParseChecks("official=shredding;secret="); err == nil || !strings.Contains(err.Error(), "shredding") || !strings.Contains(err.Error(), "secret") {
		t.Errorf("want both problems, got %v", err)
	}
	ts, err := ParseLocations("app-exports/{appId}/, migration/{appId}/raw/")
	if err != nil {
		t.Fatal(err)
	}
	if got := LocationsFor(ts, "abc"); got[1] != (Location{"migration", "abc/raw/"}) {
		t.Errorf("locations %v", got)
	}
	if _, err := ParseLocations("Bad_Container/{appId}/,exports/all/"); err == nil || !strings.Contains(err.Error(), "{appId}") {
		t.Errorf("want errors, got %v", err)
	}
	r := CopiesResult(LocationsFor(ts, "abc"), map[string][]string{"app-exports/abc/": {"abc/x.csv"}})
	if r.Outcome != Failed || r.Reason != "1 blob(s) left in app-exports/abc/" {
		t.Errorf("copies %+v", r)
	}
}
