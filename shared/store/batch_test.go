package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func upserts(pk string, from, n int) []Op[contract] {
	ops := make([]Op[contract], n)
	for i := range ops {
		ops[i] = Op[contract]{Kind: OpUpsert, Value: contract{PartitionKey: pk, RowKey: fmt.Sprintf("%05d", from+i), Renewals: from + i}}
	}
	return ops
}

func countPartition(t *testing.T, tbl *Table[contract], pk string) int {
	t.Helper()
	n := 0
	if err := tbl.Query(testCtx(t), PartitionFilter(pk), func(Record[contract]) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBatchSplitsTransactions(t *testing.T) {
	_, tbl := newTable(t)
	ctx := testCtx(t)
	tests := []struct {
		name   string
		ops    []Op[contract]
		want   BatchStats
		counts map[string]int
	}{
		{"empty", nil, BatchStats{}, nil},
		{"250 in one partition", upserts("one", 0, 250), BatchStats{Partitions: 1, Transactions: 3, Entities: 250}, map[string]int{"one": 250}},
		{"two partitions interleaved",
			interleave(upserts("a", 0, 150), upserts("b", 0, 30)),
			BatchStats{Partitions: 2, Transactions: 3, Entities: 180}, map[string]int{"a": 150, "b": 30}},
		{"same entity twice goes to the next transaction",
			append(upserts("dup", 0, 3), upserts("dup", 1, 1)...),
			BatchStats{Partitions: 1, Transactions: 2, Entities: 4}, map[string]int{"dup": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tbl.Batch(ctx, tt.ops)
			if err != nil {
				t.Fatalf("Batch: %v", err)
			}
			if got != tt.want {
				t.Errorf("stats = %+v; want %+v", got, tt.want)
			}
			for pk, n := range tt.counts {
				if c := countPartition(t, tbl, pk); c != n {
					t.Errorf("partition %q has %d entities; want %d", pk, c, n)
				}
			}
		})
	}
}

func interleave(a, b []Op[contract]) []Op[contract] {
	var out []Op[contract]
	for len(a) > 0 || len(b) > 0 {
		if len(a) > 0 {
			out, a = append(out, a[0]), a[1:]
		}
		if len(b) > 0 {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

func TestBatchKindsAndFailures(t *testing.T) {
	_, tbl := newTable(t)
	ctx := testCtx(t)
	if _, err := tbl.Batch(ctx, upserts("p", 0, 5)); err != nil {
		t.Fatal(err)
	}
	cur, err := tbl.Get(ctx, "p", "00001")
	if err != nil {
		t.Fatal(err)
	}
	stale := cur.ETag
	if _, err := tbl.Upsert(ctx, cur.Value); err != nil { // moves the ETag on
		t.Fatal(err)
	}
	rec := func(rk string) contract { return contract{PartitionKey: "p", RowKey: rk} }

	tests := []struct {
		name      string
		ops       []Op[contract]
		want      error // nil: success
		mentions  []string
		committed int // transactions committed before the failure
	}{
		{"insert existing", []Op[contract]{{Kind: OpInsert, Value: rec("new1")}, {Kind: OpInsert, Value: rec("00000")}},
			ErrConflict, []string{`PartitionKey "p"`, "transaction 1 of 1", `failed at op 1 (RowKey "00000")`}, 0},
		{"update with stale etag", []Op[contract]{{Kind: OpUpdate, Value: rec("00001"), ETag: stale}},
			ErrPreconditionFailed, []string{`RowKey "00001"`}, 0},
		{"update missing", []Op[contract]{{Kind: OpUpdate, Value: rec("nope")}}, ErrNotFound, nil, 0},
		{"delete missing", []Op[contract]{{Kind: OpDelete, Value: rec("nope")}}, ErrNotFound, nil, 0},
		{"second partition fails after first committed",
			append(upserts("q", 0, 2), Op[contract]{Kind: OpInsert, Value: rec("00002")}),
			ErrConflict, []string{`PartitionKey "p"`}, 1},
		{"insert, update any, delete any", []Op[contract]{
			{Kind: OpInsert, Value: rec("new2")},
			{Kind: OpUpdate, Value: rec("00003")},
			{Kind: OpDelete, Value: rec("00004")},
		}, nil, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stats, err := tbl.Batch(ctx, tt.ops)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Batch: %v", err)
				}
			} else if !errors.Is(err, tt.want) {
				t.Fatalf("Batch error %v; want %v", err, tt.want)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %s", err, m)
				}
			}
			if stats.Transactions != tt.committed {
				t.Errorf("stats.Transactions = %d; want %d", stats.Transactions, tt.committed)
			}
			if err != nil && IsTransient(err) {
				t.Errorf("IsTransient(%v) = true; want false", err)
			}
		})
	}
	// The failed transactions changed nothing: new1 was not inserted.
	if _, err := tbl.Get(ctx, "p", "new1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get new1 after failed transaction: %v; want ErrNotFound", err)
	}
	if _, err := tbl.Get(ctx, "p", "00004"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get 00004 after batch delete: %v; want ErrNotFound", err)
	}
}

func TestChunk(t *testing.T) {
	mk := func(n, size int, rk func(int) string) []action {
		as := make([]action, n)
		for i := range as {
			as[i] = action{rk: rk(i), size: size, index: i}
		}
		return as
	}
	distinct := func(i int) string { return fmt.Sprint(i) }
	tests := []struct {
		name    string
		actions []action
		want    []int // chunk lengths
	}{
		{"none", nil, nil},
		{"one", mk(1, 100, distinct), []int{1}},
		{"exactly 100", mk(100, 100, distinct), []int{100}},
		{"250", mk(250, 100, distinct), []int{100, 100, 50}},
		{"payload limit", mk(10, 1<<20, distinct), []int{3, 3, 3, 1}},
		{"repeated row key", mk(4, 100, func(i int) string { return fmt.Sprint(i % 2) }), []int{2, 2}},
	}
	for _, tt := range tests {
		var got []int
		for _, c := range chunk(tt.actions) {
			got = append(got, len(c))
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: chunk sizes %v; want %v", tt.name, got, tt.want)
		}
	}
}
