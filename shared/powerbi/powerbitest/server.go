// Package powerbitest is an httptest stand-in for the Power BI REST API's
// push-dataset operations, built from the reference swagger and payloads
// (../shared/reference/payloads/powerbi): list and create datasets in a
// workspace (PostDatasetInGroup, 201 with {id,name,defaultRetentionPolicy}),
// list tables (GetTables), replace a table's schema (PutTable, 200
// {"name"}), delete a table's rows (DeleteRowsInGroup) and post rows
// (PostRowsInGroup). Paths with and without /groups/{groupId} are served.
//
// It validates as the service does, as far as the references say: a bearer
// token is required; a dataset needs a name, defaultMode Push and at most 75
// tables of at most 75 columns with known types; a POST rows body has at
// most 10,000 rows whose properties are the table's columns with values of
// the column's type and strings of at most 4,000 characters. Refusals use the
// error body shape of swagger.error-examples.json
// ({"error":{"code","pbi.error":{"code","parameters","details","exceptionCulprit"}}});
// the code values are the stand-in's own.
//
// It also enforces the push limits (120 POST rows per minute per dataset,
// 120 per hour once a table holds 250,000 rows, 1,000,000 rows per hour, 5
// pending requests) with 429 and Retry-After, and records every request's
// time from [Server.Now], so tests can assert the client never exceeded a
// limit ([Server.MaxPostsPerMinute], [Server.LimitRefusals]). Scripted
// answers ([Server.Script]) stand in for throttling storms and faults.
package powerbitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/council-ict/govkit/shared/powerbi"
)

// Token is the bearer token Credential hands out.
const Token = "powerbitest-token"

// Credential is a static token credential for tests.
type Credential struct{}

// GetToken returns Token, valid for an hour.
func (Credential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: Token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// Response is one scripted answer.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Throttled is a 429 with the given Retry-After ("" for none).
func Throttled(retryAfter string) Response {
	r := errorResponse(http.StatusTooManyRequests, "TooManyRequests", "")
	if retryAfter != "" {
		r.Header.Set("Retry-After", retryAfter)
	}
	return r
}

// ServerError is a 500 with an error body.
func ServerError() Response {
	return errorResponse(http.StatusInternalServerError, "InternalServerError", "")
}

// BadRequest is a 400 with the given code and detail.
func BadRequest(code, detail string) Response {
	return errorResponse(http.StatusBadRequest, code, detail)
}

func errorResponse(status int, code, detail string) Response {
	details := []any{}
	if detail != "" {
		details = append(details, map[string]any{"code": "Reason", "detail": map[string]any{"type": 1, "value": detail}})
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code,
		"pbi.error": map[string]any{"code": code, "parameters": map[string]any{}, "details": details, "exceptionCulprit": 1}}})
	return Response{Status: status, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, Body: string(body)}
}

// Table is a dataset table as the stand-in holds it.
type Table struct {
	Name    string
	Columns []powerbi.Column
	// Rows holds the posted rows when Server.KeepRows is set; RowCount
	// counts them either way.
	Rows     []map[string]any
	RowCount int
}

// Dataset is a push dataset as the stand-in holds it.
type Dataset struct {
	ID, Name, Group, Retention string
	Tables                     []*Table
}

func (d *Dataset) table(name string) *Table {
	for _, t := range d.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Request is one request the stand-in answered.
type Request struct {
	Op      string // ListDatasets, CreateDataset, GetTables, PutTable, DeleteRows, PostRows, or Unknown
	Dataset string
	Table   string
	Rows    int // PostRows: rows in the body
	Status  int
	At      time.Time
}

type scripted struct {
	op, table string
	r         Response
}

// Server is the stand-in. Configure its exported fields before the first
// request.
type Server struct {
	srv *httptest.Server
	// URL is the API root to use as the client's base URL (…/v1.0/myorg).
	URL string
	// Now is the clock the limits and the monitor use (time.Now by default;
	// set it to a powerbi.FakeClock's Now).
	Now func() time.Time
	// KeepRows keeps posted rows (true by default; benchmarks turn it off).
	KeepRows bool
	// EnforceLimits answers 429 when a push limit would be exceeded (true
	// by default).
	EnforceLimits bool

	tb       testing.TB
	mu       sync.Mutex
	datasets []*Dataset
	script   []scripted
	requests []Request
	pending  map[string]int
	peak     int
	refusals int
	nextID   int
}

// New starts a stand-in, closed when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{Now: time.Now, KeepRows: true, EnforceLimits: true, tb: tb, pending: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/v1.0/myorg"
	tb.Cleanup(s.srv.Close)
	return s
}

// Client returns a client for the stand-in with the fake credential and
// clock, plus any other settings in cfg.
func (s *Server) Client(cfg powerbi.Config) *powerbi.Client {
	s.tb.Helper()
	cfg.BaseURL, cfg.Credential = s.URL, Credential{}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = s.srv.Client()
	}
	c, err := powerbi.New(cfg)
	if err != nil {
		s.tb.Fatal(err)
	}
	return c
}

// Script queues answers for requests of op (and table, when not empty),
// returned in order before any normal handling.
func (s *Server) Script(op, table string, rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		s.script = append(s.script, scripted{op: op, table: table, r: r})
	}
}

// Seed adds an existing dataset, as if created earlier, and returns its id.
func (s *Server) Seed(group, name string, tables ...powerbi.Table) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &Dataset{ID: s.newID(), Name: name, Group: group, Retention: "None"}
	for _, t := range tables {
		d.Tables = append(d.Tables, &Table{Name: t.Name, Columns: t.Columns})
	}
	s.datasets = append(s.datasets, d)
	return d.ID
}

func (s *Server) newID() string {
	s.nextID++
	return fmt.Sprintf("%08x-8037-4d0c-896e-a46fb27ff229", s.nextID)
}

// Datasets returns copies of the datasets in group.
func (s *Server) Datasets(group string) []Dataset {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Dataset
	for _, d := range s.datasets {
		if d.Group == group {
			c := *d
			c.Tables = nil
			for _, t := range d.Tables {
				tc := *t
				tc.Rows = append([]map[string]any(nil), t.Rows...)
				c.Tables = append(c.Tables, &tc)
			}
			out = append(out, c)
		}
	}
	return out
}

// Table returns a copy of a table of the dataset called name in group.
func (s *Server) Table(group, name, table string) (Table, bool) {
	for _, d := range s.Datasets(group) {
		if d.Name == name {
			if t := d.table(table); t != nil {
				return *t, true
			}
		}
	}
	return Table{}, false
}

// Requests returns every request answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests of op were answered with status (0: any).
func (s *Server) Count(op string, status int) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Op == op && (status == 0 || r.Status == status) {
			n++
		}
	}
	return n
}

// MaxPostsPerMinute is the largest number of POST rows requests to one
// dataset in any 60-second window (t-60s, t].
func (s *Server) MaxPostsPerMinute() int {
	byDS := map[string][]time.Time{}
	for _, r := range s.Requests() {
		if r.Op == "PostRows" {
			byDS[r.Dataset] = append(byDS[r.Dataset], r.At)
		}
	}
	best := 0
	for _, ts := range byDS {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		lo := 0
		for hi := range ts {
			for !ts[lo].After(ts[hi].Add(-time.Minute)) {
				lo++
			}
			best = max(best, hi-lo+1)
		}
	}
	return best
}

// MaxRowsPerHour is the most rows posted to one dataset in any hour window.
func (s *Server) MaxRowsPerHour() int {
	byDS := map[string][]Request{}
	for _, r := range s.Requests() {
		if r.Op == "PostRows" && r.Status == http.StatusOK {
			byDS[r.Dataset] = append(byDS[r.Dataset], r)
		}
	}
	best := 0
	for _, rs := range byDS {
		sort.Slice(rs, func(i, j int) bool { return rs[i].At.Before(rs[j].At) })
		lo, sum := 0, 0
		for hi := range rs {
			sum += rs[hi].Rows
			for !rs[lo].At.After(rs[hi].At.Add(-time.Hour)) {
				sum -= rs[lo].Rows
				lo++
			}
			best = max(best, sum)
		}
	}
	return best
}

// MaxPending is the largest number of requests to one dataset in flight at
// once.
func (s *Server) MaxPending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// LimitRefusals counts the 429s the stand-in sent because a push limit
// would have been exceeded (scripted 429s are not counted).
func (s *Server) LimitRefusals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refusals
}

type route struct {
	op, group, dataset, table string
}

// parse maps a path under /v1.0/myorg to an operation.
func parse(method, path string) route {
	rest, ok := strings.CutPrefix(path, "/v1.0/myorg")
	if !ok {
		return route{op: "Unknown"}
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	var r route
	if len(segs) >= 2 && segs[0] == "groups" {
		r.group = segs[1]
		segs = segs[2:]
	}
	for i := range segs {
		segs[i], _ = url.PathUnescape(segs[i])
	}
	switch {
	case len(segs) == 1 && segs[0] == "datasets" && method == http.MethodGet:
		r.op = "ListDatasets"
	case len(segs) == 1 && segs[0] == "datasets" && method == http.MethodPost:
		r.op = "CreateDataset"
	case len(segs) == 3 && segs[0] == "datasets" && segs[2] == "tables" && method == http.MethodGet:
		r.op, r.dataset = "GetTables", segs[1]
	case len(segs) == 4 && segs[0] == "datasets" && segs[2] == "tables" && method == http.MethodPut:
		r.op, r.dataset, r.table = "PutTable", segs[1], segs[3]
	case len(segs) == 5 && segs[0] == "datasets" && segs[2] == "tables" && segs[4] == "rows" && method == http.MethodDelete:
		r.op, r.dataset, r.table = "DeleteRows", segs[1], segs[3]
	case len(segs) == 5 && segs[0] == "datasets" && segs[2] == "tables" && segs[4] == "rows" && method == http.MethodPost:
		r.op, r.dataset, r.table = "PostRows", segs[1], segs[3]
	default:
		r.op = "Unknown"
	}
	return r
}

func (s *Server) serve(w http.ResponseWriter, req *http.Request) {
	rt := parse(req.Method, req.URL.Path)
	rec := Request{Op: rt.op, Dataset: rt.dataset, Table: rt.table}
	s.mu.Lock()
	rec.At = s.Now()
	s.pending[rt.dataset]++
	s.peak = max(s.peak, s.pending[rt.dataset])
	over := s.pending[rt.dataset] > 5
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.pending[rt.dataset]--
		s.mu.Unlock()
	}()

	resp, rows := s.answer(req, rt, over)
	rec.Status, rec.Rows = resp.Status, rows
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	if resp.Body != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write([]byte(resp.Body))
}

func jsonOK(status int, v any) Response {
	b, _ := json.Marshal(v)
	return Response{Status: status, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, Body: string(b)}
}

// answer handles one request; rows is the row count of a POST rows body.
func (s *Server) answer(req *http.Request, rt route, overPending bool) (Response, int) {
	if !strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") || len(req.Header.Get("Authorization")) < 8 {
		return errorResponse(http.StatusUnauthorized, "PowerBINotAuthorizedException", ""), 0
	}
	s.mu.Lock()
	for i, sc := range s.script {
		if sc.op == rt.op && (sc.table == "" || sc.table == rt.table) {
			s.script = append(s.script[:i], s.script[i+1:]...)
			s.mu.Unlock()
			return sc.r, 0
		}
	}
	s.mu.Unlock()
	if overPending && s.EnforceLimits {
		s.mu.Lock()
		s.refusals++
		s.mu.Unlock()
		r := Throttled("1")
		return r, 0
	}
	switch rt.op {
	case "ListDatasets":
		return s.listDatasets(rt), 0
	case "CreateDataset":
		return s.createDataset(req, rt), 0
	case "GetTables":
		return s.getTables(rt), 0
	case "PutTable":
		return s.putTable(req, rt), 0
	case "DeleteRows":
		return s.deleteRows(rt), 0
	case "PostRows":
		return s.postRows(req, rt)
	}
	return errorResponse(http.StatusNotFound, "NotFound", "no such operation in the stand-in"), 0
}

func (s *Server) listDatasets(rt route) Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	value := []map[string]any{}
	for _, d := range s.datasets {
		if d.Group == rt.group {
			value = append(value, map[string]any{"id": d.ID, "name": d.Name, "addRowsAPIEnabled": true,
				"defaultRetentionPolicy": d.Retention, "isRefreshable": false, "targetStorageMode": "PushStreaming"})
		}
	}
	return jsonOK(http.StatusOK, map[string]any{"@odata.context": "http://stand-in/v1.0/myorg/$metadata#datasets", "value": value})
}

// wireTable is a table as a request spells it.
type wireTable struct {
	Name    string `json:"name"`
	Columns []struct {
		Name         string `json:"name"`
		DataType     string `json:"dataType"`
		FormatString string `json:"formatString,omitempty"`
	} `json:"columns"`
}

var typeNames = map[string]powerbi.DataType{"int64": powerbi.Int64, "double": powerbi.Double, "boolean": powerbi.Boolean,
	"bool": powerbi.Boolean, "datetime": powerbi.DateTime, "string": powerbi.String}

func (w wireTable) table() (powerbi.Table, error) {
	t := powerbi.Table{Name: w.Name}
	for _, c := range w.Columns {
		dt, ok := typeNames[strings.ToLower(c.DataType)]
		if !ok {
			return t, fmt.Errorf("column %s has unknown dataType %q", c.Name, c.DataType)
		}
		t.Columns = append(t.Columns, powerbi.Column{Name: c.Name, DataType: dt, FormatString: c.FormatString})
	}
	return t, t.Validate()
}

func (s *Server) createDataset(req *http.Request, rt route) Response {
	var body struct {
		Name        string      `json:"name"`
		DefaultMode string      `json:"defaultMode"`
		Tables      []wireTable `json:"tables"`
	}
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		return BadRequest("InvalidRequest", "malformed JSON: "+err.Error())
	}
	pol := req.URL.Query().Get("defaultRetentionPolicy")
	switch {
	case body.Name == "":
		return BadRequest("InvalidRequest", "name is required")
	case body.DefaultMode != "Push" && body.DefaultMode != "PushStreaming":
		return BadRequest("InvalidRequest", "defaultMode must be Push for a push dataset")
	case len(body.Tables) == 0 || len(body.Tables) > powerbi.MaxTables:
		return BadRequest("InvalidRequest", "a push dataset needs 1 to 75 tables")
	case pol != "" && pol != "None" && pol != "basicFIFO":
		return BadRequest("InvalidRequest", "defaultRetentionPolicy must be None or basicFIFO")
	}
	if pol == "" {
		pol = "None"
	}
	var tables []*Table
	for _, wt := range body.Tables {
		t, err := wt.table()
		if err != nil {
			return BadRequest("InvalidRequest", err.Error())
		}
		tables = append(tables, &Table{Name: t.Name, Columns: t.Columns})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &Dataset{ID: s.newID(), Name: body.Name, Group: rt.group, Retention: pol, Tables: tables}
	s.datasets = append(s.datasets, d)
	return jsonOK(http.StatusCreated, map[string]any{"id": d.ID, "name": d.Name, "defaultRetentionPolicy": pol})
}

// dataset finds a dataset; the caller holds s.mu.
func (s *Server) dataset(rt route) *Dataset {
	for _, d := range s.datasets {
		if d.ID == rt.dataset && d.Group == rt.group {
			return d
		}
	}
	return nil
}

func notFound(what string) Response {
	return errorResponse(http.StatusNotFound, "ItemNotFound", what+" was not found")
}

func (s *Server) getTables(rt route) Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dataset(rt)
	if d == nil {
		return notFound("dataset " + rt.dataset)
	}
	value := []map[string]any{}
	for _, t := range d.Tables {
		value = append(value, map[string]any{"name": t.Name})
	}
	return jsonOK(http.StatusOK, map[string]any{"@odata.context": "http://stand-in/v1.0/myorg/$metadata#tables", "value": value})
}

func (s *Server) putTable(req *http.Request, rt route) Response {
	var wt wireTable
	if err := json.NewDecoder(req.Body).Decode(&wt); err != nil {
		return BadRequest("InvalidRequest", "malformed JSON: "+err.Error())
	}
	if wt.Name != rt.table {
		return BadRequest("InvalidRequest", "the body's table name does not match the path")
	}
	t, err := wt.table()
	if err != nil {
		return BadRequest("InvalidRequest", err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dataset(rt)
	if d == nil {
		return notFound("dataset " + rt.dataset)
	}
	if len(d.Tables) >= powerbi.MaxTables && d.table(t.Name) == nil {
		return BadRequest("InvalidRequest", "a push dataset has at most 75 tables")
	}
	if old := d.table(t.Name); old != nil {
		old.Columns = t.Columns
	} else {
		d.Tables = append(d.Tables, &Table{Name: t.Name, Columns: t.Columns})
	}
	return jsonOK(http.StatusOK, map[string]any{"name": t.Name})
}

func (s *Server) deleteRows(rt route) Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dataset(rt)
	if d == nil {
		return notFound("dataset " + rt.dataset)
	}
	t := d.table(rt.table)
	if t == nil {
		return notFound("table " + rt.table)
	}
	t.Rows, t.RowCount = nil, 0
	return Response{Status: http.StatusOK}
}

// postRows validates the body against the table and the limits.
func (s *Server) postRows(req *http.Request, rt route) (Response, int) {
	s.mu.Lock()
	d := s.dataset(rt)
	var cols map[string]powerbi.DataType
	if d != nil {
		if t := d.table(rt.table); t != nil {
			cols = map[string]powerbi.DataType{}
			for _, c := range t.Columns {
				cols[c.Name] = c.DataType
			}
		}
	}
	s.mu.Unlock()
	if d == nil {
		return notFound("dataset " + rt.dataset), 0
	}
	if cols == nil {
		return notFound("table " + rt.table), 0
	}
	dec := json.NewDecoder(req.Body)
	dec.UseNumber()
	var body struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := dec.Decode(&body); err != nil {
		return BadRequest("InvalidRequest", "malformed JSON: "+err.Error()), 0
	}
	n := len(body.Rows)
	if n > powerbi.MaxRowsPerPost {
		return BadRequest("InvalidRequest", fmt.Sprintf("%d rows in one request; at most %d are allowed", n, powerbi.MaxRowsPerPost)), n
	}
	for i, row := range body.Rows {
		for k, v := range row {
			dt, ok := cols[k]
			if !ok {
				return BadRequest("InvalidRequest", fmt.Sprintf("row %d: column %s is not in table %s", i, k, rt.table)), n
			}
			if err := checkValue(dt, v); err != nil {
				return BadRequest("InvalidRequest", fmt.Sprintf("row %d column %s: %v", i, k, err)), n
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := d.table(rt.table)
	if t == nil {
		return notFound("table " + rt.table), n
	}
	if s.EnforceLimits {
		if wait, ok := s.limitWait(rt.dataset, n, t.RowCount); !ok {
			s.refusals++
			return Throttled(strconv.FormatFloat(wait.Seconds(), 'f', 3, 64)), n
		}
	}
	t.RowCount += n
	if s.KeepRows {
		t.Rows = append(t.Rows, body.Rows...)
	}
	return Response{Status: http.StatusOK}, n
}

// limitWait checks a POST of n rows now against the limits, given the
// requests so far (the caller holds s.mu).
func (s *Server) limitWait(dataset string, n, tableRows int) (time.Duration, bool) {
	now := s.Now()
	var minute, hour, rows int
	var oldestMinute, oldestHour time.Time
	for _, r := range s.requests {
		if r.Op != "PostRows" || r.Dataset != dataset || r.Status != http.StatusOK {
			continue
		}
		if r.At.After(now.Add(-time.Hour)) {
			hour++
			rows += r.Rows
			if oldestHour.IsZero() || r.At.Before(oldestHour) {
				oldestHour = r.At
			}
		}
		if r.At.After(now.Add(-time.Minute)) {
			minute++
			if oldestMinute.IsZero() || r.At.Before(oldestMinute) {
				oldestMinute = r.At
			}
		}
	}
	switch {
	case minute >= 120:
		return oldestMinute.Add(time.Minute).Sub(now), false
	case tableRows >= 250000 && hour >= 120:
		return oldestHour.Add(time.Hour).Sub(now), false
	case rows+n > 1000000:
		return oldestHour.Add(time.Hour).Sub(now), false
	}
	return 0, true
}

func checkValue(dt powerbi.DataType, v any) error {
	if v == nil {
		return nil
	}
	switch dt {
	case powerbi.Int64:
		if n, ok := v.(json.Number); ok {
			if _, err := n.Int64(); err == nil {
				return nil
			}
		}
		return fmt.Errorf("%v is not an Int64", v)
	case powerbi.Double:
		if n, ok := v.(json.Number); ok {
			if _, err := n.Float64(); err == nil {
				return nil
			}
		}
		return fmt.Errorf("%v is not a Double", v)
	case powerbi.Boolean:
		if _, ok := v.(bool); ok {
			return nil
		}
		return fmt.Errorf("%v is not a Boolean", v)
	case powerbi.DateTime:
		if s, ok := v.(string); ok {
			for _, layout := range []string{time.RFC3339Nano, time.DateOnly, "2006-01-02T15:04:05", "01/02/2006"} {
				if _, err := time.Parse(layout, s); err == nil {
					return nil
				}
			}
		}
		return fmt.Errorf("%v is not a DateTime", v)
	case powerbi.String:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%v is not a String", v)
		}
		if _, cut := powerbi.TruncateString(s); cut {
			return fmt.Errorf("a string of more than %d characters", powerbi.MaxStringChars)
		}
		return nil
	}
	return fmt.Errorf("unknown type %s", dt)
}
