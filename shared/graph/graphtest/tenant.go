// Package graphtest is an httptest stand-in for the parts of Microsoft Graph
// the app uses, speaking Graph's wire format: /servicePrincipals/delta with
// @odata.nextLink, @odata.deltaLink and @removed; JSON $batch with a status
// per sub-request; the appRoleAssignments, oauth2PermissionGrants and owners
// of each service principal, paged; error bodies as Graph sends them; and
// injectable throttling (429 with Retry-After, 503, a 429 inside a batch)
// and expired delta state (410 Gone / syncStateNotFound).
//
// A tenant is a generated part (service principal i is a pure function of
// i, so 100,000 of them cost no memory) plus an overlay of added, changed
// and removed applications. The offline demo tenant (Demo) is a few dozen
// realistic applications from embedded JSON.
package graphtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// SP is a service principal in Graph's wire format.
type SP struct {
	ID                     string               `json:"id"`
	AppID                  string               `json:"appId"`
	DisplayName            string               `json:"displayName"`
	AppDisplayName         string               `json:"appDisplayName,omitempty"`
	ServicePrincipalType   string               `json:"servicePrincipalType"`
	AppOwnerOrganizationID string               `json:"appOwnerOrganizationId,omitempty"`
	SignInAudience         string               `json:"signInAudience,omitempty"`
	AccountEnabled         bool                 `json:"accountEnabled"`
	Tags                   []string             `json:"tags"`
	Notes                  *string              `json:"notes"`
	Homepage               *string              `json:"homepage"`
	Info                   Info                 `json:"info"`
	VerifiedPublisher      VerifiedPublisher    `json:"verifiedPublisher"`
	PasswordCredentials    []PasswordCredential `json:"passwordCredentials"`
	KeyCredentials         []KeyCredential      `json:"keyCredentials"`
	CreatedDateTime        string               `json:"createdDateTime,omitempty"`
	AppRoles               []AppRole            `json:"appRoles,omitempty"`
}

// Info is informationalUrl.
type Info struct {
	MarketingURL        *string `json:"marketingUrl"`
	PrivacyStatementURL *string `json:"privacyStatementUrl"`
	SupportURL          *string `json:"supportUrl"`
	TermsOfServiceURL   *string `json:"termsOfServiceUrl"`
}

// VerifiedPublisher is verifiedPublisher.
type VerifiedPublisher struct {
	DisplayName         *string `json:"displayName"`
	VerifiedPublisherID *string `json:"verifiedPublisherId"`
	AddedDateTime       *string `json:"addedDateTime"`
}

// PasswordCredential is passwordCredential (never with secretText).
type PasswordCredential struct {
	DisplayName   *string `json:"displayName"`
	EndDateTime   string  `json:"endDateTime"`
	Hint          *string `json:"hint"`
	KeyID         string  `json:"keyId"`
	StartDateTime string  `json:"startDateTime"`
}

// KeyCredential is keyCredential.
type KeyCredential struct {
	DisplayName   *string `json:"displayName"`
	EndDateTime   string  `json:"endDateTime"`
	KeyID         string  `json:"keyId"`
	StartDateTime string  `json:"startDateTime"`
	Type          string  `json:"type"`
	Usage         string  `json:"usage"`
}

// AppRole is appRole.
type AppRole struct {
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	Description        string   `json:"description"`
	DisplayName        string   `json:"displayName"`
	ID                 string   `json:"id"`
	IsEnabled          bool     `json:"isEnabled"`
	Value              string   `json:"value"`
}

// AppRoleAssignment is appRoleAssignment.
type AppRoleAssignment struct {
	ID                   string `json:"id"`
	CreatedDateTime      string `json:"createdDateTime,omitempty"`
	AppRoleID            string `json:"appRoleId"`
	PrincipalDisplayName string `json:"principalDisplayName,omitempty"`
	PrincipalID          string `json:"principalId"`
	PrincipalType        string `json:"principalType"`
	ResourceDisplayName  string `json:"resourceDisplayName"`
	ResourceID           string `json:"resourceId"`
}

// Grant is oauth2PermissionGrant.
type Grant struct {
	ID          string  `json:"id"`
	ClientID    string  `json:"clientId"`
	ConsentType string  `json:"consentType"`
	PrincipalID *string `json:"principalId"`
	ResourceID  string  `json:"resourceId"`
	Scope       string  `json:"scope"`
}

// Owner is a directory object owning a service principal.
type Owner struct {
	ODataType string `json:"@odata.type"`
	ID        string `json:"id"`
}

// App is a service principal and its relationships.
type App struct {
	SP          SP                  `json:"servicePrincipal"`
	Assignments []AppRoleAssignment `json:"appRoleAssignments,omitempty"`
	Grants      []Grant             `json:"oauth2PermissionGrants,omitempty"`
	Owners      []Owner             `json:"owners,omitempty"`
}

// Well-known ids of the stand-in tenant.
const (
	CouncilTenant    = "5b6c1e2a-7d3f-4c1a-9e8b-2a4f6d8c0b1e"
	MicrosoftTenant  = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
	GraphResourceID  = "a0000000-0000-4000-8000-000000000001"
	GraphAppID       = "00000003-0000-0000-c000-000000000000"
	SharePointResID  = "a0000000-0000-4000-8000-000000000002"
	SharePointAppID  = "00000003-0000-0ff1-ce00-000000000000"
	vendorTenantBase = "c0ffee00-0000-4000-8000-"
)

// RoleID is the stand-in's app role id for a permission name (a stable
// name-based id; real Graph ids differ, and the client resolves them from
// the resource's appRoles as it must in Entra).
func RoleID(name string) string {
	return uuid.NewMD5(uuid.NameSpaceOID, []byte("role:"+name)).String()
}

// GraphRoles are the permissions the stand-in's Microsoft Graph exposes.
var GraphRoles = []string{"User.Read.All", "Mail.Read", "Mail.Send", "Files.ReadWrite.All", "Directory.Read.All",
	"Directory.ReadWrite.All", "Group.Read.All", "Sites.FullControl.All", "Sites.Selected", "Calendars.Read",
	"RoleManagement.ReadWrite.Directory", "Application.Read.All", "AuditLog.Read.All", "Reports.Read.All"}

func resourceApp(id, appID, name string, roles []string) App {
	sp := SP{ID: id, AppID: appID, DisplayName: name, AppDisplayName: name, ServicePrincipalType: "Application",
		AppOwnerOrganizationID: MicrosoftTenant, SignInAudience: "AzureADMultipleOrgs", AccountEnabled: true,
		Tags: []string{}, CreatedDateTime: "2019-03-01T09:00:00Z"}
	for _, r := range roles {
		sp.AppRoles = append(sp.AppRoles, AppRole{AllowedMemberTypes: []string{"Application"}, DisplayName: r,
			Description: "Allows the app to " + r, ID: RoleID(r), IsEnabled: true, Value: r})
	}
	return App{SP: sp}
}

// Resources returns the resource service principals every stand-in tenant
// has: Microsoft Graph and SharePoint Online.
func Resources() []App {
	return []App{
		resourceApp(GraphResourceID, GraphAppID, "Microsoft Graph", GraphRoles),
		resourceApp(SharePointResID, SharePointAppID, "Office 365 SharePoint Online", []string{"Sites.FullControl.All", "Sites.Read.All"}),
	}
}

// GeneratedID is the service principal id of generated app i.
func GeneratedID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// GeneratedAppID is the application id of generated app i.
func GeneratedAppID(i int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", i) }

func generatedIndex(id string) (int, bool) {
	if !strings.HasPrefix(id, "00000000-0000-4000-8000-") {
		return 0, false
	}
	n, err := strconv.Atoi(id[len("00000000-0000-4000-8000-"):])
	return n, err == nil
}

func ptr[T any](v T) *T { return &v }

// Generate returns generated app i of a large tenant, deterministically:
// one in ten Microsoft, two council, one managed identity, the rest third
// party; some with high-privilege application permissions, tenant-wide
// delegated grants, expiring secrets or no owner. base anchors dates.
func Generate(i int, base time.Time) App {
	id := GeneratedID(i)
	sp := SP{ID: id, AppID: GeneratedAppID(i), DisplayName: fmt.Sprintf("Generated app %d", i),
		AppDisplayName: fmt.Sprintf("Generated app %d", i), ServicePrincipalType: "Application",
		SignInAudience: "AzureADMultipleOrgs", AccountEnabled: true, Tags: []string{"WindowsAzureActiveDirectoryIntegratedApp"},
		CreatedDateTime: base.AddDate(0, 0, -i%900).UTC().Format(time.RFC3339)}
	switch i % 10 {
	case 0:
		sp.AppOwnerOrganizationID = MicrosoftTenant
		sp.VerifiedPublisher = VerifiedPublisher{DisplayName: ptr("Microsoft Corporation"), VerifiedPublisherID: ptr("000000")}
	case 1, 2:
		sp.AppOwnerOrganizationID = CouncilTenant
		sp.SignInAudience = "AzureADMyOrg"
	case 3:
		sp.ServicePrincipalType = "ManagedIdentity"
		sp.AppOwnerOrganizationID = ""
		sp.SignInAudience = ""
	default:
		sp.AppOwnerOrganizationID = fmt.Sprintf("%s%012d", vendorTenantBase, i%97)
		if i%4 == 0 {
			sp.VerifiedPublisher = VerifiedPublisher{DisplayName: ptr(fmt.Sprintf("Vendor %d Ltd", i%97)), VerifiedPublisherID: ptr(fmt.Sprint(1000 + i%97))}
		}
	}
	if i%6 == 1 {
		sp.PasswordCredentials = []PasswordCredential{{KeyID: fmt.Sprintf("20000000-0000-4000-8000-%012d", i), DisplayName: ptr("client secret"),
			StartDateTime: base.AddDate(-1, 0, 0).UTC().Format(time.RFC3339), EndDateTime: base.AddDate(0, 0, 10+i%200).UTC().Format(time.RFC3339)}}
	}
	app := App{SP: sp}
	if i%10 != 0 && i%3 != 0 {
		app.Owners = []Owner{{ODataType: "#microsoft.graph.user", ID: fmt.Sprintf("30000000-0000-4000-8000-%012d", i%500)}}
	}
	if i%7 == 0 {
		app.Assignments = append(app.Assignments, assignment(id, i, 0, GraphResourceID, "Microsoft Graph", "Mail.Read"))
	}
	if i%11 == 0 {
		app.Assignments = append(app.Assignments, assignment(id, i, 1, GraphResourceID, "Microsoft Graph", "User.Read.All"))
	}
	if i%5 == 0 {
		app.Grants = append(app.Grants, Grant{ID: fmt.Sprintf("g%d-0", i), ClientID: id, ConsentType: "AllPrincipals",
			ResourceID: GraphResourceID, Scope: "openid profile User.Read"})
	}
	if i%17 == 0 {
		app.Grants = append(app.Grants, Grant{ID: fmt.Sprintf("g%d-1", i), ClientID: id, ConsentType: "AllPrincipals",
			ResourceID: GraphResourceID, Scope: "Files.ReadWrite.All"})
	}
	return app
}

func assignment(spID string, i, n int, resID, resName, role string) AppRoleAssignment {
	return AppRoleAssignment{ID: fmt.Sprintf("a%d-%d", i, n), AppRoleID: RoleID(role), PrincipalID: spID,
		PrincipalType: "ServicePrincipal", ResourceID: resID, ResourceDisplayName: resName,
		CreatedDateTime: "2024-01-01T00:00:00Z"}
}

// Assign returns an application permission assignment of role on Microsoft
// Graph to the service principal spID, for tests that change a tenant.
func Assign(spID, role string) AppRoleAssignment {
	return AppRoleAssignment{ID: "a-" + spID + "-" + role, AppRoleID: RoleID(role), PrincipalID: spID,
		PrincipalType: "ServicePrincipal", ResourceID: GraphResourceID, ResourceDisplayName: "Microsoft Graph"}
}
