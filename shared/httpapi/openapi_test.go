package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"gopkg.in/yaml.v3"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// openAPIDoc is the parts of the document the tests read themselves.
type openAPIDoc struct {
	CommonCodes []string                               `yaml:"x-common-error-codes"`
	Paths       map[string]map[string]yaml.Node        `yaml:"paths"`
	ops         map[string]map[string]openAPIOperation // path → method → operation
}

type openAPIOperation struct {
	OperationID string                `yaml:"operationId"`
	Security    []map[string][]string `yaml:"security"`
	ErrorCodes  []string              `yaml:"x-error-codes"`
}

var loadDoc = sync.OnceValues(func() (openAPIDoc, error) {
	var d openAPIDoc
	if err := yaml.Unmarshal(httpapi.OpenAPIYAML(), &d); err != nil {
		return d, err
	}
	d.ops = map[string]map[string]openAPIOperation{}
	for p, item := range d.Paths {
		d.ops[p] = map[string]openAPIOperation{}
		for m, n := range item {
			if m == "parameters" {
				continue
			}
			var op openAPIOperation
			if err := n.Decode(&op); err != nil {
				return d, err
			}
			d.ops[p][m] = op
		}
	}
	return d, nil
})

var loadValidator = sync.OnceValues(func() (validator.Validator, error) {
	b, err := httpapi.OpenAPIJSON()
	if err != nil {
		return nil, err
	}
	doc, err := libopenapi.NewDocument(b)
	if err != nil {
		return nil, err
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return v, nil
})

// TestOpenAPIDocument: the document is valid OpenAPI 3.1, and its paths are
// exactly the route table: each route documented once (operationId = its
// function), nothing documented that is not mounted, and the security of
// each operation is the route's (bearer for Auth routes, the operator token
// for the sync trigger, none for the public ones).
func TestOpenAPIDocument(t *testing.T) {
	v, err := loadValidator()
	if err != nil {
		t.Fatal(err)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("document: %s: %s", e.Message, e.Reason)
		}
	}
	d, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]openAPIOperation{}
	for p, ops := range d.ops {
		for m, op := range ops {
			documented[strings.ToUpper(m)+" "+p] = op
		}
	}
	for _, rt := range httpapi.Routes {
		op, ok := documented[rt.Pattern()]
		if !ok {
			t.Errorf("route %s (%s) is not in openapi.yaml", rt.Pattern(), rt.Function)
			continue
		}
		delete(documented, rt.Pattern())
		if op.OperationID != rt.Function {
			t.Errorf("%s: operationId %q, want the function %q", rt.Pattern(), op.OperationID, rt.Function)
		}
		var want []map[string][]string
		switch {
		case rt.Auth:
			want = []map[string][]string{{"bearer": {}}}
		case rt.Function == "sync":
			want = []map[string][]string{{"operator": {}}}
		case rt.Function == "refresh":
			want = []map[string][]string{{"refreshCookie": {}}}
		default:
			want = []map[string][]string{}
		}
		if op.Security == nil || !equalSecurity(op.Security, want) {
			t.Errorf("%s: security %v, want %v", rt.Pattern(), op.Security, want)
		}
	}
	for p := range documented {
		t.Errorf("%s is documented but not in the route table", p)
	}
}

func equalSecurity(a, b []map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for k := range a[i] {
			if _, ok := b[i][k]; !ok {
				return false
			}
		}
	}
	return true
}

func TestOpenAPIServed(t *testing.T) {
	s := newStack(t, nil)
	resp, body := s.client(t).do("GET", "/api/openapi.json", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.OpenAPI != "3.1.0" || len(doc.Paths) == 0 {
		t.Fatalf("document: openapi %q, %d paths, err %v", doc.OpenAPI, len(doc.Paths), err)
	}
}

// checkOpenAPI wraps the stack's handler: every response to a documented
// route is validated against the document (status, headers, JSON body), and
// an error's error_code must be one the operation lists (or a common one).
func checkOpenAPI(tb testing.TB, h http.Handler) http.Handler {
	v, err := loadValidator()
	if err != nil {
		tb.Fatal(err)
	}
	d, err := loadDoc()
	if err != nil {
		tb.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		rt, ok := matchRoute(r.Method, r.URL.Path)
		if !ok {
			return // not a route: the API's 404/405
		}
		body := rec.body.Bytes()
		ct := rec.Header().Get("Content-Type")
		if rec.truncated || !strings.HasPrefix(ct, "application/json") {
			body = nil // the bytes of a file: nothing to check but status and headers
		}
		resp := &http.Response{StatusCode: rec.status, Header: rec.Header().Clone(), Body: io.NopCloser(bytes.NewReader(body)), Request: r}
		if body == nil {
			resp.Header.Del("Content-Type")
		}
		req := r.Clone(r.Context())
		req.Body = http.NoBody
		if ok, errs := v.ValidateHttpResponse(req, resp); !ok {
			for _, e := range errs {
				tb.Errorf("openapi: %s %s → %d: %s (%s) body %.300s", r.Method, r.URL.Path, rec.status, e.Message, e.Reason, rec.body.Bytes())
			}
		}
		if rec.status >= 400 && body != nil {
			var e struct {
				Code string `json:"error_code"`
			}
			if json.Unmarshal(body, &e) == nil && e.Code != "" {
				op := d.ops[rt.Path][strings.ToLower(rt.Method)]
				if !slices.Contains(op.ErrorCodes, e.Code) && !slices.Contains(d.CommonCodes, e.Code) {
					tb.Errorf("openapi: %s %s answered error_code %s (%d), not listed in x-error-codes of %s", r.Method, r.URL.Path, e.Code, rec.status, op.OperationID)
				}
			}
		}
	})
}

// matchRoute finds the route of the table a request is for, as API Gateway
// does: segment by segment, a static segment beating a {name}.
func matchRoute(method, path string) (httpapi.Route, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best httpapi.Route
	bestScore := -1
	for _, rt := range httpapi.Routes {
		if rt.Method != method {
			continue
		}
		rs := strings.Split(strings.Trim(rt.Path, "/"), "/")
		if len(rs) != len(segs) {
			continue
		}
		score := 0
		for i, s := range rs {
			if strings.HasPrefix(s, "{") {
				continue
			}
			if s != segs[i] {
				score = -1
				break
			}
			score += 1 << (len(rs) - i)
		}
		if score > bestScore {
			best, bestScore = rt, score
		}
	}
	return best, bestScore >= 0
}

// recorder passes the response through and keeps its status and the first
// MiB of its body.
type recorder struct {
	http.ResponseWriter
	status    int
	wrote     bool
	body      bytes.Buffer
	truncated bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	if room := 1<<20 - r.body.Len(); room > 0 {
		r.body.Write(p[:min(len(p), room)])
	}
	if len(p) > 0 && r.body.Len() >= 1<<20 {
		r.truncated = true
	}
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// TestOpenAPIListSorts: the sorts and orders list-files documents are
// core's, and so are the default sort and each sort's default order.
func TestOpenAPIListSorts(t *testing.T) {
	d, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	var op struct {
		Parameters []struct {
			Name   string `yaml:"name"`
			Schema struct {
				Enum    []string `yaml:"enum"`
				Default string   `yaml:"default"`
			} `yaml:"schema"`
			Description string `yaml:"description"`
		} `yaml:"parameters"`
	}
	get := d.Paths["/api/files"]["get"]
	if err := get.Decode(&op); err != nil {
		t.Fatal(err)
	}
	params := map[string][]string{}
	var sortDefault, orderDoc string
	for _, p := range op.Parameters {
		params[p.Name] = p.Schema.Enum
		switch p.Name {
		case "sort":
			sortDefault = p.Schema.Default
		case "order":
			orderDoc = p.Description
		}
	}
	var sorts, orders, defaults []string
	for _, s := range core.FileSorts {
		sorts = append(sorts, string(s))
	}
	for _, o := range core.SortOrders {
		orders = append(orders, string(o))
		var with []string
		for _, s := range core.FileSorts {
			if s.DefaultOrder() == o {
				with = append(with, string(s))
			}
		}
		if len(with) > 0 {
			defaults = append(defaults, string(o)+" for "+strings.Join(with, " and "))
		}
	}
	if want := "default: " + strings.Join(defaults, ", "); orderDoc != want {
		t.Errorf("order's description %q, want %q", orderDoc, want)
	}
	if !slices.Equal(params["sort"], sorts) {
		t.Errorf("sort enum %v, want %v", params["sort"], sorts)
	}
	if !slices.Equal(params["order"], orders) {
		t.Errorf("order enum %v, want %v", params["order"], orders)
	}
	if sortDefault != string(core.DefaultFileSort) {
		t.Errorf("sort default %q, want %q", sortDefault, core.DefaultFileSort)
	}
}
