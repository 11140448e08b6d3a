package contracts

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/council-ict/govkit/shared/funcapp"
)

// MaxImportRows bounds one CSV import.
const MaxImportRows = 20000

// RowError is every problem with one CSV row.
type RowError struct {
	// Line is the 1-based line of the file where the row starts (the
	// header is line 1).
	Line int `json:"line"`
	// ID is the row's id cell, when it has one.
	ID     string               `json:"id,omitempty"`
	Errors []funcapp.FieldError `json:"errors"`
}

// ImportError rejects a whole file: it lists every bad row.
type ImportError struct {
	Rows []RowError
}

func (e *ImportError) Error() string {
	lines := make([]string, 0, len(e.Rows))
	for _, r := range e.Rows {
		lines = append(lines, fmt.Sprint(r.Line))
	}
	return fmt.Sprintf("CSV import rejected: %d bad row(s) at line(s) %s", len(e.Rows), strings.Join(lines, ", "))
}

// ParseCSV parses a contracts CSV: a header row of field names (the API's
// JSON names, any order, case-insensitive; unknown columns are an error),
// UTF-8 with or without a byte-order mark, RFC 4180 quoting (fields may hold
// commas, quotes and line breaks), dates as dd/mm/yyyy or YYYY-MM-DD, yes/no
// or true/false for dbsRequired, amounts with an optional £ and thousands
// commas. Every row is validated as a PUT would be.
//
// It is all or nothing: any bad row (or a repeated id) makes it return no
// contracts and an *ImportError naming every bad row by line number.
func ParseCSV(data []byte) ([]Contract, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if !utf8.Valid(data) {
		return nil, &ImportError{Rows: []RowError{{Line: 1, Errors: []funcapp.FieldError{{Field: "file", Detail: "is not UTF-8 text (save it as CSV UTF-8)"}}}}}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // checked below, with a clearer message
	header, err := r.Read()
	if err == io.EOF {
		return nil, &ImportError{Rows: []RowError{{Line: 1, Errors: []funcapp.FieldError{{Field: "file", Detail: "is empty: a header row is required"}}}}}
	}
	if err != nil {
		return nil, &ImportError{Rows: []RowError{{Line: 1, Errors: []funcapp.FieldError{{Field: "header", Detail: csvDetail(err)}}}}}
	}
	cols := make([]string, len(header))
	var herrs []funcapp.FieldError
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		j := slices.IndexFunc(FieldNames, func(f string) bool { return strings.EqualFold(f, h) })
		switch {
		case h == "":
			herrs = append(herrs, funcapp.FieldError{Field: "header", Detail: fmt.Sprintf("column %d has no name", i+1)})
		case j < 0:
			herrs = append(herrs, funcapp.FieldError{Field: h, Detail: "is not a known column"})
		case seen[FieldNames[j]]:
			herrs = append(herrs, funcapp.FieldError{Field: h, Detail: "appears twice"})
		default:
			cols[i] = FieldNames[j]
			seen[FieldNames[j]] = true
		}
	}
	if !seen["id"] {
		herrs = append(herrs, funcapp.FieldError{Field: "id", Detail: "column is required"})
	}
	if len(herrs) > 0 {
		return nil, &ImportError{Rows: []RowError{{Line: 1, Errors: herrs}}}
	}

	var out []Contract
	var bad []RowError
	firstLine := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// FieldPos panics without a record: take the line from the error.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			line = max(line, 2)
			bad = append(bad, RowError{Line: line, Errors: []funcapp.FieldError{{Field: "row", Detail: csvDetail(err)}}})
			break // the reader cannot resynchronise reliably after a quoting error
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		line, _ := r.FieldPos(0)
		if len(out)+len(bad) >= MaxImportRows {
			bad = append(bad, RowError{Line: line, Errors: []funcapp.FieldError{{Field: "file", Detail: fmt.Sprintf("has more than %d rows: split it", MaxImportRows)}}})
			break
		}
		re := RowError{Line: line}
		if len(rec) != len(header) {
			re.Errors = append(re.Errors, funcapp.FieldError{Field: "row", Detail: fmt.Sprintf("has %d cells, the header has %d", len(rec), len(header))})
			bad = append(bad, re)
			continue
		}
		p := Patch{values: make(map[string]value, len(rec)), csv: true}
		for i, cell := range rec {
			p.values[cols[i]] = value{text: cell}
		}
		re.ID = strings.TrimSpace(p.values["id"].text)
		c, err := p.Apply(Contract{})
		collect(&re.Errors, err)
		if err == nil {
			c.Normalize()
			collect(&re.Errors, c.Validate())
		}
		if first, dup := firstLine[re.ID]; dup && re.ID != "" {
			re.Errors = append(re.Errors, funcapp.FieldError{Field: "id", Detail: fmt.Sprintf("repeats the id on line %d", first)})
		} else if re.ID != "" {
			firstLine[re.ID] = line
		}
		if len(re.Errors) > 0 {
			bad = append(bad, re)
			continue
		}
		out = append(out, c)
	}
	if len(bad) > 0 {
		return nil, &ImportError{Rows: bad}
	}
	if len(out) == 0 {
		return nil, &ImportError{Rows: []RowError{{Line: 2, Errors: []funcapp.FieldError{{Field: "file", Detail: "has no data rows"}}}}}
	}
	return out, nil
}

func collect(dst *[]funcapp.FieldError, err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			collect(dst, e)
		}
		return
	}
	var fe funcapp.FieldError
	if errors.As(err, &fe) {
		*dst = append(*dst, fe)
		return
	}
	*dst = append(*dst, funcapp.FieldError{Field: "row", Detail: err.Error()})
}

// csvDetail describes a csv error without repeating the line number.
func csvDetail(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
