package teamsnotify

import (
	"context"
	"testing"

	"github.com/council-ict/govkit/shared/teams"
	"github.com/council-ict/govkit/shared/teams/teamstest"
	"github.com/council-ict/govkit/shared/testutil"
)

// TestWebhookURLNeverLogged: whatever the webhook answers, no log line and
// no error carries the webhook URL's path, query or signature.
func TestWebhookURLNeverLogged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script []teamstest.Response
	}{
		{"202", nil},
		{"400", []teamstest.Response{teamstest.SchemaMismatch("bad")}},
		{"404", []teamstest.Response{teamstest.Status(404)}},
		{"429 then 202", []teamstest.Response{teamstest.Throttled("1")}},
		{"500 forever", []teamstest.Response{teamstest.ServerError(), teamstest.ServerError(), teamstest.ServerError(), teamstest.ServerError()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := teamstest.NewServer(t)
			srv.Enqueue(tc.script...)
			routes, err := teams.NewRoutes(map[string]string{"ict-champions-housing": srv.URL()})
			if err != nil {
				t.Fatal(err)
			}
			sink := testutil.NewLogSink(t, teamstest.Signature, teamstest.FlowPath, "/workflows/", "sig=", "sp=%2F", "api-version=1&")
			h, _ := newHandler(t, routes, &memLedger{m: map[string]Delivery{}}, &memBlobs{m: map[string][]byte{}})
			_, err = h.Invoke(sink.Context(context.Background()), message(t, digest(2)))
			sink.CheckErr("invoke error", err)
			if len(sink.Lines()) == 0 {
				t.Error("the handler logged nothing: the sink saw no lines to check")
			}
		})
	}
	// A route whose webhook refuses connections: the transport error names
	// the URL unless the sender strips it.
	srv := teamstest.NewServer(t)
	url := srv.URL()
	srv.Close()
	routes, err := teams.NewRoutes(map[string]string{"ict-champions-housing": url})
	if err != nil {
		t.Fatal(err)
	}
	sink := testutil.NewLogSink(t, teamstest.Signature, teamstest.FlowPath, "sig=")
	h, _ := newHandler(t, routes, &memLedger{m: map[string]Delivery{}}, &memBlobs{m: map[string][]byte{}})
	_, err = h.Invoke(sink.Context(context.Background()), message(t, digest(2)))
	if err == nil {
		t.Error("a refused connection was not an error")
	}
	sink.CheckErr("invoke error", err)
}
