package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

const (
	// multipartOverhead is what a multipart body may carry besides the
	// file's bytes: boundaries, part headers and small extra fields.
	multipartOverhead = 1 << 20
	maxExtraField     = 64 << 10
	sniffLen          = 512
	smallUpload       = 1 << 20
	uploadReadBuffer  = 512 << 10
)

// headPool holds the buffers the first MiB of each upload is read into,
// readerPool the read buffers under the multipart reader.
var (
	headPool   = sync.Pool{New: func() any { b := make([]byte, smallUpload); return &b }}
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, uploadReadBuffer) }}
)

// upload streams the "file" part of a multipart body into the hot tier,
// hashing it and enforcing the size limit as the bytes flow. On any failure
// the object is removed and no row is written.
func (a *API) upload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid, _ := auth.UserID(ctx)
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		a.writeError(w, r, core.Errorf(core.CodeUnsupportedMedia, "upload must be multipart/form-data with a field named file"))
		return
	}
	if params["boundary"] == "" {
		a.writeError(w, r, core.Errorf(core.CodeBadRequest, "multipart body has no boundary"))
		return
	}
	release, err := a.streams.acquire(uid) // before the quota and a byte of body: a slot holds up to 34 MiB of buffers
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	defer release()
	g, err := a.streamGrant(ctx, uid, r.ContentLength) // the quota (quota.go): reserved before a byte is stored
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	defer g.release()
	r.Body = &deadlineReader{r: http.MaxBytesReader(w, r.Body, a.Config.MaxFileSize+multipartOverhead), deadline: a.readDeadline(w),
		minRate: int64(a.Config.UploadMinRate), window: a.timeouts.idle}
	// mime/multipart reads its source 4 KiB at a time: a larger buffer
	// underneath turns a gigabyte's 260 000 read calls into 2 000.
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r.Body)
	defer func() { br.Reset(nil); readerPool.Put(br) }()
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	part, folder, err := a.filePart(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if folder != nil {
		if _, err := a.Files.FolderForUser(ctx, uid, *folder); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	f, err := a.storeUpload(ctx, uid, part, folder, g)
	// The body may have taken far longer than an ordinary request: the
	// answer gets the time an ordinary request has to write.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(a.timeouts.write))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(ctx, "file uploaded", "file_id", f.ID, "user_id", uid, "bytes", f.Size, "request_id", requestID(ctx))
	setStored(ctx, "stream", f.Size)
	writeJSON(w, http.StatusCreated, toJSON(f))
}

// filePart skips to the part named "file", discarding small other fields
// and reading folder_id (a folder id, or "root" or empty for the root:
// nil) when it comes before the file.
func (a *API) filePart(r *http.Request) (*multipart.Part, *int64, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, core.Errorf(core.CodeBadRequest, "malformed multipart body")
	}
	var folder *int64
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, nil, core.Errorf(core.CodeMissingFile, "no file: send it in a multipart field named file")
		}
		if err != nil {
			return nil, nil, a.bodyError(err)
		}
		if part.FormName() == "file" {
			if part.FileName() == "" {
				return nil, nil, core.Errorf(core.CodeMissingFile, "field file is not a file (it has no filename)")
			}
			return part, folder, nil
		}
		var field bytes.Buffer
		n, err := io.Copy(&field, io.LimitReader(part, maxExtraField+1))
		if err != nil {
			return nil, nil, a.bodyError(err)
		}
		if n > maxExtraField {
			return nil, nil, core.Errorf(core.CodeBodyTooLarge, "form field %q is larger than %d bytes", part.FormName(), maxExtraField)
		}
		if part.FormName() == "folder_id" {
			if folder, err = formFolder(field.String()); err != nil {
				return nil, nil, err
			}
		}
	}
}

// formFolder reads the folder_id form field: nil for the root.
func formFolder(s string) (*int64, error) {
	if s == "" || s == "root" {
		return nil, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return nil, core.FieldError("folder_id", "folder_id must be a folder id or root, sent before the file")
	}
	return &id, nil
}

// bodyError maps an error reading the request body to a client error.
func (a *API) bodyError(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return a.tooLarge()
	}
	return core.Errorf(core.CodeBadRequest, "upload body could not be read: %s", shortReason(err))
}

func (a *API) tooLarge() error {
	return core.Errorf(core.CodeFileTooLarge, "file is larger than the limit of %d MiB", a.Config.MaxFileSize>>20)
}

func shortReason(err error) string {
	var slow *tooSlowError
	switch {
	case errors.As(err, &slow):
		return fmt.Sprintf("it arrived slower than %d bytes/s", slow.minRate)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "it ended early"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "it stopped arriving"
	}
	return "it is malformed"
}

func (a *API) storeUpload(ctx context.Context, uid int64, part *multipart.Part, folder *int64, g grant) (core.File, error) {
	limit := min(a.Config.MaxFileSize, g.bytes)
	safe, original, err := core.UploadFilenames(part.FileName())
	if err != nil {
		return core.File{}, err
	}
	// Read up to 1 MiB first: most files end within it and then go up in
	// one PUT of known size, without the 16 MiB part buffer a stream of
	// unknown length needs.
	bufp := headPool.Get().(*[]byte)
	defer headPool.Put(bufp)
	head := *bufp
	n, whole, err := readHead(part, head)
	if err != nil {
		return core.File{}, a.bodyError(err)
	}
	head = head[:n]
	if int64(n) > limit {
		return core.File{}, a.overLimit(g)
	}
	ctype, err := a.contentType(part.Header.Get("Content-Type"), head)
	if err != nil {
		return core.File{}, err
	}

	key := core.ObjectKey(uid, safe)
	// The hot tier hashes what it stores: SHA-256 into sum, overlapping the
	// arrival of the next part, and the full-object CRC64NVME it returns.
	sum := sha256.New()
	src, size := io.MultiReader(bytes.NewReader(head), part), int64(-1)
	if whole {
		src, size = bytes.NewReader(head), int64(n)
	}
	lim := &limitReader{r: src, max: limit}
	info, err := a.Hot.Put(ctx, key, lim, size, storage.PutOptions{
		ContentType: ctype,
		Metadata:    map[string]string{"owner-id": strconv.FormatInt(uid, 10), "original-filename": url.QueryEscape(original)},
		Digest:      sum,
	})
	// A short read (io.ErrUnexpectedEOF) ends the stream for the tier, so
	// a body cut off mid-file could look like a whole, shorter file: the
	// limit reader's own record of the source failing decides.
	if err != nil || lim.err != nil {
		a.removeObject(ctx, key)
		switch {
		case lim.exceeded:
			return core.File{}, a.overLimit(g)
		case lim.err != nil:
			return core.File{}, a.bodyError(lim.err)
		}
		return core.File{}, fmt.Errorf("store upload %s: %w", key, err)
	}
	f := core.File{
		UserID: uid, Filename: safe, OriginalFilename: original, Size: lim.n, ContentType: ctype,
		Location: core.TierHot, ObjectKey: key, AccessURL: a.Hot.URL(key), ChecksumSHA256: hex.EncodeToString(sum.Sum(nil)),
		ChecksumCRC64NVME: info.ChecksumCRC64NVME, HotETag: storage.TrimETag(info.ETag), StorageClass: core.StorageStandard,
		FolderID: folder,
	}
	if err := a.Files.RecordUpload(ctx, &f, g.id); err != nil {
		a.removeObject(ctx, key)
		return core.File{}, accountGone(err)
	}
	*g.consumed = true // the row dropped the reservation
	return f, nil
}

// readHead fills buf from r. whole reports that r ended (io.EOF) within
// buf; any other error, io.ErrUnexpectedEOF of a cut-off body included, is
// returned.
func readHead(r io.Reader, buf []byte) (n int, whole bool, err error) {
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

// removeObject deletes a half-done upload even when the request's context
// is gone (a client that went away is the usual cause).
func (a *API) removeObject(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := a.Hot.Delete(ctx, key); err != nil {
		a.Logger.ErrorContext(ctx, "could not remove object of failed upload", "key", key, "err", err.Error())
	}
}

// contentType is the type to store for a file that starts with head (its
// first sniffLen bytes) and that the client claims is of type claimed. It
// returns an UNSUPPORTED_MEDIA_TYPE error when the allow-list refuses it.
func (a *API) contentType(claimed string, head []byte) (string, error) {
	ctype := storedType(claimed, http.DetectContentType(head))
	if !typeAllowed(ctype, a.Config.AllowedContentTypes) {
		return "", core.Errorf(core.CodeUnsupportedMedia, "files of type %s are not accepted here", ctype)
	}
	return ctype, nil
}

// storedType picks the type to store: the sniffed one, unless sniffing
// found nothing more specific than application/octet-stream and the client
// named a valid type.
func storedType(claimed, sniffed string) string {
	if strings.HasPrefix(sniffed, "application/octet-stream") {
		if mt, _, err := mime.ParseMediaType(claimed); err == nil && strings.Count(mt, "/") == 1 && len(mt) <= 127 {
			return mt
		}
	}
	return sniffed
}

// typeAllowed checks a type against an allow-list of "type/subtype" and
// "type/*" entries; an empty list allows everything.
func typeAllowed(ctype string, allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return false
	}
	for _, a := range allowed {
		a = strings.ToLower(a)
		if a == mt || (strings.HasSuffix(a, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(a, "*"))) {
			return true
		}
	}
	return false
}

// limitReader counts bytes and fails once more than max have been read. It
// remembers whether it failed for size or because the source failed.
type limitReader struct {
	r        io.Reader
	max, n   int64
	exceeded bool
	err      error
}

var errFileTooLarge = errors.New("file exceeds the size limit")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, errFileTooLarge
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		l.exceeded = true
		return 0, errFileTooLarge
	}
	if err != nil && !errors.Is(err, io.EOF) {
		l.err = err
	}
	return n, err
}

// idleDeadline moves one of a connection's deadlines forward while bytes
// move (at most four times per idle period): a long transfer may take as
// long as it needs, a stalled one is cut off after the idle timeout.
type idleDeadline struct {
	set  func(time.Time) error
	idle time.Duration
	last time.Time
}

func (a *API) readDeadline(w http.ResponseWriter) idleDeadline {
	return idleDeadline{set: http.NewResponseController(w).SetReadDeadline, idle: a.timeouts.idle}
}

// writeDeadline is for a handler that has read its request and may then
// take long: a download, or work that reads a whole object first.
func (a *API) writeDeadline(w http.ResponseWriter) idleDeadline {
	return idleDeadline{set: http.NewResponseController(w).SetWriteDeadline, idle: a.timeouts.idle}
}

func (d *idleDeadline) touch() {
	if now := time.Now(); now.Sub(d.last) > min(time.Second, d.idle/4) {
		d.last = now
		_ = d.set(now.Add(d.idle)) // not supported on Lambda: fine
	}
}

// deadlineReader reads r, moving a deadline forward as bytes arrive: the
// request's read deadline for an upload body, the response's write
// deadline for work that reads a whole object before answering.
//
// With minRate set (an upload body), it also fails a source that sends
// less than minRate bytes/s over a window of waiting: an idle deadline
// alone lets a client that sends a byte every few seconds hold the
// upload's buffers for ever. Only the time spent waiting in Read counts,
// so a slow hot tier (nothing read meanwhile) is not taken for a slow
// client.
type deadlineReader struct {
	r        io.Reader
	deadline idleDeadline
	// Past the end the deadline is left alone: net/http lifts the read
	// deadline at the end of a body and then watches the connection, which
	// a deadline set again would make it take for a client gone.
	ended bool

	minRate int64         // bytes/s; 0: no minimum
	window  time.Duration // of waiting, over which the rate is measured
	waited  time.Duration // in Read, in this window
	got     int64         // bytes, in this window
}

// tooSlowError is the error of a body that arrived slower than minRate.
type tooSlowError struct{ minRate int64 }

func (e *tooSlowError) Error() string {
	return fmt.Sprintf("request body arrived slower than %d bytes/s", e.minRate)
}

func (d *deadlineReader) Read(b []byte) (int, error) {
	if d.ended {
		return d.r.Read(b)
	}
	d.deadline.touch()
	start := time.Now()
	n, err := d.r.Read(b)
	d.ended = errors.Is(err, io.EOF)
	if d.minRate > 0 && !d.ended {
		d.waited += time.Since(start)
		d.got += int64(n)
		if d.waited >= d.window {
			if float64(d.got) < float64(d.minRate)*d.waited.Seconds() {
				return n, &tooSlowError{d.minRate}
			}
			d.waited, d.got = 0, 0
		}
	}
	return n, err
}

func (d *deadlineReader) Close() error {
	if c, ok := d.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
