package cloudapps

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/erasure"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
)

func doAction(t *testing.T, h *Handler, method, appID, action, body string) (int, []byte) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": map[string]any{"Method": method,
		"Url": "http://127.0.0.1:7071/api/cloudapps/" + appID + "/" + action, "Headers": map[string]string{"Content-Type": "application/json"},
		"Params": map[string]string{"appId": appID, "action": action}, "Body": body}}, "Metadata": map[string]any{}})
	inv, err := funcapp.DecodeInvocation(Name, "t", raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := funcapp.WithPrincipal(context.Background(), funcapp.Principal{ObjectID: "oid-reviewer", Roles: []string{"CloudApps.Reviewer"}})
	res, err := h.Invoke(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	out := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput)
	return out.Status(), []byte(out.Body)
}

func TestErasureEvidenceAndChecks(t *testing.T) {
	h, _ := setup(t)
	names := [3]string{testutil.UniqueName("erasure"), testutil.UniqueName("results"), testutil.UniqueName("evidence")}
	h.SetErasureTables(names[0], names[1], names[2])
	h.now = func() time.Time { return time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC) }

	// Malformed: 400 naming every bad field; nothing stored.
	st, body := doAction(t, h, "PUT", "app-a", ActionErasureEvidence, `{"method":"shred","performedOn":"3/12/2026","scope":{"backups":"yes"}}`)
	if st != 400 || !strings.Contains(string(body), `"method"`) || !strings.Contains(string(body), `"performedOn"`) || !strings.Contains(string(body), `"scope.backups"`) {
		t.Fatalf("malformed: %d %s", st, body)
	}
	// Partial: accepted, incomplete, naming what is missing.
	st, body = doAction(t, h, "PUT", "app-a", ActionErasureEvidence, `{"method":"purge","performedOn":"2026-12-01","reference":"R1"}`)
	var ev EvidenceView
	_ = json.Unmarshal(body, &ev)
	if st != 201 || ev.Status != "incomplete" || strings.Join(ev.Missing, ",") != "scope.systems,scope.backups,scope.subProcessors,attestedBy" || ev.FiledBy != "oid-reviewer" {
		t.Fatalf("partial: %d %s", st, body)
	}
	// Complete.
	h.now = func() time.Time { return time.Date(2026, 12, 3, 9, 5, 0, 0, time.UTC) }
	st, body = doAction(t, h, "PUT", "app-a", ActionErasureEvidence, `{"method":"purge","performedOn":"2026-12-01","reference":"R1",
		"attestedBy":"Supplier CISO","scope":{"systems":"all tenants","backups":true,"subProcessors":true}}`)
	if st != 201 || !strings.Contains(string(body), `"status":"complete"`) {
		t.Fatalf("complete: %d %s", st, body)
	}
	// Unknown application, unknown action, wrong method.
	if st, _ := doAction(t, h, "PUT", "no-such-app", ActionErasureEvidence, `{"method":"purge"}`); st != 404 {
		t.Errorf("unknown app: %d", st)
	}
	if st, _ := doAction(t, h, "GET", "app-a", "nonsense", ""); st != 404 {
		t.Errorf("unknown action: %d", st)
	}
	if st, _ := doAction(t, h, "GET", "app-a", ActionErasureEvidence, ""); st != 405 {
		t.Errorf("GET evidence: %d", st)
	}

	// Results written by DataErasureChecks show with history.
	results := store.NewTable[erasure.ResultRow](h.svc, names[1])
	for i, o := range []string{erasure.Failed, erasure.Passed} {
		day := time.Date(2026, 12, 2+i, 6, 0, 0, 0, time.UTC)
		if _, err := results.Upsert(context.Background(), erasure.NewResultRow("app-a", erasure.Result{Check: erasure.CheckAccessRemoved, Outcome: o, Reason: o}, day)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.NewTable[erasure.CheckRow](h.svc, names[0]).Upsert(context.Background(), erasure.CheckRow{PartitionKey: erasure.ChecksPartition,
		RowKey: "app-a", AppID: "app-a", OverallStatus: "compliant", Since: "2026-12-03", CompliantOn: "2026-12-03", TerminationDate: "2026-09-01"}); err != nil {
		t.Fatal(err)
	}
	st, body = doAction(t, h, "GET", "app-a", ActionErasure, "")
	var v ErasureView
	if err := json.Unmarshal(body, &v); err != nil || st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	if v.Overall == nil || v.Overall.Status != "compliant" || len(v.Checks) != 1 || v.Checks[0].Latest.Outcome != "passed" ||
		len(v.Checks[0].History) != 2 || len(v.Evidence) != 2 || v.Evidence[0].Status != "complete" {
		t.Errorf("view %s", body)
	}
	// Not checked yet: overall null.
	st, body = doAction(t, h, "GET", "app-b", ActionErasure, "")
	if st != 200 || !strings.Contains(string(body), `"overall":null`) {
		t.Errorf("unchecked: %d %s", st, body)
	}
}
