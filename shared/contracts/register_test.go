package contracts

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
	"github.com/council-ict/govkit/shared/ukdates"
)

func newRegister(tb testing.TB) (*Register, *ClaimLedger) {
	tb.Helper()
	conn := testutil.Azurite(tb)
	svc, err := store.NewService(store.Config{ConnectionString: conn})
	if err != nil {
		tb.Fatal(err)
	}
	name, claims := testutil.UniqueName("contracts"), testutil.UniqueName("claims")
	if err := svc.EnsureTables(context.Background(), name, claims); err != nil {
		tb.Skipf("Azurite not reachable: %v", err)
	}
	return NewRegister(svc, name), NewClaimLedger(svc, claims)
}

func many(n int) []Contract {
	cs := make([]Contract, n)
	base := contract()
	for i := range cs {
		c := base
		c.ID = fmt.Sprintf("C-%06d", i)
		c.EndDate = base.EndDate.AddDays(i % 700)
		c.DBSRequired = i%10 == 0
		if i%3 == 0 {
			c.RenewalType, c.RenewalTerm = RenewalAutomatic, Period{Years: 1}
		}
		cs[i] = c
	}
	return cs
}

func TestRegisterAzurite(t *testing.T) {
	ctx := context.Background()
	r, claims := newRegister(t)
	c := contract()
	etag, err := r.Create(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, c); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second create: %v", err)
	}
	got, err := r.Get(ctx, c.ID)
	if err != nil || got.Contract != c || got.ETag != etag {
		t.Fatalf("get %+v %v", got, err)
	}
	c.Notes = "changed"
	etag2, err := r.Replace(ctx, c, "", etag)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Replace(ctx, c, "", etag); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Errorf("stale etag: %v", err)
	}
	if etag2 == etag {
		t.Error("etag did not change")
	}

	st, err := r.Import(ctx, many(250))
	if err != nil {
		t.Fatal(err)
	}
	if st.Transactions != 3 || st.Entities != 250 {
		t.Errorf("import stats %+v, want 3 transactions", st)
	}
	n := 0
	after := "C-000099"
	if err := r.List(ctx, after, func(s Stored) error {
		if s.ID <= after {
			t.Errorf("listed %s after cursor", s.ID)
		}
		n++
		if n == 10 {
			return ErrStop
		}
		return nil
	}); err != nil || n != 10 {
		t.Errorf("list %d %v", n, err)
	}

	today := ukdates.Date{Year: 2026, Month: 12, Day: 3}
	if _, err := claims.Put(ctx, []Claim{{PartitionKey: "r", RowKey: "a:1", State: ClaimPending, Expires: "2026-12-04"},
		{PartitionKey: "r", RowKey: "a:2", State: ClaimPublished, Expires: "2026-12-03"}}); err != nil {
		t.Fatal(err)
	}
	live, err := claims.Live(ctx, today)
	if err != nil || len(live) != 1 || live["a:1"].State != ClaimPending {
		t.Errorf("live claims %+v %v", live, err)
	}
}
