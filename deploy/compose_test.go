package deploy

import (
	"bufio"
	"context"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// backendUnset lists the variables config reads that docker-compose.yml
// deliberately does not set for the backend, and why.
var backendUnset = map[string]string{
	"DEV_MODE":                    "allows a short SECRET_KEY: only docker-compose.dev.yml sets it",
	"AWS_SESSION_TOKEN":           "only with temporary AWS keys; compose users give long-lived ones",
	"SYNC_QUEUE_URL":              "the AWS fan-out's queue: the server runs its workers in-process",
	"SQS_ENDPOINT":                "the AWS fan-out's queue: the server runs its workers in-process",
	"METRICS_ADDR":                "a loopback listener inside the container cannot be scraped from outside it: compose users set METRICS_TOKEN",
	"ACCESS_TOKEN_EXPIRE_SECONDS": "end-to-end tests only",
}

// composeSets are the ways the README runs compose: the base file alone,
// with the dev overrides, with the prod overrides.
var composeSets = map[string][]string{
	"docker-compose.yml":      {"docker-compose.yml"},
	"docker-compose.dev.yml":  {"docker-compose.yml", "docker-compose.dev.yml"},
	"docker-compose.prod.yml": {"docker-compose.yml", "docker-compose.prod.yml"},
}

// envExample is .env.example as compose reads a .env file.
func envExample(tb testing.TB) map[string]string {
	tb.Helper()
	env, err := dotenv.Read(filepath.Join(repoRoot, ".env.example"))
	if err != nil {
		tb.Fatalf(".env.example: %v", err)
	}
	return env
}

// loadCompose loads files the way `docker compose -f a -f b config` does in
// the repository root with .env.example as its .env (and nothing from this
// process's environment): merged in order, !reset and !override applied,
// ${VAR} interpolated, validated against the Compose schema, normalized. It
// returns the project and the variables interpolation asked for that
// .env.example does not set.
func loadCompose(tb testing.TB, files ...string) (*types.Project, []string) {
	tb.Helper()
	return loadComposeWith(tb, envExample(tb), files...)
}

// loadComposeWith is loadCompose with env as the .env file.
func loadComposeWith(tb testing.TB, env map[string]string, files ...string) (*types.Project, []string) {
	tb.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		tb.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(root, f))
	}
	ctx := context.Background()
	details, err := loader.LoadConfigFiles(ctx, paths, root)
	if err != nil {
		tb.Fatalf("compose %v: %v", files, err)
	}
	details.Environment = env
	var missing []string
	p, err := loader.LoadWithContext(ctx, *details, func(o *loader.Options) {
		o.Interpolate.LookupValue = func(k string) (string, bool) {
			v, ok := env[k]
			if !ok && !slices.Contains(missing, k) {
				missing = append(missing, k)
			}
			return v, ok
		}
	})
	if err != nil {
		tb.Fatalf("compose %v with .env.example: %v", files, err)
	}
	return p, missing
}

// services is one compose file's services as compose reads that file alone,
// before interpolation and merging (what `docker compose config
// --no-interpolate` starts from): ${VAR} references are still there.
func services(tb testing.TB, file string) map[string]any {
	tb.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	details, err := loader.LoadConfigFiles(ctx, []string{filepath.Join(root, file)}, root)
	if err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	model, err := loader.LoadModelWithContext(ctx, *details, func(o *loader.Options) {
		o.SetProjectName("hybrid-storage", true)
		o.SkipInterpolation = true
		o.SkipNormalization = true
		o.SkipConsistencyCheck = true
		o.SkipResolveEnvironment = true
	})
	if err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	s := getMap(model, "services")
	if s == nil {
		tb.Fatalf("%s has no services", file)
	}
	return s
}

func TestComposeServices(t *testing.T) {
	p, _ := loadCompose(t, "docker-compose.yml")
	got := p.ServiceNames()
	slices.Sort(got)
	want := []string{"backend", "frontend", "postgres", "s3"}
	if !slices.Equal(got, want) {
		t.Errorf("services got %v, want %v", got, want)
	}
	for _, name := range []string{"postgres", "s3", "backend", "frontend"} {
		hc := p.Services[name].HealthCheck
		if hc == nil || len(hc.Test) < 2 || hc.Disable {
			t.Errorf("%s: healthcheck %+v, want a command", name, hc)
		}
	}
	// PostgreSQL's healthcheck asks over TCP: during initdb the official
	// entrypoint's temporary server listens on the Unix socket only.
	if hc := strings.Join(p.Services["postgres"].HealthCheck.Test, " "); !strings.Contains(hc, "pg_isready -h 127.0.0.1 ") {
		t.Errorf("postgres healthcheck %q, want pg_isready -h 127.0.0.1 (TCP, not the socket)", hc)
	}
	for name, want := range map[string]string{"backend": "local/Dockerfile", "frontend": "frontend/Dockerfile"} {
		b := p.Services[name].Build
		if b == nil || b.Dockerfile != want {
			t.Errorf("%s build %+v, want dockerfile %s", name, b, want)
			continue
		}
		if ctx, _ := filepath.Abs(repoRoot); b.Context != ctx {
			t.Errorf("%s build context %q, want the repository root %q", name, b.Context, ctx)
		}
	}
}

func TestComposeDependsOnConditions(t *testing.T) {
	for set, files := range composeSets {
		p, _ := loadCompose(t, files...)
		svc := p.Services
		for _, tc := range []struct{ service, dep, condition string }{
			{"backend", "postgres", types.ServiceConditionHealthy},
			{"backend", "s3", types.ServiceConditionHealthy},
			{"frontend", "backend", types.ServiceConditionHealthy},
		} {
			if got := svc[tc.service].DependsOn[tc.dep].Condition; got != tc.condition {
				t.Errorf("%s: %s depends_on %s: condition got %q, want %q", set, tc.service, tc.dep, got, tc.condition)
			}
		}
		// Every dependency names a service and waits for more than its start
		// (what the short syntax, without a condition, means).
		for name, s := range svc {
			for dep, d := range s.DependsOn {
				if _, ok := svc[dep]; !ok {
					t.Errorf("%s: %s depends on unknown service %s", set, name, dep)
				}
				if d.Condition == "" || d.Condition == types.ServiceConditionStarted {
					t.Errorf("%s: %s depends_on %s only waits for its start (no condition)", set, name, dep)
				}
			}
		}
	}
}

var pinnedTag = regexp.MustCompile(`^[a-z0-9./_-]+:[A-Za-z0-9._-]*[0-9][A-Za-z0-9._-]*$`)

func TestComposeImagesPinned(t *testing.T) {
	for set, files := range composeSets {
		p, _ := loadCompose(t, files...)
		for name, s := range p.Services {
			if s.Image == "" {
				t.Errorf("%s: %s has no image", set, name)
				continue
			}
			if s.Build != nil {
				continue // the tag names what compose builds
			}
			if !pinnedTag.MatchString(s.Image) || strings.HasSuffix(s.Image, ":latest") {
				t.Errorf("%s: %s image %q is not pinned to a versioned tag", set, name, s.Image)
			}
		}
	}
	if !pinnedTag.MatchString("postgres:15.15-alpine") || pinnedTag.MatchString("minio/minio:latest") || pinnedTag.MatchString("minio/minio") {
		t.Fatal("pinnedTag regexp is broken")
	}
}

func TestComposeBackendEnvironment(t *testing.T) {
	p, _ := loadCompose(t, "docker-compose.yml")
	env := p.Services["backend"].Environment
	for _, name := range config.Names() {
		_, set := env[name]
		_, unset := backendUnset[name]
		switch {
		case set && unset:
			t.Errorf("%s is set for the backend but listed as intentionally unset", name)
		case !set && !unset:
			t.Errorf("backend environment does not set %s (config reads it)", name)
		}
	}
	for name := range backendUnset {
		if !slices.Contains(config.Names(), name) {
			t.Errorf("backendUnset lists %s, which config no longer reads", name)
		}
	}
	for name := range env {
		if !slices.Contains(config.Names(), name) {
			t.Errorf("backend environment sets %s, which config does not read", name)
		}
	}
	// Secrets come from .env, never from the compose file itself.
	raw := getMap(services(t, "docker-compose.yml"), "backend", "environment")
	for _, name := range []string{"SECRET_KEY", "MINIO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "SYNC_TRIGGER_TOKEN"} {
		if v, _ := raw[name].(string); !strings.HasPrefix(v, "${") {
			t.Errorf("backend %s = %q, want a ${...} reference to .env", name, v)
		}
	}
}

func TestComposeOverrides(t *testing.T) {
	base := services(t, "docker-compose.yml")
	for _, file := range []string{"docker-compose.dev.yml", "docker-compose.prod.yml"} {
		for name := range services(t, file) {
			if _, ok := base[name]; !ok {
				t.Errorf("%s overrides %s, which docker-compose.yml does not define", file, name)
			}
		}
	}
	dev, _ := loadCompose(t, composeSets["docker-compose.dev.yml"]...)
	if cmd := strings.Join(dev.Services["backend"].Command, " "); !strings.Contains(cmd, "go run ./local") {
		t.Errorf("dev backend command got %q, want go run ./local", cmd)
	}
	if v := dev.Services["backend"].Environment["DEV_MODE"]; v == nil || *v != "true" {
		t.Error("dev backend: DEV_MODE, want true")
	}
	if b := dev.Services["backend"].Build; b != nil {
		t.Errorf("dev backend still builds %+v (want build: !reset, it runs from the source)", b)
	}
	if cmd := strings.Join(dev.Services["frontend"].Command, " "); !strings.Contains(cmd, "npm run dev -- --host") {
		t.Errorf("dev frontend command got %q, want npm run dev -- --host", cmd)
	}
	if ports := dev.Services["frontend"].Ports; len(ports) != 1 || ports[0].Target != 5173 {
		t.Errorf("dev frontend ports %+v, want only 5173 (ports: !override)", ports)
	}
	prod, _ := loadCompose(t, composeSets["docker-compose.prod.yml"]...)
	for name, s := range prod.Services {
		if s.Deploy == nil || s.Deploy.Resources.Limits == nil || s.Deploy.Resources.Limits.MemoryBytes <= 0 {
			t.Errorf("prod: %s has no memory limit", name)
		}
	}
	for _, name := range []string{"postgres", "backend"} {
		if n := len(prod.Services[name].Ports); n != 0 {
			t.Errorf("prod: %s publishes %d ports, want none (ports: !reset [])", name, n)
		}
	}
	for name, s := range prod.Services {
		if s.Restart != types.RestartPolicyUnlessStopped {
			t.Errorf("prod: %s restart %q, want unless-stopped", name, s.Restart)
		}
		if l := s.Deploy.Resources.Limits; l != nil && l.NanoCPUs <= 0 {
			t.Errorf("prod: %s has no cpu limit", name)
		}
	}
}

// TestComposeHotTier: the hot tier is the versitygw release tools/go.mod
// pins (what make dev and the tests run, and what deploy/standins.sh builds
// its stand-in from), serving a volume, published for browsers.
func TestComposeHotTier(t *testing.T) {
	p, _ := loadCompose(t, "docker-compose.yml")
	s3 := p.Services["s3"]
	want := "versity/versitygw:" + toolVersion(t, "github.com/versity/versitygw")
	if s3.Image != want {
		t.Errorf("s3 image %q, want %q (the version tools/go.mod pins)", s3.Image, want)
	}
	if cmd := strings.Join(s3.Command, " "); cmd != "--port :9000 --health /health posix /data" {
		t.Errorf("s3 command %q", cmd)
	}
	if len(s3.Volumes) != 1 || s3.Volumes[0].Target != "/data" || s3.Volumes[0].Type != types.VolumeTypeVolume {
		t.Errorf("s3 volumes %+v, want one named volume at /data", s3.Volumes)
	}
	if len(s3.Ports) != 1 || s3.Ports[0].Target != 9000 || s3.Ports[0].Published != "9000" {
		t.Errorf("s3 ports %+v, want 9000 published (S3_PORT of .env.example)", s3.Ports)
	}
	if got := *p.Services["backend"].Environment["MINIO_ENDPOINT"]; got != "s3:9000" {
		t.Errorf("backend MINIO_ENDPOINT %q, want s3:9000", got)
	}
}

// toolVersion is the version tools/go.mod requires of module.
func toolVersion(tb testing.TB, module string) string {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "tools", "go.mod"))
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindSubmatch(raw)
	if m == nil {
		tb.Fatalf("tools/go.mod does not require %s", module)
	}
	return string(m[1])
}

func TestEnvExample(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vals := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf(".env.example: %q is not NAME=value", line)
			continue
		}
		if _, dup := vals[k]; dup {
			t.Errorf(".env.example sets %s twice", k)
		}
		vals[k] = v
	}
	for _, name := range config.Names() {
		if _, ok := vals[name]; !ok {
			t.Errorf(".env.example has no %s", name)
		}
	}
	// Every variable the compose files interpolate is in .env.example.
	for set, files := range composeSets {
		if _, missing := loadCompose(t, files...); len(missing) > 0 {
			t.Errorf("%s interpolates %v, which .env.example does not list", set, missing)
		}
	}
	// And compose reads .env.example as this test does.
	if got := envExample(t); !maps.Equal(got, vals) {
		t.Errorf(".env.example as compose reads it\n%v\nwant\n%v", got, vals)
	}
	// Placeholders, not secrets: nothing that looks like an AWS key or a long random string.
	awsKey := regexp.MustCompile(`(AKIA|ASIA)[A-Z0-9]{16}`)
	for k, v := range vals {
		if awsKey.MatchString(v) {
			t.Errorf(".env.example %s looks like a real AWS key", k)
		}
		secret := slices.Contains([]string{"SECRET_KEY", "MINIO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY",
			"POSTGRES_PASSWORD", "SYNC_TRIGGER_TOKEN", "DATABASE_URL"}, k)
		if secret && v != "" && !strings.Contains(v, "change-me") && !strings.Contains(v, "replace") {
			t.Errorf(".env.example %s=%q is not an obvious placeholder", k, v)
		}
	}
	if vals["DEV_MODE"] == "true" {
		t.Error(".env.example turns DEV_MODE on")
	}
}
