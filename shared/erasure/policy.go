// Package erasure is the domain of the cloud data-erasure checks (issue 6):
// the erasure policy (how long after termination erasure must be evidenced,
// which checks apply to which classification, who is told), the supplier's
// erasure evidence (the fields NIST SP 800-88 and ISO/IEC 27001:2022 A.8.10
// ask for) and the pure evaluation of check results into an overall status
// per application.
//
// The package does no I/O; DataErasureChecks and the CloudApps API do it.
package erasure

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Tables and containers.
const (
	// ChecksTable holds one overall row per application (partition
	// ChecksPartition, row key appId); the Power BI ErasureChecks feed
	// reads it.
	ChecksTable     = "erasurechecks"
	ChecksPartition = "app"
	// ResultsTable holds the dated result of each check: partition appId,
	// row key "<check>|<YYYY-MM-DD>" (one per check per day; a re-run the
	// same day replaces it).
	ResultsTable = "erasurecheckresults"
	// EvidenceTable holds evidence filed through the API: partition appId,
	// row key the filing time. Every filing is kept.
	EvidenceTable = "erasureevidence"
	// EvidenceContainer holds evidence uploaded by IG: <appId>/<name>.json
	// metadata records (and the PDF certificates they describe).
	EvidenceContainer = "erasure-evidence"
)

// Policy defaults.
const (
	DefaultWindowDays = 90
	DefaultRoute      = "igsg"
	// DefaultChecks is the ERASURE_CHECKS default: every check for every
	// classification.
	DefaultChecks = "*=access-removed,supplier-certificate,council-copies-deleted"
	// DefaultCouncilCopies is the ERASURE_COUNCIL_COPY_PREFIXES default.
	DefaultCouncilCopies = "app-exports/{appId}/"
)

// Checks.
const (
	CheckAccessRemoved = "access-removed"
	CheckCertificate   = "supplier-certificate"
	CheckCouncilCopies = "council-copies-deleted"
)

// AllChecks lists every check, in the order they are shown.
var AllChecks = []string{CheckAccessRemoved, CheckCertificate, CheckCouncilCopies}

// Policy is the erasure policy as data.
type Policy struct {
	// WindowDays is how many days after termination erasure must be
	// evidenced; after that an application that is not compliant is
	// overdue.
	WindowDays int
	// Checks maps a classification (or "*" for any other, including none)
	// to the checks that apply.
	Checks map[string][]string
	// Route is the notification route of erasure findings.
	Route string
}

// DefaultPolicy is the policy with every default.
func DefaultPolicy() Policy {
	c, _ := ParseChecks(DefaultChecks)
	return Policy{WindowDays: DefaultWindowDays, Checks: c, Route: DefaultRoute}
}

// ChecksFor returns the checks that apply to a classification.
func (p Policy) ChecksFor(classification string) []string {
	if cs, ok := p.Checks[strings.ToLower(classification)]; ok {
		return cs
	}
	if cs, ok := p.Checks["*"]; ok {
		return cs
	}
	return AllChecks
}

// ParseChecks parses ERASURE_CHECKS: "class=check,check;class=check", where
// class is a classification (official, official-sensitive, secret,
// top-secret) or * for the rest. Every problem is reported.
func ParseChecks(s string) (map[string][]string, error) {
	out := map[string][]string{}
	var errs []error
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		class, list, ok := strings.Cut(part, "=")
		class = strings.ToLower(strings.TrimSpace(class))
		if !ok || class == "" {
			errs = append(errs, fmt.Errorf("%q: write classification=check,check", part))
			continue
		}
		var cs []string
		for _, c := range strings.Split(list, ",") {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			if !slices.Contains(AllChecks, c) {
				errs = append(errs, fmt.Errorf("%q is not a check (checks: %s)", c, strings.Join(AllChecks, ", ")))
				continue
			}
			if !slices.Contains(cs, c) {
				cs = append(cs, c)
			}
		}
		if len(cs) == 0 {
			errs = append(errs, fmt.Errorf("classification %q has no checks", class))
			continue
		}
		sort.Slice(cs, func(i, j int) bool { return slices.Index(AllChecks, cs[i]) < slices.Index(AllChecks, cs[j]) })
		out[class] = cs
	}
	return out, errors.Join(errs...)
}

// Location is a blob container and name prefix holding council-held copies
// of an application's data.
type Location struct {
	Container string
	Prefix    string
}

func (l Location) String() string { return l.Container + "/" + l.Prefix }

// ParseLocations parses ERASURE_COUNCIL_COPY_PREFIXES: comma-separated
// container/prefix templates in which {appId} stands for the application
// id, e.g. "app-exports/{appId}/,migration/{appId}/".
func ParseLocations(s string) ([]string, error) {
	var out []string
	var errs []error
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		container, prefix, _ := strings.Cut(t, "/")
		if !validContainer(container) {
			errs = append(errs, fmt.Errorf("%q: the container %q must be 3-63 lower-case letters, digits and -", t, container))
			continue
		}
		if !strings.Contains(prefix, "{appId}") {
			errs = append(errs, fmt.Errorf("%q: the prefix must contain {appId}, so that only this application's copies are checked", t))
			continue
		}
		out = append(out, t)
	}
	return out, errors.Join(errs...)
}

// LocationsFor expands templates for one application.
func LocationsFor(templates []string, appID string) []Location {
	out := make([]Location, 0, len(templates))
	for _, t := range templates {
		container, prefix, _ := strings.Cut(strings.ReplaceAll(t, "{appId}", appID), "/")
		out = append(out, Location{Container: container, Prefix: prefix})
	}
	return out
}

func validContainer(s string) bool {
	if len(s) < 3 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
