package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// backendUnset lists the variables config reads that docker-compose.yml
// deliberately does not set for the backend, and why.
var backendUnset = map[string]string{
	"DEV_MODE":          "allows a short SECRET_KEY: only docker-compose.dev.yml sets it",
	"AWS_SESSION_TOKEN": "only with temporary AWS keys; compose users give long-lived ones",
}

func services(tb testing.TB, file string) map[string]any {
	tb.Helper()
	s := getMap(readYAML(tb, file), "services")
	if s == nil {
		tb.Fatalf("%s has no services", file)
	}
	return s
}

func TestComposeServices(t *testing.T) {
	svc := services(t, "docker-compose.yml")
	var got []string
	for name := range svc {
		got = append(got, name)
	}
	slices.Sort(got)
	want := []string{"backend", "frontend", "minio", "minio-init", "postgres"}
	if !slices.Equal(got, want) {
		t.Errorf("services got %v, want %v", got, want)
	}
	for _, name := range []string{"postgres", "minio", "backend", "frontend"} {
		test, _ := get(svc, name, "healthcheck", "test")
		if list, _ := test.([]any); len(list) < 2 {
			t.Errorf("%s: healthcheck test got %v, want a command", name, test)
		}
	}
	if b := getString(svc, "backend", "build", "dockerfile"); b != "local/Dockerfile" {
		t.Errorf("backend dockerfile got %q, want local/Dockerfile", b)
	}
	if f := getString(svc, "frontend", "build", "dockerfile"); f != "frontend/Dockerfile" {
		t.Errorf("frontend dockerfile got %q, want frontend/Dockerfile", f)
	}
}

func TestComposeDependsOnConditions(t *testing.T) {
	svc := services(t, "docker-compose.yml")
	for _, tc := range []struct{ service, dep, condition string }{
		{"minio-init", "minio", "service_healthy"},
		{"backend", "postgres", "service_healthy"},
		{"backend", "minio", "service_healthy"},
		{"backend", "minio-init", "service_completed_successfully"},
		{"frontend", "backend", "service_healthy"},
	} {
		if got := getString(svc, tc.service, "depends_on", tc.dep, "condition"); got != tc.condition {
			t.Errorf("%s depends_on %s: condition got %q, want %q", tc.service, tc.dep, got, tc.condition)
		}
	}
	// Every dependency names a service and has a condition.
	for name, s := range svc {
		for dep := range getMap(s, "depends_on") {
			if _, ok := svc[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
			if getString(s, "depends_on", dep, "condition") == "" {
				t.Errorf("%s depends_on %s without a condition", name, dep)
			}
		}
	}
}

var pinnedTag = regexp.MustCompile(`^[a-z0-9./_-]+:[A-Za-z0-9._-]*[0-9][A-Za-z0-9._-]*$`)

func TestComposeImagesPinned(t *testing.T) {
	for _, file := range []string{"docker-compose.yml", "docker-compose.dev.yml", "docker-compose.prod.yml"} {
		for name, s := range services(t, file) {
			img := getString(s, "image")
			if img == "" {
				continue
			}
			if _, built := getMap(s, "build")["dockerfile"]; built && file == "docker-compose.yml" {
				continue // the tag names what compose builds
			}
			if !pinnedTag.MatchString(img) || strings.HasSuffix(img, ":latest") {
				t.Errorf("%s: %s image %q is not pinned to a versioned tag", file, name, img)
			}
		}
	}
	if !pinnedTag.MatchString("postgres:15.15-alpine") || pinnedTag.MatchString("minio/minio:latest") || pinnedTag.MatchString("minio/minio") {
		t.Fatal("pinnedTag regexp is broken")
	}
}

func TestComposeBackendEnvironment(t *testing.T) {
	env := getMap(services(t, "docker-compose.yml"), "backend", "environment")
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
	for _, name := range []string{"SECRET_KEY", "MINIO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "SYNC_TRIGGER_TOKEN"} {
		if v, _ := env[name].(string); !strings.HasPrefix(v, "${") {
			t.Errorf("backend %s = %q, want a ${...} reference to .env", name, v)
		}
	}
}

func TestComposeOverrides(t *testing.T) {
	base := services(t, "docker-compose.yml")
	dev := services(t, "docker-compose.dev.yml")
	prod := services(t, "docker-compose.prod.yml")
	for file, svc := range map[string]map[string]any{"docker-compose.dev.yml": dev, "docker-compose.prod.yml": prod} {
		for name := range svc {
			if _, ok := base[name]; !ok {
				t.Errorf("%s overrides %s, which docker-compose.yml does not define", file, name)
			}
		}
	}
	cmd, _ := get(dev, "backend", "command")
	if !strings.Contains(strings.Join(toStrings(cmd), " "), "go run ./local") {
		t.Errorf("dev backend command got %v, want go run ./local", cmd)
	}
	if getString(dev, "backend", "environment", "DEV_MODE") != "true" {
		t.Error("dev backend: DEV_MODE, want true")
	}
	fcmd, _ := get(dev, "frontend", "command")
	if !strings.Contains(strings.Join(toStrings(fcmd), " "), "npm run dev -- --host") {
		t.Errorf("dev frontend command got %v, want npm run dev -- --host", fcmd)
	}
	for name := range base {
		if getMap(prod, name, "deploy", "resources", "limits")["memory"] == nil {
			t.Errorf("prod: %s has no memory limit", name)
		}
	}
}

func toStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
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
	// Every ${VAR} the compose files interpolate is in .env.example.
	for _, file := range []string{"docker-compose.yml", "docker-compose.dev.yml", "docker-compose.prod.yml"} {
		raw, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)`).FindAllStringSubmatch(string(raw), -1) {
			if _, ok := vals[m[1]]; !ok {
				t.Errorf("%s uses ${%s}, which .env.example does not list", file, m[1])
			}
		}
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
