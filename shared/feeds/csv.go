package feeds

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/council-ict/govkit/shared/powerbi"
)

// WriteCSV streams table t for in to w as RFC 4180 CSV: UTF-8, CRLF line
// ends, a header row of the column names, dates as YYYY-MM-DD, times as
// RFC 3339 UTC, booleans as true/false, absent values empty. Strings are
// written whole (the 4,000-character cut applies to the push only). It
// returns the number of data rows.
func WriteCSV(ctx context.Context, w io.Writer, t Table, in Input) (int, error) {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	rec := make([]string, len(t.Columns))
	rows := 0
	err := t.Rows(ctx, in, func(vals []any) error {
		if len(vals) != len(t.Columns) {
			return fmt.Errorf("table %s: a row has %d values for %d columns", t.Name, len(vals), len(t.Columns))
		}
		for i, c := range t.Columns {
			s, err := formatValue(c, vals[i])
			if err != nil {
				return fmt.Errorf("table %s column %s: %w", t.Name, c.Name, err)
			}
			rec[i] = s
		}
		rows++
		return cw.Write(rec)
	})
	if err != nil {
		return rows, err
	}
	cw.Flush()
	return rows, cw.Error()
}

func formatValue(c Column, v any) (string, error) {
	if v == nil {
		return "", nil
	}
	switch c.Type {
	case powerbi.Int64:
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case int:
			return strconv.Itoa(x), nil
		}
	case powerbi.Double:
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return "", nil
			}
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		}
	case powerbi.Boolean:
		if x, ok := v.(bool); ok {
			return strconv.FormatBool(x), nil
		}
	case powerbi.DateTime:
		if x, ok := v.(time.Time); ok {
			switch {
			case x.IsZero():
				return "", nil
			case c.Date:
				return x.Format(time.DateOnly), nil
			}
			return x.UTC().Format(time.RFC3339), nil
		}
	case powerbi.String:
		if x, ok := v.(string); ok {
			return x, nil
		}
	}
	return "", fmt.Errorf("a %T value for a %s column", v, c.Type)
}
