// Package graph is the app's only Microsoft Graph client and the only
// package that imports msgraph-sdk-go.
//
// It authenticates app-only through azidentity (the managed identity in
// Azure; a client secret or certificate elsewhere) via the SDK's Azure
// identity authentication provider, sends every request through the SDK's
// request adapter and parses responses into the SDK's models, then hands
// callers plain domain types (package cloudapps), so that no other package
// links the SDK.
//
// One throttling policy applies to every request, including each $batch
// POST: Retry-After on 429, 503 and 504 (integer or fractional seconds, or a
// date), backoff after a dropped, reset or timed-out attempt (each attempt
// has its own timeout, Config.AttemptTimeout), bounded attempts,
// cancellation through the context, and a per-run request budget carried
// in the context (WithBudget). Sub-requests of a $batch that are throttled
// are retried, after their own Retry-After, in a later batch.
package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Defaults for the public cloud.
const (
	DefaultBaseURL = "https://graph.microsoft.com/v1.0"
	DefaultScope   = "https://graph.microsoft.com/.default"
	// DefaultAttemptTimeout bounds one attempt of a request, answer
	// included.
	DefaultAttemptTimeout = 60 * time.Second
)

// Config configures a Client.
type Config struct {
	// BaseURL is the Graph service root including the version, e.g.
	// https://graph.microsoft.com/v1.0 (national clouds and tests differ).
	BaseURL string
	// Scope is the token scope (default DefaultScope).
	Scope string
	// Credential gets app-only tokens (azidentity in production, a static
	// fake in tests).
	Credential azcore.TokenCredential
	// Transport is the underlying HTTP transport (default http.DefaultTransport).
	Transport http.RoundTripper
	// Policy is the throttling policy.
	Policy Policy
	// AttemptTimeout bounds one attempt of a request, from sending it to
	// the last byte of the answer (default DefaultAttemptTimeout). An
	// attempt that runs out is retried under Policy like a dropped
	// connection, so a silent or trickling server cannot hold a run.
	AttemptTimeout time.Duration
	// Concurrency is how many $batch requests may be in flight at once
	// (default 4).
	Concurrency int
}

var sdkInit sync.Once

// Client is a Graph client. It is safe for concurrent use.
type Client struct {
	sdk     *msgraphsdk.GraphServiceClient
	adapter *msgraphsdk.GraphRequestAdapter
	tr      *transport
	stats   *counters
	conc    int
	base    *url.URL
}

// New builds a client. It performs no I/O.
func New(cfg Config) (*Client, error) {
	// msgraph-sdk-go-core creates its error-mapping registry lazily without
	// synchronising the first read, so concurrent $batch sends race on it
	// (seen under -race). Create it once, before any concurrency.
	sdkInit.Do(func() { msgraphgocore.GetErrorFactoryFromRegistry("") })
	if cfg.Credential == nil {
		return nil, errors.New("graph: a credential is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("graph: base URL %q is not an absolute URL", cfg.BaseURL)
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = DefaultAttemptTimeout
	}
	stats := &counters{}
	tr := &transport{base: cfg.Transport, policy: cfg.Policy.withDefaults(), timeout: cfg.AttemptTimeout,
		stats: stats, sleep: sleepCtx, now: time.Now}
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cfg.Credential, []string{cfg.Scope}, []string{base.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph: authentication provider: %w", err)
	}
	// The SDK's default middleware includes its own retry handler; this
	// client's transport is the one throttling policy, so the adapter gets a
	// plain client over it.
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, &http.Client{Transport: tr})
	if err != nil {
		return nil, fmt.Errorf("graph: request adapter: %w", err)
	}
	adapter.SetBaseUrl(base.String())
	return &Client{sdk: msgraphsdk.NewGraphServiceClient(adapter), adapter: adapter, tr: tr, stats: stats, conc: cfg.Concurrency, base: base}, nil
}

// rebase points a persisted nextLink or deltaLink at this client's base
// URL. Links are stored between runs; the configured endpoint may have
// changed since (a national-cloud move, or locally a demo tenant on a new
// port), and a link must never lead a request anywhere but the configured
// Graph endpoint. A link outside the base path is refused.
func (c *Client) rebase(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return "", errors.New("graph: stored link is not an absolute URL")
	}
	if !strings.HasPrefix(u.Path, c.base.Path+"/") {
		return "", fmt.Errorf("graph: stored link is not under the configured base path %q", c.base.Path)
	}
	u.Scheme, u.Host = c.base.Scheme, c.base.Host
	return u.String(), nil
}

// Stats returns the client's counters since it was built.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// StaticToken is a TokenCredential that always returns the same token, for
// tests and the offline demo tenant.
type StaticToken string

// GetToken returns the token, valid for an hour.
func (s StaticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// ErrResyncRequired means the delta or paging link can no longer be used
// (410 Gone, syncStateNotFound, an expired token): start a full
// synchronisation.
var ErrResyncRequired = errors.New("graph: delta state expired; a full resync is required")

// Error is an error answer from Graph.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("graph: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// Transient reports whether retrying later may succeed.
func (e *Error) Transient() bool { return retryable(e.Status) || e.Status >= 500 }

// resyncCodes are the error codes meaning "start again from scratch".
var resyncCodes = map[string]bool{
	"syncstatenotfound": true, "resyncrequired": true, "syncstateinvalid": true,
	"badrequest_expiredtoken": true, "invaliddeltatoken": true,
}

func isResync(status int, code, msg string) bool {
	if status == http.StatusGone {
		return true
	}
	c := strings.ToLower(code)
	if resyncCodes[c] {
		return true
	}
	m := strings.ToLower(msg)
	return status == http.StatusBadRequest && (strings.Contains(m, "delta token is expired") || strings.Contains(m, "syncstatenotfound"))
}

// convert maps an SDK error to *Error (wrapping ErrResyncRequired where it
// applies), keeping budget exhaustion and cancellation recognisable.
func convert(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrBudgetExhausted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		e := &Error{Status: oe.GetStatusCode()}
		if me := oe.GetErrorEscaped(); me != nil {
			e.Code = deref(me.GetCode())
			e.Message = deref(me.GetMessage())
		}
		if isResync(e.Status, e.Code, e.Message) {
			return fmt.Errorf("%w: %w", ErrResyncRequired, e)
		}
		return e
	}
	var ae *abstractions.ApiError
	if errors.As(err, &ae) {
		e := &Error{Status: ae.ResponseStatusCode, Message: ae.Message}
		if isResync(e.Status, "", ae.Message) {
			return fmt.Errorf("%w: %w", ErrResyncRequired, e)
		}
		return e
	}
	return err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
