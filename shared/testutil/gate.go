package testutil

import (
	"context"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Passer is a Gate, in this process or (RemoteGate) in the parent of a
// child process.
type Passer interface {
	// Pass records that the caller reached point and returns when it may
	// go on; an error means its context ended while it was held.
	Pass(ctx context.Context, point string) error
}

// Gate holds a job at a chosen point, so that a test can crash the
// process or cut off a dependency while the job is provably mid-way.
// Code on the job's path (a stand-in's handler, a wrapped transport)
// calls Pass with a point name; the Gate counts the passes of each point,
// and from the at-th pass of the chosen point on it holds every caller,
// whatever its point, until Release (holding everything keeps retries and
// concurrent requests from slipping past).
type Gate struct {
	point string
	at    int

	mu       sync.Mutex
	counts   map[string]int
	reached  chan struct{}
	released chan struct{}
	paused   bool
	freed    bool
}

// NewGate returns a gate that holds callers from the at-th pass of point
// on. An empty point never holds anyone (a gate that only counts).
func NewGate(point string, at int) *Gate {
	return &Gate{point: point, at: at, counts: map[string]int{}, reached: make(chan struct{}), released: make(chan struct{})}
}

// Pass counts a pass of point and holds the caller while the gate is
// closed.
func (g *Gate) Pass(ctx context.Context, point string) error {
	g.mu.Lock()
	g.counts[point]++
	if !g.paused && g.point != "" && point == g.point && g.counts[point] >= g.at {
		g.paused = true
		close(g.reached)
	}
	hold := g.paused && !g.freed
	g.mu.Unlock()
	if !hold {
		return nil
	}
	select {
	case <-g.released:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Reached is closed when the gate first holds a caller.
func (g *Gate) Reached() <-chan struct{} { return g.reached }

// WaitReached waits up to timeout for the gate to hold a caller. When
// child is not nil, its exit ends the wait early; either way the test
// fails with what child printed.
func (g *Gate) WaitReached(tb testing.TB, timeout time.Duration, child *Child) {
	tb.Helper()
	var exited <-chan struct{}
	out := func() string { return "" }
	if child != nil {
		exited, out = child.Done(), child.Output
	}
	select {
	case <-g.reached:
	case <-exited:
		tb.Fatalf("%s exited before reaching the gate at %s #%d (passes %v):\n%s", child.name, g.point, g.at, g.Counts(), out())
	case <-time.After(timeout):
		tb.Fatalf("nothing reached the gate at %s #%d within %s (passes %v):\n%s", g.point, g.at, timeout, g.Counts(), out())
	}
}

// Release lets every held caller, and all later ones, through.
func (g *Gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.freed {
		g.freed = true
		close(g.released)
	}
}

// Count returns the passes of point so far.
func (g *Gate) Count(point string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.counts[point]
}

// Counts returns the passes of every point so far.
func (g *Gate) Counts() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.counts)
}

// Wrap returns next behind the gate: each request whose point (named by
// classify; "" for none) is passed before next serves it. A held request
// is dropped when its client goes away.
func (g *Gate) Wrap(next http.Handler, classify func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := classify(r); p != "" {
			if err := g.Pass(r.Context(), p); err != nil {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Serve serves the gate over HTTP for RemoteGate (in a child process) and
// returns its URL; the server closes when the test ends.
func (g *Gate) Serve(tb testing.TB) string {
	tb.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.Pass(r.Context(), r.URL.Query().Get("point")); err != nil {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	tb.Cleanup(func() {
		g.Release()
		s.Close()
	})
	return s.URL
}

// Proxy serves target (a base URL, such as Azurite's table endpoint)
// through the gate: requests pass Wrap's gate before they are forwarded,
// so a held request has not reached target. It returns the proxy's base
// URL (same path as target); the proxy closes when the test ends.
func (g *Gate) Proxy(tb testing.TB, target string, classify func(*http.Request) string) string {
	tb.Helper()
	s := NewReverseProxy(tb, target, func(h http.Handler) http.Handler { return g.Wrap(h, classify) })
	tb.Cleanup(g.Release) // runs before the proxy closes, which waits for held requests
	u, _ := url.Parse(target)
	return s.URL + u.Path
}

// NewReverseProxy starts a server forwarding every request, path and query
// kept, to target's scheme and host through wrap (a gate, injected
// faults). Forwarding errors are expected in such tests and not logged.
// The server closes when the test ends.
func NewReverseProxy(tb testing.TB, target string, wrap func(http.Handler) http.Handler) *httptest.Server {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		tb.Fatalf("proxy target %q is not an absolute URL", target)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	rp.ErrorLog = log.New(io.Discard, "", 0)
	s := httptest.NewServer(wrap(rp))
	tb.Cleanup(s.Close)
	return s
}

// ReplaceEndpoint returns the storage connection string conn with its
// endpoint key (e.g. "TableEndpoint") set to url.
func ReplaceEndpoint(conn, key, url string) string {
	parts := strings.Split(strings.TrimSuffix(conn, ";"), ";")
	out := parts[:0]
	for _, p := range parts {
		if k, _, _ := strings.Cut(p, "="); !strings.EqualFold(k, key) {
			out = append(out, p)
		}
	}
	return strings.Join(append(out, key+"="+url), ";") + ";"
}

// Endpoint returns the value of key (e.g. "TableEndpoint") in the storage
// connection string conn.
func Endpoint(conn, key string) string {
	for _, p := range strings.Split(conn, ";") {
		if k, v, _ := strings.Cut(p, "="); strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// RemoteGate passes the Gate a parent process serves (Gate.Serve).
type RemoteGate struct{ URL string }

// Pass asks the parent's gate; it returns when the gate lets it on.
func (r RemoteGate) Pass(ctx context.Context, point string) error {
	if r.URL == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"?point="+url.QueryEscape(point), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("gate %s: %w", point, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("gate %s: %s", point, resp.Status)
	}
	return nil
}
