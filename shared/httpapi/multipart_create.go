package httpapi

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// createUpload starts a presigned multipart upload: the limits are checked
// against the declared size and type and the user's open sessions
// (MAX_OPEN_UPLOADS, MAX_OPEN_UPLOAD_MB), the hot tier starts the upload,
// the session is recorded and every part gets a presigned PUT URL with its
// size signed in.
func (a *API) createUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid, _ := auth.UserID(ctx)
	var in struct {
		Filename    string     `json:"filename"`
		Size        *int64     `json:"size"`
		ContentType string     `json:"content_type"`
		FolderID    optionalID `json:"folder_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	s, err := a.newSession(uid, in.Filename, in.Size, in.ContentType)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.FolderID.set {
		if s.FolderID, err = in.FolderID.folder("folder_id"); err != nil {
			a.writeError(w, r, err)
			return
		}
		if s.FolderID != nil {
			if _, err := a.Files.FolderForUser(ctx, uid, *s.FolderID); err != nil {
				a.writeError(w, r, err)
				return
			}
		}
	}
	quota := postgres.UploadQuota{Sessions: a.Config.MaxOpenUploads, Bytes: a.Config.MaxOpenUploadBytes}
	if err := a.Uploads.CheckUploadQuota(ctx, uid, s.Size, quota); err != nil {
		a.writeError(w, r, err)
		return
	}
	// The storage quota (quota.go): the declared size is reserved until the
	// session is recorded, from then on the session counts.
	g, err := a.reserve(ctx, uid, s.Size, s.Size)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	defer g.release()
	s.StorageUploadID, err = a.HotParts.NewMultipartUpload(ctx, s.ObjectKey, storage.PutOptions{
		ContentType: s.ContentType,
		Metadata:    map[string]string{"owner-id": strconv.FormatInt(uid, 10), "original-filename": url.QueryEscape(s.OriginalFilename)},
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.Uploads.CreateUpload(ctx, &s, quota); err != nil { // the quota again, atomically
		a.Maintenance.Discard(ctx, s) //nolint:errcheck // logged inside
		a.writeError(w, r, accountGone(err))
		return
	}
	all := make([]int, s.PartCount())
	for i := range all {
		all[i] = i + 1
	}
	out, err := a.sessionJSON(ctx, s, nil, all)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(ctx, "upload started", "upload_id", s.ID, "user_id", uid, "bytes", s.Size, "parts", len(all), "request_id", requestID(ctx))
	writeJSON(w, http.StatusCreated, out)
}

// newSession validates a creation request into a session (not yet stored).
func (a *API) newSession(uid int64, filename string, size *int64, ctype string) (core.UploadSession, error) {
	switch {
	case size == nil:
		return core.UploadSession{}, core.FieldError("size", "size is required")
	case *size <= 0:
		return core.UploadSession{}, core.FieldError("size", "size must be a positive number of bytes (send empty files to /api/files/upload)")
	case *size > a.Config.MaxFileSize:
		return core.UploadSession{}, a.tooLarge()
	}
	if err := core.ValidateOriginalFilename(filename); err != nil {
		return core.UploadSession{}, err
	}
	safe, filename, err := core.UploadFilenames(filename)
	if err != nil {
		return core.UploadSession{}, err
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	} else {
		mt, _, err := mime.ParseMediaType(ctype)
		if err != nil || len(ctype) > 127 || hasNUL(ctype) {
			return core.UploadSession{}, core.FieldError("content_type", "content_type is not a media type")
		}
		// The declared type is checked now; the sniffed one on completion.
		if !typeAllowed(mt, a.Config.AllowedContentTypes) {
			return core.UploadSession{}, core.Errorf(core.CodeUnsupportedMedia, "files of type %s are not accepted here", mt)
		}
		ctype = mt
	}
	now := a.now()
	return core.UploadSession{
		ID:               uuid.NewString(),
		UserID:           uid,
		ObjectKey:        core.ObjectKey(uid, safe),
		Filename:         safe,
		OriginalFilename: filename,
		Size:             *size,
		ContentType:      ctype,
		PartSize:         PartSize(*size),
		ExpiresAt:        now.Add(uploadSessionTTL).UTC(),
	}, nil
}
