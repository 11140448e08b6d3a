// Package teamstest provides an httptest stand-in for a Teams Workflows
// webhook ("When a Teams webhook request is received").
//
// It behaves as the real endpoint does, as far as the project's reference
// notes record it:
//
//   - A JSON body that does not match the trigger's schema (type, attachments,
//     and per attachment contentType, contentUrl and content are required) is
//     refused synchronously with 400 and
//     {"error":{"code":"TriggerInputSchemaMismatch","message":…}}.
//   - Anything else is answered 202 Accepted with an empty body, and the card
//     is posted by the flow later. A card the flow could not post (not an
//     AdaptiveCard, a version Teams does not render, no body, over 28 KB, or a
//     body that was not sent as application/json) fails only in the flow's
//     run history: the server records it in [Request.FlowError] and reports it
//     as a test error, since the sender would never find out.
//   - Scripted answers ([Server.Enqueue]) stand in for throttling (429 with
//     Retry-After and an empty body), server faults, and hangs.
package teamstest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Signature is the sig query value of [Server.URL]: the credential part of a
// webhook URL. Tests assert it never appears in errors or logs.
const Signature = "s3cr3tSig-DO-NOT-LEAK-0123456789abcdef"

// FlowPath is the path of [Server.URL], shaped like a Power Platform
// workflow trigger URL.
const FlowPath = "/powerautomate/automations/direct/workflows/0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e/triggers/manual/paths/invoke"

// MaxCardBytes is the size beyond which the flow cannot post the card.
const MaxCardBytes = 28 * 1024

// Response is one scripted answer.
type Response struct {
	Status int
	Header http.Header
	Body   string
	// Hang makes the server wait, without answering, until the client gives
	// up or the server closes.
	Hang bool
}

// Accepted is the normal answer: 202, no body.
func Accepted() Response { return Response{Status: http.StatusAccepted} }

// SchemaMismatch is the 400 the trigger returns for a body that does not
// match its schema; detail is the "Error details" part of the message.
func SchemaMismatch(detail string) Response {
	return jsonError(http.StatusBadRequest, "TriggerInputSchemaMismatch",
		"The input body for trigger 'manual' of type 'Request' did not match its schema definition. Error details: '"+detail+"'.")
}

// Throttled is a 429 with the given Retry-After value (seconds or an HTTP
// date; omitted when empty) and an empty body.
func Throttled(retryAfter string) Response {
	r := Response{Status: http.StatusTooManyRequests, Header: http.Header{}}
	if retryAfter != "" {
		r.Header.Set("Retry-After", retryAfter)
	}
	return r
}

// ServerError is a 500 with a JSON error body.
func ServerError() Response {
	return jsonError(http.StatusInternalServerError, "InternalServerError", "The server encountered an internal error. Please retry the request.")
}

// Status is a bare answer with the given status and a JSON error body.
func Status(code int) Response {
	return jsonError(code, strings.ReplaceAll(http.StatusText(code), " ", ""), http.StatusText(code))
}

// Hang never answers.
func Hang() Response { return Response{Hang: true} }

func jsonError(status int, code, message string) Response {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}})
	return Response{
		Status: status,
		Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body:   string(b),
	}
}

// Request is one request the server received.
type Request struct {
	Method      string
	ContentType string
	Header      http.Header
	Body        []byte
	// Card is the first attachment's content, decoded; nil if absent.
	Card map[string]any
	// Status is what the server answered (0 for a hang).
	Status int
	// FlowError is why the flow would fail to post the card after a 202;
	// empty when it would post.
	FlowError string
}

// Texts returns every "text" of the card's TextBlocks and every fact
// "title: value", in document order, for assertions.
func (r Request) Texts() []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			switch v["type"] {
			case "TextBlock":
				if s, ok := v["text"].(string); ok {
					out = append(out, s)
				}
			case "FactSet":
				facts, _ := v["facts"].([]any)
				for _, f := range facts {
					if m, ok := f.(map[string]any); ok {
						out = append(out, fmt.Sprintf("%v: %v", m["title"], m["value"]))
					}
				}
				return
			}
			for _, k := range []string{"body", "items", "columns"} {
				walk(v[k])
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(r.Card)
	return out
}

// Server is the stand-in webhook.
type Server struct {
	t      testing.TB
	srv    *httptest.Server
	closed chan struct{}

	mu       sync.Mutex
	script   []Response
	requests []Request
}

// NewServer starts a stand-in webhook, closed when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, closed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// URL returns the webhook URL, path and signature included.
func (s *Server) URL() string {
	return s.srv.URL + FlowPath + "?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + Signature
}

// Close stops the server, releasing any hung requests. It is safe to call
// more than once.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return
	default:
		close(s.closed)
	}
	s.mu.Unlock()
	s.srv.Close()
}

// Enqueue scripts the next answers, used in order for requests that pass
// the schema check. When the script runs out the server answers 202.
func (s *Server) Enqueue(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, rs...)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Accepted returns the cards the server accepted (answered 2xx) that the
// flow would post.
func (s *Server) Accepted() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Status >= 200 && r.Status < 300 && r.FlowError == "" {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := Request{Method: r.Method, ContentType: r.Header.Get("Content-Type"), Header: r.Header.Clone(), Body: body}
	resp := s.answer(r, body, &rec)

	s.mu.Lock()
	if resp.Hang {
		rec.Status = 0
	} else {
		rec.Status = resp.Status
	}
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	if rec.FlowError != "" {
		s.t.Errorf("teamstest: request answered 202 but the flow would fail to post it: %s", rec.FlowError)
	}
	if resp.Hang {
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		// Drop the connection without an answer, as a timed-out gateway would.
		panic(http.ErrAbortHandler)
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.Status)
	_, _ = io.WriteString(w, resp.Body)
}

// answer decides the response for one request and fills in rec.
func (s *Server) answer(r *http.Request, body []byte, rec *Request) Response {
	if r.URL.Path != FlowPath || r.URL.Query().Get("sig") != Signature {
		return jsonError(http.StatusNotFound, "WorkflowNotFound", "The workflow could not be found.")
	}
	if r.Method != http.MethodPost {
		return jsonError(http.StatusMethodNotAllowed, "MethodNotAllowed", "The HTTP method is not allowed for this trigger.")
	}
	mt, _, _ := mime.ParseMediaType(rec.ContentType)
	isJSON := mt == "application/json"

	var env map[string]any
	if isJSON {
		if err := json.Unmarshal(body, &env); err != nil {
			return SchemaMismatch("Invalid type. Expected Object but got String.")
		}
		if detail := schemaProblem(env); detail != "" {
			return SchemaMismatch(detail)
		}
		if atts, _ := env["attachments"].([]any); len(atts) > 0 {
			a, _ := atts[0].(map[string]any)
			rec.Card, _ = a["content"].(map[string]any)
		}
	}

	s.mu.Lock()
	resp := Accepted()
	if len(s.script) > 0 {
		resp = s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()

	if resp.Status >= 200 && resp.Status < 300 && !resp.Hang {
		rec.FlowError = flowProblem(isJSON, env, len(body))
	}
	return resp
}

// schemaProblem returns the trigger-schema complaint about env, or "".
func schemaProblem(env map[string]any) string {
	var missing []string
	for _, k := range []string{"type", "attachments"} {
		if _, ok := env[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return "Required properties are missing from object: " + strings.Join(missing, ", ") + "."
	}
	atts, ok := env["attachments"].([]any)
	if !ok {
		return "Invalid type. Expected Array but got " + jsonKind(env["attachments"]) + "."
	}
	for _, a := range atts {
		m, ok := a.(map[string]any)
		if !ok {
			return "Invalid type. Expected Object but got " + jsonKind(a) + "."
		}
		for _, k := range []string{"contentType", "contentUrl", "content"} {
			if _, ok := m[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return "Required properties are missing from object: " + strings.Join(missing, ", ") + "."
		}
	}
	return ""
}

// flowProblem returns why the flow's "post card" step would fail, or "".
func flowProblem(isJSON bool, env map[string]any, size int) string {
	if !isJSON {
		return "the result of the evaluation of 'foreach' expression '@triggerOutputs()?['body']?['attachments']' is of type 'Null'. The result must be a valid array."
	}
	if size > MaxCardBytes {
		return fmt.Sprintf("RequestEntityTooLarge: the message is %d bytes, over %d", size, MaxCardBytes)
	}
	atts, _ := env["attachments"].([]any)
	if len(atts) == 0 {
		return "no attachments to post"
	}
	for i, a := range atts {
		m, _ := a.(map[string]any)
		if m["contentType"] != "application/vnd.microsoft.card.adaptive" {
			return fmt.Sprintf("attachments[%d]: contentType %v is not an Adaptive Card", i, m["contentType"])
		}
		c, _ := m["content"].(map[string]any)
		if c["type"] != "AdaptiveCard" {
			return "The specified Teams flowbot adaptive card request is missing or invalid. Property 'type' must be 'AdaptiveCard'"
		}
		switch c["version"] {
		case "1.0", "1.1", "1.2", "1.3", "1.4", "1.5":
		default:
			return fmt.Sprintf("attachments[%d]: card version %v is not one Teams renders", i, c["version"])
		}
		if b, _ := c["body"].([]any); len(b) == 0 {
			return fmt.Sprintf("attachments[%d]: card body is empty", i)
		}
	}
	return ""
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "Null"
	case string:
		return "String"
	case float64:
		return "Number"
	case bool:
		return "Boolean"
	case []any:
		return "Array"
	}
	return "Object"
}
