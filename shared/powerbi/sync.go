package powerbi

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// SchemaStore remembers the schema hash last applied to each table of a
// dataset, so a table is PUT only when its definition changed.
type SchemaStore interface {
	// SchemaHash returns the stored hash, "" when none.
	SchemaHash(ctx context.Context, datasetID, table string) (string, error)
	SetSchemaHash(ctx context.Context, datasetID, table, hash string) error
}

// MemorySchemaStore is a SchemaStore in memory, for tests and local runs.
type MemorySchemaStore struct {
	m map[string]string
}

// NewMemorySchemaStore returns an empty store.
func NewMemorySchemaStore() *MemorySchemaStore { return &MemorySchemaStore{m: map[string]string{}} }

// SchemaHash implements SchemaStore.
func (s *MemorySchemaStore) SchemaHash(_ context.Context, datasetID, table string) (string, error) {
	return s.m[datasetID+"/"+table], nil
}

// SetSchemaHash implements SchemaStore.
func (s *MemorySchemaStore) SetSchemaHash(_ context.Context, datasetID, table, hash string) error {
	s.m[datasetID+"/"+table] = hash
	return nil
}

// Feed is one table to publish: its schema and its rows.
type Feed struct {
	Table Table
	Rows  RowSource
}

// SyncReport is what Sync did.
type SyncReport struct {
	DatasetID string        `json:"datasetId"`
	Created   bool          `json:"created"`
	Tables    []TableResult `json:"tables"`
}

// Failed counts the tables whose rows were not replaced.
func (r SyncReport) Failed() int {
	n := 0
	for _, t := range r.Tables {
		if t.Err != nil {
			n++
		}
	}
	return n
}

// Sync publishes feeds to the push dataset called name in workspace group:
// it creates the dataset (with every valid table) if the workspace has none
// of that name, PUTs each table whose schema hash differs from the stored
// one, then replaces each table's rows. A table the service refuses (a 4xx
// such as a schema mismatch) or that cannot be read gets its Err and the
// others go on. The error is for what stops every table: the dataset could
// not be found or created, or ctx ended.
func (c *Client) Sync(ctx context.Context, group, name string, feeds []Feed, schemas SchemaStore) (SyncReport, error) {
	var rep SyncReport
	results := make([]TableResult, len(feeds))
	var valid []Table
	seen := map[string]bool{}
	for i, f := range feeds {
		results[i].Table = f.Table.Name
		err := f.Table.Validate()
		if err == nil && seen[f.Table.Name] {
			err = fmt.Errorf("table %s is defined twice", f.Table.Name)
		}
		if err == nil && len(valid) == MaxTables {
			err = fmt.Errorf("table %s is beyond the %d tables a push dataset allows", f.Table.Name, MaxTables)
		}
		seen[f.Table.Name] = true
		if err != nil {
			results[i].Err = err
			continue
		}
		valid = append(valid, f.Table)
	}
	rep.Tables = results
	ds, found, err := c.FindDataset(ctx, group, name)
	if err != nil {
		return rep, fmt.Errorf("finding dataset %q: %w", name, err)
	}
	if !found {
		if len(valid) == 0 {
			return rep, errors.New("no valid table to create the dataset with")
		}
		ds, err = c.CreateDataset(ctx, group, name, valid)
		if errors.Is(err, ErrOutcomeUnknown) {
			// It may exist now: look before creating another of the name.
			if d, ok, ferr := c.FindDataset(ctx, group, name); ferr == nil && ok {
				ds, err = d, nil
			} else if ferr == nil {
				ds, err = c.CreateDataset(ctx, group, name, valid)
			}
		}
		if err != nil {
			return rep, fmt.Errorf("creating dataset %q: %w", name, err)
		}
		rep.Created = true
	}
	rep.DatasetID = ds.ID
	var existing []string // fetched once, when a table may be new
	for i, f := range feeds {
		if results[i].Err != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		hash := f.Table.Hash()
		if rep.Created {
			_ = schemas.SetSchemaHash(ctx, ds.ID, f.Table.Name, hash) // a lost hash only costs a PUT
		} else if stored, err := schemas.SchemaHash(ctx, ds.ID, f.Table.Name); err != nil || stored != hash {
			if existing == nil {
				existing, _ = c.Tables(ctx, group, ds.ID)
			}
			if err := c.PutTable(ctx, group, ds.ID, f.Table); err != nil {
				results[i].Err = explain(err, f.Table.Name, slices.Contains(existing, f.Table.Name))
				continue
			}
			results[i].SchemaUpdated = true
			_ = schemas.SetSchemaHash(ctx, ds.ID, f.Table.Name, hash)
		}
		r := c.ReplaceRows(ctx, group, ds.ID, f.Table, f.Rows)
		r.SchemaUpdated = results[i].SchemaUpdated
		if r.Err != nil {
			r.Err = explain(r.Err, f.Table.Name, true)
		}
		results[i] = r
	}
	return rep, ctx.Err()
}

// explain adds what to do to a refusal.
func explain(err error, table string, exists bool) error {
	var api *APIError
	if !errors.As(err, &api) || api.Transient() {
		return err
	}
	switch {
	case api.Op == "PutTable" && !exists:
		return fmt.Errorf("table %s is not in the dataset and Power BI refused to add it (%w); push datasets cannot always gain tables: delete the dataset to have it re-created", table, err)
	case api.SchemaError():
		return fmt.Errorf("table %s stopped: Power BI refused it as not matching the dataset's table (%w); check the feed definition, or clear its stored schema hash so the next run PUTs the schema", table, err)
	case api.Status == 401 || api.Status == 403:
		return fmt.Errorf("table %s stopped: not authorised (%w); the identity needs Dataset.ReadWrite.All and membership of the workspace", table, err)
	}
	return fmt.Errorf("table %s stopped: %w", table, err)
}
