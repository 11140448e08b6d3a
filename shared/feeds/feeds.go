// Package feeds defines, in one place, every table of the governance
// dashboards' feed: its columns (Power BI types) and the function that
// streams its rows from our tables. The same definitions produce the CSV
// snapshots (the durable path: RFC 4180, UTF-8, ISO dates, header row) and
// the Power BI push-dataset tables.
//
// No feed carries personal data: no names, emails, contact details,
// requester references, owners, reviewers or free-text notes. Subject
// requests are described by type, service area and dates only.
//
// Row functions read through small interfaces ([ContractSource],
// [SubjectRequestSource], [CloudAppSource], [ErasureCheckSource],
// [FeedRunSource]) so they can be tested with fixtures; [NewTableSources]
// gives the Azure Tables implementations.
package feeds

import (
	"context"
	"time"

	"github.com/council-ict/govkit/shared/powerbi"
	"github.com/council-ict/govkit/shared/ukdates"
)

// Column is one feed column.
type Column struct {
	Name string
	Type powerbi.DataType
	// Date marks a DateTime column holding calendar dates: the CSV writes
	// them as YYYY-MM-DD rather than a UTC timestamp.
	Date bool
}

// Emit receives one row: values in column order, of the Go type of each
// column's type (int64, float64, bool, time.Time, string) or nil. The slice
// may be reused after Emit returns.
type Emit func(values []any) error

// Input is what a row function reads: the sources and the run's time.
type Input struct {
	Sources
	// Now is the run's time; Today its date in London.
	Now   time.Time
	Today ukdates.Date
}

// NewInput returns the input for a run at now.
func NewInput(src Sources, now time.Time) Input {
	return Input{Sources: src, Now: now, Today: ukdates.LondonDate(now)}
}

// Table is one feed table.
type Table struct {
	Name        string
	Description string
	Columns     []Column
	// Rows streams the table's rows.
	Rows func(ctx context.Context, in Input, emit Emit) error
}

// Schema is the table as a Power BI push-dataset table.
func (t Table) Schema() powerbi.Table {
	s := powerbi.Table{Name: t.Name, Columns: make([]powerbi.Column, len(t.Columns))}
	for i, c := range t.Columns {
		s.Columns[i] = powerbi.Column{Name: c.Name, DataType: c.Type}
	}
	return s
}

// Source returns the table's rows for in as a Power BI row source.
func (t Table) Source(in Input) powerbi.RowSource {
	return func(ctx context.Context, emit func([]any) error) error {
		return t.Rows(ctx, in, Emit(emit))
	}
}

// date turns a calendar date into the time a DateTime column holds
// (midnight UTC), nil when zero.
func date(d ukdates.Date) any {
	if d.IsZero() {
		return nil
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// isoDate parses a stored YYYY-MM-DD (or RFC 3339) string; nil when empty
// or unreadable.
func isoDate(s string) any {
	d, ok := parseDay(s)
	if !ok {
		return nil
	}
	return date(d)
}

func parseDay(s string) (ukdates.Date, bool) {
	if len(s) >= 10 {
		if d, err := ukdates.ParseDate(s[:10]); err == nil {
			return d, true
		}
	}
	return ukdates.Date{}, false
}

// timestamp parses a stored RFC 3339 time; nil when empty or unreadable.
func timestamp(s string) any {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	return t.UTC()
}

// monthIndex counts months since year 0, for month arithmetic.
func monthIndex(d ukdates.Date) int { return d.Year*12 + int(d.Month) - 1 }

func monthOf(i int) ukdates.Date {
	return ukdates.Date{Year: i / 12, Month: time.Month(i%12 + 1), Day: 1}
}

// monthEnd is the last day of the month of index i.
func monthEnd(i int) ukdates.Date { return monthOf(i + 1).AddDays(-1) }
