package contracts

import (
	"context"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/testutil"
)

const (
	secOwner    = "pat.ownerperson@council.example"
	secBadOwner = "pat-ownerperson-no-at-sign"
)

// TestNoOwnerEmailInLogsOrErrors: the contract owner's e-mail never
// reaches a log line or a problem response, on success or refusal.
func TestNoOwnerEmailInLogsOrErrors(t *testing.T) {
	h, err := New(Config{}, newTestRegister(t))
	if err != nil {
		t.Fatal(err)
	}
	sink := testutil.NewLogSink(t, secOwner, secBadOwner, "ownerperson")
	ctx := sink.Context(context.Background())
	b := strings.Replace(body, "jo@council.example", secOwner, 1)
	for _, tc := range []struct {
		method, id, body string
		headers          map[string]string
		status           int
	}{
		{"PUT", "C-501", b, nil, 201},
		{"PUT", "C-501", b, nil, 200},
		{"PUT", "C-502", strings.Replace(b, secOwner, secBadOwner, 1), nil, 400},
		{"PATCH", "C-501", `{"owner":"` + secBadOwner + `"}`, nil, 400},
		{"PATCH", "C-501", `{"owner":"` + secOwner + `","nickname":"` + secOwner + `"}`, nil, 400},
		{"PATCH", "C-501", `{"owner":"` + secOwner + `"}`, map[string]string{"If-Match": `W/"stale"`}, 412},
		{"GET", "C-501", "", nil, 200},
		{"GET", "", "", nil, 200},
	} {
		r := callCtx(ctx, t, h, tc.method, tc.id, tc.body, tc.headers, nil)
		if r.status != tc.status {
			t.Errorf("%s %s: %d, want %d: %.300s", tc.method, tc.id, r.status, tc.status, r.body)
		}
		if r.status >= 400 {
			sink.Check(tc.method+" "+tc.id+" problem body", r.body)
		}
	}
	if len(sink.Lines()) == 0 {
		t.Error("the handler logged nothing: the sink saw no lines to check")
	}
}

// TestBodyLimitsAndContentType: oversized bodies, unknown fields and
// non-JSON content types are refused with problem+json and write nothing.
func TestBodyLimitsAndContentType(t *testing.T) {
	h, err := New(Config{}, newTestRegister(t))
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Replace(body, `"dbsRequired":false`, `"dbsRequired":false,"notes":"`+strings.Repeat("n", funcapp.MaxJSONBody)+`"`, 1)
	for _, tc := range []struct {
		name, method, body string
		headers            map[string]string
		status             int
		field              string
	}{
		{"over the size limit", "PUT", huge, nil, 413, "body"},
		{"unknown field", "PUT", strings.Replace(body, `"title"`, `"colour":"red","title"`, 1), nil, 400, "colour"},
		{"text/plain", "PUT", body, map[string]string{"Content-Type": "text/plain"}, 415, "Content-Type"},
		{"text/csv patch", "PATCH", `{"notes":"x"}`, map[string]string{"Content-Type": "text/csv"}, 415, "Content-Type"},
		{"patch over the limit", "PATCH", `{"notes":"` + strings.Repeat("n", funcapp.MaxJSONBody) + `"}`, nil, 413, "body"},
	} {
		r := call(t, h, tc.method, "C-601", tc.body, tc.headers, nil)
		if r.status != tc.status || r.headers["Content-Type"] != "application/problem+json" || !strings.Contains(r.body, `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %d %v %.300s", tc.name, r.status, r.headers, r.body)
		}
	}
	if r := call(t, h, "GET", "C-601", "", nil, nil); r.status != 404 {
		t.Errorf("a refused request wrote something: %d %s", r.status, r.body)
	}
	if r := call(t, h, "PUT", "C-601", body, map[string]string{"Content-Type": "application/json; charset=utf-8"}, nil); r.status != 201 {
		t.Errorf("JSON with charset refused: %d %s", r.status, r.body)
	}
}
