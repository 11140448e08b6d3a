package contracts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/ukdates"
)

// Source is the notification source of contract alerts.
const Source = "ContractExpiryAlerts"

// MaxDigestItems caps the items of one digest notification; a route with
// more due alerts gets several digests (TeamsNotify further splits a digest
// whose card would exceed the Teams size limit).
const MaxDigestItems = 40

var milestoneLabel = map[MilestoneKind]string{
	MilestoneDecision: "Internal decision date",
	MilestoneNotice:   "Supplier notice deadline",
	MilestoneEnd:      "Contract end",
	MilestoneRenewal:  "Automatic renewal",
}

// Expires is the first day on which the alert can no longer be due: the
// ledger keeps claims until then.
func (a *Alert) Expires(p Policy) ukdates.Date {
	switch a.Kind {
	case AlertDBS:
		t := time.Date(a.Contract.EndDate.Year, 1, 1, 0, 0, 0, 0, time.UTC)
		if m, err := time.Parse("2006-01", a.Month); err == nil {
			t = m.AddDate(0, 1, 0)
		}
		return ukdates.Date{Year: t.Year(), Month: t.Month(), Day: 1}
	case AlertPostContract:
		return a.Milestone.Date.AddDays(p.PostContractDays + 1)
	}
	return a.Milestone.Date.AddDays(p.CatchUpDays + 1)
}

// human formats a date as "31 May 2026".
func human(d ukdates.Date) string {
	return strconv.Itoa(d.Day) + " " + d.Month.String() + " " + strconv.Itoa(d.Year)
}

func daysText(n int) string {
	switch {
	case n == 0:
		return "today"
	case n == 1:
		return "tomorrow"
	case n == -1:
		return "yesterday"
	case n < 0:
		return strconv.Itoa(-n) + " days ago"
	}
	return "in " + strconv.Itoa(n) + " days"
}

// Pounds formats an amount as £1,234.50.
func Pounds(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return "£" + b.String() + "." + frac
}

// RegisterLink is the action link to a contract's register entry, or nil
// without a public base URL.
func RegisterLink(baseURL, id string) *notify.Link {
	if baseURL == "" {
		return nil
	}
	return &notify.Link{Title: "Open register entry", URL: strings.TrimRight(baseURL, "/") + "/api/contracts/" + url.PathEscape(id)}
}

// Item renders the alert as a digest item: the facts a champion needs.
func (a *Alert) Item(baseURL string) notify.Item {
	c := a.Contract
	it := notify.Item{Severity: a.Severity, Link: RegisterLink(baseURL, c.ID)}
	facts := []notify.Fact{
		{Title: "Contract", Value: c.ID + " – " + c.Title},
		{Title: "Supplier", Value: c.Supplier},
	}
	switch a.Kind {
	case AlertDBS:
		it.Title = c.ID + ": DBS checks required but not confirmed"
		facts = append(facts, notify.Fact{Title: "Action", Value: "Confirm the supplier's DBS checks and record dbsConfirmedOn"})
	case AlertPostContract:
		it.Title = c.ID + ": contract ended " + daysText(a.DaysLeft) + " – close-down tasks"
		facts = append(facts,
			notify.Fact{Title: "Ended", Value: human(c.EndDate)},
			notify.Fact{Title: "Publish Contract Termination Notice by", Value: human(c.EndDate.AddDays(30))})
		if c.CloudAppID != "" {
			facts = append(facts, notify.Fact{Title: "Cloud data erasure", Value: "Start the data-erasure check for cloud app " + c.CloudAppID})
		} else {
			facts = append(facts, notify.Fact{Title: "Cloud data erasure", Value: "If the contract covered a cloud app, start its data-erasure check"})
		}
		facts = append(facts, notify.Fact{Title: "Register", Value: "Set status to ended once closed down"})
	default:
		label := milestoneLabel[a.Milestone.Kind]
		it.Title = c.ID + ": " + strings.ToLower(label[:1]) + label[1:] + " " + daysText(a.DaysLeft)
		if a.Kind == AlertEscalation {
			it.Title = "Escalated – " + it.Title
		}
		facts = append(facts,
			notify.Fact{Title: "Milestone", Value: label},
			notify.Fact{Title: "Date", Value: human(a.Milestone.Date)},
			notify.Fact{Title: "Days left", Value: strconv.Itoa(a.DaysLeft)})
		if a.Escalate {
			facts = append(facts, notify.Fact{Title: "Escalation", Value: "No exit plan or renewal decision is recorded"})
		}
		if len(a.Superseded) > 0 {
			s := make([]string, len(a.Superseded))
			for i, r := range a.Superseded {
				s[i] = strconv.Itoa(r)
			}
			facts = append(facts, notify.Fact{Title: "Earlier reminders superseded", Value: strings.Join(s, ", ") + " days"})
		}
	}
	facts = append(facts,
		notify.Fact{Title: "Annual value", Value: Pounds(c.AnnualValue)},
		notify.Fact{Title: "Owner", Value: c.Owner},
		notify.Fact{Title: "Ref", Value: a.ID()})
	it.Facts = facts
	return it
}

var severityRank = map[string]int{notify.SeverityInfo: 0, notify.SeverityWarning: 1, notify.SeverityUrgent: 2, notify.SeverityOverdue: 3}

// DigestID is the notification ID of a digest: derived from the route, the
// run date and the sorted IDs of the alerts it carries, so the same set
// always has the same ID (a re-run is dropped by the Outbox) and a different
// set never reuses one.
func DigestID(route string, runDate ukdates.Date, alertIDs []string) string {
	ids := slices.Clone(alertIDs)
	slices.Sort(ids)
	h := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return "contracts:digest:" + route + ":" + runDate.String() + ":" + hex.EncodeToString(h[:6])
}

// Digest builds the digest notification of alerts (all for one route) with
// the given ID.
func Digest(id string, alerts []Alert, baseURL string, now time.Time) notify.Notification {
	slices.SortFunc(alerts, func(a, b Alert) int {
		if c := severityRank[b.Severity] - severityRank[a.Severity]; c != 0 {
			return c
		}
		if c := a.DaysLeft - b.DaysLeft; c != 0 {
			return c
		}
		return strings.Compare(a.ID(), b.ID())
	})
	n := notify.Notification{ID: id, Source: Source, Severity: notify.SeverityInfo, CreatedAt: now.UTC()}
	escalated := 0
	for i := range alerts {
		a := &alerts[i]
		n.Route = a.Route
		if severityRank[a.Severity] > severityRank[n.Severity] {
			n.Severity = a.Severity
		}
		if a.Kind == AlertEscalation {
			escalated++
		}
		n.Items = append(n.Items, a.Item(baseURL))
	}
	s := "s"
	if len(alerts) == 1 {
		s = ""
	}
	n.Title = fmt.Sprintf("Contract register: %d alert%s", len(alerts), s)
	n.Summary = "Contracts with milestones coming up or passed. Each alert is sent once; open the register entry to record a decision."
	if escalated > 0 {
		n.Title = fmt.Sprintf("Escalation: %d contract milestone%s without a decision", len(alerts), s)
		n.Summary = "These milestones are within the escalation window and no exit plan or renewal decision is recorded."
	}
	return n
}

// ClaimTable is the default table of the alert ledger.
const ClaimTable = "contractalerts"

// Claim states.
const (
	ClaimPending   = "pending"   // assigned to a digest that may not have been published yet
	ClaimPublished = "published" // its digest is in the notification Outbox
)

// Claim records that an alert was put in a digest: partition = route,
// row = alert ID.
type Claim struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Digest       string `json:"digest"`
	State        string `json:"state"`
	// Expires (YYYY-MM-DD) is when the alert can no longer be due; the run
	// reads only claims that have not expired.
	Expires   string `json:"expires"`
	ClaimedAt string `json:"claimedAt"`
}

// ClaimLedger is the per-alert ledger of ContractExpiryAlerts.
type ClaimLedger struct {
	t *store.Table[Claim]
}

// NewClaimLedger returns the ledger in table (ClaimTable when empty).
func NewClaimLedger(svc *store.Service, table string) *ClaimLedger {
	if table == "" {
		table = ClaimTable
	}
	return &ClaimLedger{t: store.NewTable[Claim](svc, table)}
}

// Table returns the table name.
func (l *ClaimLedger) Table() string { return l.t.Name() }

// Live returns every claim that has not expired on today, by alert ID.
func (l *ClaimLedger) Live(ctx context.Context, today ukdates.Date) (map[string]Claim, error) {
	out := map[string]Claim{}
	err := l.t.Query(ctx, "expires gt "+store.Quote(today.String()), func(r store.Record[Claim]) error {
		out[r.Value.RowKey] = r.Value
		return nil
	})
	return out, err
}

// Put writes claims with Batch (100 per transaction per route).
func (l *ClaimLedger) Put(ctx context.Context, cs []Claim) (store.BatchStats, error) {
	ops := make([]store.Op[Claim], len(cs))
	for i, c := range cs {
		ops[i] = store.Op[Claim]{Kind: store.OpUpsert, Value: c}
	}
	return l.t.Batch(ctx, ops)
}
