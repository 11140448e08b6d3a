package localhost

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/testutil"
)

// echo answers with the function name and the request it received.
func echo(name string, seen chan<- funcapp.HTTPRequest) funcapp.Handler {
	return funcapp.HandlerFunc(func(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
		req, err := inv.HTTPRequest("req")
		if err != nil {
			return funcapp.Result{}, err
		}
		if seen != nil {
			select {
			case seen <- req:
			default:
			}
		}
		return funcapp.JSON(200, map[string]any{"fn": name, "params": req.Params, "sys": inv.Sys().MethodName}), nil
	})
}

func TestHTTPTriggers(t *testing.T) {
	seen := make(chan funcapp.HTTPRequest, 1)
	handlers := map[string]funcapp.Handler{
		"Contracts":  echo("Contracts", seen),
		"Files":      echo("Files", nil),
		"Apps":       echo("Apps", nil),
		"AppsLatest": echo("AppsLatest", nil),
		"Hello":      echo("Hello", nil),
		"Boom": funcapp.HandlerFunc(func(context.Context, funcapp.Invocation) (funcapp.Result, error) {
			return funcapp.Result{}, errBoom
		}),
		"Custom": funcapp.HandlerFunc(func(context.Context, funcapp.Invocation) (funcapp.Result, error) {
			return funcapp.Result{Outputs: map[string]any{"res": map[string]any{
				"statusCode": 202, "headers": map[string]any{"X-Thing": "a", "Content-Type": "application/json"}, "body": map[string]any{"ok": true},
			}}}, nil
		}),
		"Ret": funcapp.HandlerFunc(func(context.Context, funcapp.Invocation) (funcapp.Result, error) {
			return funcapp.Result{ReturnValue: map[string]any{"statusCode": "418", "body": "teapot"}}, nil
		}),
		"NoStatus": funcapp.HandlerFunc(func(context.Context, funcapp.Invocation) (funcapp.Result, error) {
			return funcapp.Result{Outputs: map[string]any{"res": map[string]any{"body": "plain"}}}, nil
		}),
	}
	fj := func(route string, methods ...string) string {
		b := map[string]any{"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "function"}
		if route != "" {
			b["route"] = route
		}
		if len(methods) > 0 {
			b["methods"] = methods
		}
		out, _ := json.Marshal(map[string]any{"bindings": []any{b, map[string]any{"type": "http", "direction": "out", "name": "res"}}})
		return string(out)
	}
	dir := writeApp(t, testHostJSON, map[string]string{
		"Contracts":  fj("contracts/{id:int?}", "get", "POST"),
		"Files":      fj("files/{*rest}", "get"),
		"Apps":       fj("apps/{id:guid}"),
		"AppsLatest": fj("apps/latest"),
		"Hello":      fj(""),
		"Boom":       fj("boom"),
		"Custom":     fj("custom"),
		"Ret":        `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","route":"ret"},{"type":"http","direction":"out","name":"$return"}]}`,
		"NoStatus":   fj("nostatus"),
	})
	h := startHost(t, Options{AppDir: dir, Worker: testWorker(t, handlers), MaxRequestBodyBytes: 1 << 20})

	tests := []struct {
		name, method, path string
		status             int
		fn                 string
		params             map[string]string
	}{
		{"default route is the function name", "GET", "/api/Hello", 200, "Hello", map[string]string{}},
		{"literal match is case-insensitive", "GET", "/API/hello", 200, "Hello", map[string]string{}},
		{"optional param absent", "GET", "/api/contracts", 200, "Contracts", map[string]string{}},
		{"int param", "GET", "/api/contracts/42", 200, "Contracts", map[string]string{"id": "42"}},
		{"int constraint fails", "GET", "/api/contracts/abc", 404, "", nil},
		{"method list is case-insensitive", "POST", "/api/contracts/1", 200, "Contracts", map[string]string{"id": "1"}},
		{"wrong method is 404 as in the host", "DELETE", "/api/contracts/1", 404, "", nil},
		{"catch-all", "GET", "/api/files/a/b.txt", 200, "Files", map[string]string{"rest": "a/b.txt"}},
		{"catch-all empty", "GET", "/api/files", 200, "Files", map[string]string{}},
		{"guid", "GET", "/api/apps/0f8fad5b-d9cb-469f-a165-70867728950e", 200, "Apps", map[string]string{"id": "0f8fad5b-d9cb-469f-a165-70867728950e"}},
		{"literal beats parameter", "GET", "/api/apps/latest", 200, "AppsLatest", map[string]string{}},
		{"guid constraint fails", "GET", "/api/apps/123", 404, "", nil},
		{"no route prefix", "GET", "/hello", 404, "", nil},
		{"unknown route", "GET", "/api/nothing", 404, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := httpDo(t, tt.method, h.url(tt.path), "", nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tt.status, body)
			}
			if tt.fn == "" {
				return
			}
			var got struct {
				Fn     string            `json:"fn"`
				Params map[string]string `json:"params"`
				Sys    string            `json:"sys"`
			}
			must(t, json.Unmarshal([]byte(body), &got))
			if got.Fn != tt.fn || got.Sys != tt.fn {
				t.Fatalf("served by %q (sys %q), want %q", got.Fn, got.Sys, tt.fn)
			}
			if len(got.Params) != len(tt.params) {
				t.Fatalf("params %v, want %v", got.Params, tt.params)
			}
			for k, v := range tt.params {
				if got.Params[k] != v {
					t.Fatalf("params %v, want %v", got.Params, tt.params)
				}
			}
		})
	}

	t.Run("request shape", func(t *testing.T) {
		for len(seen) > 0 {
			<-seen
		}
		resp, _ := httpDo(t, "POST", h.url("/api/contracts/5?status=open&tag=a&tag=b"), `{"title":"x"}`,
			map[string]string{"Content-Type": "application/json", "X-Request-Id": "r-1"})
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		req := recv(t, seen, 30*time.Second, "request at the handler")
		if req.Method != "POST" || !strings.HasSuffix(req.URL, "/api/contracts/5?status=open&tag=a&tag=b") {
			t.Errorf("method %q url %q", req.Method, req.URL)
		}
		if req.Query["status"] != "open" || req.Query["tag"] != "a,b" {
			t.Errorf("query %v", req.Query)
		}
		if req.Header("X-Request-Id") != "r-1" || req.Header("Content-Type") != "application/json" || req.Header("Host") == "" {
			t.Errorf("headers %v", req.Headers)
		}
		if req.Params["id"] != "5" {
			t.Errorf("params %v", req.Params)
		}
		if string(req.Body) != `{"title":"x"}` {
			t.Errorf("body %q", req.Body)
		}
	})

	t.Run("response mapping", func(t *testing.T) {
		tests := []struct {
			path, body, ctype, header string
			status                    int
		}{
			{"/api/custom", `{"ok":true}`, "application/json", "a", 202},
			{"/api/ret", "teapot", "text/plain; charset=utf-8", "", 418},
			{"/api/nostatus", "plain", "text/plain; charset=utf-8", "", 200},
			{"/api/boom", "", "", "", 500},
		}
		for _, tt := range tests {
			resp, body := httpDo(t, "GET", h.url(tt.path), "", nil)
			if resp.StatusCode != tt.status || body != tt.body || resp.Header.Get("Content-Type") != tt.ctype || resp.Header.Get("X-Thing") != tt.header {
				t.Errorf("%s: %d %q type %q X-Thing %q; want %d %q %q %q", tt.path, resp.StatusCode, body,
					resp.Header.Get("Content-Type"), resp.Header.Get("X-Thing"), tt.status, tt.body, tt.ctype, tt.header)
			}
		}
	})

	t.Run("body limit", func(t *testing.T) {
		req, _ := http.NewRequest("POST", h.url("/api/contracts"), strings.NewReader(strings.Repeat("x", 1<<20+1)))
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
}

func TestAdminAPI(t *testing.T) {
	conn := testutil.Azurite(t)
	queue := testutil.UniqueName("admin")
	type call struct {
		inv funcapp.Invocation
	}
	calls := make(chan call, 10)
	record := funcapp.HandlerFunc(func(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
		calls <- call{inv}
		return funcapp.Result{}, nil
	})
	handlers := map[string]funcapp.Handler{"Tick": record, "OnQueue": record, "OnBus": record, "Hello": echo("Hello", nil)}
	dir := writeApp(t, testHostJSON, map[string]string{
		"Tick":    `{"bindings":[{"name":"myTimer","type":"timerTrigger","direction":"in","schedule":"0 0 0 1 1 *"}]}`,
		"OnQueue": `{"bindings":[{"name":"msg","type":"queueTrigger","direction":"in","queueName":"` + queue + `","connection":"AzureWebJobsStorage"}]}`,
		"OnBus":   `{"bindings":[{"name":"msg","type":"serviceBusTrigger","direction":"in","queueName":"` + queue + `-sb","connection":"ServiceBus"}]}`,
		"Hello":   `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in"},{"name":"res","type":"http","direction":"out"}]}`,
	})
	h := startHost(t, Options{AppDir: dir, Worker: testWorker(t, handlers), StorageConnectionString: conn})

	resp, _ := httpDo(t, "POST", h.url("/admin/functions/Tick"), `{"input":""}`, map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("timer: status %d, want 202", resp.StatusCode)
	}
	c := recv(t, calls, 30*time.Second, "timer invocation")
	ti, err := c.inv.Timer("myTimer")
	must(t, err)
	if ti.IsPastDue || ti.Status != nil || !ti.AdjustForDST || c.inv.Function != "Tick" {
		t.Fatalf("timer info %+v function %q", ti, c.inv.Function)
	}
	select {
	case extra := <-calls:
		t.Fatalf("timer handler called twice: %+v", extra)
	case <-time.After(200 * time.Millisecond):
	}

	resp, _ = httpDo(t, "POST", h.url("/admin/functions/onqueue"), `{"input":"hello queue"}`, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("queue: status %d", resp.StatusCode)
	}
	c = recv(t, calls, 30*time.Second, "queue invocation")
	qm, err := c.inv.QueueMessage("msg")
	must(t, err)
	if string(qm.Body) != "hello queue" || qm.DequeueCount != 1 || qm.ID == "" {
		t.Fatalf("queue message %+v", qm)
	}

	resp, _ = httpDo(t, "POST", h.url("/admin/functions/OnBus"), `{"input":"{\"a\":1}"}`, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("bus: status %d", resp.StatusCode)
	}
	c = recv(t, calls, 30*time.Second, "bus invocation")
	sm, err := c.inv.ServiceBusMessage("msg")
	must(t, err)
	if string(sm.Body) != `{"a":1}` || sm.DeliveryCount != 1 || sm.ContentType != "application/json" {
		t.Fatalf("bus message %+v", sm)
	}

	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{"POST", "/admin/functions/Nope", 404},
		{"POST", "/admin/functions/Hello", 400},
		{"POST", "/admin/functions/Tick", 202},
		{"GET", "/admin/host/status", 200},
	} {
		resp, body := httpDo(t, tt.method, h.url(tt.path), `{"input":""}`, nil)
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s: %d %q, want %d", tt.method, tt.path, resp.StatusCode, body, tt.status)
		}
	}
	recv(t, calls, 30*time.Second, "second timer invocation")

	resp, body := httpDo(t, "GET", h.url("/admin/functions"), "", nil)
	var list []FunctionInfo
	must(t, json.Unmarshal([]byte(body), &list))
	if resp.StatusCode != 200 || len(list) != 4 || list[0].Name != "Hello" || list[0].Trigger != TriggerHTTP ||
		list[2].Queue != queue || list[3].Schedule != "0 0 0 1 1 *" {
		t.Fatalf("list %d %+v", resp.StatusCode, list)
	}
	if err := h.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
