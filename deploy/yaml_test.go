package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the repository root (the parent of this package).
const repoRoot = ".."

// readYAML decodes a YAML file into plain values (map[string]any, []any,
// string, int, bool...). CloudFormation short-form tags become their long
// form ("!Ref X" → {"Ref": "X"}, "!Sub s" → {"Fn::Sub": "s"}, "!GetAtt A.B"
// → {"Fn::GetAtt": ["A", "B"]}); Compose's "!reset" and "!override" tags
// become {"!reset": value} so tests can see them.
func readYAML(tb testing.TB, rel string) map[string]any {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		tb.Fatalf("read %s: %v", rel, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		tb.Fatalf("parse %s: %v", rel, err)
	}
	v, err := plain(&doc)
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		tb.Fatalf("%s: top level is %T, want a mapping", rel, v)
	}
	return m
}

func plain(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return plain(n.Content[0])
	case yaml.AliasNode:
		return plain(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // merge key
				merged, err := plain(val)
				if err != nil {
					return nil, err
				}
				if mm, ok := merged.(map[string]any); ok {
					for mk, mv := range mm {
						if _, set := m[mk]; !set {
							m[mk] = mv
						}
					}
				}
				continue
			}
			pv, err := plain(val)
			if err != nil {
				return nil, err
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			m[k.Value] = pv
		}
		v = m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			pv, err := plain(c)
			if err != nil {
				return nil, err
			}
			s = append(s, pv)
		}
		v = s
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!!") || n.Tag == "" {
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
		} else {
			v = n.Value
		}
	}
	switch tag := n.Tag; {
	case tag == "" || strings.HasPrefix(tag, "!!"):
		return v, nil
	case tag == "!Ref" || tag == "!Condition":
		return map[string]any{strings.TrimPrefix(tag, "!"): v}, nil
	case tag == "!GetAtt":
		if s, ok := v.(string); ok {
			res, attr, _ := strings.Cut(s, ".")
			return map[string]any{"Fn::GetAtt": []any{res, attr}}, nil
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	case tag == "!reset" || tag == "!override":
		return map[string]any{tag: v}, nil
	default:
		return map[string]any{"Fn::" + strings.TrimPrefix(tag, "!"): v}, nil
	}
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

func TestPlainTags(t *testing.T) {
	var doc yaml.Node
	src := "a: !Ref X\nb: !GetAtt B.Arn\nc: !Sub \"${X}/*\"\nd: !If [C, !Ref Y, !Ref AWS::NoValue]\ne: !reset []\nf: plain\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	v, err := plain(&doc)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(v)
	want := "map[a:map[Ref:X] b:map[Fn::GetAtt:[B Arn]] c:map[Fn::Sub:${X}/*] d:map[Fn::If:[C map[Ref:Y] map[Ref:AWS::NoValue]]] e:map[!reset:[]] f:plain]"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if err := yaml.Unmarshal([]byte("a: 1\na: 2\n"), &doc); err == nil {
		if _, err := plain(&doc); err == nil {
			t.Error("duplicate key: got no error")
		}
	}
}
