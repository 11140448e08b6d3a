// Package health is the Health function: GET /api/health reports the build
// version and whether each dependency answers, for operators' probes.
package health

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
)

// Pinger is a dependency that can say whether it is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config configures the Health function.
type Config struct {
	Version string
	// Timeout bounds each check.
	Timeout time.Duration
}

// Handler serves the Health function.
type Handler struct {
	cfg    Config
	checks map[string]Pinger
	now    func() time.Time
}

// New returns the Health function checking the named dependencies.
func New(cfg Config, checks map[string]Pinger) (*Handler, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	for name, p := range checks {
		if p == nil {
			return nil, errors.New("health: check " + name + " has no pinger")
		}
	}
	return &Handler{cfg: cfg, checks: checks, now: time.Now}, nil
}

// Check is one dependency's state.
type Check struct {
	Status    string `json:"status"`
	LatencyMS int64  `json:"latencyMs"`
	Error     string `json:"error,omitempty"`
}

// Report is the Health response body.
type Report struct {
	Status  string           `json:"status"`
	Version string           `json:"version"`
	Time    time.Time        `json:"time"`
	Checks  map[string]Check `json:"checks"`
}

// Invoke runs every check concurrently and answers 200 when all pass, 503
// otherwise.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	return funcapp.HTTPHandler(h.serve).Invoke(ctx, inv)
}

func (h *Handler) serve(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
	if req.Method != "GET" && req.Method != "HEAD" {
		return funcapp.Problem(405, "Method not allowed", "use GET", ""), nil
	}
	rep := Report{Status: "ok", Version: h.cfg.Version, Time: h.now().UTC(), Checks: map[string]Check{}}
	type result struct {
		name string
		c    Check
	}
	results := make(chan result, len(h.checks))
	for name, p := range h.checks {
		go func() {
			cctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
			defer cancel()
			start := h.now()
			err := p.Ping(cctx)
			c := Check{Status: "ok", LatencyMS: h.now().Sub(start).Milliseconds()}
			if err != nil {
				c.Status = "unreachable"
				c.Error = err.Error()
			}
			results <- result{name, c}
		}()
	}
	names := make([]string, 0, len(h.checks))
	for range h.checks {
		r := <-results
		rep.Checks[r.name] = r.c
		names = append(names, r.name)
	}
	sort.Strings(names)
	status := 200
	for _, n := range names {
		if rep.Checks[n].Status != "ok" {
			rep.Status = "degraded"
			status = 503
		}
	}
	return funcapp.JSON(status, rep), nil
}
