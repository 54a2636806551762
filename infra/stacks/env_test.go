package stacks

import (
	"slices"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
)

// Variables config.Load reads that the functions do not get as plain
// environment, and why. Anything else config.Names() lists must be set.
var (
	// Read from Secrets Manager at cold start, through the *_SECRET_ARN variables.
	fromSecrets = map[string]string{
		"SECRET_KEY":         EnvSecretKeySecretARN,
		"DATABASE_URL":       EnvDatabaseURLSecretARN,
		"MINIO_ACCESS_KEY":   EnvMinioCredentialsSecretARN,
		"MINIO_SECRET_KEY":   EnvMinioCredentialsSecretARN,
		"SYNC_TRIGGER_TOKEN": EnvSyncTriggerTokenSecretARN,
	}
	// Set by the Lambda runtime (the execution role's temporary credentials).
	fromRuntime = []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
	// Left to their defaults on Lambda on purpose.
	unsetOnLambda = hosted.UnsetOnLambda
)

func TestFunctionEnvCoversConfig(t *testing.T) {
	s := full(t)
	known := config.Names()
	for name := range fromSecrets {
		if !slices.Contains(known, name) {
			t.Errorf("fromSecrets lists %s, which config no longer reads", name)
		}
	}
	for _, name := range fromRuntime {
		if !slices.Contains(known, name) {
			t.Errorf("fromRuntime lists %s, which config no longer reads", name)
		}
	}
	for name := range unsetOnLambda {
		if !slices.Contains(known, name) {
			t.Errorf("unsetOnLambda lists %s, which config no longer reads", name)
		}
	}
	for fn, id := range functionsByName(t, s.apiJS) {
		env, _ := s.apiJS.Resources[id].Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		for _, name := range known {
			_, set := vars[name]
			arnVar, secret := fromSecrets[name]
			_, unset := unsetOnLambda[name]
			runtime := slices.Contains(fromRuntime, name)
			switch {
			case secret:
				if set {
					t.Errorf("%s: %s set in plain text; it comes from a secret", fn, name)
				}
				if _, ok := vars[arnVar]; !ok {
					t.Errorf("%s: %s missing (for %s)", fn, arnVar, name)
				}
			case runtime || unset:
				if set {
					t.Errorf("%s: %s set, but it is left to the runtime/default", fn, name)
				}
			case !set:
				t.Errorf("%s: %s not set (config reads it; set it or list it in unsetOnLambda)", fn, name)
			}
		}
	}
}
