package graphtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is an injected failure. Where says which requests it hits:
// "delta" (delta pages), "batch" (the $batch POST itself), "item" (a
// sub-request inside a batch), or "" for any top-level request.
type Fault struct {
	Where      string
	Status     int
	RetryAfter string // sent as the Retry-After header when set
	Code       string // error code in the body (default from the status)
	Times      int    // how many requests it hits (default 1)
	// After skips this many matching requests before the fault starts.
	After int
}

// Counts are what the stand-in served.
type Counts struct {
	DeltaPages, Batches, BatchItems, Other, Faults int
}

// Options tune a Server.
type Options struct {
	// PageSize caps delta pages (default 999; Prefer odata.maxpagesize may
	// ask for fewer).
	PageSize int
	// ChildPageSize caps pages of a service principal's relationships
	// (default 100).
	ChildPageSize int
	// Generated is the number of generated apps (see Generate).
	Generated int
	// Base anchors generated dates (default 2026-01-01).
	Base time.Time
}

type overlay struct {
	app     *App // nil when removed
	version int
}

// Server is the Graph stand-in. Its URL plus "/v1.0" is the Graph base URL.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	opts     Options
	over     map[string]*overlay
	order    []string // overlay ids not generated, in insertion order
	version  int
	expired  int // delta tokens below this version are expired
	goneCode int // status for expired state: 410 or 400
	faults   []*Fault
	counts   Counts
	lastPath string
	// afterFullSync, when set, runs once (locked) after the last page of
	// the first full synchronisation is served.
	afterFullSync func()
	// lists, when set, serves /sites/… and /subscriptions (the demo).
	lists *Lists
}

// Lists returns the SharePoint lists the server serves (the demo tenant's),
// or nil.
func (s *Server) Lists() *Lists { return s.lists }

// New starts a stand-in tenant with the resources, opts.Generated generated
// apps and the given extra apps.
func New(opts Options, apps ...App) *Server {
	s := NewUnstarted(opts, apps...)
	s.Start()
	return s
}

// NewUnstarted builds a stand-in without starting its listener.
func NewUnstarted(opts Options, apps ...App) *Server {
	if opts.PageSize <= 0 {
		opts.PageSize = 999
	}
	if opts.ChildPageSize <= 0 {
		opts.ChildPageSize = 100
	}
	if opts.Base.IsZero() {
		opts.Base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	s := &Server{opts: opts, over: map[string]*overlay{}, goneCode: http.StatusGone}
	for _, a := range Resources() {
		s.put(a, 0)
	}
	for _, a := range apps {
		s.put(a, 0)
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

// BaseURL is the Graph service root of the stand-in.
func (s *Server) BaseURL() string { return s.URL + "/v1.0" }

func (s *Server) put(a App, version int) {
	id := a.SP.ID
	if _, ok := s.over[id]; !ok {
		if _, gen := generatedIndex(id); !gen {
			s.order = append(s.order, id)
		}
	}
	cp := a
	s.over[id] = &overlay{app: &cp, version: version}
}

// Add adds (or replaces) an app as a change.
func (s *Server) Add(a App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	s.put(a, s.version)
}

// Update changes an app as a change.
func (s *Server) Update(id string, fn func(*App)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.lookup(id)
	if !ok {
		panic("graphtest: no app " + id)
	}
	fn(&a)
	s.version++
	s.put(a, s.version)
}

// Remove deletes an app as a change.
func (s *Server) Remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	if _, ok := s.over[id]; !ok {
		if _, gen := generatedIndex(id); !gen {
			s.order = append(s.order, id)
		}
	}
	s.over[id] = &overlay{version: s.version}
}

// ExpireDeltaTokens makes every delta link issued so far answer status
// (410 Gone, or 400 syncStateNotFound).
func (s *Server) ExpireDeltaTokens(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	s.expired = s.version
	s.goneCode = status
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Counts returns what was served so far.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// LastDeltaQuery returns the path and query of the last delta request.
func (s *Server) LastDeltaQuery() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPath
}

func (s *Server) lookup(id string) (App, bool) {
	if o, ok := s.over[id]; ok {
		if o.app == nil {
			return App{}, false
		}
		return *o.app, true
	}
	if i, ok := generatedIndex(id); ok && i < s.opts.Generated {
		return Generate(i, s.opts.Base), true
	}
	return App{}, false
}

// fault returns the fault hitting a request at where, if any (locked). A
// fault for any request ("") does not hit sub-requests of a batch.
func (s *Server) fault(where string) *Fault {
	f := takeFault(&s.faults, func(f *Fault) bool { return f.Where == where || f.Where == "" && where != "item" })
	if f != nil {
		s.counts.Faults++
	}
	return f
}

// takeFault returns the first fault of *faults that matches and has no
// requests left to skip (skipping one for each matching fault that has),
// spending one of its uses and dropping it when they are spent; nil when
// none hits.
func takeFault(faults *[]*Fault, matches func(*Fault) bool) *Fault {
	for i, f := range *faults {
		if !matches(f) {
			continue
		}
		if f.After > 0 {
			f.After--
			continue
		}
		f.Times--
		if f.Times <= 0 {
			*faults = append((*faults)[:i], (*faults)[i+1:]...)
		}
		return f
	}
	return nil
}

func errorBody(status int, code, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": "00000000-0000-0000-0000-000000000000"}}}
}

func faultBody(f *Fault) map[string]any {
	code := f.Code
	msg := http.StatusText(f.Status)
	switch {
	case code != "":
	case f.Status == http.StatusTooManyRequests:
		code, msg = "TooManyRequests", "Please retry again later."
	case f.Status == http.StatusServiceUnavailable:
		code = "serviceNotAvailable"
	case f.Status == http.StatusGatewayTimeout:
		code = "gatewayTimeout"
	default:
		code = "generalException"
	}
	return errorBody(f.Status, code, msg)
}

func writeJSON(w http.ResponseWriter, status int, headers map[string]string, v any) {
	for k, x := range headers {
		w.Header().Set(k, x)
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		writeJSON(w, 401, nil, errorBody(401, "InvalidAuthenticationToken", "Access token is empty."))
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1.0")
	if s.lists != nil && (strings.HasPrefix(path, "/sites/") || path == "/subscriptions" || strings.HasPrefix(path, "/subscriptions/")) {
		s.lists.serve(w, r)
		return
	}
	switch {
	case r.Method == http.MethodPost && path == "/$batch":
		s.serveBatch(w, r)
	case r.Method == http.MethodGet && (path == "/servicePrincipals/delta" || path == "/servicePrincipals/delta()"):
		s.serveDelta(w, r)
	case r.Method == http.MethodPatch:
		s.servePatch(w, r) // erasure.go
	case r.Method == http.MethodGet:
		s.mu.Lock()
		s.counts.Other++
		if f := s.fault(""); f != nil {
			s.mu.Unlock()
			writeJSON(w, f.Status, retryHeader(f), faultBody(f))
			return
		}
		status, body := s.resource(path, r.URL.Query())
		s.mu.Unlock()
		writeJSON(w, status, nil, body)
	default:
		writeJSON(w, 405, nil, errorBody(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."))
	}
}

func retryHeader(f *Fault) map[string]string {
	if f.RetryAfter == "" {
		return nil
	}
	return map[string]string{"Retry-After": f.RetryAfter}
}

func pageSize(r *http.Request, max int) int {
	for _, p := range strings.Split(r.Header.Get("Prefer"), ",") {
		p = strings.TrimSpace(p)
		if v, ok := strings.CutPrefix(p, "odata.maxpagesize="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 && n < max {
				return n
			}
		}
	}
	return max
}

// Delta tokens: $skiptoken=full.<snapshot>.<offset> or
// delta.<from>.<snapshot>.<offset>; $deltatoken=<version>.
func (s *Server) serveDelta(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.DeltaPages++
	s.lastPath = r.URL.RequestURI()
	if f := s.fault("delta"); f != nil {
		writeJSON(w, f.Status, retryHeader(f), faultBody(f))
		return
	}
	q := r.URL.Query()
	size := pageSize(r, s.opts.PageSize)
	base := "http://" + r.Host + "/v1.0/servicePrincipals/delta"
	var (
		mode           = "full"
		from, snapshot = 0, s.version
		offset         = 0
	)
	if dt := q.Get("$deltatoken"); dt != "" {
		v, err := strconv.Atoi(dt)
		if err != nil || v < s.expired {
			s.gone(w)
			return
		}
		mode, from = "delta", v
	} else if st := q.Get("$skiptoken"); st != "" {
		parts := strings.Split(st, ".")
		bad := false
		nums := make([]int, 0, 3)
		for _, p := range parts[1:] {
			n, err := strconv.Atoi(p)
			bad = bad || err != nil
			nums = append(nums, n)
		}
		switch {
		case bad:
			s.gone(w)
			return
		case parts[0] == "full" && len(nums) == 2:
			snapshot, offset = nums[0], nums[1]
		case parts[0] == "delta" && len(nums) == 3:
			mode, from, snapshot, offset = "delta", nums[0], nums[1], nums[2]
		default:
			s.gone(w)
			return
		}
		if snapshot < s.expired {
			s.gone(w)
			return
		}
	}
	var items []any
	next := -1
	if mode == "full" {
		total := s.opts.Generated + len(s.order)
		p := offset
		for ; p < total && len(items) < size; p++ {
			var id string
			if p < s.opts.Generated {
				id = GeneratedID(p)
			} else {
				id = s.order[p-s.opts.Generated]
			}
			if a, ok := s.lookup(id); ok {
				items = append(items, a.SP)
			}
		}
		if p < total {
			next = p
		}
	} else {
		changed := s.changes(from, snapshot)
		p := offset
		for ; p < len(changed) && len(items) < size; p++ {
			id := changed[p]
			if a, ok := s.lookup(id); ok {
				items = append(items, a.SP)
			} else {
				items = append(items, map[string]any{"id": id, "@removed": map[string]any{"reason": "deleted"}})
			}
		}
		if p < len(changed) {
			next = p
		}
	}
	body := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals", "value": items}
	if items == nil {
		body["value"] = []any{}
	}
	switch {
	case next >= 0 && mode == "full":
		body["@odata.nextLink"] = fmt.Sprintf("%s?$skiptoken=full.%d.%d", base, snapshot, next)
	case next >= 0:
		body["@odata.nextLink"] = fmt.Sprintf("%s?$skiptoken=delta.%d.%d.%d", base, from, snapshot, next)
	default:
		body["@odata.deltaLink"] = fmt.Sprintf("%s?$deltatoken=%d", base, snapshot)
		if mode == "full" && s.afterFullSync != nil {
			fn := s.afterFullSync
			s.afterFullSync = nil
			defer fn()
		}
	}
	writeJSON(w, 200, nil, body)
}

// changes lists the ids changed after version from up to snapshot, oldest
// change first (ties by id).
func (s *Server) changes(from, snapshot int) []string {
	type ch struct {
		id string
		v  int
	}
	var cs []ch
	for id, o := range s.over {
		if o.version > from && o.version <= snapshot {
			cs = append(cs, ch{id, o.version})
		}
	}
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && (cs[j].v < cs[j-1].v || cs[j].v == cs[j-1].v && cs[j].id < cs[j-1].id); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.id
	}
	return ids
}

func (s *Server) gone(w http.ResponseWriter) {
	if s.goneCode == http.StatusBadRequest {
		writeJSON(w, 400, nil, errorBody(400, "syncStateNotFound", "The delta token is expired and data must be synchronized again."))
		return
	}
	writeJSON(w, 410, nil, errorBody(410, "resyncRequired", "The delta state is no longer valid; restart with a full synchronization."))
}

type batchRequest struct {
	Requests []struct {
		ID      string            `json:"id"`
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	} `json:"requests"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    any               `json:"body"`
}

func (s *Server) serveBatch(w http.ResponseWriter, r *http.Request) {
	var br batchRequest
	if err := json.NewDecoder(r.Body).Decode(&br); err != nil {
		writeJSON(w, 400, nil, errorBody(400, "BadRequest", "Invalid batch payload format."))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Batches++
	if f := s.fault("batch"); f != nil {
		writeJSON(w, f.Status, retryHeader(f), faultBody(f))
		return
	}
	if len(br.Requests) == 0 || len(br.Requests) > 20 {
		writeJSON(w, 400, nil, errorBody(400, "BadRequest", "Number of batch requests must be between 1 and 20."))
		return
	}
	out := make([]batchResponse, 0, len(br.Requests))
	for _, req := range br.Requests {
		s.counts.BatchItems++
		if f := s.fault("item"); f != nil {
			h := map[string]string{"Content-Type": "application/json"}
			if f.RetryAfter != "" {
				h["Retry-After"] = f.RetryAfter
			}
			out = append(out, batchResponse{ID: req.ID, Status: f.Status, Headers: h, Body: faultBody(f)})
			continue
		}
		if req.Method != http.MethodGet {
			out = append(out, batchResponse{ID: req.ID, Status: 405, Headers: map[string]string{"Content-Type": "application/json"},
				Body: errorBody(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")})
			continue
		}
		u, err := url.Parse(req.URL)
		if err != nil {
			out = append(out, batchResponse{ID: req.ID, Status: 400, Headers: map[string]string{"Content-Type": "application/json"},
				Body: errorBody(400, "BadRequest", "Invalid request URL.")})
			continue
		}
		path := "/" + strings.TrimPrefix(strings.TrimPrefix(u.Path, "/v1.0"), "/")
		status, body := s.resource(path, u.Query())
		out = append(out, batchResponse{ID: req.ID, Status: status, Body: body,
			Headers: map[string]string{"Content-Type": "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8", "x-ms-resource-unit": "1"}})
	}
	// Graph does not promise the order of sub-responses.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	writeJSON(w, 200, nil, map[string]any{"responses": out})
}

// resource answers GET /servicePrincipals/{id}[/{relationship}] (locked).
func (s *Server) resource(path string, q url.Values) (int, any) {
	path = s.appIDPath(path) // servicePrincipals(appId='…'), erasure.go
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) < 2 || parts[0] != "servicePrincipals" {
		return 400, errorBody(400, "BadRequest", "Resource not found for the segment '"+parts[0]+"'.")
	}
	a, ok := s.lookup(parts[1])
	if !ok {
		return 404, errorBody(404, "Request_ResourceNotFound", "Resource '"+parts[1]+"' does not exist or one of its queried reference-property objects are not present.")
	}
	if len(parts) == 2 {
		return 200, a.SP
	}
	var all []any
	ctx := ""
	switch parts[2] {
	case "appRoleAssignments":
		ctx = "appRoleAssignments"
		for _, x := range a.Assignments {
			all = append(all, x)
		}
	case "oauth2PermissionGrants":
		ctx = "oauth2PermissionGrants"
		for _, x := range a.Grants {
			all = append(all, x)
		}
	case "owners":
		ctx = "directoryObjects"
		for _, x := range a.Owners {
			all = append(all, x)
		}
	default:
		return 400, errorBody(400, "BadRequest", "Resource not found for the segment '"+parts[2]+"'.")
	}
	size := s.opts.ChildPageSize
	if t, err := strconv.Atoi(q.Get("$top")); err == nil && t > 0 && t < size {
		size = t
	}
	offset, _ := strconv.Atoi(q.Get("$skiptoken"))
	end := min(offset+size, len(all))
	page := []any{}
	if offset < len(all) {
		page = all[offset:end]
	}
	body := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#" + ctx, "value": page}
	if end < len(all) {
		body["@odata.nextLink"] = fmt.Sprintf("%s/v1.0/servicePrincipals/%s/%s?$top=%d&$skiptoken=%d", s.URL, parts[1], parts[2], size, end)
	}
	return 200, body
}
