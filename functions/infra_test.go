package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// storageNames finds the tables, blob containers and queues the code uses:
// string constants and variables named ...Table, ...Container or
// ...QueueName, and the string fields of ...Tables structs (for example
// subjectrequests.DefaultTables), in every non-test Go file.
func storageNames(t *testing.T) (tables, containers, queues []string) {
	t.Helper()
	seen := map[string]bool{}
	add := func(list *[]string, kind, v string) {
		if !seen[kind+v] {
			seen[kind+v] = true
			*list = append(*list, v)
		}
	}
	literal := func(e ast.Expr) (string, bool) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(lit.Value)
		return s, err == nil
	}
	for _, root := range []string{".", "../shared"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
				strings.Contains(path, "testdata") || strings.Contains(path, string(filepath.Separator)+"graphtest") ||
				strings.Contains(path, "powerbitest") || strings.Contains(path, "teamstest") || strings.Contains(path, "testutil") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || (gd.Tok != token.CONST && gd.Tok != token.VAR) {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					if id, ok := vs.Type.(*ast.Ident); vs.Type != nil && (!ok || id.Name != "string") {
						continue // typed constants (e.g. teams.ContainerStyle values) are not storage names
					}
					for i, name := range vs.Names {
						if i >= len(vs.Values) {
							continue
						}
						n := name.Name
						if v, ok := literal(vs.Values[i]); ok {
							switch {
							case strings.HasSuffix(n, "Table"):
								add(&tables, "t", v)
							case strings.HasSuffix(n, "Container"):
								add(&containers, "c", v)
							case strings.HasSuffix(n, "QueueName"), strings.HasSuffix(n, "ChangesQueue"):
								add(&queues, "q", v)
							}
							continue
						}
						if cl, ok := vs.Values[i].(*ast.CompositeLit); ok && strings.HasSuffix(n, "Tables") {
							for _, el := range cl.Elts {
								if kv, ok := el.(*ast.KeyValueExpr); ok {
									if v, ok := literal(kv.Value); ok {
										add(&tables, "t", v)
									}
								}
							}
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(tables)
	sort.Strings(containers)
	sort.Strings(queues)
	return tables, containers, queues
}

// TestStorageCreatedByInfra: every table, container and queue the code uses
// is created by the Bicep, so a deployment never depends on the code
// creating storage at run time.
func TestStorageCreatedByInfra(t *testing.T) {
	b, err := os.ReadFile("../infra/main.bicep")
	if err != nil {
		t.Fatal(err)
	}
	bicep := string(b)
	tables, containers, queues := storageNames(t)
	if len(tables) < 10 || len(containers) < 3 || len(queues) < 2 {
		t.Fatalf("found too few names to trust the scan: %v %v %v", tables, containers, queues)
	}
	for kind, names := range map[string][]string{"table": tables, "blob container": containers, "queue": queues} {
		for _, n := range names {
			if !strings.Contains(bicep, "'"+n+"'") {
				t.Errorf("the code uses %s %q but infra/main.bicep does not create it", kind, n)
			}
		}
	}
}
