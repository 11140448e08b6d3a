package teams_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/teams"
	"github.com/council-ict/govkit/shared/teams/teamstest"
)

// assertNoSecret fails if any rendering of err reveals the webhook's path or
// signature.
func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	t.Log(err)
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		for _, secret := range []string{teamstest.Signature, teamstest.FlowPath, "sig=", "/workflows/", "api-version"} {
			if strings.Contains(s, secret) {
				t.Errorf("error reveals %q: %s", secret, s)
			}
		}
	}
}

func webhook(t *testing.T, raw string) teams.WebhookURL {
	t.Helper()
	u, err := teams.ParseWebhookURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func testMessage(t *testing.T) teams.Message {
	t.Helper()
	msg, err := teams.BuildAlert(sampleAlert(teams.SeverityUrgent), 0)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestSendStatusClassification(t *testing.T) {
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		resp       teamstest.Response
		wantOK     bool
		wantRetry  bool
		wantAfter  time.Duration // 0: none; <0: about 90s (HTTP date)
		wantDetail string
	}{
		{"202 accepted", teamstest.Accepted(), true, false, 0, ""},
		{"200 ok", teamstest.Response{Status: 200, Body: "1"}, true, false, 0, ""},
		{"204 no content", teamstest.Response{Status: 204}, true, false, 0, ""},
		{"400 schema mismatch", teamstest.SchemaMismatch("Required properties are missing from object: contentUrl."), false, false, 0, "TriggerInputSchemaMismatch: The input body for trigger 'manual'"},
		{"401", teamstest.Status(401), false, false, 0, "Unauthorized"},
		{"403", teamstest.Status(403), false, false, 0, "Forbidden"},
		{"404 flow deleted", teamstest.Status(404), false, false, 0, "NotFound"},
		{"413", teamstest.Status(413), false, false, 0, "RequestEntityTooLarge"},
		{"302 not followed", teamstest.Response{Status: 302, Header: http.Header{"Location": {"https://elsewhere.example/"}}}, false, false, 0, ""},
		{"408", teamstest.Status(408), false, true, 0, ""},
		{"429 seconds", teamstest.Throttled("7"), false, true, 7 * time.Second, ""},
		{"429 fractional", teamstest.Throttled("1.5"), false, true, 1500 * time.Millisecond, ""},
		{"429 http date", teamstest.Throttled(httpDate), false, true, -1, ""},
		{"429 no header", teamstest.Throttled(""), false, true, 0, ""},
		{"500", teamstest.ServerError(), false, true, 0, "InternalServerError"},
		{"502 html page", teamstest.Response{Status: 502, Body: "<html><body>Bad gateway</body></html>"}, false, true, 0, "(HTML error page)"},
		{"503 retry-after", func() teamstest.Response {
			r := teamstest.Status(503)
			r.Header.Set("Retry-After", "30")
			return r
		}(), false, true, 30 * time.Second, "ServiceUnavailable"},
		{"504", teamstest.Status(504), false, true, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := teamstest.NewServer(t)
			srv.Enqueue(tt.resp)
			s := teams.New(nil)
			err := s.Send(context.Background(), webhook(t, srv.URL()), testMessage(t))
			assertNoSecret(t, err)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Send() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Send() = nil, want error")
			}
			var e *teams.Error
			if !errors.As(err, &e) || e.StatusCode != tt.resp.Status {
				t.Fatalf("Send() = %#v, want *teams.Error with status %d", err, tt.resp.Status)
			}
			if got := teams.Retryable(err); got != tt.wantRetry {
				t.Errorf("Retryable = %v, want %v (%v)", got, tt.wantRetry, err)
			}
			after, ok := teams.RetryAfter(err)
			switch {
			case tt.wantAfter < 0:
				if !ok || after < 80*time.Second || after > 91*time.Second {
					t.Errorf("RetryAfter = %v, %v; want about 90s", after, ok)
				}
			case after != tt.wantAfter || ok != (tt.wantAfter > 0):
				t.Errorf("RetryAfter = %v, %v; want %v", after, ok, tt.wantAfter)
			}
			if !strings.Contains(e.Detail, tt.wantDetail) {
				t.Errorf("Detail = %q, want it to contain %q", e.Detail, tt.wantDetail)
			}
			if got := len(srv.Requests()); got != 1 {
				t.Errorf("server saw %d requests, want 1 (no retry loop, no redirect)", got)
			}
		})
	}
}

func TestSendTransportErrors(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T) (teams.WebhookURL, *teams.Sender, context.Context)
		wantIs error
	}{
		{
			name: "connection refused",
			setup: func(t *testing.T) (teams.WebhookURL, *teams.Sender, context.Context) {
				srv := teamstest.NewServer(t)
				u := webhook(t, srv.URL())
				srv.Close()
				return u, teams.New(nil), context.Background()
			},
		},
		{
			name: "client timeout",
			setup: func(t *testing.T) (teams.WebhookURL, *teams.Sender, context.Context) {
				srv := teamstest.NewServer(t)
				srv.Enqueue(teamstest.Hang())
				return webhook(t, srv.URL()), teams.New(&http.Client{Timeout: 100 * time.Millisecond}), context.Background()
			},
		},
		{
			name: "context deadline",
			setup: func(t *testing.T) (teams.WebhookURL, *teams.Sender, context.Context) {
				srv := teamstest.NewServer(t)
				srv.Enqueue(teamstest.Hang())
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				t.Cleanup(cancel)
				return webhook(t, srv.URL()), teams.New(nil), ctx
			},
			wantIs: context.DeadlineExceeded,
		},
		{
			name: "context cancelled",
			setup: func(t *testing.T) (teams.WebhookURL, *teams.Sender, context.Context) {
				srv := teamstest.NewServer(t)
				srv.Enqueue(teamstest.Hang())
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
				return webhook(t, srv.URL()), teams.New(nil), ctx
			},
			wantIs: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, s, ctx := tt.setup(t)
			err := s.Send(ctx, u, testMessage(t))
			if err == nil {
				t.Fatal("Send() = nil, want error")
			}
			assertNoSecret(t, err)
			if !teams.Retryable(err) {
				t.Errorf("Retryable(%v) = false, want true", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), "http://127.0.0.1:") {
				t.Errorf("error should name the host: %v", err)
			}
		})
	}
}

func TestSendRefusesBeforeSending(t *testing.T) {
	srv := teamstest.NewServer(t)
	big := sampleAlert(teams.SeverityInfo)
	for i := range 200 {
		big.Facts = append(big.Facts, teams.Fact{Title: fmt.Sprint(i), Value: strings.Repeat("y", 200)})
	}
	bigMsg, err := teams.BuildAlert(big, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	bad := testMessage(t)
	bad.Attachments = nil
	tests := []struct {
		name   string
		url    teams.WebhookURL
		msg    teams.Message
		wantIs error
	}{
		{"no webhook", teams.WebhookURL{}, testMessage(t), nil},
		{"invalid message", webhook(t, srv.URL()), bad, teams.ErrInvalidMessage},
		{"oversize message", webhook(t, srv.URL()), bigMsg, teams.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := teams.New(nil).Send(context.Background(), tt.url, tt.msg)
			if err == nil {
				t.Fatal("Send() = nil, want error")
			}
			assertNoSecret(t, err)
			if teams.Retryable(err) {
				t.Errorf("Retryable(%v) = true, want false", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestSendWireFormat(t *testing.T) {
	srv := teamstest.NewServer(t)
	s := teams.New(nil, teams.WithUserAgent("govkit-test"))
	if err := s.Send(context.Background(), webhook(t, srv.URL()), testMessage(t)); err != nil {
		t.Fatal(err)
	}
	got := srv.Accepted()
	if len(got) != 1 {
		t.Fatalf("accepted %d cards, want 1", len(got))
	}
	r := got[0]
	if r.Method != http.MethodPost || r.ContentType != "application/json" || r.Header.Get("User-Agent") != "govkit-test" {
		t.Errorf("method %s, content type %q, user agent %q", r.Method, r.ContentType, r.Header.Get("User-Agent"))
	}
	texts := strings.Join(r.Texts(), "\n")
	for _, want := range []string{"URGENT", "Supplier: Example Systems Ltd", "Days left: 30"} {
		if !strings.Contains(texts, want) {
			t.Errorf("card texts lack %q:\n%s", want, texts)
		}
	}
}

func TestRetryableForeignErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("x"), context.DeadlineExceeded} {
		if teams.Retryable(err) {
			t.Errorf("Retryable(%v) = true, want false for errors not from Send", err)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"5", 5 * time.Second, true},
		{" 12 ", 12 * time.Second, true},
		{"0.25", 250 * time.Millisecond, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"86400", time.Hour, true},
		{"-3", 0, false},
		{"1e3", 0, false},
		{"Inf", 0, false},
		{".5", 0, false},
		{"5.", 0, false},
		{"soon", 0, false},
		{"Wed, 01 Oct 2025 09:00:30 GMT", 30 * time.Second, true},
		{"Wednesday, 01-Oct-25 09:01:00 GMT", time.Minute, true},
		{"Wed Oct  1 09:00:10 2025", 10 * time.Second, true},
		{"Wed, 01 Oct 2025 08:59:00 GMT", 0, true},
		{"Thu, 02 Oct 2025 09:00:00 GMT", time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := teams.ParseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
