package httpapi

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// MaxHeaderBytes bounds a request's line and headers on the local server;
// a larger request is answered 431 HEADERS_TOO_LARGE in the JSON error
// format. net/http's own limit (serverMaxHeaderBytes) sits above it, so
// that only requests past that one get net/http's plain-text 431.
const MaxHeaderBytes = 64 << 10

// serverMaxHeaderBytes is net/http's limit: its default, 1 MiB.
const serverMaxHeaderBytes = http.DefaultMaxHeaderBytes

// Server is the local server's http.Server; its Serve watches the request
// heads of each connection (framing.go).
type Server struct{ *http.Server }

// NewServer returns the local server for h: a client has 10 s to send its
// headers, idle connections close after 2 minutes, headers over
// MaxHeaderBytes are refused in JSON, and a request with both
// Content-Length and Transfer-Encoding is refused with 400 and its
// connection closed (framing.go). net/http itself still answers in plain
// text what it refuses before any handler runs (see the README).
func NewServer(h http.Handler, logger *slog.Logger) *Server {
	return &Server{&http.Server{
		Handler:           limitHeaders(refuseAmbiguousFraming(h)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    serverMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ConnContext:       withFramingConn,
	}}
}

// Serve serves the connections of ln, each watched for its request heads.
func (s *Server) Serve(ln net.Listener) error {
	return s.Server.Serve(framingListener{ln})
}

// limitHeaders answers 431 when the request line and headers take more
// than MaxHeaderBytes, counted as on the wire.
func limitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4 + len("Host: \r\n") + len(r.Host)
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > MaxHeaderBytes {
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusRequestHeaderFieldsTooLarge, errorBody{
				Detail:    "request headers are larger than the limit of 64 KiB",
				ErrorCode: string(core.CodeHeadersTooLarge),
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}
