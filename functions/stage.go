package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// stage writes dir/<Name>/function.json for every registered function, the
// layout the Functions host reads (one level below host.json).
func stage(dir string) error {
	for _, f := range registry() {
		b, err := functionFiles.ReadFile(strings.ToLower(f.Name) + "/function.json")
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if err := os.MkdirAll(filepath.Join(dir, f.Name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name, "function.json"), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
