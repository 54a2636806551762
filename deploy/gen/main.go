// Command gen writes what the function table (shared/httpapi/functions.go)
// determines: every functions/<name>/main.go, template.yaml and the route
// map in README.md. `go generate ./...` runs it (the directive is next to
// the table); TestGeneratedFilesAreCurrent fails while any is stale.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

const module = "github.com/hybrid-storage/hybrid-storage"

func main() {
	root := flag.String("root", "", "the repository (default: the module root above the working directory)")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	if root == "" {
		var err error
		if root, err = moduleRoot(); err != nil {
			return err
		}
	}
	files, err := generate(root)
	if err != nil {
		return err
	}
	for _, rel := range sortedKeys(files) {
		p := filepath.Join(root, rel)
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, files[rel]) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[rel], 0o644); err != nil {
			return err
		}
		fmt.Println("gen: wrote", rel)
	}
	stale, err := staleFunctionDirs(root)
	if err != nil {
		return err
	}
	for _, d := range stale {
		if err := os.RemoveAll(filepath.Join(root, "functions", d)); err != nil {
			return err
		}
		fmt.Println("gen: removed functions/" + d + " (not in the table)")
	}
	return nil
}

// generate returns every generated file by its path under root.
func generate(root string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, f := range httpapi.Functions {
		src, err := mainFile(f)
		if err != nil {
			return nil, err
		}
		out[filepath.Join("functions", f.Name, "main.go")] = src
	}
	sam, err := samTemplate()
	if err != nil {
		return nil, err
	}
	out["template.yaml"] = []byte(sam)
	readme, err := readmeWithRouteMap(root)
	if err != nil {
		return nil, err
	}
	out["README.md"] = readme
	return out, nil
}

// staleFunctionDirs are directories under functions/ that the table does
// not name.
func staleFunctionDirs(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if _, ok := httpapi.Lookup(e.Name()); e.IsDir() && !ok {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// moduleRoot is the nearest directory at or above the working directory
// whose go.mod declares this module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module "+module+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of " + module + " above the working directory")
		}
		dir = parent
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
