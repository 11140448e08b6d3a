package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds a request when New is given a nil client.
const DefaultTimeout = 30 * time.Second

// Sender posts messages to Workflows webhooks. It is safe for concurrent use.
type Sender struct {
	client    *http.Client
	maxBytes  int
	userAgent string
}

// Option configures a Sender.
type Option func(*Sender)

// WithMaxBytes sets the largest encoded message Send will post
// (default DefaultMaxBytes).
func WithMaxBytes(n int) Option {
	return func(s *Sender) {
		if n > 0 {
			s.maxBytes = n
		}
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(s *Sender) { s.userAgent = ua }
}

// New returns a Sender using client (a client with DefaultTimeout when nil).
// Redirects are not followed, so a card is never re-sent to another host:
// a 3xx answer is a permanent error.
func New(client *http.Client, opts ...Option) *Sender {
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s := &Sender{client: &c, maxBytes: DefaultMaxBytes, userAgent: "govkit-teams"}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Send validates msg, checks its size and POSTs it to the webhook. It returns
// nil on any 2xx answer (Workflows answers 202 Accepted and posts the card
// asynchronously). Any other outcome is an *Error: use [Retryable] and
// [RetryAfter] to decide what to do. No error contains the webhook's path or
// query.
func (s *Sender) Send(ctx context.Context, to WebhookURL, msg Message) error {
	fail := func(err error, status int, retryable bool) *Error {
		return &Error{Endpoint: to.String(), StatusCode: status, retryable: retryable, err: err}
	}
	if to.IsZero() {
		return fail(errors.New("no webhook URL configured"), 0, false)
	}
	if err := msg.Validate(); err != nil {
		return fail(err, 0, false)
	}
	body, err := Encode(msg)
	if err != nil {
		return fail(err, 0, false)
	}
	if len(body) > s.maxBytes {
		return fail(fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(body), s.maxBytes), 0, false)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to.Reveal(), bytes.NewReader(body))
	if err != nil {
		return fail(redact(err, to), 0, false)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if s.userAgent != "" {
		req.Header.Set("User-Agent", s.userAgent)
	}

	resp, err := s.client.Do(req)
	if err != nil {
		// Connection failures, timeouts and cancellation: the message was
		// probably not delivered, and a later attempt may succeed.
		return fail(redact(err, to), 0, true)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	text := http.StatusText(resp.StatusCode)
	if text == "" {
		text = "unexpected status"
	}
	e := fail(errors.New(text), resp.StatusCode, retryableStatus(resp.StatusCode))
	e.Detail = readDetail(resp.Body, to)
	if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	return e
}

// retryableStatus: throttling, timeouts and server faults may pass; other
// 4xx (bad card, bad signature, flow deleted, too large) will not, nor an
// unfollowed redirect.
func retryableStatus(code int) bool {
	switch {
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code == http.StatusTooEarly:
		return true
	case code >= 500:
		return true
	}
	return false
}

// Error is a failed Send.
type Error struct {
	// Endpoint is the webhook's scheme and host, the rest redacted.
	Endpoint string
	// StatusCode is the HTTP status, 0 when there was no response.
	StatusCode int
	// Detail is a short excerpt of the response body (the error code and
	// message a Workflows endpoint returns), with the URL's secrets removed.
	Detail string
	// RetryAfter is the wait the endpoint asked for, 0 when not given.
	RetryAfter time.Duration

	retryable bool
	err       error
}

// Error describes the failure without the webhook's path or query.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("teams webhook ")
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	if e.StatusCode != 0 {
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteString(" ")
	}
	b.WriteString(e.err.Error())
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.Round(time.Millisecond).String())
		b.WriteString(")")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.retryable {
		b.WriteString(" [retryable]")
	} else {
		b.WriteString(" [permanent]")
	}
	return b.String()
}

// Unwrap returns the cause (with the URL redacted).
func (e *Error) Unwrap() error { return e.err }

// Retryable reports whether sending again later may succeed: true for 408,
// 425, 429, 5xx and transport failures (refused, reset, timeout, cancelled);
// false for other statuses, invalid or oversize messages, and errors not
// from this package.
func Retryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.retryable
}

// RetryAfter returns the wait the endpoint asked for with Retry-After.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// maxRetryAfter caps a Retry-After value, so that a wild header cannot park
// a message for days.
const maxRetryAfter = time.Hour

// ParseRetryAfter reads a Retry-After header value: delay-seconds (fractions
// accepted, as some Microsoft services send them) or an HTTP date, taken
// relative to now. A date in the past gives 0. Values are capped at an hour.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDecimal(v) {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(secs, 0) {
			return 0, false
		}
		if secs > maxRetryAfter.Seconds() {
			return maxRetryAfter, true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > maxRetryAfter:
		return maxRetryAfter, true
	}
	return d, true
}

// isDecimal accepts "12" and "1.5", nothing signed, exponential or hex.
func isDecimal(s string) bool {
	dot := false
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0 && i < len(s)-1:
			dot = true
		default:
			return false
		}
	}
	return true
}

// maxDetailRead bounds how much of an error response is read for Detail.
const maxDetailRead = 4 << 10

// readDetail returns a short, single-line, secret-free summary of an error
// body: "code: message" for the JSON errors Workflows returns, otherwise the
// start of a plain-text body. HTML pages are not quoted.
func readDetail(r io.Reader, to WebhookURL) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxDetailRead))
	text := strings.TrimSpace(string(b))
	if text == "" {
		return ""
	}
	var j struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	switch {
	case json.Unmarshal(b, &j) == nil && (j.Error.Code != "" || j.Error.Message != ""):
		text = strings.TrimPrefix(j.Error.Code+": "+j.Error.Message, ": ")
	case strings.HasPrefix(text, "<"):
		return "(HTML error page)"
	}
	text = strings.Join(strings.Fields(clean(text)), " ")
	return truncate(to.scrub(text), 300)
}

// redact rewrites net/http's *url.Error so that it names the redacted
// endpoint, and scrubs any other mention of the URL's secrets.
func redact(err error, to WebhookURL) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		inner := ue.Err
		if s := inner.Error(); to.scrub(s) != s {
			inner = &scrubbed{msg: to.scrub(s), err: inner}
		}
		return &url.Error{Op: ue.Op, URL: to.String(), Err: inner}
	}
	if s := err.Error(); to.scrub(s) != s {
		return &scrubbed{msg: to.scrub(s), err: err}
	}
	return err
}

// scrubbed is an error whose text had the URL's secrets removed; it still
// unwraps to the original for errors.Is (context.DeadlineExceeded, …).
type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }
