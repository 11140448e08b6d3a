package contracts

import (
	"github.com/council-ict/govkit/shared/ukdates"
)

// MilestoneKind names a dated point in a contract's term.
type MilestoneKind string

// Milestone kinds. They appear in notification IDs, so never rename them.
const (
	// MilestoneDecision is the internal decision date: the notice deadline
	// minus the internal lead time the council needs to re-procure or exit.
	MilestoneDecision MilestoneKind = "decision"
	// MilestoneNotice is the supplier notice deadline: the term's end minus
	// the notice period; the last day notice can be given.
	MilestoneNotice MilestoneKind = "notice-deadline"
	// MilestoneEnd is the end date of a contract that does not renew itself.
	MilestoneEnd MilestoneKind = "end"
	// MilestoneRenewal is the end of the current term of an automatically
	// renewing contract: it rolls over on that date unless notice was given.
	MilestoneRenewal MilestoneKind = "renewal"
)

// Milestone is one dated point.
type Milestone struct {
	Kind MilestoneKind `json:"kind"`
	Date ukdates.Date  `json:"date"`
	// TermEnd is the end of the term the milestone belongs to (for an
	// automatic renewal, later terms end later).
	TermEnd ukdates.Date `json:"termEnd"`
}

// maxTermSteps bounds the roll-over search (a P1D term over a century).
const maxTermSteps = 40000

// TermEnd returns the end of the term that is current on today: the end
// date, or for an automatic renewal whose end date has passed, the first
// EndDate + k×RenewalTerm on or after today. k is returned too.
func (c *Contract) TermEnd(today ukdates.Date) (ukdates.Date, int) {
	if !c.rolls() || !c.EndDate.Before(today) {
		return c.EndDate, 0
	}
	// Jump close with an estimate, then step: every term end is computed
	// from EndDate in one move (EndDate + k×term), so month-end clamping
	// never accumulates (31 Jan + 3×P1M is 30 April, not 28 April).
	k := 0
	if days := c.RenewalTerm.approxDays(); days > 0 {
		k = max(int(float64(c.EndDate.DaysUntil(today))/days)-1, 0)
	}
	for ; k < maxTermSteps; k++ {
		if e := c.RenewalTerm.Times(k).AddTo(c.EndDate, 1); !e.Before(today) {
			// Step back if the estimate overshot.
			for k > 0 {
				prev := c.RenewalTerm.Times(k-1).AddTo(c.EndDate, 1)
				if prev.Before(today) {
					break
				}
				k, e = k-1, prev
			}
			return e, k
		}
	}
	return c.EndDate, 0
}

// termMilestones appends the milestones of the term ending on end.
func (c *Contract) termMilestones(dst []Milestone, end ukdates.Date) []Milestone {
	if !c.NoticePeriod.IsZero() {
		notice := c.NoticePeriod.AddTo(end, -1)
		if !c.InternalLeadTime.IsZero() {
			dst = append(dst, Milestone{Kind: MilestoneDecision, Date: c.InternalLeadTime.AddTo(notice, -1), TermEnd: end})
		}
		dst = append(dst, Milestone{Kind: MilestoneNotice, Date: notice, TermEnd: end})
	} else if !c.InternalLeadTime.IsZero() {
		dst = append(dst, Milestone{Kind: MilestoneDecision, Date: c.InternalLeadTime.AddTo(end, -1), TermEnd: end})
	}
	kind := MilestoneEnd
	if c.rolls() {
		kind = MilestoneRenewal
	}
	return append(dst, Milestone{Kind: kind, Date: end, TermEnd: end})
}

// Milestones returns the milestones of the term current on today, in date
// order: decision date, notice deadline, end (or renewal) date. For an
// automatic renewal whose end date has passed, that is the rolled-over term.
func (c *Contract) Milestones(today ukdates.Date) []Milestone {
	end, _ := c.TermEnd(today)
	return c.termMilestones(make([]Milestone, 0, 3), end)
}

// rolls reports whether the contract renews itself at the end of each term:
// an automatic renewal with a term, unless the council is exiting it.
func (c *Contract) rolls() bool {
	return c.RenewalType == RenewalAutomatic && !c.RenewalTerm.IsZero() && c.Status != StatusInExit
}
