package contracts

import (
	"context"
	"errors"
	"github.com/council-ict/govkit/shared/funcapp"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/ukdates"
)

// DefaultTable is the register's table.
const DefaultTable = "contracts"

// Partition is the one partition every contract lives in. A council has
// hundreds to a few thousand contracts: one partition makes an id lookup one
// point read, lets a CSV import commit in the minimum number of transactions
// (one per 100 rows; Azure transactions never span partitions) and lists in
// id order. A partition serves about 2,000 entities a second, far above
// this register's load; revisit (partition by serviceArea) past ~100k.
const Partition = "contract"

// entity is a contract as stored: dates as ISO strings (the team's
// convention), periods as ISO 8601 text.
type entity struct {
	PartitionKey     string  `json:"PartitionKey"`
	RowKey           string  `json:"RowKey"`
	Title            string  `json:"title"`
	Supplier         string  `json:"supplier"`
	ServiceArea      string  `json:"serviceArea"`
	Owner            string  `json:"owner"`
	Route            string  `json:"route"`
	EscalationRoute  string  `json:"escalationRoute"`
	StartDate        string  `json:"startDate"`
	EndDate          string  `json:"endDate"`
	NoticePeriod     string  `json:"noticePeriod"`
	InternalLeadTime string  `json:"internalLeadTime"`
	RenewalType      string  `json:"renewalType"`
	RenewalTerm      string  `json:"renewalTerm"`
	AnnualValue      float64 `json:"annualValue"`
	DBSRequired      bool    `json:"dbsRequired"`
	DBSConfirmedOn   string  `json:"dbsConfirmedOn"`
	Status           string  `json:"status"`
	ExitPlanAgreedOn string  `json:"exitPlanAgreedOn"`
	CloudAppID       string  `json:"cloudAppId"`
	Notes            string  `json:"notes"`
	DeletedAt        string  `json:"deletedAt"`
	UpdatedAt        string  `json:"updatedAt"`
	UpdatedBy        string  `json:"updatedBy"`
}

// Stored is a contract as read from the register.
type Stored struct {
	Contract
	// ETag is the version, for If-Match.
	ETag string
	// DeletedAt is set (RFC 3339) once the contract was deleted (soft
	// delete: status ended, the record kept).
	DeletedAt string
	UpdatedAt string
	// UpdatedBy is the Entra object id of whoever made the last change
	// (the audit trail's "who"), or "system".
	UpdatedBy string
}

// changedBy is the caller the access-control wrapper put in ctx.
func changedBy(ctx context.Context) string {
	if p, ok := funcapp.PrincipalFrom(ctx); ok && p.ObjectID != "" {
		return p.ObjectID
	}
	return "system"
}

func toEntity(c Contract, deletedAt, by string, now time.Time) entity {
	return entity{
		PartitionKey: Partition, RowKey: c.ID, Title: c.Title, Supplier: c.Supplier, ServiceArea: c.ServiceArea,
		Owner: c.Owner, Route: c.Route, EscalationRoute: c.EscalationRoute,
		StartDate: c.StartDate.String(), EndDate: c.EndDate.String(),
		NoticePeriod: c.NoticePeriod.String(), InternalLeadTime: c.InternalLeadTime.String(),
		RenewalType: string(c.RenewalType), RenewalTerm: c.RenewalTerm.String(), AnnualValue: c.AnnualValue,
		DBSRequired: c.DBSRequired, DBSConfirmedOn: c.DBSConfirmedOn.String(), Status: string(c.Status),
		ExitPlanAgreedOn: c.ExitPlanAgreedOn.String(), CloudAppID: c.CloudAppID, Notes: c.Notes,
		DeletedAt: deletedAt, UpdatedAt: now.UTC().Format(time.RFC3339), UpdatedBy: by,
	}
}

// fromEntity decodes a stored row. Values were validated on the way in;
// a value that no longer parses (edited by hand) is an error.
func fromEntity(r store.Record[entity]) (Stored, error) {
	e := r.Value
	s := Stored{ETag: string(r.ETag), DeletedAt: e.DeletedAt, UpdatedAt: e.UpdatedAt, UpdatedBy: e.UpdatedBy}
	c := &s.Contract
	c.ID, c.Title, c.Supplier, c.ServiceArea = e.RowKey, e.Title, e.Supplier, e.ServiceArea
	c.Owner, c.Route, c.EscalationRoute = e.Owner, e.Route, e.EscalationRoute
	c.RenewalType, c.Status = RenewalType(e.RenewalType), Status(e.Status)
	c.AnnualValue, c.DBSRequired, c.CloudAppID, c.Notes = e.AnnualValue, e.DBSRequired, e.CloudAppID, e.Notes
	var errs []error
	date := func(dst *ukdates.Date, v string) {
		if v != "" {
			d, err := ukdates.ParseDate(v)
			errs = append(errs, err)
			*dst = d
		}
	}
	period := func(dst *Period, v string) {
		if v != "" {
			p, err := ParsePeriod(v)
			errs = append(errs, err)
			*dst = p
		}
	}
	date(&c.StartDate, e.StartDate)
	date(&c.EndDate, e.EndDate)
	date(&c.DBSConfirmedOn, e.DBSConfirmedOn)
	date(&c.ExitPlanAgreedOn, e.ExitPlanAgreedOn)
	period(&c.NoticePeriod, e.NoticePeriod)
	period(&c.InternalLeadTime, e.InternalLeadTime)
	period(&c.RenewalTerm, e.RenewalTerm)
	c.Normalize()
	if err := errors.Join(errs...); err != nil {
		return s, errors.New("contracts: stored contract " + e.RowKey + " has an unreadable date or period")
	}
	return s, nil
}

// Register is the contract register in Azure Tables.
type Register struct {
	t   *store.Table[entity]
	now func() time.Time
}

// NewRegister returns the register in table (DefaultTable when empty).
// Create the table with svc.EnsureTables.
func NewRegister(svc *store.Service, table string) *Register {
	if table == "" {
		table = DefaultTable
	}
	return &Register{t: store.NewTable[entity](svc, table), now: time.Now}
}

// Table returns the table name.
func (r *Register) Table() string { return r.t.Name() }

// Get reads one contract (one point read). Missing: store.ErrNotFound.
func (r *Register) Get(ctx context.Context, id string) (Stored, error) {
	rec, err := r.t.Get(ctx, Partition, id)
	if err != nil {
		return Stored{}, err
	}
	return fromEntity(rec)
}

// Create adds c; store.ErrConflict if the id exists.
func (r *Register) Create(ctx context.Context, c Contract) (string, error) {
	etag, err := r.t.Insert(ctx, toEntity(c, "", changedBy(ctx), r.now()))
	return string(etag), err
}

// Replace overwrites an existing contract if its ETag is etag (empty: any
// version). Stale: store.ErrPreconditionFailed; missing: store.ErrNotFound.
// deletedAt is kept as given.
func (r *Register) Replace(ctx context.Context, c Contract, deletedAt, etag string) (string, error) {
	newTag, err := r.t.Update(ctx, toEntity(c, deletedAt, changedBy(ctx), r.now()), azcore.ETag(etag))
	return string(newTag), err
}

// errStop ends a List early.
var errStop = errors.New("stop")

// List calls fn for each contract with an id after the cursor (all when
// after is ""), in id order, until fn returns ErrStop or an error.
func (r *Register) List(ctx context.Context, after string, fn func(Stored) error) error {
	filter := store.PartitionFilter(Partition)
	if after != "" {
		filter += " and RowKey gt " + store.Quote(after)
	}
	err := r.t.Query(ctx, filter, func(rec store.Record[entity]) error {
		s, err := fromEntity(rec)
		if err != nil {
			return err
		}
		return fn(s)
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// ErrStop, returned by a List callback, ends the listing without error.
var ErrStop = errStop

// Import writes every contract (create or replace) with Batch: one
// transaction per 100 contracts, the minimum Azure allows. Each transaction
// is atomic; if one fails, the error says how far it got and re-running
// the same import is harmless (each row is an upsert).
func (r *Register) Import(ctx context.Context, cs []Contract) (store.BatchStats, error) {
	now, by := r.now(), changedBy(ctx)
	ops := make([]store.Op[entity], len(cs))
	for i, c := range cs {
		ops[i] = store.Op[entity]{Kind: store.OpUpsert, Value: toEntity(c, "", by, now)}
	}
	return r.t.Batch(ctx, ops)
}
