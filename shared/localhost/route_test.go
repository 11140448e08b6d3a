package localhost

import (
	"maps"
	"strings"
	"testing"
)

func TestRouteMatch(t *testing.T) {
	tests := []struct {
		tmpl, path string
		ok         bool
		params     map[string]string
	}{
		{"contracts", "contracts", true, map[string]string{}},
		{"contracts", "CONTRACTS/", true, map[string]string{}},
		{"contracts", "contracts/1", false, nil},
		{"contracts/{id}", "contracts/42", true, map[string]string{"id": "42"}},
		{"contracts/{id}", "contracts", false, nil},
		{"contracts/{id?}", "contracts", true, map[string]string{}},
		{"contracts/{id?}", "contracts/7", true, map[string]string{"id": "7"}},
		{"contracts/{id=none}", "contracts", true, map[string]string{"id": "none"}},
		{"contracts/{id:int}", "contracts/42", true, map[string]string{"id": "42"}},
		{"contracts/{id:int}", "contracts/abc", false, nil},
		{"contracts/{id:int}", "contracts/99999999999", false, nil},
		{"contracts/{id:long}", "contracts/99999999999", true, map[string]string{"id": "99999999999"}},
		{"contracts/{id:int?}", "contracts", true, map[string]string{}},
		{"apps/{id:guid}", "apps/0f8fad5b-d9cb-469f-a165-70867728950e", true, map[string]string{"id": "0f8fad5b-d9cb-469f-a165-70867728950e"}},
		{"apps/{id:guid}", "apps/not-a-guid", false, nil},
		{"people/{name:alpha}", "people/Ada", true, map[string]string{"name": "Ada"}},
		{"people/{name:alpha}", "people/Ada1", false, nil},
		{"flags/{on:bool}", "flags/True", true, map[string]string{"on": "True"}},
		{"things/{x:madeup(3)}", "things/anything", true, map[string]string{"x": "anything"}},
		{"things/{x:int:min(1)}", "things/5", true, map[string]string{"x": "5"}},
		{"files/{*rest}", "files/a/b/c.txt", true, map[string]string{"rest": "a/b/c.txt"}},
		{"files/{*rest}", "files", true, map[string]string{}},
		{"{*all}", "", true, map[string]string{}},
		{"{*all}", "x/y", true, map[string]string{"all": "x/y"}},
		{"a/{b}/c/{d?}", "A/1/C", true, map[string]string{"b": "1"}},
		{"a/{b}/c/{d?}", "a/1/c/2", true, map[string]string{"b": "1", "d": "2"}},
		{"a/{b}/c/{d?}", "a/1/x/2", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl+" "+tt.path, func(t *testing.T) {
			r, err := parseRoute(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			params, ok := r.match(tt.path)
			if ok != tt.ok {
				t.Fatalf("match = %v, want %v", ok, tt.ok)
			}
			if ok && !maps.Equal(params, tt.params) {
				t.Fatalf("params = %v, want %v", params, tt.params)
			}
		})
	}
}

func TestParseRouteErrors(t *testing.T) {
	tests := []struct{ tmpl, want string }{
		{"a//b", "empty segment"},
		{"a/{*rest}/b", "must be the last"},
		{"a/{id?}/b", "must be at the end"},
		{"a/x{id}", "whole segment"},
		{"a/{1bad}", "not a valid parameter"},
		{"a/{id}/{ID}", "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			_, err := parseRoute(tt.tmpl)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseRoute(%q) = %v, want error with %q", tt.tmpl, err, tt.want)
			}
		})
	}
}
