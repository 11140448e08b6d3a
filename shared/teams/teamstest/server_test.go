package teamstest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/teams/teamstest"
)

// recorder captures the server's test errors instead of failing the test.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

func (r *recorder) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

const goodCard = `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,
 "content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.5",
 "body":[{"type":"TextBlock","text":"hello"},{"type":"FactSet","facts":[{"title":"Supplier","value":"Example Ltd"}]}]}}]}`

func post(t *testing.T, url, contentType, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServerAnswers(t *testing.T) {
	tests := []struct {
		name        string
		url         func(s *teamstest.Server) string
		contentType string
		body        string
		wantStatus  int
		wantBody    string
		wantFlowErr string
	}{
		{"good card", nil, "application/json", goodCard, 202, "", ""},
		{"charset ok", nil, "application/json; charset=utf-8", goodCard, 202, "", ""},
		{"missing contentUrl", nil, "application/json", strings.Replace(goodCard, `"contentUrl":null,`, "", 1), 400,
			`{"error":{"code":"TriggerInputSchemaMismatch","message":"The input body for trigger 'manual' of type 'Request' did not match its schema definition. Error details: 'Required properties are missing from object: contentUrl.'."}}`, ""},
		{"legacy connector text", nil, "application/json", `{"text":"Hello World!"}`, 400, "Required properties are missing from object: type, attachments.", ""},
		{"not JSON content type", nil, "text/plain", goodCard, 202, "", "'foreach' expression"},
		{"message card", nil, "application/json", strings.Replace(goodCard, `"type":"AdaptiveCard"`, `"type":"MessageCard"`, 1), 202, "", "Property 'type' must be 'AdaptiveCard'"},
		{"version 1.6", nil, "application/json", strings.Replace(goodCard, `"version":"1.5"`, `"version":"1.6"`, 1), 202, "", "version 1.6"},
		{"oversize", nil, "application/json", strings.Replace(goodCard, `"hello"`, `"`+strings.Repeat("a", 30000)+`"`, 1), 202, "", "RequestEntityTooLarge"},
		{"wrong signature", func(s *teamstest.Server) string { return strings.Replace(s.URL(), "sig=", "sig=x", 1) }, "application/json", goodCard, 404, "WorkflowNotFound", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			s := teamstest.NewServer(rec)
			url := s.URL()
			if tt.url != nil {
				url = tt.url(s)
			}
			resp, body := post(t, url, tt.contentType, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != "" && !strings.Contains(body, tt.wantBody) {
				t.Errorf("body %s, want it to contain %s", body, tt.wantBody)
			}
			if tt.wantStatus == 400 && !json.Valid([]byte(body)) {
				t.Errorf("400 body is not JSON: %s", body)
			}
			reqs := s.Requests()
			if len(reqs) != 1 {
				t.Fatalf("recorded %d requests", len(reqs))
			}
			if !strings.Contains(reqs[0].FlowError, tt.wantFlowErr) || (tt.wantFlowErr == "") != (reqs[0].FlowError == "") {
				t.Errorf("FlowError = %q, want %q", reqs[0].FlowError, tt.wantFlowErr)
			}
			if got := len(rec.errors()) > 0; got != (tt.wantFlowErr != "") {
				t.Errorf("test errors reported = %v, want %v: %v", rec.errors(), tt.wantFlowErr != "", rec.errors())
			}
			if tt.name == "good card" {
				if got := reqs[0].Texts(); len(got) != 2 || got[0] != "hello" || got[1] != "Supplier: Example Ltd" {
					t.Errorf("Texts() = %q", got)
				}
				if len(s.Accepted()) != 1 {
					t.Errorf("Accepted() = %d cards, want 1", len(s.Accepted()))
				}
			}
		})
	}
}

func TestServerScript(t *testing.T) {
	s := teamstest.NewServer(t)
	s.Enqueue(teamstest.Throttled("2"), teamstest.ServerError())
	wantStatus := []int{429, 500, 202, 202}
	for i, want := range wantStatus {
		resp, body := post(t, s.URL(), "application/json", goodCard)
		if resp.StatusCode != want {
			t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, want)
		}
		if want == 429 && (resp.Header.Get("Retry-After") != "2" || body != "") {
			t.Errorf("429: Retry-After %q, body %q", resp.Header.Get("Retry-After"), body)
		}
	}
	if got := len(s.Accepted()); got != 2 {
		t.Errorf("Accepted() = %d, want 2", got)
	}
}

func TestServerSchemaCheckDoesNotConsumeScript(t *testing.T) {
	s := teamstest.NewServer(t)
	s.Enqueue(teamstest.ServerError())
	if resp, _ := post(t, s.URL(), "application/json", `{"text":"x"}`); resp.StatusCode != 400 {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	if resp, _ := post(t, s.URL(), "application/json", goodCard); resp.StatusCode != 500 {
		t.Fatalf("status %d, want the scripted 500", resp.StatusCode)
	}
}

func TestServerHangReleasedOnClose(t *testing.T) {
	s := teamstest.NewServer(t)
	s.Enqueue(teamstest.Hang())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL(), strings.NewReader(goodCard))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Second)
	for len(s.Requests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-done:
		t.Fatal("hung request answered before Close")
	default:
	}
	s.Close()
	s.Close() // idempotent
	select {
	case err := <-done:
		if err == nil {
			t.Error("released request got an answer, want a dropped connection")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hung request")
	}
}
