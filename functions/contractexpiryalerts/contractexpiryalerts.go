// Package contractexpiryalerts is the ContractExpiryAlerts function: a timer
// (CONTRACT_ALERTS_SCHEDULE, weekday mornings by default) that evaluates
// every contract that has not ended against the alert ladder and hands the
// due alerts, one digest per route, to the notification Outbox.
//
// Exactly once. Each alert has a stable ID (contracts.Alert.ID: contract,
// milestone, milestone date, rung). A run:
//
//  1. collects: reads the register and the live claims of the alert ledger
//     (table contractalerts: route → alert ID → digest ID, state);
//  2. evaluates (pure, contracts.Evaluate): the most urgent due rung per
//     milestone, escalations, DBS reminders, post-contract prompts;
//  3. drops alerts already claimed and published; groups the new ones by
//     route into digests whose ID is derived from the sorted alert IDs
//     (contracts.DigestID), so the same set always gets the same ID;
//  4. claims the new alerts (state pending, digest ID) before publishing;
//  5. publishes the digests (and re-publishes any digest a crashed run left
//     pending, under its recorded ID) through the Outbox, whose ledger drops
//     a digest it has already handed on;
//  6. marks the claims published and writes a run report (counts only).
//
// A crash anywhere leaves either unclaimed alerts (evaluated again next run)
// or pending claims (their digest is re-published under the same ID), so a
// re-run never double-sends and a missed run catches up. A digest keyed by
// route and date instead would either repeat items on a same-day re-run with
// one more alert, or lose that alert.
package contractexpiryalerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/ukdates"
	"github.com/rs/zerolog"
)

// ContractSource lists the register (*contracts.Register).
type ContractSource interface {
	List(ctx context.Context, after string, fn func(contracts.Stored) error) error
}

// Ledger is the per-alert claim ledger (*contracts.ClaimLedger).
type Ledger interface {
	Live(ctx context.Context, today ukdates.Date) (map[string]contracts.Claim, error)
	Put(ctx context.Context, cs []contracts.Claim) (store.BatchStats, error)
}

// Notifier hands notifications on (*notify.Outbox).
type Notifier interface {
	Publish(ctx context.Context, ns []notify.Notification) (notify.Stats, error)
}

// ReportWriter stores the run report.
type ReportWriter interface {
	PutBlob(ctx context.Context, container, name string, body []byte, contentType string) error
}

// ReportContainer is the blob container of run reports.
const ReportContainer = "run-reports"

// Config configures the function.
type Config struct {
	Policy contracts.Policy
	// PublicBaseURL is the app's public address, for action links (empty:
	// no links).
	PublicBaseURL string
	// DryRun evaluates and reports without claiming or publishing.
	DryRun bool
}

// Handler runs the function.
type Handler struct {
	cfg      Config
	source   ContractSource
	ledger   Ledger
	notifier Notifier
	reports  ReportWriter
	now      func() time.Time
}

// New returns the function. reports may be nil (no report written).
func New(cfg Config, source ContractSource, ledger Ledger, notifier Notifier, reports ReportWriter) (*Handler, error) {
	var errs []error
	if source == nil || ledger == nil || notifier == nil {
		errs = append(errs, errors.New("contractexpiryalerts: source, ledger and notifier are required"))
	}
	if len(cfg.Policy.Ladder) == 0 {
		errs = append(errs, errors.New("contractexpiryalerts: the alert ladder is empty"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, source: source, ledger: ledger, notifier: notifier, reports: reports, now: time.Now}, nil
}

// Report is the run report: counts, never names.
type Report struct {
	RunAt     time.Time `json:"runAt"`
	RunDate   string    `json:"runDate"`
	DryRun    bool      `json:"dryRun,omitempty"`
	PastDue   bool      `json:"pastDue,omitempty"`
	Contracts int       `json:"contracts"`
	Evaluated int       `json:"evaluated"`
	// Due is alerts due this run; AlreadySent were claimed by earlier runs.
	Due         int            `json:"due"`
	AlreadySent int            `json:"alreadySent"`
	New         int            `json:"new"`
	ByKind      map[string]int `json:"byKind"`
	Escalated   int            `json:"escalated"`
	// Superseded counts less urgent rungs overtaken by a new alert.
	Superseded int `json:"superseded"`
	Digests    int `json:"digests"`
	// Recovered digests were left pending by an interrupted run.
	Recovered          int          `json:"recovered"`
	Outbox             notify.Stats `json:"outbox"`
	LedgerTransactions int          `json:"ledgerTransactions"`
	DurationMS         int64        `json:"durationMs"`
}

// Invoke runs one evaluation.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	var pastDue bool
	if t, err := inv.Timer("timer"); err == nil {
		pastDue = t.IsPastDue
	}
	rep, err := h.Run(ctx)
	rep.PastDue = pastDue
	log := zerolog.Ctx(ctx)
	if err != nil {
		log.Error().Err(err).Int("new", rep.New).Msg("contract expiry alerts failed; the next run catches up")
		return funcapp.Result{}, err
	}
	if h.reports != nil {
		body, _ := json.MarshalIndent(rep, "", "  ")
		name := fmt.Sprintf("ContractExpiryAlerts/%s/%s-%s.json", rep.RunDate, rep.RunAt.Format("150405.000"), safe(inv.ID))
		if err := h.reports.PutBlob(ctx, ReportContainer, name, body, "application/json"); err != nil {
			log.Warn().Err(err).Msg("run report not written")
		}
	}
	log.Info().Int("contracts", rep.Contracts).Int("due", rep.Due).Int("new", rep.New).Int("digests", rep.Digests).
		Int("recovered", rep.Recovered).Int("handedOn", rep.Outbox.HandedOn).Int64("durationMs", rep.DurationMS).
		Bool("dryRun", rep.DryRun).Msg("contract expiry alerts")
	return funcapp.Result{}, nil
}

func safe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '-'
		}
	}
	if len(b) == 0 {
		return "run"
	}
	return string(b)
}

// Run evaluates and publishes; it is Invoke without the trigger.
func (h *Handler) Run(ctx context.Context) (rep Report, err error) {
	start := h.now()
	today := ukdates.LondonDate(start)
	rep = Report{RunAt: start.UTC(), RunDate: today.String(), DryRun: h.cfg.DryRun, ByKind: map[string]int{}}
	defer func() { rep.DurationMS = h.now().Sub(start).Milliseconds() }()

	// 1. Collect.
	var cs []contracts.Contract
	err = h.source.List(ctx, "", func(s contracts.Stored) error {
		cs = append(cs, s.Contract)
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("read contract register: %w", err)
	}
	claims, err := h.ledger.Live(ctx, today)
	if err != nil {
		return rep, fmt.Errorf("read alert ledger: %w", err)
	}
	rep.Contracts = len(cs)

	// 2. Evaluate.
	var due []contracts.Alert
	for i := range cs {
		if contracts.Evaluated(&cs[i]) {
			rep.Evaluated++
			due = contracts.Evaluate(due, &cs[i], today, h.cfg.Policy)
		}
	}
	rep.Due = len(due)

	// 3. Split into already sent, pending recovery and new.
	byID := make(map[string]*contracts.Alert, len(due))
	newByRoute := map[string][]contracts.Alert{}
	recovery := map[string][]contracts.Alert{} // digest ID → alerts
	for i := range due {
		a := &due[i]
		id := a.ID()
		byID[id] = a
		c, claimed := claims[id]
		switch {
		case claimed && c.State == contracts.ClaimPublished:
			rep.AlreadySent++
		case claimed:
			recovery[c.Digest] = append(recovery[c.Digest], *a)
		default:
			rep.New++
			rep.ByKind[string(a.Kind)]++
			rep.Superseded += len(a.Superseded)
			if a.Kind == contracts.AlertEscalation {
				rep.Escalated++
			}
			newByRoute[a.Route] = append(newByRoute[a.Route], *a)
		}
	}
	// A pending claim whose alert is no longer due (the contract changed)
	// still gets its digest re-published, with the items that remain.
	for id, c := range claims {
		if _, ok := byID[id]; !ok && c.State == contracts.ClaimPending {
			if _, ok := recovery[c.Digest]; !ok {
				recovery[c.Digest] = nil
			}
		}
	}

	var digests []notify.Notification
	var pending []contracts.Claim
	claimedAt := start.UTC().Format(time.RFC3339)
	for _, route := range sortedKeys(newByRoute) {
		alerts := newByRoute[route]
		slices.SortFunc(alerts, func(a, b contracts.Alert) int { return strings.Compare(a.ID(), b.ID()) })
		for chunk := range slices.Chunk(alerts, contracts.MaxDigestItems) {
			ids := make([]string, len(chunk))
			for i := range chunk {
				ids[i] = chunk[i].ID()
			}
			did := contracts.DigestID(route, today, ids)
			digests = append(digests, contracts.Digest(did, slices.Clone(chunk), h.cfg.PublicBaseURL, start))
			for i := range chunk {
				pending = append(pending, contracts.Claim{PartitionKey: route, RowKey: ids[i], Digest: did,
					State: contracts.ClaimPending, Expires: chunk[i].Expires(h.cfg.Policy).String(), ClaimedAt: claimedAt})
			}
		}
	}
	var recovered []contracts.Claim
	for _, did := range sortedKeys(recovery) {
		alerts := recovery[did]
		for _, c := range claims {
			if c.Digest == did {
				recovered = append(recovered, c)
			}
		}
		if len(alerts) == 0 {
			continue // nothing left to say; the claims are closed below
		}
		rep.Recovered++
		digests = append(digests, contracts.Digest(did, alerts, h.cfg.PublicBaseURL, start))
	}
	rep.Digests = len(digests)
	if h.cfg.DryRun || len(digests) == 0 && len(recovered) == 0 {
		return rep, nil
	}

	// 4. Claim before publishing.
	if len(pending) > 0 {
		st, err := h.ledger.Put(ctx, pending)
		rep.LedgerTransactions += st.Transactions
		if err != nil {
			return rep, fmt.Errorf("claim %d alerts: %w", len(pending), err)
		}
	}
	// 5. Publish (the Outbox drops digests it already handed on).
	rep.Outbox, err = h.notifier.Publish(ctx, digests)
	if err != nil {
		return rep, fmt.Errorf("publish %d digests: %w", len(digests), err)
	}
	// 6. Mark published.
	done := append(pending, recovered...)
	for i := range done {
		done[i].State = contracts.ClaimPublished
	}
	st, err := h.ledger.Put(ctx, done)
	rep.LedgerTransactions += st.Transactions
	if err != nil {
		return rep, fmt.Errorf("mark %d alerts published (their digests went; the next run re-publishes under the same IDs, which the Outbox drops): %w", len(done), err)
	}
	return rep, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
