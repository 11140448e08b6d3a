package main

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/config"
)

type binding struct {
	Type       string   `json:"type"`
	Direction  string   `json:"direction"`
	Name       string   `json:"name"`
	Schedule   string   `json:"schedule"`
	Connection string   `json:"connection"`
	QueueName  string   `json:"queueName"`
	Route      string   `json:"route"`
	Methods    []string `json:"methods"`
}

type functionJSON struct {
	Bindings []binding `json:"bindings"`
}

func readFunctionJSON(t *testing.T, dir string) functionJSON {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "function.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f functionJSON
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s/function.json: %v", dir, err)
	}
	return f
}

func trigger(f functionJSON) (binding, int) {
	var tr binding
	n := 0
	for _, b := range f.Bindings {
		if b.Direction == "in" && strings.HasSuffix(b.Type, "Trigger") {
			tr = b
			n++
		}
	}
	return tr, n
}

// TestRegistryMatchesFunctionFolders: every function.json has a handler and
// vice versa, trigger types agree, and folder, package and function names agree.
func TestRegistryMatchesFunctionFolders(t *testing.T) {
	dirs, err := filepath.Glob("*/function.json")
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	for _, p := range dirs {
		onDisk[filepath.Dir(p)] = true
	}
	seen := map[string]bool{}
	for _, f := range registry() {
		dir := strings.ToLower(f.Name)
		if seen[dir] {
			t.Errorf("%s registered twice", f.Name)
		}
		seen[dir] = true
		if !onDisk[dir] {
			t.Errorf("%s is registered but functions/%s/function.json does not exist", f.Name, dir)
			continue
		}
		fj := readFunctionJSON(t, dir)
		tr, n := trigger(fj)
		if n != 1 {
			t.Errorf("%s/function.json has %d trigger bindings, want 1", dir, n)
		}
		if tr.Type != f.Trigger {
			t.Errorf("%s: registry says trigger %q, function.json says %q", f.Name, f.Trigger, tr.Type)
		}
		if tr.Type == "httpTrigger" {
			if tr.Name != "req" {
				t.Errorf("%s: HTTP trigger binding must be named req", f.Name)
			}
			var out bool
			for _, b := range fj.Bindings {
				out = out || (b.Type == "http" && b.Direction == "out" && b.Name == "res")
			}
			if !out {
				t.Errorf("%s: HTTP function needs an http output binding named res", f.Name)
			}
		}
		goFiles, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, gf := range goFiles {
			file, err := parser.ParseFile(token.NewFileSet(), gf, nil, parser.PackageClauseOnly)
			if err != nil {
				t.Fatal(err)
			}
			if name := file.Name.Name; name != dir && name != dir+"_test" {
				t.Errorf("%s is package %s; folder, package and function names must agree", gf, name)
			}
		}
	}
	for dir := range onDisk {
		if !seen[dir] {
			t.Errorf("functions/%s/function.json has no registry entry in registry.go", dir)
		}
	}
}

var settingRef = regexp.MustCompile(`%([A-Za-z0-9_]+)%`)

// settingsAndReferences lists every setting the handler reads, plus those function.json
// files reference (%Name% and connection prefixes).
func settingsAndReferences(t *testing.T) (handler []config.Setting, referenced map[string]bool) {
	referenced = map[string]bool{}
	for _, f := range registry() {
		fj := readFunctionJSON(t, strings.ToLower(f.Name))
		for _, b := range fj.Bindings {
			for _, v := range []string{b.Schedule, b.QueueName, b.Route} {
				for _, m := range settingRef.FindAllStringSubmatch(v, -1) {
					referenced[m[1]] = true
				}
			}
			if b.Connection != "" {
				referenced[b.Connection] = true
			}
		}
	}
	return allSettings(), referenced
}

// TestSettingsDocumented: the README documents every setting the handler reads.
func TestSettingsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	settings, referenced := settingsAndReferences(t)
	for _, s := range settings {
		if !strings.Contains(string(readme), "`"+s.Name+"`") {
			t.Errorf("README.md does not document setting %s (run: go run ./functions settings)", s.Name)
		}
	}
	for name := range referenced {
		if !strings.Contains(string(readme), name) {
			t.Errorf("README.md does not document %s, referenced by a function.json", name)
		}
	}
}

// localOnly settings are never set in Azure.
var localOnly = map[string]bool{
	"FUNCTIONS_CUSTOMHANDLER_PORT":     true, // set by the host
	"GOVKIT_STORAGE_CONNECTION_STRING": true, // Azure uses the managed identity
	"GOVKIT_DEV_PRINCIPAL":             true, // local development identity, refused with platform auth
}

// TestSettingsInInfra: every setting the handler or a binding needs in Azure
// appears in the Bicep, so a deployment cannot forget one.
func TestSettingsInInfra(t *testing.T) {
	var bicep strings.Builder
	files, _ := filepath.Glob("../infra/*.bicep")
	more, _ := filepath.Glob("../infra/modules/*.bicep")
	for _, p := range append(files, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		bicep.Write(b)
	}
	if bicep.Len() == 0 {
		t.Skip("no Bicep under infra/ yet")
	}
	settings, referenced := settingsAndReferences(t)
	for _, s := range settings {
		if localOnly[s.Name] || s.Default != "" && !s.Required {
			continue // a setting with a working default need not be set
		}
		if !strings.Contains(bicep.String(), s.Name) {
			t.Errorf("infra/ Bicep does not set %s", s.Name)
		}
	}
	for name := range referenced {
		if !strings.Contains(bicep.String(), name) {
			t.Errorf("infra/ Bicep does not set %s (referenced by a function.json)", name)
		}
	}
}

// TestEveryHTTPRouteHasARule: every method of every HTTP function has a
// declared access rule, and every rule names a real function and role.
func TestEveryHTTPRouteHasARule(t *testing.T) {
	known := map[string]bool{}
	for _, f := range registry() {
		known[f.Name] = true
		if f.Trigger != "httpTrigger" {
			continue
		}
		fj := readFunctionJSON(t, strings.ToLower(f.Name))
		for _, bd := range fj.Bindings {
			if bd.Type != "httpTrigger" {
				continue
			}
			if len(bd.Methods) == 0 {
				t.Errorf("%s: declare its methods in function.json so each can have an access rule", f.Name)
			}
			for _, m := range bd.Methods {
				found := false
				for _, r := range accessRules {
					found = found || (r.Function == f.Name && strings.EqualFold(r.Method, m))
				}
				if !found {
					t.Errorf("%s %s has no rule in accessRules (functions/access.go)", f.Name, strings.ToUpper(m))
				}
			}
		}
	}
	for _, r := range accessRules {
		if !known[r.Function] {
			t.Errorf("access rule for unknown function %s", r.Function)
		}
		for _, role := range r.Roles {
			if !slices.Contains(allRoles, role) {
				t.Errorf("access rule %s %s names unknown role %s", r.Function, r.Method, role)
			}
		}
	}
}
