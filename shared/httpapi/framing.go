package httpapi

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// A request with both Content-Length and Transfer-Encoding is refused
// with 400 and its connection closed (RFC 9112 §6.1: a server may reject
// it and must close the connection after answering it; a proxy in front
// that framed the body by Content-Length would otherwise see the bytes
// after the chunked body served as a second request).
//
// net/http reads such a request as chunked and deletes Content-Length
// (and Transfer-Encoding) from the header before any handler runs
// (transfer.go, fixLength), so no handler can tell it from a plain
// chunked request; Go's own fix (go.dev/issue/80942) only closes the
// connection, and is not in this Go. So:
//
//   - every request with a body framed by Transfer-Encoding is answered
//     with Connection: close (refuseAmbiguousFraming), which meets the
//     MUST alone: nothing after a chunked body is ever read as a request;
//   - framingConn watches the request heads that pass on a connection (it
//     reads nothing itself, changes no byte and answers nothing) and
//     records whether the head of the chunked request had a
//     Content-Length too; the handler then answers 400.
//
// Since a connection ends with its first chunked request, the watcher
// only has to follow Content-Length framing to find the next head, never
// to decode chunks: a small state machine, not a second HTTP parser.

// framingListener hands out connections that watch their request heads.
type framingListener struct{ net.Listener }

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c}, nil
}

// headLimit bounds the head the watcher follows: past net/http's own
// limit the server refuses the request and closes the connection.
const headLimit = serverMaxHeaderBytes + 4096

// framingConn is a connection that watches the request heads read from
// it (see above).
type framingConn struct {
	net.Conn

	mu       sync.Mutex
	stopped  bool         // a chunked head was seen, or the stream is past following
	line     bytes.Buffer // the head line being read
	inHead   bool         // past the request line of a head
	headSize int
	http10   bool
	cl, te   bool  // the head has Content-Length, Transfer-Encoding
	length   int64 // its Content-Length
	skip     int64 // body bytes still to pass before the next head
	both     bool  // the chunked request had a Content-Length too
}

func (c *framingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		c.watch(b[:n])
		c.mu.Unlock()
	}
	return n, err
}

// CloseWrite and ReadFrom are the *net.TCPConn's: net/http half-closes a
// connection it refuses a request on (so that the client reads the answer
// rather than a reset) and sends files with sendfile through them.
func (c *framingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *framingConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// hadBothLengths reports whether the connection's chunked request also
// had a Content-Length.
func (c *framingConn) hadBothLengths() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.both
}

func (c *framingConn) watch(b []byte) {
	for len(b) > 0 && !c.stopped {
		if c.skip > 0 {
			n := min(int64(len(b)), c.skip)
			c.skip -= n
			b = b[n:]
			continue
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.line.Write(b)
			c.grow(len(b))
			return
		}
		c.line.Write(b[:i])
		c.grow(i + 1)
		b = b[i+1:]
		c.endLine(bytes.TrimSuffix(c.line.Bytes(), []byte("\r")))
		c.line.Reset()
	}
}

func (c *framingConn) grow(n int) {
	if c.headSize += n; c.headSize > headLimit {
		c.stopped = true
	}
}

// endLine takes one line of a head: the request line, a header line or the
// blank line that ends the head.
func (c *framingConn) endLine(line []byte) {
	if !c.inHead { // the request line
		c.inHead = true
		c.http10 = bytes.HasSuffix(line, []byte(" HTTP/1.0"))
		c.cl, c.te, c.length = false, false, 0
		return
	}
	if len(line) == 0 { // the end of the head
		c.inHead, c.headSize = false, 0
		switch {
		case c.te && !c.http10: // net/http frames it by Transfer-Encoding
			c.both, c.stopped = c.cl, true
		case c.cl:
			c.skip = c.length
		}
		return
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return // a folded line or a malformed one, which net/http refuses
	}
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64)
		if err != nil || n < 0 || (c.cl && n != c.length) {
			c.stopped = true // net/http refuses the request and closes the connection
			return
		}
		c.cl, c.length = true, n
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		c.te = true
	}
}

type framingConnKey struct{}

// withFramingConn puts the connection into the context of its requests
// (http.Server.ConnContext).
func withFramingConn(ctx context.Context, c net.Conn) context.Context {
	if fc, ok := c.(*framingConn); ok {
		return context.WithValue(ctx, framingConnKey{}, fc)
	}
	return ctx
}

// refuseAmbiguousFraming closes the connection after every request whose
// body is framed by Transfer-Encoding and answers 400 BAD_REQUEST to one
// that had a Content-Length too.
func refuseAmbiguousFraming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TransferEncoding) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		if fc, ok := r.Context().Value(framingConnKey{}).(*framingConn); ok && fc.hadBothLengths() {
			writeJSON(w, http.StatusBadRequest, errorBody{
				Detail:    "request has both Content-Length and Transfer-Encoding",
				ErrorCode: string(core.CodeBadRequest),
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}
