package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/funcapp"
)

// App roles declared on the function app's Entra app registration
// (infra/scripts/create-app-registration.sh).
const (
	roleReader     = "Governance.Reader"       // read contracts and the cloud-app register
	roleContracts  = "Contracts.Editor"        // create and change contracts
	roleReviewer   = "CloudApps.Reviewer"      // edit IG fields and erasure evidence
	roleOfficer    = "SubjectRequests.Officer" // subject requests, the only role that sees personal details
	roleAutomation = "Automation"              // Power Automate / SharePoint flows
)

// AllRoles lists every app role.
var allRoles = []string{roleReader, roleContracts, roleReviewer, roleOfficer, roleAutomation}

// accessRules is THE table of who may call which HTTP route. A route not
// listed here answers 403; TestEveryHTTPRouteHasARule fails when a
// function.json method has no rule. README's access table is generated
// from it (make docs).
var accessRules = []funcapp.Rule{
	{Function: "Health", Method: "GET", Path: "health"}, // anonymous: probes
	// anonymous: SharePoint/Graph cannot sign in; the clientState secret is checked instead.
	{Function: "SharePointWebhook", Method: "POST", Path: "sharepoint/webhook"},

	{Function: "Contracts", Method: "GET", Path: "contracts", Roles: []string{roleReader, roleContracts, roleAutomation}},
	{Function: "Contracts", Method: "GET", Path: "contracts/{id}", Roles: []string{roleReader, roleContracts, roleAutomation}},
	{Function: "Contracts", Method: "PUT", Path: "contracts/{id}", Roles: []string{roleContracts, roleAutomation}},
	{Function: "Contracts", Method: "PATCH", Path: "contracts/{id}", Roles: []string{roleContracts, roleAutomation}},
	{Function: "Contracts", Method: "DELETE", Path: "contracts/{id}", Roles: []string{roleContracts}},
	{Function: "ContractsImport", Method: "POST", Path: "contracts:import", Roles: []string{roleContracts}},

	{Function: "CloudApps", Method: "GET", Path: "cloudapps", Roles: []string{roleReader, roleReviewer, roleAutomation}},
	{Function: "CloudApps", Method: "GET", Path: "cloudapps/{appId}", Roles: []string{roleReader, roleReviewer, roleAutomation}},
	{Function: "CloudApps", Method: "PATCH", Path: "cloudapps/{appId}", Roles: []string{roleReviewer, roleAutomation}},
	{Function: "CloudApps", Method: "PUT", Path: "cloudapps/{appId}/erasure-evidence", Roles: []string{roleReviewer}},
	{Function: "CloudApps", Method: "GET", Path: "cloudapps/{appId}/erasure", Roles: []string{roleReader, roleReviewer, roleAutomation}},

	// Personal details are returned only to officers (?include=person); the
	// handler enforces that part.
	{Function: "SubjectRequests", Method: "GET", Path: "subject-requests", Roles: []string{roleOfficer, roleAutomation}},
	{Function: "SubjectRequests", Method: "GET", Path: "subject-requests/{id}", Roles: []string{roleOfficer, roleAutomation}},
	{Function: "SubjectRequests", Method: "POST", Path: "subject-requests", Roles: []string{roleOfficer, roleAutomation}},
	{Function: "SubjectRequests", Method: "POST", Path: "subject-requests/{id}/events", Roles: []string{roleOfficer, roleAutomation}},
}

// loadAuth reads the access-control settings.
func loadAuth(l *config.Loader) funcapp.Auth {
	a := funcapp.Auth{Rules: accessRules}
	a.PlatformAuth = l.Bool("GOVKIT_PLATFORM_AUTH", false, "App Service authentication (Entra ID) is on, so the X-MS-CLIENT-PRINCIPAL header is trusted. Set true in Azure; when false the header is ignored.")
	dev := l.String("GOVKIT_DEV_PRINCIPAL", "", "Local runs only: the identity assumed for every API call, as objectId;Role1,Role2. Refused when GOVKIT_PLATFORM_AUTH is true.")
	if dev == "" {
		return a
	}
	if a.PlatformAuth {
		l.Fail("GOVKIT_DEV_PRINCIPAL", "must not be set when GOVKIT_PLATFORM_AUTH is true")
		return a
	}
	id, roles, _ := strings.Cut(dev, ";")
	p := &funcapp.Principal{ObjectID: strings.TrimSpace(id), Name: "local developer", Development: true}
	for _, r := range strings.Split(roles, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		if !slices.Contains(allRoles, r) {
			l.Fail("GOVKIT_DEV_PRINCIPAL", "unknown role %q (roles: %s)", r, strings.Join(allRoles, ", "))
		}
		p.Roles = append(p.Roles, r)
	}
	if p.ObjectID == "" {
		l.Fail("GOVKIT_DEV_PRINCIPAL", "needs an object id before the ';'")
	}
	a.Dev = p
	return a
}

// printAccess writes the access table as Markdown.
func printAccess(w io.Writer) {
	fmt.Fprintln(w, "| function | method | route | roles |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range accessRules {
		roles := "anonymous"
		if !r.Anonymous() {
			roles = strings.Join(r.Roles, ", ")
		}
		fmt.Fprintf(w, "| %s | %s | `/api/%s` | %s |\n", r.Function, r.Method, r.Path, roles)
	}
}
