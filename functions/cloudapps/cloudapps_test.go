package cloudapps

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ca "github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
)

type call struct {
	method, appID, body, ifMatch string
	query                        map[string]string
}

func do(t *testing.T, h *Handler, c call) (int, map[string]string, []byte) {
	t.Helper()
	headers := map[string]string{"Content-Type": "application/merge-patch+json"}
	if c.ifMatch != "" {
		headers["If-Match"] = c.ifMatch
	}
	params := map[string]string{}
	if c.appID != "" {
		params["appId"] = c.appID
	}
	raw, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": map[string]any{"Method": c.method,
		"Url": "http://127.0.0.1:7071/api/cloudapps", "Headers": headers, "Query": c.query, "Params": params, "Body": c.body}},
		"Metadata": map[string]any{}})
	inv, err := funcapp.DecodeInvocation(Name, "t", raw)
	if err != nil {
		t.Fatal(err)
	}
	// The caller the access-control wrapper would put in the context.
	ctx := funcapp.WithPrincipal(context.Background(), funcapp.Principal{ObjectID: "reviewer-oid", Roles: []string{"CloudApps.Reviewer"}})
	res, err := h.Invoke(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	out := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput)
	return out.Status(), out.Headers, []byte(out.Body)
}

func setup(t *testing.T) (*Handler, *store.Table[ca.Entry]) {
	svc, err := store.NewService(store.Config{ConnectionString: testutil.Azurite(t)})
	if err != nil {
		t.Fatal(err)
	}
	table := testutil.UniqueName("apps")
	h, err := New(svc, table)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.EnsureTables(context.Background(), table); err != nil {
		t.Fatal(err)
	}
	entries := store.NewTable[ca.Entry](svc, table)
	now := ca.FormatTime(time.Now())
	old := ca.FormatTime(time.Now().AddDate(-1, 0, 0))
	var ops []store.Op[ca.Entry]
	for i, e := range []ca.Entry{
		{RowKey: "app-a", DisplayName: "A", Category: ca.CategoryThirdParty, RiskLevel: ca.PrivilegeHigh, FirstSeen: now},
		{RowKey: "app-b", DisplayName: "B", Category: ca.CategoryCouncil, RiskLevel: ca.PrivilegeLow, FirstSeen: old},
		{RowKey: "app-c", DisplayName: "C", Category: ca.CategoryThirdParty, RiskLevel: ca.PrivilegeMedium, FirstSeen: old},
		{RowKey: "app-d", DisplayName: "D", Category: ca.CategoryThirdParty, RiskLevel: ca.PrivilegeLow, FirstSeen: old, Removed: true},
	} {
		e.PartitionKey, e.LastSeen, e.ObjectID = ca.PartitionEntra, now, "sp-"+string(rune('a'+i))
		ops = append(ops, store.Op[ca.Entry]{Kind: store.OpUpsert, Value: e})
	}
	if _, err := entries.Batch(context.Background(), ops); err != nil {
		t.Fatal(err)
	}
	return h, entries
}

func ids(t *testing.T, body []byte) ([]string, string) {
	t.Helper()
	var lr ListResponse
	if err := json.Unmarshal(body, &lr); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out []string
	for _, v := range lr.Items {
		out = append(out, v.AppID)
	}
	return out, lr.Next
}

func TestListFiltersAndPages(t *testing.T) {
	h, _ := setup(t)
	for _, tc := range []struct {
		query map[string]string
		want  string
		next  string
	}{
		{nil, "app-a app-b app-c", ""},
		{map[string]string{"flag": "new"}, "app-a", ""},
		{map[string]string{"flag": "risky"}, "app-a", ""},
		{map[string]string{"flag": "unreviewed,risky"}, "app-a", ""},
		{map[string]string{"flag": "removed"}, "app-d", ""},
		{map[string]string{"category": "third-party"}, "app-a app-c", ""},
		{map[string]string{"risk": "medium"}, "app-c", ""},
		{map[string]string{"limit": "2"}, "app-a app-b", "app-b"},
		{map[string]string{"limit": "2", "after": "app-b"}, "app-c", ""},
	} {
		status, _, body := do(t, h, call{method: "GET", query: tc.query})
		got, next := ids(t, body)
		if status != 200 || strings.Join(got, " ") != tc.want || next != tc.next {
			t.Errorf("%v: %d %v next %q; want %s next %q", tc.query, status, got, next, tc.want, tc.next)
		}
	}
	status, _, body := do(t, h, call{method: "GET", query: map[string]string{"flag": "shiny", "limit": "0", "risk": "extreme"}})
	var p funcapp.ProblemDetails
	_ = json.Unmarshal(body, &p)
	if status != 400 || len(p.Errors) != 3 {
		t.Errorf("bad filters: %d %s; want 400 naming flag, risk and limit", status, body)
	}
}

func TestGetAndPatch(t *testing.T) {
	h, _ := setup(t)
	if status, _, _ := do(t, h, call{method: "GET", appID: "nope"}); status != 404 {
		t.Errorf("unknown app: %d; want 404", status)
	}
	status, hdr, body := do(t, h, call{method: "GET", appID: "app-a"})
	if status != 200 || hdr["ETag"] != "" || !strings.Contains(string(body), `"flags":["new","risky","unreviewed"]`) {
		t.Fatalf("get: %d %v %s", status, hdr, body)
	}
	// Invalid: nothing written, every bad field named.
	status, _, body = do(t, h, call{method: "PATCH", appID: "app-a", body: `{"dataLocation":"mars","reviewDate":"soon","riskLevel":"low","notes":"ok"}`})
	var p funcapp.ProblemDetails
	_ = json.Unmarshal(body, &p)
	if status != 400 || len(p.Errors) != 3 {
		t.Fatalf("invalid patch: %d %s; want 400 with 3 field errors", status, body)
	}
	if _, hdr, _ = do(t, h, call{method: "GET", appID: "app-a"}); hdr["ETag"] != "" {
		t.Fatal("an invalid patch wrote an IG record")
	}
	status, hdr, body = do(t, h, call{method: "PATCH", appID: "app-a", body: `{"dataLocation":"uk","personalData":"special-category","lastReviewed":"2026-01-05","reviewDate":"2099-01-01","reviewedBy":"IG officer"}`})
	etag := hdr["ETag"]
	if status != 200 || etag == "" || !strings.Contains(string(body), `"dataLocation":"uk"`) || strings.Contains(string(body), "unreviewed") ||
		!strings.Contains(string(body), `"updatedBy":"reviewer-oid"`) {
		t.Fatalf("first patch: %d %v %s", status, hdr, body)
	}
	if status, _, _ = do(t, h, call{method: "PATCH", appID: "app-a", body: `{"notes":"x"}`}); status != 428 {
		t.Errorf("patch without If-Match: %d; want 428", status)
	}
	status, hdr, body = do(t, h, call{method: "PATCH", appID: "app-a", ifMatch: etag, body: `{"notes":"DPA on file","dataLocation":null}`})
	if status != 200 || hdr["ETag"] == etag || strings.Contains(string(body), `"dataLocation"`) || !strings.Contains(string(body), `"reviewedBy":"IG officer"`) {
		t.Fatalf("second patch: %d %s", status, body)
	}
	if status, _, _ = do(t, h, call{method: "PATCH", appID: "app-a", ifMatch: etag, body: `{"notes":"stale"}`}); status != 412 {
		t.Errorf("stale If-Match: %d; want 412", status)
	}
	if status, _, _ = do(t, h, call{method: "PATCH", appID: "app-a", ifMatch: hdr["ETag"], body: `{"category":"council"}`}); status != 400 {
		t.Errorf("patching a harvested field: %d; want 400", status)
	}
}
