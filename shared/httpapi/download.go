package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// download streams a file from whichever tier holds it, with Range, ETag
// and If-None-Match support, or redirects to a presigned URL
// (?redirect=1, or DOWNLOAD_MODE=redirect).
func (a *API) download(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, err := a.ownedFile(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	if q.Get("redirect") == "1" || q.Get("redirect") == "true" || a.Config.DownloadMode == config.DownloadRedirect {
		a.redirect(w, r, f, q.Get("format") == "json")
		return
	}
	t := a.tiers[f.Location]
	if _, err := t.Stat(ctx, f.ObjectKey); err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			a.writeError(w, r, err)
			return
		}
		// The sync job may have moved the file since the row was read.
		uid, _ := auth.UserID(ctx)
		moved, err := a.Files.FileForUser(ctx, uid, f.ID)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if moved.Location == f.Location {
			a.writeError(w, r, fmt.Errorf("file %d: object %s missing from tier %s", f.ID, f.ObjectKey, f.Location))
			return
		}
		f, t = moved, a.tiers[moved.Location]
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Disposition", storage.ContentDisposition(f.OriginalFilename))
	if etag := fileETag(f); etag != "" {
		h.Set("ETag", etag)
	}
	h.Set("Cache-Control", "no-store") // a file's bytes are kept on no disk on the way (browser, proxy)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	// http.ServeContent checks the preconditions and writes the answer; it
	// sees the ranges planRanges kept, and the tier is asked for each one.
	r = r.Clone(ctx)
	joinListHeaders(r.Header)
	rng, spans := planRanges(r.Header.Get("Range"), f.Size)
	if rng == "" {
		r.Header.Del("Range")
	} else {
		r.Header.Set("Range", rng)
	}
	body := storage.RangeReader(f.Size, spans, func(off, n int64) (io.ReadCloser, error) { return t.OpenRange(ctx, f.ObjectKey, off, n) })
	defer body.Close()
	http.ServeContent(&errorRewriter{ResponseWriter: w, api: a, r: r, deadline: a.writeDeadline(w)}, r, "", f.UploadedAt, body)
}

// joinListHeaders joins into one value each list header http.ServeContent
// reads with Header.Get: API Gateway's adapter splits a header at its
// commas into several values.
func joinListHeaders(h http.Header) {
	for _, k := range []string{"Range", "If-Match", "If-None-Match"} {
		if vs := h.Values(k); len(vs) > 1 {
			h.Set(k, strings.Join(vs, ","))
		}
	}
}

func (a *API) redirect(w http.ResponseWriter, r *http.Request, f core.File, asJSON bool) {
	const ttl = storage.MaxPresignTTL
	u, err := a.tiers[f.Location].PresignGet(r.Context(), f.ObjectKey, f.OriginalFilename, ttl)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if asJSON {
		writeJSON(w, http.StatusOK, map[string]any{"url": u, "expires_in": int(ttl / time.Second)})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
}

// errorRewriter turns the plain-text errors of http.ServeContent (416 and
// the like) into the API's JSON error format, and moves the write deadline
// forward while a long download makes progress.
type errorRewriter struct {
	http.ResponseWriter
	api      *API
	r        *http.Request
	deadline idleDeadline
	swallow  bool
}

func (e *errorRewriter) WriteHeader(code int) {
	if code < 400 {
		e.ResponseWriter.WriteHeader(code)
		return
	}
	e.swallow = true
	h := e.Header()
	for _, k := range []string{"Content-Disposition", "ETag", "Content-Length", "Content-Security-Policy"} {
		h.Del(k)
	}
	err := core.Errorf(core.CodeBadRequest, "%s", http.StatusText(code))
	switch code {
	case http.StatusRequestedRangeNotSatisfiable:
		err = core.Errorf(core.CodeRangeNotSatisfied, "requested range is outside the file")
	case http.StatusPreconditionFailed:
		err = core.Errorf(core.CodePreconditionFailed, "the file does not match If-Match or has changed since If-Unmodified-Since")
	}
	e.api.writeError(e.ResponseWriter, e.r, err)
}

func (e *errorRewriter) Write(b []byte) (int, error) {
	if e.swallow {
		return len(b), nil
	}
	e.deadline.touch()
	return e.ResponseWriter.Write(b)
}

func (e *errorRewriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// copyBuffers hold the buffers downloads are copied through: 256 KiB moves
// a gigabyte in 4 000 writes instead of io.Copy's 32 000.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// ReadFrom copies src to the response through a pooled 256 KiB buffer
// (http.ServeContent uses it when present).
func (e *errorRewriter) ReadFrom(src io.Reader) (int64, error) {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	return io.CopyBuffer(struct{ io.Writer }{e}, src, *buf)
}

// fileETag is the download's strong ETag: the file's SHA-256, or while that
// is not known yet (a presigned upload not synced) the hot object's ETag,
// which pins the same bytes.
func fileETag(f core.File) string {
	switch {
	case f.ChecksumSHA256 != "":
		return `"` + f.ChecksumSHA256 + `"`
	case f.HotETag != "":
		return `"` + f.HotETag + `"`
	}
	return ""
}
