package localhost

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildWorker compiles testdata/worker into an app dir as "handler".
func buildWorker(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "handler"), "./testdata/worker").CombinedOutput()
	if err != nil {
		t.Fatalf("go build testdata/worker: %v\n%s", err, out)
	}
}

func TestSpawnedWorker(t *testing.T) {
	dir := writeApp(t, testHostJSON, map[string]string{
		"Hello": `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in","route":"hello/{name}","methods":["get"]},{"name":"res","type":"http","direction":"out"}]}`,
		"Die":   `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in"},{"name":"res","type":"http","direction":"out"}]}`,
	})
	buildWorker(t, dir)
	o := Options{AppDir: dir, Settings: map[string]string{"GREETING": "hiya"}, ShutdownGrace: 60 * time.Second}

	t.Run("serves and stops cleanly", func(t *testing.T) {
		h := startHost(t, o)
		resp, body := httpDo(t, "GET", h.url("/api/hello/ada"), "", nil)
		var got map[string]string
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil {
			t.Fatalf("status %d body %q", resp.StatusCode, body)
		}
		if got["greeting"] != "hiya" || got["name"] != "ada" || got["root"] != dir {
			t.Fatalf("worker saw %v (app dir %s)", got, dir)
		}
		start := time.Now()
		if err := h.stop(t); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if d := time.Since(start); d > 50*time.Second { // a kill would wait the whole 60s grace
			t.Fatalf("stopping took %s: the worker was killed, not stopped by SIGTERM", d)
		}
	})

	t.Run("worker death ends Run with an error", func(t *testing.T) {
		h := startHost(t, o)
		resp, _ := httpDo(t, "GET", h.url("/api/Die"), "", nil)
		if resp.StatusCode != 500 {
			t.Fatalf("status %d, want 500", resp.StatusCode)
		}
		select {
		case err := <-h.errc:
			if err == nil || !strings.Contains(err.Error(), "worker exited unexpectedly") {
				t.Fatalf("Run returned %v", err)
			}
			h.once.Do(func() { h.err = err })
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not notice the worker died")
		}
	})

	t.Run("worker that never listens times out", func(t *testing.T) {
		d := writeApp(t, `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"sleep","arguments":["%NAP%"]}}}`,
			map[string]string{"Hello": `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in"}]}`})
		o := Options{AppDir: d, Addr: "127.0.0.1:0", StartupTimeout: 500 * time.Millisecond, ShutdownGrace: time.Second,
			Settings: map[string]string{"NAP": "30"}, Log: newTestLogger(t)}
		err := Run(t.Context(), o)
		if err == nil || !strings.Contains(err.Error(), "did not answer GET /") {
			t.Fatalf("Run = %v", err)
		}
	})
}
