package faultnet_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/faultnet"
)

var payload = strings.Repeat("0123456789", 100)

// server answers payload and counts the requests its handler processed.
func server(t *testing.T, p *faultnet.Plan) (*httptest.Server, *atomic.Int64) {
	var processed atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		processed.Add(1)
		w.Header().Set("X-Seen", r.URL.RawQuery)
		_, _ = io.WriteString(w, payload)
	})
	s := httptest.NewServer(p.Handler(h))
	t.Cleanup(s.Close)
	return s, &processed
}

// get does one request and reads the whole answer.
func get(c *http.Client, method, url string) (int, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader("request body"))
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		rule      faultnet.Rule
		wantErr   bool
		processed int64
		partial   bool // the answer's status and part of its body arrived
	}{
		{rule: faultnet.Rule{Path: "/elsewhere"}, processed: 1},
		{rule: faultnet.Rule{Fault: faultnet.Drop}, wantErr: true},
		{rule: faultnet.Rule{Fault: faultnet.Reset}, wantErr: true},
		{rule: faultnet.Rule{Fault: faultnet.Stall}, wantErr: true},
		{rule: faultnet.Rule{Fault: faultnet.DropAfter}, wantErr: true, processed: 1},
		{rule: faultnet.Rule{Fault: faultnet.Truncate}, wantErr: true, processed: 1, partial: true},
		{rule: faultnet.Rule{Fault: faultnet.Slow, Delay: time.Minute}, wantErr: true, processed: 1},
		{rule: faultnet.Rule{Fault: faultnet.Slow, Delay: time.Millisecond}, processed: 1},
		{rule: faultnet.Rule{Fault: faultnet.Trickle, Delay: 20 * time.Millisecond}, wantErr: true, processed: 1, partial: true},
	} {
		t.Run(fmt.Sprintf("%v %v", tc.rule.Fault, tc.rule.Delay), func(t *testing.T) {
			p := faultnet.NewPlan(tc.rule)
			s, processed := server(t, p)
			c := &http.Client{Timeout: 500 * time.Millisecond}
			status, body, err := get(c, http.MethodPost, s.URL+"/x")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			switch {
			case !tc.wantErr && (status != 200 || body != payload):
				t.Errorf("answer %d with %d bytes; want 200 with all %d", status, len(body), len(payload))
			case tc.partial && (status != 200 || len(body) == 0 || len(body) >= len(payload)):
				t.Errorf("answer %d with %d bytes; want 200 with part of the body", status, len(body))
			case tc.wantErr && !tc.partial && body != "":
				t.Errorf("a body arrived: %d bytes", len(body))
			}
			if got := processed.Load(); got != tc.processed {
				t.Errorf("handler processed %d requests; want %d", got, tc.processed)
			}
			if tc.rule.Fault != 0 && tc.rule.Fault.Processed() != (tc.processed == 1) {
				t.Errorf("%v.Processed() = %v", tc.rule.Fault, tc.rule.Fault.Processed())
			}
			// The rule is spent: the next request is served normally.
			if status, body, err := get(c, http.MethodPost, s.URL+"/x"); err != nil || status != 200 || body != payload {
				t.Errorf("second request: %d, %d bytes, %v", status, len(body), err)
			}
		})
	}
}

func TestRuleMatching(t *testing.T) {
	p := faultnet.NewPlan(
		faultnet.Rule{Fault: faultnet.Drop, Method: http.MethodPost, Path: "/rows", After: 1, Times: 2},
		faultnet.Rule{Fault: faultnet.Reset, Path: "/always", Times: -1},
	)
	s, _ := server(t, p)
	// New connections only: net/http silently resends an idempotent request
	// that failed on a reused connection, which would blur the count.
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var got []string
	for _, r := range []struct{ method, path string }{
		{"POST", "/t/rows"}, // let through (After 1)
		{"GET", "/t/rows"},  // wrong method
		{"POST", "/t/rows"}, // fault 1
		{"POST", "/other"},  // no rule
		{"POST", "/t/rows"}, // fault 2
		{"POST", "/t/rows"}, // spent
		{"GET", "/always"},  // every time
		{"GET", "/always"},
	} {
		_, _, err := get(c, r.method, s.URL+r.path)
		got = append(got, fmt.Sprint(err != nil))
	}
	if want := "false false true false true false true true"; strings.Join(got, " ") != want {
		t.Errorf("failed requests %s; want %s", strings.Join(got, " "), want)
	}
	if p.Requests() != 8 || p.Fired() != 4 {
		t.Errorf("plan saw %d requests, fired %d; want 8 and 4", p.Requests(), p.Fired())
	}
	p.Clear()
	if _, _, err := get(c, "GET", s.URL+"/always"); err != nil || p.Fired() != 4 {
		t.Errorf("after Clear: %v, %d faults", err, p.Fired())
	}
	if ev := p.Events(); ev[0] != (faultnet.Event{Fault: faultnet.Drop, Method: "POST", Path: "/t/rows"}) || ev[3].Fault != faultnet.Reset {
		t.Errorf("events %v", ev)
	}
}

func TestProxy(t *testing.T) {
	target, processed := server(t, faultnet.NewPlan())
	p := faultnet.NewPlan(faultnet.Rule{Fault: faultnet.DropAfter})
	proxy := faultnet.NewProxy(t, target.URL, p)
	raw := target.URL + "/hook/path?sig=abc&x=1"
	via := faultnet.Rehost(raw, proxy.URL)
	if via != proxy.URL+"/hook/path?sig=abc&x=1" {
		t.Fatalf("Rehost = %s", via)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	if _, _, err := get(c, http.MethodPost, via); err == nil {
		t.Fatal("DropAfter through the proxy: no error")
	}
	req, _ := http.NewRequest(http.MethodPost, via, strings.NewReader("x"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Seen") != "sig=abc&x=1" {
		t.Errorf("through the proxy: %d, query %q", resp.StatusCode, resp.Header.Get("X-Seen"))
	}
	if processed.Load() != 2 {
		t.Errorf("target processed %d requests; want 2 (the dropped answer's request too)", processed.Load())
	}
}

func TestFaultString(t *testing.T) {
	if faultnet.Truncate.String() != "truncate" || faultnet.Fault(99).String() != "fault(99)" {
		t.Error(faultnet.Truncate.String(), faultnet.Fault(99).String())
	}
}
