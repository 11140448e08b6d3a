package funcapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Handler runs one function. Errors are retried by the host unless wrapped
// with Permanent.
type Handler interface {
	Invoke(ctx context.Context, inv Invocation) (Result, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, inv Invocation) (Result, error)

// Invoke calls f.
func (f HandlerFunc) Invoke(ctx context.Context, inv Invocation) (Result, error) { return f(ctx, inv) }

// MaxInvocationBytes bounds a host request body.
const MaxInvocationBytes = 64 << 20

// Server routes host invocations to handlers.
type Server struct {
	handlers map[string]Handler
	log      zerolog.Logger
	now      func() time.Time
}

// NewServer returns a server for the given functions, keyed by function name.
func NewServer(log zerolog.Logger, handlers map[string]Handler) *Server {
	return &Server{handlers: handlers, log: log, now: time.Now}
}

// Functions lists the registered function names, sorted.
func (s *Server) Functions() []string {
	names := make([]string, 0, len(s.handlers))
	for n := range s.handlers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ServeHTTP implements the custom-handler protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.Trim(r.URL.Path, "/")
	if name == "" {
		// Readiness: the host polls GET / until it gets any answer.
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "functions": s.Functions()})
		return
	}
	h, ok := s.lookup(name)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no function named %q is registered", name)})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invocations are POSTed"})
		return
	}
	id := r.Header.Get("X-Azure-Functions-InvocationId")
	log := s.log.With().Str("function", name).Str("invocationId", id).Logger()
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxInvocationBytes+1))
	if err != nil {
		log.Warn().Err(err).Msg("reading invocation body failed")
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "reading invocation body: " + err.Error()})
		return
	}
	if len(body) > MaxInvocationBytes {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "invocation body too large"})
		return
	}
	inv, err := DecodeInvocation(name, id, body)
	if err != nil {
		log.Warn().Err(err).Msg("malformed invocation")
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	ctx := log.WithContext(r.Context())
	start := s.now()
	res, err := safeInvoke(ctx, h, inv)
	elapsed := s.now().Sub(start)
	ev := log.Info()
	status := http.StatusOK
	outcome := "succeeded"
	switch {
	case err == nil:
	case IsPermanent(err):
		outcome = "failed-permanent"
		ev = log.Error().Err(err)
		res.Logs = append(res.Logs, "permanent failure, not retried: "+err.Error())
	default:
		outcome = "failed-retry"
		status = http.StatusInternalServerError
		ev = log.Error().Err(err)
	}
	ev.Str("outcome", outcome).Dur("duration", elapsed).Msg("invocation")
	if status != http.StatusOK {
		writeJSON(w, status, Result{Logs: []string{"transient failure, will be retried: " + err.Error()}})
		return
	}
	if res.Outputs == nil {
		res.Outputs = map[string]any{}
	}
	if res.Logs == nil {
		res.Logs = []string{}
	}
	writeJSON(w, status, res)
}

func (s *Server) lookup(name string) (Handler, bool) {
	if h, ok := s.handlers[name]; ok {
		return h, true
	}
	for n, h := range s.handlers { // the host treats function names case-insensitively
		if strings.EqualFold(n, name) {
			return h, true
		}
	}
	return nil, false
}

// safeInvoke turns a handler panic into a transient error so one bad
// invocation cannot take the process down.
func safeInvoke(ctx context.Context, h Handler, inv Invocation) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h.Invoke(ctx, inv)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Serve listens on 127.0.0.1:port and serves until ctx ends, then shuts down
// gracefully, letting in-flight invocations finish. ready, if not nil, is
// called once the listener is open.
func Serve(ctx context.Context, port string, h http.Handler, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return fmt.Errorf("listen on FUNCTIONS_CUSTOMHANDLER_PORT %s: %w", port, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// No write timeout: a function may legitimately run for the whole
		// functionTimeout, and the host bounds it.
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
