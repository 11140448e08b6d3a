package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// Record is an entity as read from a table, with the service's concurrency
// token and last-modified time.
type Record[T any] struct {
	// Value is the entity.
	Value T
	// ETag is the entity version, to pass to Update or Delete.
	ETag azcore.ETag
	// Timestamp is when the service last modified the entity.
	Timestamp time.Time
}

// Table is a typed repository over one table whose entities are T (see the
// package documentation for what T may contain). It is safe for concurrent
// use.
type Table[T any] struct {
	name   string
	client *aztables.Client
	codec  codec
}

// NewTable returns the repository for table name. It makes no call; create
// tables with Service.EnsureTables.
func NewTable[T any](svc *Service, name string) *Table[T] {
	return &Table[T]{name: name, client: svc.client.NewClient(name), codec: newCodec[T]()}
}

// Name returns the table name.
func (t *Table[T]) Name() string { return t.name }

func keysWhere(pk, rk string) string {
	return fmt.Sprintf("PartitionKey %q, RowKey %q", pk, rk)
}

// Get reads one entity. A missing entity is ErrNotFound.
func (t *Table[T]) Get(ctx context.Context, pk, rk string) (Record[T], error) {
	if err := ValidateKeys(pk, rk); err != nil {
		return Record[T]{}, wrap("get", t.name, "", err)
	}
	resp, err := t.client.GetEntity(ctx, pk, rk, nil)
	if err != nil {
		return Record[T]{}, wrap("get", t.name, keysWhere(pk, rk), err)
	}
	rec, err := decode[T](t.codec, resp.Value)
	if err != nil {
		return Record[T]{}, wrap("get", t.name, keysWhere(pk, rk), err)
	}
	if rec.ETag == "" {
		rec.ETag = resp.ETag
	}
	return rec, nil
}

// Insert adds v and returns its ETag. If the entity already exists the
// result is ErrConflict, which makes Insert the idempotent "create once".
func (t *Table[T]) Insert(ctx context.Context, v T) (azcore.ETag, error) {
	e, err := t.codec.encode(v)
	if err != nil {
		return "", wrap("insert", t.name, "", err)
	}
	resp, err := t.client.AddEntity(ctx, e.body, nil)
	if err != nil {
		return "", wrap("insert", t.name, keysWhere(e.pk, e.rk), err)
	}
	return resp.ETag, nil
}

// Upsert writes v whether or not it exists, replacing every property of an
// existing entity, and returns the new ETag.
func (t *Table[T]) Upsert(ctx context.Context, v T) (azcore.ETag, error) {
	e, err := t.codec.encode(v)
	if err != nil {
		return "", wrap("upsert", t.name, "", err)
	}
	resp, err := t.client.UpsertEntity(ctx, e.body, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
	if err != nil {
		return "", wrap("upsert", t.name, keysWhere(e.pk, e.rk), err)
	}
	return resp.ETag, nil
}

// Update replaces an existing entity with v, only if its current ETag is
// etag, and returns the new ETag. A stale etag is ErrPreconditionFailed; a
// missing entity is ErrNotFound. An empty etag means any version (the
// update still requires the entity to exist).
func (t *Table[T]) Update(ctx context.Context, v T, etag azcore.ETag) (azcore.ETag, error) {
	e, err := t.codec.encode(v)
	if err != nil {
		return "", wrap("update", t.name, "", err)
	}
	match := anyIfEmpty(etag)
	resp, err := t.client.UpdateEntity(ctx, e.body, &aztables.UpdateEntityOptions{IfMatch: &match, UpdateMode: aztables.UpdateModeReplace})
	if err != nil {
		return "", wrap("update", t.name, keysWhere(e.pk, e.rk), err)
	}
	return resp.ETag, nil
}

// Delete removes an entity. With an empty etag it deletes any version and a
// missing entity is not an error: the goal, "gone", is reached, so repeated
// runs are harmless. With an etag it deletes only that version: a stale etag
// is ErrPreconditionFailed and a missing entity is ErrNotFound.
func (t *Table[T]) Delete(ctx context.Context, pk, rk string, etag azcore.ETag) error {
	if err := ValidateKeys(pk, rk); err != nil {
		return wrap("delete", t.name, "", err)
	}
	match := anyIfEmpty(etag)
	if _, err := t.client.DeleteEntity(ctx, pk, rk, &aztables.DeleteEntityOptions{IfMatch: &match}); err != nil {
		e := wrap("delete", t.name, keysWhere(pk, rk), err)
		if etag == "" && errors.Is(e, ErrNotFound) {
			return nil
		}
		return e
	}
	return nil
}

func anyIfEmpty(etag azcore.ETag) azcore.ETag {
	if etag == "" {
		return azcore.ETagAny
	}
	return etag
}

// Query calls fn for each entity matching the OData filter (empty means
// every entity), one page (at most 1,000 entities) in memory at a time. It
// stops at the first error from fn and returns that error unchanged. Build
// filter with PartitionFilter and Quote.
func (t *Table[T]) Query(ctx context.Context, filter string, fn func(Record[T]) error) error {
	opts := &aztables.ListEntitiesOptions{}
	if filter != "" {
		opts.Filter = &filter
	}
	pager := t.client.NewListEntitiesPager(opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			// The filter may hold personal data, so it is not in the error.
			return wrap("query", t.name, "", err)
		}
		for _, raw := range page.Entities {
			rec, err := decode[T](t.codec, raw)
			if err != nil {
				return wrap("query", t.name, "", err)
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// Quote returns s as an OData string literal: in single quotes, with each
// single quote doubled. Use it for every value placed in a filter.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// PartitionFilter returns the filter selecting every entity in partition pk.
func PartitionFilter(pk string) string {
	return "PartitionKey eq " + Quote(pk)
}
