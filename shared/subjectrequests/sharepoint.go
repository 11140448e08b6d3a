package subjectrequests

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/ukdates"
)

// ListItem is a SharePoint list item as Graph returns it
// (GET /sites/{site}/lists/{list}/items/{id}?expand=fields): the item id,
// its fields by internal column name, and the creating user's Entra object id.
type ListItem struct {
	ListID string
	ID     string
	Fields map[string]any
	// CreatedByID is createdBy.user.id.
	CreatedByID string
}

// ListColumns names the list's internal column names. The zero value uses
// DefaultListColumns.
type ListColumns struct {
	Type, ReceivedOn, Channel, ServiceArea, IDRequired, RequesterRef string
	Name, Email, Phone, Address                                      string
}

// DefaultListColumns are the columns of the council's "Subject requests"
// intake list.
var DefaultListColumns = ListColumns{
	Type: "RequestType", ReceivedOn: "DateReceived", Channel: "Channel", ServiceArea: "ServiceArea",
	IDRequired: "IDRequired", RequesterRef: "RequesterRef",
	Name: "RequesterName", Email: "RequesterEmail", Phone: "RequesterPhone", Address: "RequesterAddress",
}

// Intake from SharePoint: the create body, who to record as the creator, and
// the idempotency key that makes a re-delivered item create one request.
type SharePointIntake struct {
	Input          CreateInput
	By             string
	IdempotencyKey string
}

// FromListItem maps a list item to a create request. Choice labels are
// matched leniently ("Subject access request" → access). Date-only columns
// arrive from Graph as UTC midnight of the site's local day
// ("2026-06-13T23:00:00Z" for 14 June in summer), so they are converted to
// the UK date. The result still goes through CreateInput.Validate; the
// error here names the column that could not be read.
func FromListItem(item ListItem, cols ListColumns) (SharePointIntake, error) {
	if cols == (ListColumns{}) {
		cols = DefaultListColumns
	}
	var errs []error
	str := func(col string) string {
		if col == "" {
			return ""
		}
		switch v := item.Fields[col].(type) {
		case string:
			return strings.TrimSpace(v)
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case nil:
			return ""
		default:
			return strings.TrimSpace(fmt.Sprint(v))
		}
	}
	in := CreateInput{Channel: string(ChannelSharePoint), ServiceArea: str(cols.ServiceArea), RequesterRef: str(cols.RequesterRef)}
	if in.RequesterRef == "" && item.ID != "" {
		in.RequesterRef = "SP-" + item.ID
	}
	if t, ok := matchType(str(cols.Type)); ok {
		in.Type = string(t)
	} else {
		errs = append(errs, fieldError(cols.Type, fmt.Sprintf("%q is not a request type (%s)", str(cols.Type), names(Types))))
	}
	if c := strings.ToLower(str(cols.Channel)); c != "" {
		c = strings.ReplaceAll(c, " ", "-")
		if c == "e-mail" {
			c = "email"
		}
		if oneOf(Channel(c), Channels) {
			in.Channel = c
		}
	}
	if raw := str(cols.ReceivedOn); raw != "" {
		d, err := listDate(raw)
		if err != nil {
			errs = append(errs, fieldError(cols.ReceivedOn, err.Error()))
		}
		in.ReceivedOn = d
	} else {
		errs = append(errs, fieldError(cols.ReceivedOn, "required"))
	}
	switch v := item.Fields[cols.IDRequired].(type) {
	case bool:
		in.IDRequired = v
	case string:
		in.IDRequired = strings.EqualFold(v, "yes") || strings.EqualFold(v, "true")
	}
	p := Person{Name: str(cols.Name), Email: str(cols.Email), Phone: str(cols.Phone), Address: str(cols.Address)}
	if !p.IsZero() {
		in.Person = &p
	}
	by := "sharepoint"
	if item.CreatedByID != "" {
		by = "sharepoint:" + item.CreatedByID
	}
	return SharePointIntake{Input: in, By: by, IdempotencyKey: "sharepoint:" + item.ListID + ":" + item.ID}, errors.Join(errs...)
}

func matchType(label string) (Type, bool) {
	l := strings.ToLower(label)
	for _, w := range []struct {
		word string
		t    Type
	}{{"portab", Portability}, {"rectif", Rectification}, {"correct", Rectification}, {"erasure", Erasure},
		{"delet", Erasure}, {"forgotten", Erasure}, {"restrict", Restriction}, {"object", Objection},
		{"access", Access}, {"sar", Access}, {"copy", Access}} {
		if strings.Contains(l, w.word) {
			return w.t, true
		}
	}
	return "", false
}

func listDate(raw string) (string, error) {
	if len(raw) == 10 {
		if d, err := ukdates.ParseDate(raw); err == nil {
			return d.String(), nil
		}
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a date", raw)
	}
	return ukdates.LondonDate(t).String(), nil
}
