// Package lambdagw is a test-only stand-in for API Gateway (HTTP API,
// payload format 2.0) in front of the real Lambda functions: an
// http.Handler that finds the route of a request in httpapi.Routes, turns
// the request into an events.APIGatewayV2HTTPRequest, invokes that route's
// function and writes its events.APIGatewayV2HTTPResponse back.
//
// New runs every function's real bootstrap (linux/amd64, built once per
// test binary with one go build) under the AWS Lambda Runtime Interface
// Emulator, one emulator per function, started on its first request.
//
// Where it differs from API Gateway on purpose:
//   - A request matching no route answers our JSON errors (404 NOT_FOUND, or
//     405 METHOD_NOT_ALLOWED with Allow when the path exists under other
//     methods), as the local server does. API Gateway answers 404
//     {"message":"Not Found"} to both.
//   - Limits are approximated: a request body over 10 MB answers 413, an
//     event or a function response over Lambda's 6 MB invocation payload
//     answers 413 / 500 {"message":...} as API Gateway does.
//   - One invocation at a time per function (one warm instance).
//
// As on API Gateway with CorsPreflight configured (infra/stacks/api.go),
// CORS preflights are answered here and the functions' own
// Access-Control-* response headers are replaced by the gateway's.
package lambdagw

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

	"github.com/hybrid-storage/hybrid-storage/shared/httpapi"
)

// Limits of API Gateway HTTP APIs and Lambda.
const (
	MaxRequestBody = 10 << 20 // API Gateway HTTP API payload
	MaxPayload     = 6291456  // Lambda synchronous invocation request and response
)

// Invoker calls one function with an event and returns its raw answer.
type Invoker func(ctx context.Context, function string, event []byte) ([]byte, error)

// Handler is the gateway over routes, invoking functions through invoke.
// corsOrigins are the API's CorsPreflight origins (none: no CORS handling).
func Handler(routes []httpapi.Route, corsOrigins []string, invoke Invoker) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.Handle(rt.Pattern(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			forward(w, r, rt, invoke, len(corsOrigins) > 0)
		}))
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
			writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method "+r.Method+" is not allowed here")
			return
		}
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such endpoint")
	})
	if len(corsOrigins) > 0 {
		// The same settings as the HTTP API's CorsPreflight in infra/stacks/api.go.
		h = cors.New(cors.Options{
			AllowedOrigins: corsOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodHead},
			AllowedHeaders: []string{"Authorization", "Content-Type", "Range"},
			ExposedHeaders: []string{"Content-Disposition", "Content-Length", "ETag", "Retry-After"},
			MaxAge:         3600,
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

func forward(w http.ResponseWriter, r *http.Request, rt httpapi.Route, invoke Invoker, gatewayCORS bool) {
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
	out, err := invoke(r.Context(), rt.Function, ev)
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
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(strings.TrimSuffix(seg[1:len(seg)-1], "..."), "$")
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

// errInvoke wraps what went wrong talking to the emulator.
var errInvoke = errors.New("lambdagw: invoke")

// invokeURL posts event to a Runtime Interface Emulator.
func invokeURL(ctx context.Context, hc *http.Client, url string, event []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errInvoke, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: read answer: %v", errInvoke, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: emulator answered %d: %s", errInvoke, resp.StatusCode, out)
	}
	if fe := resp.Header.Get("X-Amz-Function-Error"); fe != "" {
		return nil, fmt.Errorf("%w: function error %s: %s", errInvoke, fe, out)
	}
	return out, nil
}
