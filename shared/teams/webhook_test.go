package teams_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/teams"
)

const realisticURL = "https://default0a1b2c3d4e5f.06.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc123def456/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TOPSECRETsignature123"

func TestParseWebhookURL(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"power platform", realisticURL, ""},
		{"logic apps", "https://prod-12.uksouth.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=TOPSECRET", ""},
		{"localhost http", "http://localhost:7071/hook?sig=TOPSECRET", ""},
		{"loopback http", "http://127.0.0.1:9999/hook?sig=TOPSECRET", ""},
		{"ipv6 loopback http", "http://[::1]:9999/hook?sig=TOPSECRET", ""},
		{"empty", "  ", "empty"},
		{"plain http", "http://prod-12.uksouth.logic.azure.com/workflows/x?sig=TOPSECRET", "must use https"},
		{"no scheme", "prod-12.uksouth.logic.azure.com/workflows/x?sig=TOPSECRET", "absolute https"},
		{"ftp", "ftp://host/x?sig=TOPSECRET", "absolute https"},
		{"no host", "https:///x?sig=TOPSECRET", "no host"},
		{"user info", "https://user:TOPSECRET@host/x", "user info"},
		{"unparseable", "https://host/%zzTOPSECRET", "not a parseable URL"},
		{"bad port", "https://host:TOPSECRET/x", "not a parseable URL"},
		{"key vault unresolved", "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/TOPSECRET/)", "Key Vault reference did not resolve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := teams.ParseWebhookURL(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseWebhookURL() = %v", err)
				}
				if u.Reveal() == "" || u.IsZero() {
					t.Fatal("parsed URL is empty")
				}
				return
			}
			if !errors.Is(err, teams.ErrInvalidWebhookURL) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseWebhookURL() = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Errorf("error reveals the value: %v", err)
			}
		})
	}
}

func TestWebhookURLRedacts(t *testing.T) {
	u := webhook(t, realisticURL)
	type holder struct {
		Exported   teams.WebhookURL
		unexported teams.WebhookURL
	}
	h := holder{u, u}
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := u.MarshalText()
	outputs := map[string]string{
		"%v":         fmt.Sprintf("%v", u),
		"%s":         fmt.Sprintf("%s", u), //lint:ignore S1025 the %s verb itself is under test
		"%q":         fmt.Sprintf("%q", u),
		"%+v":        fmt.Sprintf("%+v", u),
		"%#v":        fmt.Sprintf("%#v", u),
		"struct %v":  fmt.Sprintf("%v", h),
		"struct %+v": fmt.Sprintf("%+v", h),
		"struct %#v": fmt.Sprintf("%#v", h),
		"json":       string(js),
		"text":       string(text),
	}
	for name, s := range outputs {
		for _, secret := range []string{"TOPSECRET", "workflows", "api-version", "sig="} {
			if strings.Contains(s, secret) {
				t.Errorf("%s reveals %q: %s", name, secret, s)
			}
		}
	}
	if got, want := u.String(), "https://default0a1b2c3d4e5f.06.environment.api.powerplatform.com:443/<redacted>"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if u.Reveal() != realisticURL {
		t.Errorf("Reveal() = %q, want the original", u.Reveal())
	}
	if got := (teams.WebhookURL{}).String(); got != "<unset>" {
		t.Errorf("zero String() = %q", got)
	}
}
