package hosted

import (
	"slices"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// TestLambdaEnvCoversConfig: every variable config reads is given to the
// functions in exactly one way (a parameter, a fixed value, a secret, a
// resource, the runtime) or left to its default on purpose; nothing names
// a variable config does not read; each parameter's default passes config.
func TestLambdaEnvCoversConfig(t *testing.T) {
	ways := map[string][]string{}
	for _, p := range Params {
		ways[p.Var] = append(ways[p.Var], "param "+p.Name)
		if d := p.DefaultValue(); d != "" {
			if err := config.Check(p.Var, d); err != nil {
				t.Errorf("param %s: default %q: %v", p.Name, d, err)
			}
		}
	}
	for k := range FunctionEnv {
		ways[k] = append(ways[k], "fixed")
		if err := config.Check(k, FunctionEnv[k]); err != nil {
			t.Errorf("FunctionEnv %s: %v", k, err)
		}
	}
	for _, s := range Secrets {
		for _, v := range s.Vars {
			ways[v] = append(ways[v], "secret "+s.Env)
		}
	}
	for k := range StackEnv {
		ways[k] = append(ways[k], "stack")
	}
	for _, k := range RuntimeEnv {
		ways[k] = append(ways[k], "runtime")
	}
	for k := range UnsetOnLambda {
		ways[k] = append(ways[k], "default")
	}
	names := config.Names()
	for _, n := range names {
		if len(ways[n]) != 1 {
			t.Errorf("%s: given to the functions %v, want exactly one way", n, ways[n])
		}
	}
	for n := range ways {
		if !slices.Contains(names, n) {
			t.Errorf("%s is listed, but config does not read it", n)
		}
	}
}
