package deploy

// Checks that the deploy files outside the CDK app say what shared/hosted
// says (the CDK app builds from it): template.yaml's CORS, environment and
// function settings, the hot-tier CORS in docs/deploy.md, and the SPA's
// security headers in frontend/nginx.conf.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// samNode decodes template.yaml into plain values; a CloudFormation
// short-form tag becomes {"!Tag": value}.
func samNode(tb testing.TB) map[string]any {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		tb.Fatal(err)
	}
	var conv func(n *yaml.Node) any
	conv = func(n *yaml.Node) any {
		var v any
		switch n.Kind {
		case yaml.DocumentNode:
			return conv(n.Content[0])
		case yaml.MappingNode:
			m := map[string]any{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				m[n.Content[i].Value] = conv(n.Content[i+1])
			}
			v = m
		case yaml.SequenceNode:
			l := []any{}
			for _, c := range n.Content {
				l = append(l, conv(c))
			}
			v = l
		default:
			v = n.Value
		}
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			return map[string]any{n.Tag: v}
		}
		return v
	}
	m, _ := conv(&doc).(map[string]any)
	return m
}

func at(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func strList(v any) []string {
	l, _ := v.([]any)
	out := []string{}
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func atoi(v any) int {
	s, _ := v.(string)
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

// splitOfCorsOrigins is what AllowedOrigins must be: the CorsOrigins parameter, split.
var splitOfCorsOrigins = map[string]any{"!Split": []any{",", map[string]any{"!Ref": "CorsOrigins"}}}

func TestSAMCORSIsTheTable(t *testing.T) {
	tmpl := samNode(t)
	api := at(tmpl, "Resources", "HttpApi", "Properties", "CorsConfiguration")
	want := hosted.APICORS(nil)
	got := hosted.CORS{
		AllowedMethods: strList(at(api, "AllowMethods")),
		AllowedHeaders: strList(at(api, "AllowHeaders")),
		ExposeHeaders:  strList(at(api, "ExposeHeaders")),
		MaxAgeSeconds:  atoi(at(api, "MaxAge")),
	}
	want.AllowedOrigins = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HttpApi CorsConfiguration %+v, want hosted.APICORS %+v", got, want)
	}
	if o := at(api, "AllowOrigins"); !reflect.DeepEqual(o, splitOfCorsOrigins) {
		t.Errorf("HttpApi AllowOrigins %v, want the CorsOrigins parameter", o)
	}

	rules, _ := at(tmpl, "Resources", "ColdBucket", "Properties", "CorsConfiguration", "CorsRules").([]any)
	wantRules := hosted.ColdBucketCORS(nil)
	if len(rules) != len(wantRules) {
		t.Fatalf("ColdBucket: %d CORS rules, want %d", len(rules), len(wantRules))
	}
	for i, r := range rules {
		got := hosted.CORS{
			AllowedMethods: strList(at(r, "AllowedMethods")),
			AllowedHeaders: strList(at(r, "AllowedHeaders")),
			ExposeHeaders:  strList(at(r, "ExposedHeaders")),
			MaxAgeSeconds:  atoi(at(r, "MaxAge")),
		}
		wantRules[i].AllowedOrigins = nil
		if !reflect.DeepEqual(got, wantRules[i]) {
			t.Errorf("ColdBucket CORS rule %d: %+v, want %+v", i, got, wantRules[i])
		}
		if o := at(r, "AllowedOrigins"); !reflect.DeepEqual(o, splitOfCorsOrigins) {
			t.Errorf("ColdBucket CORS rule %d: AllowedOrigins %v, want the CorsOrigins parameter", i, o)
		}
	}
}

func TestSAMFunctionSettingsAreTheTable(t *testing.T) {
	tmpl := samNode(t)
	globals := at(tmpl, "Globals", "Function")
	vars := at(globals, "Environment", "Variables")
	for k, v := range hosted.FunctionEnv {
		if got := at(vars, k); got != v {
			t.Errorf("Globals: %s=%v, want %q", k, got, v)
		}
	}
	auth := map[string]bool{}
	for _, r := range httpapi.Routes {
		auth[r.Function] = auth[r.Function] || (!r.Auth && strings.HasPrefix(r.Path, "/api/auth/"))
	}
	res, _ := at(tmpl, "Resources").(map[string]any)
	seen := 0
	for id, r := range res {
		if at(r, "Type") != "AWS::Serverless::Function" {
			continue
		}
		seen++
		props := at(r, "Properties")
		uri, _ := at(props, "CodeUri").(string)
		name := strings.TrimSuffix(strings.TrimPrefix(uri, "dist/"), "/")
		want := hosted.FunctionSettings(name, auth[name])
		or := func(key string) int {
			if v := at(props, key); v != nil {
				return atoi(v)
			}
			return atoi(at(globals, key))
		}
		if got := or("MemorySize"); got != want.MemoryMB {
			t.Errorf("%s: MemorySize %d, want %d", id, got, want.MemoryMB)
		}
		if got := time.Duration(or("Timeout")) * time.Second; got != want.Timeout {
			t.Errorf("%s: Timeout %v, want %v", id, got, want.Timeout)
		}
		if got := atoi(at(props, "ReservedConcurrentExecutions")); got != want.ReservedConcurrency {
			t.Errorf("%s: ReservedConcurrentExecutions %d, want %d", id, got, want.ReservedConcurrency)
		}
	}
	if seen == 0 {
		t.Fatal("template.yaml has no functions")
	}
}

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
