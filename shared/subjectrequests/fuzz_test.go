package subjectrequests

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/funcapp"
)

// requireFieldErrors fails unless every part of err is a FieldError naming
// one of the input's fields (or "body").
func requireFieldErrors(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			requireFieldErrors(t, e)
		}
		return
	}
	var fe funcapp.FieldError
	if !errors.As(err, &fe) || fe.Field == "" || fe.Detail == "" {
		t.Fatalf("error %q (%T) does not name a field", err, err)
	}
}

// FuzzCreateInput decodes a POST /subject-requests body as the API does and
// validates it: no panic, errors name fields, an accepted body re-validates
// to the same intake after a JSON round trip.
func FuzzCreateInput(f *testing.F) {
	for _, s := range []string{
		`{"type":"access","receivedOn":"2026-03-02","channel":"email","serviceArea":"Housing","idRequired":true,"person":{"name":"Ann Example","email":"ann@example.org"}}`,
		`{"type":"erasure","receivedOn":"2026-02-27","channel":"letter","requesterRef":"REF-1","serviceArea":"Adults"}`,
		`{"type":"complaint","receivedOn":"2026-02-30","channel":"fax","serviceArea":" "}`,
		`{"type":"access","receivedOn":"2099-01-01","channel":"email","serviceArea":"x","person":{"email":"no-at"}}`,
		`{"colour":"blue"}`, `{"person":1}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	today := d("2026-03-02")
	f.Fuzz(func(t *testing.T, body []byte) {
		var in CreateInput
		if err := funcapp.DecodeJSON(body, &in); err != nil {
			requireFieldErrors(t, err)
			return
		}
		it, p, err := in.Validate(today)
		if err != nil {
			requireFieldErrors(t, err)
			if p.Email != "" && len(p.Email) > 3 && strings.Contains(err.Error(), p.Email) {
				t.Fatalf("validation error echoes the email: %v", err)
			}
			return
		}
		again, _ := json.Marshal(in)
		var in2 CreateInput
		if err := funcapp.DecodeJSON(again, &in2); err != nil {
			t.Fatalf("own JSON %s rejected: %v", again, err)
		}
		it2, p2, err := in2.Validate(today)
		if err != nil || !reflect.DeepEqual(it, it2) || p != p2 {
			t.Fatalf("re-validation differs: %v\n%+v\n%+v", err, it, it2)
		}
	})
}

// FuzzEventInput does the same for POST /subject-requests/{id}/events.
func FuzzEventInput(f *testing.F) {
	for _, s := range []string{
		`{"type":"id-received","on":"2026-03-02"}`,
		`{"type":"extended","reason":"complex: many systems"}`,
		`{"type":"refused","legalBasis":"manifestly unfounded (Art 12(5))"}`,
		`{"type":"withdrawn","reason":"by phone"}`, `{"type":"completed","legalBasis":"x"}`,
		`{"type":"nonsense","on":"31/02/2026"}`, `{"type":1}`, `{}`, `null`,
	} {
		f.Add([]byte(s))
	}
	today := d("2026-03-02")
	f.Fuzz(func(t *testing.T, body []byte) {
		var in EventInput
		if err := funcapp.DecodeJSON(body, &in); err != nil {
			requireFieldErrors(t, err)
			return
		}
		e, err := in.Validate(today)
		if err != nil {
			requireFieldErrors(t, err)
			return
		}
		if e.On.IsZero() || e.Type == "" {
			t.Fatalf("accepted event without day or type: %+v", e)
		}
		again, _ := json.Marshal(in)
		var in2 EventInput
		if err := funcapp.DecodeJSON(again, &in2); err != nil {
			t.Fatalf("own JSON %s rejected: %v", again, err)
		}
		if e2, err := in2.Validate(today); err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("re-validation differs: %v\n%+v\n%+v", err, e, e2)
		}
	})
}
