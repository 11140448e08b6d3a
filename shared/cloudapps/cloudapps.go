// Package cloudapps is the domain of the council's register of cloud
// applications: what Entra ID says about each application (harvested by
// CloudAppHarvest), what information governance says about it (edited
// through the CloudApps API), and the pure rules that classify an
// application and find what the IG Steering Group must be told.
//
// The package does no I/O and does not import the Graph SDK, so the
// functions that use it link neither.
package cloudapps

import "time"

// Service principal types, as Entra ID reports them.
const (
	TypeApplication     = "Application"
	TypeManagedIdentity = "ManagedIdentity"
	TypeLegacy          = "Legacy"
	TypeSocialIdp       = "SocialIdp"
)

// Sign-in audiences.
const (
	AudienceMyOrg            = "AzureADMyOrg"
	AudienceMultipleOrgs     = "AzureADMultipleOrgs"
	AudienceMultipleOrgsMSA  = "AzureADandPersonalMicrosoftAccount"
	AudiencePersonalAccounts = "PersonalMicrosoftAccount"
)

// ServicePrincipal is the part of an Entra ID service principal the register
// needs. A delta "@removed" entry has only ID and Removed set.
type ServicePrincipal struct {
	ID                     string
	AppID                  string
	DisplayName            string
	AppDisplayName         string
	Type                   string
	AppOwnerOrganizationID string
	PublisherName          string
	VerifiedPublisher      string
	VerifiedPublisherID    string
	SignInAudience         string
	AccountEnabled         bool
	Tags                   []string
	Notes                  string
	Homepage               string
	MarketingURL           string
	PrivacyURL             string
	SupportURL             string
	TermsURL               string
	CreatedAt              time.Time
	Credentials            []Credential
	// Removed is set for a delta entry marked "@removed"; RemovedReason is
	// "deleted" or "changed".
	Removed       bool
	RemovedReason string
}

// Credential kinds.
const (
	CredentialPassword    = "password"
	CredentialCertificate = "certificate"
)

// Credential is a client secret or certificate on a service principal. Only
// its id, kind and validity are kept, never the secret or key.
type Credential struct {
	KeyID string    `json:"keyId"`
	Kind  string    `json:"kind"`
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
}

// AppRoleAssignment is an application permission held by a service
// principal: app role AppRoleID of resource service principal ResourceID.
type AppRoleAssignment struct {
	ID                  string
	AppRoleID           string
	ResourceID          string
	ResourceDisplayName string
}

// Grant is a delegated permission grant (oauth2PermissionGrant).
type Grant struct {
	ID string
	// ConsentType is "AllPrincipals" (admin consent for the whole tenant)
	// or "Principal" (one user's consent).
	ConsentType string
	PrincipalID string
	ResourceID  string
	// Scope is the space-separated list of delegated permissions.
	Scope string
}

// Owner is a directory object that owns a service principal. Only its id
// and type are kept: owners' names are personal data.
type Owner struct {
	ID   string
	Type string
}

// Children are the relationships of one service principal fetched after it.
type Children struct {
	AppRoleAssignments []AppRoleAssignment
	Grants             []Grant
	Owners             []Owner
	// Gone is set when Graph answered 404 for the service principal: it was
	// deleted between the delta page and the children request.
	Gone bool
}

// Resource is a service principal that exposes permissions (Microsoft Graph,
// SharePoint, a line-of-business API), with its app roles by id.
type Resource struct {
	ID          string
	AppID       string
	DisplayName string
	// Roles maps app role id to its value, e.g. "Mail.Read".
	Roles map[string]string
}
