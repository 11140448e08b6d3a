package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLoaderReportsEveryBadSetting(t *testing.T) {
	l := New(FromMap(map[string]string{
		"COUNT":   "many",
		"RANGE":   "500",
		"FLAG":    "perhaps",
		"WAIT":    "soon",
		"ENDPT":   "http://example.org/api",
		"LEVEL":   "chatty",
		"WEBHOOK": "@Microsoft.KeyVault(VaultName=v;SecretName=s)",
	}))
	l.Required("MUST", "a required one")
	l.Int("COUNT", 1, 0, 10, "")
	l.Int("RANGE", 1, 0, 10, "")
	l.Bool("FLAG", false, "")
	l.Duration("WAIT", time.Second, "")
	l.URL("ENDPT", "", "")
	l.OneOf("LEVEL", "info", "", "debug", "info")
	l.Secret("WEBHOOK", "")
	err := l.Err()
	if err == nil {
		t.Fatal("want errors")
	}
	var errs *Errors
	if !errors.As(err, &errs) || len(errs.List) != 8 {
		t.Fatalf("want 8 errors, got %v", err)
	}
	for _, name := range []string{"MUST", "COUNT", "RANGE", "FLAG", "WAIT", "ENDPT", "LEVEL", "WEBHOOK"} {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	if strings.Contains(err.Error(), "SecretName=s") {
		t.Errorf("error leaks the secret reference: %v", err)
	}
}

func TestLoaderDefaultsAndValues(t *testing.T) {
	l := New(FromMap(map[string]string{"N": " 7 ", "D": "00:15:00", "B": "yes", "U": "http://127.0.0.1:8080/x", "S": "  "}))
	if got := l.Int("N", 1, 0, 10, ""); got != 7 {
		t.Errorf("Int = %d", got)
	}
	if got := l.Duration("D", 0, ""); got != 15*time.Minute {
		t.Errorf("Duration = %v", got)
	}
	if got := l.Bool("B", false, ""); !got {
		t.Error("Bool = false")
	}
	if got := l.URL("U", "", ""); got == nil || got.Host != "127.0.0.1:8080" {
		t.Errorf("URL = %v", got)
	}
	if got := l.String("S", "def", ""); got != "def" {
		t.Errorf("blank value should fall back to default, got %q", got)
	}
	if got := l.OneOf("L", "Info", "", "debug", "info"); got != "info" {
		t.Errorf("OneOf = %q", got)
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	if n := len(l.Settings()); n != 6 {
		t.Errorf("Settings() has %d entries, want 6", n)
	}
}

func TestSecretRedacts(t *testing.T) {
	s := NewSecret("https://prod.example/workflows/abc?sig=xyz")
	for _, got := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %#v %+v", s, s, s, s), mustJSON(t, struct{ S Secret }{s}), fmt.Sprintf("%+v", struct{ s Secret }{s})} {
		if strings.Contains(got, "sig=") || strings.Contains(got, "prod.example") {
			t.Errorf("secret leaked: %s", got)
		}
	}
	if s.Value() == "" || NewSecret("").String() != "" {
		t.Error("Value/empty String wrong")
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90s", 90 * time.Second, true},
		{"01:00:00", time.Hour, true},
		{"00:00:00.5", 500 * time.Millisecond, true},
		{"1:2", 0, false},
		{"x", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestParseServiceURL(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"https://graph.microsoft.com/v1.0", true},
		{"https://graph.microsoft.us/v1.0", true},
		{"http://127.0.0.1:9999", true},
		{"http://localhost:9999", true},
		{"http://[::1]:9999", true},
		{"http://127.example.org:9999", false},
		{"http://graph.microsoft.com", false},
		{"ftp://x", false},
		{"/relative", false},
	} {
		_, err := ParseServiceURL(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseServiceURL(%q) err = %v", tc.in, err)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
