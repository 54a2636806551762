package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// stage is one FROM ... AS name section of a Dockerfile, as BuildKit reads
// it.
type stage struct {
	from, name string
	lines      []string // instructions after FROM as written, continuation lines joined
	commands   []instructions.Command
}

// readDockerfile parses a Dockerfile with BuildKit's own parser (what
// `docker build` runs): the instructions, then the typed stages and
// commands. Parser warnings and the lint rules BuildKit checks while
// parsing fail the test.
func readDockerfile(tb testing.TB, rel string) []stage {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := parser.Parse(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	for _, w := range res.Warnings {
		tb.Errorf("%s: %s", rel, w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		tb.Errorf("%s: %s: %s (line %v)", rel, rule, msg, loc)
	}})
	parsed, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	// The instructions as written, in their stages.
	var lines [][]string
	for _, n := range res.AST.Children {
		switch {
		case strings.EqualFold(n.Value, "FROM"):
			lines = append(lines, nil)
		case len(lines) == 0:
			if !strings.EqualFold(n.Value, "ARG") {
				tb.Errorf("%s: %q before the first FROM", rel, n.Original)
			}
		default:
			lines[len(lines)-1] = append(lines[len(lines)-1], n.Original)
		}
	}
	if len(lines) != len(parsed) {
		tb.Fatalf("%s: %d FROM lines, %d stages", rel, len(lines), len(parsed))
	}
	stages := make([]stage, len(parsed))
	for i, st := range parsed {
		stages[i] = stage{from: st.BaseName, name: st.Name, lines: lines[i], commands: st.Commands}
	}
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
		if !strings.Contains(st.from, ":") || strings.HasSuffix(st.from, ":latest") {
			t.Errorf("%s: FROM %s is not pinned to a tag", rel, st.from)
		}
		for _, c := range st.commands {
			switch c := c.(type) {
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					if secretName.MatchString(kv.Key) || secretName.MatchString(kv.Value) {
						t.Errorf("%s: %q bakes a secret into the image", rel, c.String())
					}
				}
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					if secretName.MatchString(kv.Key) || (kv.Value != nil && secretName.MatchString(*kv.Value)) {
						t.Errorf("%s: %q bakes a secret into the image", rel, c.String())
					}
				}
			case *instructions.CopyCommand:
				for _, src := range c.SourcePaths {
					if strings.Contains(src, ".env") {
						t.Errorf("%s: %q copies an env file into the image", rel, c.String())
					}
				}
				if c.From != "" && !names[c.From] {
					t.Errorf("%s: %q copies from %s, not an earlier stage", rel, c.String(), c.From)
				}
			case *instructions.AddCommand:
				for _, src := range c.SourcePaths {
					if strings.Contains(src, ".env") {
						t.Errorf("%s: %q adds an env file to the image", rel, c.String())
					}
				}
			}
		}
		names[st.name] = true
	}
	user := ""
	for _, c := range stages[len(stages)-1].commands {
		if u, ok := c.(*instructions.UserCommand); ok {
			user = u.User
		}
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("%s: final stage USER %q, want a non-root user", rel, user)
	}
	return stages
}

// commandsOf lists the commands of type C in the stages.
func commandsOf[C instructions.Command](stages ...stage) []C {
	var out []C
	for _, st := range stages {
		for _, c := range st.commands {
			if x, ok := c.(C); ok {
				out = append(out, x)
			}
		}
	}
	return out
}

// envOf is the value an ENV of the stage sets name to ("" and false if none).
func envOf(st stage, name string) (string, bool) {
	v, set := "", false
	for _, e := range commandsOf[*instructions.EnvCommand](st) {
		for _, kv := range e.Env {
			if kv.Key == name {
				v, set = kv.Value, true
			}
		}
	}
	return v, set
}

func TestServerDockerfile(t *testing.T) {
	stages := checkDockerfile(t, "local/Dockerfile", 3)
	// The Go build target exists: a main package in ./local.
	built := false
	var runs []string
	for _, r := range commandsOf[*instructions.RunCommand](stages...) {
		line := strings.Join(r.CmdLine, " ")
		runs = append(runs, line)
		if m := regexp.MustCompile(`go build .* (\./\S+)$`).FindStringSubmatch(line); m != nil {
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
	if !built {
		t.Error("local/Dockerfile has no go build")
	}
	// The SPA is built and served from WEB_DIR.
	for _, want := range []string{"npm ci", "npm run build"} {
		if !slices.ContainsFunc(runs, func(r string) bool { return strings.Contains(r, want) }) {
			t.Errorf("local/Dockerfile runs no %q", want)
		}
	}
	runtime := stages[len(stages)-1]
	if v, _ := envOf(runtime, "WEB_DIR"); v != "/app/web" {
		t.Errorf("local/Dockerfile runtime WEB_DIR %q, want /app/web", v)
	}
	spa := slices.ContainsFunc(commandsOf[*instructions.CopyCommand](runtime), func(c *instructions.CopyCommand) bool {
		return c.From == "spa" && slices.Equal(c.SourcePaths, []string{"/web/dist"}) && c.DestPath == "/app/web"
	})
	if !spa {
		t.Error("local/Dockerfile runtime has no COPY --from=spa /web/dist /app/web")
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
	p, _ := loadCompose(t, "docker-compose.yml")
	if ports := p.Services["frontend"].Ports; len(ports) != 1 || ports[0].Target != 8080 {
		t.Errorf("frontend ports got %+v, want one mapping to 8080", ports)
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
