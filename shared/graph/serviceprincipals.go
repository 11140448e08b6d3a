package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"github.com/council-ict/govkit/shared/cloudapps"
)

// BatchSize is the most sub-requests Graph accepts in one JSON $batch.
const BatchSize = 20

// PageSize is the page size asked of the delta query (Graph's maximum for
// service principals).
const PageSize = 999

// ServicePrincipalSelect is the $select of the delta query: what the
// register needs and nothing else.
var ServicePrincipalSelect = []string{
	"id", "appId", "displayName", "appDisplayName", "servicePrincipalType", "appOwnerOrganizationId",
	"verifiedPublisher", "signInAudience", "accountEnabled", "tags", "notes", "homepage", "info",
	"passwordCredentials", "keyCredentials", "createdDateTime",
}

// DeltaPage is one page of a service principal delta query. Exactly one of
// NextLink and DeltaLink is set.
type DeltaPage struct {
	Items     []cloudapps.ServicePrincipal
	NextLink  string
	DeltaLink string
}

func preferPageSize() *abstractions.RequestHeaders {
	h := abstractions.NewRequestHeaders()
	h.Add("Prefer", fmt.Sprintf("odata.maxpagesize=%d", PageSize))
	return h
}

// ServicePrincipalsDelta fetches one page of /servicePrincipals/delta: the
// first page of a full synchronisation when link is "", else the page at
// link (a nextLink or deltaLink from an earlier page). An expired link
// yields an error wrapping ErrResyncRequired.
func (c *Client) ServicePrincipalsDelta(ctx context.Context, link string) (DeltaPage, error) {
	var (
		resp serviceprincipals.DeltaGetResponseable
		err  error
	)
	if link == "" {
		resp, err = c.sdk.ServicePrincipals().Delta().GetAsDeltaGetResponse(ctx, &serviceprincipals.DeltaRequestBuilderGetRequestConfiguration{
			Headers:         preferPageSize(),
			QueryParameters: &serviceprincipals.DeltaRequestBuilderGetQueryParameters{Select: ServicePrincipalSelect},
		})
	} else {
		if link, err = c.rebase(link); err != nil {
			return DeltaPage{}, err
		}
		resp, err = c.sdk.ServicePrincipals().Delta().WithUrl(link).GetAsDeltaGetResponse(ctx,
			&serviceprincipals.DeltaRequestBuilderGetRequestConfiguration{Headers: preferPageSize()})
	}
	if err != nil {
		return DeltaPage{}, convert(err)
	}
	page := DeltaPage{NextLink: deref(resp.GetOdataNextLink()), DeltaLink: deref(resp.GetOdataDeltaLink())}
	if page.NextLink == "" && page.DeltaLink == "" {
		return DeltaPage{}, errors.New("graph: delta page has neither @odata.nextLink nor @odata.deltaLink")
	}
	vals := resp.GetValue()
	page.Items = make([]cloudapps.ServicePrincipal, 0, len(vals))
	for _, v := range vals {
		page.Items = append(page.Items, toServicePrincipal(v))
	}
	return page, nil
}

func toServicePrincipal(v models.ServicePrincipalable) cloudapps.ServicePrincipal {
	sp := cloudapps.ServicePrincipal{
		ID: deref(v.GetId()), AppID: deref(v.GetAppId()), DisplayName: deref(v.GetDisplayName()),
		AppDisplayName: deref(v.GetAppDisplayName()), Type: deref(v.GetServicePrincipalType()),
		SignInAudience: deref(v.GetSignInAudience()), AccountEnabled: deref(v.GetAccountEnabled()),
		Tags: v.GetTags(), Notes: deref(v.GetNotes()), Homepage: deref(v.GetHomepage()),
	}
	if u := v.GetAppOwnerOrganizationId(); u != nil {
		sp.AppOwnerOrganizationID = u.String()
	}
	if vp := v.GetVerifiedPublisher(); vp != nil {
		sp.VerifiedPublisher = deref(vp.GetDisplayName())
		sp.VerifiedPublisherID = deref(vp.GetVerifiedPublisherId())
	}
	if info := v.GetInfo(); info != nil {
		sp.MarketingURL = deref(info.GetMarketingUrl())
		sp.PrivacyURL = deref(info.GetPrivacyStatementUrl())
		sp.SupportURL = deref(info.GetSupportUrl())
		sp.TermsURL = deref(info.GetTermsOfServiceUrl())
	}
	for _, p := range v.GetPasswordCredentials() {
		cr := cloudapps.Credential{Kind: cloudapps.CredentialPassword}
		if id := p.GetKeyId(); id != nil {
			cr.KeyID = id.String()
		}
		if t := p.GetStartDateTime(); t != nil {
			cr.Start = t.UTC()
		}
		if t := p.GetEndDateTime(); t != nil {
			cr.End = t.UTC()
		}
		sp.Credentials = append(sp.Credentials, cr)
	}
	for _, k := range v.GetKeyCredentials() {
		cr := cloudapps.Credential{Kind: cloudapps.CredentialCertificate}
		if id := k.GetKeyId(); id != nil {
			cr.KeyID = id.String()
		}
		if t := k.GetStartDateTime(); t != nil {
			cr.Start = t.UTC()
		}
		if t := k.GetEndDateTime(); t != nil {
			cr.End = t.UTC()
		}
		sp.Credentials = append(sp.Credentials, cr)
	}
	extra := v.GetAdditionalData()
	if s, ok := extra["createdDateTime"].(*string); ok && s != nil {
		sp.CreatedAt, _ = time.Parse(time.RFC3339, *s)
	}
	if r, ok := extra["@removed"]; ok && r != nil {
		sp.Removed = true
		sp.RemovedReason = removedReason(r)
	}
	return sp
}

// removedReason digs the reason out of an "@removed" annotation, whatever
// shape the JSON parse node gave it.
func removedReason(v any) string {
	switch r := v.(type) {
	case map[string]any:
		for k, x := range r {
			if k == "reason" {
				return removedReason(x)
			}
		}
	case *string:
		if r != nil {
			return *r
		}
	case string:
		return r
	case interface{ GetRawValue() (any, error) }:
		x, _ := r.GetRawValue()
		return removedReason(x)
	}
	return "deleted"
}

// child kinds of a sub-request.
type subKind int

const (
	kindAssignments subKind = iota
	kindGrants
	kindOwners
	kindResource
)

type subreq struct {
	id       string // service principal id
	kind     subKind
	next     string // a nextLink to follow instead of the first page
	attempts int
}

type outcome struct {
	mu        sync.Mutex
	children  map[string]*cloudapps.Children
	resources map[string]cloudapps.Resource
}

// Children fetches the application permissions, delegated grants and owners
// of each service principal through JSON $batch, 20 sub-requests a batch,
// following each sub-request's paging and retrying throttled sub-requests.
func (c *Client) Children(ctx context.Context, spIDs []string) (map[string]cloudapps.Children, error) {
	out := &outcome{children: make(map[string]*cloudapps.Children, len(spIDs))}
	reqs := make([]subreq, 0, 3*len(spIDs))
	for _, id := range spIDs {
		out.children[id] = &cloudapps.Children{}
		reqs = append(reqs, subreq{id: id, kind: kindAssignments}, subreq{id: id, kind: kindGrants}, subreq{id: id, kind: kindOwners})
	}
	if err := c.runBatches(ctx, reqs, out); err != nil {
		return nil, err
	}
	res := make(map[string]cloudapps.Children, len(out.children))
	for id, ch := range out.children {
		res[id] = *ch
	}
	return res, nil
}

// Resources fetches the resource service principals with these ids (their
// names and app roles), through $batch. Ids Graph no longer knows are
// left out.
func (c *Client) Resources(ctx context.Context, ids []string) (map[string]cloudapps.Resource, error) {
	out := &outcome{resources: make(map[string]cloudapps.Resource, len(ids))}
	reqs := make([]subreq, 0, len(ids))
	for _, id := range ids {
		reqs = append(reqs, subreq{id: id, kind: kindResource})
	}
	if err := c.runBatches(ctx, reqs, out); err != nil {
		return nil, err
	}
	return out.resources, nil
}

func (c *Client) requestInfo(ctx context.Context, r subreq) (*abstractions.RequestInformation, error) {
	item := c.sdk.ServicePrincipals().ByServicePrincipalId(r.id)
	top := int32(PageSize)
	switch r.kind {
	case kindAssignments:
		b := item.AppRoleAssignments()
		if r.next != "" {
			return b.WithUrl(r.next).ToGetRequestInformation(ctx, nil)
		}
		return b.ToGetRequestInformation(ctx, &serviceprincipals.ItemAppRoleAssignmentsRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ItemAppRoleAssignmentsRequestBuilderGetQueryParameters{
				Select: []string{"id", "appRoleId", "resourceId", "resourceDisplayName"}, Top: &top}})
	case kindGrants:
		b := item.Oauth2PermissionGrants()
		if r.next != "" {
			return b.WithUrl(r.next).ToGetRequestInformation(ctx, nil)
		}
		return b.ToGetRequestInformation(ctx, &serviceprincipals.ItemOauth2PermissionGrantsRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ItemOauth2PermissionGrantsRequestBuilderGetQueryParameters{Top: &top}})
	case kindOwners:
		b := item.Owners()
		if r.next != "" {
			return b.WithUrl(r.next).ToGetRequestInformation(ctx, nil)
		}
		return b.ToGetRequestInformation(ctx, &serviceprincipals.ItemOwnersRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ItemOwnersRequestBuilderGetQueryParameters{Select: []string{"id"}, Top: &top}})
	default:
		return item.ToGetRequestInformation(ctx, &serviceprincipals.ServicePrincipalItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ServicePrincipalItemRequestBuilderGetQueryParameters{Select: []string{"id", "appId", "displayName", "appRoles"}}})
	}
}

// runBatches sends reqs in batches of BatchSize, c.conc at a time, then
// sends again what was throttled (after the longest Retry-After asked) and
// the further pages of paged sub-requests, until nothing is left.
func (c *Client) runBatches(ctx context.Context, reqs []subreq, out *outcome) error {
	pol := c.tr.policy
	for len(reqs) > 0 {
		var (
			mu      sync.Mutex
			again   []subreq
			wait    time.Duration
			firstEr error
			wg      sync.WaitGroup
			sem     = make(chan struct{}, c.conc)
		)
		for start := 0; start < len(reqs); start += BatchSize {
			chunk := reqs[start:min(start+BatchSize, len(reqs))]
			sem <- struct{}{}
			mu.Lock()
			stop := firstEr != nil
			mu.Unlock()
			if stop {
				<-sem
				break
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				more, w, err := c.sendBatch(ctx, chunk, out)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstEr == nil {
					firstEr = err
				}
				again = append(again, more...)
				wait = max(wait, w)
			}()
		}
		wg.Wait()
		if firstEr != nil {
			return firstEr
		}
		for _, r := range again {
			if r.attempts >= pol.MaxAttempts {
				return fmt.Errorf("graph: a $batch sub-request was throttled %d times; giving up for this run", r.attempts)
			}
		}
		if wait > pol.MaxWait {
			return fmt.Errorf("graph: $batch sub-requests asked to wait %s, more than the %s allowed", wait, pol.MaxWait)
		}
		if wait > 0 {
			if err := c.tr.sleep(ctx, wait); err != nil {
				return err
			}
		}
		reqs = again
	}
	return nil
}

// sendBatch sends one $batch and records its results. It returns the
// sub-requests to send again (throttled ones, and next pages) and the
// longest wait a throttled sub-request asked for.
func (c *Client) sendBatch(ctx context.Context, chunk []subreq, out *outcome) ([]subreq, time.Duration, error) {
	br := msgraphgocore.NewBatchRequest(c.adapter)
	byID := make(map[string]subreq, len(chunk))
	for _, r := range chunk {
		ri, err := c.requestInfo(ctx, r)
		if err != nil {
			return nil, 0, err
		}
		item, err := br.AddBatchRequestStep(*ri)
		if err != nil {
			return nil, 0, err
		}
		byID[deref(item.GetId())] = r
	}
	c.stats.batchRequests.Add(1)
	c.stats.batchItems.Add(int64(len(chunk)))
	resp, err := br.Send(ctx, c.adapter)
	if err != nil {
		return nil, 0, convert(err)
	}
	var again []subreq
	var wait time.Duration
	seen := 0
	for _, item := range resp.GetResponses() {
		id := deref(item.GetId())
		r, ok := byID[id]
		if !ok {
			continue
		}
		seen++
		status := int(deref(item.GetStatus()))
		switch {
		case status >= 200 && status < 300:
			next, err := c.record(resp, id, r, out)
			if err != nil {
				return nil, 0, err
			}
			if next != "" {
				again = append(again, subreq{id: r.id, kind: r.kind, next: next})
			}
		case retryable(status) || status >= 500:
			c.stats.throttled.Add(1)
			r.attempts++
			again = append(again, r)
			wait = max(wait, c.tr.policy.wait(headerValue(item.GetHeaders(), "Retry-After"), r.attempts, c.tr.now()))
		case status == http.StatusNotFound:
			out.mu.Lock()
			if ch := out.children[r.id]; ch != nil {
				ch.Gone = true
			}
			out.mu.Unlock()
		default:
			code, msg := itemError(item.GetBody())
			return nil, 0, &Error{Status: status, Code: code, Message: msg}
		}
	}
	if seen != len(chunk) {
		return nil, 0, fmt.Errorf("graph: $batch answered %d of %d sub-requests", seen, len(chunk))
	}
	return again, wait, nil
}

func headerValue(h msgraphgocore.RequestHeader, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func itemError(body msgraphgocore.RequestBody) (code, msg string) {
	e, _ := body["error"].(map[string]any)
	return str(e["code"]), str(e["message"])
}

// str reads a string the batch model kept as string or *string.
func str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case *string:
		if s != nil {
			return *s
		}
	}
	return ""
}

// record parses a successful sub-response into out and returns its
// @odata.nextLink, if any.
func (c *Client) record(resp msgraphgocore.BatchResponse, id string, r subreq, out *outcome) (string, error) {
	switch r.kind {
	case kindAssignments:
		v, err := getByID[models.AppRoleAssignmentCollectionResponseable](resp, id, models.CreateAppRoleAssignmentCollectionResponseFromDiscriminatorValue)
		if err != nil {
			return "", err
		}
		out.mu.Lock()
		ch := out.children[r.id]
		for _, a := range v.GetValue() {
			x := cloudapps.AppRoleAssignment{ID: deref(a.GetId()), ResourceDisplayName: deref(a.GetResourceDisplayName())}
			if u := a.GetAppRoleId(); u != nil {
				x.AppRoleID = u.String()
			}
			if u := a.GetResourceId(); u != nil {
				x.ResourceID = u.String()
			}
			ch.AppRoleAssignments = append(ch.AppRoleAssignments, x)
		}
		out.mu.Unlock()
		return deref(v.GetOdataNextLink()), nil
	case kindGrants:
		v, err := getByID[models.OAuth2PermissionGrantCollectionResponseable](resp, id, models.CreateOAuth2PermissionGrantCollectionResponseFromDiscriminatorValue)
		if err != nil {
			return "", err
		}
		out.mu.Lock()
		ch := out.children[r.id]
		for _, g := range v.GetValue() {
			ch.Grants = append(ch.Grants, cloudapps.Grant{ID: deref(g.GetId()), ConsentType: deref(g.GetConsentType()),
				PrincipalID: deref(g.GetPrincipalId()), ResourceID: deref(g.GetResourceId()), Scope: deref(g.GetScope())})
		}
		out.mu.Unlock()
		return deref(v.GetOdataNextLink()), nil
	case kindOwners:
		v, err := getByID[models.DirectoryObjectCollectionResponseable](resp, id, models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue)
		if err != nil {
			return "", err
		}
		out.mu.Lock()
		ch := out.children[r.id]
		for _, o := range v.GetValue() {
			ch.Owners = append(ch.Owners, cloudapps.Owner{ID: deref(o.GetId()), Type: strings.TrimPrefix(deref(o.GetOdataType()), "#microsoft.graph.")})
		}
		out.mu.Unlock()
		return deref(v.GetOdataNextLink()), nil
	default:
		v, err := getByID[models.ServicePrincipalable](resp, id, models.CreateServicePrincipalFromDiscriminatorValue)
		if err != nil {
			return "", err
		}
		res := cloudapps.Resource{ID: deref(v.GetId()), AppID: deref(v.GetAppId()), DisplayName: deref(v.GetDisplayName()), Roles: map[string]string{}}
		for _, role := range v.GetAppRoles() {
			if u := role.GetId(); u != nil {
				res.Roles[u.String()] = deref(role.GetValue())
			}
		}
		out.mu.Lock()
		out.resources[r.id] = res
		out.mu.Unlock()
		return "", nil
	}
}

func getByID[T absser.Parsable](resp msgraphgocore.BatchResponse, id string, ctor absser.ParsableFactory) (T, error) {
	v, err := msgraphgocore.GetBatchResponseById[T](resp, id, ctor)
	if err != nil {
		return v, fmt.Errorf("graph: $batch sub-response %s: %w", id, convert(err))
	}
	return v, nil
}
