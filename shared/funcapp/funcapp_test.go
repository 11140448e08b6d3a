package funcapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestQueueMessageDecodesDocumentedAndQuotedMetadata(t *testing.T) {
	for _, tc := range []struct {
		file, binding, wantID, wantBody, wantPop string
		wantInserted                             time.Time
	}{
		{"docs.queue-trigger.request.json", "myQueueItem", "800ae4b3-bdd2-4c08-badd-f08e5a34b865", `{ message: "Message sent" }`, "AgAAAAMAAAAAAAAAAgtnj8x+1QE=", time.Date(2019, 10, 9, 17, 58, 31, 0, time.UTC)},
		{"karlgw-shape.queue.request.json", "queue", "4e773554-f6b7-4ea2-b07d-4c5fd5aba741", `{"message":"hello","number":2}`, "STRING", time.Date(2023, 10, 12, 20, 13, 49, 640002000, time.UTC)},
	} {
		t.Run(tc.file, func(t *testing.T) {
			inv, err := DecodeInvocation("Q", "inv-1", readFixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := inv.QueueMessage(tc.binding)
			if err != nil {
				t.Fatal(err)
			}
			if m.ID != tc.wantID || string(m.Body) != tc.wantBody || m.DequeueCount != 1 || m.PopReceipt != tc.wantPop {
				t.Errorf("got %+v", m)
			}
			if !m.InsertionTime.Equal(tc.wantInserted) {
				t.Errorf("InsertionTime = %v, want %v", m.InsertionTime, tc.wantInserted)
			}
			if inv.Sys().MethodName == "" || inv.Sys().UtcNow.IsZero() {
				t.Errorf("sys not decoded: %+v", inv.Sys())
			}
		})
	}
}

func TestServiceBusMessage(t *testing.T) {
	inv, err := DecodeInvocation("S", "i", readFixture(t, "servicebus.request.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := inv.ServiceBusMessage("msg")
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != "4e773554-f6b7-4ea2-b07d-4c5fd5aba741" || m.DeliveryCount != 3 || m.ContentType != "application/json" || m.SequenceNumber != 1 {
		t.Errorf("got %+v", m)
	}
	if !m.EnqueuedTimeUtc.Equal(time.Date(2023, 10, 12, 20, 13, 49, 0, time.UTC)) {
		t.Errorf("EnqueuedTimeUtc = %v", m.EnqueuedTimeUtc)
	}
	if metaString(m.ApplicationProperties["kind"]) != "contract-alert" {
		t.Errorf("ApplicationProperties = %s", m.ApplicationProperties)
	}
	var body struct{ Number int }
	if err := json.Unmarshal(m.Body, &body); err != nil || body.Number != 2 {
		t.Errorf("body %q: %v", m.Body, err)
	}
}

func TestTimerInfo(t *testing.T) {
	wrap := func(file string) []byte {
		return []byte(`{"Data":{"t":` + string(readFixture(t, file)) + `},"Metadata":{}}`)
	}
	for _, tc := range []struct {
		name     string
		body     []byte
		binding  string
		dst      bool
		status   bool
		lastZero bool
	}{
		{"docs", wrap("docs.timerinfo.json"), "t", false, true, false},
		{"docs-dst", wrap("docs.timerinfo.adjustfordst.json"), "t", true, true, false},
		{"spring", wrap("spring-sample.timerinfo.json"), "t", true, true, false},
		{"first-run", readFixture(t, "timer-first-run.request.json"), "myTimer", true, true, true},
		{"no-monitor", []byte(`{"Data":{"t":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":true}}}`), "t", true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := DecodeInvocation("T", "", tc.body)
			if err != nil {
				t.Fatal(err)
			}
			ti, err := inv.Timer(tc.binding)
			if err != nil {
				t.Fatal(err)
			}
			if ti.AdjustForDST != tc.dst || (ti.Status != nil) != tc.status {
				t.Fatalf("got %+v", ti)
			}
			if ti.Status != nil && ti.Status.Last.IsZero() != tc.lastZero {
				t.Errorf("Last = %v", ti.Status.Last)
			}
			if tc.name == "no-monitor" && !ti.IsPastDue {
				t.Error("IsPastDue lost")
			}
		})
	}
}

func TestHTTPRequest(t *testing.T) {
	inv, err := DecodeInvocation("order", "", readFixture(t, "docs.http-trigger-order.request.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := inv.HTTPRequest("req")
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.URL != "http://localhost:7071/api/order" || r.Header("content-type") != "application/json" || len(r.Query) != 0 {
		t.Errorf("got %+v", r)
	}
	if string(r.Body) != `{"id":1005,"quantity":2,"color":"black"}` {
		t.Errorf("body = %q", r.Body)
	}
	// Query as an object, headers as single strings, Params, binary body.
	raw := `{"Data":{"req":{"Method":"put","Url":"u","Query":{"a":"1"},"Headers":{"X-One":"v","Content-Type":["application/octet-stream"]},"Params":{"id":"C-1"},"Body":"AAEC"}}}`
	inv, _ = DecodeInvocation("x", "", []byte(raw))
	r, err = inv.HTTPRequest("req")
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "PUT" || r.Query["a"] != "1" || r.Header("X-One") != "v" || r.Params["id"] != "C-1" || !bytes.Equal(r.Body, []byte{0, 1, 2}) {
		t.Errorf("got %+v", r)
	}
}

func TestMetaString(t *testing.T) {
	for in, want := range map[string]string{
		`"\"abc\""`: "abc", `"abc"`: "abc", `1`: "1", `"1"`: "1", `null`: "", ``: "", `"\"\""`: "",
	} {
		if got := metaString(json.RawMessage(in)); got != want {
			t.Errorf("metaString(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeInvocationRejectsMalformed(t *testing.T) {
	for _, body := range []string{``, `[]`, `{"Data":[]}`, `{"Data":{}} x`, `nope`} {
		if _, err := DecodeInvocation("f", "", []byte(body)); err == nil {
			t.Errorf("DecodeInvocation(%q) accepted", body)
		}
	}
}

func newTestServer(t testing.TB, fns map[string]Handler) *httptest.Server {
	srv := httptest.NewServer(NewServer(zerolog.New(io.Discard), fns))
	t.Cleanup(srv.Close)
	return srv
}

func post(t testing.TB, url string, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-Azure-Functions-InvocationId", "11111111-2222-3333-4444-555555555555")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestServerProtocol(t *testing.T) {
	fns := map[string]Handler{
		"Order": HTTPHandler(func(ctx context.Context, r HTTPRequest) (Result, error) {
			return JSON(201, map[string]string{"got": string(r.Body)}), nil
		}),
		"Fails": HandlerFunc(func(context.Context, Invocation) (Result, error) { return Result{}, errors.New("storage down") }),
		"Bad": HandlerFunc(func(context.Context, Invocation) (Result, error) {
			return Result{}, Permanent(errors.New("message cannot be parsed"))
		}),
		"Panics": HandlerFunc(func(context.Context, Invocation) (Result, error) { panic("boom") }),
		"Broken": HTTPHandler(func(context.Context, HTTPRequest) (Result, error) { return Result{}, errors.New("secret detail") }),
		"Queue": HandlerFunc(func(ctx context.Context, inv Invocation) (Result, error) {
			m, err := inv.QueueMessage("myQueueItem")
			if err != nil {
				return Result{}, Permanent(err)
			}
			return Result{Logs: []string{"dequeue " + inv.MetaString("DequeueCount")}, ReturnValue: len(m.Body)}, nil
		}),
	}
	srv := newTestServer(t, fns)

	t.Run("ready", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET / = %v, %v", resp, err)
		}
		resp.Body.Close()
	})
	t.Run("http trigger", func(t *testing.T) {
		resp, b := post(t, srv.URL+"/Order", string(readFixture(t, "docs.http-trigger-order.request.json")))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		var res struct {
			Outputs map[string]HTTPOutput
			Logs    []string
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		out := res.Outputs["res"]
		if out.Status() != 201 || out.Headers["Content-Type"] != "application/json" || !strings.Contains(out.Body, "quantity") {
			t.Errorf("http output = %+v", out)
		}
	})
	t.Run("queue trigger", func(t *testing.T) {
		resp, b := post(t, srv.URL+"/queue", string(readFixture(t, "docs.queue-trigger.request.json")))
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"ReturnValue":27`) || !strings.Contains(string(b), "dequeue 1") {
			t.Errorf("status %d body %s", resp.StatusCode, b)
		}
	})
	for _, tc := range []struct {
		name, path, body string
		status           int
		contains         string
	}{
		{"transient error is 5xx", "/Fails", `{"Data":{}}`, 500, "storage down"},
		{"permanent error is 2xx", "/Bad", `{"Data":{}}`, 200, "permanent failure"},
		{"panic is 5xx", "/Panics", `{"Data":{}}`, 500, "panicked"},
		{"http error hides detail", "/Broken", string(readFixture(t, "docs.http-trigger-order.request.json")), 200, `"statusCode":"500"`},
		{"malformed body", "/Fails", `{"Data":`, 400, "invocation body"},
		{"unknown function", "/Nope", `{}`, 404, "Nope"},
		{"missing binding is permanent", "/Queue", `{"Data":{}}`, 200, "binding not in invocation data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := post(t, srv.URL+tc.path, tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.contains) {
				t.Errorf("status %d body %s; want %d containing %q", resp.StatusCode, b, tc.status, tc.contains)
			}
			if strings.Contains(string(b), "secret detail") {
				t.Error("internal error text reached the caller")
			}
		})
	}
}

func TestValidationProblemNamesFields(t *testing.T) {
	type in struct {
		Title string `json:"title"`
		Value int    `json:"annualValue"`
	}
	for _, tc := range []struct{ body, field string }{
		{`{"title":"x","annualValue":"lots"}`, "annualValue"},
		{`{"title":"x","colour":"red"}`, "colour"},
		{`{"title":`, "body"},
		{``, "body"},
		{`{} {}`, "body"},
	} {
		var v in
		err := DecodeJSON([]byte(tc.body), &v)
		if err == nil {
			t.Fatalf("%s: accepted", tc.body)
		}
		res := ValidationProblem(errors.Join(err))
		out := res.Outputs[HTTPOutputBinding].(HTTPOutput)
		var p ProblemDetails
		if err := json.Unmarshal([]byte(out.Body), &p); err != nil {
			t.Fatal(err)
		}
		if out.Status() != 400 || out.Headers["Content-Type"] != "application/problem+json" || p.Field != tc.field {
			t.Errorf("%s: got %d %+v", tc.body, out.Status(), p)
		}
	}
}

func TestResponseEncodesDocumentedShape(t *testing.T) {
	// The documented generic response decodes into Result and back.
	var r Result
	if err := json.Unmarshal(readFixture(t, "docs.generic.response.json"), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Logs) != 2 || r.ReturnValue != `{"hello":"world"}` || len(r.Outputs) != 2 {
		t.Errorf("got %+v", r)
	}
}

// BenchmarkInvocationOverhead measures the adapter's cost per invocation
// (decode, route, log, encode) with a handler that does nothing, over
// loopback HTTP as the host calls it.
func BenchmarkInvocationOverhead(b *testing.B) {
	body := string(readFixture(b, "docs.queue-trigger.request.json"))
	srv := newTestServer(b, map[string]Handler{"Q": HandlerFunc(func(ctx context.Context, inv Invocation) (Result, error) {
		_, err := inv.QueueMessage("myQueueItem")
		return Result{}, err
	})})
	client := srv.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Post(srv.URL+"/Q", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode)
		}
	}
}

// BenchmarkServeHTTPInProcess isolates the adapter from the network stack.
func BenchmarkServeHTTPInProcess(b *testing.B) {
	body := readFixture(b, "docs.queue-trigger.request.json")
	s := NewServer(zerolog.New(io.Discard), map[string]Handler{"Q": HandlerFunc(func(ctx context.Context, inv Invocation) (Result, error) {
		_, err := inv.QueueMessage("myQueueItem")
		return Result{}, err
	})})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/Q", bytes.NewReader(body))
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
