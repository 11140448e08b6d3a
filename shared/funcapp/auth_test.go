package funcapp

import (
	"context"
	"encoding/json"
	"testing"
)

func httpInvocation(t *testing.T, method, url string, headers map[string]string) Invocation {
	t.Helper()
	h := map[string][]string{}
	for k, v := range headers {
		h[k] = []string{v}
	}
	req, _ := json.Marshal(map[string]any{"Method": method, "Url": url, "Query": map[string]string{}, "Headers": h})
	inv, err := DecodeInvocation("F", "id", []byte(`{"Data":{"req":`+string(req)+`}}`))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestParseClientPrincipal(t *testing.T) {
	want := Principal{ObjectID: "0c1a5b6e-1111-2222-3333-444455556666", Name: "A. Officer", Roles: []string{"SubjectRequests.Officer", "Governance.Reader"}}
	got, err := ParseClientPrincipal(EncodeClientPrincipal(want))
	if err != nil {
		t.Fatal(err)
	}
	if got.ObjectID != want.ObjectID || got.Name != want.Name || !got.HasRole("Governance.Reader") || got.HasRole("Automation") {
		t.Errorf("got %+v", got)
	}
	for _, bad := range []string{"%%%", "bm90IGpzb24=", EncodeClientPrincipal(Principal{Name: "no oid"})} {
		if _, err := ParseClientPrincipal(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestAuthWrap(t *testing.T) {
	inner := HandlerFunc(func(ctx context.Context, inv Invocation) (Result, error) {
		p, _ := PrincipalFrom(ctx)
		return JSON(200, map[string]string{"caller": p.ObjectID}), nil
	})
	rules := []Rule{
		{Function: "Things", Method: "GET", Path: "things/{id}", Roles: []string{"Governance.Reader", "Contracts.Editor"}},
		{Function: "Things", Method: "PUT", Path: "things/{id}", Roles: []string{"Contracts.Editor"}},
		{Function: "Health", Method: "GET", Path: "health"},
	}
	reader := EncodeClientPrincipal(Principal{ObjectID: "oid-reader", Roles: []string{"Governance.Reader"}})
	forged := EncodeClientPrincipal(Principal{ObjectID: "oid-forged", Roles: []string{"Contracts.Editor"}})
	dev := &Principal{ObjectID: "dev", Roles: []string{"Contracts.Editor"}, Development: true}
	for _, tc := range []struct {
		name     string
		auth     Auth
		function string
		method   string
		url      string
		headers  map[string]string
		status   int
	}{
		{"no principal", Auth{PlatformAuth: true, Rules: rules}, "Things", "GET", "https://x/api/things/1", nil, 401},
		{"reader may read", Auth{PlatformAuth: true, Rules: rules}, "Things", "GET", "https://x/api/things/1", map[string]string{"X-MS-CLIENT-PRINCIPAL": reader}, 200},
		{"reader may not write", Auth{PlatformAuth: true, Rules: rules}, "Things", "PUT", "https://x/api/things/1", map[string]string{"X-MS-CLIENT-PRINCIPAL": reader}, 403},
		{"id header mismatch", Auth{PlatformAuth: true, Rules: rules}, "Things", "GET", "https://x/api/things/1", map[string]string{"X-MS-CLIENT-PRINCIPAL": reader, "X-MS-CLIENT-PRINCIPAL-ID": "other"}, 401},
		{"forged header ignored without platform auth", Auth{Rules: rules}, "Things", "PUT", "https://x/api/things/1", map[string]string{"X-MS-CLIENT-PRINCIPAL": forged}, 401},
		{"dev identity locally", Auth{Dev: dev, Rules: rules}, "Things", "PUT", "http://127.0.0.1:7071/api/things/1?x=1", nil, 200},
		{"anonymous rule", Auth{PlatformAuth: true, Rules: rules}, "Health", "GET", "https://x/api/health", nil, 200},
		{"undeclared route is closed", Auth{PlatformAuth: true, Rules: rules}, "Things", "DELETE", "https://x/api/things/1", map[string]string{"X-MS-CLIENT-PRINCIPAL": reader}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.auth.Wrap(tc.function, inner).Invoke(context.Background(), httpInvocation(t, tc.method, tc.url, tc.headers))
			if err != nil {
				t.Fatal(err)
			}
			out := res.Outputs[HTTPOutputBinding].(HTTPOutput)
			if out.Status() != tc.status {
				t.Errorf("status %d, want %d: %s", out.Status(), tc.status, out.Body)
			}
			if tc.status >= 400 && out.Headers["Content-Type"] != "application/problem+json" {
				t.Errorf("content type %q", out.Headers["Content-Type"])
			}
		})
	}
}

func TestMatchPath(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"contracts", "contracts", true},
		{"contracts", "contracts/", true},
		{"contracts/{id}", "contracts/C-1", true},
		{"contracts/{id}", "contracts", false},
		{"contracts/{id}", "contracts/C-1/x", false},
		{"subject-requests/{id}/events", "subject-requests/S-1/events", true},
		{"cloudapps/{*rest}", "cloudapps/a/b", true},
		{"health", "Health", true},
	} {
		if got := MatchPath(tc.pattern, tc.path); got != tc.want {
			t.Errorf("MatchPath(%q, %q) = %v", tc.pattern, tc.path, got)
		}
	}
	if got := apiPath("http://127.0.0.1:7071/api/contracts/C-1?x=1"); got != "contracts/C-1" {
		t.Errorf("apiPath = %q", got)
	}
}
