package subjectrequests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/rs/zerolog"
)

// Intake load: a fixed number of create requests, a fixed concurrency.
const (
	intakeRequests    = 500
	intakeConcurrency = 4
)

// BenchmarkSubjectRequestIntake is a bounded load generator: each
// iteration posts intakeRequests creates, intakeConcurrency at a time, as
// the Functions host does (an invocation POSTed over loopback to the
// custom-handler server), through the real handler into Azurite tables.
// It reports throughput and the p50/p99 latency of one request.
func BenchmarkSubjectRequestIntake(b *testing.B) {
	e := newEnv(b, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	principal := funcapp.Principal{ObjectID: officer.ObjectID, Roles: officer.Roles}
	h := funcapp.HandlerFunc(func(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
		return e.h.Invoke(funcapp.WithPrincipal(ctx, principal), inv) // the access wrapper's part
	})
	srv := newLoopbackServer(b, funcapp.NewServer(zerolog.Nop(), map[string]funcapp.Handler{"SubjectRequests": h}))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: intakeConcurrency}}
	defer client.CloseIdleConnections()

	payload := func(i int) []byte {
		body := fmt.Sprintf(`{"type":"access","receivedOn":"2026-11-%02d","channel":"email","requesterRef":"LOAD-%d","serviceArea":"Area %d","idRequired":false,`+
			`"person":{"name":"Load Test %d","email":"load%d@example.org"}}`, 1+i%28, i, i%7, i, i)
		req := map[string]any{"Method": "POST", "Url": "http://127.0.0.1:7071/api/subject-requests", "Query": map[string]string{},
			"Headers": map[string]string{"Content-Type": "application/json"}, "Params": map[string]string{}, "Body": body}
		raw, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": req}, "Metadata": map[string]any{}})
		return raw
	}
	// Warm up: table creation and connection set-up are not intake.
	if code := postInvocation(b, client, srv, payload(1<<20)); code != 201 {
		b.Fatalf("warm-up create: %d", code)
	}

	var lat []time.Duration
	var total time.Duration
	b.ResetTimer()
	for b.Loop() {
		var next atomic.Int64
		var mu sync.Mutex
		var wg sync.WaitGroup
		var failed atomic.Int64
		start := time.Now()
		for range intakeConcurrency {
			wg.Go(func() {
				var mine []time.Duration
				for {
					i := int(next.Add(1)) - 1
					if i >= intakeRequests {
						break
					}
					t0 := time.Now()
					if code := postInvocation(b, client, srv, payload(i)); code != 201 {
						failed.Add(1)
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
		total += time.Since(start)
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d of %d creates failed", n, intakeRequests)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lat))/total.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

type loopback struct{ url string }

func newLoopbackServer(tb testing.TB, h http.Handler) loopback {
	srv := &http.Server{Handler: h}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return loopback{url: "http://" + ln.Addr().String()}
}

// postInvocation posts one invocation as the host does and returns the
// HTTP status of the function's response.
func postInvocation(tb testing.TB, c *http.Client, srv loopback, body []byte) int {
	req, _ := http.NewRequest(http.MethodPost, srv.url+"/SubjectRequests", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Azure-Functions-InvocationId", "bench")
	resp, err := c.Do(req)
	if err != nil {
		tb.Error(err)
		return 0
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Outputs map[string]struct {
			StatusCode any `json:"statusCode"`
		} `json:"Outputs"`
	}
	if json.Unmarshal(raw, &out) != nil {
		return resp.StatusCode
	}
	var code int
	fmt.Sscan(fmt.Sprint(out.Outputs["res"].StatusCode), &code)
	return code
}
