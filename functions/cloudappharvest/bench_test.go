package cloudappharvest

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
)

// BenchmarkHarvest10k harvests 10,000 generated service principals (plus the
// two resources) from the stand-in into Azurite. It reports Graph requests
// against the minimum for this request shape (delta pages of 999 plus one
// $batch per 20 sub-requests, three sub-requests per app, plus resource
// look-ups) and against the bound (pages + apps/20), table
// transactions against the minimum (entities written / 100), and the peak
// Go heap sampled during the run. HARVEST_BENCH_N overrides the size
// (e.g. 100000).
func BenchmarkHarvest10k(b *testing.B) {
	n := 10000
	if s := os.Getenv("HARVEST_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	b.ReportAllocs()
	var rep Report
	var peak uint64
	var wall time.Duration
	for range b.N {
		b.StopTimer()
		f := newFixture(b, graphtest.Options{Generated: n})
		h := f.handler(b)
		b.StartTimer()
		stop := make(chan struct{})
		var p atomic.Uint64
		go func() {
			var ms runtime.MemStats
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > p.Load() {
					p.Store(ms.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		start := time.Now()
		var err error
		rep, err = h.Run(context.Background())
		wall = time.Since(start)
		close(stop)
		peak = max(peak, p.Load())
		if err != nil || !rep.Complete {
			b.Fatalf("harvest: %v %+v", err, rep)
		}
	}
	apps := rep.Apps
	pages := (apps + graph.PageSize - 1) / graph.PageSize
	minBatches := (3*apps + graph.BatchSize - 1) / graph.BatchSize
	minTx := (rep.EntitiesWritten + 99) / 100
	b.ReportMetric(float64(apps), "apps/op")
	b.ReportMetric(float64(rep.GraphRequests), "graph-req/op")
	b.ReportMetric(float64(pages+minBatches), "graph-min/op")
	b.ReportMetric(float64(pages+(apps+graph.BatchSize-1)/graph.BatchSize), "graph-issue-min/op")
	b.ReportMetric(float64(rep.Transactions), "table-tx/op")
	b.ReportMetric(float64(minTx), "table-tx-min/op")
	b.ReportMetric(float64(rep.EntitiesWritten), "entities/op")
	b.ReportMetric(float64(rep.EntitiesRead), "entities-read/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	if rss, ok := peakRSS(); ok {
		b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
	}
	b.ReportMetric(wall.Seconds(), "wall-s/op")
}

// peakRSS is the process's peak resident set size (VmHWM, Linux only):
// the benchmark binary's whole footprint, Graph stand-in included.
func peakRSS() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// BenchmarkHarvestIncremental measures the daily run after a full harvest
// of 1,000 service principals (HARVEST_BENCH_N overrides) in which 10 of
// them changed: Graph requests and table transactions against the full
// harvest, the naive baseline of re-reading the tenant without delta.
func BenchmarkHarvestIncremental(b *testing.B) {
	n := 1000
	if s := os.Getenv("HARVEST_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	var full, inc Report
	for range b.N {
		b.StopTimer()
		f := newFixture(b, graphtest.Options{Generated: n})
		h := f.handler(b)
		var err error
		if full, err = h.Run(context.Background()); err != nil || !full.Complete {
			b.Fatalf("full harvest: %v %+v", err, full)
		}
		for i := range 10 {
			f.server.Update(graphtest.GeneratedID(i*(n/10)), func(a *graphtest.App) { a.SP.DisplayName += " (renamed)" })
		}
		b.StartTimer()
		if inc, err = h.Run(context.Background()); err != nil || !inc.Complete {
			b.Fatalf("incremental harvest: %v %+v", err, inc)
		}
	}
	b.ReportMetric(float64(inc.Apps), "apps-changed/op")
	b.ReportMetric(float64(inc.GraphRequests), "graph-req/op")
	b.ReportMetric(float64(full.GraphRequests), "graph-req-full/op")
	b.ReportMetric(float64(inc.Transactions), "table-tx/op")
	b.ReportMetric(float64(full.Transactions), "table-tx-full/op")
}
