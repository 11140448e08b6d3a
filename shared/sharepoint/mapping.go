package sharepoint

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/store"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
	"github.com/council-ict/govkit/shared/ukdates"
)

var isoInstant = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$`)

// cellText is a column value as text. Date columns arrive from Graph as
// the UTC instant of the site's local midnight, so an instant becomes its
// UK date; numbers, booleans and multi-choice values become text. ok is
// false when the item has no value for the column.
func cellText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		s := strings.TrimSpace(x)
		if isoInstant.MatchString(s) {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return ukdates.LondonDate(t).String(), true
			}
		}
		return s, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := cellText(e); ok && s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "; "), true
	case map[string]any:
		for _, k := range []string{"LookupValue", "Label", "Email", "Value"} {
			if s, ok := x[k].(string); ok {
				return s, true
			}
		}
		return "", true
	default:
		return fmt.Sprint(x), true
	}
}

// columnErrors renames domain-field errors to the list's column names.
func columnErrors(l List, fes []funcapp.FieldError) *MappingError {
	out := make([]funcapp.FieldError, 0, len(fes))
	for _, fe := range fes {
		if col := l.Column(fe.Field); col != "" {
			fe.Field = col
		}
		out = append(out, fe)
	}
	return &MappingError{Fields: out}
}

func fieldErrors(err error) []funcapp.FieldError {
	var out []funcapp.FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe funcapp.FieldError
		if errors.As(err, &fe) {
			out = append(out, fe)
			return
		}
		out = append(out, funcapp.FieldError{Field: "item", Detail: err.Error()})
	}
	walk(err)
	return out
}

// ContractsApplier writes Contracts list items to the contract register.
// The item's columns become one row of the register's CSV import format,
// so the list gets exactly the import's parsing and validation (UK and ISO
// dates, £ amounts, yes/no); a valid row is upserted with the register's
// Import. An item identical to the register entry changes nothing.
type ContractsApplier struct{ Register *contracts.Register }

// Tables implements Applier.
func (a ContractsApplier) Tables() []string { return []string{a.Register.Table()} }

// Apply implements Applier.
func (a ContractsApplier) Apply(ctx context.Context, l List, it graph.ListItem, st *ItemState, _ func(context.Context) error) (bool, error) {
	c, err := ContractFromItem(l, it)
	if err != nil {
		return false, err
	}
	cur, err := a.Register.Get(ctx, c.ID)
	switch {
	case err == nil && cur.DeletedAt == "" && cur.Contract == c:
		st.Target = c.ID
		return false, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	if _, err := a.Register.Import(ctx, []contracts.Contract{c}); err != nil {
		return false, err
	}
	st.Target = c.ID
	return true, nil
}

// ContractFromItem maps a Contracts list item to a validated contract. A
// *MappingError names the list columns at fault.
func ContractFromItem(l List, it graph.ListItem) (contracts.Contract, error) {
	var header, row []string
	for _, f := range contracts.FieldNames {
		col := l.Column(f)
		if col == "" {
			continue
		}
		v, ok := cellText(it.Fields[col])
		if !ok && f != "id" {
			continue
		}
		header, row = append(header, f), append(row, v)
	}
	if l.Column("id") == "" {
		return contracts.Contract{}, &MappingError{Fields: []funcapp.FieldError{{Field: "id", Detail: "no column is mapped to the contract id"}}}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(header)
	_ = w.Write(row)
	w.Flush()
	cs, err := contracts.ParseCSV(buf.Bytes())
	var ie *contracts.ImportError
	if errors.As(err, &ie) {
		var fes []funcapp.FieldError
		for _, r := range ie.Rows {
			fes = append(fes, r.Errors...)
		}
		return contracts.Contract{}, columnErrors(l, fes)
	}
	if err != nil {
		return contracts.Contract{}, &MappingError{Fields: []funcapp.FieldError{{Field: "item", Detail: err.Error()}}}
	}
	if len(cs) != 1 {
		return contracts.Contract{}, &MappingError{Fields: []funcapp.FieldError{{Field: "item", Detail: "did not map to one contract"}}}
	}
	return cs[0], nil
}

// SubjectRequestsApplier creates a subject request for each new Subject
// Requests list item (subjectrequests.FromListItem). The request id is
// reserved in the item's state before the create, so a retried or
// concurrent sync creates one request. Later edits of the item do not
// change the request: its intake is an immutable event; staff record
// changes as events through the SubjectRequests API.
type SubjectRequestsApplier struct {
	Service *sr.Service
	Items   *store.Table[ItemState]
	// Tables of the subject-request store.
	Names sr.TableNames
}

// Tables implements Applier.
func (a SubjectRequestsApplier) Tables() []string {
	n := a.Names
	return []string{n.Requests, n.People, n.Events, n.Idempotency, n.Counters}
}

// Apply implements Applier.
func (a SubjectRequestsApplier) Apply(ctx context.Context, l List, it graph.ListItem, st *ItemState, _ func(context.Context) error) (bool, error) {
	if st.Target != "" && st.Status == StatusApplied {
		return false, nil // created already; the intake does not change
	}
	cols := sr.ListColumns{Type: l.Column("type"), ReceivedOn: l.Column("receivedOn"), Channel: l.Column("channel"),
		ServiceArea: l.Column("serviceArea"), IDRequired: l.Column("idRequired"), RequesterRef: l.Column("requesterRef"),
		Name: l.Column("name"), Email: l.Column("email"), Phone: l.Column("phone"), Address: l.Column("address")}
	in, err := sr.FromListItem(sr.ListItem{ListID: l.ListID, ID: it.ID, Fields: it.Fields, CreatedByID: it.CreatedByID}, cols)
	if err != nil {
		return false, columnErrors(l, fieldErrors(err))
	}
	intake, person, err := in.Input.Validate(a.Service.Today())
	if err != nil {
		return false, columnErrors(l, fieldErrors(err))
	}
	if st.Target == "" {
		id, err := a.Service.NewID(ctx)
		if err != nil {
			return false, err
		}
		// Reserve the id: Insert, so a concurrent sync of the same item
		// takes the id this one reserved.
		st.Target, st.Status, st.UpdatedAt = id, StatusReserved, time.Now().UTC().Format(time.RFC3339)
		if _, err := a.Items.Insert(ctx, *st); errors.Is(err, store.ErrConflict) {
			rec, err := a.Items.Get(ctx, st.PartitionKey, st.RowKey)
			if err != nil {
				return false, err
			}
			*st = rec.Value
		} else if err != nil {
			return false, err
		}
	}
	keyHash := sr.KeyHash("sharepoint", "POST", "/sharepoint/"+l.Name, in.IdempotencyKey)
	if _, err := a.Service.Create(ctx, st.Target, intake, person, in.By, keyHash); err != nil {
		if store.IsTransient(err) {
			return false, err
		}
		return false, &MappingError{Fields: []funcapp.FieldError{{Field: "item", Detail: err.Error()}}}
	}
	return true, nil
}

// igChoiceFields are the IG fields with a fixed set of codes.
var igChoiceFields = map[string]bool{"dataLocation": true, "personalData": true, "agreementInPlace": true,
	"reviewStatus": true, "classification": true}

// CloudAppReviewsApplier writes the Cloud App Reviews list's IG columns to
// the register's IG record of the application (column appId). Only the
// mapped columns the item has are set (a JSON merge patch, validated by
// cloudapps.ApplyPatch); the harvested facts are never touched.
type CloudAppReviewsApplier struct {
	IGs *store.Table[cloudapps.IG]
	Now func() time.Time
}

// Tables implements Applier.
func (a CloudAppReviewsApplier) Tables() []string { return []string{a.IGs.Name()} }

// Apply implements Applier.
func (a CloudAppReviewsApplier) Apply(ctx context.Context, l List, it graph.ListItem, st *ItemState, _ func(context.Context) error) (bool, error) {
	appID, _ := cellText(it.Fields[l.Column("appId")])
	if appID == "" || store.ValidateKeys(cloudapps.PartitionIG, appID) != nil {
		return false, &MappingError{Fields: []funcapp.FieldError{{Field: l.Column("appId"), Detail: "must hold the application (client) id"}}}
	}
	patch := map[string]json.RawMessage{}
	for _, f := range cloudapps.IGFieldNames() {
		col := l.Column(f)
		if col == "" {
			continue
		}
		v, ok := cellText(it.Fields[col])
		if !ok {
			continue
		}
		if igChoiceFields[f] {
			// Choice labels ("In review", "UK") to the register's codes.
			v = strings.ToLower(strings.Join(strings.Fields(v), "-"))
		}
		raw := json.RawMessage("null")
		if v != "" {
			raw, _ = json.Marshal(v)
		}
		patch[f] = raw
	}
	if len(patch) == 0 {
		return false, nil
	}
	var cur *cloudapps.IG
	rec, err := a.IGs.Get(ctx, cloudapps.PartitionIG, appID)
	switch {
	case err == nil:
		cur = &rec.Value
	case !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	next := cloudapps.IG{PartitionKey: cloudapps.PartitionIG, RowKey: appID}
	if cur != nil {
		next = *cur
	}
	if err := cloudapps.ApplyPatch(&next, patch); err != nil {
		return false, columnErrors(l, fieldErrors(err))
	}
	st.Target = appID
	if cur != nil {
		before := *cur
		before.UpdatedAt, next.UpdatedAt = "", ""
		before.UpdatedBy, next.UpdatedBy = "", ""
		if before == next {
			return false, nil
		}
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	next.UpdatedAt = cloudapps.FormatTime(now())
	next.UpdatedBy = "sharepoint:" + l.Name
	if cur == nil {
		_, err = a.IGs.Insert(ctx, next)
	} else {
		_, err = a.IGs.Update(ctx, next, rec.ETag)
	}
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrPreconditionFailed) {
		return false, fmt.Errorf("sharepoint: IG record %s changed concurrently: %w", appID, err)
	}
	return err == nil, err
}
