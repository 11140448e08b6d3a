package graphtest

import (
	_ "embed"
	"encoding/json"
	"regexp"
	"strconv"
	"time"
)

// demoTenant is a few dozen realistic applications in Graph's wire format
// (shapes from the servicePrincipal, appRoleAssignment,
// oauth2PermissionGrant and owners reference payloads). Credential dates are
// "@N@": N days from the time the tenant is loaded.
//
//go:embed demo_tenant.json
var demoTenant []byte

var relDate = regexp.MustCompile(`"@(-?\d+)@"`)

// demoLists is the demo tenant's SharePoint site: a Contracts, a Subject
// Requests and a Cloud App Reviews list in the README's sample schema, one
// contract item deliberately broken. Dates are "@N@" as in demoTenant.
//
//go:embed demo_lists.json
var demoLists []byte

// relative replaces every "@N@" with the instant N days from now.
func relative(raw []byte, now time.Time) []byte {
	return relDate.ReplaceAllFunc(raw, func(m []byte) []byte {
		n, _ := strconv.Atoi(string(relDate.FindSubmatch(m)[1]))
		return []byte(strconv.Quote(now.AddDate(0, 0, n).UTC().Format(time.RFC3339)))
	})
}

// DemoList is one SharePoint list of the demo tenant: what SHAREPOINT_LISTS
// names it by, and its items.
type DemoList struct {
	Name, Kind, SiteID, ListID, OwnerRoute string
	Items                                  []ListItem
}

// DemoLists returns the demo tenant's SharePoint lists, dates relative to
// now.
func DemoLists(now time.Time) []DemoList {
	var doc struct {
		Site  string `json:"site"`
		Lists []struct {
			Name, Kind, ListID, OwnerRoute string
			Items                          []struct {
				ID     string         `json:"id"`
				Fields map[string]any `json:"fields"`
			}
		}
	}
	if err := json.Unmarshal(relative(demoLists, now), &doc); err != nil {
		panic("graphtest: demo lists: " + err.Error())
	}
	out := make([]DemoList, 0, len(doc.Lists))
	for _, l := range doc.Lists {
		d := DemoList{Name: l.Name, Kind: l.Kind, SiteID: doc.Site, ListID: l.ListID, OwnerRoute: l.OwnerRoute}
		for _, it := range l.Items {
			d.Items = append(d.Items, ListItem{ID: it.ID, Fields: it.Fields, CreatedBy: DemoEditor})
		}
		out = append(out, d)
	}
	return out
}

// Demo returns the offline demo tenant's applications, credential dates
// relative to now.
func Demo(now time.Time) []App {
	raw := relative(demoTenant, now)
	var t struct {
		Apps []App `json:"apps"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		panic("graphtest: demo tenant: " + err.Error())
	}
	return t.Apps
}

// DemoNewApp is the application the demo tenant gains after its first full
// synchronisation.
func DemoNewApp() App {
	return App{
		SP: SP{ID: "d0000000-0000-4000-8000-000000000001", AppID: "d1000000-0000-4000-8000-000000000001",
			DisplayName: "Sketchy PDF Converter", AppDisplayName: "Sketchy PDF Converter", ServicePrincipalType: "Application",
			AppOwnerOrganizationID: "d2000000-0000-4000-8000-000000000001", SignInAudience: "AzureADandPersonalMicrosoftAccount",
			AccountEnabled: true, Tags: []string{}, CreatedDateTime: time.Now().UTC().Format(time.RFC3339)},
		Grants: []Grant{{ID: "demo-new-grant", ClientID: "d0000000-0000-4000-8000-000000000001", ConsentType: "AllPrincipals",
			ResourceID: GraphResourceID, Scope: "openid profile Files.ReadWrite.All"}},
	}
}

// NewDemo starts the offline demo tenant on a loopback port. After the first
// full synchronisation completes it changes, as a real tenant would between
// nightly runs: one application added (DemoNewApp), one removed (Trello),
// and one permission granted (Mail.Read to Civica Pay), so that a second
// harvest shows an incremental delta. It also serves the SharePoint lists
// of DemoLists (delta, item writes, subscriptions); a subscription's
// loopback notification URL is validated and sent a change notification
// whenever an item changes, as Graph would.
func NewDemo(now time.Time) *Server {
	apps := Demo(now)
	s := NewUnstarted(Options{}, apps...)
	var trello, civica string
	for _, a := range apps {
		switch a.SP.DisplayName {
		case "Trello":
			trello = a.SP.ID
		case "Civica Pay":
			civica = a.SP.ID
		}
	}
	s.afterFullSync = func() {
		s.version++
		s.put(DemoNewApp(), s.version)
		s.version++
		s.over[trello] = &overlay{version: s.version}
		a, _ := s.lookup(civica)
		a.Assignments = append(a.Assignments, Assign(civica, "Mail.Read"))
		s.version++
		s.put(a, s.version)
	}
	s.lists = newLists(0)
	s.lists.base = s.BaseURL
	for _, l := range DemoLists(now) {
		for _, it := range l.Items {
			s.lists.Put(l.SiteID, l.ListID, it)
		}
	}
	s.lists.deliver = true
	s.Start()
	return s
}
