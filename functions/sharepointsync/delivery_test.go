package sharepointsync

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
	"github.com/council-ict/govkit/shared/sharepoint"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
)

const site = "contoso.sharepoint.com,11111111-1111-1111-1111-111111111111,22222222-2222-2222-2222-222222222222"

func contractItem(id, supplier string) graphtest.ListItem {
	return graphtest.ListItem{ID: id, CreatedBy: "u1", Fields: map[string]any{
		"ContractId": "C-" + id, "Title": "Contract " + id, "Supplier": supplier, "ServiceArea": "ICT",
		"ContractOwner": "owner@council.example", "NotifyRoute": "ict", "StartDate": "2025-03-31T23:00:00Z",
		"EndDate": "2027-03-30T23:00:00Z", "NoticePeriod": "P3M", "RenewalType": "none", "ContractStatus": "active"}}
}

// Each queued change delivered once and in order, or twice and out of
// order, leaves the same registers: the message only names a list, and the
// list's delta is the truth. Runs against Azurite and the Graph list
// stand-in with the real sync engine.
func TestDuplicateAndReorderedDelivery(t *testing.T) {
	conn := testutil.Azurite(t)
	orders := []struct {
		name  string
		order []int // indexes into the two lists, per delivery
	}{
		{"once, in order", []int{0, 1}},
		{"twice, reordered", []int{1, 0, 1, 0}},
		{"twice, back to back", []int{0, 0, 1, 1}},
	}
	results := map[string]string{}
	for _, o := range orders {
		t.Run(o.name, func(t *testing.T) {
			svc, err := store.NewService(store.Config{ConnectionString: conn})
			if err != nil {
				t.Fatal(err)
			}
			ls := graphtest.NewLists(2)
			defer ls.Close()
			g, err := graph.New(graph.Config{BaseURL: ls.BaseURL(), Credential: graph.StaticToken("t")})
			if err != nil {
				t.Fatal(err)
			}
			a, b := testutil.UniqueName("lista"), testutil.UniqueName("listb")
			lists, errs := sharepoint.ParseLists(fmt.Sprintf(`[
				{"name":%q,"kind":"contracts","siteId":%q,"listId":"5c77031a-9621-4dfc-bb5d-57803a94e91d","ownerRoute":"ict"},
				{"name":%q,"kind":"contracts","siteId":%q,"listId":"6d88142b-0732-4e0d-8c6e-68914b05f02e","ownerRoute":"ict"}]`, a, site, b, site))
			if errs != nil {
				t.Fatal(errs)
			}
			reg := contracts.NewRegister(svc, testutil.UniqueName("spdelivery"))
			engine := sharepoint.NewEngine(g, svc, map[sharepoint.Kind]sharepoint.Applier{
				sharepoint.KindContracts: sharepoint.ContractsApplier{Register: reg}}, nil)
			for i := 1; i <= 5; i++ {
				ls.Put(site, lists[i%2].ListID, contractItem(fmt.Sprint(i), "Acme Ltd"))
			}
			h, err := New(lists, engine)
			if err != nil {
				t.Fatal(err)
			}
			etags := func() string {
				out := ""
				for i := 1; i <= 5; i++ {
					c, err := reg.Get(context.Background(), fmt.Sprintf("C-%d", i))
					if err != nil {
						t.Fatalf("C-%d: %v", i, err)
					}
					out += c.ETag + ";"
				}
				return out
			}
			seen, first := map[int]bool{}, ""
			for n, i := range o.order {
				body := fmt.Sprintf(`{"list":%q,"receivedAt":%q}`, lists[i].Name, time.Now().UTC().Format(time.RFC3339))
				if _, err := h.Invoke(context.Background(), invocation(t, body)); err != nil {
					t.Fatalf("delivery %d: %v", n, err)
				}
				if seen[i] = true; len(seen) == 2 && first == "" {
					first = etags() // every list synced once
				}
			}
			if last := etags(); last != first {
				t.Fatalf("repeated deliveries changed the register: %s -> %s", first, last)
			}
			got := ""
			for i := 1; i <= 5; i++ {
				c, err := reg.Get(context.Background(), fmt.Sprintf("C-%d", i))
				if err != nil {
					t.Fatalf("C-%d: %v", i, err)
				}
				got += fmt.Sprintf("%s:%s:%s;", c.ID, c.Supplier, c.EndDate)
			}
			results[o.name] = got
		})
	}
	for name, got := range results {
		if got != results[orders[0].name] {
			t.Errorf("%s: %s, single in-order delivery: %s", name, got, results[orders[0].name])
		}
	}
}
