package powerbi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// DataType is a push-dataset column type.
type DataType string

// The column types the feeds use.
const (
	Int64    DataType = "Int64"
	Double   DataType = "Double"
	Boolean  DataType = "Boolean"
	DateTime DataType = "DateTime"
	String   DataType = "String"
)

// Valid reports whether t is one of the five supported types.
func (t DataType) Valid() bool {
	switch t {
	case Int64, Double, Boolean, DateTime, String:
		return true
	}
	return false
}

// Documented push-dataset limits.
const (
	MaxColumns     = 75
	MaxTables      = 75
	MaxRowsPerPost = 10000
	MaxStringChars = 4000
)

// Column is one column of a table schema, as the REST API spells it.
type Column struct {
	Name         string   `json:"name"`
	DataType     DataType `json:"dataType"`
	FormatString string   `json:"formatString,omitempty"`
}

// Table is a table schema: the body of PUT …/tables/{table} and an element of
// a create-dataset request.
type Table struct {
	Name    string   `json:"name"`
	Columns []Column `json:"columns"`
}

// ValidTableName reports whether name matches the API's table-name pattern:
// 1-100 characters; ASCII letters, digits, space, tab, CR, LF and # - @ ^ _ ~;
// any non-ASCII character.
func ValidTableName(name string) bool {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > 100 || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 0x80:
		case r >= '0' && r <= '9', r >= '@' && r <= 'Z', r >= 'a' && r <= 'z':
		case r == '\t', r == '\n', r == '\r', r == ' ', r == '#', r == '-', r == '^', r == '_', r == '~':
		default:
			return false
		}
	}
	return true
}

// Validate checks the schema against the API's rules and the push limits:
// a valid name, 1-75 columns, unique non-empty column names, supported
// types. Every problem is reported.
func (t Table) Validate() error {
	var errs []error
	if !ValidTableName(t.Name) {
		errs = append(errs, fmt.Errorf("table name %q is not allowed (1-100 letters, digits, space, # - @ ^ _ ~)", t.Name))
	}
	switch {
	case len(t.Columns) == 0:
		errs = append(errs, fmt.Errorf("table %s has no columns", t.Name))
	case len(t.Columns) > MaxColumns:
		errs = append(errs, fmt.Errorf("table %s has %d columns; push datasets allow at most %d", t.Name, len(t.Columns), MaxColumns))
	}
	seen := map[string]bool{}
	for i, c := range t.Columns {
		switch {
		case c.Name == "" || !utf8.ValidString(c.Name):
			errs = append(errs, fmt.Errorf("table %s column %d has no valid name", t.Name, i+1))
		case seen[c.Name]:
			errs = append(errs, fmt.Errorf("table %s has two columns named %s", t.Name, c.Name))
		}
		seen[c.Name] = true
		if !c.DataType.Valid() {
			errs = append(errs, fmt.Errorf("table %s column %s has unsupported type %q", t.Name, c.Name, c.DataType))
		}
	}
	return errors.Join(errs...)
}

// Hash identifies the schema: SHA-256 of its JSON encoding. A changed hash
// means the table must be PUT again.
func (t Table) Hash() string {
	b, _ := json.Marshal(t)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
