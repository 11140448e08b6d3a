package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

func TestCRUD(t *testing.T) {
	_, tbl := newTable(t)
	ctx := testCtx(t)
	c := contract{PartitionKey: "contracts", RowKey: "C-001", Title: "Waste collection", Value: 2,
		Renewals: 3, Bytes: 1<<53 + 1, Active: true, Expires: "2027-03-31", Note: ptr("first")}

	etag1, err := tbl.Insert(ctx, c)
	if err != nil || etag1 == "" {
		t.Fatalf("Insert = %q, %v", etag1, err)
	}
	rec, err := tbl.Get(ctx, c.PartitionKey, c.RowKey)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if *rec.Value.Note != "first" || rec.Value.Bytes != c.Bytes || rec.Value.Value != 2 || rec.Value.Expires != c.Expires {
		t.Errorf("Get value = %+v; want %+v", rec.Value, c)
	}
	if rec.ETag != etag1 {
		t.Errorf("Get ETag = %q; want %q", rec.ETag, etag1)
	}
	if time.Since(rec.Timestamp) > time.Hour || time.Until(rec.Timestamp) > time.Hour {
		t.Errorf("Get Timestamp = %v; want about now", rec.Timestamp)
	}

	c2 := c
	c2.Title, c2.Note = "Waste and recycling", nil
	var etag2, etag3 azcore.ETag
	steps := []struct {
		name string
		do   func() error
		want error // nil: success
	}{
		{"insert existing", func() error { _, err := tbl.Insert(ctx, c); return err }, ErrConflict},
		{"update with current etag", func() (err error) { etag2, err = tbl.Update(ctx, c2, etag1); return err }, nil},
		{"update with stale etag", func() error { _, err := tbl.Update(ctx, c, etag1); return err }, ErrPreconditionFailed},
		{"update missing", func() error {
			m := c
			m.RowKey = "missing"
			_, err := tbl.Update(ctx, m, "")
			return err
		}, ErrNotFound},
		{"upsert replaces", func() (err error) { etag3, err = tbl.Upsert(ctx, c2); return err }, nil},
		{"delete with stale etag", func() error { return tbl.Delete(ctx, c.PartitionKey, c.RowKey, etag2) }, ErrPreconditionFailed},
		{"delete with current etag", func() error { return tbl.Delete(ctx, c.PartitionKey, c.RowKey, etag3) }, nil},
		{"get deleted", func() error { _, err := tbl.Get(ctx, c.PartitionKey, c.RowKey); return err }, ErrNotFound},
		{"delete missing, any version", func() error { return tbl.Delete(ctx, c.PartitionKey, c.RowKey, "") }, nil},
		{"delete missing, given version", func() error { return tbl.Delete(ctx, c.PartitionKey, c.RowKey, etag3) }, ErrNotFound},
	}
	for _, s := range steps {
		err := s.do()
		switch {
		case s.want == nil && err != nil:
			t.Errorf("%s: %v", s.name, err)
		case s.want != nil && !errors.Is(err, s.want):
			t.Errorf("%s: error %v; want %v", s.name, err, s.want)
		case err != nil && (!strings.Contains(err.Error(), tbl.Name()) || IsTransient(err)):
			t.Errorf("%s: error %q should name the table and not be transient", s.name, err)
		}
	}
}

func TestUpsertReplacesAndOmitsNil(t *testing.T) {
	_, tbl := newTable(t)
	ctx := testCtx(t)
	c := contract{PartitionKey: "p", RowKey: "r", Note: ptr("x")}
	if _, err := tbl.Upsert(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Note = nil
	if _, err := tbl.Upsert(ctx, c); err != nil {
		t.Fatal(err)
	}
	rec, err := tbl.Get(ctx, "p", "r")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Value.Note != nil {
		t.Errorf("Note = %q after replace with nil; want absent", *rec.Value.Note)
	}
}

// TestEDMTypes checks that values keep their EDM type, so typed filters
// find them. (Azurite is looser than Azure about Double against Int32;
// TestEncode checks the annotations themselves.)
func TestEDMTypes(t *testing.T) {
	_, tbl := newTable(t)
	ctx := testCtx(t)
	c := contract{PartitionKey: "p", RowKey: "r", Value: 2, Renewals: -7, Bytes: 1<<53 + 1, Active: true, Expires: "2027-03-31"}
	if _, err := tbl.Insert(ctx, c); err != nil {
		t.Fatal(err)
	}
	filters := []string{
		"Value eq 2.0",                // Edm.Double, though 2 is whole
		"Bytes eq 9007199254740993L",  // Edm.Int64, exact
		"Renewals eq -7",              // Edm.Int32
		"Active eq true",              // Edm.Boolean
		"Expires lt " + Quote("2028"), // ISO date string
	}
	for _, f := range filters {
		n := 0
		if err := tbl.Query(ctx, f, func(r Record[contract]) error { n++; return nil }); err != nil {
			t.Fatalf("Query(%s): %v", f, err)
		}
		if n != 1 {
			t.Errorf("Query(%s) found %d entities; want 1", f, n)
		}
	}
}

func TestInvalidEntity(t *testing.T) {
	type withSlice struct {
		PartitionKey, RowKey string
		Tags                 []string
	}
	type withObject struct {
		PartitionKey, RowKey string
		Owner                struct{ Name string }
	}
	svc, tr := offlineService(t)
	ctx := testCtx(t)
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"slice", func() error {
			_, err := NewTable[withSlice](svc, "x").Upsert(ctx, withSlice{"p", "r", []string{"a"}})
			return err
		}, `"Tags"`},
		{"object", func() error {
			_, err := NewTable[withObject](svc, "x").Upsert(ctx, withObject{PartitionKey: "p", RowKey: "r"})
			return err
		}, `"Owner"`},
		{"int beyond Int32", func() error {
			_, err := NewTable[contract](svc, "x").Insert(ctx, contract{PartitionKey: "p", RowKey: "r", Renewals: 1 << 31})
			return err
		}, "int64"},
		{"not a struct", func() error {
			_, err := NewTable[string](svc, "x").Insert(ctx, "p")
			return err
		}, "JSON object"},
		{"batch op kind unset", func() error {
			_, err := NewTable[contract](svc, "x").Batch(ctx, []Op[contract]{{Value: contract{PartitionKey: "p", RowKey: "r"}}})
			return err
		}, "op 0"},
	}
	for _, tt := range tests {
		err := tt.do()
		if !errors.Is(err, ErrInvalidEntity) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want ErrInvalidEntity mentioning %s", tt.name, err, tt.want)
		}
	}
	if n := tr.n.Load(); n != 0 {
		t.Errorf("%d requests were sent; want none", n)
	}
}

func TestInvalidKeysRejectedBeforeAnyCall(t *testing.T) {
	tbl, tr := offlineTable(t)
	ctx := testCtx(t)
	bad := []struct{ name, pk, rk string }{
		{"empty pk", "", "r"},
		{"empty rk", "p", ""},
		{"slash", "a/b", "r"},
		{"backslash", "p", `a\b`},
		{"hash", "p", "a#b"},
		{"question mark", "a?b", "r"},
		{"tab", "p", "a\tb"},
		{"newline", "a\nb", "r"},
		{"DEL", "p", "a\x7fb"},
		{"C1 control", "p", "a\u0085b"},
		{"too long", strings.Repeat("k", 1025), "r"},
		{"invalid UTF-8", "p", "a\xffb"},
		{"replacement character", "p", "a\uFFFDb"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			v := contract{PartitionKey: b.pk, RowKey: b.rk}
			calls := map[string]error{}
			_, calls["Insert"] = tbl.Insert(ctx, v)
			_, calls["Upsert"] = tbl.Upsert(ctx, v)
			_, calls["Update"] = tbl.Update(ctx, v, "")
			_, calls["Get"] = tbl.Get(ctx, b.pk, b.rk)
			calls["Delete"] = tbl.Delete(ctx, b.pk, b.rk, "")
			_, calls["Batch"] = tbl.Batch(ctx, []Op[contract]{{Kind: OpUpsert, Value: contract{PartitionKey: "ok", RowKey: "ok"}}, {Kind: OpUpsert, Value: v}})
			for op, err := range calls {
				if !errors.Is(err, ErrInvalidKey) {
					t.Errorf("%s: error %v; want ErrInvalidKey", op, err)
				}
			}
		})
	}
	if n := tr.n.Load(); n != 0 {
		t.Errorf("%d requests were sent; want none", n)
	}
	if err := ValidateKeys("Zoë Smith's 2024-25 (ok)", "Ünïcödé ✓"); err != nil {
		t.Errorf("ValidateKeys on good keys: %v", err)
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"plain", "'plain'"},
		{"O'Brien", "'O''Brien'"},
		{"''", "''''''"},
		{"x' or 'a' eq 'a", "'x'' or ''a'' eq ''a'"},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s; want %s", tt.in, got, tt.want)
		}
	}
	if got, want := PartitionFilter("O'Brien"), "PartitionKey eq 'O''Brien'"; got != want {
		t.Errorf("PartitionFilter = %s; want %s", got, want)
	}
}

func TestQuoteInRealQuery(t *testing.T) {
	_, tbl := newTable(t)
	ctx := testCtx(t)
	for _, c := range []contract{
		{PartitionKey: "O'Brien's", RowKey: "1", Title: "it's"},
		{PartitionKey: "O'Brien's", RowKey: "2", Title: "its"},
		{PartitionKey: "OBriens", RowKey: "1", Title: "it's"},
	} {
		if _, err := tbl.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		filter string
		want   []string
	}{
		{PartitionFilter("O'Brien's"), []string{"O'Brien's/1", "O'Brien's/2"}},
		{PartitionFilter("O'Brien's") + " and Title eq " + Quote("it's"), []string{"O'Brien's/1"}},
		{"Title eq " + Quote("x' or 'a' eq 'a"), nil}, // injection attempt matches nothing
	}
	for _, tt := range tests {
		var got []string
		err := tbl.Query(ctx, tt.filter, func(r Record[contract]) error {
			got = append(got, r.Value.PartitionKey+"/"+r.Value.RowKey)
			return nil
		})
		if err != nil {
			t.Fatalf("Query(%s): %v", tt.filter, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Query(%s) = %v; want %v", tt.filter, got, tt.want)
		}
	}
	// Keys with a quote also work for point reads and deletes.
	if _, err := tbl.Get(ctx, "O'Brien's", "1"); err != nil {
		t.Errorf("Get with quoted key: %v", err)
	}
	if err := tbl.Delete(ctx, "O'Brien's", "1", ""); err != nil {
		t.Errorf("Delete with quoted key: %v", err)
	}
}

func TestQueryStreamsPages(t *testing.T) {
	_, tbl := newTable(t)
	ctx := testCtx(t)
	const n = 1100 // Azure pages at 1,000
	ops := make([]Op[contract], 0, n+10)
	for i := range n {
		ops = append(ops, Op[contract]{Kind: OpUpsert, Value: contract{PartitionKey: "big", RowKey: fmt.Sprintf("%05d", i), Renewals: i}})
	}
	for i := range 10 {
		ops = append(ops, Op[contract]{Kind: OpUpsert, Value: contract{PartitionKey: "other", RowKey: fmt.Sprint(i)}})
	}
	stats, err := tbl.Batch(ctx, ops)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if want := (BatchStats{Partitions: 2, Transactions: 12, Entities: n + 10}); stats != want {
		t.Errorf("Batch stats = %+v; want %+v", stats, want)
	}

	count, prev := 0, ""
	err = tbl.Query(ctx, PartitionFilter("big"), func(r Record[contract]) error {
		if r.Value.RowKey <= prev || r.ETag == "" {
			return fmt.Errorf("entity %q after %q, etag %q", r.Value.RowKey, prev, r.ETag)
		}
		prev = r.Value.RowKey
		count++
		return nil
	})
	if err != nil || count != n {
		t.Fatalf("Query counted %d, err %v; want %d", count, err, n)
	}

	all := 0
	if err := tbl.Query(ctx, "", func(Record[contract]) error { all++; return nil }); err != nil || all != n+10 {
		t.Errorf("Query all counted %d, err %v; want %d", all, err, n+10)
	}

	stop := errors.New("enough")
	seen := 0
	err = tbl.Query(ctx, "", func(Record[contract]) error {
		if seen++; seen == 5 {
			return stop
		}
		return nil
	})
	if err != stop || seen != 5 {
		t.Errorf("Query with stopping fn: err %v after %d; want %v after 5", err, seen, stop)
	}
}
