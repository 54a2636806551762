package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesAreCurrent fails while a file the function table
// determines (functions/*/main.go, template.yaml, README.md's route map)
// differs from what `go generate ./...` writes, or while functions/ holds
// a directory the table does not name.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range sortedKeys(files) {
		got, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil || !bytes.Equal(got, files[rel]) {
			t.Errorf("%s is stale (or missing: %v); run go generate ./...", rel, err)
		}
	}
	stale, err := staleFunctionDirs(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range stale {
		t.Errorf("functions/%s is in no entry of httpapi.Functions; run go generate ./... (it removes it) or add it to the table", d)
	}
}
