package localhost

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/rs/zerolog"
)

// testLog writes to t.Log until the test ends, then drops lines, so a
// straggling goroutine cannot fail the run.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log(string(p))
	}
	return len(p), nil
}

func newTestLogger(t testing.TB) zerolog.Logger {
	w := &testLog{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return zerolog.New(w).With().Timestamp().Logger()
}

const testHostJSON = `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler"}}}`

// writeApp stages host.json and function.json files in a temp dir.
func writeApp(t testing.TB, hostJSON string, functions map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "host.json"), []byte(hostJSON), 0o644))
	for name, fj := range functions {
		must(t, os.MkdirAll(filepath.Join(dir, name), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, name, "function.json"), []byte(fj), 0o644))
	}
	return dir
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testWorker serves handlers in process, like the real binary would.
func testWorker(t testing.TB, handlers map[string]funcapp.Handler) *url.URL {
	t.Helper()
	srv := httptest.NewServer(funcapp.NewServer(newTestLogger(t), handlers))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	must(t, err)
	return u
}

// running is a Run in the background.
type running struct {
	addr   string
	cancel context.CancelFunc
	errc   chan error

	once sync.Once
	err  error
}

// stop cancels Run and returns its error (bounded wait). It may be called
// more than once.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	r.once.Do(func() {
		select {
		case r.err = <-r.errc:
		case <-time.After(60 * time.Second):
			r.err = errors.New("Run did not return within 20s of cancel")
		}
	})
	return r.err
}

func (r *running) url(path string) string { return "http://" + r.addr + path }

// startHost runs the host over the app dir until the test ends.
func startHost(t testing.TB, o Options) *running {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	o.Log = newTestLogger(t)
	ready := make(chan string, 1)
	o.Ready = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, errc: make(chan error, 1)}
	go func() { r.errc <- Run(ctx, o) }()
	select {
	case r.addr = <-ready:
	case err := <-r.errc:
		cancel()
		t.Fatalf("Run failed to start: %v", err)
	case <-time.After(90 * time.Second):
		cancel()
		t.Fatal("host not ready within 40s")
	}
	t.Cleanup(func() { _ = r.stop(t) })
	return r
}

func queueClient(t testing.TB, conn, name string) *azqueue.QueueClient {
	t.Helper()
	q, err := azqueue.NewQueueClientFromConnectionString(conn, name, nil)
	must(t, err)
	return q
}

func enqueueBase64(t testing.TB, q *azqueue.QueueClient, text string) {
	t.Helper()
	_, err := q.EnqueueMessage(context.Background(), base64.StdEncoding.EncodeToString([]byte(text)), nil)
	must(t, err)
}

// messageCount is the queue's message count, visible or not (exact on Azurite).
func messageCount(t testing.TB, q *azqueue.QueueClient) int32 {
	t.Helper()
	p, err := q.GetProperties(context.Background(), nil)
	must(t, err)
	return deref(p.ApproximateMessagesCount)
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recv waits for one value with a bounded wait.
func recv[T any](t testing.TB, ch <-chan T, timeout time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
		var zero T
		return zero
	}
}

func httpDo(t testing.TB, method, u string, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	must(t, err)
	if body != "" {
		req, err = http.NewRequest(method, u, stringsReader(body))
		must(t, err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := readAll(resp)
	must(t, err)
	return resp, b
}

var errBoom = errors.New("boom")

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func readAll(resp *http.Response) (string, error) {
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
