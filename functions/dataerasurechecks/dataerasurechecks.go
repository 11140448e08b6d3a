// Package dataerasurechecks is the DataErasureChecks function: a daily
// timer that checks, for every application in the cloud-app register with a
// termination date (the IG record's terminationDate, or the end date of an
// ended contract naming the application), that its data was erased:
//
//   - access-removed: Entra ID says the service principal is deleted, or
//     disabled with no delegated grants, application role assignments or
//     valid credentials left (through shared/graph);
//   - supplier-certificate: a complete erasure certificate record is filed
//     (PUT /api/cloudapps/{appId}/erasure-evidence, or a JSON metadata
//     record uploaded to blob container erasure-evidence under <appId>/);
//   - council-copies-deleted: the blob prefixes linked to the application
//     (ERASURE_COUNCIL_COPY_PREFIXES, e.g. app-exports/{appId}/) are empty
//     or gone.
//
// A check that cannot run is recorded as unknown with the reason, never as
// passed. Each check's dated result is kept (table erasurecheckresults),
// the overall status per application is written to table erasurechecks
// (read by the Power BI feed), a report blob is written per run, and every
// change of an application's overall status is notified once on the
// erasure route, escalated (severity overdue) once the window after
// termination has passed. Collect → evaluate → act: a repeated run the same
// day rewrites the same rows and publishes nothing new.
package dataerasurechecks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	ca "github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/erasure"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/rs/zerolog"
)

// Name is the function name.
const Name = "DataErasureChecks"

// ReportContainer holds the run reports, as run-reports/DataErasureChecks/<date>.json.
const ReportContainer = "run-reports"

// Graph is what the checks need from Microsoft Graph (*graph.Client).
type Graph interface {
	ServicePrincipalAccess(ctx context.Context, appID string) (graph.Access, error)
}

// Blob is a blob's name and when it was last written.
type Blob struct {
	Name     string
	Modified time.Time
}

// Blobs reads and writes blob storage. ListBlobs of a container that does
// not exist returns nothing and no error.
type Blobs interface {
	ListBlobs(ctx context.Context, container, prefix string) ([]Blob, error)
	GetBlob(ctx context.Context, container, name string) ([]byte, error)
	PutBlob(ctx context.Context, container, name string, body []byte, contentType string) error
}

// Notifier publishes notifications (*notify.Outbox).
type Notifier interface {
	Publish(ctx context.Context, ns []notify.Notification) (notify.Stats, error)
}

// Config configures the function.
type Config struct {
	Policy erasure.Policy
	// CouncilCopies are container/prefix templates with {appId}.
	CouncilCopies []string
	// Tables (defaults: the shared names).
	CloudAppsTable, ContractsTable, ChecksTable, ResultsTable, EvidenceTable string
	// RegisterURL optionally links alerts to the register.
	RegisterURL string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Handler is the DataErasureChecks function.
type Handler struct {
	cfg      Config
	svc      *store.Service
	g        Graph
	blobs    Blobs
	n        Notifier
	igs      *store.Table[ca.IG]
	entries  *store.Table[ca.Entry]
	register *contracts.Register
	checks   *store.Table[erasure.CheckRow]
	results  *store.Table[erasure.ResultRow]
	evidence *store.Table[erasure.EvidenceRow]
	once     sync.Once
	onceErr  error
}

// New builds the function. It performs no I/O.
func New(cfg Config, svc *store.Service, g Graph, blobs Blobs, n Notifier) (*Handler, error) {
	var errs []error
	if svc == nil {
		errs = append(errs, errors.New("dataerasurechecks: no table service"))
	}
	if g == nil {
		errs = append(errs, errors.New("dataerasurechecks: no Graph client"))
	}
	if blobs == nil {
		errs = append(errs, errors.New("dataerasurechecks: no blob client"))
	}
	if n == nil {
		errs = append(errs, errors.New("dataerasurechecks: no notifier"))
	}
	if cfg.Policy.WindowDays <= 0 {
		errs = append(errs, errors.New("dataerasurechecks: the erasure window must be at least one day"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Policy.Route == "" {
		cfg.Policy.Route = erasure.DefaultRoute
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.CloudAppsTable, ca.Table)
	def(&cfg.ContractsTable, contracts.DefaultTable)
	def(&cfg.ChecksTable, erasure.ChecksTable)
	def(&cfg.ResultsTable, erasure.ResultsTable)
	def(&cfg.EvidenceTable, erasure.EvidenceTable)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg, svc: svc, g: g, blobs: blobs, n: n,
		igs: store.NewTable[ca.IG](svc, cfg.CloudAppsTable), entries: store.NewTable[ca.Entry](svc, cfg.CloudAppsTable),
		register: contracts.NewRegister(svc, cfg.ContractsTable),
		checks:   store.NewTable[erasure.CheckRow](svc, cfg.ChecksTable), results: store.NewTable[erasure.ResultRow](svc, cfg.ResultsTable),
		evidence: store.NewTable[erasure.EvidenceRow](svc, cfg.EvidenceTable)}, nil
}

// AppReport is one application in a run report.
type AppReport struct {
	AppID       string           `json:"appId"`
	App         string           `json:"app,omitempty"`
	Termination string           `json:"terminationDate"`
	Source      string           `json:"terminationSource"`
	Deadline    string           `json:"deadline"`
	Status      string           `json:"status"`
	Changed     bool             `json:"changed"`
	Results     []erasure.Result `json:"results"`
}

// Report is what one run did; it is saved as a blob.
type Report struct {
	RunAt    time.Time      `json:"runAt"`
	Apps     int            `json:"apps"`
	ByStatus map[string]int `json:"byStatus"`
	Changes  int            `json:"changes"`
	// Notified is new notifications (a repeated run publishes none).
	Notified int `json:"notified"`
	// GraphUnavailable is set when Graph failed in a way that is not about
	// one application (throttled, down, permission missing): the remaining
	// applications' access checks were recorded unknown without asking.
	GraphUnavailable string        `json:"graphUnavailable,omitempty"`
	Results          []AppReport   `json:"results"`
	Duration         time.Duration `json:"duration"`
}

// Invoke runs the checks once.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	rep, err := h.Run(ctx)
	log := zerolog.Ctx(ctx)
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.Int("apps", rep.Apps).Int("changes", rep.Changes).Int("notified", rep.Notified).
		Int("compliant", rep.ByStatus[erasure.StatusCompliant]).Int("incomplete", rep.ByStatus[erasure.StatusIncomplete]).
		Int("overdue", rep.ByStatus[erasure.StatusOverdue]).Int("unknown", rep.ByStatus[erasure.StatusUnknown]).
		Str("graphUnavailable", rep.GraphUnavailable).Dur("duration", rep.Duration).Msg("data erasure checks")
	if err != nil {
		return funcapp.Result{}, err
	}
	if rep.GraphUnavailable != "" {
		log.Warn().Msg("Microsoft Graph could not be asked (" + rep.GraphUnavailable + "); access checks are recorded unknown. Check Application.Read.All and DelegatedPermissionGrant.Read.All are granted to the app's identity (infra/scripts/grant-graph-permissions.sh).")
	}
	return funcapp.Result{Logs: []string{fmt.Sprintf("erasure checks: %d apps, %d changes", rep.Apps, rep.Changes)}}, nil
}

func (h *Handler) ensure(ctx context.Context) error {
	h.once.Do(func() {
		h.onceErr = h.svc.EnsureTables(ctx, h.cfg.CloudAppsTable, h.cfg.ContractsTable, h.cfg.ChecksTable, h.cfg.ResultsTable, h.cfg.EvidenceTable)
	})
	return h.onceErr
}

type target struct {
	appID string
	ig    *ca.IG
	ended map[string]string // contract id → end date
}

// Run checks every terminated application and reports.
func (h *Handler) Run(ctx context.Context) (Report, error) {
	start := h.cfg.Now()
	now := start.UTC()
	rep := Report{RunAt: now, ByStatus: map[string]int{}}
	if err := h.ensure(ctx); err != nil {
		return rep, err
	}
	targets, err := h.targets(ctx)
	if err != nil {
		return rep, err
	}
	var (
		notes []notify.Notification
		rows  []erasure.CheckRow
	)
	graphDown := ""
	for _, t := range targets {
		igDate := ""
		class := ""
		if t.ig != nil {
			igDate, class = t.ig.TerminationDate, t.ig.Classification
		}
		term, ok := erasure.ContractTermination(igDate, t.ended)
		if !ok {
			continue
		}
		if term.Date.After(now) {
			continue // not ended yet
		}
		name := t.appID
		if e, err := h.entries.Get(ctx, ca.PartitionEntra, t.appID); err == nil {
			name = e.Value.DisplayName
		} else if !errors.Is(err, store.ErrNotFound) {
			return rep, err
		}
		checks := h.cfg.Policy.ChecksFor(class)
		var results []erasure.Result
		for _, c := range checks {
			var r erasure.Result
			switch c {
			case erasure.CheckAccessRemoved:
				r, graphDown = h.accessCheck(ctx, t.appID, graphDown, now)
			case erasure.CheckCertificate:
				r = h.certificateCheck(ctx, t.appID, now)
			case erasure.CheckCouncilCopies:
				r = h.copiesCheck(ctx, t.appID)
			}
			results = append(results, r)
		}
		var prev *erasure.Previous
		if rec, err := h.checks.Get(ctx, erasure.ChecksPartition, t.appID); err == nil {
			prev = rec.Value.Previous()
		} else if !errors.Is(err, store.ErrNotFound) {
			return rep, err
		}
		o := erasure.Evaluate(h.cfg.Policy, checks, term, results, prev, now)
		ops := make([]store.Op[erasure.ResultRow], len(results))
		for i, r := range results {
			ops[i] = store.Op[erasure.ResultRow]{Kind: store.OpUpsert, Value: erasure.NewResultRow(t.appID, r, now)}
		}
		if _, err := h.results.Batch(ctx, ops); err != nil {
			return rep, fmt.Errorf("store check results of %s: %w", t.appID, err)
		}
		rows = append(rows, erasure.CheckRow{PartitionKey: erasure.ChecksPartition, RowKey: t.appID, AppID: t.appID, AppName: name,
			OverallStatus: o.Status, Since: o.Since, TerminationDate: term.Date.Format(time.DateOnly), TerminationSource: term.Source,
			Deadline: o.Deadline, CompliantOn: o.CompliantOn, Severity: o.Severity(), Checks: strings.Join(checks, " "),
			Reasons: strings.Join(o.Reasons, "; "), LastRun: now.Format(time.RFC3339)})
		if o.Changed {
			rep.Changes++
			notes = append(notes, h.notification(t.appID, name, term, o, now))
		}
		rep.Apps++
		rep.ByStatus[o.Status]++
		rep.Results = append(rep.Results, AppReport{AppID: t.appID, App: name, Termination: term.Date.Format(time.DateOnly),
			Source: term.Source, Deadline: o.Deadline, Status: o.Status, Changed: o.Changed, Results: results})
	}
	rep.GraphUnavailable = graphDown
	// Notify before recording the new state: if publishing fails, the next
	// run sees the change again (same id the same day: no double alert).
	if len(notes) > 0 {
		st, err := h.n.Publish(ctx, notes)
		rep.Notified = st.New
		if err != nil {
			return rep, err
		}
	}
	if len(rows) > 0 {
		ops := make([]store.Op[erasure.CheckRow], len(rows))
		for i, r := range rows {
			ops[i] = store.Op[erasure.CheckRow]{Kind: store.OpUpsert, Value: r}
		}
		if _, err := h.checks.Batch(ctx, ops); err != nil {
			return rep, fmt.Errorf("store overall erasure status: %w", err)
		}
	}
	rep.Duration = h.cfg.Now().Sub(start)
	body, _ := json.MarshalIndent(rep, "", "  ")
	if err := h.blobs.PutBlob(ctx, ReportContainer, Name+"/"+now.Format(time.DateOnly)+".json", body, "application/json"); err != nil {
		return rep, fmt.Errorf("write run report: %w", err)
	}
	return rep, nil
}

// targets lists the applications with a termination date from IG, or an
// ended contract naming them, in application id order.
func (h *Handler) targets(ctx context.Context) ([]target, error) {
	by := map[string]*target{}
	get := func(id string) *target {
		t := by[id]
		if t == nil {
			t = &target{appID: id, ended: map[string]string{}}
			by[id] = t
		}
		return t
	}
	err := h.igs.Query(ctx, store.PartitionFilter(ca.PartitionIG)+" and terminationDate ne ''", func(r store.Record[ca.IG]) error {
		v := r.Value
		if v.TerminationDate != "" {
			get(v.RowKey).ig = &v
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read IG records: %w", err)
	}
	var linked []string
	err = h.register.List(ctx, "", func(s contracts.Stored) error {
		c := s.Contract
		if s.DeletedAt != "" || c.Status != contracts.StatusEnded || c.CloudAppID == "" || c.EndDate.IsZero() ||
			store.ValidateKeys(ca.PartitionIG, c.CloudAppID) != nil {
			return nil
		}
		get(c.CloudAppID).ended[c.ID] = c.EndDate.String()
		linked = append(linked, c.CloudAppID)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read contracts: %w", err)
	}
	// Contract-only applications: their IG record may still hold a
	// classification.
	for _, id := range linked {
		t := by[id]
		if t.ig != nil {
			continue
		}
		rec, err := h.igs.Get(ctx, ca.PartitionIG, id)
		if err == nil {
			v := rec.Value
			t.ig = &v
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	out := make([]target, 0, len(by))
	for _, t := range by {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].appID < out[j].appID })
	return out, nil
}

// accessCheck asks Graph. A failure that is not about this application
// (throttling, an outage, a missing permission, a spent budget) is
// remembered in down, and the rest of the run records unknown without
// asking again.
func (h *Handler) accessCheck(ctx context.Context, appID, down string, now time.Time) (erasure.Result, string) {
	if down != "" {
		return erasure.Result{Check: erasure.CheckAccessRemoved, Outcome: erasure.Unknown, Reason: "check could not run: " + down}, down
	}
	a, err := h.g.ServicePrincipalAccess(ctx, appID)
	if err != nil {
		reason := err.Error()
		var ge *graph.Error
		if errors.As(err, &ge) && (ge.Status == http.StatusForbidden || ge.Status == http.StatusUnauthorized) {
			reason = fmt.Sprintf("Microsoft Graph refused (HTTP %d %s): the app's identity needs Application.Read.All and DelegatedPermissionGrant.Read.All", ge.Status, ge.Code)
		}
		if errors.As(err, &ge) && (ge.Transient() || ge.Status == http.StatusForbidden || ge.Status == http.StatusUnauthorized) ||
			errors.Is(err, graph.ErrBudgetExhausted) || !errors.As(err, &ge) {
			down = reason
		}
		return erasure.Result{Check: erasure.CheckAccessRemoved, Outcome: erasure.Unknown, Reason: "check could not run: " + reason}, down
	}
	return erasure.AccessResult(a.SP, a.Children, a.Found, now), down
}

// certificateCheck gathers every record filed: through the API (table) and
// uploaded (blob JSON metadata records under erasure-evidence/<appId>/).
func (h *Handler) certificateCheck(ctx context.Context, appID string, now time.Time) erasure.Result {
	var filed []erasure.Filed
	err := h.evidence.Query(ctx, store.PartitionFilter(appID), func(r store.Record[erasure.EvidenceRow]) error {
		filed = append(filed, r.Value.Filed())
		return nil
	})
	if err != nil {
		return erasure.UnknownResult(erasure.CheckCertificate, fmt.Errorf("read filed evidence: %w", err))
	}
	blobs, err := h.blobs.ListBlobs(ctx, erasure.EvidenceContainer, appID+"/")
	if err != nil {
		return erasure.UnknownResult(erasure.CheckCertificate, fmt.Errorf("list %s/%s/: %w", erasure.EvidenceContainer, appID, err))
	}
	for _, b := range blobs {
		if !strings.HasSuffix(strings.ToLower(b.Name), ".json") {
			continue // the PDF certificates the records describe
		}
		body, err := h.blobs.GetBlob(ctx, erasure.EvidenceContainer, b.Name)
		if err != nil {
			return erasure.UnknownResult(erasure.CheckCertificate, fmt.Errorf("read %s: %w", b.Name, err))
		}
		f := erasure.Filed{Source: erasure.EvidenceContainer + "/" + b.Name, FiledAt: b.Modified}
		e, err := erasure.ParseEvidence(body, now)
		if err != nil {
			f.Problem = err.Error()
		} else {
			f.Evidence = e
		}
		filed = append(filed, f)
	}
	return erasure.CertificateResult(filed)
}

func (h *Handler) copiesCheck(ctx context.Context, appID string) erasure.Result {
	locs := erasure.LocationsFor(h.cfg.CouncilCopies, appID)
	left := map[string][]string{}
	for _, l := range locs {
		bs, err := h.blobs.ListBlobs(ctx, l.Container, l.Prefix)
		if err != nil {
			return erasure.UnknownResult(erasure.CheckCouncilCopies, fmt.Errorf("list %s: %w", l, err))
		}
		for _, b := range bs {
			left[l.String()] = append(left[l.String()], b.Name)
		}
	}
	return erasure.CopiesResult(locs, left)
}

func (h *Handler) notification(appID, name string, term erasure.Termination, o erasure.Outcome, now time.Time) notify.Notification {
	facts := []notify.Fact{{Title: "Application id", Value: appID}, {Title: "Status", Value: o.Status},
		{Title: "Terminated", Value: term.Date.Format(time.DateOnly) + " (" + term.Source + ")"},
		{Title: "Evidence due by", Value: o.Deadline}}
	if o.CompliantOn != "" {
		facts = append(facts, notify.Fact{Title: "Compliant on", Value: o.CompliantOn})
	}
	var items []notify.Item
	for _, r := range o.Reasons {
		check, reason, _ := strings.Cut(r, ": ")
		items = append(items, notify.Item{Title: check, Severity: o.Severity(), Facts: []notify.Fact{{Title: "Why", Value: reason}}})
	}
	items = append([]notify.Item{{Title: name, Severity: o.Severity(), Facts: facts}}, items...)
	n := notify.Notification{ID: erasure.NotificationID(appID, o), Source: Name, Route: h.cfg.Policy.Route, Severity: o.Severity(),
		Title: o.Title(name), Summary: o.Summary(), Items: items, CreatedAt: now}
	if h.cfg.RegisterURL != "" {
		n.Links = []notify.Link{{Title: "Open the register", URL: h.cfg.RegisterURL}}
	}
	return n
}
