package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/council-ict/govkit/functions/contractexpiryalerts"
	"github.com/council-ict/govkit/functions/contractsimport"
	"github.com/council-ict/govkit/functions/teamsnotify"
	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/teams"
	"github.com/council-ict/govkit/shared/teams/teamstest"
	"github.com/council-ict/govkit/shared/testutil"
	"github.com/council-ict/govkit/shared/ukdates"
)

// recordingBlobs forwards to the real blob writer and remembers what it wrote.
type recordingBlobs struct {
	next *blobWriter
	mu   sync.Mutex
	m    map[string][]byte
	n    int
}

func (r *recordingBlobs) PutBlob(ctx context.Context, container, name string, body []byte, ct string) error {
	if err := r.next.PutBlob(ctx, container, name, body, ct); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[container+"/"+name] = body
	r.n++
	return nil
}

func httpInvocation(t *testing.T, fn, method, ct, body string) funcapp.Invocation {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": map[string]any{"Method": method,
		"Url": "http://127.0.0.1:7071/api/x", "Headers": map[string]string{"Content-Type": ct}, "Body": body}}, "Metadata": map[string]any{}})
	inv, err := funcapp.DecodeInvocation(fn, "e2e", raw)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestContractAlertsEndToEnd: import a CSV through ContractsImport, run
// ContractExpiryAlerts twice on the same day, feed every queued
// notification to TeamsNotify twice: each due alert lands exactly once, in
// teams-outbox for a route without a webhook and at the (stand-in) webhook
// for a configured route.
func TestContractAlertsEndToEnd(t *testing.T) {
	conn := testutil.Azurite(t)
	ctx := context.Background()
	svc, err := store.NewService(store.Config{ConnectionString: conn})
	if err != nil {
		t.Fatal(err)
	}
	tContracts, tClaims, tLedger, tDeliveries := testutil.UniqueName("contracts"), testutil.UniqueName("claims"),
		testutil.UniqueName("ledger"), testutil.UniqueName("deliveries")
	if err := svc.EnsureTables(ctx, tContracts, tClaims, tLedger, tDeliveries); err != nil {
		t.Fatal(err)
	}
	queue := testutil.UniqueName("notifications")
	transport, err := notify.NewQueueTransport(conn, queue)
	if err != nil {
		t.Fatal(err)
	}
	bw, err := newBlobWriter(conn, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	blobs := &recordingBlobs{next: bw, m: map[string][]byte{}}
	register := contracts.NewRegister(svc, tContracts)

	// Routes unique to this run, so teams-outbox blobs from other runs do not count.
	suffix := testutil.UniqueName("r")
	outboxRoute, hookRoute := "champions-"+suffix, "hooked-"+suffix
	today := ukdates.LondonDate(time.Now())
	uk := func(d ukdates.Date) string { return fmt.Sprintf("%02d/%02d/%04d", d.Day, int(d.Month), d.Year) }
	csv := "id,title,supplier,serviceArea,owner,route,escalationRoute,startDate,endDate,noticePeriod,internalLeadTime,renewalType,renewalTerm,annualValue,dbsRequired\n"
	csv += fmt.Sprintf("C-1,Managed print,Acme,Housing,a@council.example,%s,,%s,%s,P3M,P30D,none,,48250.50,yes\n",
		outboxRoute, uk(today.AddDays(-400)), uk(contractsPeriod("P3M").AddTo(today.AddDays(20), 1)))
	csv += fmt.Sprintf("C-2,Care app,CareSoft,Adults,b@council.example,%s,%s,%s,%s,,,automatic,P1Y,1200,no\n",
		hookRoute, outboxRoute, uk(today.AddDays(-300)), today.AddDays(5).String())
	csv += fmt.Sprintf("C-3,Old,Legacy Ltd,Housing,c@council.example,%s,,%s,%s,,,none,,0,no\n",
		outboxRoute, uk(today.AddDays(-800)), uk(today.AddDays(-3)))

	imp, _ := contractsimport.New(register)
	res, err := imp.Invoke(ctx, httpInvocation(t, "ContractsImport", "POST", "text/csv", csv))
	if err != nil {
		t.Fatal(err)
	}
	if out := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput); out.Status() != 200 {
		t.Fatalf("import: %s %s", out.StatusCode, out.Body)
	}

	// What is due, computed independently of the pipeline.
	want := map[string]string{} // alert ID → route
	_ = register.List(ctx, "", func(s contracts.Stored) error {
		for _, a := range contracts.Evaluate(nil, &s.Contract, today, contracts.DefaultPolicy()) {
			want[a.ID()] = a.Route
		}
		return nil
	})
	if len(want) < 5 {
		t.Fatalf("test data yields only %d due alerts: %v", len(want), want)
	}

	alerts, err := contractexpiryalerts.New(contractexpiryalerts.Config{Policy: contracts.DefaultPolicy(), PublicBaseURL: "https://govkit.example.gov.uk"},
		register, contracts.NewClaimLedger(svc, tClaims), notify.NewOutbox(svc, tLedger, transport), blobs)
	if err != nil {
		t.Fatal(err)
	}
	timer := funcapp.Invocation{Function: "ContractExpiryAlerts", ID: "run", Data: map[string]json.RawMessage{"timer": json.RawMessage(`{"Schedule":{"AdjustForDST":true},"IsPastDue":false}`)}}
	for i := range 2 {
		timer.ID = fmt.Sprintf("run-%d", i)
		if _, err := alerts.Invoke(ctx, timer); err != nil {
			t.Fatal(err)
		}
	}
	reports := 0
	for name := range blobs.m {
		if strings.HasPrefix(name, contractexpiryalerts.ReportContainer+"/ContractExpiryAlerts/") {
			reports++
		}
	}
	if reports != 2 {
		t.Errorf("%d run reports, want 2", reports)
	}

	// Drain the queue.
	q, _ := azqueue.NewQueueClientFromConnectionString(conn, queue, nil)
	t.Cleanup(func() { _, _ = q.Delete(context.Background(), nil) })
	var bodies []string
	for {
		n := int32(32)
		resp, err := q.DequeueMessages(ctx, &azqueue.DequeueMessagesOptions{NumberOfMessages: &n})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Messages) == 0 {
			break
		}
		for _, m := range resp.Messages {
			b, _ := base64.StdEncoding.DecodeString(*m.MessageText)
			bodies = append(bodies, string(b))
			_, _ = q.DeleteMessage(ctx, *m.MessageID, *m.PopReceipt, nil)
		}
	}
	if len(bodies) != 2 { // one digest per route
		t.Errorf("%d notifications queued after two runs, want 2 (one digest per route)", len(bodies))
	}

	srv := teamstest.NewServer(t)
	srv.Enqueue(teamstest.Throttled("0.2"))
	routes, err := teams.NewRoutes(map[string]string{hookRoute: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	tn, err := teamsnotify.New(teamsnotify.Config{Routes: routes}, teamsnotify.NewTableLedger(svc, tDeliveries), teams.New(nil), blobs)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range bodies {
		for range 2 { // redelivered: the second is a no-op
			b, _ := json.Marshal(body)
			inv, err := funcapp.DecodeInvocation("TeamsNotify", "tn", []byte(`{"Data":{"msg":`+string(b)+`},"Metadata":{}}`))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tn.Invoke(ctx, inv); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Each due alert exactly once, where its route says.
	var outboxText strings.Builder
	for name, b := range blobs.m {
		if strings.HasPrefix(name, teamsnotify.OutboxContainer+"/") {
			outboxText.Write(b)
		}
	}
	var hookText strings.Builder
	for _, r := range srv.Accepted() {
		hookText.Write(r.Body)
	}
	for id, route := range want {
		inOutbox, atHook := strings.Count(outboxText.String(), id+`"`), strings.Count(hookText.String(), id+`"`)
		switch route {
		case hookRoute:
			if atHook != 1 || inOutbox != 0 {
				t.Errorf("%s: %d at the webhook, %d in teams-outbox; want 1, 0", id, atHook, inOutbox)
			}
		default:
			if inOutbox != 1 || atHook != 0 {
				t.Errorf("%s: %d in teams-outbox, %d at the webhook; want 1, 0", id, inOutbox, atHook)
			}
		}
	}
	if len(srv.Requests()) != 2 { // one 429, one 202
		t.Errorf("%d webhook requests, want 2", len(srv.Requests()))
	}
}

func contractsPeriod(s string) contracts.Period {
	p, err := contracts.ParsePeriod(s)
	if err != nil {
		panic(err)
	}
	return p
}
