package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// repoFixture lays out dist/<name>/bootstrap for every function of the
// table, and frontend/dist.
func repoFixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range httpapi.Functions {
		write(filepath.Join("dist", f.Name, "bootstrap"), "fake\n")
	}
	write(filepath.Join("frontend", "dist", "index.html"), "<!doctype html>\n")
	return root
}

// runWithContext builds and synthesizes the app as main does, with ctx as
// its context. (The jsii kernel is one Node process for the whole test
// binary, so context goes through AppProps, not CDK_CONTEXT_JSON.)
func runWithContext(t *testing.T, ctx map[string]string) (outdir string, err error) {
	t.Helper()
	return runWithEnv(t, ctx, map[string]string{})
}

func runWithEnv(t *testing.T, ctx, env map[string]string) (outdir string, err error) {
	t.Helper()
	outdir = t.TempDir()
	c := map[string]interface{}{}
	for k, v := range ctx {
		c[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &c, Outdir: jsii.String(outdir)})
	if err := build(app, func(k string) string { return env[k] }); err != nil {
		return outdir, err
	}
	app.Synth(nil)
	return outdir, nil
}

func TestRunSynthesizesFromContext(t *testing.T) {
	root := repoFixture(t)
	out, err := runWithContext(t, map[string]string{
		"repoRoot": root, "minioEndpoint": "minio.example.com:443", "maxFileSizeMb": "250",
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "HybridStorageApi.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"MINIO_ENDPOINT": "minio.example.com:443"`, `"MAX_FILE_SIZE_MB": "250"`, `"DOWNLOAD_MODE": "redirect"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("API template has no %s", want)
		}
	}
	for _, stack := range []string{"HybridStorageStateful", "HybridStorageWeb"} {
		if _, err := os.Stat(filepath.Join(out, stack+".template.json")); err != nil {
			t.Errorf("%s not synthesized: %v", stack, err)
		}
	}
}

func TestRunRejectsBadContext(t *testing.T) {
	root := repoFixture(t)
	// A setting config.Load would refuse at cold start is refused at synth,
	// naming its context key (syncWorkers 1000 used to deploy and then fail
	// every function).
	for key, val := range map[string]string{"createDatabase": "maybe", "maxFileSizeMb": "-1", "minioSecure": "yes please", "syncWorkers": "1000", "coldStorageClass": "GLACIER"} {
		t.Run(key, func(t *testing.T) {
			_, err := runWithContext(t, map[string]string{"repoRoot": root, key: val})
			if err == nil || !strings.Contains(err.Error(), key) {
				t.Errorf("got %v, want an error naming %s", err, key)
			}
		})
	}
	if _, err := runWithContext(t, map[string]string{"repoRoot": filepath.Join(root, "nope")}); err == nil {
		t.Error("missing bootstraps: got no error")
	}
}

// The CDK CLI sets CDK_DEFAULT_REGION (and the account when it has
// credentials): the stacks must synthesize without a dependency cycle then.
func TestRunWithEnvironment(t *testing.T) {
	root := repoFixture(t)
	for name, env := range map[string]map[string]string{
		"region only":        {"CDK_DEFAULT_REGION": "eu-west-1"},
		"account and region": {"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "eu-west-1"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("synth panicked: %v", r)
				}
			}()
			if _, err := runWithEnv(t, map[string]string{"repoRoot": root, "minioEndpoint": "minio.example.com:443"}, env); err != nil {
				t.Fatal(err)
			}
		})
	}
}
