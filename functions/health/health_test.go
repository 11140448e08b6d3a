package health

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
)

type pingFunc func(context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

func invoke(t *testing.T, h *Handler, method string) (int, Report) {
	t.Helper()
	body := `{"Data":{"req":{"Method":"` + method + `","Url":"http://127.0.0.1:7071/api/health","Query":{},"Headers":{},"Params":{}}},"Metadata":{}}`
	inv, err := funcapp.DecodeInvocation("Health", "id", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Invoke(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	out := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput)
	var rep Report
	_ = json.Unmarshal([]byte(out.Body), &rep)
	return out.Status(), rep
}

func TestHealth(t *testing.T) {
	ok := pingFunc(func(context.Context) error { return nil })
	down := pingFunc(func(context.Context) error { return errors.New("connection refused") })
	slow := pingFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	for _, tc := range []struct {
		name   string
		checks map[string]Pinger
		method string
		status int
		state  string
	}{
		{"all ok", map[string]Pinger{"storage": ok}, "GET", 200, "ok"},
		{"one down", map[string]Pinger{"storage": ok, "queue": down}, "GET", 503, "degraded"},
		{"timeout", map[string]Pinger{"storage": slow}, "GET", 503, "degraded"},
		{"no checks", nil, "GET", 200, "ok"},
		{"post", nil, "POST", 405, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := New(Config{Version: "1.2.3", Timeout: 50 * time.Millisecond}, tc.checks)
			if err != nil {
				t.Fatal(err)
			}
			status, rep := invoke(t, h, tc.method)
			if status != tc.status || rep.Status != tc.state {
				t.Errorf("got %d %+v", status, rep)
			}
			if tc.status != 405 && rep.Version != "1.2.3" {
				t.Errorf("version = %q", rep.Version)
			}
		})
	}
}
