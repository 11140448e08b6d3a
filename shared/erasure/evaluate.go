package erasure

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/cloudapps"
)

// Check outcomes.
const (
	Passed  = "passed"
	Failed  = "failed"
	Unknown = "unknown"
)

// Overall statuses (the Power BI feed reads them).
const (
	StatusCompliant  = "compliant"
	StatusIncomplete = "incomplete"
	StatusOverdue    = "overdue"
	StatusUnknown    = "unknown"
)

// Result is the outcome of one check on one day.
type Result struct {
	Check   string `json:"check"`
	Outcome string `json:"outcome"`
	// Reason says why, in words a person can act on; always set for failed
	// and unknown.
	Reason string `json:"reason,omitempty"`
	// Missing names the evidence fields missing (supplier-certificate).
	Missing []string `json:"missing,omitempty"`
	// Detail lists what was found: credential ids, grant ids, blob names.
	Detail []string `json:"detail,omitempty"`
}

// UnknownResult is a check that could not run. The reason is recorded; an
// unknown check never counts as passed.
func UnknownResult(check string, err error) Result {
	return Result{Check: check, Outcome: Unknown, Reason: "check could not run: " + err.Error()}
}

// Termination is when the service ended and where that date came from.
type Termination struct {
	Date time.Time // a UTC day
	// Source is "ig" (the IG record's terminationDate) or "contract:<id>".
	Source string
}

// Deadline is the last day erasure may be evidenced.
func (p Policy) Deadline(t Termination) time.Time {
	return t.Date.AddDate(0, 0, p.WindowDays)
}

// Previous is what the last run stored for an application.
type Previous struct {
	Status      string
	Since       string // YYYY-MM-DD the status began
	CompliantOn string
}

// Outcome is the evaluation of one application on one day.
type Outcome struct {
	Status string
	// Since is the day the status began (today on a change).
	Since string
	// CompliantOn is the day the application became compliant (kept while
	// it stays compliant; empty otherwise).
	CompliantOn string
	// Changed is set when the status differs from the previous run's (or
	// there was none): the moment to notify.
	Changed bool
	// Reasons are the failed and unknown checks' reasons, in check order.
	Reasons []string
	// PastWindow is set once the window after termination has passed.
	PastWindow   bool
	Deadline     string
	DaysOverdue  int
	DaysSinceEnd int
}

// Evaluate turns the day's check results into the overall status:
//
//   - compliant: every applicable check passed;
//   - overdue: some check failed and the window after termination has
//     passed (today is after the deadline);
//   - incomplete: some check failed, within the window;
//   - unknown: nothing failed but some check could not run (never
//     compliant on a check that did not run).
//
// Results for checks that do not apply are ignored; an applicable check
// with no result counts as unknown.
func Evaluate(p Policy, checks []string, term Termination, results []Result, prev *Previous, today time.Time) Outcome {
	today = day(today)
	deadline := p.Deadline(term)
	o := Outcome{Deadline: deadline.Format(time.DateOnly), PastWindow: today.After(deadline),
		DaysSinceEnd: int(today.Sub(term.Date).Hours() / 24)}
	if o.PastWindow {
		o.DaysOverdue = int(today.Sub(deadline).Hours() / 24)
	}
	byCheck := map[string]Result{}
	for _, r := range results {
		byCheck[r.Check] = r
	}
	failed, unknown := false, false
	for _, c := range checks {
		r, ok := byCheck[c]
		if !ok {
			r = Result{Check: c, Outcome: Unknown, Reason: "not checked"}
		}
		switch r.Outcome {
		case Passed:
			continue
		case Failed:
			failed = true
		default:
			unknown = true
		}
		o.Reasons = append(o.Reasons, c+": "+r.Reason)
	}
	switch {
	case failed && o.PastWindow:
		o.Status = StatusOverdue
	case failed:
		o.Status = StatusIncomplete
	case unknown:
		o.Status = StatusUnknown
	default:
		o.Status = StatusCompliant
	}
	ds := today.Format(time.DateOnly)
	if prev == nil || prev.Status != o.Status {
		o.Changed, o.Since = true, ds
	} else {
		o.Since = prev.Since
	}
	if o.Status == StatusCompliant {
		o.CompliantOn = ds
		if prev != nil && prev.Status == StatusCompliant && prev.CompliantOn != "" {
			o.CompliantOn = prev.CompliantOn
		}
	}
	return o
}

// Severity is the notification severity of a status: compliant is info,
// incomplete a warning, unknown a warning (urgent once the window has
// passed), overdue is the escalation.
func (o Outcome) Severity() string {
	switch o.Status {
	case StatusCompliant:
		return "info"
	case StatusOverdue:
		return "overdue"
	case StatusUnknown:
		if o.PastWindow {
			return "urgent"
		}
	}
	return "warning"
}

// NotificationID is the idempotency key of the alert for a state change:
// erasure:<appId>:<status>:<since>.
func NotificationID(appID string, o Outcome) string {
	return fmt.Sprintf("erasure:%s:%s:%s", appID, o.Status, o.Since)
}

// Title is the alert title for an application's new status.
func (o Outcome) Title(app string) string {
	switch o.Status {
	case StatusCompliant:
		return "Data erasure evidenced: " + app
	case StatusOverdue:
		return fmt.Sprintf("Data erasure OVERDUE (%d days past the deadline): %s", o.DaysOverdue, app)
	case StatusUnknown:
		return "Data erasure could not be checked: " + app
	}
	return "Data erasure not yet evidenced: " + app
}

// Summary is one line for the alert.
func (o Outcome) Summary() string {
	if len(o.Reasons) == 0 {
		return "Every erasure check passed."
	}
	return strings.Join(o.Reasons, "; ")
}

// ContractTermination picks the termination of an application from its
// IG record's terminationDate (which wins: IG set it on purpose) or, when
// that is empty, the latest end date of the ended contracts naming it.
func ContractTermination(igDate string, ended map[string]string) (Termination, bool) {
	if igDate != "" {
		if d, err := time.Parse(time.DateOnly, igDate); err == nil {
			return Termination{Date: d, Source: "ig"}, true
		}
	}
	ids := make([]string, 0, len(ended))
	for id := range ended {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var best Termination
	for _, id := range ids {
		d, err := time.Parse(time.DateOnly, ended[id])
		if err != nil {
			continue
		}
		if best.Date.IsZero() || d.After(best.Date) {
			best = Termination{Date: d, Source: "contract:" + id}
		}
	}
	return best, !best.Date.IsZero()
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// AccessResult evaluates the access-removed check from what Entra ID says
// about the application's service principal: passed when it is deleted
// (found false), or disabled with no delegated grants, no application role
// assignments and no credential still valid at now. The reasons name what
// is left.
func AccessResult(sp cloudapps.ServicePrincipal, ch cloudapps.Children, found bool, now time.Time) Result {
	r := Result{Check: CheckAccessRemoved}
	if !found || ch.Gone {
		r.Outcome, r.Reason = Passed, "service principal deleted in Entra ID"
		return r
	}
	var left []string
	if sp.AccountEnabled {
		left = append(left, "service principal still enabled in Entra ID")
	}
	if n := len(ch.Grants); n > 0 {
		left = append(left, fmt.Sprintf("%d delegated permission grant(s) not revoked", n))
		for _, g := range ch.Grants {
			r.Detail = append(r.Detail, "grant:"+g.ID)
		}
	}
	if n := len(ch.AppRoleAssignments); n > 0 {
		left = append(left, fmt.Sprintf("%d application permission(s) not removed", n))
		for _, a := range ch.AppRoleAssignments {
			r.Detail = append(r.Detail, "appRoleAssignment:"+a.ID)
		}
	}
	valid := 0
	for _, c := range sp.Credentials {
		if c.End.IsZero() || c.End.After(now) {
			valid++
			r.Detail = append(r.Detail, c.Kind+":"+c.KeyID)
		}
	}
	if valid > 0 {
		left = append(left, fmt.Sprintf("%d credential(s) still valid", valid))
	}
	if len(left) == 0 {
		r.Outcome, r.Reason = Passed, "service principal disabled; no grants, application permissions or valid credentials left"
		return r
	}
	r.Outcome, r.Reason = Failed, strings.Join(left, "; ")
	return r
}

// CopiesResult evaluates the council-copies-deleted check: remaining maps
// each linked location to the blob names still there (empty or absent:
// deleted). No linked location passes, saying so.
func CopiesResult(locations []Location, remaining map[string][]string) Result {
	r := Result{Check: CheckCouncilCopies}
	if len(locations) == 0 {
		r.Outcome, r.Reason = Passed, "no council-held locations are linked to this application"
		return r
	}
	var left []string
	for _, l := range locations {
		if names := remaining[l.String()]; len(names) > 0 {
			left = append(left, fmt.Sprintf("%d blob(s) left in %s", len(names), l))
			for _, n := range names {
				if len(r.Detail) < 20 {
					r.Detail = append(r.Detail, l.Container+"/"+n)
				}
			}
		}
	}
	if len(left) == 0 {
		names := make([]string, len(locations))
		for i, l := range locations {
			names[i] = l.String()
		}
		r.Outcome, r.Reason = Passed, "nothing left in "+strings.Join(names, ", ")
		return r
	}
	r.Outcome, r.Reason = Failed, strings.Join(left, "; ")
	return r
}
