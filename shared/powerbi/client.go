package powerbi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Defaults for Config.
const (
	DefaultBaseURL      = "https://api.powerbi.com/v1.0/myorg"
	DefaultScope        = "https://analysis.windows.net/powerbi/api/.default"
	DefaultMaxAttempts  = 6
	DefaultMaxRetryWait = 2 * time.Minute
	DefaultWorkers      = 2
	defaultTimeout      = 100 * time.Second
	maxErrorBody        = 64 << 10
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API root up to and including /myorg (DefaultBaseURL
	// when empty). Plain http is for loopback stand-ins only; the caller
	// checks that with config.ParseServiceURL.
	BaseURL string
	// Scope is the token scope (DefaultScope when empty).
	Scope string
	// Credential gets tokens: a managed identity or service principal
	// (azidentity), or a static fake in tests. Required.
	Credential azcore.TokenCredential
	// HTTPClient sends requests (one with a 100 s timeout when nil).
	HTTPClient *http.Client
	// Clock paces and waits (SystemClock when nil).
	Clock Clock
	// Limits override the documented limits (zero fields mean the default).
	Limits Limits
	// MaxAttempts bounds the tries of one request on 429, 5xx and
	// transport errors (DefaultMaxAttempts when 0).
	MaxAttempts int
	// MaxRetryWait is the longest single wait before a retry; a
	// Retry-After beyond it fails the request (DefaultMaxRetryWait when 0).
	MaxRetryWait time.Duration
	// Workers is how many row POSTs of one table may be in flight, 1 to
	// Limits.MaxPending (DefaultWorkers when 0).
	Workers int
}

// Client talks to the Power BI REST API. It is safe for concurrent use;
// create one per process so that its pacing sees every request.
type Client struct {
	cfg    Config
	base   string
	limits Limits
	http   *http.Client
	clock  Clock

	mu     sync.Mutex
	pacers map[string]*pacer

	stats counters
}

type counters struct {
	requests, listDatasets, createDataset, getTables, putTable, deleteRows, postRows atomic.Int64
	retries, throttled, rowsPosted                                                   atomic.Int64
}

// Stats counts the requests a Client sent, retries included.
type Stats struct {
	Requests      int64 `json:"requests"`
	ListDatasets  int64 `json:"listDatasets"`
	CreateDataset int64 `json:"createDataset"`
	GetTables     int64 `json:"getTables"`
	PutTable      int64 `json:"putTable"`
	DeleteRows    int64 `json:"deleteRows"`
	PostRows      int64 `json:"postRows"`
	Retries       int64 `json:"retries"`
	Throttled     int64 `json:"throttled"`
	RowsPosted    int64 `json:"rowsPosted"`
}

// New checks cfg and returns a Client. It makes no request.
func New(cfg Config) (*Client, error) {
	var errs []error
	if cfg.Credential == nil {
		errs = append(errs, errors.New("powerbi: Credential is required"))
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("powerbi: BaseURL %q is not an absolute http(s) URL without a query", cfg.BaseURL))
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock()
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	limits := cfg.Limits.withDefaults()
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	cfg.Workers = min(cfg.Workers, limits.MaxPending)
	return &Client{cfg: cfg, base: strings.TrimSuffix(u.String(), "/"), limits: limits,
		http: cfg.HTTPClient, clock: cfg.Clock, pacers: map[string]*pacer{}}, nil
}

// Stats returns the request counts so far.
func (c *Client) Stats() Stats {
	s := &c.stats
	return Stats{Requests: s.requests.Load(), ListDatasets: s.listDatasets.Load(), CreateDataset: s.createDataset.Load(),
		GetTables: s.getTables.Load(), PutTable: s.putTable.Load(), DeleteRows: s.deleteRows.Load(),
		PostRows: s.postRows.Load(), Retries: s.retries.Load(), Throttled: s.throttled.Load(), RowsPosted: s.rowsPosted.Load()}
}

func (c *Client) pacer(datasetID string) *pacer {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pacers[datasetID]
	if !ok {
		p = newPacer(c.limits)
		c.pacers[datasetID] = p
	}
	return p
}

// APIError is an answer the client does not retry (any 4xx but 429), or
// the last answer of a request whose retries ran out. It holds the
// service's error code and message, never a request body.
type APIError struct {
	Op     string // ListDatasets, CreateDataset, GetTables, PutTable, DeleteRows, PostRows
	Table  string // the table concerned, if any
	Status int
	Code   string
	// Message is the service's message or error detail, if it sent one.
	Message string
	// Attempts is how many times the request was sent.
	Attempts int
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("power bi ")
	b.WriteString(e.Op)
	if e.Table != "" {
		b.WriteString(" " + e.Table)
	}
	fmt.Fprintf(&b, ": HTTP %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Transient reports whether the failure was throttling or a server fault
// (retries ran out), as opposed to a refusal.
func (e *APIError) Transient() bool { return retryable(e.Status) }

// SchemaError reports whether the service refused the request as malformed
// for the table (400, 404 table not found, 422): the table's definition and
// the dataset disagree.
func (e *APIError) SchemaError() bool {
	return e.Status == http.StatusBadRequest || e.Status == http.StatusNotFound || e.Status == http.StatusUnprocessableEntity
}

// ErrOutcomeUnknown is wrapped by the error of a POST whose connection
// failed (dropped, reset, timed out) after the request was sent: the
// service may have applied it, so it is not resent as it stands.
// ReplaceRows starts the table again; Sync looks for the dataset before
// creating it again.
var ErrOutcomeUnknown = errors.New("the request was sent but its answer was lost, so the service may have applied it")

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusInternalServerError ||
		status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// errorBody is the API's error shape: {"error":{"code","message","pbi.error":{"code","details":[…]}}}.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		PBI     struct {
			Code    string `json:"code"`
			Details []struct {
				Code   string `json:"code"`
				Detail struct {
					Value string `json:"value"`
				} `json:"detail"`
			} `json:"details"`
		} `json:"pbi.error"`
	} `json:"error"`
}

func parseError(body []byte) (code, msg string) {
	var eb errorBody
	if json.Unmarshal(body, &eb) != nil {
		return "", ""
	}
	code, msg = eb.Error.Code, eb.Error.Message
	if code == "" {
		code = eb.Error.PBI.Code
	}
	var parts []string
	for _, d := range eb.Error.PBI.Details {
		if d.Detail.Value != "" {
			parts = append(parts, d.Detail.Value)
		}
	}
	if msg == "" {
		msg = strings.Join(parts, "; ")
	}
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return code, msg
}

// RetryAfter parses a Retry-After value: integer or fractional seconds, or
// an HTTP date.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || math.IsNaN(f) || f > 365*24*3600 {
			return 0, false
		}
		return time.Duration(f * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// backoff is the wait before retry n (1-based) without Retry-After.
func backoff(n int) time.Duration {
	return min(time.Second<<(n-1), 30*time.Second)
}

// call is one logical request.
type call struct {
	op      string
	table   string
	dataset string // pacing key ("" for workspace-level calls)
	method  string
	path    string
	body    []byte
	out     any
	counter *atomic.Int64
	// before runs before each attempt (row POST pacing); the function it
	// returns runs when the attempt's answer is in.
	before func(ctx context.Context) (after func(), err error)
}

func (c *Client) do(ctx context.Context, k call) error {
	p := c.pacer(k.dataset)
	for attempt := 1; ; attempt++ {
		after := func() {}
		if k.before != nil {
			var err error
			if after, err = k.before(ctx); err != nil {
				return err
			}
		}
		status, header, body, sent, err := c.send(ctx, p, k)
		after()
		if err != nil && status >= 200 && status < 300 && k.out == nil {
			err = nil // it succeeded; only the rest of an answer not needed was lost
		}
		if err == nil && status >= 200 && status < 300 {
			if k.out != nil && len(bytes.TrimSpace(body)) > 0 {
				if err := json.Unmarshal(body, k.out); err != nil {
					return fmt.Errorf("power bi %s: decoding the answer: %w", k.op, err)
				}
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var failure error
		if err != nil {
			failure = fmt.Errorf("power bi %s %s: attempt %d: %w", k.op, k.table, attempt, err)
			if sent && k.method == http.MethodPost {
				return fmt.Errorf("%w (%w)", failure, ErrOutcomeUnknown)
			}
		} else {
			code, msg := parseError(body)
			failure = &APIError{Op: k.op, Table: k.table, Status: status, Code: code, Message: msg, Attempts: attempt}
			if !retryable(status) {
				return failure
			}
			if status == http.StatusTooManyRequests {
				c.stats.throttled.Add(1)
			}
		}
		if attempt >= c.cfg.MaxAttempts {
			return failure
		}
		now := c.clock.Now()
		wait, ok := RetryAfter(header.Get("Retry-After"), now)
		if !ok {
			wait = backoff(attempt)
		}
		if wait > c.cfg.MaxRetryWait {
			return fmt.Errorf("%w; the service asked to wait %s, longer than the %s allowed", failure, wait, c.cfg.MaxRetryWait)
		}
		if dl, ok := ctx.Deadline(); ok && now.Add(wait).After(dl) && c.clock == (systemClock{}) {
			return fmt.Errorf("%w; waiting %s would pass the invocation's deadline", failure, wait)
		}
		c.stats.retries.Add(1)
		if err := c.clock.SleepUntil(ctx, now.Add(wait)); err != nil {
			return err
		}
	}
}

// send makes one attempt while holding one of the dataset's pending slots.
// sent reports whether the request was written in full (the service may
// have acted on it); a status with an error means the answer was cut off.
func (c *Client) send(ctx context.Context, p *pacer, k call) (status int, _ http.Header, _ []byte, sent bool, _ error) {
	if err := p.acquire(ctx); err != nil {
		return 0, nil, nil, false, err
	}
	defer p.release()
	tok, err := c.cfg.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.cfg.Scope}})
	if err != nil {
		return 0, nil, nil, false, fmt.Errorf("getting a token for %s: %w", c.cfg.Scope, err)
	}
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}})
	var rd io.Reader
	if k.body != nil {
		rd = bytes.NewReader(k.body)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, c.base+k.path, rd)
	if err != nil {
		return 0, nil, nil, false, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Accept", "application/json")
	if k.body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	c.stats.requests.Add(1)
	if k.counter != nil {
		k.counter.Add(1)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, wrote.Load(), err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return resp.StatusCode, resp.Header, nil, true, fmt.Errorf("reading the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	return resp.StatusCode, resp.Header, body, true, nil
}

func groupPath(group string) string { return "/groups/" + url.PathEscape(group) }

func tablePath(group, datasetID, table string) string {
	return groupPath(group) + "/datasets/" + url.PathEscape(datasetID) + "/tables/" + url.PathEscape(table)
}

// Dataset is a dataset as listed or created.
type Dataset struct {
	ID                     string `json:"id"`
	Name                   string `json:"name"`
	DefaultRetentionPolicy string `json:"defaultRetentionPolicy,omitempty"`
	AddRowsAPIEnabled      bool   `json:"addRowsAPIEnabled,omitempty"`
}

// FindDataset returns the workspace's dataset called name; ok is false when
// there is none.
func (c *Client) FindDataset(ctx context.Context, group, name string) (Dataset, bool, error) {
	var out struct {
		Value []Dataset `json:"value"`
	}
	err := c.do(ctx, call{op: "ListDatasets", method: http.MethodGet, path: groupPath(group) + "/datasets", out: &out,
		counter: &c.stats.listDatasets})
	if err != nil {
		return Dataset{}, false, err
	}
	for _, d := range out.Value {
		if d.Name == name {
			return d, true, nil
		}
	}
	return Dataset{}, false, nil
}

// CreateDataset creates a push dataset with no retention policy (rows stay
// until deleted) holding tables.
func (c *Client) CreateDataset(ctx context.Context, group, name string, tables []Table) (Dataset, error) {
	if len(tables) > MaxTables {
		return Dataset{}, fmt.Errorf("powerbi: %d tables; push datasets allow at most %d", len(tables), MaxTables)
	}
	body, err := json.Marshal(map[string]any{"name": name, "defaultMode": "Push", "tables": tables})
	if err != nil {
		return Dataset{}, err
	}
	var d Dataset
	err = c.do(ctx, call{op: "CreateDataset", method: http.MethodPost, body: body, out: &d,
		path: groupPath(group) + "/datasets?defaultRetentionPolicy=None", counter: &c.stats.createDataset})
	if err == nil && d.ID == "" {
		err = errors.New("power bi CreateDataset: the answer has no dataset id")
	}
	return d, err
}

// Tables lists the names of a dataset's tables.
func (c *Client) Tables(ctx context.Context, group, datasetID string) ([]string, error) {
	var out struct {
		Value []struct {
			Name string `json:"name"`
		} `json:"value"`
	}
	err := c.do(ctx, call{op: "GetTables", dataset: datasetID, method: http.MethodGet, out: &out,
		path: groupPath(group) + "/datasets/" + url.PathEscape(datasetID) + "/tables", counter: &c.stats.getTables})
	names := make([]string, 0, len(out.Value))
	for _, t := range out.Value {
		names = append(names, t.Name)
	}
	return names, err
}

// PutTable replaces a table's schema.
func (c *Client) PutTable(ctx context.Context, group, datasetID string, t Table) error {
	if err := t.Validate(); err != nil {
		return err
	}
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return c.do(ctx, call{op: "PutTable", table: t.Name, dataset: datasetID, method: http.MethodPut, body: body,
		path: tablePath(group, datasetID, t.Name), counter: &c.stats.putTable})
}

// DeleteRows removes every row of a table.
func (c *Client) DeleteRows(ctx context.Context, group, datasetID, table string) error {
	return c.do(ctx, call{op: "DeleteRows", table: table, dataset: datasetID, method: http.MethodDelete,
		path: tablePath(group, datasetID, table) + "/rows", counter: &c.stats.deleteRows})
}
