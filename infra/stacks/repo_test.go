package stacks

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// TestRepositoryFunctions synthesizes against the repository's own
// functions/ directory (with fake bootstraps): the route table and the
// directories must agree, and there is one Lambda function per directory.
// It fails, on purpose, while functions/ does not exist.
func TestRepositoryFunctions(t *testing.T) {
	repoFunctions, err := filepath.Abs(filepath.Join("..", "..", "functions"))
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := FunctionDirs(repoFunctions)
	if err != nil {
		t.Fatalf("the repository has no functions/ directory (%v): nothing to deploy", err)
	}
	root := fixture(t, dirs...)
	// Use the real directory listing, not the fixture's copy of it.
	if err := os.RemoveAll(filepath.Join(root, "functions")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(repoFunctions, filepath.Join(root, "functions")); err != nil {
		t.Fatal(err)
	}
	s := synth(t, root, httpapi.Routes, StatefulProps{})
	got := functionsByName(t, s.apiJS)
	if len(got) != len(dirs) {
		t.Errorf("got %d functions, want %d (functions/: %v)", len(got), len(dirs), dirs)
	}
	for _, d := range dirs {
		if _, ok := got[d]; !ok {
			t.Errorf("functions/%s has no Lambda function", d)
		}
	}
	_, hasMigrate := got[MigrateFunction]
	if triggers := len(s.apiJS.ofType("Custom::Trigger")); (triggers == 1) != hasMigrate {
		t.Errorf("got %d migrate triggers with functions/migrate present=%v", triggers, hasMigrate)
	}
	_, hasSync := got[SyncFunction]
	if rules := len(s.apiJS.ofType("AWS::Events::Rule")); (rules == 1) != hasSync {
		t.Errorf("got %d schedule rules with functions/sync present=%v", rules, hasSync)
	}
}
