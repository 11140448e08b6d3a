// Package store is the typed layer over Azure Table Storage that every
// function uses. It hides the aztables SDK: callers get concrete types
// ([Service], [Table]) and a few sentinel errors ([ErrNotFound],
// [ErrConflict], [ErrPreconditionFailed], [ErrInvalidKey],
// [ErrInvalidEntity]) that they classify with errors.Is, plus [IsTransient]
// to decide whether a failure is worth a retry. No caller needs to import
// azcore to understand an error.
//
// # Entities
//
// An entity is a plain struct with JSON tags. It must have string fields
// encoded as "PartitionKey" and "RowKey"; both must be non-empty, at most
// 1 KiB, and free of the characters Azure Tables forbids in keys
// (/ \ # ? and control characters). Keys are checked before any call to
// the service. The service's "Timestamp" and "odata.etag" are returned in
// [Record], so T needs no fields for them (a T field tagged "Timestamp" is
// filled on read and ignored on write).
//
// Field types and how they are stored:
//
//   - string, bool: Edm.String, Edm.Boolean.
//   - int8/16/32, uint8/16, and int, uint, uint32 when the value fits:
//     Edm.Int32. A Go int outside the int32 range is rejected with
//     [ErrInvalidEntity]; use int64 for such values.
//   - int64, uint64 (and named types such as time.Duration): Edm.Int64, sent
//     as a decimal string with its "@odata.type" annotation and turned back
//     into a number on read. Filters compare Int64 with an L suffix:
//     "Count gt 5L".
//   - float32, float64: Edm.Double, always annotated so that whole numbers
//     are not silently stored as Int32.
//   - time.Time and dates: stored as RFC 3339 strings (Edm.String), the
//     team's convention. Filters on such strings compare lexicographically,
//     so store UTC values in one fixed-width layout when you filter on them.
//   - nil pointers are omitted (an absent property reads back as the zero
//     value). Nested objects, maps and slices are rejected with
//     [ErrInvalidEntity]: Azure Tables has no such type; encode them to a
//     string field yourself.
//
// Types with their own MarshalJSON or MarshalText are written exactly as they
// marshal, without annotation: time.Time and the aztables EDM types (such as
// aztables.EDMInt64) therefore arrive as Edm.String. Prefer plain int64.
//
// # Filters
//
// Build filters with [PartitionFilter] and [Quote]; never paste a value into
// a filter by hand.
package store
