package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/localhost"
	"github.com/council-ict/govkit/shared/testutil"
	"github.com/rs/zerolog"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// handlerBinary builds the real handler once per test binary.
func handlerBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "govkit-handler")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "handler")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func localEnv(conn string) []string {
	return append(os.Environ(), "GOVKIT_STORAGE_CONNECTION_STRING="+conn, "GOVKIT_LOG_LEVEL=warn")
}

// startHandler runs the real binary as the host would and waits until GET /
// answers. It returns the base URL and the time from exec to ready.
func startHandler(tb testing.TB, conn string) (string, time.Duration) {
	tb.Helper()
	port := freePort(tb)
	cmd := exec.Command(handlerBinary(tb))
	cmd.Env = append(localEnv(conn), "FUNCTIONS_CUSTOMHANDLER_PORT="+port)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/")
		if err == nil {
			resp.Body.Close()
			return base, time.Since(start)
		}
		time.Sleep(2 * time.Millisecond)
	}
	tb.Fatal("handler did not become ready in 20s")
	return "", 0
}

// documentedPayload returns the reference payload for a trigger type, with
// the binding renamed to the function's own.
func documentedPayload(t *testing.T, trigger, bindingName string) string {
	t.Helper()
	file := map[string]string{
		"httpTrigger":       "docs.http-trigger-order.request.json",
		"queueTrigger":      "docs.queue-trigger.request.json",
		"serviceBusTrigger": "servicebus.request.json",
		"timerTrigger":      "timer-first-run.request.json",
	}[trigger]
	if file == "" {
		t.Fatalf("no documented payload for trigger %s", trigger)
	}
	b, err := os.ReadFile(filepath.Join("..", "shared", "funcapp", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Data     map[string]json.RawMessage
		Metadata map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	data := map[string]json.RawMessage{}
	for _, v := range doc.Data {
		data[bindingName] = v
	}
	out, _ := json.Marshal(map[string]any{"Data": data, "Metadata": doc.Metadata})
	return string(out)
}

// TestEveryFunctionAnswersDocumentedPayloads sends each function the
// documented payload of its trigger type straight to the real handler's
// port: every answer is a well-formed protocol response. A malformed body
// gets a 400 with a message, not a panic.
func TestEveryFunctionAnswersDocumentedPayloads(t *testing.T) {
	conn := testutil.Azurite(t)
	base, _ := startHandler(t, conn)
	for _, f := range registry() {
		t.Run(f.Name, func(t *testing.T) {
			tr, _ := trigger(readFunctionJSON(t, strings.ToLower(f.Name)))
			resp, err := http.Post(base+"/"+f.Name, "application/json", strings.NewReader(documentedPayload(t, tr.Type, tr.Name)))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var res struct {
				Outputs map[string]json.RawMessage
				Logs    []string
			}
			if err := json.Unmarshal(body, &res); err != nil {
				t.Fatalf("status %d, body is not a protocol response: %s", resp.StatusCode, body)
			}
			if resp.StatusCode != 200 && resp.StatusCode != 500 {
				t.Errorf("status %d: %s", resp.StatusCode, body)
			}
			if tr.Type == "httpTrigger" && res.Outputs["res"] == nil {
				t.Errorf("HTTP function gave no res output: %s", body)
			}

			resp, err = http.Post(base+"/"+f.Name, "application/json", strings.NewReader(`{"Data": nope`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(body), "invocation body") {
				t.Errorf("malformed body: status %d %s", resp.StatusCode, body)
			}
		})
	}
}

// startLocalHost stages the real binary and runs it under the local host
// with the settings make run uses (infra/local/local.settings.json) plus
// overrides, on addr ("127.0.0.1:0": any port). It returns the address and
// a function that stops the host and reports an unclean stop.
func startLocalHost(t *testing.T, addr string, overrides map[string]string, log io.Writer) (string, func()) {
	t.Helper()
	conn := testutil.Azurite(t)
	app := t.TempDir()
	b, err := os.ReadFile(handlerBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "handler"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	hostJSON, err := os.ReadFile("../host.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "host.json"), hostJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := stage(app); err != nil {
		t.Fatal(err)
	}
	// The settings make run uses, so a test fails when they are incomplete.
	settings, err := loadLocalSettings("../infra/local/local.settings.json")
	if err != nil {
		t.Fatal(err)
	}
	settings["AzureWebJobsStorage"], settings["GOVKIT_STORAGE_CONNECTION_STRING"] = conn, conn
	settings["GOVKIT_LOG_LEVEL"], settings["GOVKIT_LOG_FORMAT"] = "warn", "json"
	for k, v := range overrides {
		settings[k] = v
	}
	if log == nil {
		log = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- localhost.Run(ctx, localhost.Options{
			AppDir: app, Addr: addr, StorageConnectionString: conn, Settings: settings,
			Log: zerolog.New(log), Ready: func(a string) { ready <- a },
		})
	}()
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("local host stopped: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("local host not ready in 60s")
	}
	return addr, func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("clean stop: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("local host did not stop in 30s")
		}
	}
}

// TestLocalHostEndToEnd runs the real binary under the local host, as
// make run does, and calls it over HTTP.
func TestLocalHostEndToEnd(t *testing.T) {
	// No subscriptions: the notification URL of make run is another port.
	addr, stop := startLocalHost(t, "127.0.0.1:0", map[string]string{"SHAREPOINT_NOTIFICATION_URL": ""}, nil)
	resp, err := http.Get("http://" + addr + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var rep struct {
		Status string
		Checks map[string]struct{ Status string }
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &rep) != nil || rep.Status != "ok" || rep.Checks["storage"].Status != "ok" {
		t.Errorf("health: %d %s", resp.StatusCode, body)
	}
	// Every non-HTTP function can be run on demand through the admin API.
	for _, f := range registry() {
		if f.Trigger == "httpTrigger" {
			continue
		}
		resp, err := http.Post("http://"+addr+"/admin/functions/"+f.Name, "application/json", strings.NewReader(`{"input":""}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 202 {
			t.Errorf("admin run %s: %d", f.Name, resp.StatusCode)
		}
	}
	stop()
}

// BenchmarkStartToReady measures exec of the real handler until GET /
// answers: the host allows 30-60 s; Flex cold starts pay this.
func BenchmarkStartToReady(b *testing.B) {
	conn := testutil.Azurite(b)
	handlerBinary(b)
	var total time.Duration
	for b.Loop() {
		port := freePort(b)
		cmd := exec.Command(binPath)
		cmd.Env = append(localEnv(conn), "FUNCTIONS_CUSTOMHANDLER_PORT="+port)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for {
			resp, err := http.Get("http://127.0.0.1:" + port + "/")
			if err == nil {
				resp.Body.Close()
				break
			}
			time.Sleep(time.Millisecond)
		}
		total += time.Since(start)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-ready")
}
