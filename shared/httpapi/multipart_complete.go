package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

type completeRequest struct {
	Parts []struct {
		PartNumber int    `json:"part_number"`
		ETag       string `json:"etag"`
	} `json:"parts"`
}

// checkParts checks a completion request against the session: parts 1..n,
// each once, in order, each with an etag.
func checkParts(in completeRequest, s core.UploadSession) error {
	n := s.PartCount()
	switch {
	case len(in.Parts) == 0:
		return core.FieldError("parts", "parts is required")
	case len(in.Parts) > n:
		return core.FieldError("parts", "this upload has %d parts, not %d", n, len(in.Parts))
	}
	for i, p := range in.Parts {
		switch {
		case p.PartNumber < 1 || p.PartNumber > n:
			return core.FieldError("parts", "part_number %d is outside 1..%d", p.PartNumber, n)
		case p.PartNumber != i+1:
			return core.FieldError("parts", "parts must be listed once each in ascending order from 1; found %d at position %d", p.PartNumber, i+1)
		case p.ETag == "" || len(p.ETag) > 256:
			return core.FieldError("parts", "part %d has no valid etag", p.PartNumber)
		}
	}
	if len(in.Parts) < n {
		return core.FieldError("parts", "parts %d..%d are missing: upload them, then complete", len(in.Parts)+1, n)
	}
	return nil
}

// completeUpload assembles the parts into the object and records the file
// (finishUpload). Until the tier is asked to assemble the object a client
// error leaves the session for another try; from then on the completion is
// seen through whatever happens to the request. It answers 201 with the
// file it recorded, 200 with the file a previous completion of the same
// upload recorded, or 409 UPLOAD_COMPLETING with Retry-After when another
// request is still finishing it after completeWait.
func (a *API) completeUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid, _ := auth.UserID(ctx)
	id, err := uploadID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var in completeRequest
	if err := decodeJSONLimit(w, r, &in, maxCompleteBody); err != nil {
		a.writeError(w, r, err)
		return
	}
	f, created, err := a.complete(ctx, uid, id, in)
	switch {
	case err != nil:
		a.writeError(w, r, err)
	case created:
		setStored(ctx, "presigned", f.Size)
		writeJSON(w, http.StatusCreated, toJSON(f))
	default:
		writeJSON(w, http.StatusOK, toJSON(f))
	}
}

// complete checks the request against the session and the tier, has the
// tier assemble the object, and finishes the upload. created reports that
// this call recorded the file.
//
// From its lease until the tier has answered, the completion holds the
// session (postgres LeaseUpload): an abort or an account deletion that ends
// it meanwhile removes what the tier holds then but leaves the row, and
// this completion, finding the session ending as it lets go, removes what
// the tier assembled since and the row, and answers 404. So no object is
// left with neither a file row nor a session, whatever the interleaving.
func (a *API) complete(ctx context.Context, uid int64, id string, in completeRequest) (f core.File, created bool, err error) {
	now := a.now()
	s, err := a.Uploads.UploadForUser(ctx, uid, id, now)
	if err != nil {
		return a.completedFile(ctx, uid, id, err)
	}
	if s.Completing() {
		return a.finishUpload(ctx, uid, id, completeWait(ctx))
	}
	if err := checkParts(in, s); err != nil {
		return core.File{}, false, err
	}
	// The tier may assemble the object even if this request dies while
	// it does: from the lease on, see it through.
	dctx, cancel := finishContext(ctx)
	defer cancel()
	until, _ := dctx.Deadline()
	if s, err = a.Uploads.LeaseUpload(ctx, uid, id, now, until.Add(finishLeaseMargin)); err != nil {
		return a.completedFile(ctx, uid, id, err)
	}
	abort, err := a.assemble(ctx, dctx, in, s)
	a.step(ctx, stepAssembled)
	switch rerr := a.Uploads.ReleaseUpload(dctx, s.ID); {
	case errors.Is(rerr, postgres.ErrUploadEnding):
		// Ended meanwhile (aborted, its account deleted): the ender
		// removed what the tier held then and left the rest to this
		// completion, whatever the tier answered it.
		a.endHeldUpload(dctx, s)
		return core.File{}, false, rerr
	case rerr != nil: // recorded by a concurrent completion, or an error
		return a.completedFile(dctx, uid, id, rerr)
	}
	if abort {
		a.endUpload(dctx, s)
		return core.File{}, false, err
	}
	if err != nil {
		if err := a.assembled(dctx, s, err); err != nil {
			return core.File{}, false, err
		}
	}
	return a.finishUpload(ctx, uid, id, completeWait(ctx))
}

// assemble checks the client's parts against the tier's (matchParts) and
// has the tier assemble them into the object, on dctx. abort reports parts
// whose sizes cannot add up to the declared size (err says so): the upload
// is to be ended.
func (a *API) assemble(ctx, dctx context.Context, in completeRequest, s core.UploadSession) (abort bool, err error) {
	parts, abort, err := a.matchParts(ctx, in, s)
	if err != nil {
		return abort, err
	}
	a.step(ctx, stepAssembling)
	return false, a.HotParts.CompleteMultipartUpload(dctx, s.ObjectKey, s.StorageUploadID, parts)
}

// assembled tells, after err from a multipart call on s, whether the tier
// has assembled s's object already (a completion whose request died after
// asking the tier): nil when it has, ErrUploadNotFound when the tier no
// longer knows the upload and holds no object, a 400 when the tier refused
// the parts (changed since they were listed), else err.
func (a *API) assembled(ctx context.Context, s core.UploadSession, err error) error {
	if errors.Is(err, storage.ErrInvalidPart) {
		return core.FieldError("parts", "the hot tier refused the parts (a part changed since they were listed): list them again and complete again")
	}
	if !errors.Is(err, storage.ErrNoSuchUpload) {
		return err
	}
	if _, err := a.Hot.Stat(ctx, s.ObjectKey); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return postgres.ErrUploadNotFound
		}
		return err
	}
	return nil
}

// matchParts checks the client's parts against the tier's: every part
// present with the same etag and the size the declared size implies. abort
// reports a size that cannot match the declaration (the session is to be
// ended). storage.ErrNoSuchUpload when the tier no longer knows the upload.
func (a *API) matchParts(ctx context.Context, in completeRequest, s core.UploadSession) (parts []storage.Part, abort bool, err error) {
	listed, err := a.HotParts.ListParts(ctx, s.ObjectKey, s.StorageUploadID)
	if err != nil {
		return nil, false, err
	}
	byNumber := make(map[int]storage.Part, len(listed))
	for _, p := range listed {
		byNumber[p.Number] = p
	}
	parts = make([]storage.Part, len(in.Parts))
	for i, p := range in.Parts {
		have, ok := byNumber[p.PartNumber]
		if !ok {
			return nil, false, core.FieldError("parts", "part %d has not been uploaded", p.PartNumber)
		}
		if storage.TrimETag(p.ETag) != storage.TrimETag(have.ETag) {
			return nil, false, core.FieldError("parts", "etag of part %d does not match the uploaded part", p.PartNumber)
		}
		if want := s.PartLen(p.PartNumber); have.Size != want {
			return nil, true, core.FieldError("parts", "part %d is %d bytes, not %d: the upload does not add up to its declared size of %d bytes and was aborted",
				p.PartNumber, have.Size, want, s.Size)
		}
		parts[i] = have
	}
	return parts, false, nil
}
