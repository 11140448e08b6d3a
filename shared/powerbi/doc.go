// Package powerbi is a small client for Power BI push datasets (push
// semantic models): find or create a dataset by name in a workspace, update
// a table's schema when its definition changed, and replace a table's rows.
//
// It keeps within the documented push-dataset limits by pacing rather than
// failing (https://learn.microsoft.com/power-bi/developer/embedded/push-datasets-limitations):
//
//   - at most 10,000 rows per POST rows request (rows are chunked);
//   - at most 120 POST rows requests per minute per dataset, and 120 per hour
//     once the table being loaded holds 250,000 rows or more;
//   - at most 1,000,000 rows added per hour per dataset;
//   - at most 5 pending requests per dataset;
//   - at most 75 columns per table (checked before any request);
//   - string values of at most 4,000 characters (longer values are
//     truncated and counted in the report, never sent).
//
// Pacing is a reservation limiter over a sliding window, driven by an
// injectable [Clock], so tests and benchmarks run on virtual time. The
// window lives in the Client: one Client per process (a timer function runs
// as a singleton), and a 429 from the service is still honoured.
//
// Retries: 429 and 5xx (and transport errors) are retried honouring
// Retry-After (integer or fractional seconds, or an HTTP date), with a
// bounded number of attempts and a bounded wait, and never past the
// context's deadline. A POST whose connection failed after it was sent is
// not resent, since the service may have applied it ([ErrOutcomeUnknown]):
// a table load starts again from an emptied table, and dataset creation
// looks for the dataset first. Any other 4xx is an [*APIError] that stops
// the table it concerns; [Client.Sync] goes on with the other tables.
//
// Creation of new push datasets ends on 31 October 2027 (existing ones keep
// working); the CSV feed in shared/feeds is the durable path.
package powerbi
