package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ErrBudgetExhausted is returned, wrapped, when a run's request budget is
// spent. The harvest stops cleanly and resumes from its cursor next run.
var ErrBudgetExhausted = errors.New("graph: request budget for this run is spent")

// Budget caps the Graph requests of one run (every attempt counts, retries
// included). A nil *Budget or a limit of 0 is unlimited. It is safe for
// concurrent use.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit requests (0: unlimited).
func NewBudget(limit int) *Budget { return &Budget{limit: int64(limit)} }

// Used returns the requests made under the budget.
func (b *Budget) Used() int {
	if b == nil {
		return 0
	}
	return int(b.used.Load())
}

// Exhausted reports whether no request is left.
func (b *Budget) Exhausted() bool {
	return b != nil && b.limit > 0 && b.used.Load() >= b.limit
}

func (b *Budget) take() bool {
	if b == nil {
		return true
	}
	n := b.used.Add(1)
	if b.limit > 0 && n > b.limit {
		b.used.Add(-1)
		return false
	}
	return true
}

type budgetKey struct{}

// WithBudget returns a context whose Graph requests are charged to b.
func WithBudget(ctx context.Context, b *Budget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

// BudgetFrom returns the budget in ctx, or nil.
func BudgetFrom(ctx context.Context) *Budget {
	b, _ := ctx.Value(budgetKey{}).(*Budget)
	return b
}

// Policy is the one throttling policy for every Graph request.
type Policy struct {
	// MaxAttempts bounds the attempts of one request (default 5).
	MaxAttempts int
	// MaxWait is the longest single wait; a Retry-After beyond it is not
	// waited out and the response is returned (default 60s).
	MaxWait time.Duration
	// Backoff is the first wait when the service gives no Retry-After; it
	// doubles with each attempt (default 1s).
	Backoff time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.MaxWait <= 0 {
		p.MaxWait = 60 * time.Second
	}
	if p.Backoff <= 0 {
		p.Backoff = time.Second
	}
	return p
}

// retryable reports whether status is one Graph asks to retry later.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// RetryAfter parses a Retry-After value: integer or fractional seconds, or
// an HTTP date. ok is false when v is empty or malformed.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return 0, false
		}
		if s > 86400 {
			s = 86400
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// wait returns how long to wait before attempt+1 after a throttled answer
// with Retry-After value ra.
func (p Policy) wait(ra string, attempt int, now time.Time) time.Duration {
	if d, ok := RetryAfter(ra, now); ok {
		return d
	}
	d := p.Backoff << (attempt - 1)
	if d > p.MaxWait || d <= 0 {
		d = p.MaxWait
	}
	return d
}

// Stats counts what the client did, across runs.
type Stats struct {
	// Requests is HTTP requests sent to Graph (attempts, retries included).
	Requests int64
	// Retries is attempts after a throttled or failed one.
	Retries int64
	// Throttled is answers of 429, 503 or 504, top-level or inside a batch.
	Throttled int64
	// BatchRequests is $batch POSTs; BatchItems the sub-requests they carried.
	BatchRequests int64
	BatchItems    int64
}

type counters struct {
	requests, retries, throttled, batchRequests, batchItems atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{Requests: c.requests.Load(), Retries: c.retries.Load(), Throttled: c.throttled.Load(),
		BatchRequests: c.batchRequests.Load(), BatchItems: c.batchItems.Load()}
}

// transport applies the policy to every request: budget, Retry-After,
// bounded attempts, a per-attempt timeout, and cancellation through the
// request's context. A failed attempt (refused, dropped, reset, timed out,
// cut off mid-answer) is retried with backoff like a 503 without
// Retry-After, except a non-idempotent request that may have arrived.
type transport struct {
	base    http.RoundTripper
	policy  Policy
	timeout time.Duration // per attempt, answer included
	stats   *counters
	sleep   func(ctx context.Context, d time.Duration) error
	now     func() time.Time
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	budget := BudgetFrom(ctx)
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !budget.take() {
			return nil, ErrBudgetExhausted
		}
		t.stats.requests.Add(1)
		if attempt > 1 {
			t.stats.retries.Add(1)
		}
		resp, wrote, err := t.attempt(ctx, req, body)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			// http.Client wraps this in a *url.Error naming the method and URL.
			err = fmt.Errorf("graph: attempt %d of %d: %w", attempt, t.policy.MaxAttempts, err)
			if attempt >= t.policy.MaxAttempts || (wrote && !replayable(req)) {
				return nil, err
			}
			if serr := t.sleep(ctx, t.policy.wait("", attempt, t.now())); serr != nil {
				return nil, serr
			}
			continue
		}
		if !retryable(resp.StatusCode) {
			return resp, nil
		}
		t.stats.throttled.Add(1)
		d := t.policy.wait(resp.Header.Get("Retry-After"), attempt, t.now())
		if attempt >= t.policy.MaxAttempts || d > t.policy.MaxWait {
			return resp, nil
		}
		if err := t.sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

// attempt sends req once under the per-attempt timeout and reads the whole
// answer within it, so that a connection dropped mid-body or an answer that
// trickles in is a failed attempt (retried) rather than an error surfacing
// later from the SDK's parser, and a silent server cannot hold a run. wrote
// reports whether the request was fully written (it may have been acted
// on).
func (t *transport) attempt(ctx context.Context, req *http.Request, body []byte) (_ *http.Response, wrote bool, _ error) {
	actx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	var written atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			written.Store(true)
		}
	}})
	r := req.Clone(actx)
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, written.Load(), timeoutCause(actx, err, t.timeout)
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, true, fmt.Errorf("reading the answer (HTTP %d): %w", resp.StatusCode, timeoutCause(actx, err, t.timeout))
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	return resp, true, nil
}

// timeoutCause says so when err came from the per-attempt timeout.
func timeoutCause(actx context.Context, err error, d time.Duration) error {
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no complete answer within the %s attempt timeout: %w", d, err)
	}
	return err
}

// replayable reports whether a request may be sent again after it reached
// the service: idempotent methods, and $batch, whose sub-requests are all
// reads here. Any other POST (creating a subscription) is not resent after
// a failure that may have followed its arrival.
func replayable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return true
	}
	return strings.HasSuffix(req.URL.Path, "/$batch")
}
