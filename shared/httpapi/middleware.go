package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rs/cors"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// timeouts bound what a client may take on the local server: read and
// write are the deadlines of an ordinary request; uploads and downloads
// move theirs forward while bytes flow and are cut off after idle without
// a byte moving (see idleDeadline). On Lambda, API Gateway bounds requests.
type timeouts struct{ read, write, idle time.Duration }

var defaultTimeouts = timeouts{read: 30 * time.Second, write: 60 * time.Second, idle: 30 * time.Second}

type reqInfoKey struct{}

// reqInfo is filled in along the chain and logged when the request ends.
type reqInfo struct {
	id     string
	userID int64
	// stored is the size of the file an upload stored, and path how
	// ("stream" or "presigned"), for the metrics.
	stored     int64
	storedPath string
}

func requestID(ctx context.Context) string {
	if ri, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		return ri.id
	}
	return ""
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// CORS is the API's CORS configuration for the SPA's origins, the one
// table of it: the local server's middleware, the HTTP API's CorsPreflight
// (infra/stacks, template.yaml) and make dev-aws's gateway all answer
// with it. The methods are those of the function table's routes, and HEAD.
func CORS(origins []string) storage.CORSRule {
	var methods []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if slices.ContainsFunc(Routes, func(r Route) bool { return r.Method == m }) {
			methods = append(methods, m)
		}
	}
	return storage.CORSRule{
		AllowedOrigins: slices.Clone(origins),
		AllowedMethods: append(methods, http.MethodHead),
		AllowedHeaders: []string{"Authorization", "Content-Type", "Range", "If-None-Match", "X-Request-Id"},
		ExposeHeaders:  []string{"Content-Disposition", "Content-Length", "Content-Range", "ETag", "Retry-After", "X-Request-Id"},
		MaxAgeSeconds:  3600,
	}
}

// middleware wraps h with, outermost first: request id and access log,
// panic recovery, security headers and deadlines, CORS.
func (a *API) middleware(h http.Handler) http.Handler {
	rule := CORS(a.Config.CORSOrigins)
	c := cors.New(cors.Options{
		AllowedOrigins:   rule.AllowedOrigins,
		AllowedMethods:   rule.AllowedMethods,
		AllowedHeaders:   rule.AllowedHeaders,
		ExposedHeaders:   rule.ExposeHeaders,
		AllowCredentials: false,
		MaxAge:           rule.MaxAgeSeconds,
	})
	h = c.Handler(h)
	h = a.secure(h)
	h = a.recoverer(h)
	return a.accessLog(h)
}

func (a *API) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{id: r.Header.Get("X-Request-Id")}
		if !validRequestID(ri.id) {
			ri.id = newRequestID()
		}
		w.Header().Set("X-Request-Id", ri.id)
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, ri))
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		if m := a.Metrics; m != nil {
			m.ObserveRequest(r.Pattern, r.Method, sw.status, time.Since(start))
			if ri.stored > 0 {
				m.AddUploaded(ri.storedPath, ri.stored)
			}
			if r.Pattern == downloadPattern && (sw.status == http.StatusOK || sw.status == http.StatusPartialContent) {
				m.AddDownloaded(sw.bytes)
			}
		}
		level := slogLevel(sw.status)
		a.Logger.Log(r.Context(), level, "request",
			"request_id", ri.id, "method", r.Method, "path", loggedPath(r), "route", r.Pattern,
			"status", sw.status, "bytes", sw.bytes, "duration_ms", time.Since(start).Milliseconds(),
			"user_id", ri.userID, "remote", r.RemoteAddr)
	})
}

func (a *API) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.Logger.ErrorContext(r.Context(), "panic", "value", fmt.Sprint(v), "stack", string(debug.Stack()),
					"request_id", requestID(r.Context()))
				a.writeError(w, r, core.Errorf(core.CodeInternal, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// secure sets headers every answer carries and the default deadlines.
// Every answer is Cache-Control: no-store unless its handler says
// otherwise (the OpenAPI document): most are a user's files or data. A
// read deadline bounds the request's body, so it is set only when there is
// one: net/http lifts it itself once the body has been read, but for a
// request without a body it already watches the connection, and a read
// deadline firing then would cancel the request's context (cutting a long
// download).
func (a *API) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		rc := http.NewResponseController(w)
		now := time.Now()
		_ = rc.SetWriteDeadline(now.Add(a.timeouts.write)) // not supported on Lambda: fine
		if r.Body != nil && r.Body != http.NoBody {
			_ = rc.SetReadDeadline(now.Add(a.timeouts.read)) // idem
		}
		next.ServeHTTP(w, r)
	})
}

// withUserLogged records the authenticated user of the request for the
// access log.
func withUserLogged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := auth.UserID(r.Context()); ok {
			setUser(r.Context(), id)
		}
		next.ServeHTTP(w, r)
	})
}

// setUser records the authenticated user for the access log.
// downloadPattern is the route whose answers are files' bytes.
const downloadPattern = "GET /api/files/{id}/download"

// setStored records, for the metrics, that the request stored an upload of
// n bytes by path ("stream" or "presigned").
func setStored(ctx context.Context, path string, n int64) {
	if ri, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		ri.stored, ri.storedPath = n, path
	}
}

func setUser(ctx context.Context, id int64) {
	if ri, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		ri.userID = id
	}
}

func slogLevel(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c == '_' || c == '.' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type sourceIPKey struct{}

// WithGatewaySourceIP returns ctx carrying API Gateway's
// requestContext.http.sourceIp, the client of a request on Lambda. The auth
// limit then counts that address, whatever the request's headers say.
func WithGatewaySourceIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, sourceIPKey{}, ip)
}

// clientAddr is the address the auth limit counts a request against. On
// Lambda it is API Gateway's requestContext.http.sourceIp (the TCP peer of
// the gateway; see WithGatewaySourceIP), never a header the client sent. Elsewhere it is the
// connection's peer, unless that peer is a trusted proxy (TRUSTED_PROXIES):
// then X-Forwarded-For is read from the right, skipping trusted proxies,
// and the first other address is the client. IPv6 clients are counted per
// /64, the block one subscriber gets.
func (a *API) clientAddr(r *http.Request) string {
	if ip, ok := r.Context().Value(sourceIPKey{}).(string); ok && ip != "" {
		return canonicalAddr(ip)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if a.trustedProxy(ip) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // not an address: trust nothing further left
			}
			ip = hop
			if !a.trustedProxy(hop) {
				break
			}
		}
	}
	return canonicalAddr(ip.String())
}

func (a *API) trustedProxy(ip netip.Addr) bool {
	for _, n := range a.Config.TrustedProxies {
		if n.Contains(net.IP(ip.Unmap().AsSlice())) {
			return true
		}
	}
	return false
}

// canonicalAddr writes an IPv4 address (also IPv4-mapped IPv6) as is and an
// IPv6 address as its /64.
func canonicalAddr(s string) string {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.WithZone("").Prefix(64)
	return p.String()
}

// jsonNotFound answers requests the mux has no route for: 405 with Allow
// when the path exists under other methods, 404 otherwise, both as JSON.
// A path with empty, "." or ".." segments is 400, where ServeMux would
// redirect to the clean path with an HTML page.
func jsonNotFound(mux *http.ServeMux, a *API) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != cleanPath(p) {
			a.writeError(w, r, core.Errorf(core.CodeBadRequest, "request path has empty, . or .. segments"))
			return
		}
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := mux.Handler(probe); p != "" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			sort.Strings(allowed)
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			a.writeError(w, r, core.Errorf(core.CodeMethodNotAllowed, "method %s is not allowed here", r.Method))
			return
		}
		a.writeError(w, r, core.Errorf(core.CodeNotFound, "no such endpoint"))
	})
}

// cleanPath is p as ServeMux cleans it: path.Clean, keeping a trailing
// slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}
