// Package faultnet injects network faults into HTTP exchanges, so that tests
// can prove the end state of a run under dropped connections and slow
// answers.
//
// A [Plan] is a script of [Rule]s: which requests (method, path, how many to
// let through first, how many to hit) get which [Fault]. [Plan.Handler]
// wraps a server's handler, so the faults happen on a real TCP connection:
// wrap an httptest stand-in before starting it (graphtest.NewUnstarted), or
// put [NewProxy] in front of a stand-in whose server is not reachable.
//
// Faults come in two kinds, because a client cannot tell them apart while
// the server can: Drop, Reset and Stall never hand the request to the
// server's handler (the request did not "arrive"); DropAfter, Truncate,
// Slow and Trickle let the handler process it and then spoil the answer (a
// retry is a second delivery).
package faultnet

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/testutil"
)

// Fault is what happens to a request a rule hits.
type Fault int

const (
	// Drop closes the connection before the server's handler sees the
	// request: nothing is processed and no byte of an answer is sent.
	Drop Fault = iota + 1
	// Reset is Drop with a TCP reset (RST) instead of an orderly close.
	Reset
	// Stall holds the request unprocessed until the client gives up (or
	// Delay passes), then drops the connection.
	Stall
	// DropAfter lets the handler process the request, then closes the
	// connection without sending its answer.
	DropAfter
	// Truncate lets the handler process the request, sends the status, the
	// headers (with the full Content-Length) and half of the body, then
	// closes the connection.
	Truncate
	// Slow lets the handler process the request and sends its answer only
	// once Delay has passed; set Delay beyond the client's timeout. With a
	// zero Delay the answer is never sent.
	Slow
	// Trickle lets the handler process the request, sends the headers at
	// once and then the body one byte every Delay (default 50ms).
	Trickle
)

var faultNames = [...]string{Drop: "drop", Reset: "reset", Stall: "stall", DropAfter: "drop-after",
	Truncate: "truncate", Slow: "slow", Trickle: "trickle"}

// String names the fault.
func (f Fault) String() string {
	if f > 0 && int(f) < len(faultNames) {
		return faultNames[f]
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// Processed reports whether the server's handler processes a request that
// meets this fault.
func (f Fault) Processed() bool { return f >= DropAfter && f <= Trickle }

// maxHold bounds how long Stall and Slow hold a request whose client does
// not give up, so that a test server can always close.
const maxHold = time.Minute

// Rule says which requests get a fault.
type Rule struct {
	Fault Fault
	// Method matches the request method exactly; "" matches any.
	Method string
	// Path matches when it is a substring of the request's URL path; ""
	// matches any.
	Path string
	// After lets this many matching requests through before the first
	// fault.
	After int
	// Times is how many matching requests get the fault (default 1; a
	// negative value means every one after After).
	Times int
	// Delay is how long Stall and Slow hold a request (0: until the client
	// gives up) and the pause between Trickle's bytes.
	Delay time.Duration
}

type rule struct {
	Rule
	seen, fired int
}

func (r *rule) matches(req *http.Request) bool {
	return (r.Method == "" || r.Method == req.Method) && strings.Contains(req.URL.Path, r.Path)
}

// Event is one injected fault.
type Event struct {
	Fault  Fault
	Method string
	Path   string
}

// Plan is a script of faults. It is safe for concurrent use; rules may be
// added while requests are served.
type Plan struct {
	mu       sync.Mutex
	rules    []*rule
	requests int
	events   []Event
}

// NewPlan returns a plan of rules.
func NewPlan(rules ...Rule) *Plan {
	p := &Plan{}
	p.Add(rules...)
	return p
}

// Add appends rules. A request is counted by every rule it matches and gets
// the fault of the first rule that is due.
func (p *Plan) Add(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rules {
		if r.Times == 0 {
			r.Times = 1
		}
		p.rules = append(p.rules, &rule{Rule: r})
	}
}

// Clear removes every rule: the network heals. Counts and events stay.
func (p *Plan) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Requests returns how many requests the plan has seen.
func (p *Plan) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Events returns the faults injected so far, in order.
func (p *Plan) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// Fired returns how many faults were injected.
func (p *Plan) Fired() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
}

// next counts req and returns the rule due for it, or nil.
func (p *Plan) next(req *http.Request) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	var due *Rule
	for _, r := range p.rules {
		if !r.matches(req) {
			continue
		}
		r.seen++
		if due == nil && r.seen > r.After && (r.Times < 0 || r.fired < r.Times) {
			r.fired++
			due = &r.Rule
		}
	}
	if due != nil {
		p.events = append(p.events, Event{Fault: due.Fault, Method: req.Method, Path: req.URL.Path})
	}
	return due
}

// Handler returns next with the plan's faults injected.
func (p *Plan) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rule := p.next(r)
		if rule == nil {
			next.ServeHTTP(w, r)
			return
		}
		switch rule.Fault {
		case Drop:
			hangUp(w, false)
			return
		case Reset:
			hangUp(w, true)
			return
		case Stall:
			// Read the body so that the server notices the client leaving.
			_, _ = io.Copy(io.Discard, r.Body)
			hold(r, rule.Delay)
			hangUp(w, false)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		switch rule.Fault {
		case DropAfter:
			hangUp(w, false)
		case Truncate:
			writeHead(w, rec, len(body))
			_, _ = w.Write(body[:len(body)/2])
			_ = http.NewResponseController(w).Flush()
			// Closes the connection mid-body without logging.
			panic(http.ErrAbortHandler)
		case Slow:
			if !hold(r, rule.Delay) || rule.Delay <= 0 {
				hangUp(w, false)
				return
			}
			writeHead(w, rec, len(body))
			_, _ = w.Write(body)
		case Trickle:
			d := rule.Delay
			if d <= 0 {
				d = 50 * time.Millisecond
			}
			writeHead(w, rec, len(body))
			rc := http.NewResponseController(w)
			_ = rc.Flush()
			for i := range body {
				if !hold(r, d) {
					return
				}
				if _, err := w.Write(body[i : i+1]); err != nil {
					return
				}
				_ = rc.Flush()
			}
		default:
			panic("faultnet: unknown fault " + rule.Fault.String())
		}
	})
}

// hold waits d (0: until the client gives up, at most maxHold). It reports
// whether the client is still there.
func hold(r *http.Request, d time.Duration) bool {
	if d <= 0 || d > maxHold {
		d = maxHold
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return r.Context().Err() == nil
	case <-r.Context().Done():
		return false
	}
}

// hangUp closes the connection under the handler, with a TCP reset when
// reset is set.
func hangUp(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 or a recorder: abort instead
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func writeHead(w http.ResponseWriter, rec *httptest.ResponseRecorder, n int) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(rec.Code)
}

// NewProxy starts a reverse proxy to target (scheme://host) that injects
// p's faults, for stand-ins whose own server cannot be wrapped. Requests to
// the proxy's URL with the stand-in's path and query reach the stand-in.
// The proxy is closed when the test ends.
func NewProxy(tb testing.TB, target string, p *Plan) *httptest.Server {
	tb.Helper()
	return testutil.NewReverseProxy(tb, target, p.Handler)
}

// Rehost returns raw with its scheme and host replaced by those of base:
// the stand-in URL as seen through a proxy.
func Rehost(raw, base string) string {
	u, err := url.Parse(raw)
	b, err2 := url.Parse(base)
	if err != nil || err2 != nil {
		return raw
	}
	u.Scheme, u.Host = b.Scheme, b.Host
	return u.String()
}
