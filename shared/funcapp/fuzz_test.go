package funcapp

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecodeInvocation feeds host payloads to DecodeInvocation and every
// binding accessor. None may panic; an accepted payload decodes the same a
// second time once re-encoded.
func FuzzDecodeInvocation(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.request.json"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"Data":{"req":{"Method":"POST","Url":"http://x/api/a?b=c","Query":"{}","Headers":{"Content-Type":["application/octet-stream"]},"Params":{},"Body":"aGVsbG8="}},"Metadata":{}}`,
		`{"Data":{"msg":"\"quoted\""},"Metadata":{"DequeueCount":"\"3\"","InsertionTime":"2026-01-01T00:00:00","ApplicationProperties":{"a":1}}}`,
		`{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"0001-01-01T00:00:00","Next":"2026-03-01T00:00:00Z"},"IsPastDue":false}},"Metadata":{"sys":{"UtcNow":"2026-03-01T00:00:00.1234567Z"}}}`,
		`{"Data":null,"Metadata":null}`, `{"Data":{"req":"{\"Query\":\"x\"}"}}`, `{}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		inv, err := DecodeInvocation("f", "id", body)
		if err != nil {
			return
		}
		again, err := json.Marshal(invocationBody{Data: inv.Data, Metadata: inv.Metadata})
		if err != nil {
			t.Fatalf("re-encode accepted invocation: %v", err)
		}
		if _, err := DecodeInvocation("f", "id", again); err != nil {
			t.Fatalf("re-encoded invocation rejected: %v", err)
		}
		_ = inv.Sys()
		for name := range inv.Metadata {
			_ = inv.MetaString(name)
			_, _ = inv.MetaInt(name)
			_, _ = inv.MetaTime(name)
		}
		bindings := []string{"req", "msg", "timer", "missing"}
		for name := range inv.Data {
			bindings = append(bindings, name)
		}
		for _, name := range bindings {
			if r, err := inv.HTTPRequest(name); err == nil {
				if r.Method != strings.ToUpper(r.Method) || r.Headers == nil || r.Query == nil || r.Params == nil {
					t.Fatalf("HTTPRequest(%q) = %+v", name, r)
				}
			} else if errors.Is(err, ErrNoBinding) && inv.Data[name] != nil && string(inv.Data[name]) != "null" {
				t.Fatalf("HTTPRequest(%q): binding present but reported missing", name)
			}
			_, _ = inv.QueueMessage(name)
			_, _ = inv.ServiceBusMessage(name)
			if ti, err := inv.Timer(name); err == nil && ti.Status != nil && ti.Status.Last.Year() == 1 && !ti.Status.Last.IsZero() {
				t.Fatalf("Timer(%q): year-1 Last not cleared", name)
			}
		}
	})
}

type fuzzBody struct {
	Name  string            `json:"name"`
	Count int               `json:"count"`
	Ratio float64           `json:"ratio"`
	On    bool              `json:"on"`
	Tags  []string          `json:"tags"`
	Inner *fuzzBody         `json:"inner"`
	Meta  map[string]string `json:"meta"`
}

// FuzzDecodeJSON: DecodeJSON never panics, every error is a FieldError with
// a field, and an accepted body decodes to the same value once re-encoded.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","count":1,"ratio":0.5,"on":true,"tags":["x"],"inner":{"name":"b"},"meta":{"k":"v"}}`,
		`{"name":1}`, `{"colour":"blue"}`, `{"inner":{"colour":1}}`, `{"name":"a"} {}`, `{"name":`, ``, ` `, `null`, `[]`, `{"count":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v fuzzBody
		err := DecodeJSON(body, &v)
		if err != nil {
			var fe FieldError
			if !errors.As(err, &fe) || fe.Field == "" || fe.Detail == "" {
				t.Fatalf("DecodeJSON(%q) error %#v does not name a field", body, err)
			}
			return
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var w fuzzBody
		if err := DecodeJSON(again, &w); err != nil {
			t.Fatalf("re-encoded body %s rejected: %v", again, err)
		}
		if again2, _ := json.Marshal(w); string(again2) != string(again) {
			t.Fatalf("round trip differs: %s vs %s", again, again2)
		}
	})
}
