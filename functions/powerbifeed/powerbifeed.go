// Package powerbifeed is the PowerBIFeed function (timer, hourly in working
// hours by default). Each run writes every feed table (shared/feeds) as a
// dated CSV snapshot plus latest.csv to blob container powerbi-feed, the
// durable path; then, when a Power BI workspace is configured, publishes the
// same tables to a push dataset (created once, schemas PUT when they change,
// rows replaced); and records the run in the FeedRuns log. A table that
// fails (its CSV or its push) does not stop the others.
//
// Each run reads the source tables afresh and replaces everything, so a
// missed or repeated run is harmless.
package powerbifeed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/council-ict/govkit/shared/feeds"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/powerbi"
	"github.com/rs/zerolog"
)

// CSVSink writes a table's CSV snapshot (*feeds.BlobSink).
type CSVSink interface {
	Ensure(ctx context.Context) error
	WriteTable(ctx context.Context, table string, at time.Time, write func(io.Writer) error) error
}

// Pusher publishes tables to a push dataset (*powerbi.Client).
type Pusher interface {
	Sync(ctx context.Context, group, name string, fs []powerbi.Feed, schemas powerbi.SchemaStore) (powerbi.SyncReport, error)
	Stats() powerbi.Stats
}

// RunLog records runs (*feeds.RunLog).
type RunLog interface {
	Record(ctx context.Context, r feeds.FeedRun) error
}

// Config configures the function.
type Config struct {
	// WorkspaceID is the Power BI workspace (group) id; empty: CSV only.
	WorkspaceID string
	// DatasetName is the push dataset's name.
	DatasetName string
}

// Deps are the function's collaborators. Pusher and Schemas are needed only
// with a WorkspaceID; Setup, if set, creates the app's own tables.
type Deps struct {
	Tables  []feeds.Table
	Sources feeds.Sources
	CSV     CSVSink
	Pusher  Pusher
	Schemas powerbi.SchemaStore
	Runs    RunLog
	Setup   func(ctx context.Context) error
}

// Handler runs the feed.
type Handler struct {
	cfg Config
	d   Deps
	now func() time.Time
}

// New checks the configuration and returns the function.
func New(cfg Config, d Deps) (*Handler, error) {
	var errs []error
	if d.CSV == nil || d.Runs == nil || len(d.Tables) == 0 {
		errs = append(errs, errors.New("powerbifeed: tables, a CSV sink and a run log are required"))
	}
	if cfg.WorkspaceID != "" && (d.Pusher == nil || d.Schemas == nil || cfg.DatasetName == "") {
		errs = append(errs, errors.New("powerbifeed: a workspace needs a Power BI client, a schema store and a dataset name"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Handler{cfg: cfg, d: d, now: time.Now}, nil
}

// Report is what one run did: counts and table names only.
type Report struct {
	At             time.Time            `json:"at"`
	Outcome        string               `json:"outcome"`
	Tables         []feeds.FeedRunTable `json:"tables"`
	Rows           int                  `json:"rows"`
	CSVWritten     int                  `json:"csvWritten"`
	PushConfigured bool                 `json:"pushConfigured"`
	Pushed         int                  `json:"pushed"`
	DatasetCreated bool                 `json:"datasetCreated"`
	Truncated      int                  `json:"truncated"`
	Requests       powerbi.Stats        `json:"requests"`
	Duration       time.Duration        `json:"duration"`
}

// Invoke runs the feed for a timer invocation.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	log := zerolog.Ctx(ctx)
	if _, err := inv.Timer("timer"); err != nil {
		log.Warn().Err(err).Msg("timer payload not understood; running anyway")
	}
	rep, err := h.Run(ctx, h.now())
	for _, t := range rep.Tables {
		if t.Problem != "" {
			log.Warn().Str("table", t.Table).Str("reason", t.Problem).Msg("power bi feed table not fully published")
		}
	}
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.Str("outcome", rep.Outcome).Int("tables", len(rep.Tables)).Int("rows", rep.Rows).Int("csvWritten", rep.CSVWritten).
		Bool("pushConfigured", rep.PushConfigured).Int("pushed", rep.Pushed).Bool("datasetCreated", rep.DatasetCreated).
		Int("truncatedStrings", rep.Truncated).Int64("powerBIRequests", rep.Requests.Requests).Int64("rowPosts", rep.Requests.PostRows).
		Int64("throttled", rep.Requests.Throttled).Dur("duration", rep.Duration).Msg("power bi feed")
	if err != nil {
		return funcapp.Result{}, err
	}
	return funcapp.Result{ReturnValue: rep}, nil
}

// Run writes the CSVs, pushes when configured and records the run. The
// error is for a run that wrote no CSV at all (storage down); a partial run
// is reported in the result.
func (h *Handler) Run(ctx context.Context, now time.Time) (Report, error) {
	start := time.Now()
	rep := Report{At: now.UTC(), PushConfigured: h.cfg.WorkspaceID != ""}
	defer func() { rep.Duration = time.Since(start) }()
	in := feeds.NewInput(h.d.Sources, now)
	rep.Tables = make([]feeds.FeedRunTable, len(h.d.Tables))
	for i, t := range h.d.Tables {
		rep.Tables[i].Table = t.Name
	}
	var setupErr error
	if h.d.Setup != nil {
		setupErr = h.d.Setup(ctx)
	}
	if setupErr == nil {
		setupErr = h.d.CSV.Ensure(ctx)
	}
	for i, t := range h.d.Tables {
		rt := &rep.Tables[i]
		if setupErr != nil {
			rt.Problem = "csv: " + setupErr.Error()
			continue
		}
		err := h.d.CSV.WriteTable(ctx, t.Name, now, func(w io.Writer) error {
			n, err := feeds.WriteCSV(ctx, w, t, in)
			rt.Rows = n
			return err
		})
		if err != nil {
			rt.Problem = "csv: " + err.Error()
			continue
		}
		rt.CSV = true
		rep.CSVWritten++
		rep.Rows += rt.Rows
	}
	if rep.PushConfigured && ctx.Err() == nil {
		h.push(ctx, in, &rep)
	}
	switch {
	case rep.CSVWritten == 0:
		rep.Outcome = "failed"
	case rep.CSVWritten < len(rep.Tables) || (rep.PushConfigured && rep.Pushed < len(rep.Tables)):
		rep.Outcome = "partial"
	default:
		rep.Outcome = "ok"
	}
	var errs []error
	if rep.CSVWritten == 0 {
		errs = append(errs, fmt.Errorf("power bi feed wrote no CSV: %s", rep.Tables[0].Problem))
	}
	if err := h.d.Runs.Record(ctx, feeds.FeedRun{At: now, Outcome: rep.Outcome, Tables: rep.Tables}); err != nil {
		errs = append(errs, fmt.Errorf("recording the feed run: %w", err))
	}
	rep.Duration = time.Since(start)
	return rep, errors.Join(errs...)
}

func (h *Handler) push(ctx context.Context, in feeds.Input, rep *Report) {
	fs := make([]powerbi.Feed, len(h.d.Tables))
	for i, t := range h.d.Tables {
		fs[i] = powerbi.Feed{Table: t.Schema(), Rows: t.Source(in)}
	}
	before := h.d.Pusher.Stats()
	sync, err := h.d.Pusher.Sync(ctx, h.cfg.WorkspaceID, h.cfg.DatasetName, fs, h.d.Schemas)
	after := h.d.Pusher.Stats()
	rep.Requests = powerbi.Stats{Requests: after.Requests - before.Requests, PostRows: after.PostRows - before.PostRows,
		PutTable: after.PutTable - before.PutTable, DeleteRows: after.DeleteRows - before.DeleteRows,
		CreateDataset: after.CreateDataset - before.CreateDataset, ListDatasets: after.ListDatasets - before.ListDatasets,
		GetTables: after.GetTables - before.GetTables, Retries: after.Retries - before.Retries,
		Throttled: after.Throttled - before.Throttled, RowsPosted: after.RowsPosted - before.RowsPosted}
	rep.DatasetCreated = sync.Created
	for i := range rep.Tables {
		rt := &rep.Tables[i]
		var tr powerbi.TableResult
		if i < len(sync.Tables) {
			tr = sync.Tables[i]
		}
		rep.Truncated += tr.Truncated
		problem := tr.Err
		if err != nil && problem == nil {
			problem = err
		}
		if problem == nil && i < len(sync.Tables) {
			rt.Pushed = true
			rep.Pushed++
			continue
		}
		if problem == nil {
			problem = errors.New("not pushed")
		}
		msg := "push: " + problem.Error()
		if rt.Problem != "" {
			msg = rt.Problem + "; " + msg
		}
		rt.Problem = msg
	}
}
