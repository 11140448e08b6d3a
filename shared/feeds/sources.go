package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/store"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
)

type storeRecord = store.Record[sr.Record]

// ContractSource lists the contract register (*contracts.Register).
type ContractSource interface {
	List(ctx context.Context, after string, fn func(contracts.Stored) error) error
}

// SubjectRequestSource queries subject-request tracking records
// (*subjectrequests.Store); they hold no personal data.
type SubjectRequestSource interface {
	QueryRecords(ctx context.Context, filter string, fn func(store.Record[sr.Record]) error) error
}

// CloudAppSource lists the cloud-app register: each harvested entry with its
// IG record (nil when IG has not recorded one).
type CloudAppSource interface {
	CloudApps(ctx context.Context, fn func(cloudapps.Entry, *cloudapps.IG) error) error
}

// ErasureCheck is an application's erasure-check status.
type ErasureCheck struct {
	AppID, App, Status, TerminationDate, CompliantOn string
}

// ErasureCheckSource lists erasure-check statuses.
type ErasureCheckSource interface {
	ErasureChecks(ctx context.Context, fn func(ErasureCheck) error) error
}

// FeedRunSource lists feed runs since a time.
type FeedRunSource interface {
	FeedRuns(ctx context.Context, since time.Time, fn func(FeedRun) error) error
}

// Sources are the feeds' inputs. A nil source gives its tables no rows (or
// only their empty months).
type Sources struct {
	Contracts       ContractSource
	SubjectRequests SubjectRequestSource
	CloudApps       CloudAppSource
	ErasureChecks   ErasureCheckSource
	FeedRuns        FeedRunSource
}

// Default names of the tables the feed reads and writes.
const (
	ErasureChecksTable = "erasurechecks"
	FeedRunsTable      = "powerbifeedruns"
	SchemasTable       = "powerbischemas"
)

// TableNames are the Azure tables the sources read.
type TableNames struct {
	Contracts       string
	SubjectRequests sr.TableNames
	CloudApps       string
	ErasureChecks   string
	FeedRuns        string
}

// DefaultTableNames are the production table names.
func DefaultTableNames() TableNames {
	return TableNames{Contracts: contracts.DefaultTable, SubjectRequests: sr.DefaultTables, CloudApps: cloudapps.Table,
		ErasureChecks: ErasureChecksTable, FeedRuns: FeedRunsTable}
}

// NewTableSources returns the sources over Azure Tables in svc: the
// contract register, subject-request records, the cloud-app register, the
// erasure checks and the feed-run log. A source table that does not exist
// yet reads as empty.
func NewTableSources(svc *store.Service, n TableNames) Sources {
	return Sources{
		Contracts:       missingIsEmpty{contracts.NewRegister(svc, n.Contracts)},
		SubjectRequests: missingIsEmptyQuery{sr.NewStore(svc, n.SubjectRequests)},
		CloudApps:       &cloudAppTable{entries: store.NewTable[cloudapps.Entry](svc, n.CloudApps), ig: store.NewTable[cloudapps.IG](svc, n.CloudApps)},
		ErasureChecks:   &erasureTable{t: store.NewTable[map[string]any](svc, n.ErasureChecks)},
		FeedRuns:        NewRunLog(svc, n.FeedRuns),
	}
}

// TableMissing reports whether err says an Azure table does not exist.
func TableMissing(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == "TableNotFound"
}

func ignoreMissing(err error) error {
	if TableMissing(err) {
		return nil
	}
	return err
}

type missingIsEmpty struct{ ContractSource }

func (m missingIsEmpty) List(ctx context.Context, after string, fn func(contracts.Stored) error) error {
	return ignoreMissing(m.ContractSource.List(ctx, after, fn))
}

type missingIsEmptyQuery struct{ SubjectRequestSource }

func (m missingIsEmptyQuery) QueryRecords(ctx context.Context, filter string, fn func(store.Record[sr.Record]) error) error {
	return ignoreMissing(m.SubjectRequestSource.QueryRecords(ctx, filter, fn))
}

// cloudAppTable joins the register's two partitions: the IG records (one
// small entity per app) are read first into memory, then the harvested
// entries are streamed.
type cloudAppTable struct {
	entries *store.Table[cloudapps.Entry]
	ig      *store.Table[cloudapps.IG]
}

func (c *cloudAppTable) CloudApps(ctx context.Context, fn func(cloudapps.Entry, *cloudapps.IG) error) error {
	igs := map[string]*cloudapps.IG{}
	err := c.ig.Query(ctx, store.PartitionFilter(cloudapps.PartitionIG), func(r store.Record[cloudapps.IG]) error {
		g := r.Value
		igs[g.RowKey] = &g
		return nil
	})
	if err != nil {
		return ignoreMissing(err)
	}
	return ignoreMissing(c.entries.Query(ctx, store.PartitionFilter(cloudapps.PartitionEntra), func(r store.Record[cloudapps.Entry]) error {
		return fn(r.Value, igs[r.Value.RowKey])
	}))
}

// erasureTable reads table "erasurechecks" generically: its schema is not
// settled yet (issue 6), so each field is looked up under the names it is
// likely to have.
type erasureTable struct {
	t *store.Table[map[string]any]
}

func pick(m map[string]any, names ...string) string {
	for _, n := range names {
		for k, v := range m {
			if strings.EqualFold(k, n) {
				if s, ok := v.(string); ok && s != "" {
					return s
				}
			}
		}
	}
	return ""
}

func (e *erasureTable) ErasureChecks(ctx context.Context, fn func(ErasureCheck) error) error {
	return ignoreMissing(e.t.Query(ctx, "", func(r store.Record[map[string]any]) error {
		m := r.Value
		return fn(ErasureCheck{
			AppID:           pick(m, "appId", "RowKey"),
			App:             pick(m, "appName", "app", "displayName"),
			Status:          pick(m, "overallStatus", "status"),
			TerminationDate: pick(m, "terminationDate", "terminatedOn"),
			CompliantOn:     pick(m, "compliantOn", "compliantSince", "compliantDate"),
		})
	}))
}

// FeedRun is one PowerBIFeed run.
type FeedRun struct {
	At time.Time
	// Outcome is ok, partial (some table not written or not pushed) or
	// failed (nothing written).
	Outcome string
	Tables  []FeedRunTable
}

// FeedRunTable is what a run did for one table.
type FeedRunTable struct {
	Table   string `json:"table"`
	Rows    int    `json:"rows"`
	CSV     bool   `json:"csv"`
	Pushed  bool   `json:"pushed"`
	Problem string `json:"problem,omitempty"`
}

// runEntity is a run as stored: partition = month (YYYY-MM), row key = the
// run's UTC time (fixed width, so it sorts).
type runEntity struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	At           string `json:"at"`
	Outcome      string `json:"outcome"`
	Tables       string `json:"tables"`
}

const runKeyLayout = "20060102T150405.000Z"

// RunLog is the feed-run log in table powerbifeedruns.
type RunLog struct {
	t *store.Table[runEntity]
}

// NewRunLog returns the log in table (FeedRunsTable when empty); create
// the table with svc.EnsureTables.
func NewRunLog(svc *store.Service, table string) *RunLog {
	if table == "" {
		table = FeedRunsTable
	}
	return &RunLog{t: store.NewTable[runEntity](svc, table)}
}

// Record stores a run.
func (l *RunLog) Record(ctx context.Context, r FeedRun) error {
	b, err := json.Marshal(r.Tables)
	if err != nil {
		return err
	}
	at := r.At.UTC()
	_, err = l.t.Upsert(ctx, runEntity{PartitionKey: at.Format("2006-01"), RowKey: at.Format(runKeyLayout),
		At: at.Format(time.RFC3339Nano), Outcome: r.Outcome, Tables: string(b)})
	return err
}

// FeedRuns lists the runs since a time, oldest first.
func (l *RunLog) FeedRuns(ctx context.Context, since time.Time, fn func(FeedRun) error) error {
	since = since.UTC()
	filter := "PartitionKey ge " + store.Quote(since.Format("2006-01")) + " and RowKey ge " + store.Quote(since.Format(runKeyLayout))
	return ignoreMissing(l.t.Query(ctx, filter, func(r store.Record[runEntity]) error {
		at, err := time.Parse(time.RFC3339Nano, r.Value.At)
		if err != nil {
			return fmt.Errorf("feed run %s: %w", r.Value.RowKey, err)
		}
		run := FeedRun{At: at, Outcome: r.Value.Outcome}
		if err := json.Unmarshal([]byte(r.Value.Tables), &run.Tables); err != nil {
			return fmt.Errorf("feed run %s: %w", r.Value.RowKey, err)
		}
		return fn(run)
	}))
}

// schemaEntity is a table's applied schema hash: partition = dataset id,
// row key = table name.
type schemaEntity struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Hash         string `json:"hash"`
}

// SchemaTable is a powerbi.SchemaStore in table powerbischemas.
type SchemaTable struct {
	t *store.Table[schemaEntity]
}

// NewSchemaTable returns the store in table (SchemasTable when empty);
// create the table with svc.EnsureTables.
func NewSchemaTable(svc *store.Service, table string) *SchemaTable {
	if table == "" {
		table = SchemasTable
	}
	return &SchemaTable{t: store.NewTable[schemaEntity](svc, table)}
}

// SchemaHash implements powerbi.SchemaStore.
func (s *SchemaTable) SchemaHash(ctx context.Context, datasetID, table string) (string, error) {
	r, err := s.t.Get(ctx, datasetID, table)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return r.Value.Hash, err
}

// SetSchemaHash implements powerbi.SchemaStore.
func (s *SchemaTable) SetSchemaHash(ctx context.Context, datasetID, table, hash string) error {
	_, err := s.t.Upsert(ctx, schemaEntity{PartitionKey: datasetID, RowKey: table, Hash: hash})
	return err
}
