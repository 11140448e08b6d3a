package sharepoint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
)

// Tables of the sync engine.
const (
	WatermarkTable = "sharepointwatermarks" // PK "list", RK list name: the delta link
	ItemTable      = "sharepointitems"      // PK list name, RK item id: last applied eTag and target
	ItemErrorTable = "sharepointitemerrors" // PK list name, RK item id: why it could not be mapped
)

// Source is the notification source name.
const Source = "SharePointSync"

// Graph is the list-item delta reader (*graph.Client).
type Graph interface {
	ListItemsDelta(ctx context.Context, site, list, link string) (graph.ListDeltaPage, error)
}

// Notifier publishes notifications (*notify.Outbox).
type Notifier interface {
	Publish(ctx context.Context, ns []notify.Notification) (notify.Stats, error)
}

// Watermark is a list's stored delta link.
type Watermark struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	DeltaLink    string `json:"deltaLink"`
	SyncedAt     string `json:"syncedAt"`
	FullSyncAt   string `json:"fullSyncAt,omitempty"`
}

// ItemState is what was last done with a list item.
type ItemState struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	ETag         string `json:"etag"`
	// Target is the register id the item maps to (contract id, subject
	// request id, application id).
	Target    string `json:"target,omitempty"`
	Status    string `json:"status"` // applied, error, deleted, reserved
	UpdatedAt string `json:"updatedAt"`
}

// Item statuses.
const (
	StatusApplied  = "applied"
	StatusError    = "error"
	StatusDeleted  = "deleted"
	StatusReserved = "reserved"
)

// ItemError records why an item could not be mapped. Detail may quote the
// bad value (the table is the app's own); logs carry only ids and counts.
type ItemError struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	ETag         string `json:"etag"`
	ListName     string `json:"list"`
	Columns      string `json:"columns"`
	Detail       string `json:"detail"`
	RecordedAt   string `json:"recordedAt"`
}

// MappingError is an item that cannot be mapped: Fields name the
// columns at fault. It is recorded against the item, never retried.
type MappingError struct{ Fields []funcapp.FieldError }

func (e *MappingError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Detail
	}
	return strings.Join(parts, "; ")
}

// Applier applies one item to its domain. st is the item's state (Target
// empty the first time); save persists st, for appliers that must reserve
// a target before writing. It reports whether the register changed. A
// *MappingError is recorded against the item; any other error aborts the
// sync (redelivery).
type Applier interface {
	Apply(ctx context.Context, l List, it graph.ListItem, st *ItemState, save func(context.Context) error) (bool, error)
	// Tables lists the tables the applier writes, created on first use.
	Tables() []string
}

// Result counts one list's synchronisation.
type Result struct {
	Pages, Items, Changed, Unchanged, Deleted, Errors int
	Resynced                                          bool
}

// Engine synchronises configured lists.
type Engine struct {
	g        Graph
	svc      *store.Service
	marks    *store.Table[Watermark]
	items    *store.Table[ItemState]
	errs     *store.Table[ItemError]
	appliers map[Kind]Applier
	notifier Notifier
	now      func() time.Time
	mu       sync.Mutex
	ensured  bool
	// MaxPages bounds one run's pages per list (default 500).
	MaxPages int
}

// NewEngine builds an engine. It performs no I/O.
func NewEngine(g Graph, svc *store.Service, appliers map[Kind]Applier, n Notifier) *Engine {
	return &Engine{g: g, svc: svc, marks: store.NewTable[Watermark](svc, WatermarkTable),
		items: store.NewTable[ItemState](svc, ItemTable), errs: store.NewTable[ItemError](svc, ItemErrorTable),
		appliers: appliers, notifier: n, now: time.Now, MaxPages: 500}
}

func (e *Engine) ensure(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ensured {
		return nil
	}
	names := []string{WatermarkTable, ItemTable, ItemErrorTable}
	for _, a := range e.appliers {
		names = append(names, a.Tables()...)
	}
	if err := e.svc.EnsureTables(ctx, names...); err != nil {
		return err
	}
	e.ensured = true
	return nil
}

// Sync reads list l's changes since its delta link and applies them. The
// delta link is stored only after every page was applied; an expired link
// starts a full resynchronisation (items already applied at the same eTag
// are skipped). A Graph or storage failure is returned (transient); item
// mapping failures are recorded and reported, not returned.
func (e *Engine) Sync(ctx context.Context, l List) (Result, error) {
	var res Result
	a := e.appliers[l.Kind]
	if a == nil {
		return res, fmt.Errorf("sharepoint: no applier for list kind %q", l.Kind)
	}
	if err := e.ensure(ctx); err != nil {
		return res, err
	}
	mark := Watermark{PartitionKey: "list", RowKey: l.Name}
	rec, err := e.marks.Get(ctx, "list", l.Name)
	switch {
	case err == nil:
		mark = rec.Value
	case !errors.Is(err, store.ErrNotFound):
		return res, err
	}
	link := mark.DeltaLink
	full := link == ""
	for {
		if res.Pages >= e.MaxPages {
			return res, fmt.Errorf("sharepoint: list %s: more than %d delta pages in one run; the next run resumes from the stored delta link", l.Name, e.MaxPages)
		}
		page, err := e.g.ListItemsDelta(ctx, l.SiteID, l.ListID, link)
		if errors.Is(err, graph.ErrResyncRequired) && !res.Resynced {
			res.Resynced, full, link = true, true, ""
			continue
		}
		if err != nil {
			return res, err
		}
		res.Pages++
		for _, it := range page.Items {
			res.Items++
			if err := e.applyItem(ctx, a, l, it, &res); err != nil {
				return res, err
			}
		}
		if page.DeltaLink != "" {
			link = page.DeltaLink
			break
		}
		link = page.NextLink
	}
	now := e.now().UTC().Format(time.RFC3339)
	mark.DeltaLink, mark.SyncedAt = link, now
	if full {
		mark.FullSyncAt = now
	}
	if _, err := e.marks.Upsert(ctx, mark); err != nil {
		return res, err
	}
	return res, nil
}

// applyItem applies one item. A mapping failure is recorded, reported to
// the list owner and only then marked in the item's state, so a crash or
// failure in between repeats the (ledgered, so idempotent) report rather
// than losing it.
func (e *Engine) applyItem(ctx context.Context, a Applier, l List, it graph.ListItem, res *Result) error {
	if it.ID == "" {
		return nil
	}
	st := ItemState{PartitionKey: l.Name, RowKey: it.ID}
	rec, err := e.items.Get(ctx, l.Name, it.ID)
	switch {
	case err == nil:
		st = rec.Value
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	save := func(ctx context.Context) error {
		st.UpdatedAt = e.now().UTC().Format(time.RFC3339)
		_, err := e.items.Upsert(ctx, st)
		return err
	}
	if it.Deleted {
		res.Deleted++
		if st.Status == StatusDeleted {
			return nil
		}
		st.Status, st.ETag = StatusDeleted, ""
		return save(ctx)
	}
	if it.ETag != "" && st.ETag == it.ETag && (st.Status == StatusApplied || st.Status == StatusError) {
		res.Unchanged++
		return nil
	}
	changed, err := a.Apply(ctx, l, it, &st, save)
	var me *MappingError
	if errors.As(err, &me) {
		res.Errors++
		cols := make([]string, 0, len(me.Fields))
		for _, f := range me.Fields {
			cols = append(cols, f.Field)
		}
		sort.Strings(cols)
		if _, err := e.errs.Upsert(ctx, ItemError{PartitionKey: l.Name, RowKey: it.ID, ETag: it.ETag, ListName: l.Name,
			Columns: strings.Join(cols, ","), Detail: truncate(me.Error(), 4000), RecordedAt: e.now().UTC().Format(time.RFC3339)}); err != nil {
			return err
		}
		if e.notifier != nil {
			if _, err := e.notifier.Publish(ctx, []notify.Notification{e.errorNotification(l, it, cols)}); err != nil {
				return err
			}
		}
		st.Status, st.ETag = StatusError, it.ETag
		return save(ctx)
	}
	if err != nil {
		return err
	}
	if changed {
		res.Changed++
	} else {
		res.Unchanged++
	}
	if st.Status == StatusError {
		if err := e.errs.Delete(ctx, l.Name, it.ID, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	st.Status, st.ETag = StatusApplied, it.ETag
	return save(ctx)
}

// errorNotification tells the list owner's route about an unmappable
// item, once per item and version (ID: list, item, version hash), so a
// repeated sync never repeats the alert. Column names only: the values may
// be personal data.
func (e *Engine) errorNotification(l List, it graph.ListItem, cols []string) notify.Notification {
	version := versionTag(it.ETag)
	return notify.Notification{
		ID:     "sharepoint:" + l.Name + ":" + it.ID + ":" + version,
		Source: Source, Route: l.OwnerRoute, Severity: notify.SeverityWarning,
		Title:   "SharePoint list item could not be recorded",
		Summary: fmt.Sprintf("Item %s of the %s list (%s) has values the register cannot accept. Correct the columns named below in SharePoint; the change is picked up automatically. Details are in the %s table.", it.ID, l.Name, l.Kind, ItemErrorTable),
		Items: []notify.Item{{Title: "Item " + it.ID, Severity: notify.SeverityWarning, Facts: []notify.Fact{
			{Title: "Columns", Value: strings.Join(cols, ", ")}, {Title: "Version", Value: version}}}},
		CreatedAt: e.now().UTC(),
	}
}

// versionTag is a short, id-safe digest of an item's eTag.
func versionTag(etag string) string {
	sum := sha256.Sum256([]byte(etag))
	return hex.EncodeToString(sum[:6])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
