package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// rfc5987 percent-encodes every byte of s but letters, digits and ".-_",
// for a filename*=UTF-8” parameter.
func rfc5987(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte(".-_", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// uploadNamed uploads data as a file named name (sent in filename*=, so any
// UTF-8 arrives as it is) and returns the status and body.
func (c *client) uploadNamed(name string, data []byte) (int, []byte) {
	c.tb.Helper()
	body := "--abc\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''" + rfc5987(name) +
		"\r\nContent-Type: text/plain\r\n\r\n" + string(data) + "\r\n--abc--\r\n"
	resp, b := c.do("POST", "/api/files/upload", strings.NewReader(body), map[string]string{"Content-Type": "multipart/form-data; boundary=abc"})
	return resp.StatusCode, b
}

// uploadPresigned uploads data through the presigned multipart path (one
// part) and returns the status and body of the creation, or of the
// completion once the creation succeeded.
func (c *client) uploadPresigned(name string, data []byte) (int, []byte) {
	c.tb.Helper()
	resp, b := c.do("POST", "/api/files/uploads", jsonReader(map[string]any{"filename": name, "size": len(data)}), jsonHeader)
	if resp.StatusCode != 201 {
		return resp.StatusCode, b
	}
	var u uploadObj
	if err := json.Unmarshal(b, &u); err != nil {
		c.tb.Fatal(err)
	}
	etag := putPart(c.tb, u.Parts[0].URL, data)
	resp, b = c.do("POST", "/api/files/uploads/"+u.UploadID+"/complete", jsonReader(map[string]any{"parts": []partRef{{1, etag}}}), jsonHeader)
	return resp.StatusCode, b
}

// uploadPaths are the two ways a file gets in.
var uploadPaths = []struct {
	name string
	up   func(c *client, name string, data []byte) (int, []byte)
}{
	{"upload", (*client).uploadNamed},
	{"presigned", (*client).uploadPresigned},
}

// Names up to 255 bytes are taken whole as the original name; the stored
// name (the object key's last segment after "{uuid}-") is cut to fit 255
// bytes on a rune boundary, keeping the extension. Longer names are refused.
func TestLongFilenames(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	// A client per path: each path uploads the same names, which a second
	// time in one folder would be numbered.
	clients := map[string]*client{}
	for _, p := range uploadPaths {
		clients[p.name] = s.client(t).signup(p.name + "-long-names@example.com")
	}
	names := map[string]string{
		"200 ascii":          strings.Repeat("a", 196) + ".txt",
		"218 ascii":          strings.Repeat("b", 214) + ".txt",
		"219 ascii":          strings.Repeat("c", 215) + ".txt",
		"240 ascii":          strings.Repeat("d", 236) + ".txt",
		"255 ascii":          strings.Repeat("e", 251) + ".txt",
		"3-byte at the cut":  strings.Repeat("日", 83) + ".txt",      // 253 bytes; 214 = 71×3 + 1
		"4-byte at the cut":  "x" + strings.Repeat("😀", 62) + ".md", // 252 bytes
		"2-byte at the cut":  strings.Repeat("é", 125) + ".pdf",     // 254 bytes
		"space at the cut":   strings.Repeat("f", 213) + " " + strings.Repeat("g", 30) + ".txt",
		"long extension":     strings.Repeat("h", 200) + "." + strings.Repeat("x", 40),
		"no extension 255":   strings.Repeat("i", 255),
		"multi-byte 255 end": strings.Repeat("j", 252) + "é" + "k",
	}
	for _, p := range uploadPaths {
		c := clients[p.name]
		for label, name := range names {
			t.Run(p.name+" "+label, func(t *testing.T) {
				status, body := p.up(c, name, []byte("hello"))
				if status != 201 {
					t.Fatalf("%d-byte name: status %d, body %s", len(name), status, body)
				}
				var f fileObj
				if err := json.Unmarshal(body, &f); err != nil {
					t.Fatal(err)
				}
				if f.OriginalFilename != name {
					t.Errorf("original_filename %q, want the name sent (%d bytes)", f.OriginalFilename, len(name))
				}
				if len(f.Filename) > 218 || !utf8.ValidString(f.Filename) || f.Filename == "" {
					t.Errorf("filename %q: %d bytes, want 1..218 of valid UTF-8", f.Filename, len(f.Filename))
				}
				if ext := name[strings.LastIndexByte(name, '.')+1:]; len(ext) <= 15 && strings.Contains(name, ".") && !strings.HasSuffix(f.Filename, "."+ext) {
					t.Errorf("filename %q lost the extension .%s", f.Filename, ext)
				}
				seg := f.AccessURL[strings.LastIndexByte(f.AccessURL, '/')+1:]
				if seg = mustURL(t, "http://x/"+seg).Path[1:]; len(seg) > 255 {
					t.Errorf("key segment is %d bytes, want at most 255", len(seg))
				}
				resp, got := c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, nil)
				if resp.StatusCode != 200 || string(got) != "hello" {
					t.Errorf("download: status %d, body %q", resp.StatusCode, got)
				}
				if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''"+rfc5987(name)) {
					t.Errorf("Content-Disposition %q does not carry the original name", cd)
				}
			})
		}
		for _, n := range []int{256, 300} {
			t.Run(fmt.Sprintf("%s %d bytes", p.name, n), func(t *testing.T) {
				status, body := p.up(c, strings.Repeat("z", n-4)+".txt", []byte("hello"))
				if status != 400 || !strings.Contains(string(body), "INVALID_FILENAME") {
					t.Errorf("status %d, body %s; want 400 INVALID_FILENAME", status, body)
				}
			})
		}
	}
}

// Bidi controls, zero-width and the other invisible characters (Unicode
// categories Cf, Zl, Zp, Co, Cn) are stripped from both names, so neither
// the list nor Content-Disposition shows "invoice\u202egnp.exe" as
// "invoiceexe.png"; a name of nothing else is refused.
func TestInvisibleCharactersInFilenames(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	// A client per path (see TestLongFilenames).
	clients := map[string]*client{}
	for _, p := range uploadPaths {
		clients[p.name] = s.client(t).signup(p.name + "-bidi@example.com")
	}
	tests := []struct{ in, want string }{
		{"invoice\u202egnp.exe", "invoicegnp.exe"},
		{"\ufeffre\u200bport\u200c\u200d\u2060.pdf", "report.pdf"},
		{"a\u2066b\u2069\u200e\u200f\u061c\u202a\u202dc.txt", "abc.txt"},
		// Stripped by category (issue 21 item 9): tag characters and
		// interlinear annotation (Cf), line and paragraph separators (Zl,
		// Zp), private use (Co), unassigned code points (Cn).
		{"tag\U000E0041\U000E0042\U000E007F.txt", "tag.txt"},
		{"\ufff9note\ufffa\ufffbs.pdf", "notes.pdf"},
		{"line\u2028para\u2029.txt", "linepara.txt"},
		{"\ue000pua\U000F0000.bin", "pua.bin"},
		{"un\u0378set\uffff.txt", "unset.txt"},
	}
	for _, p := range uploadPaths {
		c := clients[p.name]
		for _, tc := range tests {
			t.Run(p.name+" "+tc.want, func(t *testing.T) {
				status, body := p.up(c, tc.in, []byte("hello"))
				if status != 201 {
					t.Fatalf("status %d, body %s", status, body)
				}
				var f fileObj
				if err := json.Unmarshal(body, &f); err != nil {
					t.Fatal(err)
				}
				if f.OriginalFilename != tc.want || f.Filename != tc.want {
					t.Errorf("filename %q, original_filename %q; want %q for both", f.Filename, f.OriginalFilename, tc.want)
				}
				resp, _ := c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, nil)
				want := `attachment; filename="` + tc.want + `"; filename*=UTF-8''` + tc.want
				if cd := resp.Header.Get("Content-Disposition"); cd != want {
					t.Errorf("Content-Disposition %q, want %q", cd, want)
				}
			})
		}
		t.Run(p.name+" a row stored before the stripping", func(t *testing.T) {
			status, body := p.up(c, "old.exe", []byte("hello"))
			if status != 201 {
				t.Fatalf("status %d, body %s", status, body)
			}
			var f fileObj
			if err := json.Unmarshal(body, &f); err != nil {
				t.Fatal(err)
			}
			if _, err := s.app.DB.Pool.Exec(t.Context(), `UPDATE files SET original_filename = $2 WHERE id = $1`, f.ID, "invoice\u202egnp.exe"); err != nil {
				t.Fatal(err)
			}
			var got fileObj
			c.json("GET", fmt.Sprintf("/api/files/%d", f.ID), nil, 200, &got)
			if got.OriginalFilename != "invoicegnp.exe" {
				t.Errorf("original_filename %q, want %q", got.OriginalFilename, "invoicegnp.exe")
			}
		})
		t.Run(p.name+" only invisible", func(t *testing.T) {
			status, body := p.up(c, "\u200b\u202e\ufeff", []byte("hello"))
			if status != 400 || !strings.Contains(string(body), "INVALID_FILENAME") {
				t.Errorf("status %d, body %s; want 400 INVALID_FILENAME", status, body)
			}
		})
	}
}

// tierGETs counts the GETs of objects that pass through a proxy in front
// of the hot tier, with their Range headers and the bytes they answered.
type tierGETs struct {
	mu     sync.Mutex
	ranges []string
	bytes  int64 // of the GETs' answers
}

// sent is how many body bytes the GETs' answers carried so far.
func (g *tierGETs) sent() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.bytes
}

// countingWriter adds what it writes to g.bytes.
type countingWriter struct {
	http.ResponseWriter
	g *tierGETs
}

func (w countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.g.mu.Lock()
	w.g.bytes += int64(n)
	w.g.mu.Unlock()
	return n, err
}

func (g *tierGETs) take() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.ranges
	g.ranges = nil
	return out
}

// newProxiedStack is a stack whose API reaches the hot tier through a
// proxy that records every object GET (presigned URLs still go straight).
func newProxiedStack(t *testing.T) (*stack, *tierGETs) {
	t.Helper()
	gets := &tierGETs{}
	var proxy *httputil.ReverseProxy
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// An object GET; listing a multipart upload's parts (?uploadId=) is not one.
		if r.Method == http.MethodGet && strings.Count(r.URL.Path, "/") >= 3 && !r.URL.Query().Has("uploadId") {
			gets.mu.Lock()
			gets.ranges = append(gets.ranges, r.Header.Get("Range"))
			gets.mu.Unlock()
			w = countingWriter{w, gets}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s := newStack(t, func(c *config.Config) {
		proxy = httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: c.Hot.Endpoint})
		c.Hot.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	})
	return s, gets
}

// Edge ranges answer as RFC 9110 says: unsatisfiable ones 416 with
// "Content-Range: bytes */size" in our JSON error, invalid ones are ignored;
// an empty file is served whole.
func TestDownloadEdgeRanges(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("ranges@example.com")
	data := randomBytes(t, 1024)
	f := c.mustUpload("kib.bin", data)
	empty := c.mustUpload("empty.bin", nil)
	tests := []struct {
		name, rng    string
		id           int64
		status       int
		contentRange string
		body         []byte
	}{
		{"suffix zero", "bytes=-0", f.ID, 416, "bytes */1024", nil},
		{"from zero", "bytes=0-", f.ID, 206, "bytes 0-1023/1024", data},
		{"last before first", "bytes=5-2", f.ID, 200, "", data},
		{"start at size", "bytes=1024-", f.ID, 416, "bytes */1024", nil},
		{"beyond size", "bytes=2000-3000", f.ID, 416, "bytes */1024", nil},
		{"end beyond size", "bytes=1000-5000", f.ID, 206, "bytes 1000-1023/1024", data[1000:]},
		{"suffix longer than file", "bytes=-5000", f.ID, 206, "bytes 0-1023/1024", data},
		{"suffix", "bytes=-10", f.ID, 206, "bytes 1014-1023/1024", data[1014:]},
		{"garbage", "bytes=x-y", f.ID, 200, "", data},
		{"other unit", "pages=1-2", f.ID, 200, "", data},
		{"unsatisfiable part dropped", "bytes=-0,10-19", f.ID, 206, "bytes 10-19/1024", data[10:20]},
		// As net/http does: some clients send a Range with every request.
		{"empty file", "bytes=0-", empty.ID, 200, "", []byte{}},
		{"empty file suffix", "bytes=-1", empty.ID, 200, "", []byte{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", tc.id), nil, map[string]string{"Range": tc.rng})
			if resp.StatusCode == 416 {
				wantError(t, resp, body, 416, "RANGE_NOT_SATISFIABLE")
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %.200s", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("Content-Range"); got != tc.contentRange {
				t.Errorf("Content-Range %q, want %q", got, tc.contentRange)
			}
			if tc.body != nil && !bytes.Equal(body, tc.body) {
				t.Errorf("body of %d bytes, want %d", len(body), len(tc.body))
			}
		})
	}
}

// A download asks the tier for each range it serves, bounded; merged
// ranges cost one GET, and more than 16 ranges get the whole file (one GET).
func TestDownloadRangesCostFewTierReads(t *testing.T) {
	t.Parallel()
	s, gets := newProxiedStack(t)
	c := s.client(t).signup("range-cost@example.com")
	data := randomBytes(t, 64<<10)
	f := c.mustUpload("ranges.bin", data)
	specs := func(n, step int) string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%d-%d", i*step, i*step)
		}
		return "bytes=" + strings.Join(out, ",")
	}
	tests := []struct {
		name, rng string
		status    int
		gets      []string
	}{
		{"one range", "bytes=100-199", 206, []string{"bytes=100-199"}},
		{"three ranges", "bytes=0-9,1000-1009,-10", 206, []string{"bytes=0-9", "bytes=1000-1009", "bytes=65526-65535"}},
		{"overlapping merged", "bytes=0-99,50-149,150-199", 206, []string{"bytes=0-199"}},
		{"3000 adjacent ranges", specs(3000, 1), 206, []string{"bytes=0-2999"}},
		{"3000 separate ranges", specs(3000, 2), 200, []string{"bytes=0-65535"}},
		{"17 ranges", specs(17, 100), 200, []string{"bytes=0-65535"}},
		{"16 ranges", specs(16, 100), 206, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gets.take()
			resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, map[string]string{"Range": tc.rng})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %.200s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 200 && !bytes.Equal(body, data) {
				t.Errorf("200 with %d bytes, want the whole file", len(body))
			}
			got := gets.take()
			if tc.gets == nil {
				if len(got) != 16 {
					t.Errorf("%d tier GETs, want 16", len(got))
				}
				return
			}
			sort.Strings(got)
			want := slices.Clone(tc.gets)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("tier GETs %q, want %q", got, want)
			}
		})
	}
	// The multi-range answer is right, not only cheap.
	resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, map[string]string{"Range": "bytes=1000-1009,0-9"})
	mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != 206 || mt != "multipart/byteranges" {
		t.Fatalf("status %d, type %q", resp.StatusCode, mt)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for _, want := range []struct {
		cr   string
		body []byte
	}{{"bytes 1000-1009/65536", data[1000:1010]}, {"bytes 0-9/65536", data[:10]}} {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if p.Header.Get("Content-Range") != want.cr || !bytes.Equal(b, want.body) {
			t.Errorf("part %q with %d bytes, want %q", p.Header.Get("Content-Range"), len(b), want.cr)
		}
	}
}

// Preconditions that do not hold answer 412 PRECONDITION_FAILED, in JSON.
func TestDownloadPreconditions(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("preconditions@example.com")
	data := randomBytes(t, 100)
	f := c.mustUpload("cond.bin", data)
	etag := `"` + f.Checksum + `"`
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"If-Match other", map[string]string{"If-Match": `"not-the-etag"`}, 412},
		{"If-Match same", map[string]string{"If-Match": etag}, 200},
		{"If-Match any", map[string]string{"If-Match": "*"}, 200},
		{"If-Match other with a range", map[string]string{"If-Match": `"x"`, "Range": "bytes=-0"}, 412},
		{"If-Unmodified-Since before the upload", map[string]string{"If-Unmodified-Since": past}, 412},
		{"If-Unmodified-Since after the upload", map[string]string{"If-Unmodified-Since": future}, 200},
		{"If-None-Match same", map[string]string{"If-None-Match": etag}, 304},
		{"If-None-Match list", map[string]string{"If-None-Match": `"x", ` + etag}, 304},
		{"If-Match list", map[string]string{"If-Match": `"x", ` + etag}, 200},
		{"If-Range other: whole file", map[string]string{"If-Range": `"x"`, "Range": "bytes=0-9"}, 200},
		{"If-Range same: the range", map[string]string{"If-Range": etag, "Range": "bytes=0-9"}, 206},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, tc.header)
			if tc.status == 412 {
				wantError(t, resp, body, 412, "PRECONDITION_FAILED")
				return
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %.200s", resp.StatusCode, tc.status, body)
			}
		})
	}
}

// A body of the wrong shape is a VALIDATION_ERROR whose detail says what
// is wrong, on every JSON endpoint: never " has the wrong type".
func TestJSONBodyShapes(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("shapes@example.com")
	u := c.createUpload("shape.bin", 10, "")
	complete := "/api/files/uploads/" + u.UploadID + "/complete"
	tests := []struct {
		name, path, body string
		detail, field    string
	}{
		{"login array", "/api/auth/login", `[]`, "request body must be a JSON object, not an array", ""},
		{"login number", "/api/auth/login", `42`, "request body must be a JSON object, not a number", ""},
		{"login string", "/api/auth/login", `"me@example.com"`, "request body must be a JSON object, not a string", ""},
		{"login null", "/api/auth/login", `null`, "request body must be a JSON object, not null", ""},
		{"login true", "/api/auth/login", ` true`, "request body must be a JSON object, not true or false", ""},
		{"login bad JSON after an array", "/api/auth/login", `[1,`, "request body is not valid JSON", ""},
		{"login email number", "/api/auth/login", `{"email":5,"password":"x"}`, "email must be a string, not a number", "email"},
		{"signup password object", "/api/auth/signup", `{"email":"a@example.com","password":{}}`, "password must be a string, not an object", "password"},
		{"signup array", "/api/auth/signup", `[{"email":"a@example.com"}]`, "request body must be a JSON object, not an array", ""},
		{"create size string", "/api/files/uploads", `{"filename":"a.bin","size":"9"}`, "size must be an integer, not a string", "size"},
		{"create size fraction", "/api/files/uploads", `{"filename":"a.bin","size":1.5}`, "size must be an integer, not number 1.5", "size"},
		{"create filename array", "/api/files/uploads", `{"filename":["a"],"size":9}`, "filename must be a string, not an array", "filename"},
		{"create null", "/api/files/uploads", `null`, "request body must be a JSON object, not null", ""},
		{"complete parts object", complete, `{"parts":{}}`, "parts must be an array, not an object", "parts"},
		{"complete nested part number", complete, `{"parts":[{"part_number":"1","etag":"x"}]}`, "parts.part_number must be an integer, not a string", "parts.part_number"},
		{"complete nested etag", complete, `{"parts":[{"part_number":1,"etag":7}]}`, "parts.etag must be a string, not a number", "parts.etag"},
		{"complete string", complete, `"parts"`, "request body must be a JSON object, not a string", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := c.do("POST", tc.path, strings.NewReader(tc.body), jsonHeader)
			wantError(t, resp, body, 400, "VALIDATION_ERROR")
			var e struct{ Detail, Field string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			if e.Detail != tc.detail || e.Field != tc.field {
				t.Errorf("detail %q, field %q; want %q, %q", e.Detail, e.Field, tc.detail, tc.field)
			}
		})
	}
}
