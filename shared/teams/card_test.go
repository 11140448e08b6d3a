package teams_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/teams"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// sampleAlert is a contract-expiry alert with made-up data.
func sampleAlert(sev teams.Severity) teams.Alert {
	return teams.Alert{
		Title:    "Contract CT-2024-017 reaches its notice deadline in 30 days",
		Severity: sev,
		Summary:  "Decide whether to renew or exit before the supplier notice deadline. No exit plan is recorded.",
		Facts: []teams.Fact{
			{Title: "Contract", Value: "Housing repairs scheduling system"},
			{Title: "Supplier", Value: "Example Systems Ltd"},
			{Title: "Milestone", Value: "Supplier notice deadline"},
			{Title: "Date", Value: "Fri 31 Oct 2025"},
			{Title: "Days left", Value: "30"},
			{Title: "Annual value", Value: "£48,500"},
			{Title: "Owner", Value: "contract.owner@example.gov.uk"},
		},
		Links: []teams.Link{{Title: "Open in the contract register", URL: "https://govkit.example.gov.uk/contracts/CT-2024-017"}},
		Ref:   "CT-2024-017 / notice / 30d",
	}
}

func TestAlertGolden(t *testing.T) {
	for _, sev := range []teams.Severity{teams.SeverityInfo, teams.SeverityWarning, teams.SeverityUrgent, teams.SeverityOverdue} {
		t.Run(string(sev), func(t *testing.T) {
			msg, err := teams.BuildAlert(sampleAlert(sev), 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := msg.Validate(); err != nil {
				t.Fatal(err)
			}
			wire, err := teams.Encode(msg)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, wire, "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			golden := filepath.Join("testdata", "alert-"+string(sev)+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("card JSON differs from %s (run go test -update and review the diff):\n%s", golden, got.String())
			}
		})
	}
}

// TestEnvelopeMatchesReference checks the envelope against the Microsoft
// sample payload kept in the shared reference folder, where it is present.
func TestEnvelopeMatchesReference(t *testing.T) {
	ref := filepath.Join("..", "..", "..", "shared", "reference", "payloads", "teams", "msteams-docs.adaptive-card-webhook-payload.json")
	raw, err := os.ReadFile(ref)
	if err != nil {
		t.Skipf("reference payload not available: %v", err)
	}
	var want map[string]any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	wire, err := teams.Encode(teams.NewMessage(teams.NewCard(teams.TextBlock{Text: "x"})))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(wire, &got); err != nil {
		t.Fatal(err)
	}
	wantAtt := want["attachments"].([]any)[0].(map[string]any)
	gotAtt := got["attachments"].([]any)[0].(map[string]any)
	if got["type"] != want["type"] {
		t.Errorf("type = %v, want %v", got["type"], want["type"])
	}
	for _, k := range []string{"contentType", "contentUrl"} {
		if v, ok := gotAtt[k]; !ok || v != wantAtt[k] {
			t.Errorf("attachment %s = %v (present %v), want %v", k, v, ok, wantAtt[k])
		}
	}
	wc, gc := wantAtt["content"].(map[string]any), gotAtt["content"].(map[string]any)
	for _, k := range []string{"$schema", "type"} {
		if gc[k] != wc[k] {
			t.Errorf("content %s = %v, want %v", k, gc[k], wc[k])
		}
	}
}

func TestMessageValidate(t *testing.T) {
	good := teams.NewMessage(teams.NewCard(teams.TextBlock{Text: "hello"}))
	tests := []struct {
		name    string
		mutate  func(m *teams.Message)
		wantErr string
	}{
		{"valid", func(*teams.Message) {}, ""},
		{"wrong type", func(m *teams.Message) { m.Type = "MessageCard" }, `type is "MessageCard"`},
		{"no attachments", func(m *teams.Message) { m.Attachments = nil }, "no attachments"},
		{"wrong content type", func(m *teams.Message) { m.Attachments[0].ContentType = "text/plain" }, "contentType"},
		{"not a card", func(m *teams.Message) { m.Attachments[0].Content.Type = "" }, "content.type"},
		{"version 1.6", func(m *teams.Message) { m.Attachments[0].Content.Version = "1.6" }, "version"},
		{"empty body", func(m *teams.Message) { m.Attachments[0].Content.Body = nil }, "body is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good
			m.Attachments = append([]teams.Attachment(nil), good.Attachments...)
			tt.mutate(&m)
			err := m.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}
