package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/funcapp"
)

// TestEveryRouteEnforcesItsRoles calls each route in the access table, as
// the platform would deliver it, with no principal, with a principal that
// lacks every allowed role, and with each allowed role; and checks that a
// forged principal header is ignored when platform authentication is off.
func TestEveryRouteEnforcesItsRoles(t *testing.T) {
	reached := funcapp.HandlerFunc(func(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
		return funcapp.JSON(200, map[string]bool{"reached": true}), nil
	})
	call := func(t *testing.T, a funcapp.Auth, r funcapp.Rule, principal string) int {
		t.Helper()
		path := strings.NewReplacer("{id}", "X-1", "{appId}", "00000000-0000-0000-0000-000000000001").Replace(r.Path)
		headers := map[string][]string{}
		if principal != "" {
			headers["X-MS-CLIENT-PRINCIPAL"] = []string{principal}
		}
		req, _ := json.Marshal(map[string]any{"Method": r.Method, "Url": "https://func.example/api/" + path, "Query": map[string]string{}, "Headers": headers})
		inv, err := funcapp.DecodeInvocation(r.Function, "t", []byte(`{"Data":{"req":`+string(req)+`}}`))
		if err != nil {
			t.Fatal(err)
		}
		res, err := a.Wrap(r.Function, reached).Invoke(context.Background(), inv)
		if err != nil {
			t.Fatal(err)
		}
		return res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput).Status()
	}
	platform := funcapp.Auth{PlatformAuth: true, Rules: accessRules}
	local := funcapp.Auth{Rules: accessRules}
	for _, r := range accessRules {
		t.Run(r.Function+" "+r.Method+" "+r.Path, func(t *testing.T) {
			if r.Anonymous() {
				if got := call(t, platform, r, ""); got != 200 {
					t.Errorf("anonymous route: %d", got)
				}
				return
			}
			if got := call(t, platform, r, ""); got != 401 {
				t.Errorf("no principal: %d, want 401", got)
			}
			var others []string
			for _, role := range allRoles {
				if !slices.Contains(r.Roles, role) {
					others = append(others, role)
				}
			}
			lacking := funcapp.EncodeClientPrincipal(funcapp.Principal{ObjectID: "oid-lacking", Roles: others})
			if got := call(t, platform, r, lacking); got != 403 {
				t.Errorf("principal without the role: %d, want 403", got)
			}
			for _, role := range r.Roles {
				p := funcapp.EncodeClientPrincipal(funcapp.Principal{ObjectID: "oid-" + role, Roles: []string{role}})
				if got := call(t, platform, r, p); got != 200 {
					t.Errorf("principal with %s: %d, want 200", role, got)
				}
				if got := call(t, local, r, p); got != 401 {
					t.Errorf("forged header with platform auth off: %d, want 401", got)
				}
			}
		})
	}
}
