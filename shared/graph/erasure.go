package graph

import (
	"context"
	"errors"
	"net/http"

	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipalswithappid"

	"github.com/council-ict/govkit/shared/cloudapps"
)

// AccessSelect is the $select of ServicePrincipalAccess: what the
// "access removed" erasure check needs.
var AccessSelect = []string{"id", "appId", "displayName", "accountEnabled", "passwordCredentials", "keyCredentials"}

// Access is what Entra ID says about an application's access after its
// service ended.
type Access struct {
	// Found is false when no service principal has the application id
	// (deleted, or never consented in this tenant).
	Found bool
	SP    cloudapps.ServicePrincipal
	// Children has the delegated grants and application role assignments
	// (not the owners).
	Children cloudapps.Children
}

// ServicePrincipalAccess reads the service principal of application appID
// (GET /servicePrincipals(appId='…'): accountEnabled and credentials), then
// its oauth2PermissionGrants and appRoleAssignments through $batch, paged.
// It needs Application.Read.All and DelegatedPermissionGrant.Read.All (the
// same as the harvest). A 404 is not an error: Found is false.
// Other failures (throttled past the policy, 403 for a missing permission,
// a spent budget) are returned as errors for the caller to record as
// "unknown", never as passed.
func (c *Client) ServicePrincipalAccess(ctx context.Context, appID string) (Access, error) {
	v, err := c.sdk.ServicePrincipalsWithAppId(&appID).Get(ctx, &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipalswithappid.ServicePrincipalsWithAppIdRequestBuilderGetQueryParameters{Select: AccessSelect}})
	if err != nil {
		err = convert(err)
		var ge *Error
		if errors.As(err, &ge) && ge.Status == http.StatusNotFound {
			return Access{}, nil
		}
		return Access{}, err
	}
	a := Access{Found: true, SP: toServicePrincipal(v)}
	if a.SP.ID == "" {
		return Access{}, errors.New("graph: service principal answer has no id")
	}
	out := &outcome{children: map[string]*cloudapps.Children{a.SP.ID: {}}}
	reqs := []subreq{{id: a.SP.ID, kind: kindAssignments}, {id: a.SP.ID, kind: kindGrants}}
	if err := c.runBatches(ctx, reqs, out); err != nil {
		return Access{}, err
	}
	a.Children = *out.children[a.SP.ID]
	if a.Children.Gone {
		// Deleted between the two requests.
		return Access{}, nil
	}
	return a, nil
}
