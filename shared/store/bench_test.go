package store

import (
	"fmt"
	"testing"
)

// BenchmarkBatchUpsert compares Batch with one Upsert per entity and reports
// transactions/op against the minimum Azure allows: ceil(n/100) per
// partition.
func BenchmarkBatchUpsert(b *testing.B) {
	_, tbl := newTable(b)
	ctx := testCtx(b)
	shapes := []struct {
		partitions, perPartition int
	}{
		{1, 250},
		{3, 120},
	}
	for _, s := range shapes {
		var ops []Op[contract]
		for p := range s.partitions {
			ops = append(ops, upserts(fmt.Sprintf("bench%d", p), 0, s.perPartition)...)
		}
		minTx := s.partitions * ((s.perPartition + MaxTransactionActions - 1) / MaxTransactionActions)
		name := fmt.Sprintf("n=%d/partitions=%d", len(ops), s.partitions)

		b.Run(name+"/batch", func(b *testing.B) {
			tx := 0
			for b.Loop() {
				stats, err := tbl.Batch(ctx, ops)
				if err != nil {
					b.Fatal(err)
				}
				tx += stats.Transactions
			}
			b.ReportMetric(float64(tx)/float64(b.N), "transactions/op")
			b.ReportMetric(float64(minTx), "min-transactions/op")
		})
		b.Run(name+"/one-by-one", func(b *testing.B) {
			for b.Loop() {
				for _, op := range ops {
					if _, err := tbl.Upsert(ctx, op.Value); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(ops)), "transactions/op")
			b.ReportMetric(float64(minTx), "min-transactions/op")
		})
	}
}
