package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

func TestEncode(t *testing.T) {
	type embedded struct {
		Size int64 `json:"Size"`
	}
	type entity struct {
		embedded
		PartitionKey string        `json:"PartitionKey"`
		RowKey       string        `json:"RowKey"`
		Score        float64       `json:"Score"`
		Count        int           `json:"Count"`
		Small        int16         `json:"Small"`
		Wait         time.Duration `json:"Wait"`
		Quoted       int64         `json:"Quoted,string"`
		When         time.Time     `json:"When"`
		Ptr          *int64        `json:"Ptr,omitempty"`
		Timestamp    time.Time     `json:"Timestamp"`
		Skip         string        `json:"-"`
	}
	c := newCodec[entity]()
	v := entity{embedded: embedded{Size: 1 << 40}, PartitionKey: "p", RowKey: "r", Score: 2, Count: 3,
		Small: 4, Wait: time.Second, Quoted: 6, When: time.Date(2025, 4, 1, 9, 30, 0, 0, time.UTC), Skip: "x"}
	e, err := c.encode(v)
	if err != nil {
		t.Fatal(err)
	}
	body := string(e.body)
	for _, want := range []string{
		`"Size":"1099511627776"`, `"Size@odata.type":"Edm.Int64"`,
		`"Score":2`, `"Score@odata.type":"Edm.Double"`,
		`"Count":3`, `"Small":4`,
		`"Wait":"1000000000"`, `"Wait@odata.type":"Edm.Int64"`,
		`"Quoted":"6"`, `"When":"2025-04-01T09:30:00Z"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("encoded %s; missing %s", body, want)
		}
	}
	for _, absent := range []string{`"Ptr"`, `"Timestamp"`, `"Skip"`, `"Quoted@odata.type"`, `"Count@odata.type"`} {
		if strings.Contains(body, absent) {
			t.Errorf("encoded %s; should not contain %s", body, absent)
		}
	}

	// And back, as the service returns it.
	got, err := decode[entity](c, []byte(`{"odata.etag":"W/\"x\"","Timestamp":"2026-01-02T03:04:05.1234567Z",`+
		`"PartitionKey":"p","RowKey":"r","Size@odata.type":"Edm.Int64","Size":"1099511627776","Score":2,"Count":3,"Small":4,`+
		`"Wait@odata.type":"Edm.Int64","Wait":"1000000000","Quoted":"6","When":"2025-04-01T09:30:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.ETag != `W/"x"` || got.Timestamp.Nanosecond() != 123456700 || got.Value.Timestamp != got.Timestamp {
		t.Errorf("decoded metadata %q %v %v", got.ETag, got.Timestamp, got.Value.Timestamp)
	}
	v.Skip, v.Timestamp = "", got.Timestamp
	if got.Value != v {
		t.Errorf("decoded %+v; want %+v", got.Value, v)
	}
}

func TestParseTransactionFailure(t *testing.T) {
	body := "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n" +
		"--changesetresponse_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/json;odata=minimalmetadata\r\n\r\n" +
		`{"odata.error":{"code":"UpdateConditionNotSatisfied","message":{"lang":"en-US","value":"7:The update condition specified in the request was not satisfied."}}}` +
		"\r\n--changesetresponse_2--\r\n--batchresponse_1--\r\n"
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   string
		wantAction int
	}{
		{"failed action", body, 412, "UpdateConditionNotSatisfied", 7},
		{"unparseable", "garbage", 202, "", -1},
	}
	for _, tt := range tests {
		s, c, a := parseTransactionFailure([]byte(tt.body))
		if s != tt.wantStatus || c != tt.wantCode || a != tt.wantAction {
			t.Errorf("%s: got %d %q %d; want %d %q %d", tt.name, s, c, a, tt.wantStatus, tt.wantCode, tt.wantAction)
		}
	}
}

func TestIsTransient(t *testing.T) {
	resp := func(status int, code string) error {
		return wrap("get", "t", "", &azcore.ResponseError{StatusCode: status, ErrorCode: code})
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"throttled", resp(429, ""), true},
		{"server busy", resp(503, "ServerBusy"), true},
		{"internal error", resp(500, "InternalError"), true},
		{"request timeout", resp(408, ""), true},
		{"not found", resp(404, "ResourceNotFound"), false},
		{"conflict", resp(409, "EntityAlreadyExists"), false},
		{"precondition", resp(412, "UpdateConditionNotSatisfied"), false},
		{"forbidden", resp(403, "AuthorizationFailure"), false},
		{"raw SDK 502", &azcore.ResponseError{StatusCode: 502}, true},
		{"connection refused", wrap("get", "t", "", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		{"reset", fmt.Errorf("x: %w", syscall.ECONNRESET), true},
		{"dns", &net.DNSError{Err: "no such host", Name: "x", IsTemporary: true}, true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"cancelled", context.Canceled, false},
		{"invalid key", wrap("get", "t", "", ValidateKeys("", "r")), false},
		{"plain", errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := IsTransient(tt.err); got != tt.want {
			t.Errorf("%s: IsTransient(%v) = %v; want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		status int
		code   string
		want   error
	}{
		{404, "ResourceNotFound", ErrNotFound},
		{404, "TableNotFound", nil},
		{409, "EntityAlreadyExists", ErrConflict},
		{409, "TableBeingDeleted", nil},
		{412, "UpdateConditionNotSatisfied", ErrPreconditionFailed},
		{500, "", nil},
	}
	for _, tt := range tests {
		err := wrap("op", "tbl", "", &azcore.ResponseError{StatusCode: tt.status, ErrorCode: tt.code})
		for _, s := range []error{ErrNotFound, ErrConflict, ErrPreconditionFailed} {
			if got := errors.Is(err, s); got != (s == tt.want) {
				t.Errorf("%d %s: errors.Is(%v) = %v", tt.status, tt.code, s, got)
			}
		}
		var re *azcore.ResponseError
		if !errors.As(err, &re) {
			t.Errorf("%d %s: SDK error not reachable with errors.As", tt.status, tt.code)
		}
		if want := fmt.Sprintf("HTTP %d", tt.status); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "tbl") {
			t.Errorf("error %q should name the table and %s", err, want)
		}
	}
}
