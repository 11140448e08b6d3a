// Package contracts is the contract register's domain: the Contract type and
// its validation (from JSON or CSV), ISO 8601 periods with correct month-end
// arithmetic, milestone computation (notice deadline, internal decision date,
// end or renewal date, rolling over automatic renewals), the alert ladder
// evaluation, and the Azure Tables repository.
//
// Everything that decides (Milestones, Evaluate, Validate, ParseCSV) is a pure
// function with table-driven tests; I/O is in register.go only.
package contracts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/ukdates"
)

// RenewalType says what happens at the end of a term.
type RenewalType string

// Renewal types.
const (
	RenewalNone        RenewalType = "none"
	RenewalAutomatic   RenewalType = "automatic"    // rolls over by RenewalTerm unless notice is given
	RenewalByAgreement RenewalType = "by-agreement" // ends unless both parties agree to renew
)

// Status is where a contract is in its life.
type Status string

// Statuses.
const (
	StatusActive  Status = "active"
	StatusInExit  Status = "in-exit"
	StatusRenewed Status = "renewed"
	StatusEnded   Status = "ended"
)

// Contract is one register entry. JSON names are the API's and the CSV
// import's column names.
type Contract struct {
	ID               string       `json:"id"`
	Title            string       `json:"title"`
	Supplier         string       `json:"supplier"`
	ServiceArea      string       `json:"serviceArea"`
	Owner            string       `json:"owner"`
	Route            string       `json:"route"`
	EscalationRoute  string       `json:"escalationRoute,omitempty"`
	StartDate        ukdates.Date `json:"startDate"`
	EndDate          ukdates.Date `json:"endDate"`
	NoticePeriod     Period       `json:"noticePeriod,omitzero"`
	InternalLeadTime Period       `json:"internalLeadTime,omitzero"`
	RenewalType      RenewalType  `json:"renewalType"`
	RenewalTerm      Period       `json:"renewalTerm,omitzero"`
	AnnualValue      float64      `json:"annualValue"`
	DBSRequired      bool         `json:"dbsRequired"`
	DBSConfirmedOn   ukdates.Date `json:"dbsConfirmedOn,omitzero"`
	Status           Status       `json:"status"`
	ExitPlanAgreedOn ukdates.Date `json:"exitPlanAgreedOn,omitzero"`
	// CloudAppID optionally links the cloud-app register entry the contract
	// covers, so the post-contract prompt can start its data-erasure check.
	CloudAppID string `json:"cloudAppId,omitempty"`
	Notes      string `json:"notes,omitempty"`
}

// DecisionRecorded reports whether an exit plan or a renewal decision is on
// record, which stops escalation.
func (c *Contract) DecisionRecorded() bool {
	return !c.ExitPlanAgreedOn.IsZero() || c.Status == StatusRenewed
}

// Field names, in CSV template order.
var FieldNames = []string{
	"id", "title", "supplier", "serviceArea", "owner", "route", "escalationRoute",
	"startDate", "endDate", "noticePeriod", "internalLeadTime", "renewalType", "renewalTerm",
	"annualValue", "dbsRequired", "dbsConfirmedOn", "status", "exitPlanAgreedOn", "cloudAppId", "notes",
}

// readOnlyFields may appear in a request body (a client sending back what it
// read) and are ignored.
var readOnlyFields = map[string]bool{"etag": true, "milestones": true, "deletedAt": true, "updatedAt": true}

// fieldError builds the error type funcapp.ValidationProblem reports.
func fieldError(field, format string, args ...any) error {
	return funcapp.FieldError{Field: field, Detail: fmt.Sprintf(format, args...)}
}

// value is one incoming field value: text from CSV or a JSON string, or a
// raw JSON number/boolean/null.
type value struct {
	text   string
	raw    json.RawMessage // JSON input; nil for CSV
	isNull bool
}

// Patch is a set of field values to apply to a contract: a JSON object (PUT
// and PATCH bodies) or a CSV row. A field set to null (JSON) or empty (CSV)
// is cleared.
type Patch struct {
	values map[string]value
	csv    bool
}

// Has reports whether the patch sets field.
func (p Patch) Has(field string) bool { _, ok := p.values[field]; return ok }

// ParsePatch decodes a JSON object body. Unknown fields, non-object bodies
// and malformed JSON are field errors.
func ParsePatch(body []byte) (Patch, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return Patch{}, fieldError("body", "a JSON object is required")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return Patch{}, fieldError("body", "malformed JSON at byte %d", syn.Offset)
		}
		return Patch{}, fieldError("body", "must be a JSON object")
	}
	p := Patch{values: map[string]value{}}
	var errs []error
	for k, raw := range m {
		if readOnlyFields[k] {
			continue
		}
		if k == "" {
			errs = append(errs, fieldError("body", "has a field with an empty name"))
			continue
		}
		if !slices.Contains(FieldNames, k) {
			errs = append(errs, fieldError(k, "is not a known field"))
			continue
		}
		v := value{raw: raw}
		switch {
		case string(raw) == "null":
			v.isNull = true
		case len(raw) > 0 && raw[0] == '"':
			_ = json.Unmarshal(raw, &v.text)
		}
		p.values[k] = v
	}
	return p, joinSorted(errs)
}

// Apply returns base with the patch's fields set. Every bad value is
// reported (as funcapp.FieldError values joined); the record as a whole is
// not checked: call Validate for that.
func (p Patch) Apply(base Contract) (Contract, error) {
	c := base
	var errs []error
	for _, name := range FieldNames {
		v, ok := p.values[name]
		if !ok {
			continue
		}
		if err := setField(&c, name, v, p.csv); err != nil {
			errs = append(errs, err)
		}
	}
	return c, errors.Join(errs...)
}

func setField(c *Contract, name string, v value, csv bool) error {
	empty := v.isNull || (csv && strings.TrimSpace(v.text) == "")
	isString := csv || (len(v.raw) > 0 && v.raw[0] == '"')
	str := func(dst *string, maxRunes int) error {
		switch {
		case empty:
			*dst = ""
		case !isString:
			return fieldError(name, "must be a string")
		case utf8.RuneCountInString(v.text) > maxRunes:
			return fieldError(name, "is longer than %d characters", maxRunes)
		default:
			*dst = strings.TrimSpace(v.text)
		}
		return nil
	}
	date := func(dst *ukdates.Date) error {
		switch {
		case empty:
			*dst = ukdates.Date{}
		case !isString:
			return fieldError(name, "must be a date string (YYYY-MM-DD)")
		default:
			d, err := parseDate(v.text, csv)
			if err != nil {
				return fieldError(name, "%v", err)
			}
			*dst = d
		}
		return nil
	}
	period := func(dst *Period) error {
		switch {
		case empty:
			*dst = Period{}
		case !isString:
			return fieldError(name, "must be an ISO 8601 period string such as P3M")
		default:
			q, err := ParsePeriod(v.text)
			if err != nil {
				return fieldError(name, "%q is %v", v.text, err)
			}
			*dst = q
		}
		return nil
	}
	switch name {
	case "id":
		return str(&c.ID, 64)
	case "title":
		return str(&c.Title, 200)
	case "supplier":
		return str(&c.Supplier, 200)
	case "serviceArea":
		return str(&c.ServiceArea, 100)
	case "owner":
		return str(&c.Owner, 254)
	case "route":
		return str(&c.Route, 100)
	case "escalationRoute":
		return str(&c.EscalationRoute, 100)
	case "cloudAppId":
		return str(&c.CloudAppID, 100)
	case "notes":
		return str(&c.Notes, 4000)
	case "startDate":
		return date(&c.StartDate)
	case "endDate":
		return date(&c.EndDate)
	case "dbsConfirmedOn":
		return date(&c.DBSConfirmedOn)
	case "exitPlanAgreedOn":
		return date(&c.ExitPlanAgreedOn)
	case "noticePeriod":
		return period(&c.NoticePeriod)
	case "internalLeadTime":
		return period(&c.InternalLeadTime)
	case "renewalTerm":
		return period(&c.RenewalTerm)
	case "renewalType":
		var s string
		if err := str(&s, 20); err != nil {
			return err
		}
		c.RenewalType = RenewalType(strings.ToLower(s))
	case "status":
		var s string
		if err := str(&s, 20); err != nil {
			return err
		}
		c.Status = Status(strings.ToLower(s))
	case "annualValue":
		switch {
		case empty:
			c.AnnualValue = 0
		case csv:
			s := strings.NewReplacer("£", "", ",", "").Replace(strings.TrimSpace(v.text))
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return fieldError(name, "%q is not an amount in pounds", v.text)
			}
			c.AnnualValue = f
		default:
			if err := json.Unmarshal(v.raw, &c.AnnualValue); err != nil {
				return fieldError(name, "must be a JSON number (pounds)")
			}
		}
	case "dbsRequired":
		switch {
		case empty:
			c.DBSRequired = false
		case csv:
			switch strings.ToLower(strings.TrimSpace(v.text)) {
			case "true", "yes", "y", "1":
				c.DBSRequired = true
			case "false", "no", "n", "0":
				c.DBSRequired = false
			default:
				return fieldError(name, "%q is not yes/no or true/false", v.text)
			}
		default:
			if err := json.Unmarshal(v.raw, &c.DBSRequired); err != nil {
				return fieldError(name, "must be a JSON boolean")
			}
		}
	}
	return nil
}

// parseDate reads an ISO date, and in CSV also the UK form dd/mm/yyyy.
func parseDate(s string, uk bool) (ukdates.Date, error) {
	s = strings.TrimSpace(s)
	if uk && strings.Count(s, "/") == 2 {
		t, err := time.Parse("2/1/2006", s)
		if err != nil {
			return ukdates.Date{}, fmt.Errorf("%q is not a real date (dd/mm/yyyy)", s)
		}
		return ukdates.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
	}
	d, err := ukdates.ParseDate(s)
	if err != nil {
		if uk {
			return d, fmt.Errorf("%q is not a date (use dd/mm/yyyy or YYYY-MM-DD)", s)
		}
		return d, fmt.Errorf("%q is not a date (use YYYY-MM-DD)", s)
	}
	return d, nil
}

var (
	idRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	routeRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// ValidID reports whether id can be a contract reference: 1-64 letters,
// digits, '.', '_' and '-', starting with a letter or digit (it becomes a
// table key and part of notification IDs).
func ValidID(id string) bool { return idRE.MatchString(id) }

// Normalize fills defaults: renewal type none, status active.
func (c *Contract) Normalize() {
	if c.RenewalType == "" {
		c.RenewalType = RenewalNone
	}
	if c.Status == "" {
		c.Status = StatusActive
	}
}

// Validate checks the whole record and reports every problem as a
// funcapp.FieldError, joined.
func (c *Contract) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) { errs = append(errs, fieldError(field, format, args...)) }
	if !ValidID(c.ID) {
		bad("id", "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	for _, f := range []struct {
		name, v string
	}{{"title", c.Title}, {"supplier", c.Supplier}, {"serviceArea", c.ServiceArea}} {
		if f.v == "" {
			bad(f.name, "is required")
		}
	}
	switch {
	case c.Owner == "":
		bad("owner", "is required (an email address)")
	case !emailRE.MatchString(c.Owner):
		bad("owner", "must be an email address")
	}
	switch {
	case c.Route == "":
		bad("route", "is required (the notification route of the service area's ICT champions)")
	case !routeRE.MatchString(c.Route):
		bad("route", "must be lower-case kebab case, such as ict-champions-housing")
	}
	if c.EscalationRoute != "" && !routeRE.MatchString(c.EscalationRoute) {
		bad("escalationRoute", "must be lower-case kebab case, such as tier2-housing")
	}
	if c.StartDate.IsZero() {
		bad("startDate", "is required")
	}
	if c.EndDate.IsZero() {
		bad("endDate", "is required")
	}
	if !c.StartDate.IsZero() && !c.EndDate.IsZero() && c.EndDate.Before(c.StartDate) {
		bad("endDate", "is before startDate")
	}
	switch c.RenewalType {
	case RenewalNone, RenewalByAgreement:
	case RenewalAutomatic:
		if c.RenewalTerm.IsZero() {
			bad("renewalTerm", "is required when renewalType is automatic (for example P1Y)")
		}
	default:
		bad("renewalType", "%q is not none, automatic or by-agreement", c.RenewalType)
	}
	switch c.Status {
	case StatusActive, StatusInExit, StatusRenewed, StatusEnded:
	default:
		bad("status", "%q is not active, in-exit, renewed or ended", c.Status)
	}
	switch {
	case math.IsNaN(c.AnnualValue) || math.IsInf(c.AnnualValue, 0):
		bad("annualValue", "must be a number")
	case c.AnnualValue < 0:
		bad("annualValue", "must not be negative")
	case c.AnnualValue > 1e12:
		bad("annualValue", "is implausibly large")
	case math.Abs(c.AnnualValue*100-math.Round(c.AnnualValue*100)) > 1e-6:
		bad("annualValue", "must be in pounds and pence (at most 2 decimal places)")
	}
	if !c.DBSConfirmedOn.IsZero() && !c.DBSRequired {
		bad("dbsConfirmedOn", "is set but dbsRequired is false")
	}
	if !c.NoticePeriod.IsZero() && !c.StartDate.IsZero() && !c.EndDate.IsZero() &&
		c.NoticePeriod.AddTo(c.EndDate, -1).Before(c.StartDate) && c.RenewalType != RenewalAutomatic {
		bad("noticePeriod", "is longer than the contract term")
	}
	return errors.Join(errs...)
}

func joinSorted(errs []error) error {
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}
