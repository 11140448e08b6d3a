package sharepoint_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/sharepoint"
)

// FuzzParseNotifications: the webhook body parser never panics; what it
// accepts has a subscription and resource and parses the same once
// re-encoded; its errors never echo a clientState.
func FuzzParseNotifications(f *testing.F) {
	for _, s := range []string{
		`{"value":[{"subscriptionId":"91779246-afe9-4525-b122-6c199ae89211","clientState":"s3cret-state","expirationDateTime":"2026-04-01T16:17:57+00:00","resource":"b9f6f714-9df8-470b-b22e-653855e1c181","tenantId":"00000000-0000-0000-0000-000000000000","siteUrl":"/sites/ict","webId":"5e7d4a6c-0000-0000-0000-000000000000"}]}`,
		`{"value":[{"subscriptionId":"s","clientState":"c","resource":"sites/a/lists/b","changeType":"updated","tenantId":"t"}]}`,
		`{"value":[]}`, `{"value":[{"subscriptionId":"s"}]}`, `{"value":[1]}`, `{"value":null}`, `{} {}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ns, err := sharepoint.ParseNotifications(body)
		if err != nil {
			if strings.Contains(err.Error(), "clientState") || (strings.Contains(string(body), "s3cret") && strings.Contains(err.Error(), "s3cret")) {
				t.Fatalf("error echoes client state: %v", err)
			}
			return
		}
		for _, n := range ns {
			if strings.TrimSpace(n.SubscriptionID) == "" || strings.TrimSpace(n.Resource) == "" {
				t.Fatalf("accepted %+v", n)
			}
		}
		again, _ := json.Marshal(map[string]any{"value": ns})
		ns2, err := sharepoint.ParseNotifications(again)
		if err != nil || !reflect.DeepEqual(ns, ns2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, ns, ns2)
		}
	})
}

// FuzzDecodeChange: the sharepoint-changes queue message decoder.
func FuzzDecodeChange(f *testing.F) {
	for _, s := range []string{`{"list":"contracts","subscriptionId":"s","receivedAt":"2026-03-02T10:00:00Z"}`, `{"list":""}`, `{"receivedAt":"x"}`, `"x"`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := sharepoint.DecodeChange(body)
		if err != nil {
			return
		}
		again, err := json.Marshal(c)
		if err != nil {
			return // a time outside JSON's range: the queue never sends one
		}
		if c2, err := sharepoint.DecodeChange(again); err != nil || !reflect.DeepEqual(c, c2) && !c.ReceivedAt.Equal(c2.ReceivedAt) {
			t.Fatalf("round trip: %v %+v %+v", err, c, c2)
		}
	})
}
