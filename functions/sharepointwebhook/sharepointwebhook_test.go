package sharepointwebhook_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/council-ict/govkit/functions/sharepointwebhook"
	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/sharepoint"
)

type queue struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (q *queue) Send(_ context.Context, m []notify.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, m...)
	return nil
}

// The documented payload's clientState and resource (list id).
const (
	docState = "00000000-0000-0000-0000-000000000000"
	docList  = "b9f6f714-9df8-470b-b22e-653855e1c181"
)

func handler(t *testing.T, secret string) (*sharepointwebhook.Handler, *queue) {
	t.Helper()
	q := &queue{}
	h, err := sharepointwebhook.New(sharepointwebhook.Config{ClientState: config.NewSecret(secret),
		Lists: []sharepoint.List{{Name: "contracts", Kind: sharepoint.KindContracts, ListID: docList}}}, q)
	if err != nil {
		t.Fatal(err)
	}
	return h, q
}

func status(t *testing.T, r funcapp.Result) (int, string, string) {
	t.Helper()
	out, ok := r.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput)
	if !ok {
		t.Fatalf("no http output: %+v", r)
	}
	b, _ := json.Marshal(out)
	var m struct {
		Body    string            `json:"body"`
		Headers map[string]string `json:"headers"`
	}
	_ = json.Unmarshal(b, &m)
	return out.Status(), m.Headers["Content-Type"], m.Body
}

func TestValidationEcho(t *testing.T) {
	h, q := handler(t, docState)
	for _, key := range []string{"validationtoken", "validationToken"} {
		r, err := h.Serve(context.Background(), funcapp.HTTPRequest{Method: "POST", Query: map[string]string{key: "abc{randomString}"}})
		if err != nil {
			t.Fatal(err)
		}
		code, ct, body := status(t, r)
		if code != 200 || !strings.HasPrefix(ct, "text/plain") || body != "abc{randomString}" {
			t.Errorf("%s: %d %q %q", key, code, ct, body)
		}
	}
	if len(q.msgs) != 0 {
		t.Error("validation enqueued something")
	}
}

func TestNotificationEnqueued(t *testing.T) {
	body, err := os.ReadFile("testdata/notification.json")
	if err != nil {
		t.Fatal(err)
	}
	h, q := handler(t, docState)
	r, err := h.Serve(context.Background(), funcapp.HTTPRequest{Method: "POST", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := status(t, r); code != 202 || len(q.msgs) != 1 {
		t.Fatalf("status %d, %d messages", code, len(q.msgs))
	}
	c, err := sharepoint.DecodeChange(q.msgs[0].Body)
	if err != nil || c.List != "contracts" || c.SubscriptionID != "91779246-afe9-4525-b122-6c199ae89211" {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestRefusals(t *testing.T) {
	doc, _ := os.ReadFile("testdata/notification.json")
	big := `{"value":[],"pad":"` + strings.Repeat("x", sharepoint.MaxBody) + `"}`
	cases := []struct {
		name, secret, body string
		want               int
	}{
		{"wrong clientState", "another-secret-value", string(doc), 403},
		{"no secret configured", "", string(doc), 403},
		{"not json", docState, "<xml/>", 400},
		{"empty", docState, "", 400},
		{"no value", docState, `{"values":[]}`, 400},
		{"missing resource", docState, `{"value":[{"subscriptionId":"x","clientState":"` + docState + `"}]}`, 400},
		{"oversized", docState, big, 413},
	}
	for _, c := range cases {
		h, q := handler(t, c.secret)
		r, err := h.Serve(context.Background(), funcapp.HTTPRequest{Method: "POST", Body: []byte(c.body)})
		if err != nil {
			t.Fatal(err)
		}
		if code, _, _ := status(t, r); code != c.want || len(q.msgs) != 0 {
			t.Errorf("%s: status %d (want %d), %d enqueued", c.name, code, c.want, len(q.msgs))
		}
	}
	// One good and one bad clientState in a batch: nothing enqueued.
	h, q := handler(t, docState)
	mixed := `{"value":[{"subscriptionId":"a","clientState":"` + docState + `","resource":"` + docList + `"},{"subscriptionId":"b","clientState":"x","resource":"` + docList + `"}]}`
	r, _ := h.Serve(context.Background(), funcapp.HTTPRequest{Method: "POST", Body: []byte(mixed)})
	if code, _, _ := status(t, r); code != 403 || len(q.msgs) != 0 {
		t.Errorf("mixed batch: %d, %d enqueued", code, len(q.msgs))
	}
}
