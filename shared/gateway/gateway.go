// Package gateway is a local stand-in for API Gateway (HTTP API, payload
// format 2.0) in front of the real Lambda functions: an http.Handler that
// finds the route of a request in httpapi.Routes, turns the request into an
// events.APIGatewayV2HTTPRequest, invokes that route's function and writes
// its events.APIGatewayV2HTTPResponse back. `make dev-aws` (local/devaws)
// and the Lambda-mode tests (shared/testenv/lambdagw) use it.
//
// Pool runs every function's real bootstrap under the AWS Lambda Runtime
// Interface Emulator, one emulator process per instance, started on demand.
//
// What it does as API Gateway and Lambda do (settings from shared/hosted):
//   - CORS: preflights are answered with the HTTP API's configuration
//     (httpapi.CORS) and the functions' own Access-Control-* response
//     headers are replaced by the gateway's.
//   - Limits: a request body over 10 MB answers 413; an event or a function
//     response over Lambda's 6 MB invocation payload answers 413 / 500
//     {"message":...}.
//   - The 30 s integration timeout: a function that has not answered by
//     then gets 503 {"message":"Service Unavailable"}.
//   - Reserved concurrency: a function with reserved concurrency N runs at
//     most N invocations at once; one more is throttled, which API Gateway
//     reports as 500 {"message":"Internal Server Error"}.
//
// Where it differs on purpose: a request matching no route answers our
// JSON errors (404 NOT_FOUND, or 405 METHOD_NOT_ALLOWED with Allow when the
// path exists under other methods), as the local server does; API Gateway
// answers 404 {"message":"Not Found"} to both. Functions without reserved
// concurrency queue beyond Pool.MaxInstances instead of scaling further.
package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/rs/cors"

	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// Limits of API Gateway HTTP APIs and Lambda.
const (
	MaxRequestBody = hosted.MaxRequestBody // API Gateway HTTP API payload
	MaxPayload     = hosted.MaxPayload     // Lambda synchronous invocation request and response
)

// Invoker calls one function with an event and returns its raw answer.
type Invoker func(ctx context.Context, function string, event []byte) ([]byte, error)

// ErrThrottled is what an Invoker returns when the function is at its
// reserved concurrency.
var ErrThrottled = errors.New("gateway: function throttled (reserved concurrency reached)")

// Options are the gateway's API Gateway settings.
type Options struct {
	// CORSOrigins are the API's CorsPreflight origins (none: no CORS
	// handling); the rest of the CORS settings are httpapi.CORS.
	CORSOrigins []string
	// Timeout is the integration timeout; zero: hosted.IntegrationTimeout.
	Timeout time.Duration
}

// Handler is the gateway over routes, invoking functions through invoke.
func Handler(routes []httpapi.Route, opts Options, invoke Invoker) http.Handler {
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = hosted.IntegrationTimeout
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, params, allowed := matchRoute(routes, r.Method, r.URL.Path)
		if rt != nil {
			for k, v := range params {
				r.SetPathValue(k, v)
			}
			forward(w, r, *rt, invoke, len(opts.CORSOrigins) > 0, timeout)
			return
		}
		if len(allowed) > 0 {
			sort.Strings(allowed)
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method "+r.Method+" is not allowed here")
			return
		}
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such endpoint")
	})
	if len(opts.CORSOrigins) > 0 {
		c := httpapi.CORS(opts.CORSOrigins) // the HTTP API's CorsPreflight (infra/stacks/api.go)
		h = cors.New(cors.Options{
			AllowedOrigins: c.AllowedOrigins,
			AllowedMethods: c.AllowedMethods,
			AllowedHeaders: c.AllowedHeaders,
			ExposedHeaders: c.ExposeHeaders,
			MaxAge:         c.MaxAgeSeconds,
		}).Handler(h)
	}
	return h
}

// writeError writes the API's own JSON error format.
func writeError(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"detail": detail, "error_code": code})
}

// writeGatewayError writes API Gateway's own error format.
func writeGatewayError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": message})
}

func forward(w http.ResponseWriter, r *http.Request, rt httpapi.Route, invoke Invoker, gatewayCORS bool, timeout time.Duration) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
	if err != nil {
		return // the client went away before the request was whole: nothing is invoked
	}
	if len(body) > MaxRequestBody {
		writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev, err := json.Marshal(Event(r, rt, body))
	if err != nil {
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if len(ev) > MaxPayload {
		writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	// A client that hangs up does not stop the invocation: API Gateway lets
	// the function run to its end (or to the integration timeout).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), timeout)
	defer cancel()
	out, err := invoke(ctx, rt.Function, ev)
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		w.Header().Set("X-Lambdagw-Error", fmt.Sprintf("%s did not answer within %s", rt.Function, timeout))
		writeGatewayError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if err != nil || len(out) > MaxPayload {
		if err == nil {
			err = fmt.Errorf("response of %d bytes is over the %d-byte payload limit", len(out), MaxPayload)
		}
		w.Header().Set("X-Lambdagw-Error", err.Error())
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		// A function error ({"errorMessage","errorType"}) or a malformed answer.
		w.Header().Set("X-Lambdagw-Error", strings.ToValidUTF8(string(out[:min(len(out), 200)]), "?"))
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if respBody, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
	}
	h := w.Header()
	keep := func(k string) bool {
		return !(gatewayCORS && strings.HasPrefix(strings.ToLower(k), "access-control-"))
	}
	for k, v := range resp.Headers {
		if keep(k) {
			h.Set(k, v)
		}
	}
	for k, vs := range resp.MultiValueHeaders {
		if keep(k) {
			h.Del(k)
			for _, v := range vs {
				h.Add(k, v)
			}
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if r.Method != http.MethodHead && resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusNotModified {
		h.Set("Content-Length", strconv.Itoa(len(respBody)))
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(respBody)
}

// Event is the HTTP API payload 2.0 event API Gateway sends for r on rt.
func Event(r *http.Request, rt httpapi.Route, body []byte) events.APIGatewayV2HTTPRequest {
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		k = strings.ToLower(k)
		if k == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[k] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	headers["x-forwarded-proto"] = "http"
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = map[string]string{}
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	var params map[string]string
	for _, seg := range strings.Split(rt.Path, "/") {
		if name, ok := pathVar(seg); ok {
			if params == nil {
				params = map[string]string{}
			}
			params[name] = r.PathValue(name)
		}
	}
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.Pattern(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.Pattern(),
			AccountID:    "123456789012",
			Stage:        "$default",
			RequestID:    requestID(),
			APIID:        "lambdagw",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isText reports whether API Gateway would pass a body of this type as text.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"), mt == "application/x-www-form-urlencoded",
		mt == "application/javascript":
		return true
	}
	return false
}

func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// invokeURL posts event to a Runtime Interface Emulator.
func invokeURL(ctx context.Context, hc *http.Client, url string, event []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gateway: invoke: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("gateway: invoke: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("gateway: invoke: emulator answered %d: %s", resp.StatusCode, out)
	}
	if fe := resp.Header.Get("X-Amz-Function-Error"); fe != "" {
		return nil, fmt.Errorf("gateway: invoke: function error %s: %s", fe, out)
	}
	return out, nil
}

// matchRoute picks the route API Gateway would: among the routes whose path
// matches segment by segment ({name} matches any one segment), the most
// specific, a static segment beating a variable from the left. Unlike
// ServeMux it accepts GET /api/files/{id}/download beside GET
// /api/files/uploads/{upload_id}. With no route for the method, allowed
// lists the methods that have one.
func matchRoute(routes []httpapi.Route, method, path string) (best *httpapi.Route, params map[string]string, allowed []string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var bestKey string
	for i := range routes {
		rt := &routes[i]
		pat := strings.Split(strings.Trim(rt.Path, "/"), "/")
		if len(pat) != len(segs) {
			continue
		}
		key := make([]byte, len(pat)) // '1' static, '0' variable: larger is more specific
		p := map[string]string{}
		matched := true
		for j, ps := range pat {
			if name, ok := pathVar(ps); ok {
				key[j] = '0'
				p[name] = segs[j]
				continue
			}
			key[j] = '1'
			if ps != segs[j] {
				matched = false
				break
			}
		}
		if !matched {
			continue
		}
		if rt.Method != method {
			allowed = append(allowed, rt.Method)
			continue
		}
		if best == nil || string(key) > bestKey {
			best, bestKey, params = rt, string(key), p
		}
	}
	if best != nil {
		allowed = nil
	}
	return best, params, allowed
}

// pathVar is the name of a route path segment {name}; ok is false for a
// static segment.
func pathVar(seg string) (name string, ok bool) {
	if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}
