package httpapi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/textproto"
	"testing"
	"testing/iotest"
)

// formParts reads every part of body with the form reader, over a
// bufio.Reader of size bufSize, through src (which may return odd sizes).
func formParts(src io.Reader, boundary string, bufSize int) ([][3]string, error) {
	fr := newFormReader(bufio.NewReaderSize(src, bufSize), boundary)
	var out [][3]string
	for {
		p, err := fr.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return out, err
		}
		out = append(out, [3]string{p.FormName(), p.FileName(), string(b)})
	}
}

// The form reader reads what mime/multipart reads: random forms whose
// bodies contain the delimiter's prefix, the boundary followed by other
// characters and CRs everywhere, over small buffers and odd read sizes; a
// body cut short is an unexpected EOF, never a shorter file.
func TestFormReaderMatchesMimeMultipart(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		b := mw.Boundary()
		var want [][3]string
		for i := range 1 + rng.IntN(3) {
			var body []byte
			for range rng.IntN(40) {
				switch rng.IntN(6) {
				case 0:
					body = append(body, "\r\n--"+b[:rng.IntN(len(b))]...) // a prefix: never the delimiter
				case 1:
					body = append(body, "\r\n--"+b+"x"...)
				case 2:
					body = append(body, '\r')
				default:
					chunk := make([]byte, rng.IntN(300))
					for k := range chunk {
						chunk[k] = byte(rng.IntN(256))
					}
					body = append(body, chunk...)
				}
			}
			name, file := fmt.Sprintf("f%d", i), ""
			h := textproto.MIMEHeader{}
			if i%2 == 1 {
				file = fmt.Sprintf("dir/file %d.bin", i)
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, name, file))
				file = fmt.Sprintf("file %d.bin", i)
			} else {
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, name))
			}
			w, err := mw.CreatePart(h)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(body) //nolint:errcheck // a buffer
			want = append(want, [3]string{name, file, string(body)})
		}
		mw.Close()
		data := buf.Bytes()
		var std [][3]string // what mime/multipart reads
		mr := multipart.NewReader(bytes.NewReader(data), b)
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			std = append(std, [3]string{p.FormName(), p.FileName(), string(body)})
		}
		if fmt.Sprint(std) != fmt.Sprint(want) {
			t.Fatalf("round %d: mime/multipart reads %.300q, want %.300q", round, std, want)
		}
		for _, size := range []int{256, 1000, 4096} { // the server's is 512 KiB; a delimiter line must fit
			srcs := map[string]io.Reader{"whole": bytes.NewReader(data), "one byte": iotest.OneByteReader(bytes.NewReader(data)), "half": iotest.HalfReader(bytes.NewReader(data))}
			for how, src := range srcs {
				got, err := formParts(src, b, size)
				if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("round %d, buffer %d, %s reads: %.300q, %v; want %.300q", round, size, how, got, err, want)
				}
			}
		}
		// Cut anywhere before the closing delimiter: never a clean end.
		cut := rng.IntN(len(data) - len("--"+b+"--\r\n"))
		got, err := formParts(bytes.NewReader(data[:cut]), b, 256)
		if err == nil && len(got) == len(want) {
			t.Fatalf("round %d: body cut at %d of %d read as complete: %.300q", round, cut, len(data), got)
		}
	}
}
