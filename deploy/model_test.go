package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/awslabs/goformation/v7/intrinsics"
)

// repoRoot is the repository root (the parent of this package).
const repoRoot = ".."

// readTemplate reads a CloudFormation (SAM) template as CloudFormation
// tooling does: goformation's reader turns the short-form intrinsic tags into
// their long form ("!Ref X" → {"Ref": "X"}, "!Sub s" → {"Fn::Sub": "s"},
// "!GetAtt A.B" → {"Fn::GetAtt": "A.B"}) and leaves them unresolved. Numbers
// that are whole come back as int.
//
// goformation's typed model (goformation.Open) cannot hold template.yaml:
// it refuses the HttpApi's RouteSettings, a map by route key in SAM, with
// `json: unknown field "POST /api/auth/login"`; with intrinsics resolved it
// also fails on `!Ref MaxFileSizeMb` (a Number) in the string-typed
// Environment.Variables. So the checks read the plain model.
func readTemplate(tb testing.TB, rel string) map[string]any {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		tb.Fatalf("read %s: %v", rel, err)
	}
	return parseTemplate(tb, rel, raw)
}

func parseTemplate(tb testing.TB, rel string, raw []byte) map[string]any {
	tb.Helper()
	js, err := intrinsics.ProcessYAML(raw, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		tb.Fatalf("parse %s: %v", rel, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	m, ok := wholeNumbers(v).(map[string]any)
	if !ok {
		tb.Fatalf("%s: top level is %T, want a mapping", rel, v)
	}
	return m
}

// wholeNumbers turns JSON numbers into int where they are whole, float64
// otherwise.
func wholeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = wholeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = wholeNumbers(e)
		}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// get walks m along keys; ok is false when a key is missing or a value on
// the way is not a mapping.
func get(m any, keys ...string) (any, bool) {
	cur := m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func getMap(m any, keys ...string) map[string]any {
	v, _ := get(m, keys...)
	mm, _ := v.(map[string]any)
	return mm
}

func getString(m any, keys ...string) string {
	v, _ := get(m, keys...)
	s, _ := v.(string)
	return s
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

// TestReadTemplate: the reader keeps the intrinsics unresolved in their
// long form, whole numbers as int, and refuses what is not YAML.
func TestReadTemplate(t *testing.T) {
	src := "a: !Ref X\nb: !GetAtt B.Arn\nc: !Sub \"${X}/*\"\nd: !If [C, !Ref Y, !Ref AWS::NoValue]\ne: !Split [\",\", !Ref O]\nf: 900\ng: 1.5\nh: plain\n"
	m := parseTemplate(t, "t.yaml", []byte(src))
	got, _ := json.Marshal(m)
	want := `{"a":{"Ref":"X"},"b":{"Fn::GetAtt":"B.Arn"},"c":{"Fn::Sub":"${X}/*"},"d":{"Fn::If":["C",{"Ref":"Y"},{"Ref":"AWS::NoValue"}]},"e":{"Fn::Split":[",",{"Ref":"O"}]},"f":900,"g":1.5,"h":"plain"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if v := m["f"]; v != 900 {
		t.Errorf("900 read as %T %v, want int", v, v)
	}
	if _, err := intrinsics.ProcessYAML([]byte("a: 1\na: 2\n"), &intrinsics.ProcessorOptions{NoProcess: true}); err == nil {
		t.Error("duplicate key: got no error")
	}
}
