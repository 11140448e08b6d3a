package erasure

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/council-ict/govkit/shared/funcapp"
)

// Sanitisation methods (NIST SP 800-88: clear, purge, destroy; and
// cryptographic erase, which Rev. 2 treats at length).
const (
	MethodClear       = "clear"
	MethodPurge       = "purge"
	MethodDestroy     = "destroy"
	MethodCryptoErase = "cryptographic-erase"
)

// Methods lists the accepted methods.
var Methods = []string{MethodClear, MethodPurge, MethodDestroy, MethodCryptoErase}

// Scope is what the supplier's erasure covered.
type Scope struct {
	// Systems describes the data and systems erased (e.g. "production
	// tenant, file store, audit logs").
	Systems string `json:"systems,omitempty"`
	// Backups says whether backups were erased too; it must be true.
	Backups *bool `json:"backups,omitempty"`
	// SubProcessors says whether the supplier's sub-processors erased their
	// copies too; it must be true.
	SubProcessors *bool `json:"subProcessors,omitempty"`
	// SubProcessorNames optionally names them.
	SubProcessorNames []string `json:"subProcessorNames,omitempty"`
}

// Evidence is a supplier's erasure certificate record: the metadata of a
// certificate (the PDF sits next to it in blob storage, or is referenced).
type Evidence struct {
	Method      string `json:"method,omitempty"`
	Scope       Scope  `json:"scope"`
	PerformedOn string `json:"performedOn,omitempty"`
	// AttestedBy is who at the supplier attests the erasure (name and role).
	AttestedBy string `json:"attestedBy,omitempty"`
	// Reference is the certificate's reference (number, ticket, document id).
	Reference string `json:"reference,omitempty"`
	// Tool and Verification optionally record how it was done and checked
	// (NIST's sample certificate asks for both).
	Tool         string `json:"tool,omitempty"`
	Verification string `json:"verification,omitempty"`
	Document     string `json:"document,omitempty"` // the certificate file, e.g. its blob name
	Notes        string `json:"notes,omitempty"`
}

// Required fields, as named in errors and missing lists.
const (
	FieldMethod        = "method"
	FieldScopeSystems  = "scope.systems"
	FieldScopeBackups  = "scope.backups"
	FieldScopeSubProcs = "scope.subProcessors"
	FieldPerformedOn   = "performedOn"
	FieldAttestedBy    = "attestedBy"
	FieldReference     = "reference"
)

// Missing returns the required fields the evidence lacks, and the scope
// flags that are present but false (the erasure did not cover backups or
// sub-processors), as "scope.backups=false". Empty: complete.
func (e Evidence) Missing() []string {
	var m []string
	if e.Method == "" {
		m = append(m, FieldMethod)
	}
	if strings.TrimSpace(e.Scope.Systems) == "" {
		m = append(m, FieldScopeSystems)
	}
	switch {
	case e.Scope.Backups == nil:
		m = append(m, FieldScopeBackups)
	case !*e.Scope.Backups:
		m = append(m, FieldScopeBackups+"=false")
	}
	switch {
	case e.Scope.SubProcessors == nil:
		m = append(m, FieldScopeSubProcs)
	case !*e.Scope.SubProcessors:
		m = append(m, FieldScopeSubProcs+"=false")
	}
	if e.PerformedOn == "" {
		m = append(m, FieldPerformedOn)
	}
	if strings.TrimSpace(e.AttestedBy) == "" {
		m = append(m, FieldAttestedBy)
	}
	if strings.TrimSpace(e.Reference) == "" {
		m = append(m, FieldReference)
	}
	return m
}

// Complete reports whether nothing is missing.
func (e Evidence) Complete() bool { return len(e.Missing()) == 0 }

var textLimits = map[string]int{"attestedBy": 200, "reference": 200, "tool": 200, "verification": 1000,
	"document": 500, "notes": 4000}

// ParseEvidence decodes and checks an evidence record. Malformed fields
// (wrong JSON type, unknown field, a method not in Methods, a date that is
// not YYYY-MM-DD or is after today) are errors, one funcapp.FieldError per
// field, all reported at once. Missing fields are not errors: see Missing.
func ParseEvidence(body []byte, today time.Time) (Evidence, error) {
	var raw map[string]json.RawMessage
	if err := funcapp.DecodeJSON(body, &raw); err != nil {
		return Evidence{}, err
	}
	var e Evidence
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, funcapp.FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	str := func(field string, dst *string) {
		v, ok := raw[field]
		if !ok || string(v) == "null" {
			return
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			bad(field, "must be a string")
			return
		}
		s = strings.TrimSpace(s)
		if n := textLimits[field]; n > 0 && utf8.RuneCountInString(s) > n {
			bad(field, "must be at most %d characters", n)
			return
		}
		*dst = s
	}
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	known := []string{"method", "scope", "performedOn", "attestedBy", "reference", "tool", "verification", "document", "notes"}
	for _, k := range names {
		if !slices.Contains(known, k) {
			bad(k, "is not an evidence field; the fields are %s", strings.Join(known, ", "))
		}
	}
	str("method", &e.Method)
	if e.Method != "" {
		m := strings.ToLower(strings.ReplaceAll(e.Method, " ", "-"))
		if m == "crypto-erase" || m == "cryptographic-erasure" {
			m = MethodCryptoErase
		}
		if !slices.Contains(Methods, m) {
			bad("method", "must be one of %s", strings.Join(Methods, ", "))
			e.Method = ""
		} else {
			e.Method = m
		}
	}
	str("performedOn", &e.PerformedOn)
	if e.PerformedOn != "" {
		d, err := time.Parse(time.DateOnly, e.PerformedOn)
		switch {
		case err != nil:
			bad("performedOn", "must be a date as YYYY-MM-DD")
			e.PerformedOn = ""
		case d.After(today):
			bad("performedOn", "is in the future")
			e.PerformedOn = ""
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"attestedBy", &e.AttestedBy}, {"reference", &e.Reference}, {"tool", &e.Tool},
		{"verification", &e.Verification}, {"document", &e.Document}, {"notes", &e.Notes}} {
		str(f.name, f.dst)
	}
	if v, ok := raw["scope"]; ok && string(v) != "null" {
		var sc map[string]json.RawMessage
		if err := json.Unmarshal(v, &sc); err != nil {
			bad("scope", "must be an object with systems, backups and subProcessors")
		} else {
			for k, x := range sc {
				switch k {
				case "systems":
					var s string
					if json.Unmarshal(x, &s) != nil && string(x) != "null" {
						bad("scope.systems", "must be a string")
					}
					e.Scope.Systems = strings.TrimSpace(s)
				case "backups", "subProcessors":
					if string(x) == "null" {
						continue
					}
					var b bool
					if json.Unmarshal(x, &b) != nil {
						bad("scope."+k, "must be true or false")
						continue
					}
					if k == "backups" {
						e.Scope.Backups = &b
					} else {
						e.Scope.SubProcessors = &b
					}
				case "subProcessorNames":
					if json.Unmarshal(x, &e.Scope.SubProcessorNames) != nil && string(x) != "null" {
						bad("scope.subProcessorNames", "must be an array of strings")
					}
				default:
					bad("scope."+k, "is not a scope field; the fields are systems, backups, subProcessors, subProcessorNames")
				}
			}
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			var a, b funcapp.FieldError
			errors.As(errs[i], &a)
			errors.As(errs[j], &b)
			return a.Field < b.Field
		})
		return Evidence{}, errors.Join(errs...)
	}
	return e, nil
}

// Filed is an evidence record as filed: where it came from, when, and by
// whom (the caller's object id, never a name).
type Filed struct {
	Evidence
	// Source is "api" or the blob name of an uploaded record.
	Source  string    `json:"source"`
	FiledAt time.Time `json:"filedAt"`
	FiledBy string    `json:"filedBy,omitempty"`
	// Problem is set for an uploaded record that could not be read.
	Problem string `json:"problem,omitempty"`
}

// CertificateResult evaluates the supplier-certificate check over every
// record filed for an application: passed when one is complete; failed
// with the missing fields of the latest record otherwise (incomplete
// evidence is not absent evidence), or "no certificate filed".
func CertificateResult(records []Filed) Result {
	if len(records) == 0 {
		return Result{Check: CheckCertificate, Outcome: Failed, Reason: "no supplier erasure certificate filed"}
	}
	sorted := slices.Clone(records)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].FiledAt.After(sorted[j].FiledAt) })
	for _, r := range sorted {
		if r.Problem == "" && r.Complete() {
			return Result{Check: CheckCertificate, Outcome: Passed,
				Reason: fmt.Sprintf("certificate %s (%s, performed %s) filed", r.Reference, r.Method, r.PerformedOn),
				Detail: []string{r.Source}}
		}
	}
	latest := sorted[0]
	if latest.Problem != "" {
		return Result{Check: CheckCertificate, Outcome: Failed, Reason: "certificate record " + latest.Source + " is unreadable: " + latest.Problem,
			Detail: []string{latest.Source}}
	}
	missing := latest.Missing()
	return Result{Check: CheckCertificate, Outcome: Failed, Reason: "certificate incomplete: missing " + strings.Join(missing, ", "),
		Missing: missing, Detail: []string{latest.Source}}
}
