package feeds

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/powerbi"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
	"github.com/council-ict/govkit/shared/ukdates"
)

// Short names for column types.
const (
	tInt    = powerbi.Int64
	tDouble = powerbi.Double
	tBool   = powerbi.Boolean
	tTime   = powerbi.DateTime
	tString = powerbi.String
)

func dateCol(name string) Column { return Column{Name: name, Type: tTime, Date: true} }

// PipelineMonths is how many months ahead ContractPipeline covers.
const PipelineMonths = 24

// MonthlyMonths is how many months (this one included) SubjectRequestMonthly
// covers.
const MonthlyMonths = 24

// FeedRunDays is how far back the FeedRuns table goes.
const FeedRunDays = 90

// Tables returns every feed table, in publishing order. This is the one
// place feeds are defined.
func Tables() []Table {
	return []Table{
		{Name: "Contracts", Description: "One row per live contract in the register: value, dates and the next milestone.",
			Columns: []Column{{"ContractID", tString, false}, {"Title", tString, false}, {"Supplier", tString, false},
				{"ServiceArea", tString, false}, {"Status", tString, false}, {"RenewalType", tString, false},
				{"AnnualValue", tDouble, false}, dateCol("StartDate"), dateCol("EndDate"), dateCol("TermEnd"),
				dateCol("DecisionDate"), dateCol("NoticeDeadline"), {"NextMilestone", tString, false}, dateCol("NextMilestoneDate"),
				{"DaysToNextMilestone", tInt, false}, {"DBSRequired", tBool, false}, {"DBSStatus", tString, false},
				{"ExitPlanAgreed", tBool, false}},
			Rows: contractRows},
		{Name: "ContractPipeline", Description: "Per month for the next 24 months: contracts whose term ends, their annual value, automatic renewals and notice deadlines.",
			Columns: []Column{dateCol("Month"), {"ContractsEnding", tInt, false}, {"AnnualValueEnding", tDouble, false},
				{"AutomaticRenewals", tInt, false}, {"NoticeDeadlines", tInt, false}},
			Rows: pipelineRows},
		{Name: "CloudApps", Description: "One row per application in the cloud-app register: classification, risk, data location, agreement, review and credential expiry.",
			Columns: []Column{{"AppID", tString, false}, {"Name", tString, false}, {"Category", tString, false},
				{"Classification", tString, false}, {"RiskLevel", tString, false}, {"DataLocation", tString, false},
				{"PersonalData", tString, false}, {"AgreementInPlace", tString, false}, {"ReviewStatus", tString, false},
				dateCol("LastReviewed"), dateCol("NextReview"), {"NextCredentialExpiry", tTime, false},
				{"ExpiredCredentials", tInt, false}, {"Enabled", tBool, false}, {"Removed", tBool, false},
				{"FirstSeen", tTime, false}, dateCol("TerminationDate")},
			Rows: cloudAppRows},
		{Name: "SubjectRequests", Description: "One row per subject request: type, service area and dates only (no personal data, no references).",
			Columns: []Column{{"Type", tString, false}, {"Status", tString, false}, {"Channel", tString, false},
				{"ServiceArea", tString, false}, dateCol("ReceivedOn"), dateCol("DueOn"), dateCol("ClosedOn"),
				{"OnTime", tBool, false}, {"Extended", tBool, false}, {"Overdue", tBool, false}, {"Paused", tBool, false}},
			Rows: subjectRequestRows},
		{Name: "SubjectRequestMonthly", Description: "Per month for the last 24 months: requests received, closed, closed on time, on-time rate and overdue at month end.",
			Columns: []Column{dateCol("Month"), {"Received", tInt, false}, {"Closed", tInt, false}, {"ClosedOnTime", tInt, false},
				{"OnTimeRate", tDouble, false}, {"OverdueAtMonthEnd", tInt, false}},
			Rows: subjectRequestMonthlyRows},
		{Name: "ErasureChecks", Description: "One row per terminated application's data-erasure check: status and days since termination.",
			Columns: []Column{{"AppID", tString, false}, {"App", tString, false}, {"Status", tString, false},
				dateCol("TerminationDate"), {"DaysSinceTermination", tInt, false}, dateCol("CompliantOn")},
			Rows: erasureRows},
		{Name: "FeedRuns", Description: "One row per table per feed run of the last 90 days: rows, whether the CSV was written and the push succeeded, and the outcome.",
			Columns: []Column{{"RunAt", tTime, false}, {"Table", tString, false}, {"Rows", tInt, false},
				{"CSVWritten", tBool, false}, {"Pushed", tBool, false}, {"Outcome", tString, false}, {"Problem", tString, false}},
			Rows: feedRunRows},
	}
}

func contractRows(ctx context.Context, in Input, emit Emit) error {
	if in.Contracts == nil {
		return nil
	}
	today := in.Today
	row := make([]any, 18)
	return in.Contracts.List(ctx, "", func(s contracts.Stored) error {
		c := &s.Contract
		if s.DeletedAt != "" {
			return nil
		}
		end, _ := c.TermEnd(today)
		var decision, notice, nextDate ukdates.Date
		next := ""
		for _, m := range c.Milestones(today) {
			switch m.Kind {
			case contracts.MilestoneDecision:
				decision = m.Date
			case contracts.MilestoneNotice:
				notice = m.Date
			}
			if next == "" && !m.Date.Before(today) {
				next, nextDate = string(m.Kind), m.Date
			}
		}
		var days any
		if next != "" {
			days = int64(today.DaysUntil(nextDate))
		}
		dbs := "not-required"
		if c.DBSRequired {
			dbs = "outstanding"
			if !c.DBSConfirmedOn.IsZero() {
				dbs = "confirmed"
			}
		}
		row[0], row[1], row[2], row[3], row[4], row[5] = c.ID, c.Title, c.Supplier, c.ServiceArea, string(c.Status), string(c.RenewalType)
		row[6], row[7], row[8], row[9] = c.AnnualValue, date(c.StartDate), date(c.EndDate), date(end)
		row[10], row[11], row[12], row[13] = date(decision), date(notice), nilIfEmpty(next), date(nextDate)
		row[14], row[15], row[16], row[17] = days, c.DBSRequired, dbs, !c.ExitPlanAgreedOn.IsZero()
		return emit(row)
	})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func pipelineRows(ctx context.Context, in Input, emit Emit) error {
	type bucket struct {
		ending, renewals, notices int64
		value                     float64
	}
	first := monthIndex(in.Today)
	b := make([]bucket, PipelineMonths)
	if in.Contracts != nil {
		err := in.Contracts.List(ctx, "", func(s contracts.Stored) error {
			c := &s.Contract
			if s.DeletedAt != "" || c.Status == contracts.StatusEnded {
				return nil
			}
			for _, m := range c.Milestones(in.Today) {
				i := monthIndex(m.Date) - first
				if i < 0 || i >= PipelineMonths || m.Date.Before(in.Today) {
					continue
				}
				switch m.Kind {
				case contracts.MilestoneEnd:
					b[i].ending++
					b[i].value += c.AnnualValue
				case contracts.MilestoneRenewal:
					b[i].ending++
					b[i].renewals++
					b[i].value += c.AnnualValue
				case contracts.MilestoneNotice:
					b[i].notices++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	row := make([]any, 5)
	for i, x := range b {
		row[0], row[1], row[2], row[3], row[4] = date(monthOf(first+i)), x.ending, x.value, x.renewals, x.notices
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}

func cloudAppRows(ctx context.Context, in Input, emit Emit) error {
	if in.CloudApps == nil {
		return nil
	}
	row := make([]any, 17)
	return in.CloudApps.CloudApps(ctx, func(e cloudapps.Entry, ig *cloudapps.IG) error {
		var g cloudapps.IG
		if ig != nil {
			g = *ig
		}
		review := g.ReviewStatus
		if review == "" {
			review = cloudapps.ReviewNotReviewed
		}
		var next any
		var soonest time.Time
		expired := int64(0)
		for _, cr := range e.CredentialList() {
			switch {
			case cr.End.IsZero():
			case !cr.End.After(in.Now):
				expired++
			case soonest.IsZero() || cr.End.Before(soonest):
				soonest = cr.End
				next = cr.End.UTC()
			}
		}
		row[0], row[1], row[2], row[3], row[4] = e.RowKey, e.DisplayName, e.Category, nilIfEmpty(g.Classification), nilIfEmpty(e.RiskLevel)
		row[5], row[6], row[7], row[8] = nilIfEmpty(g.DataLocation), nilIfEmpty(g.PersonalData), nilIfEmpty(g.AgreementInPlace), review
		row[9], row[10], row[11], row[12] = isoDate(g.LastReviewed), isoDate(g.ReviewDate), next, expired
		row[13], row[14], row[15], row[16] = e.AccountEnabled, e.Removed, timestamp(e.FirstSeen), isoDate(g.TerminationDate)
		return emit(row)
	})
}

func subjectRequestRows(ctx context.Context, in Input, emit Emit) error {
	if in.SubjectRequests == nil {
		return nil
	}
	row := make([]any, 11)
	return in.SubjectRequests.QueryRecords(ctx, "", func(rec storeRecord) error {
		r := rec.Value
		due, hasDue := parseDay(r.DueOn)
		closed, isClosed := parseDay(r.ClosedOn)
		var onTime any
		if isClosed && hasDue {
			onTime = !closed.After(due)
		}
		overdue := !sr.Status(r.Status).Closed() && hasDue && due.Before(in.Today)
		row[0], row[1], row[2], row[3] = r.Type, r.Status, r.Channel, r.ServiceArea
		row[4], row[5], row[6] = isoDate(r.ReceivedOn), isoDate(r.DueOn), isoDate(r.ClosedOn)
		row[7], row[8], row[9], row[10] = onTime, r.Extended, overdue, r.Paused
		return emit(row)
	})
}

func subjectRequestMonthlyRows(ctx context.Context, in Input, emit Emit) error {
	type bucket struct{ received, closed, onTime, overdue int64 }
	last := monthIndex(in.Today)
	first := last - MonthlyMonths + 1
	b := make([]bucket, MonthlyMonths)
	in1 := func(i int) bool { return i >= first && i <= last }
	if in.SubjectRequests != nil {
		err := in.SubjectRequests.QueryRecords(ctx, "", func(rec storeRecord) error {
			r := rec.Value
			if d, ok := parseDay(r.ReceivedOn); ok && in1(monthIndex(d)) {
				b[monthIndex(d)-first].received++
			}
			due, hasDue := parseDay(r.DueOn)
			closed, isClosed := parseDay(r.ClosedOn)
			if isClosed && in1(monthIndex(closed)) {
				b[monthIndex(closed)-first].closed++
				if hasDue && !closed.After(due) {
					b[monthIndex(closed)-first].onTime++
				}
			}
			if !hasDue {
				return nil
			}
			// Overdue at the end of each month from the one after the due
			// date passed until it was closed (this month: as of today).
			for i := max(monthIndex(due), first); i <= last; i++ {
				end := monthEnd(i)
				if i == last {
					end = in.Today
				}
				if isClosed && !closed.After(end) {
					break
				}
				if due.Before(end) {
					b[i-first].overdue++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	row := make([]any, 6)
	for i, x := range b {
		var rate any
		if x.closed > 0 {
			rate = float64(x.onTime) / float64(x.closed)
		}
		row[0], row[1], row[2], row[3], row[4], row[5] = date(monthOf(first+i)), x.received, x.closed, x.onTime, rate, x.overdue
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}

// erasureStatuses are the overall statuses an app's erasure check can have
// (issue 6); entities with another status (per-check results) are skipped.
var erasureStatuses = []string{"compliant", "incomplete", "overdue", "unknown"}

func erasureRows(ctx context.Context, in Input, emit Emit) error {
	if in.ErasureChecks == nil {
		return nil
	}
	row := make([]any, 6)
	return in.ErasureChecks.ErasureChecks(ctx, func(e ErasureCheck) error {
		if !slices.Contains(erasureStatuses, strings.ToLower(e.Status)) {
			return nil
		}
		var days any
		if d, ok := parseDay(e.TerminationDate); ok {
			days = int64(d.DaysUntil(in.Today))
		}
		row[0], row[1], row[2], row[3], row[4], row[5] = e.AppID, nilIfEmpty(e.App), strings.ToLower(e.Status),
			isoDate(e.TerminationDate), days, isoDate(e.CompliantOn)
		return emit(row)
	})
}

func feedRunRows(ctx context.Context, in Input, emit Emit) error {
	if in.FeedRuns == nil {
		return nil
	}
	row := make([]any, 7)
	return in.FeedRuns.FeedRuns(ctx, in.Now.AddDate(0, 0, -FeedRunDays), func(r FeedRun) error {
		for _, t := range r.Tables {
			row[0], row[1], row[2], row[3], row[4], row[5], row[6] = r.At.UTC(), t.Table, int64(t.Rows), t.CSV, t.Pushed, r.Outcome, nilIfEmpty(t.Problem)
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	})
}
