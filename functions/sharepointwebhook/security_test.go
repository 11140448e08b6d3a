package sharepointwebhook_test

import (
	"context"
	"testing"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/testutil"
)

// TestClientStateNeverLogged: neither the configured client state nor a
// wrong one a caller sends reaches a log line, an error or a response.
func TestClientStateNeverLogged(t *testing.T) {
	const secret = "cs-configured-7f3a9c1e5b2d4f60"
	const wrong = "cs-attacker-guess-1b2c3d4e5f"
	sink := testutil.NewLogSink(t, secret, wrong)
	ctx := sink.Context(context.Background())
	h, _ := handler(t, secret)
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"good", `{"value":[{"subscriptionId":"a","clientState":"` + secret + `","resource":"` + docList + `"}]}`, 202},
		{"wrong clientState", `{"value":[{"subscriptionId":"a","clientState":"` + wrong + `","resource":"` + docList + `"}]}`, 403},
		{"mixed", `{"value":[{"subscriptionId":"a","clientState":"` + secret + `","resource":"` + docList + `"},{"subscriptionId":"b","clientState":"` + wrong + `","resource":"` + docList + `"}]}`, 403},
		{"no resource", `{"value":[{"subscriptionId":"a","clientState":"` + wrong + `"}]}`, 400},
	} {
		r, err := h.Serve(ctx, funcapp.HTTPRequest{Method: "POST", Body: []byte(tc.body)})
		sink.CheckErr(tc.name+" error", err)
		code, _, body := status(t, r)
		if code != tc.want && !(tc.want == 202 && code >= 200 && code < 300) {
			t.Errorf("%s: status %d, want %d", tc.name, code, tc.want)
		}
		sink.Check(tc.name+" response", body)
	}
}
