package contracts

import (
	"context"
	"os"
	"testing"

	"github.com/council-ict/govkit/shared/ukdates"
)

// BenchmarkEvaluate50k evaluates a register of 50,000 contracts (a mix of
// fixed-term, automatic renewals and DBS flags, end dates spread over two
// years) and reports time and allocations per contract. Its "import"
// sub-benchmark writes the 50,000 through Register.Import against Azurite
// and reports the table transactions used against the minimum (one per 100
// entities per partition); it is opt-in (GOVKIT_BENCH_IMPORT=1).
func BenchmarkEvaluate50k(b *testing.B) {
	const n = 50000
	cs := many(n)
	today := ukdates.Date{Year: 2026, Month: 12, Day: 3}
	p := DefaultPolicy()
	b.Run("evaluate", func(b *testing.B) {
		dst := make([]Alert, 0, 4*n)
		due := 0
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			dst = dst[:0]
			for i := range cs {
				dst = Evaluate(dst, &cs[i], today, p)
			}
			due = len(dst)
		}
		b.StopTimer()
		per := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / n
		b.ReportMetric(per, "ns/contract")
		b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
			dst = dst[:0]
			for i := range cs {
				dst = Evaluate(dst, &cs[i], today, p)
			}
		}))/n, "allocs/contract")
		b.ReportMetric(float64(due), "alerts")
	})
	b.Run("import", func(b *testing.B) {
		if os.Getenv("GOVKIT_BENCH_IMPORT") != "1" {
			b.Skip("set GOVKIT_BENCH_IMPORT=1 to write 50,000 contracts to Azurite (slow; loads a shared emulator)")
		}
		r, _ := newRegister(b)
		for b.Loop() {
			st, err := r.Import(context.Background(), cs)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(st.Transactions), "transactions")
			b.ReportMetric(float64((n+99)/100), "min-transactions")
		}
	})
}
