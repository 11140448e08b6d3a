package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/config"
)

// TestStartupRefusesBadSettings: a missing or malformed setting stops the
// handler before it listens, exit code 2, with every bad setting named.
func TestStartupRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", map[string]string{}, []string{"FUNCTIONS_CUSTOMHANDLER_PORT", "GOVKIT_STORAGE_ACCOUNT"}},
		{"several malformed", map[string]string{
			"FUNCTIONS_CUSTOMHANDLER_PORT": "8080", "GOVKIT_LOG_LEVEL": "chatty", "GOVKIT_LOG_FORMAT": "xml",
			"GOVKIT_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true", "GOVKIT_STORAGE_ACCOUNT": "both",
			"GOVKIT_HEALTH_TIMEOUT": "soon",
		}, []string{"GOVKIT_LOG_LEVEL", "GOVKIT_LOG_FORMAT", "GOVKIT_STORAGE_CONNECTION_STRING", "GOVKIT_HEALTH_TIMEOUT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), nil, config.FromMap(tc.env), &stdout, &stderr)
			if code != 2 {
				t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
			}
			for _, name := range tc.want {
				if !strings.Contains(stderr.String(), name) {
					t.Errorf("stderr does not name %s:\n%s", name, stderr.String())
				}
			}
		})
	}
}

func TestCheckCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	ok := map[string]string{"GOVKIT_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"}
	if code := run(context.Background(), []string{"check"}, config.FromMap(ok), &stdout, &stderr); code != 0 {
		t.Errorf("check with a valid local configuration: exit %d\n%s", code, stderr.String())
	}
	if code := run(context.Background(), []string{"check"}, config.FromMap(nil), &stdout, &stderr); code != 2 {
		t.Errorf("check with nothing set: exit %d, want 2", code)
	}
}

func TestSettingsCommandListsEverySetting(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"settings"}, nil, &stdout, &stderr); code != 0 {
		t.Fatal(stderr.String())
	}
	for _, s := range allSettings() {
		if !strings.Contains(stdout.String(), "`"+s.Name+"`") {
			t.Errorf("settings output lacks %s", s.Name)
		}
	}
}

func TestStageWritesEveryFunction(t *testing.T) {
	dir := t.TempDir()
	if err := stage(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range registry() {
		if _, err := functionFiles.ReadFile(strings.ToLower(f.Name) + "/function.json"); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
}
