package contracts

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/ukdates"
)

// DefaultLadder is the default alert ladder: days before each milestone.
var DefaultLadder = []int{180, 90, 60, 30, 14, 7, 1, 0}

// Policy is how alerts are evaluated.
type Policy struct {
	// Ladder is the days before a milestone at which to alert, in
	// descending order (ParseLadder sorts and checks it).
	Ladder []int
	// EscalationWindowDays: a milestone this close without an exit plan or
	// renewal decision on record is escalated to the escalation route.
	EscalationWindowDays int
	// CatchUpDays is how long after a milestone (or a contract's end, for
	// the post-contract prompt) a missed alert is still sent. It covers
	// weekends, bank holidays and outages between weekday runs.
	CatchUpDays int
	// PostContractDays is how long after the end date the post-contract
	// prompt stays due (the Procurement Act 2023 gives 30 days to publish a
	// Contract Termination Notice).
	PostContractDays int
}

// DefaultPolicy returns the defaults: DefaultLadder, 30-day escalation
// window, 7 days' catch-up, 30 days for the post-contract prompt.
func DefaultPolicy() Policy {
	return Policy{Ladder: DefaultLadder, EscalationWindowDays: 30, CatchUpDays: 7, PostContractDays: 30}
}

// ParseLadder parses a comma-separated list of days ("180,90,60,30,14,7,1,0")
// into a descending ladder without repeats.
func ParseLadder(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || n > 3660 {
			return nil, fmt.Errorf("%q is not a whole number of days from 0 to 3660", part)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("the ladder is empty")
	}
	slices.Sort(out)
	out = slices.Compact(out)
	slices.Reverse(out)
	return out, nil
}

// AlertKind says what an alert is about.
type AlertKind string

// Alert kinds.
const (
	AlertMilestone    AlertKind = "milestone"     // a ladder rung of a milestone, to the contract's route
	AlertEscalation   AlertKind = "escalation"    // the same, to the escalation route
	AlertDBS          AlertKind = "dbs"           // DBS checks required but not confirmed
	AlertPostContract AlertKind = "post-contract" // the contract has ended: close-down tasks
)

// Alert is one due alert. Its ID is the notification ID and, with the
// ledger, guarantees it is sent at most once.
type Alert struct {
	Kind      AlertKind
	Contract  *Contract
	Milestone Milestone
	// DaysLeft is days from the run date to the milestone (negative: passed).
	DaysLeft int
	// Rung is the ladder rung (days before); -1 for DBS and post-contract.
	Rung int
	// Superseded are the less urgent rungs of the same milestone that were
	// due but are overtaken by Rung (a late import or a missed run): they
	// will never be sent. A sub-slice of the policy's ladder: do not modify.
	Superseded []int
	// Route is where the alert goes.
	Route    string
	Severity string
	// Escalate is set on a milestone alert that is also escalated.
	Escalate bool
	// Month is the reminder month of a DBS alert.
	Month string
}

// ID returns the alert's notification ID:
//
//	contracts:<id>:<milestone>:<milestone date>:<rung>       milestone rung
//	contracts:<id>:<milestone>:<milestone date>:<rung>:escalation
//	contracts:<id>:dbs:<YYYY-MM>                              monthly DBS reminder
//	contracts:<id>:post-contract:<end date>
//
// The milestone date is part of the key, so a renewed term or an edited end
// date arms the ladder again, while re-runs on the same dates never repeat.
func (a *Alert) ID() string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString("contracts:")
	b.WriteString(a.Contract.ID)
	b.WriteByte(':')
	switch a.Kind {
	case AlertDBS:
		b.WriteString("dbs:")
		b.WriteString(a.Month)
	case AlertPostContract:
		b.WriteString("post-contract:")
		b.WriteString(a.Milestone.Date.String())
	default:
		b.WriteString(string(a.Milestone.Kind))
		b.WriteByte(':')
		b.WriteString(a.Milestone.Date.String())
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(a.Rung))
		if a.Kind == AlertEscalation {
			b.WriteString(":escalation")
		}
	}
	return b.String()
}

// Evaluated says whether a contract is evaluated at all: not ended.
func Evaluated(c *Contract) bool { return c.Status != StatusEnded }

// Evaluate appends to dst the alerts due for c on today and returns it.
// It is pure and, given a dst with capacity, allocation-free.
//
// Per milestone only the most urgent due rung is returned: the smallest rung
// r with daysLeft <= r. Less urgent rungs that are also due (because the
// contract was imported late or runs were missed) are Superseded, not sent
// in a burst. A milestone that passed up to CatchUpDays ago still yields its
// last rung once (a run missed over a weekend catches up). Re-running on the
// same or a later day yields the same IDs until the next rung falls due, so
// the ledger drops repeats.
func Evaluate(dst []Alert, c *Contract, today ukdates.Date, p Policy) []Alert {
	if !Evaluated(c) || len(p.Ladder) == 0 {
		return dst
	}
	var ms [6]Milestone
	end, k := c.TermEnd(today)
	m := ms[:0]
	if k > 0 {
		// The previous term's end may still be within catch-up.
		if prev := c.RenewalTerm.Times(k-1).AddTo(c.EndDate, 1); prev.DaysUntil(today) <= p.CatchUpDays {
			m = c.termMilestones(m, prev)
		}
	}
	m = c.termMilestones(m, end)
	for _, ms := range m {
		left := today.DaysUntil(ms.Date)
		if ms.Date.Before(c.StartDate) || left < -p.CatchUpDays {
			continue
		}
		// Ladder is descending: due rungs (r >= left) are a prefix.
		n := 0
		for n < len(p.Ladder) && p.Ladder[n] >= left {
			n++
		}
		if n == 0 {
			continue // not yet at the first rung
		}
		a := Alert{Kind: AlertMilestone, Contract: c, Milestone: ms, DaysLeft: left, Rung: p.Ladder[n-1],
			Superseded: p.Ladder[:n-1], Route: c.Route, Severity: severityFor(left)}
		if left <= p.EscalationWindowDays && !c.DecisionRecorded() {
			a.Escalate = true
			if a.Severity == notify.SeverityInfo || a.Severity == notify.SeverityWarning {
				a.Severity = notify.SeverityUrgent
			}
		}
		dst = append(dst, a)
		if a.Escalate && c.EscalationRoute != "" {
			e := a
			e.Kind, e.Route = AlertEscalation, c.EscalationRoute
			dst = append(dst, e)
		}
	}
	if c.DBSRequired && c.DBSConfirmedOn.IsZero() && !c.StartDate.After(today) && !c.EndDate.Before(today) {
		dst = append(dst, Alert{Kind: AlertDBS, Contract: c, Rung: -1, Route: c.Route, Severity: notify.SeverityWarning,
			Month: monthKey(today)})
	}
	if !c.rolls() && c.EndDate.Before(today) && c.EndDate.DaysUntil(today) <= p.PostContractDays {
		dst = append(dst, Alert{Kind: AlertPostContract, Contract: c, Rung: -1, Route: c.Route,
			Milestone: Milestone{Kind: MilestoneEnd, Date: c.EndDate, TermEnd: c.EndDate},
			DaysLeft:  today.DaysUntil(c.EndDate), Severity: notify.SeverityWarning})
	}
	return dst
}

func monthKey(d ukdates.Date) string {
	var b [7]byte
	y, m := d.Year, int(d.Month)
	b[0], b[1], b[2], b[3] = byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	b[4], b[5], b[6] = '-', byte('0'+m/10), byte('0'+m%10)
	return string(b[:])
}

func severityFor(daysLeft int) string {
	switch {
	case daysLeft < 0:
		return notify.SeverityOverdue
	case daysLeft <= 7:
		return notify.SeverityUrgent
	case daysLeft <= 30:
		return notify.SeverityWarning
	}
	return notify.SeverityInfo
}
