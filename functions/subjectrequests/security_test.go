package subjectrequests

import (
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/testutil"
)

// The requester's details and free text used below; none may appear in a
// log line or an error, whatever the outcome.
const (
	secName    = "Zebedee Quartermain"
	secEmail   = "zebedee.quartermain@example.org"
	secPhone   = "07700 900123"
	secAddress = "1 Nowhere Lane, Exampletown"
	secReason  = "Asked for every CCTV still of Zebedee"
	secBadMail = "zebedee-without-an-at-sign"
)

func personBody(email string) string {
	return `{"type":"access","receivedOn":"2026-11-02","channel":"email","requesterRef":"CASE-9","serviceArea":"Adult Social Care",` +
		`"idRequired":false,"person":{"name":"` + secName + `","email":"` + email + `","phone":"` + secPhone + `","address":"` + secAddress + `"}}`
}

// TestNoPersonalDataInLogsOrErrors drives the API through creates, events,
// refusals and idempotency replays with a log sink that fails on any of
// the requester's details.
func TestNoPersonalDataInLogsOrErrors(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	e.sink = testutil.NewLogSink(t, secName, "Quartermain", secEmail, secPhone, secAddress, secReason, secBadMail)
	check := func(what string, r resp, want int) {
		t.Helper()
		if r.Status != want {
			t.Errorf("%s: status %d, want %d: %s", what, r.Status, want, r.Raw)
		}
		if r.Status >= 400 {
			e.sink.Check(what+" problem body", r.Raw)
		}
	}
	r := e.do("POST", "/api/subject-requests", personBody(secEmail), map[string]string{"Idempotency-Key": "k-1"})
	check("create", r, 201)
	id, _ := r.Body["id"].(string)
	check("replay", e.do("POST", "/api/subject-requests", personBody(secEmail), map[string]string{"Idempotency-Key": "k-1"}), 201)
	check("key reuse, other body", e.do("POST", "/api/subject-requests", personBody("other."+secEmail), map[string]string{"Idempotency-Key": "k-1"}), 422)
	check("bad email", e.do("POST", "/api/subject-requests", personBody(secBadMail), nil), 400)
	long := strings.Replace(personBody(secEmail), secAddress, secAddress+strings.Repeat("x", 2000), 1)
	check("too long", e.do("POST", "/api/subject-requests", long, nil), 400)
	check("unknown field", e.do("POST", "/api/subject-requests", strings.Replace(personBody(secEmail), `"type"`, `"nickname":"`+secName+`","type"`, 1), nil), 400)
	check("extended", e.do("POST", "/api/subject-requests/"+id+"/events", `{"type":"extended","reason":"`+secReason+`"}`, nil), 200)
	check("reason on a bad event", e.do("POST", "/api/subject-requests/"+id+"/events", `{"type":"completed","reason":"`+secReason+`"}`, nil), 400)
	check("unknown request", e.do("POST", "/api/subject-requests/SAR-2026-9999/events", `{"type":"extended","reason":"`+secReason+`"}`, nil), 404)
	if len(e.sink.Lines()) == 0 {
		t.Error("the handler logged nothing: the sink saw no lines to check")
	}
}

// TestBodyLimitsAndContentType: oversized bodies, unknown fields and
// non-JSON content types are refused with problem+json before anything is
// stored.
func TestBodyLimitsAndContentType(t *testing.T) {
	e := newEnv(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	huge := strings.Replace(personBody(secEmail), secAddress, strings.Repeat("a", funcapp.MaxJSONBody), 1)
	first := e.do("POST", "/api/subject-requests", createBody("2026-11-02"), nil)
	id, _ := first.Body["id"].(string)
	if first.Status != 201 {
		t.Fatalf("create: %d %s", first.Status, first.Raw)
	}
	for _, tc := range []struct {
		name, path, body string
		headers          map[string]string
		status           int
		field            string
	}{
		{"over the size limit", "/api/subject-requests", huge, nil, 413, "body"},
		{"unknown field", "/api/subject-requests", `{"colour":"blue"}`, nil, 400, "colour"},
		{"text/plain", "/api/subject-requests", personBody(secEmail), map[string]string{"Content-Type": "text/plain"}, 415, "Content-Type"},
		{"form", "/api/subject-requests", personBody(secEmail), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "Content-Type"},
		{"event over the limit", "/api/subject-requests/" + id + "/events", `{"type":"extended","reason":"` + strings.Repeat("r", funcapp.MaxJSONBody) + `"}`, nil, 413, "body"},
		{"event text/csv", "/api/subject-requests/" + id + "/events", `{"type":"withdrawn"}`, map[string]string{"Content-Type": "text/csv"}, 415, "Content-Type"},
	} {
		r := e.do("POST", tc.path, tc.body, tc.headers)
		if r.Status != tc.status || r.Headers["Content-Type"] != "application/problem+json" || r.Body["field"] != tc.field {
			t.Errorf("%s: %d %v %.300s", tc.name, r.Status, r.Headers, r.Raw)
		}
	}
	if r := e.do("POST", "/api/subject-requests/"+id+"/events", `{"type":"withdrawn"}`, map[string]string{"Content-Type": "application/json; charset=utf-8"}); r.Status != 200 {
		t.Errorf("JSON with charset refused: %d %s", r.Status, r.Raw)
	}
	r := e.do("GET", "/api/subject-requests", "", nil)
	if items, _ := r.Body["items"].([]any); r.Status != 200 || len(items) != 1 {
		t.Errorf("refused requests were stored: %d %.300s", r.Status, r.Raw)
	}
	r = e.do("GET", "/api/subject-requests/"+id, "", nil)
	if evs, _ := r.Body["events"].([]any); r.Status != 200 || len(evs) != 2 {
		t.Errorf("refused events were stored: %d %.600s", r.Status, r.Raw)
	}
}
