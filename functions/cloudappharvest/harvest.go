// Package cloudappharvest is the CloudAppHarvest function: a timer (nightly
// by default; on demand through the admin endpoint) that fills the cloud
// application register from Entra ID.
//
// Each run follows the service principal delta query from the last
// persisted link, page by page (the tenant is never held in memory). For
// each page it fetches every application's permissions, grants and owners
// through $batch, evaluates risk and findings, records new findings as
// pending, and upserts the harvested facts (never the IG record, which is
// a separate entity only people edit). The page's nextLink is persisted as
// a cursor once the page is written, and the deltaLink only after the last
// page of the set: a crash or a spent request budget resumes from the
// cursor; an expired link (410 Gone, syncStateNotFound) restarts with a
// full synchronisation, after which entries it did not see are marked
// removed. At the end of a run the pending findings go to the IGSG route as
// one digest through the notification outbox; a digest a crash left half
// done is finished, under its own id, before the next run records any
// finding.
package cloudappharvest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/rs/zerolog"
)

// Name is the function name.
const Name = "CloudAppHarvest"

// Tables the function uses besides cloudapps.Table.
const (
	WatermarkTable = "watermarks"
	FindingsTable  = "cloudappfindings"
)

// Graph is what the harvest needs from Microsoft Graph (*graph.Client).
type Graph interface {
	ServicePrincipalsDelta(ctx context.Context, link string) (graph.DeltaPage, error)
	Children(ctx context.Context, spIDs []string) (map[string]cloudapps.Children, error)
	Resources(ctx context.Context, ids []string) (map[string]cloudapps.Resource, error)
}

// Notifier publishes notifications (*notify.Outbox).
type Notifier interface {
	Publish(ctx context.Context, ns []notify.Notification) (notify.Stats, error)
}

// Config configures the harvest.
type Config struct {
	// CouncilTenant is the council's Entra tenant id: applications
	// registered there are the council's own.
	CouncilTenant string
	// Route is the notification route of findings (default "igsg").
	Route string
	// Budget caps the Graph requests of one run (0: unlimited).
	Budget int
	// Privileges ranks permissions (default cloudapps.DefaultPrivileges()).
	Privileges cloudapps.PrivilegeTable
	// FullResyncAfter forces a full synchronisation when the last one is
	// older (default 7 days): Graph's service principal delta does not
	// promise to report grant changes that leave the service principal
	// itself unchanged, and the delta link lives about 7 days anyway.
	FullResyncAfter time.Duration
	// DigestItems caps the items listed in one digest (default 50).
	DigestItems int
	// RegisterURL, when set, is linked from the digest (e.g. the CloudApps
	// API or a Power BI report).
	RegisterURL string
	// Tables name the register, watermark and pending-findings tables
	// (defaults cloudapps.Table, WatermarkTable, FindingsTable); tests
	// use their own.
	Table, WatermarkTable, FindingsTable string
}

// Handler is the CloudAppHarvest function.
type Handler struct {
	cfg      Config
	graph    Graph
	svc      *store.Service
	entries  *store.Table[cloudapps.Entry]
	igs      *store.Table[cloudapps.IG]
	marks    *store.Table[watermark]
	pending  *store.Table[pendingFinding]
	inflight *store.Table[digestMark]
	notifier Notifier
	now      func() time.Time

	ensureOnce sync.Once
	ensureErr  error
}

// New builds the function. It performs no I/O.
func New(cfg Config, g Graph, svc *store.Service, n Notifier) (*Handler, error) {
	var errs []error
	if g == nil {
		errs = append(errs, errors.New("cloudappharvest: no Graph client"))
	}
	if svc == nil {
		errs = append(errs, errors.New("cloudappharvest: no table service"))
	}
	if n == nil {
		errs = append(errs, errors.New("cloudappharvest: no notifier"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Route == "" {
		cfg.Route = "igsg"
	}
	if cfg.Privileges.Rank("", "User.Read") == "" || cfg.Privileges.Rank(cloudapps.KindApplication, "Mail.Read") != cloudapps.PrivilegeHigh {
		cfg.Privileges = cloudapps.DefaultPrivileges()
	}
	if cfg.FullResyncAfter <= 0 {
		cfg.FullResyncAfter = 7 * 24 * time.Hour
	}
	if cfg.DigestItems <= 0 {
		cfg.DigestItems = 50
	}
	if cfg.Table == "" {
		cfg.Table = cloudapps.Table
	}
	if cfg.WatermarkTable == "" {
		cfg.WatermarkTable = WatermarkTable
	}
	if cfg.FindingsTable == "" {
		cfg.FindingsTable = FindingsTable
	}
	return &Handler{cfg: cfg, graph: g, svc: svc, notifier: n, now: time.Now,
		entries:  store.NewTable[cloudapps.Entry](svc, cfg.Table),
		igs:      store.NewTable[cloudapps.IG](svc, cfg.Table),
		marks:    store.NewTable[watermark](svc, cfg.WatermarkTable),
		pending:  store.NewTable[pendingFinding](svc, cfg.FindingsTable),
		inflight: store.NewTable[digestMark](svc, cfg.FindingsTable)}, nil
}

// watermark is the harvest's position in the delta query.
type watermark struct {
	PartitionKey string `json:"PartitionKey"` // Name
	RowKey       string `json:"RowKey"`       // "servicePrincipals"
	// DeltaLink is the link that returns changes since the last completed
	// page set.
	DeltaLink string `json:"deltaLink,omitempty"`
	// Cursor is the nextLink after the last fully processed page of an
	// unfinished page set; CursorMode says whether that set is a full
	// synchronisation.
	Cursor     string `json:"cursor,omitempty"`
	CursorMode string `json:"cursorMode,omitempty"`
	// SyncGen identifies the current (or last) full synchronisation.
	SyncGen      string `json:"syncGen,omitempty"`
	LastFullSync string `json:"lastFullSync,omitempty"`
	LastRun      string `json:"lastRun,omitempty"`
	LastOutcome  string `json:"lastOutcome,omitempty"`
}

const (
	modeFull  = "full"
	modeDelta = "delta"
)

// pendingFinding is a finding decided but not yet sent in a digest.
type pendingFinding struct {
	PartitionKey string `json:"PartitionKey"` // "pending"
	RowKey       string `json:"RowKey"`       // appId|key
	AppID        string `json:"appId"`
	DisplayName  string `json:"displayName"`
	Category     string `json:"category"`
	Key          string `json:"key"`
	Severity     string `json:"severity"`
	Title        string `json:"title"`
	CreatedAt    string `json:"createdAt"`
}

const pendingPartition = "pending"

// digestMark, in the findings table, names the digest being sent: it is
// written before the digest is published and deleted once its findings
// are cleared. While it exists every pending finding belongs to that
// digest, because the next run finishes it before harvesting anything.
type digestMark struct {
	PartitionKey string `json:"PartitionKey"` // "digest"
	RowKey       string `json:"RowKey"`       // "in-flight"
	ID           string `json:"id"`
}

const (
	markPartition = "digest"
	markRow       = "in-flight"
)

// Report says what one run did.
type Report struct {
	Mode            string        `json:"mode"`
	Resynced        bool          `json:"resynced"`
	Resumed         bool          `json:"resumed"`
	Pages           int           `json:"pages"`
	Apps            int           `json:"apps"`
	New             int           `json:"new"`
	Removed         int           `json:"removed"`
	Swept           int           `json:"swept"`
	Rechecked       int           `json:"rechecked"`
	Findings        int           `json:"findings"`
	Notified        int           `json:"notified"`
	GraphRequests   int           `json:"graphRequests"`
	Transactions    int           `json:"tableTransactions"`
	EntitiesWritten int           `json:"entitiesWritten"`
	EntitiesRead    int           `json:"entitiesRead"`
	Complete        bool          `json:"complete"`
	BudgetSpent     bool          `json:"budgetSpent"`
	Duration        time.Duration `json:"duration"`
}

func (r *Report) add(st store.BatchStats) {
	r.Transactions += st.Transactions
	r.EntitiesWritten += st.Entities
}

// Invoke runs one harvest. A spent request budget is a clean stop (2xx):
// the next run resumes from the cursor.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	if t, err := inv.Timer("timer"); err == nil && t.IsPastDue {
		zerolog.Ctx(ctx).Info().Msg("timer is past due; harvesting now")
	}
	rep, err := h.Run(ctx)
	log := zerolog.Ctx(ctx)
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.Str("mode", rep.Mode).Bool("resynced", rep.Resynced).Bool("resumed", rep.Resumed).Bool("complete", rep.Complete).
		Bool("budgetSpent", rep.BudgetSpent).Int("pages", rep.Pages).Int("apps", rep.Apps).Int("new", rep.New).
		Int("removed", rep.Removed).Int("swept", rep.Swept).Int("rechecked", rep.Rechecked).Int("findings", rep.Findings).
		Int("notified", rep.Notified).Int("graphRequests", rep.GraphRequests).Int("tableTransactions", rep.Transactions).
		Dur("duration", rep.Duration).Msg("cloud app harvest")
	if err != nil {
		return funcapp.Result{}, err
	}
	if rep.BudgetSpent {
		log.Warn().Msg("Graph request budget spent (GRAPH_REQUEST_BUDGET); the next run resumes where this one stopped")
	}
	return funcapp.Result{Logs: []string{fmt.Sprintf("harvest %s: %d pages, %d apps, %d findings", rep.Mode, rep.Pages, rep.Apps, rep.Findings)}}, nil
}

func (h *Handler) ensure(ctx context.Context) error {
	h.ensureOnce.Do(func() {
		h.ensureErr = h.svc.EnsureTables(ctx, h.cfg.Table, h.cfg.WatermarkTable, h.cfg.FindingsTable)
	})
	return h.ensureErr
}

// Run harvests once and reports what it did. A spent budget returns a
// report with BudgetSpent and no error.
func (h *Handler) Run(ctx context.Context) (Report, error) {
	start := h.now()
	budget := graph.NewBudget(h.cfg.Budget)
	ctx = graph.WithBudget(ctx, budget)
	r := &run{h: h, now: start.UTC(), resources: map[string]cloudapps.Resource{}}
	// A digest an interrupted run left half done is finished first, before
	// this run records findings of its own.
	err := r.finishDigest(ctx)
	if err == nil {
		err = r.harvest(ctx)
	}
	if errors.Is(err, graph.ErrBudgetExhausted) {
		r.rep.BudgetSpent = true
		err = nil
	}
	if err == nil {
		// Time-based findings and the digest are worth doing even when the
		// budget stopped the delta part.
		err = r.recheck(ctx)
	}
	if err == nil {
		err = r.digest(ctx)
	}
	r.rep.GraphRequests = budget.Used()
	r.rep.Duration = h.now().Sub(start)
	return r.rep, err
}

// run is one harvest's state.
type run struct {
	h         *Handler
	now       time.Time
	rep       Report
	wm        watermark
	resources map[string]cloudapps.Resource
	// emptyRegister is set when a full synchronisation starts on an empty
	// register (the first harvest): no entry needs reading.
	emptyRegister bool
}

var errStop = errors.New("stop")

// registerEmpty reports whether the register has no harvested entry.
func (r *run) registerEmpty(ctx context.Context) (bool, error) {
	empty := true
	err := r.h.entries.Query(ctx, store.PartitionFilter(cloudapps.PartitionEntra), func(store.Record[cloudapps.Entry]) error {
		empty = false
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return false, fmt.Errorf("read register: %w", err)
	}
	return empty, nil
}

func (r *run) saveWatermark(ctx context.Context, outcome string) error {
	r.wm.LastRun = cloudapps.FormatTime(r.now)
	r.wm.LastOutcome = outcome
	_, err := r.h.marks.Upsert(ctx, r.wm)
	if err != nil {
		return fmt.Errorf("save watermark: %w", err)
	}
	return nil
}

func (r *run) harvest(ctx context.Context) error {
	h := r.h
	if err := h.ensure(ctx); err != nil {
		return err
	}
	rec, err := h.marks.Get(ctx, Name, "servicePrincipals")
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.wm = watermark{PartitionKey: Name, RowKey: "servicePrincipals"}
	case err != nil:
		return fmt.Errorf("read watermark: %w", err)
	default:
		r.wm = rec.Value
	}
	var link, mode string
	switch {
	case r.wm.Cursor != "":
		link, mode = r.wm.Cursor, r.wm.CursorMode
		r.rep.Resumed = true
	case r.wm.DeltaLink != "" && r.now.Sub(cloudapps.ParseTime(r.wm.LastFullSync)) < h.cfg.FullResyncAfter:
		link, mode = r.wm.DeltaLink, modeDelta
	default:
		mode = modeFull
		r.wm.SyncGen = newGen(r.now)
	}
	r.rep.Mode = mode
	if mode == modeFull {
		if r.emptyRegister, err = r.registerEmpty(ctx); err != nil {
			return err
		}
	}
	for {
		page, err := h.graph.ServicePrincipalsDelta(ctx, link)
		if errors.Is(err, graph.ErrResyncRequired) && !r.rep.Resynced {
			zerolog.Ctx(ctx).Warn().Str("mode", mode).Msg("delta state expired; starting a full resync")
			r.rep.Resynced = true
			link, mode = "", modeFull
			r.rep.Mode = mode
			r.wm.Cursor, r.wm.CursorMode, r.wm.DeltaLink = "", "", ""
			r.wm.SyncGen = newGen(r.now)
			if err := r.saveWatermark(ctx, "resync"); err != nil {
				return err
			}
			if r.emptyRegister, err = r.registerEmpty(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("delta page %d: %w", r.rep.Pages+1, err)
		}
		if err := r.page(ctx, page, mode); err != nil {
			return fmt.Errorf("delta page %d: %w", r.rep.Pages+1, err)
		}
		r.rep.Pages++
		if page.NextLink != "" {
			r.wm.Cursor, r.wm.CursorMode = page.NextLink, mode
			if err := r.saveWatermark(ctx, "in-progress"); err != nil {
				return err
			}
			link = page.NextLink
			continue
		}
		if mode == modeFull {
			if err := r.sweep(ctx); err != nil {
				return err
			}
			r.wm.LastFullSync = cloudapps.FormatTime(r.now)
		}
		r.wm.DeltaLink, r.wm.Cursor, r.wm.CursorMode = page.DeltaLink, "", ""
		r.rep.Complete = true
		return r.saveWatermark(ctx, "complete")
	}
}

func newGen(t time.Time) string { return t.UTC().Format("20060102T150405.000Z") }

// page processes one delta page: children, resources, evaluation, writes.
func (r *run) page(ctx context.Context, page graph.DeltaPage, mode string) error {
	h := r.h
	var live []cloudapps.ServicePrincipal
	var removed []string
	for _, sp := range page.Items {
		switch {
		case sp.Removed:
			removed = append(removed, sp.ID)
		case sp.AppID != "" && store.ValidateKeys(cloudapps.PartitionEntra, sp.AppID) == nil:
			live = append(live, sp)
		}
	}
	ids := make([]string, len(live))
	for i, sp := range live {
		ids[i] = sp.ID
	}
	children := map[string]cloudapps.Children{}
	if len(ids) > 0 {
		var err error
		if children, err = h.graph.Children(ctx, ids); err != nil {
			return fmt.Errorf("children: %w", err)
		}
	}
	if err := r.resolveResources(ctx, children); err != nil {
		return err
	}
	prev, err := r.existing(ctx, live)
	if err != nil {
		return err
	}
	var ops []store.Op[cloudapps.Entry]
	var pend []store.Op[pendingFinding]
	for _, sp := range live {
		ch := children[sp.ID]
		if ch.Gone {
			continue // deleted since the page was served; the next delta says so
		}
		perms := cloudapps.Permissions(ch, r.resources, h.cfg.Privileges)
		p := prev[sp.AppID]
		e := cloudapps.NewEntry(cloudapps.Harvested{SP: sp, Children: ch, Permissions: perms}, h.cfg.CouncilTenant, p, r.now)
		if mode == modeFull || p == nil {
			e.SyncGen = r.wm.SyncGen
		}
		var prevPerms []cloudapps.Permission
		if p != nil {
			prevPerms = p.PermissionList()
			if prevPerms == nil {
				prevPerms = []cloudapps.Permission{}
			}
		} else {
			r.rep.New++
		}
		fresh := r.evaluate(&e, prevPerms, p == nil, nil, harvestOwns)
		pend = append(pend, r.pendingOps(e, fresh)...)
		ops = append(ops, store.Op[cloudapps.Entry]{Kind: store.OpUpsert, Value: e})
		r.rep.Apps++
	}
	if err := r.write(ctx, pend, ops, "write register"); err != nil {
		return err
	}
	return r.markRemoved(ctx, removed)
}

// write records pending findings, then register entries. Pending findings
// go first: a crash between the two writes re-finds them (the entry's
// Notified was not yet updated) and re-records the same rows.
func (r *run) write(ctx context.Context, pend []store.Op[pendingFinding], ops []store.Op[cloudapps.Entry], what string) error {
	if len(pend) > 0 {
		st, err := r.h.pending.Batch(ctx, pend)
		r.rep.add(st)
		if err != nil {
			return fmt.Errorf("record findings: %w", err)
		}
	}
	if len(ops) > 0 {
		st, err := r.h.entries.Batch(ctx, ops)
		r.rep.add(st)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// harvestOwns says which finding keys the harvest evaluates (the IG sweep
// owns the rest).
func harvestOwns(key string) bool { return !igOwns(key) }

func igOwns(key string) bool {
	return strings.HasPrefix(key, "ig:") || strings.HasPrefix(key, "review-overdue:")
}

// evaluate sets e's risk, findings and next check, and returns the findings
// not notified before. Only keys owns() are (re)evaluated.
func (r *run) evaluate(e *cloudapps.Entry, prevPerms []cloudapps.Permission, isNew bool, ig *cloudapps.IG, owns func(string) bool) []cloudapps.Finding {
	f := e.Facts()
	risk := cloudapps.Assess(f, r.now)
	e.RiskLevel, e.RiskReasons = risk.Level, strings.Join(risk.Reasons, " ")
	e.NextCheck = cloudapps.FormatTime(cloudapps.NextCheck(f, nil, r.now))
	findings := cloudapps.Findings(f, prevPerms, isNew, ig, r.now)
	notified := map[string]bool{}
	var keep []string
	for _, k := range cloudapps.Keys(e.Notified) {
		notified[k] = true
		if !owns(k) {
			keep = append(keep, k)
		}
	}
	active := []string{}
	for _, k := range cloudapps.Keys(e.Findings) {
		if !owns(k) {
			active = append(active, k)
		}
	}
	var fresh []cloudapps.Finding
	for _, fd := range findings {
		if !owns(fd.Key) {
			continue
		}
		active = append(active, fd.Key)
		keep = append(keep, fd.Key)
		if !notified[fd.Key] {
			fresh = append(fresh, fd)
		}
	}
	e.Findings = cloudapps.JoinKeys(active)
	e.Notified = cloudapps.JoinKeys(keep)
	r.rep.Findings += len(fresh)
	return fresh
}

var keyReplacer = strings.NewReplacer("/", "_", `\`, "_", "#", "_", "?", "_")

func (r *run) pendingOps(e cloudapps.Entry, fresh []cloudapps.Finding) []store.Op[pendingFinding] {
	ops := make([]store.Op[pendingFinding], 0, len(fresh))
	for _, f := range fresh {
		ops = append(ops, store.Op[pendingFinding]{Kind: store.OpUpsert, Value: pendingFinding{
			PartitionKey: pendingPartition, RowKey: keyReplacer.Replace(e.RowKey + "|" + f.Key), AppID: e.RowKey,
			DisplayName: e.DisplayName, Category: e.Category, Key: f.Key, Severity: f.Severity, Title: f.Title,
			CreatedAt: cloudapps.FormatTime(r.now)}})
	}
	return ops
}

// resolveResources fetches the resource service principals named by
// children's assignments and grants that this run has not seen yet.
func (r *run) resolveResources(ctx context.Context, children map[string]cloudapps.Children) error {
	want := map[string]bool{}
	for _, ch := range children {
		for _, a := range ch.AppRoleAssignments {
			if _, ok := r.resources[a.ResourceID]; !ok && a.ResourceID != "" {
				want[a.ResourceID] = true
			}
		}
		for _, g := range ch.Grants {
			if _, ok := r.resources[g.ResourceID]; !ok && g.ResourceID != "" {
				want[g.ResourceID] = true
			}
		}
	}
	if len(want) == 0 {
		return nil
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	got, err := r.h.graph.Resources(ctx, ids)
	if err != nil {
		return fmt.Errorf("resources: %w", err)
	}
	for _, id := range ids {
		r.resources[id] = got[id] // a zero Resource for ids Graph no longer knows: not asked again
	}
	return nil
}

// existing reads the stored entries of the page's applications, a few at
// a time.
func (r *run) existing(ctx context.Context, live []cloudapps.ServicePrincipal) (map[string]*cloudapps.Entry, error) {
	out := make(map[string]*cloudapps.Entry, len(live))
	if r.emptyRegister {
		return out, nil
	}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
		sem   = make(chan struct{}, 16)
	)
	for _, sp := range live {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			rec, err := r.h.entries.Get(ctx, cloudapps.PartitionEntra, sp.AppID)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				v := rec.Value
				out[sp.AppID] = &v
				r.rep.EntitiesRead++
			case errors.Is(err, store.ErrNotFound):
			case first == nil:
				first = err
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, fmt.Errorf("read register: %w", first)
	}
	return out, nil
}

// markRemoved marks the entries of removed service principals (by object
// id) as removed in Entra, keeping them in the register.
func (r *run) markRemoved(ctx context.Context, spIDs []string) error {
	const perQuery = 14 // Azure Tables allows 15 comparisons in a filter
	var ops []store.Op[cloudapps.Entry]
	for start := 0; start < len(spIDs); start += perQuery {
		part := spIDs[start:min(start+perQuery, len(spIDs))]
		ors := make([]string, len(part))
		for i, id := range part {
			ors[i] = "objectId eq " + store.Quote(id)
		}
		filter := store.PartitionFilter(cloudapps.PartitionEntra) + " and (" + strings.Join(ors, " or ") + ")"
		err := r.h.entries.Query(ctx, filter, func(rec store.Record[cloudapps.Entry]) error {
			r.rep.EntitiesRead++
			if rec.Value.Removed {
				return nil
			}
			ops = append(ops, store.Op[cloudapps.Entry]{Kind: store.OpUpsert, Value: r.removedEntry(rec.Value)})
			return nil
		})
		if err != nil {
			return fmt.Errorf("find removed: %w", err)
		}
	}
	return r.writeRemoved(ctx, ops)
}

func (r *run) removedEntry(e cloudapps.Entry) cloudapps.Entry {
	e.Removed = true
	e.RemovedAt = cloudapps.FormatTime(r.now)
	e.RiskLevel, e.RiskReasons, e.Findings, e.NextCheck = cloudapps.PrivilegeLow, "", "", ""
	return e
}

func (r *run) writeRemoved(ctx context.Context, ops []store.Op[cloudapps.Entry]) error {
	if len(ops) == 0 {
		return nil
	}
	st, err := r.h.entries.Batch(ctx, ops)
	r.rep.add(st)
	if err != nil {
		return fmt.Errorf("mark removed: %w", err)
	}
	r.rep.Removed += len(ops)
	return nil
}

// sweep, after a full synchronisation, marks removed the entries it did not
// see: applications deleted while no delta link was usable.
func (r *run) sweep(ctx context.Context) error {
	filter := store.PartitionFilter(cloudapps.PartitionEntra) + " and removed eq false and syncGen ne " + store.Quote(r.wm.SyncGen)
	var ops []store.Op[cloudapps.Entry]
	err := r.h.entries.Query(ctx, filter, func(rec store.Record[cloudapps.Entry]) error {
		r.rep.EntitiesRead++
		ops = append(ops, store.Op[cloudapps.Entry]{Kind: store.OpUpsert, Value: r.removedEntry(rec.Value)})
		if len(ops) == store.MaxTransactionActions {
			if err := r.writeRemoved(ctx, ops); err != nil {
				return err
			}
			r.rep.Swept += len(ops)
			ops = ops[:0]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	r.rep.Swept += len(ops)
	return r.writeRemoved(ctx, ops)
}

// recheck re-evaluates the time-based findings that fell due (credential
// expiry thresholds) and the IG findings of every application with an IG
// record (personal data without agreement or location, review overdue).
func (r *run) recheck(ctx context.Context) error {
	h := r.h
	if err := h.ensure(ctx); err != nil {
		return err
	}
	now := cloudapps.FormatTime(r.now)
	filter := store.PartitionFilter(cloudapps.PartitionEntra) + " and removed eq false and nextCheck ne '' and nextCheck le " + store.Quote(now)
	var ops []store.Op[cloudapps.Entry]
	var pend []store.Op[pendingFinding]
	flush := func() error {
		if err := r.write(ctx, pend, ops, "recheck"); err != nil {
			return err
		}
		ops, pend = ops[:0], pend[:0]
		return nil
	}
	err := h.entries.Query(ctx, filter, func(rec store.Record[cloudapps.Entry]) error {
		r.rep.EntitiesRead++
		e := rec.Value
		fresh := r.evaluate(&e, e.PermissionList(), false, nil, harvestOwns)
		pend = append(pend, r.pendingOps(e, fresh)...)
		ops = append(ops, store.Op[cloudapps.Entry]{Kind: store.OpUpsert, Value: e})
		r.rep.Rechecked++
		if len(ops) == store.MaxTransactionActions {
			return flush()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recheck: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	// IG records are few (one per application people have reviewed).
	err = h.igs.Query(ctx, store.PartitionFilter(cloudapps.PartitionIG), func(rec store.Record[cloudapps.IG]) error {
		r.rep.EntitiesRead++
		ig := rec.Value
		erec, err := h.entries.Get(ctx, cloudapps.PartitionEntra, ig.RowKey)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		r.rep.EntitiesRead++
		e := erec.Value
		before := e
		fresh := r.evaluate(&e, e.PermissionList(), false, &ig, igOwns)
		e.NextCheck, e.RiskLevel, e.RiskReasons = before.NextCheck, before.RiskLevel, before.RiskReasons
		if e.Findings == before.Findings && e.Notified == before.Notified {
			return nil
		}
		pend = append(pend, r.pendingOps(e, fresh)...)
		ops = append(ops, store.Op[cloudapps.Entry]{Kind: store.OpUpsert, Value: e})
		if len(ops) == store.MaxTransactionActions {
			return flush()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("IG findings: %w", err)
	}
	return flush()
}

var severityRank = map[string]int{notify.SeverityInfo: 0, notify.SeverityWarning: 1, notify.SeverityUrgent: 2, notify.SeverityOverdue: 3}

// digestOf is a digest being built from the pending findings.
type digestOf struct {
	count  int
	hash   hash.Hash
	items  []notify.Item
	sev    string
	byKind map[string]int
}

// collect reads the pending findings into a digest.
func (r *run) collect(ctx context.Context) (*digestOf, error) {
	d := &digestOf{hash: sha256.New(), sev: notify.SeverityInfo, byKind: map[string]int{}}
	err := r.h.pending.Query(ctx, store.PartitionFilter(pendingPartition), func(rec store.Record[pendingFinding]) error {
		p := rec.Value
		d.count++
		d.hash.Write([]byte(p.RowKey + "\n"))
		if severityRank[p.Severity] > severityRank[d.sev] {
			d.sev = p.Severity
		}
		kind, _, _ := strings.Cut(p.Key, ":")
		d.byKind[kind]++
		if len(d.items) < r.h.cfg.DigestItems {
			d.items = append(d.items, notify.Item{Title: p.DisplayName + ": " + p.Title, Severity: p.Severity,
				Facts: []notify.Fact{{Title: "Application id", Value: p.AppID}, {Title: "Category", Value: p.Category}}})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read pending findings: %w", err)
	}
	return d, nil
}

// id is the digest's id: a hash of the findings it carries.
func (d *digestOf) id() string { return "cloudapps:digest:" + hex.EncodeToString(d.hash.Sum(nil))[:24] }

func (r *run) notification(d *digestOf, id string) notify.Notification {
	kinds := make([]string, 0, len(d.byKind))
	for k, n := range d.byKind {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	summary := fmt.Sprintf("%d new findings in the cloud application register (%s).", d.count, strings.Join(kinds, ", "))
	if d.count > len(d.items) {
		summary += fmt.Sprintf(" The first %d are listed; see the register for the rest.", len(d.items))
	}
	n := notify.Notification{ID: id, Source: Name, Route: r.h.cfg.Route, Severity: d.sev,
		Title: "Cloud application register: new findings", Summary: summary, Items: d.items}
	if r.h.cfg.RegisterURL != "" {
		n.Links = []notify.Link{{Title: "Open the register", URL: r.h.cfg.RegisterURL}}
	}
	return n
}

// digest sends the pending findings as one notification and clears them.
//
// Its id is a hash of the findings it carries, and a mark naming it is
// written before it is published and deleted after the findings are
// cleared. A crash after publishing leaves the mark: the next run first
// finishes that digest under the same id (the outbox skips it, or resends
// it if it was never handed on) and clears its findings, before recording
// new ones. Without the mark, findings left by a crash (all of them, or
// those a partial clear of more than one transaction missed) would go out
// again mixed with the next run's in a digest of another id.
func (r *run) digest(ctx context.Context) error {
	d, err := r.collect(ctx)
	if err != nil || d.count == 0 {
		return err
	}
	id := d.id()
	if _, err := r.h.inflight.Upsert(ctx, digestMark{PartitionKey: markPartition, RowKey: markRow, ID: id}); err != nil {
		return fmt.Errorf("mark digest in flight: %w", err)
	}
	return r.send(ctx, d, id)
}

// finishDigest completes the digest an interrupted run marked in flight:
// every pending finding belongs to it.
func (r *run) finishDigest(ctx context.Context) error {
	if err := r.h.ensure(ctx); err != nil {
		return err
	}
	mark, err := r.h.inflight.Get(ctx, markPartition, markRow)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read digest mark: %w", err)
	}
	d, err := r.collect(ctx)
	if err != nil {
		return err
	}
	zerolog.Ctx(ctx).Warn().Str("digest", mark.Value.ID).Int("findings", d.count).
		Msg("finishing the findings digest an interrupted run left in flight")
	if d.count == 0 {
		return r.unmark(ctx)
	}
	return r.send(ctx, d, mark.Value.ID)
}

// send publishes d under id, clears the pending findings and the mark.
func (r *run) send(ctx context.Context, d *digestOf, id string) error {
	h := r.h
	if _, err := h.notifier.Publish(ctx, []notify.Notification{r.notification(d, id)}); err != nil {
		return fmt.Errorf("publish digest: %w", err)
	}
	r.rep.Notified += d.count
	// Clear what was sent, a transaction at a time.
	var ops []store.Op[pendingFinding]
	err := h.pending.Query(ctx, store.PartitionFilter(pendingPartition), func(rec store.Record[pendingFinding]) error {
		ops = append(ops, store.Op[pendingFinding]{Kind: store.OpDelete, Value: rec.Value, ETag: rec.ETag})
		if len(ops) == store.MaxTransactionActions {
			st, err := h.pending.Batch(ctx, ops)
			r.rep.add(st)
			ops = ops[:0]
			return err
		}
		return nil
	})
	if err == nil && len(ops) > 0 {
		var st store.BatchStats
		st, err = h.pending.Batch(ctx, ops)
		r.rep.add(st)
	}
	if err != nil {
		return fmt.Errorf("clear pending findings: %w", err)
	}
	return r.unmark(ctx)
}

func (r *run) unmark(ctx context.Context) error {
	if err := r.h.inflight.Delete(ctx, markPartition, markRow, ""); err != nil {
		return fmt.Errorf("clear digest mark: %w", err)
	}
	return nil
}
