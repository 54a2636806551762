package httpapi

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"net/textproto"
	"path/filepath"
)

// formReader reads a multipart/form-data body (RFC 7578) straight from the
// upload's large buffered reader. mime/multipart reads its source 4 KiB at
// a time into a buffer of its own and copies each piece out again; for a
// file of a gigabyte those copies and calls were about a tenth of the
// server's CPU (bench/README.md). Here a part's bytes are copied once, out
// of the reader's buffer, in pieces as large as the caller asks for.
type formReader struct {
	br      *bufio.Reader
	dash    []byte    // "--" boundary
	nlDash  []byte    // "\r\n--" boundary
	part    *formPart // the current part, until its body is read to the end
	started bool      // the first delimiter was read
	done    bool      // the closing delimiter was read
	parts   int
}

// errMalformed: the body is not a multipart body with this boundary.
var errMalformed = errors.New("malformed multipart body")

const (
	maxPartHeader = 16 << 10 // bytes of one part's headers
	maxFormParts  = 100      // parts before the file
)

func newFormReader(br *bufio.Reader, boundary string) *formReader {
	return &formReader{br: br, dash: []byte("--" + boundary), nlDash: []byte("\r\n--" + boundary)}
}

// formPart is one part: its headers and a reader of its body.
type formPart struct {
	Header     textproto.MIMEHeader
	fr         *formReader
	name, file string
	safe       int  // bytes in the buffer known to be the body's
	end        bool // the delimiter follows the safe bytes
	eof        bool
}

// FormName is the part's form field name, "" unless its disposition is
// form-data.
func (p *formPart) FormName() string { return p.name }

// FileName is the base name of the part's filename, as mime/multipart's.
func (p *formPart) FileName() string { return p.file }

// NextPart returns the next part, or io.EOF after the last one.
func (r *formReader) NextPart() (*formPart, error) {
	if r.done {
		return nil, io.EOF
	}
	switch {
	case r.part != nil:
		if _, err := io.Copy(io.Discard, r.part); err != nil {
			return nil, err
		}
	case !r.started:
		if err := r.skipPreamble(); err != nil {
			return nil, err
		}
		r.started = true
	}
	if r.done {
		return nil, io.EOF
	}
	if r.parts++; r.parts > maxFormParts {
		return nil, errMalformed
	}
	h, err := r.readHeader()
	if err != nil {
		return nil, err
	}
	p := &formPart{Header: h, fr: r}
	if d, params, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && d == "form-data" {
		p.name = params["name"]
		if f := params["filename"]; f != "" {
			p.file = filepath.Base(f)
		}
	}
	r.part = p
	return p, nil
}

// skipPreamble reads up to and through the first delimiter line.
func (r *formReader) skipPreamble() error {
	for range 64 { // preamble lines; browsers send none
		line, err := r.br.ReadSlice('\n')
		if rest, ok := bytes.CutPrefix(line, r.dash); ok && (err == nil || bytes.HasPrefix(rest, []byte("--"))) {
			return r.afterDelimiter(rest)
		}
		if errors.Is(err, io.EOF) {
			r.done = true // no delimiter at all: a form without parts, as mime/multipart reads it
			return nil
		}
		if err != nil {
			return err
		}
	}
	return errMalformed
}

// afterDelimiter checks what follows a delimiter on its line: "--" for the
// closing one, then optional white space and CRLF.
func (r *formReader) afterDelimiter(rest []byte) error {
	if bytes.HasPrefix(rest, []byte("--")) {
		r.done = true
		return nil
	}
	if string(bytes.TrimLeft(rest, " \t")) != "\r\n" {
		return errMalformed
	}
	return nil
}

// readHeader reads a part's header block, at most maxPartHeader bytes.
func (r *formReader) readHeader() (textproto.MIMEHeader, error) {
	var block []byte
	for {
		peek, err := r.br.Peek(min(maxPartHeader, r.br.Size()))
		if i := bytes.Index(peek, []byte("\r\n\r\n")); i >= 0 {
			block = peek[:i+4]
			break
		}
		if bytes.HasPrefix(peek, []byte("\r\n")) { // no headers at all
			block = peek[:2]
			break
		}
		if err != nil {
			return nil, bodyErr(err)
		}
		return nil, errMalformed // headers longer than maxPartHeader
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(block))).ReadMIMEHeader()
	if err != nil {
		return nil, errMalformed
	}
	if _, err := r.br.Discard(len(block)); err != nil {
		return nil, bodyErr(err)
	}
	return h, nil
}

// Read reads the part's body; io.EOF at its delimiter, io.ErrUnexpectedEOF
// when the body ends before it.
func (p *formPart) Read(d []byte) (int, error) {
	if p.eof {
		return 0, io.EOF
	}
	for p.safe == 0 {
		if p.end {
			return 0, p.finish()
		}
		if err := p.scan(); err != nil {
			return 0, err
		}
	}
	n, _ := p.fr.br.Read(d[:min(len(d), p.safe)]) // buffered: no error
	p.safe -= n
	return n, nil
}

// scan finds how much of the buffered bytes is body: up to the delimiter,
// or all but a tail that could be the start of one (the delimiter has one
// CR, its first byte, as boundaries have none).
func (p *formPart) scan() error {
	br, nl := p.fr.br, p.fr.nlDash
	if br.Buffered() == 0 {
		if _, err := br.Peek(1); err != nil {
			return bodyErr(err) // the body ended before the delimiter
		}
	}
	peek, _ := br.Peek(br.Buffered())
	for off := 0; ; {
		i := bytes.Index(peek[off:], nl)
		if i < 0 {
			break
		}
		i += off
		after := peek[i+len(nl):]
		switch {
		case len(after) == 0 && i > 0:
			p.safe = i // the data before it first
			return nil
		case len(after) == 0:
			return p.more(len(peek)) // the byte after it tells
		case after[0] == '-' || after[0] == ' ' || after[0] == '\t' || after[0] == '\r':
			p.safe, p.end = i, true
			return nil
		}
		off = i + 1 // "--boundaryX": data that only starts like the delimiter
	}
	keep := 0
	if j := bytes.LastIndexByte(peek, '\r'); j >= 0 && len(peek)-j < len(nl) && bytes.HasPrefix(nl, peek[j:]) {
		keep = len(peek) - j
	}
	if safe := len(peek) - keep; safe > 0 {
		p.safe = safe
		return nil
	}
	return p.more(len(peek))
}

// more has the reader buffer more than the n bytes it holds.
func (p *formPart) more(n int) error {
	if _, err := p.fr.br.Peek(n + 1); err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return bodyErr(err)
	}
	return nil
}

// finish consumes the delimiter after the body and what follows it.
func (p *formPart) finish() error {
	br := p.fr.br
	if _, err := br.Discard(len(p.fr.nlDash)); err != nil {
		return bodyErr(err)
	}
	line, err := br.ReadSlice('\n')
	if err != nil && !(errors.Is(err, io.EOF) && bytes.HasPrefix(line, []byte("--"))) {
		return bodyErr(err)
	}
	if err := p.fr.afterDelimiter(line); err != nil {
		return err
	}
	p.eof = true
	p.fr.part = nil
	return io.EOF
}

// bodyErr is err, with the end of the body before the end of the form an
// unexpected one.
func bodyErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
