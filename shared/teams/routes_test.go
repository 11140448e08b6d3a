package teams_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/teams"
)

func TestLoadRoutes(t *testing.T) {
	const a = "https://a.example.com/workflows/1/invoke?sig=SECRETA"
	const b = "https://b.example.com/workflows/2/invoke?sig=SECRETB"
	tests := []struct {
		name      string
		environ   []string
		wantNames []string
		wantErrs  []string // each must appear; settings named
	}{
		{"none", []string{"PATH=/bin", "TEAMS_OTHER=x"}, []string{}, nil},
		{"two routes", []string{"TEAMS_ROUTE_ICT_CHAMPIONS_ADULTS=" + a, "TEAMS_ROUTE_IG_TEAM=" + b, "HOME=/root"}, []string{"ict-champions-adults", "ig-team"}, nil},
		{"value with equals", []string{"TEAMS_ROUTE_IGSG=" + a + "&x=1=2"}, []string{"igsg"}, nil},
		{"local http", []string{"TEAMS_ROUTE_LOCAL=http://127.0.0.1:9000/hook?sig=SECRETL"}, []string{"local"}, nil},
		{
			name: "every bad setting reported",
			environ: []string{
				"TEAMS_ROUTE_GOOD=" + a,
				"TEAMS_ROUTE_PLAIN_HTTP=http://a.example.com/x?sig=SECRETC",
				"TEAMS_ROUTE_EMPTY=",
				"TEAMS_ROUTE_KV=@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/SECRETK/)",
				"TEAMS_ROUTE_=" + a,
				"TEAMS_ROUTE_BAD__NAME=" + a,
				"teams_route_lower=" + a,
				"TEAMS_ROUTE_HAS-DASH=" + b,
			},
			wantErrs: []string{
				"setting TEAMS_ROUTE_PLAIN_HTTP: invalid webhook URL: must use https",
				"setting TEAMS_ROUTE_EMPTY: invalid webhook URL: empty",
				"setting TEAMS_ROUTE_KV: invalid webhook URL: the Key Vault reference did not resolve",
				"setting TEAMS_ROUTE_: name must be",
				"setting TEAMS_ROUTE_BAD__NAME: name must be",
				"setting teams_route_lower: name must be",
				"setting TEAMS_ROUTE_HAS-DASH: name must be",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := teams.LoadRoutes(tt.environ)
			if len(tt.wantErrs) > 0 {
				if err == nil {
					t.Fatal("LoadRoutes() = nil error")
				}
				for _, w := range tt.wantErrs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "example.com") {
					t.Errorf("error reveals a value:\n%v", err)
				}
				if strings.Contains(err.Error(), "TEAMS_ROUTE_GOOD") {
					t.Errorf("error names a good setting:\n%v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Names(); !reflect.DeepEqual(got, tt.wantNames) {
				t.Errorf("Names() = %v, want %v", got, tt.wantNames)
			}
			for _, n := range tt.wantNames {
				if u, ok := r.Lookup(n); !ok || u.IsZero() {
					t.Errorf("Lookup(%q) = %v, %v", n, u, ok)
				}
			}
			for _, s := range []string{r.String(), fmt.Sprintf("%v", r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r)} {
				if strings.Contains(s, "SECRET") || strings.Contains(s, "workflows") {
					t.Errorf("Routes output reveals a URL: %s", s)
				}
			}
		})
	}
}

func TestRoutesString(t *testing.T) {
	r, err := teams.NewRoutes(map[string]string{
		"ig-team":              "https://b.example.com/workflows/2?sig=SECRETB",
		"ict-champions-adults": "https://a.example.com/workflows/1?sig=SECRETA",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "teams routes {ict-champions-adults=https://a.example.com/<redacted>, ig-team=https://b.example.com/<redacted>}"
	if got := r.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if _, ok := r.Lookup("unknown"); ok {
		t.Error("Lookup(unknown) found a route")
	}
}

func TestNewRoutesValidation(t *testing.T) {
	_, err := teams.NewRoutes(map[string]string{
		"Bad_Name":  "https://a.example.com/x?sig=SECRET",
		"-leading":  "https://a.example.com/x?sig=SECRET",
		"plain-web": "http://a.example.com/x?sig=SECRET",
		"ok":        "https://a.example.com/x?sig=SECRET",
	})
	if err == nil {
		t.Fatal("NewRoutes() = nil error")
	}
	for _, w := range []string{`route "Bad_Name"`, `route "-leading"`, "route plain-web: invalid webhook URL"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error reveals a URL:\n%v", err)
	}
}

func TestSettingName(t *testing.T) {
	tests := map[string]string{
		"ict-champions-adults": "TEAMS_ROUTE_ICT_CHAMPIONS_ADULTS",
		"igsg":                 "TEAMS_ROUTE_IGSG",
	}
	for route, want := range tests {
		if got := teams.SettingName(route); got != want {
			t.Errorf("SettingName(%q) = %q, want %q", route, got, want)
		}
		r, err := teams.LoadRoutes([]string{want + "=https://h.example.com/x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := r.Lookup(route); !ok {
			t.Errorf("setting %s does not load route %s", want, route)
		}
	}
}
