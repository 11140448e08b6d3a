// Package sharepoint turns SharePoint list forms into register changes.
//
// A change notification (SharePoint list webhook or Graph change
// notification: both carry subscriptionId, clientState and resource, and
// nothing about what changed) is only a trigger. The webhook checks the
// clientState and enqueues the list's name to "sharepoint-changes"; the
// sync engine then reads what changed with Graph list-item delta from the
// list's stored delta link, maps each item to its domain (contracts,
// subject requests, cloud-app reviews) and stores the new delta link only
// after every item of the page set was applied. Delta is the truth, so
// duplicated, reordered or lost notifications are harmless; the nightly
// reconcile catches anything missed.
//
// Lists are configured by the setting SHAREPOINT_LISTS (see ParseLists);
// one shared secret, SHAREPOINT_CLIENT_STATE, is the clientState of every
// subscription the app creates (a per-list secret buys little: the
// notification names no item and the sync reads only configured lists).
package sharepoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/graph"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
)

// Kind is what a list holds, and so which domain its items go to.
type Kind string

// List kinds.
const (
	KindContracts       Kind = "contracts"
	KindSubjectRequests Kind = "subject-requests"
	KindCloudAppReviews Kind = "cloud-app-reviews"
)

// Kinds lists every kind.
var Kinds = []Kind{KindContracts, KindSubjectRequests, KindCloudAppReviews}

// List is one configured SharePoint list.
type List struct {
	// Name is the list's key in this app (lower-case kebab case): the
	// watermark and item-error partition, and what the queue carries.
	Name   string `json:"name"`
	Kind   Kind   `json:"kind"`
	SiteID string `json:"siteId"`
	ListID string `json:"listId"`
	// OwnerRoute is the notification route told about items that could
	// not be mapped.
	OwnerRoute string `json:"ownerRoute"`
	// Columns maps a domain field to the list's internal column name,
	// overriding DefaultColumns(Kind).
	Columns map[string]string `json:"columns,omitempty"`
}

// Resource is the Graph subscription resource of the list.
func (l List) Resource() string { return "sites/" + l.SiteID + "/lists/" + l.ListID }

// Column returns the internal column name of domain field f.
func (l List) Column(f string) string { return l.Columns[f] }

// DefaultColumns is the sample list schema of kind k: domain field →
// internal column name.
func DefaultColumns(k Kind) map[string]string {
	m := map[string]string{}
	switch k {
	case KindContracts:
		for _, f := range contracts.FieldNames {
			m[f] = pascal(f)
		}
		m["id"] = "ContractId"
		m["owner"] = "ContractOwner"
		m["route"] = "NotifyRoute"
		m["status"] = "ContractStatus"
		m["dbsRequired"] = "DBSRequired"
		m["dbsConfirmedOn"] = "DBSConfirmedOn"
	case KindSubjectRequests:
		c := sr.DefaultListColumns
		m = map[string]string{"type": c.Type, "receivedOn": c.ReceivedOn, "channel": c.Channel, "serviceArea": c.ServiceArea,
			"idRequired": c.IDRequired, "requesterRef": c.RequesterRef, "name": c.Name, "email": c.Email, "phone": c.Phone,
			"address": c.Address}
	case KindCloudAppReviews:
		m["appId"] = "AppId"
		for _, f := range cloudapps.IGFieldNames() {
			m[f] = pascal(f)
		}
		m["dpiaRef"] = "DPIARef"
		m["notes"] = "IGNotes"
	}
	return m
}

func pascal(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	columnRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)
)

// FieldError names the bad part of SHAREPOINT_LISTS, e.g. "[1].siteId".
type FieldError struct{ Field, Detail string }

func (e FieldError) Error() string { return e.Field + ": " + e.Detail }

// ParseLists reads the SHAREPOINT_LISTS setting: a JSON array of List.
// Empty means no lists. Every problem is returned, each naming its field;
// kind defaults its columns, which "columns" may override one by one.
func ParseLists(raw string) ([]List, []FieldError) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	var lists []List
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&lists); err != nil {
		return nil, []FieldError{{Field: "(json)", Detail: "must be a JSON array of {name, kind, siteId, listId, ownerRoute, columns}: " + err.Error()}}
	}
	var errs []FieldError
	names := map[string]bool{}
	ids := map[string]bool{}
	for i := range lists {
		l := &lists[i]
		at := func(f string) string { return fmt.Sprintf("[%d].%s", i, f) }
		bad := func(f, format string, args ...any) {
			errs = append(errs, FieldError{Field: at(f), Detail: fmt.Sprintf(format, args...)})
		}
		switch {
		case !nameRE.MatchString(l.Name) || len(l.Name) > 60:
			bad("name", "%q must be lower-case kebab case, at most 60 characters", l.Name)
		case names[l.Name]:
			bad("name", "%q is used twice", l.Name)
		}
		names[l.Name] = true
		defaults := DefaultColumns(l.Kind)
		if len(defaults) == 0 {
			bad("kind", "%q is not one of %s, %s, %s", l.Kind, KindContracts, KindSubjectRequests, KindCloudAppReviews)
		}
		if !graph.ValidSiteOrListID(l.SiteID) || strings.Count(l.SiteID, ",") != 2 {
			bad("siteId", "%q must be a Graph site id: hostname,site-collection-id,web-id", l.SiteID)
		}
		if !graph.ValidSiteOrListID(l.ListID) || strings.Contains(l.ListID, ",") {
			bad("listId", "%q must be the list's id (a GUID)", l.ListID)
		}
		key := strings.ToLower(l.SiteID + "/" + l.ListID)
		if ids[key] && l.ListID != "" {
			bad("listId", "the same list is configured twice")
		}
		ids[key] = true
		if !nameRE.MatchString(l.OwnerRoute) || len(l.OwnerRoute) > 100 {
			bad("ownerRoute", "%q must be a lower-case kebab-case notification route", l.OwnerRoute)
		}
		fields := make([]string, 0, len(l.Columns))
		for f := range l.Columns {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			col := l.Columns[f]
			if _, ok := defaults[f]; !ok && len(defaults) > 0 {
				bad("columns."+f, "is not a field of a %s list (fields: %s)", l.Kind, strings.Join(sortedKeys(defaults), ", "))
				continue
			}
			if col != "" && !columnRE.MatchString(col) {
				bad("columns."+f, "%q is not a SharePoint internal column name", col)
			}
		}
		merged := defaults
		for f, col := range l.Columns {
			merged[f] = col // "" switches a field off
		}
		l.Columns = merged
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return lists, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ByName finds a list by name.
func ByName(lists []List, name string) (List, bool) {
	for _, l := range lists {
		if l.Name == name {
			return l, true
		}
	}
	return List{}, false
}

// ByResource finds the list a notification's resource names: a bare list
// id (SharePoint webhooks) or a path ending in lists/{id} or lists('{id}')
// (Graph change notifications). Ids compare case-insensitively.
func ByResource(lists []List, resource string) (List, bool) {
	id := resourceListID(resource)
	if id == "" {
		return List{}, false
	}
	for _, l := range lists {
		if strings.EqualFold(l.ListID, id) {
			return l, true
		}
	}
	return List{}, false
}

func resourceListID(r string) string {
	r = strings.TrimSpace(strings.TrimRight(r, "/"))
	if i := strings.LastIndex(strings.ToLower(r), "lists("); i >= 0 {
		r = strings.Trim(r[i+len("lists("):], "')\"")
		return r
	}
	if i := strings.LastIndex(r, "/"); i >= 0 {
		r = r[i+1:]
	}
	return strings.Trim(r, "{}")
}
