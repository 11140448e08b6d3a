package contracts

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/council-ict/govkit/shared/funcapp"
)

// fieldErrors flattens err into its FieldErrors and fails the test if any
// part of it is not a FieldError naming a field.
func fieldErrors(t *testing.T, err error) []funcapp.FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []funcapp.FieldError
		for _, e := range j.Unwrap() {
			out = append(out, fieldErrors(t, e)...)
		}
		return out
	}
	var fe funcapp.FieldError
	if !errors.As(err, &fe) || fe.Field == "" || fe.Detail == "" {
		t.Fatalf("error %q (%T) does not name a field", err, err)
	}
	return []funcapp.FieldError{fe}
}

// FuzzParseCSV: ParseCSV never panics; every contract it returns
// re-validates and survives a JSON round trip; every rejection is an
// *ImportError whose rows have a line and name a field.
func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		goodCSV,
		"id,title,supplier,serviceArea,owner,route,startDate,endDate,renewalType,annualValue\nC-1,ok,S,A,a@b.example,r-one,01/01/2025,31/12/2025,none,1\n",
		"id,title,supplier,serviceArea,owner,route,startDate,endDate,renewalType,annualValue\nC-2,\"multi\nline\",S,A,a@b.example,r-one,31/02/2025,31/12/2025,none,\"£1,000\"\nC-4,short\n",
		"id,colour\nC-1,blue\n", "id,,\n", "", "\uFEFF", "id\n\"unterminated\n", "\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ParseCSV(data)
		if err != nil {
			if cs != nil {
				t.Fatalf("rejected file returned %d contracts", len(cs))
			}
			var ie *ImportError
			if !errors.As(err, &ie) || len(ie.Rows) == 0 {
				t.Fatalf("error %v is not an *ImportError with rows", err)
			}
			for _, r := range ie.Rows {
				if r.Line < 1 || len(r.Errors) == 0 {
					t.Fatalf("row error %+v has no line or no errors", r)
				}
				for _, fe := range r.Errors {
					if fe.Field == "" || fe.Detail == "" {
						t.Fatalf("line %d: error %+v names no field", r.Line, fe)
					}
				}
			}
			return
		}
		if len(cs) == 0 {
			t.Fatal("accepted a file with no contracts")
		}
		for _, c := range cs {
			if err := c.Validate(); err != nil {
				t.Fatalf("parsed contract %+v does not re-validate: %v", c, err)
			}
			roundTrip(t, c)
		}
	})
}

// roundTrip encodes c as the API returns it and decodes it as a PUT body.
func roundTrip(t *testing.T, c Contract) {
	t.Helper()
	body, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("encode %+v: %v", c, err)
	}
	p, err := ParsePatch(body)
	if err != nil {
		t.Fatalf("own JSON %s rejected: %v", body, err)
	}
	c2, err := p.Apply(Contract{})
	if err != nil {
		t.Fatalf("own JSON %s does not apply: %v", body, err)
	}
	c2.Normalize()
	if err := c2.Validate(); err != nil {
		t.Fatalf("own JSON %s does not validate: %v", body, err)
	}
	if !reflect.DeepEqual(c, c2) {
		t.Fatalf("round trip changed the contract:\n%+v\n%+v", c, c2)
	}
}

// FuzzContractJSON: a PUT body is parsed, applied and validated as the API
// does; nothing panics, every error names a field, an accepted contract
// survives a round trip.
func FuzzContractJSON(f *testing.F) {
	for _, s := range []string{
		`{"id":"C-1","title":"Managed print","supplier":"Acme","serviceArea":"Housing","owner":"a@council.example","route":"ict-champions-housing","startDate":"2024-06-01","endDate":"2027-05-31","noticePeriod":"P3M","renewalType":"automatic","renewalTerm":"P1Y","annualValue":48250.5,"dbsRequired":true,"dbsConfirmedOn":"2024-06-15","notes":"x"}`,
		`{"id":"C-1","title":"T","supplier":"S","serviceArea":"Housing","owner":"not-an-email","route":"Bad Route","startDate":"2026-05-01","endDate":"2026-04-30","renewalType":"sometimes","annualValue":-5,"noticePeriod":"3 months","dbsRequired":"yes","colour":"blue"}`,
		`{"startDate":"31/05/2026"}`, `{"notes":null,"annualValue":1000}`, `[]`, `null`, `{"id":`, ``, `{"":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParsePatch(body)
		fieldErrors(t, err)
		if err != nil {
			return
		}
		c, err := p.Apply(Contract{})
		fieldErrors(t, err)
		if err != nil {
			return
		}
		c.Normalize()
		err = c.Validate()
		fieldErrors(t, err)
		if err == nil {
			roundTrip(t, c)
		}
	})
}
