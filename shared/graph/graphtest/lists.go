package graphtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/council-ict/govkit/shared/config"
)

// ListItem is a SharePoint list item in the list stand-in: its id, column
// values by internal name, and the creator's object id.
type ListItem struct {
	ID        string
	Fields    map[string]any
	CreatedBy string
}

type listEntry struct {
	item    ListItem
	version int
	deleted bool
}

type spList struct {
	order   []string
	entries map[string]*listEntry
}

// ListSub is a subscription held by the list stand-in.
type ListSub struct {
	ID, Resource, ChangeType, NotificationURL, ClientState string
	Expiration                                             time.Time
}

// Lists is a Graph stand-in for SharePoint lists: list-item delta with
// paging, delta links, deleted items, injected faults (Where "delta" or
// "subscriptions") and expired delta tokens (410 Gone), item writes
// (POST items, PATCH items/{id}/fields, DELETE items/{id}), plus
// /subscriptions (list, create, renew). NewLists serves it on its own
// port; the offline demo tenant (NewDemo) serves it beside the
// service principals. Point a graph.Client at BaseURL().
type Lists struct {
	// Server is nil when the lists are served by a demo Server.
	*httptest.Server
	base func() string
	// deliver: validate new subscriptions' loopback notification URLs and
	// post change notifications to them, as Graph does (the demo only).
	deliver bool
	client  *http.Client
	// epoch is this instance's mark in delta tokens and eTags: a token
	// from another instance (a restarted demo) is expired, as Graph
	// expires tokens it no longer knows.
	epoch    string
	mu       sync.Mutex
	lists    map[string]*spList // key site + "/" + list
	version  int
	expired  int
	pageSize int
	faults   []*Fault
	subs     map[string]*ListSub
	nextSub  int
	// DeltaRequests counts list-item delta pages served (faults included).
	deltaRequests int
}

// NewLists starts a list stand-in serving pages of at most pageSize items
// (default 200).
func NewLists(pageSize int) *Lists {
	l := newLists(pageSize)
	l.Server = httptest.NewServer(http.HandlerFunc(l.serve))
	return l
}

func newLists(pageSize int) *Lists {
	if pageSize <= 0 {
		pageSize = 200
	}
	return &Lists{lists: map[string]*spList{}, pageSize: pageSize, subs: map[string]*ListSub{},
		client: &http.Client{Timeout: 10 * time.Second}, epoch: strconv.FormatInt(time.Now().UnixNano()%1e9, 36)}
}

// BaseURL is the Graph service root of the stand-in.
func (l *Lists) BaseURL() string {
	if l.base != nil {
		return l.base()
	}
	return l.URL + "/v1.0"
}

// Put adds or changes an item (a new version, seen by the next delta).
func (l *Lists) Put(site, list string, it ListItem) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.putLocked(site, list, it)
}

func (l *Lists) putLocked(site, list string, it ListItem) {
	sl := l.list(site, list)
	l.version++
	if _, ok := sl.entries[it.ID]; !ok {
		sl.order = append(sl.order, it.ID)
	}
	fields := map[string]any{}
	for k, v := range it.Fields {
		fields[k] = v
	}
	it.Fields = fields
	sl.entries[it.ID] = &listEntry{item: it, version: l.version}
	l.notifyLocked(site, list)
}

// Delete removes an item (seen by the next delta as deleted).
func (l *Lists) Delete(site, list, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.list(site, list).entries[id]; ok {
		l.version++
		e.deleted, e.version = true, l.version
	}
}

// ExpireDeltaTokens makes every delta link issued so far answer 410 Gone.
func (l *Lists) ExpireDeltaTokens() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.version++
	l.expired = l.version
}

// Inject queues a fault ("delta", "subscriptions" or "" for any).
func (l *Lists) Inject(f Fault) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	l.faults = append(l.faults, &f)
}

// DeltaRequests is the number of delta requests served.
func (l *Lists) DeltaRequests() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.deltaRequests
}

// Subscriptions returns the subscriptions held.
func (l *Lists) Subscriptions() []ListSub {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]ListSub, 0, len(l.subs))
	for i := 1; i <= l.nextSub; i++ {
		if s, ok := l.subs[strconv.Itoa(i)]; ok {
			out = append(out, *s)
		}
	}
	return out
}

// AddSubscription stores s (its ID is assigned) and returns the ID.
func (l *Lists) AddSubscription(s ListSub) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nextSub++
	s.ID = strconv.Itoa(l.nextSub)
	l.subs[s.ID] = &s
	return s.ID
}

func (l *Lists) list(site, list string) *spList {
	k := site + "/" + list
	sl, ok := l.lists[k]
	if !ok {
		sl = &spList{entries: map[string]*listEntry{}}
		l.lists[k] = sl
	}
	return sl
}

// fault returns the fault hitting a request at where, if any (locked).
func (l *Lists) fault(where string) *Fault {
	return takeFault(&l.faults, func(f *Fault) bool { return f.Where == "" || f.Where == where })
}

func (l *Lists) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		writeJSON(w, 401, nil, errorBody(401, "InvalidAuthenticationToken", "Access token is empty."))
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1.0")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 6 && parts[0] == "sites" && parts[2] == "lists" && parts[4] == "items" &&
		(parts[5] == "delta" || parts[5] == "delta()"):
		l.serveDelta(w, r, parts[1], parts[3])
	case len(parts) >= 5 && parts[0] == "sites" && parts[2] == "lists" && parts[4] == "items":
		l.serveItemWrite(w, r, parts)
	case parts[0] == "subscriptions":
		l.serveSubscriptions(w, r, parts)
	default:
		writeJSON(w, 404, nil, errorBody(404, "itemNotFound", "The resource could not be found."))
	}
}

func (l *Lists) serveDelta(w http.ResponseWriter, r *http.Request, site, list string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deltaRequests++
	if f := l.fault("delta"); f != nil {
		writeJSON(w, f.Status, retryHeader(f), faultBody(f))
		return
	}
	q := r.URL.Query()
	from, snapshot, skip := 0, l.version, 0
	if t := q.Get("token"); t != "" {
		// token = "<epoch>.<from>.<snapshot>" (a deltaLink has from = snapshot).
		parts := strings.SplitN(t, ".", 3)
		if len(parts) == 3 {
			from, _ = strconv.Atoi(parts[1])
			snapshot, _ = strconv.Atoi(parts[2])
		}
		if len(parts) != 3 || parts[0] != l.epoch || snapshot < l.expired || snapshot > l.version {
			writeJSON(w, http.StatusGone, map[string]string{"Location": l.BaseURL() + "/sites/" + site + "/lists/" + list + "/items/delta"},
				errorBody(410, "resyncRequired", "Resync required. Replace any local items with the server's version (resyncChangesApplyDifferences)."))
			return
		}
		if from == snapshot { // a delta link: changes since then, up to now
			snapshot = l.version
		}
	}
	skip, _ = strconv.Atoi(q.Get("skip"))
	expand := strings.Contains(q.Get("$expand"), "fields") || q.Get("token") != ""
	sl := l.list(site, list)
	var changed []*listEntry
	for _, id := range sl.order {
		e := sl.entries[id]
		if e.version > snapshot || e.version <= from {
			continue
		}
		if from == 0 && e.deleted {
			continue
		}
		changed = append(changed, e)
	}
	end := min(skip+l.pageSize, len(changed))
	if skip > len(changed) {
		skip = end
	}
	vals := make([]map[string]any, 0, end-skip)
	for _, e := range changed[skip:end] {
		v := map[string]any{"id": e.item.ID, "eTag": fmt.Sprintf("\"%s,%s.%d\"", e.item.ID, l.epoch, e.version)}
		if e.deleted {
			v["deleted"] = map[string]string{"state": "deleted"}
		} else {
			v["lastModifiedDateTime"] = time.Date(2026, 1, 1, 0, 0, e.version, 0, time.UTC).Format(time.RFC3339)
			v["createdBy"] = map[string]any{"user": map[string]string{"id": e.item.CreatedBy}}
			if expand {
				f := map[string]any{"id": e.item.ID}
				for k, x := range e.item.Fields {
					f[k] = x
				}
				v["fields"] = f
			}
		}
		vals = append(vals, v)
	}
	base := l.BaseURL() + "/sites/" + site + "/lists/" + list + "/items/delta?$expand=fields&"
	body := map[string]any{"value": vals}
	if end < len(changed) {
		body["@odata.nextLink"] = fmt.Sprintf("%stoken=%s.%d.%d&skip=%d", base, l.epoch, from, snapshot, end)
	} else {
		body["@odata.deltaLink"] = fmt.Sprintf("%stoken=%s.%d.%d", base, l.epoch, snapshot, snapshot)
	}
	writeJSON(w, 200, nil, body)
}

type subJSON struct {
	ID                 string    `json:"id,omitempty"`
	Resource           string    `json:"resource,omitempty"`
	ChangeType         string    `json:"changeType,omitempty"`
	NotificationURL    string    `json:"notificationUrl,omitempty"`
	ClientState        *string   `json:"clientState"`
	ExpirationDateTime time.Time `json:"expirationDateTime"`
}

func (l *Lists) serveSubscriptions(w http.ResponseWriter, r *http.Request, parts []string) {
	var in subJSON
	if r.Method == http.MethodPost && len(parts) == 1 {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Resource == "" || in.NotificationURL == "" {
			writeJSON(w, 400, nil, errorBody(400, "InvalidRequest", "resource and notificationUrl are required"))
			return
		}
		if l.deliver {
			// Graph validates the endpoint before it creates the subscription.
			if err := l.validate(in.NotificationURL); err != nil {
				writeJSON(w, 400, nil, errorBody(400, "InvalidRequest",
					"Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."))
				return
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.fault("subscriptions"); f != nil {
		writeJSON(w, f.Status, retryHeader(f), faultBody(f))
		return
	}
	switch {
	case r.Method == http.MethodGet && len(parts) == 1:
		vals := []subJSON{}
		for i := 1; i <= l.nextSub; i++ {
			if s, ok := l.subs[strconv.Itoa(i)]; ok {
				// Graph does not return clientState when listing.
				vals = append(vals, subJSON{ID: s.ID, Resource: s.Resource, ChangeType: s.ChangeType,
					NotificationURL: s.NotificationURL, ExpirationDateTime: s.Expiration})
			}
		}
		writeJSON(w, 200, nil, map[string]any{"value": vals})
	case r.Method == http.MethodPost && len(parts) == 1:
		if max := time.Now().Add(42300 * time.Minute); in.ExpirationDateTime.After(max) {
			writeJSON(w, 400, nil, errorBody(400, "InvalidRequest", "Subscription expiration can only be 42300 minutes in the future."))
			return
		}
		l.nextSub++
		s := &ListSub{ID: strconv.Itoa(l.nextSub), Resource: in.Resource, ChangeType: in.ChangeType,
			NotificationURL: in.NotificationURL, Expiration: in.ExpirationDateTime}
		if in.ClientState != nil {
			s.ClientState = *in.ClientState
		}
		l.subs[s.ID] = s
		in.ID = s.ID
		writeJSON(w, 201, nil, in)
	case r.Method == http.MethodPatch && len(parts) == 2:
		s, ok := l.subs[parts[1]]
		if !ok {
			writeJSON(w, 404, nil, errorBody(404, "ResourceNotFound", "The object was not found."))
			return
		}
		var in subJSON
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeJSON(w, 400, nil, errorBody(400, "InvalidRequest", "bad body"))
			return
		}
		s.Expiration = in.ExpirationDateTime
		writeJSON(w, 200, nil, subJSON{ID: s.ID, Resource: s.Resource, ChangeType: s.ChangeType,
			NotificationURL: s.NotificationURL, ExpirationDateTime: s.Expiration})
	default:
		writeJSON(w, 405, nil, errorBody(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."))
	}
}

// serveItemWrite creates (POST items), changes (PATCH items/{id}/fields) or
// deletes (DELETE items/{id}) a list item, as a form would, and tells the
// list's subscribers.
func (l *Lists) serveItemWrite(w http.ResponseWriter, r *http.Request, parts []string) {
	site, list := parts[1], parts[3]
	var body map[string]any
	if r.Method != http.MethodDelete {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
			writeJSON(w, 400, nil, errorBody(400, "invalidRequest", "Invalid request body."))
			return
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sl := l.list(site, list)
	switch {
	case r.Method == http.MethodPost && len(parts) == 5:
		fields, _ := body["fields"].(map[string]any)
		if fields == nil {
			writeJSON(w, 400, nil, errorBody(400, "invalidRequest", "A listItem needs fields."))
			return
		}
		id := 0
		for _, k := range sl.order {
			if n, _ := strconv.Atoi(k); n > id {
				id = n
			}
		}
		it := ListItem{ID: strconv.Itoa(id + 1), Fields: fields, CreatedBy: DemoEditor}
		l.putLocked(site, list, it)
		writeJSON(w, 201, nil, map[string]any{"id": it.ID, "fields": it.Fields,
			"createdBy": map[string]any{"user": map[string]string{"id": it.CreatedBy}}})
	case r.Method == http.MethodPatch && len(parts) == 7 && parts[6] == "fields":
		e, ok := sl.entries[parts[5]]
		if !ok || e.deleted {
			writeJSON(w, 404, nil, errorBody(404, "itemNotFound", "The specified list item was not found."))
			return
		}
		it := e.item
		for k, v := range body {
			it.Fields[k] = v
		}
		l.putLocked(site, list, it)
		writeJSON(w, 200, nil, it.Fields)
	case r.Method == http.MethodDelete && len(parts) == 6:
		e, ok := sl.entries[parts[5]]
		if !ok || e.deleted {
			writeJSON(w, 404, nil, errorBody(404, "itemNotFound", "The specified list item was not found."))
			return
		}
		l.version++
		e.deleted, e.version = true, l.version
		l.notifyLocked(site, list)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, 405, nil, errorBody(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."))
	}
}

// DemoEditor is the object id recorded as the creator of items written
// through the stand-in.
const DemoEditor = "0d3e5a10-5e1f-4c3a-9a57-64f2a7d0e001"

// validate sends Graph's validation request to a notification URL: POST
// ?validationToken=… must answer 200 with the token as text/plain. Only
// loopback URLs are called; the stand-in never reaches outside.
func (l *Lists) validate(notificationURL string) error {
	u, err := url.Parse(notificationURL)
	if err != nil || !config.IsLoopback(u.Hostname()) {
		return fmt.Errorf("notification URL %q is not on loopback", notificationURL)
	}
	token := "Validation: Testing client application reachability for subscription Request-Id: " + strconv.FormatInt(time.Now().UnixNano(), 10)
	q := u.Query()
	q.Set("validationToken", token)
	u.RawQuery = q.Encode()
	resp, err := l.client.Post(u.String(), "text/plain; charset=utf-8", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 8192))
	if resp.StatusCode != http.StatusOK || string(got) != token {
		return fmt.Errorf("validation answered %d", resp.StatusCode)
	}
	return nil
}

// notifyLocked posts a change notification, in the background, to every
// subscription on the list (when delivery is on). l.mu is held.
func (l *Lists) notifyLocked(site, list string) {
	if !l.deliver {
		return
	}
	resource := "sites/" + site + "/lists/" + list
	for _, s := range l.subs {
		if !strings.EqualFold(strings.Trim(s.Resource, "/"), resource) || s.Expiration.Before(time.Now()) {
			continue
		}
		body, _ := json.Marshal(map[string]any{"value": []map[string]any{{
			"subscriptionId": s.ID, "subscriptionExpirationDateTime": s.Expiration, "clientState": s.ClientState,
			"changeType": "updated", "resource": s.Resource, "tenantId": CouncilTenant,
		}}})
		u, err := url.Parse(s.NotificationURL)
		if err != nil || !config.IsLoopback(u.Hostname()) {
			continue
		}
		go func() {
			resp, err := l.client.Post(u.String(), "application/json", bytes.NewReader(body))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		}()
	}
}
