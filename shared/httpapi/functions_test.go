package httpapi_test

import (
	"slices"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// TestFunctionTable: names are unique, an HTTP trigger has a handler and
// a lambdafn kind that serves HTTP, another trigger has neither, and every
// setting an entry names is a variable config reads.
func TestFunctionTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range httpapi.Functions {
		if seen[f.Name] {
			t.Errorf("%s: twice in the table", f.Name)
		}
		seen[f.Name] = true
		_, http := f.Route()
		serves := f.Lambda == httpapi.LambdaHTTP || f.Lambda == httpapi.LambdaSync
		if http != (f.Handler != nil) || http != serves {
			t.Errorf("%s: trigger %q, handler set %v, Lambda kind %d: an HTTP route needs a handler and an HTTP kind, others neither", f.Name, f.Trigger, f.Handler != nil, f.Lambda)
		}
		for _, s := range f.Settings {
			if !slices.Contains(config.Names(), s) {
				t.Errorf("%s: setting %s is not a variable config reads", f.Name, s)
			}
		}
	}
}
