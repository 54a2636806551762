package deploy

// Checks that the hand-written deploy files say what shared/hosted says:
// the hot-tier CORS in docs/deploy.md, and the SPA's security headers in
// frontend/nginx.conf. (template.yaml is generated from the tables.)

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
)

// The hot-tier CORS JSON that docs/deploy.md tells operators to set is
// hosted.HotBucketCORS, which make dev-aws sets on its hot server.
func TestDocsHotBucketCORSIsTheTable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- hot-bucket-cors:[^>]*-->\\s*```json\\n(.*?)```").FindSubmatch(raw)
	if m == nil {
		t.Fatal("docs/deploy.md has no hot-bucket-cors JSON block")
	}
	var got struct{ CORSRules []hosted.CORS }
	dec := json.NewDecoder(strings.NewReader(string(m[1])))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("docs/deploy.md hot-bucket-cors: %v", err)
	}
	if want := hosted.HotBucketCORS([]string{"https://files.example.com"}); !reflect.DeepEqual(got.CORSRules, want) {
		t.Errorf("docs/deploy.md hot-tier CORS\n%+v\nwant hosted.HotBucketCORS\n%+v", got.CORSRules, want)
	}
}

// nginxDirective is one simple directive of an nginx configuration, with
// the locations it is inside.
type nginxDirective struct {
	block string // "" at server level, else the location's arguments
	name  string
	args  []string
}

// parseNginx tokenizes an nginx configuration: words, quoted strings,
// ';', '{' and '}', comments dropped.
func parseNginx(tb testing.TB, conf string) []nginxDirective {
	tb.Helper()
	var toks []string
	for i := 0; i < len(conf); {
		c := conf[i]
		switch {
		case c == '#':
			for i < len(conf) && conf[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == ';' || c == '{' || c == '}':
			toks = append(toks, string(c))
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(conf[i+1:], c)
			if j < 0 {
				tb.Fatalf("nginx.conf: unterminated quote at %d", i)
			}
			toks = append(toks, "\x00"+conf[i+1:i+1+j])
			i += j + 2
		default:
			j := i
			for j < len(conf) && !strings.ContainsRune(" \t\r\n;{}", rune(conf[j])) {
				j++
			}
			toks = append(toks, conf[i:j])
			i = j
		}
	}
	var out []nginxDirective
	var stack []string
	var cur []string
	for _, t := range toks {
		switch t {
		case ";":
			if len(cur) > 0 {
				args := make([]string, len(cur)-1)
				for i, a := range cur[1:] {
					args[i] = strings.TrimPrefix(a, "\x00")
				}
				block := ""
				if len(stack) > 0 {
					block = stack[len(stack)-1]
				}
				out = append(out, nginxDirective{block: block, name: cur[0], args: args})
			}
			cur = nil
		case "{":
			stack = append(stack, strings.Join(cur, " "))
			cur = nil
		case "}":
			stack = stack[:len(stack)-1]
		default:
			cur = append(cur, t)
		}
	}
	return out
}

// The nginx image sends the SPA's headers of hosted.SPAHeaders from every
// location that serves the SPA (an add_header in a location replaces the
// server's), with CSP_CONNECT_SRC (filled in at start-up) in connect-src.
func TestNginxSecurityHeadersAreTheTable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "frontend", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	want := hosted.SPAHeaders([]string{"${CSP_CONNECT_SRC}"})
	got := map[string]map[string]string{} // location → header → value
	for _, d := range parseNginx(t, string(raw)) {
		if d.name != "add_header" || len(d.args) < 2 {
			continue
		}
		if _, security := want[d.args[0]]; security && d.args[len(d.args)-1] != "always" {
			t.Errorf("%s: add_header %v: want `always` (error pages too)", d.block, d.args)
			continue
		}
		if got[d.block] == nil {
			got[d.block] = map[string]string{}
		}
		got[d.block][d.args[0]] = d.args[1]
	}
	for _, loc := range []string{"location /", "location /assets/"} {
		for k, v := range want {
			if got[loc][k] != v {
				t.Errorf("nginx.conf %s: %s %q, want %q", loc, k, got[loc][k], v)
			}
		}
	}
	// The Dockerfile installs it as a template, so ${CSP_CONNECT_SRC} is filled in.
	df, err := os.ReadFile(filepath.Join(repoRoot, "frontend", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(df), "frontend/nginx.conf /etc/nginx/templates/default.conf.template") {
		t.Error("frontend/Dockerfile does not install nginx.conf as /etc/nginx/templates/default.conf.template")
	}
}
