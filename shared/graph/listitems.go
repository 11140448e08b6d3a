package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/subscriptions"
)

// ListItem is one SharePoint list item from a list-item delta page: its
// id, version (eTag), column values by internal name, and who created it.
// A deleted item carries only its id and Deleted.
type ListItem struct {
	ID          string
	ETag        string
	Fields      map[string]any
	CreatedByID string
	Modified    time.Time
	Deleted     bool
}

// ListDeltaPage is one page of /sites/{site}/lists/{list}/items/delta.
// Exactly one of NextLink and DeltaLink is set.
type ListDeltaPage struct {
	Items     []ListItem
	NextLink  string
	DeltaLink string
}

// idPattern bounds site and list ids, which are put in the request path
// unescaped: a site id is "host,siteCollectionGuid,webGuid"; a list id a
// GUID (or a list title without spaces).
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.,_-]{0,300}$`)

// ValidSiteOrListID reports whether id can be used as a site or list id.
func ValidSiteOrListID(id string) bool { return idPattern.MatchString(id) }

// ListItemsDelta fetches one page of a list-item delta query: the first
// page of a full synchronisation (with fields expanded) when link is "",
// else the page at link (a nextLink or deltaLink from an earlier page).
// An expired link (410 Gone, resyncRequired) yields an error wrapping
// ErrResyncRequired; throttling is retried by the client's policy.
//
// The body is read raw through the SDK's request adapter (same
// authentication, transport and retry policy as every other request)
// because list fields are free-form column values the SDK's models would
// only hand back as untyped nodes.
func (c *Client) ListItemsDelta(ctx context.Context, site, list, link string) (ListDeltaPage, error) {
	if link == "" {
		if !ValidSiteOrListID(site) || !ValidSiteOrListID(list) {
			return ListDeltaPage{}, fmt.Errorf("graph: site %q or list %q is not a valid id", site, list)
		}
		link = strings.TrimRight(c.adapter.GetBaseUrl(), "/") + "/sites/" + site + "/lists/" + list + "/items/delta?$expand=fields"
	} else {
		var err error
		if link, err = c.rebase(link); err != nil {
			return ListDeltaPage{}, err
		}
	}
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return ListDeltaPage{}, fmt.Errorf("graph: delta link is not an absolute URL")
	}
	body, err := c.getRaw(ctx, u)
	if err != nil {
		return ListDeltaPage{}, err
	}
	return parseListDelta(body)
}

func (c *Client) getRaw(ctx context.Context, u *url.URL) ([]byte, error) {
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.GET
	ri.SetUri(*u)
	ri.Headers.Add("Accept", "application/json")
	ri.Headers.Add("Prefer", fmt.Sprintf("odata.maxpagesize=%d", ListPageSize))
	out, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", abstractions.ErrorMappings{
		"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue,
	})
	if err != nil {
		return nil, convert(err)
	}
	b, _ := out.([]byte)
	if len(b) == 0 {
		return nil, errors.New("graph: empty response body")
	}
	return b, nil
}

// ListPageSize is the page size asked of list-item delta queries.
const ListPageSize = 200

type rawListDelta struct {
	Value []struct {
		ID                   string          `json:"id"`
		ETag                 string          `json:"eTag"`
		LastModifiedDateTime time.Time       `json:"lastModifiedDateTime"`
		Deleted              json.RawMessage `json:"deleted"`
		Removed              json.RawMessage `json:"@removed"`
		Fields               map[string]any  `json:"fields"`
		CreatedBy            struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"createdBy"`
	} `json:"value"`
	NextLink  string `json:"@odata.nextLink"`
	DeltaLink string `json:"@odata.deltaLink"`
}

func parseListDelta(body []byte) (ListDeltaPage, error) {
	var raw rawListDelta
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return ListDeltaPage{}, fmt.Errorf("graph: list delta page: %w", err)
	}
	if raw.NextLink == "" && raw.DeltaLink == "" {
		return ListDeltaPage{}, errors.New("graph: delta page has neither @odata.nextLink nor @odata.deltaLink")
	}
	page := ListDeltaPage{NextLink: raw.NextLink, DeltaLink: raw.DeltaLink, Items: make([]ListItem, 0, len(raw.Value))}
	for _, v := range raw.Value {
		it := ListItem{ID: v.ID, ETag: v.ETag, Modified: v.LastModifiedDateTime, CreatedByID: v.CreatedBy.User.ID,
			Fields: normalizeFields(v.Fields)}
		it.Deleted = present(v.Deleted) || present(v.Removed)
		page.Items = append(page.Items, it)
	}
	return page, nil
}

func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// normalizeFields turns json.Number into float64, as encoding/json would,
// after decoding with UseNumber (which keeps large ids exact elsewhere).
func normalizeFields(in map[string]any) map[string]any {
	if in == nil {
		return map[string]any{}
	}
	for k, v := range in {
		if n, ok := v.(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				in[k] = f
			} else {
				in[k] = n.String()
			}
		}
	}
	return in
}

// Subscription is a Graph change-notification subscription.
type Subscription struct {
	ID              string
	Resource        string
	ChangeType      string
	NotificationURL string
	ClientState     string
	Expiration      time.Time
}

// Subscriptions lists the app's change-notification subscriptions.
func (c *Client) Subscriptions(ctx context.Context) ([]Subscription, error) {
	var out []Subscription
	resp, err := c.sdk.Subscriptions().Get(ctx, nil)
	for page := 0; ; page++ {
		if err != nil {
			return nil, convert(err)
		}
		for _, s := range resp.GetValue() {
			out = append(out, fromSubscription(s))
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" || page > 100 {
			return out, nil
		}
		resp, err = c.sdk.Subscriptions().WithUrl(next).Get(ctx, nil)
	}
}

// CreateSubscription creates s (ID ignored) and returns it as created.
func (c *Client) CreateSubscription(ctx context.Context, s Subscription) (Subscription, error) {
	m := models.NewSubscription()
	m.SetResource(&s.Resource)
	ct := s.ChangeType
	if ct == "" {
		ct = "updated"
	}
	m.SetChangeType(&ct)
	m.SetNotificationUrl(&s.NotificationURL)
	if s.ClientState != "" {
		m.SetClientState(&s.ClientState)
	}
	exp := s.Expiration.UTC()
	m.SetExpirationDateTime(&exp)
	got, err := c.sdk.Subscriptions().Post(ctx, m, nil)
	if err != nil {
		return Subscription{}, convert(err)
	}
	return fromSubscription(got), nil
}

// RenewSubscription moves subscription id's expiry to exp.
func (c *Client) RenewSubscription(ctx context.Context, id string, exp time.Time) (time.Time, error) {
	m := models.NewSubscription()
	e := exp.UTC()
	m.SetExpirationDateTime(&e)
	got, err := c.sdk.Subscriptions().BySubscriptionId(id).Patch(ctx, m, &subscriptions.SubscriptionItemRequestBuilderPatchRequestConfiguration{})
	if err != nil {
		return time.Time{}, convert(err)
	}
	if t := got.GetExpirationDateTime(); t != nil {
		return t.UTC(), nil
	}
	return e, nil
}

func fromSubscription(s models.Subscriptionable) Subscription {
	out := Subscription{ID: deref(s.GetId()), Resource: deref(s.GetResource()), ChangeType: deref(s.GetChangeType()),
		NotificationURL: deref(s.GetNotificationUrl()), ClientState: deref(s.GetClientState())}
	if t := s.GetExpirationDateTime(); t != nil {
		out.Expiration = t.UTC()
	}
	return out
}
