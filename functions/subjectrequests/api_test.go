package subjectrequests

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/store"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
	"github.com/council-ict/govkit/shared/testutil"
	"github.com/council-ict/govkit/shared/ukdates"
)

type env struct {
	t      testing.TB
	h      *Handler
	svc    *sr.Service
	tables sr.TableNames
	svcSt  *store.Service
	now    time.Time
	// sink, when set, receives every log line of the handler (zerolog.Ctx).
	sink *testutil.LogSink
}

func newEnv(t testing.TB, now time.Time) *env {
	t.Helper()
	st, err := store.NewService(store.Config{ConnectionString: testutil.Azurite(t)})
	if err != nil {
		t.Fatal(err)
	}
	names := sr.TableNames{Requests: testutil.UniqueName("sreq"), People: testutil.UniqueName("sppl"),
		Events: testutil.UniqueName("sevt"), Idempotency: testutil.UniqueName("sidm"), Counters: testutil.UniqueName("scnt")}
	e := &env{t: t, tables: names, svcSt: st, now: now}
	cal := func() (*ukdates.Calendar, error) { return ukdates.NewCalendar(ukdates.EnglandAndWales) }
	e.svc = sr.NewService(sr.NewStore(st, names), cal, func() time.Time { return e.now })
	if e.h, err = New(e.svc); err != nil {
		t.Fatal(err)
	}
	return e
}

type resp struct {
	Status  int
	Body    map[string]any
	Raw     string
	Headers map[string]string
}

func (e *env) do(method, path, body string, headers map[string]string) resp {
	e.t.Helper()
	params := map[string]string{}
	rest, query, _ := strings.Cut(strings.TrimPrefix(path, "/api/subject-requests"), "?")
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) > 0 && parts[0] != "" {
		params["id"] = parts[0]
	}
	if len(parts) > 1 {
		params["action"] = parts[1]
	}
	q := map[string]string{}
	for _, kv := range strings.Split(query, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			q[k] = v
		}
	}
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	req := map[string]any{"Method": method, "Url": "http://127.0.0.1:7071" + path, "Query": q, "Headers": h, "Params": params, "Body": body}
	raw, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": req}, "Metadata": map[string]any{}})
	inv, err := funcapp.DecodeInvocation("SubjectRequests", "test", raw)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	caller := officer
	if roles, ok := headers["X-Test-Roles"]; ok { // the access wrapper's output, simulated
		caller = funcapp.Principal{ObjectID: "22222222-3333-4444-5555-666666666666", Roles: strings.Split(roles, ",")}
	}
	ctx = funcapp.WithPrincipal(ctx, caller)
	if e.sink != nil {
		ctx = e.sink.Context(ctx)
	}
	res, err := e.h.Invoke(ctx, inv)
	if err != nil {
		e.t.Fatal(err)
	}
	out := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput)
	r := resp{Status: out.Status(), Raw: out.Body, Headers: out.Headers}
	_ = json.Unmarshal([]byte(out.Body), &r.Body)
	return r
}

// officer is the caller the access wrapper would put in the context.
var officer = funcapp.Principal{ObjectID: "11111111-2222-3333-4444-555555555555", Roles: []string{OfficerRole}}

func createBody(received string) string {
	return fmt.Sprintf(`{"type":"access","receivedOn":%q,"channel":"email","requesterRef":"CASE-1","serviceArea":"Adult Social Care","idRequired":false}`, received)
}

var march2029 = time.Date(2028, 12, 1, 12, 0, 0, 0, time.UTC)

func TestCreateDueOn(t *testing.T) {
	e := newEnv(t, march2029)
	for _, tc := range []struct{ received, due string }{
		{"2026-01-01", "2026-02-02"}, // 1 Jan (bank holiday) → Sun 1 Feb → Mon 2 Feb
		{"2026-01-31", "2026-03-02"}, // month end: 28 Feb (Sat) → Mon 2 Mar
		{"2028-01-31", "2028-02-29"}, // leap year: Tue 29 Feb
		{"2026-03-03", "2026-04-07"}, // Easter: 3 Apr Good Friday, 6 Apr Easter Monday → Tue 7 Apr
		{"2026-11-25", "2026-12-29"}, // Christmas Fri 25, weekend, substitute Boxing Day Mon 28 → Tue 29
		{"2024-11-25", "2024-12-27"}, // ICO's worked example
	} {
		r := e.do("POST", "/api/subject-requests", createBody(tc.received), nil)
		if r.Status != 201 || r.Body["dueOn"] != tc.due || r.Body["status"] != "open" || r.Body["chainVerified"] != true {
			t.Errorf("received %s: %d %s", tc.received, r.Status, r.Raw)
		}
		if !strings.HasPrefix(fmt.Sprint(r.Body["id"]), "SAR-2028-") || len(r.Body["explanation"].([]any)) == 0 {
			t.Errorf("id/explanation: %s", r.Raw)
		}
	}
	// idRequired: no clock, no dueOn until the ID arrives.
	r := e.do("POST", "/api/subject-requests", strings.Replace(createBody("2028-11-02"), `"idRequired":false`, `"idRequired":true`, 1), nil)
	if r.Status != 201 || r.Body["status"] != "awaiting-id" || r.Body["dueOn"] != nil {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	id := r.Body["id"].(string)
	r = e.do("POST", "/api/subject-requests/"+id+"/events", `{"type":"id-received","on":"2028-11-10"}`, nil)
	if r.Status != 200 || r.Body["dueOn"] != "2028-12-11" || r.Body["status"] != "open" {
		t.Fatalf("%d %s", r.Status, r.Raw) // 10 Dec 2028 is a Sunday
	}
}

func TestIdempotency(t *testing.T) {
	e := newEnv(t, march2029)
	key := map[string]string{"Idempotency-Key": "form-123"}
	a := e.do("POST", "/api/subject-requests", createBody("2028-11-01"), key)
	b := e.do("POST", "/api/subject-requests", createBody("2028-11-01"), key)
	if a.Status != 201 || b.Status != 201 || a.Body["id"] != b.Body["id"] {
		t.Fatalf("first %d %v, repeat %d %v", a.Status, a.Body["id"], b.Status, b.Body["id"])
	}
	c := e.do("POST", "/api/subject-requests", createBody("2028-11-02"), key)
	if c.Status != 422 || c.Body["field"] != "Idempotency-Key" {
		t.Fatalf("different body: %d %s", c.Status, c.Raw)
	}
	l := e.do("GET", "/api/subject-requests", "", nil)
	if n := len(l.Body["items"].([]any)); n != 1 {
		t.Fatalf("%d requests after duplicate creates, want 1", n)
	}
	// Events: a retried post appends once.
	id := a.Body["id"].(string)
	ek := map[string]string{"Idempotency-Key": "ev-1"}
	for range 2 {
		if r := e.do("POST", "/api/subject-requests/"+id+"/events", `{"type":"clarification-requested","on":"2028-11-03"}`, ek); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	}
	g := e.do("GET", "/api/subject-requests/"+id, "", nil)
	if n := len(g.Body["events"].([]any)); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

func TestInvalidBodies(t *testing.T) {
	e := newEnv(t, march2029)
	for _, tc := range []struct {
		name, body string
		fields     []string
	}{
		{"empty", ``, []string{"body"}},
		{"unknown field", `{"type":"access","nickname":"x"}`, []string{"nickname"}},
		{"wrong type", `{"type":1}`, []string{"type"}},
		{"everything wrong", `{"type":"complaint","receivedOn":"31/01/2026","channel":"fax","serviceArea":""}`, []string{"type", "receivedOn", "channel", "serviceArea"}},
		{"future receipt", `{"type":"access","receivedOn":"2029-01-01","channel":"web","serviceArea":"Housing"}`, []string{"receivedOn"}},
		{"bad email", `{"type":"access","receivedOn":"2028-01-01","channel":"web","serviceArea":"Housing","person":{"email":"nope"}}`, []string{"person.email"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/subject-requests", tc.body, nil)
			if r.Status != 400 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			var got []string
			for _, fe := range r.Body["errors"].([]any) {
				got = append(got, fe.(map[string]any)["field"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields = %v, want %v", got, tc.fields)
			}
		})
	}
	if r := e.do("GET", "/api/subject-requests?dueWithinDays=x&status=lost", "", nil); r.Status != 400 || !strings.Contains(r.Raw, "dueWithinDays") || !strings.Contains(r.Raw, "status") {
		t.Errorf("list filters: %d %s", r.Status, r.Raw)
	}
}

// TestInvalidTransitionsWriteNothing: each refused event answers 409 (or
// 400 for a bad date) and leaves the log and record unchanged.
func TestInvalidTransitionsWriteNothing(t *testing.T) {
	e := newEnv(t, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	newReq := func(setup ...string) string {
		r := e.do("POST", "/api/subject-requests", createBody("2026-04-01"), nil)
		id := r.Body["id"].(string)
		for _, s := range setup {
			if r := e.do("POST", "/api/subject-requests/"+id+"/events", s, nil); r.Status != 200 {
				t.Fatalf("setup %s: %d %s", s, r.Status, r.Raw)
			}
		}
		return id
	}
	for _, tc := range []struct {
		name   string
		setup  []string
		event  string
		status int
		field  string
	}{
		{"complete withdrawn", []string{`{"type":"withdrawn","on":"2026-04-05"}`}, `{"type":"completed","on":"2026-04-06"}`, 409, "type"},
		{"extend twice", []string{`{"type":"extended","on":"2026-04-05","reason":"complex"}`}, `{"type":"extended","on":"2026-04-06","reason":"again"}`, 409, "type"},
		{"extend after deadline", nil, `{"type":"extended","on":"2026-05-02","reason":"late"}`, 409, "type"},
		{"notify unextended", nil, `{"type":"extension-notified","on":"2026-04-05"}`, 409, "type"},
		{"resume unpaused", nil, `{"type":"clarification-received","on":"2026-04-05"}`, 409, "type"},
		{"id-received unasked", nil, `{"type":"id-received","on":"2026-04-05"}`, 409, "type"},
		{"refuse refused", []string{`{"type":"refused","on":"2026-04-05","legalBasis":"manifestly unfounded"}`}, `{"type":"refused","on":"2026-04-06","legalBasis":"x"}`, 409, "type"},
		{"event before receipt", nil, `{"type":"completed","on":"2026-03-31"}`, 400, "on"},
		{"event in future", nil, `{"type":"completed","on":"2026-06-02"}`, 400, "on"},
		{"extended without reason", nil, `{"type":"extended","on":"2026-04-05"}`, 400, "reason"},
		{"refused without legal basis", nil, `{"type":"refused","on":"2026-04-05"}`, 400, "legalBasis"},
		{"unknown event", nil, `{"type":"reopened"}`, 400, "type"},
		{"id-received without date", nil, `{"type":"id-received"}`, 400, "on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := newReq(tc.setup...)
			before := e.do("GET", "/api/subject-requests/"+id, "", nil)
			r := e.do("POST", "/api/subject-requests/"+id+"/events", tc.event, nil)
			if r.Status != tc.status || r.Body["field"] != tc.field {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if !strings.HasPrefix(r.Raw, "{") || r.Body["title"] == nil {
				t.Errorf("not a problem document: %s", r.Raw)
			}
			after := e.do("GET", "/api/subject-requests/"+id, "", nil)
			if before.Raw != after.Raw {
				t.Errorf("request changed:\nbefore %s\nafter  %s", before.Raw, after.Raw)
			}
		})
	}
	if r := e.do("POST", "/api/subject-requests/SAR-2026-999999/events", `{"type":"completed"}`, nil); r.Status != 404 {
		t.Errorf("unknown id: %d %s", r.Status, r.Raw)
	}
}

func TestEventsRecalculateDueOn(t *testing.T) {
	e := newEnv(t, time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	r := e.do("POST", "/api/subject-requests", createBody("2026-01-05"), nil)
	id := r.Body["id"].(string)
	if r.Body["dueOn"] != "2026-02-05" || r.Body["daysLeft"] != 4.0 || r.Body["workingDaysLeft"] != 4.0 {
		t.Fatalf("%s", r.Raw)
	}
	post := func(body string) resp {
		r := e.do("POST", "/api/subject-requests/"+id+"/events", body, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", body, r.Status, r.Raw)
		}
		return r
	}
	if r := post(`{"type":"clarification-requested","on":"2026-01-10"}`); r.Body["status"] != "paused" || r.Body["dueOn"] != nil || r.Body["paused"] != true {
		t.Fatalf("%s", r.Raw)
	}
	// 10 Jan to 20 Jan: 10 days → 15 Feb (Sunday) → Mon 16 Feb.
	if r := post(`{"type":"clarification-received","on":"2026-01-20"}`); r.Body["dueOn"] != "2026-02-16" || r.Body["daysPaused"] != 10.0 {
		t.Fatalf("%s", r.Raw)
	}
	// Extension: 5 Apr 2026 + 10 days = 15 Apr (Wed).
	if r := post(`{"type":"extended","on":"2026-01-21","reason":"numerous requests"}`); r.Body["dueOn"] != "2026-04-15" || r.Body["extended"] != true || r.Body["extensionNoticeBy"] != "2026-02-05" {
		t.Fatalf("%s", r.Raw)
	}
	if r := post(`{"type":"extension-notified","on":"2026-01-22"}`); r.Body["extensionNotifiedOn"] != "2026-01-22" {
		t.Fatalf("%s", r.Raw)
	}
	g := e.do("GET", "/api/subject-requests/"+id, "", nil)
	evs := g.Body["events"].([]any)
	if len(evs) != 5 || g.Body["chainVerified"] != true || evs[1].(map[string]any)["by"] != "11111111-2222-3333-4444-555555555555" {
		t.Fatalf("%s", g.Raw)
	}
	if strings.Contains(g.Raw, "officer@council.example") {
		t.Error("display name recorded")
	}
	// The list agrees with the detail and filters.
	l := e.do("GET", "/api/subject-requests?status=open&serviceArea=adult social care", "", nil)
	if items := l.Body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["dueOn"] != "2026-04-15" {
		t.Fatalf("%s", l.Raw)
	}
}

func TestChainTamperingDetected(t *testing.T) {
	e := newEnv(t, march2029)
	r := e.do("POST", "/api/subject-requests", createBody("2028-11-01"), nil)
	id := r.Body["id"].(string)
	e.do("POST", "/api/subject-requests/"+id+"/events", `{"type":"clarification-requested","on":"2028-11-02"}`, nil)
	e.do("POST", "/api/subject-requests/"+id+"/events", `{"type":"clarification-received","on":"2028-11-20"}`, nil)
	// Someone with table access shortens the pause in place.
	type raw struct {
		PartitionKey, RowKey, Type, On, RecordedAt, By, Reason, LegalBasis, Intake, KeyHash, PrevHash, Hash string
		Seq                                                                                                 int
	}
	tbl := store.NewTable[raw](e.svcSt, e.tables.Events)
	ctx := context.Background()
	rec, err := tbl.Get(ctx, id, "0000000003")
	if err != nil {
		t.Fatal(err)
	}
	v := rec.Value
	v.On = "2028-11-03"
	if _, err := tbl.Upsert(ctx, v); err != nil {
		t.Fatal(err)
	}
	g := e.do("GET", "/api/subject-requests/"+id, "", nil)
	if g.Body["chainVerified"] != false || !strings.Contains(fmt.Sprint(g.Body["chainProblem"]), "event 3") {
		t.Fatalf("%s", g.Raw)
	}
	if r := e.do("POST", "/api/subject-requests/"+id+"/events", `{"type":"completed","on":"2028-11-21"}`, nil); r.Status != 409 {
		t.Fatalf("append to a tampered log: %d %s", r.Status, r.Raw)
	}
	// Deleting the last event is caught by the record's head.
	r2 := e.do("POST", "/api/subject-requests", createBody("2028-11-01"), nil)
	id2 := r2.Body["id"].(string)
	e.do("POST", "/api/subject-requests/"+id2+"/events", `{"type":"completed","on":"2028-11-05"}`, nil)
	if err := tbl.Delete(ctx, id2, "0000000002", ""); err != nil {
		t.Fatal(err)
	}
	if g := e.do("GET", "/api/subject-requests/"+id2, "", nil); g.Body["chainVerified"] != false {
		t.Fatalf("truncation not detected: %s", g.Raw)
	}
}

// TestRepairAndPaging: a lost tracking record (crash after the event was
// written) is rebuilt from the log on the next read; lists page.
func TestRepairAndPaging(t *testing.T) {
	e := newEnv(t, march2029)
	var ids []string
	for range 5 {
		r := e.do("POST", "/api/subject-requests", createBody("2028-11-20"), nil)
		ids = append(ids, r.Body["id"].(string))
	}
	recs := store.NewTable[sr.Record](e.svcSt, e.tables.Requests)
	if err := recs.Delete(context.Background(), "2028", ids[2], ""); err != nil {
		t.Fatal(err)
	}
	if g := e.do("GET", "/api/subject-requests/"+ids[2], "", nil); g.Status != 200 || g.Body["chainVerified"] != true {
		t.Fatalf("%d %s", g.Status, g.Raw)
	}
	var seen []string
	token := ""
	for pages := 0; ; pages++ {
		l := e.do("GET", "/api/subject-requests?limit=2&continuationToken="+token, "", nil)
		for _, it := range l.Body["items"].([]any) {
			seen = append(seen, it.(map[string]any)["id"].(string))
		}
		tok, _ := l.Body["continuationToken"].(string)
		if tok == "" || pages > 5 {
			break
		}
		token = tok
	}
	if strings.Join(seen, ",") != strings.Join(ids, ",") {
		t.Fatalf("paged %v, want %v", seen, ids)
	}
	if l := e.do("GET", "/api/subject-requests?dueWithinDays=0", "", nil); len(l.Body["items"].([]any)) != 0 {
		t.Errorf("due within 0 days: %s", l.Raw)
	}
	if l := e.do("GET", "/api/subject-requests?dueWithinDays=30", "", nil); len(l.Body["items"].([]any)) != 5 {
		t.Errorf("due within 30 days: %s", l.Raw)
	}
}

// TestPersonalDetailsOnlyForOfficers: personal details are stored apart and
// returned only to SubjectRequests.Officer, and only when asked for.
func TestPersonalDetailsOnlyForOfficers(t *testing.T) {
	e := newEnv(t, march2029)
	r := e.do("POST", "/api/subject-requests", `{"type":"access","receivedOn":"2028-03-01","channel":"email","serviceArea":"Housing","person":{"name":"Ann Example","email":"ann@example.org"}}`, nil)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	id := fmt.Sprint(r.Body["id"])
	for _, tc := range []struct {
		name, query string
		headers     map[string]string
		status      int
		wantPerson  bool
	}{
		{"officer without include", "", nil, 200, false},
		{"officer with include", "?include=person", nil, 200, true},
		{"automation with include", "?include=person", map[string]string{"X-Test-Roles": "Automation"}, 403, false},
		{"automation without include", "", map[string]string{"X-Test-Roles": "Automation"}, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := e.do("GET", "/api/subject-requests/"+id+tc.query, "", tc.headers)
			if g.Status != tc.status {
				t.Fatalf("status %d: %s", g.Status, g.Raw)
			}
			if got := strings.Contains(g.Raw, "ann@example.org"); got != tc.wantPerson {
				t.Errorf("personal details present = %v: %s", got, g.Raw)
			}
		})
	}
}
