package contracts

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
)

type resp struct {
	status  int
	headers map[string]string
	body    string
}

func call(t *testing.T, h funcapp.Handler, method, id, body string, headers, query map[string]string) resp {
	t.Helper()
	return callCtx(context.Background(), t, h, method, id, body, headers, query)
}

// callCtx is call with the context the handler gets (for a logger).
func callCtx(ctx context.Context, t *testing.T, h funcapp.Handler, method, id, body string, headers, query map[string]string) resp {
	t.Helper()
	req := map[string]any{"Method": method, "Url": "http://127.0.0.1:7071/api/contracts/" + id, "Query": query,
		"Headers": headers, "Params": map[string]string{"id": id}, "Body": body}
	if id == "" {
		req["Params"] = map[string]string{}
	}
	raw, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": req}, "Metadata": map[string]any{}})
	inv, err := funcapp.DecodeInvocation("Contracts", "inv", raw)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Invoke(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	out := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput)
	return resp{out.Status(), out.Headers, out.Body}
}

// NewTestRegister returns a register in a fresh Azurite table.
func newTestRegister(t *testing.T) *contracts.Register {
	svc, err := store.NewService(store.Config{ConnectionString: testutil.Azurite(t)})
	if err != nil {
		t.Fatal(err)
	}
	name := testutil.UniqueName("contracts")
	if err := svc.EnsureTables(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	return contracts.NewRegister(svc, name)
}

const body = `{"title":"Managed print","supplier":"Acme Print Ltd","serviceArea":"Housing","owner":"jo@council.example",
 "route":"ict-champions-housing","escalationRoute":"tier2-housing","startDate":"2024-06-01","endDate":"2027-05-31",
 "noticePeriod":"P3M","internalLeadTime":"P90D","renewalType":"none","annualValue":48250.5,"dbsRequired":false}`

func TestContractsAPI(t *testing.T) {
	reg := newTestRegister(t)
	h, err := New(Config{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	// 400: every bad field named, nothing written.
	bad := strings.Replace(body, `"endDate":"2027-05-31"`, `"endDate":"2023-01-01"`, 1)
	bad = strings.Replace(bad, `"renewalType":"none"`, `"renewalType":"sometimes","colour":"red"`, 1)
	r := call(t, h, "PUT", "C-104", bad, nil, nil)
	if r.status != 400 || r.headers["Content-Type"] != "application/problem+json" || !strings.Contains(r.body, `"colour"`) {
		t.Errorf("unknown field: %d %s", r.status, r.body)
	}
	bad = strings.Replace(bad, `,"colour":"red"`, ``, 1)
	r = call(t, h, "PUT", "C-104", bad, nil, nil)
	if r.status != 400 || !strings.Contains(r.body, `"endDate"`) || !strings.Contains(r.body, `"renewalType"`) {
		t.Errorf("bad fields: %d %s", r.status, r.body)
	}
	if r := call(t, h, "GET", "C-104", "", nil, nil); r.status != 404 {
		t.Errorf("a 400 wrote something: %d", r.status)
	}

	// Create, then idempotent replace.
	r = call(t, h, "PUT", "C-104", body, nil, nil)
	if r.status != 201 || r.headers["ETag"] == "" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var v View
	_ = json.Unmarshal([]byte(r.body), &v)
	if len(v.Milestones) != 3 || v.Milestones[1].Kind != contracts.MilestoneNotice || v.Milestones[1].Date.String() != "2027-02-28" {
		t.Errorf("milestones %+v", v.Milestones)
	}
	r2 := call(t, h, "PUT", "C-104", body, nil, nil)
	if r2.status != 200 {
		t.Errorf("replace: %d %s", r2.status, r2.body)
	}
	etag := r2.headers["ETag"]

	// PATCH with a stale ETag: 412, unchanged.
	r = call(t, h, "PATCH", "C-104", `{"notes":"x"}`, map[string]string{"If-Match": r.headers["ETag"]}, nil)
	if r.status != 412 {
		t.Errorf("stale patch: %d %s", r.status, r.body)
	}
	// PATCH with a bad value: 400, unchanged.
	if r := call(t, h, "PATCH", "C-104", `{"annualValue":-1}`, map[string]string{"If-Match": etag}, nil); r.status != 400 {
		t.Errorf("bad patch: %d", r.status)
	}
	r = call(t, h, "PATCH", "C-104", `{"notes":"Renewal under review","exitPlanAgreedOn":"2026-10-01"}`, map[string]string{"If-Match": etag}, nil)
	if r.status != 200 || !strings.Contains(r.body, "Renewal under review") {
		t.Errorf("patch: %d %s", r.status, r.body)
	}
	got, _ := reg.Get(context.Background(), "C-104")
	if got.Notes != "Renewal under review" || got.AnnualValue != 48250.5 {
		t.Errorf("stored %+v", got.Contract)
	}

	// List, filtered and paged.
	for _, id := range []string{"C-200", "C-300"} {
		b := strings.Replace(body, `"serviceArea":"Housing"`, `"serviceArea":"Adults"`, 1)
		if r := call(t, h, "PUT", id, b, nil, nil); r.status != 201 {
			t.Fatalf("create %s: %d", id, r.status)
		}
	}
	r = call(t, h, "GET", "", "", nil, map[string]string{"serviceArea": "adults", "pageSize": "1"})
	var page ListPage
	_ = json.Unmarshal([]byte(r.body), &page)
	if r.status != 200 || len(page.Items) != 1 || page.Items[0].ID != "C-200" || page.Next != "C-200" {
		t.Errorf("page 1: %d %s", r.status, r.body)
	}
	r = call(t, h, "GET", "", "", nil, map[string]string{"serviceArea": "adults", "pageSize": "1", "after": page.Next})
	page = ListPage{}
	_ = json.Unmarshal([]byte(r.body), &page)
	if len(page.Items) != 1 || page.Items[0].ID != "C-300" || page.Next != "" {
		t.Errorf("page 2: %s", r.body)
	}
	if r := call(t, h, "GET", "", "", nil, map[string]string{"pageSize": "0"}); r.status != 400 {
		t.Errorf("bad pageSize: %d", r.status)
	}

	// Soft delete keeps the record.
	r = call(t, h, "DELETE", "C-300", "", nil, nil)
	if r.status != 200 || !strings.Contains(r.body, `"status":"ended"`) || !strings.Contains(r.body, "deletedAt") {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := call(t, h, "GET", "C-300", "", nil, nil); r.status != 200 {
		t.Errorf("deleted record gone: %d", r.status)
	}
	if r := call(t, h, "GET", "bad/id", "", nil, nil); r.status != 400 {
		t.Errorf("bad id: %d", r.status)
	}
}
