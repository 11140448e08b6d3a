package notify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
)

// recordingTransport is the narrow Transport interface's test double: it
// records what would have been sent, and can fail on demand.
type recordingTransport struct {
	mu   sync.Mutex
	sent []Message
	fail error
}

func (r *recordingTransport) Send(_ context.Context, msgs []Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.sent = append(r.sent, msgs...)
	return nil
}

func (r *recordingTransport) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.sent {
		out = append(out, m.ID)
	}
	return out
}

func newOutbox(t *testing.T, tr Transport) *Outbox {
	t.Helper()
	svc, err := store.NewService(store.Config{ConnectionString: testutil.Azurite(t)})
	if err != nil {
		t.Fatal(err)
	}
	// No EnsureTables: the outbox creates its ledger table on first use
	// (a fresh storage account has none).
	return NewOutbox(svc, testutil.UniqueName("ledger"), tr)
}

func sample(id string) Notification {
	return Notification{ID: id, Source: "ContractExpiryAlerts", Route: "ict-champions-housing", Severity: SeverityWarning,
		Title: "Notice deadline in 30 days", CreatedAt: time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)}
}

func TestOutboxPublishesEachNotificationOnce(t *testing.T) {
	ctx := context.Background()
	tr := &recordingTransport{}
	o := newOutbox(t, tr)
	batch := []Notification{sample("contracts:C-1:notice:30"), sample("contracts:C-2:end:90")}
	st, err := o.Publish(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 2 || st.HandedOn != 2 {
		t.Errorf("first run stats %+v", st)
	}
	// A re-run with one more: only the new one goes.
	st, err = o.Publish(ctx, append(batch, sample("contracts:C-3:end:7")))
	if err != nil {
		t.Fatal(err)
	}
	if st.New != 1 || st.Duplicates != 2 || st.HandedOn != 1 {
		t.Errorf("second run stats %+v", st)
	}
	if got := strings.Join(tr.ids(), ","); got != "contracts:C-1:notice:30,contracts:C-2:end:90,contracts:C-3:end:7" {
		t.Errorf("sent %s", got)
	}
	var n Notification
	if err := json.Unmarshal(tr.sent[0].Body, &n); err != nil || n.Route != "ict-champions-housing" || n.Title == "" {
		t.Errorf("body %s: %v", tr.sent[0].Body, err)
	}
}

func TestOutboxResendsAfterFailedHandOn(t *testing.T) {
	ctx := context.Background()
	tr := &recordingTransport{fail: errors.New("service bus unavailable")}
	o := newOutbox(t, tr)
	if _, err := o.Publish(ctx, []Notification{sample("sar:S-1:reminder:5")}); err == nil {
		t.Fatal("want error when the transport fails")
	}
	tr.fail = nil
	// The next run has nothing new for that source but must resend the pending one.
	st, err := o.Publish(ctx, []Notification{sample("sar:S-2:reminder:10")})
	if err != nil {
		t.Fatal(err)
	}
	if st.Resent != 1 || st.New != 1 || st.HandedOn != 2 {
		t.Errorf("stats %+v", st)
	}
	st, err = o.Publish(ctx, []Notification{sample("sar:S-1:reminder:5"), sample("sar:S-2:reminder:10")})
	if err != nil || st.HandedOn != 0 {
		t.Errorf("third run handed on %d (%v), want 0", st.HandedOn, err)
	}
	if len(tr.sent) != 2 {
		t.Errorf("sent %v", tr.ids())
	}
}

func TestOutboxRejectsInvalidNotificationsBeforeWriting(t *testing.T) {
	tr := &recordingTransport{}
	o := newOutbox(t, tr)
	for _, n := range []Notification{
		{ID: "has/slash", Source: "S", Route: "r", Severity: SeverityInfo, Title: "t"},
		{ID: "ok", Source: "S", Route: "Not Kebab", Severity: SeverityInfo, Title: "t"},
		{ID: "ok", Source: "S", Route: "r", Severity: "loud", Title: "t"},
		{ID: "ok", Source: "S", Route: "r", Severity: SeverityInfo},
	} {
		if _, err := o.Publish(context.Background(), []Notification{n}); err == nil {
			t.Errorf("accepted %+v", n)
		}
	}
	if len(tr.sent) != 0 {
		t.Error("an invalid notification was handed on")
	}
}

func TestServiceBusMessageShape(t *testing.T) {
	m := ServiceBusMessage(Message{ID: "contracts:C-1:notice:30", Body: []byte(`{"id":"contracts:C-1:notice:30"}`)})
	if m.MessageID == nil || *m.MessageID != "contracts:C-1:notice:30" {
		t.Errorf("MessageID = %v", m.MessageID)
	}
	if m.ContentType == nil || *m.ContentType != "application/json" {
		t.Errorf("ContentType = %v", m.ContentType)
	}
	if string(m.Body) != `{"id":"contracts:C-1:notice:30"}` || m.SessionID != nil || m.TimeToLive != nil {
		t.Errorf("unexpected message %+v", m)
	}
}

func TestQueueTransportBase64(t *testing.T) {
	conn := testutil.Azurite(t)
	name := testutil.UniqueName("notifications")
	tr, err := NewQueueTransport(conn, name)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	body, _ := json.Marshal(sample("x:1"))
	if err := tr.Send(ctx, []Message{{ID: "x:1", Body: body}}); err != nil {
		t.Fatal(err)
	}
	q, _ := azqueue.NewQueueClientFromConnectionString(conn, name, nil)
	t.Cleanup(func() { _, _ = q.Delete(context.Background(), nil) })
	resp, err := q.DequeueMessage(ctx, nil)
	if err != nil || len(resp.Messages) != 1 {
		t.Fatalf("dequeue: %v %d", err, len(resp.Messages))
	}
	raw, err := base64.StdEncoding.DecodeString(*resp.Messages[0].MessageText)
	if err != nil {
		t.Fatalf("message is not base64: %v", err)
	}
	n, err := Decode(raw)
	if err != nil || n.ID != "x:1" {
		t.Errorf("decoded %+v, %v", n, err)
	}
}
