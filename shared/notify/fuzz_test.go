package notify

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecode: the notifications queue decoder never panics, and a
// notification it accepts re-validates and survives a JSON round trip.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"id":"contracts:C-1:90","source":"contracts","route":"ict-champions-housing","severity":"warning","title":"Contract ends in 90 days","summary":"s","items":[{"title":"C-1","severity":"urgent","facts":[{"title":"Ends","value":"31/05/2027"}],"link":{"title":"open","url":"https://x.example/c/1"}}],"links":[{"title":"l","url":"https://x.example"}],"createdAt":"2026-03-02T10:00:00Z"}`,
		`{"id":"x:1","source":"s","route":"Bad Route","severity":"loud","title":" "}`, `{"id":""}`, `[]`, `nope`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := Decode(body)
		if err != nil {
			return
		}
		if err := n.Validate(); err != nil {
			t.Fatalf("accepted notification does not re-validate: %v", err)
		}
		again, err := json.Marshal(n)
		if err != nil {
			return // a createdAt outside JSON's range
		}
		n2, err := Decode(again)
		if err != nil {
			t.Fatalf("own JSON %s rejected: %v", again, err)
		}
		if !n.CreatedAt.Equal(n2.CreatedAt) {
			t.Fatalf("createdAt changed: %v %v", n.CreatedAt, n2.CreatedAt)
		}
		// Compared as JSON: an empty list and an absent one are the same
		// notification ("items":[] decodes to an empty slice, is written
		// without the field, and reads back as nil).
		third, err := json.Marshal(n2)
		if err != nil || !bytes.Equal(again, third) {
			t.Fatalf("round trip:\n%s\n%s", again, third)
		}
	})
}
