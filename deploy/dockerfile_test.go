package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// stage is one FROM ... AS name section of a Dockerfile.
type stage struct {
	from, name string
	lines      []string // instructions after FROM, continuation lines joined
}

func readDockerfile(tb testing.TB, rel string) []stage {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		tb.Fatal(err)
	}
	var stages []stage
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		fields := strings.Fields(line)
		if strings.EqualFold(fields[0], "FROM") {
			st := stage{}
			args := fields[1:]
			for len(args) > 0 && strings.HasPrefix(args[0], "--") {
				args = args[1:]
			}
			if len(args) > 0 {
				st.from = args[0]
			}
			if len(args) == 3 && strings.EqualFold(args[1], "AS") {
				st.name = args[2]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) == 0 {
			if !strings.EqualFold(fields[0], "ARG") {
				tb.Errorf("%s: %q before the first FROM", rel, line)
			}
			return
		}
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, line)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\") + " ")
			continue
		}
		cur.WriteString(t)
		flush()
	}
	flush()
	return stages
}

var secretName = regexp.MustCompile(`(?i)(SECRET|PASSWORD|TOKEN|ACCESS_KEY|DATABASE_URL)`)

func checkDockerfile(t *testing.T, rel string, wantStages int) []stage {
	t.Helper()
	stages := readDockerfile(t, rel)
	if len(stages) < wantStages {
		t.Fatalf("%s: got %d stages, want at least %d", rel, len(stages), wantStages)
	}
	names := map[string]bool{}
	for i, st := range stages {
		if st.name == "" {
			t.Errorf("%s: stage %d (FROM %s) has no name", rel, i, st.from)
		}
		if names[st.name] {
			t.Errorf("%s: stage name %s used twice", rel, st.name)
		}
		names[st.name] = true
		if !strings.Contains(st.from, ":") || strings.HasSuffix(st.from, ":latest") {
			t.Errorf("%s: FROM %s is not pinned to a tag", rel, st.from)
		}
		for _, l := range st.lines {
			f := strings.Fields(l)
			if (strings.EqualFold(f[0], "ENV") || strings.EqualFold(f[0], "ARG")) && secretName.MatchString(l) {
				t.Errorf("%s: %q bakes a secret into the image", rel, l)
			}
			if strings.EqualFold(f[0], "COPY") && strings.Contains(l, ".env") {
				t.Errorf("%s: %q copies an env file into the image", rel, l)
			}
			for _, m := range regexp.MustCompile(`--from=(\S+)`).FindAllStringSubmatch(l, -1) {
				if !names[m[1]] {
					t.Errorf("%s: %q copies from %s, not an earlier stage", rel, l, m[1])
				}
			}
		}
	}
	final := stages[len(stages)-1]
	user := ""
	for _, l := range final.lines {
		if f := strings.Fields(l); strings.EqualFold(f[0], "USER") && len(f) > 1 {
			user = f[1]
		}
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("%s: final stage USER %q, want a non-root user", rel, user)
	}
	return stages
}

func TestServerDockerfile(t *testing.T) {
	stages := checkDockerfile(t, "local/Dockerfile", 3)
	// The Go build target exists: a main package in ./local.
	built := false
	for _, st := range stages {
		for _, l := range st.lines {
			if m := regexp.MustCompile(`go build .* (\./\S+)$`).FindStringSubmatch(l); m != nil {
				built = true
				matches, _ := filepath.Glob(filepath.Join(repoRoot, m[1], "*.go"))
				if len(matches) == 0 {
					t.Errorf("local/Dockerfile builds %s, which has no Go files", m[1])
				}
				if m[1] != "./local" {
					t.Errorf("local/Dockerfile builds %s, want ./local", m[1])
				}
			}
		}
	}
	if !built {
		t.Error("local/Dockerfile has no go build")
	}
	// The SPA is built and served from WEB_DIR.
	all := ""
	for _, st := range stages {
		all += strings.Join(st.lines, "\n") + "\n"
	}
	for _, want := range []string{"npm ci", "npm run build", "WEB_DIR=/app/web", "COPY --from=spa /web/dist /app/web"} {
		if !strings.Contains(all, want) {
			t.Errorf("local/Dockerfile has no %q", want)
		}
	}
}

func TestWebDockerfile(t *testing.T) {
	checkDockerfile(t, "frontend/Dockerfile", 2)
	raw, err := os.ReadFile(filepath.Join(repoRoot, "frontend", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	for _, want := range []string{"location /api/", "proxy_pass http://backend:8000", "try_files $uri $uri/ /index.html", "listen 8080"} {
		if !strings.Contains(conf, want) {
			t.Errorf("frontend/nginx.conf has no %q", want)
		}
	}
	// Compose publishes the port nginx listens on.
	ports, _ := get(services(t, "docker-compose.yml"), "frontend", "ports")
	if p := toStrings(ports); len(p) != 1 || !strings.HasSuffix(p[0], ":8080") {
		t.Errorf("frontend ports got %v, want one mapping to 8080", ports)
	}
}

func TestDockerignore(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	for _, want := range []string{".git", ".env", "**/node_modules"} {
		found := false
		for _, l := range lines {
			if strings.TrimSpace(l) == want {
				found = true
			}
		}
		if !found {
			t.Errorf(".dockerignore has no %q line", want)
		}
	}
}
