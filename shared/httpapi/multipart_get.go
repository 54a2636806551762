package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// getUpload describes an upload for resuming: the parts the hot tier holds
// and fresh URLs for the missing ones. An upload already completed answers
// status "completed" with its file; one whose object the tier has assembled
// is finished here if no other request is finishing it (that request died),
// else it answers status "completing" with Retry-After.
func (a *API) getUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid, _ := auth.UserID(ctx)
	id, err := uploadID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	s, err := a.Uploads.UploadForUser(ctx, uid, id, a.now())
	if err != nil {
		f, _, err := a.completedFile(ctx, uid, id, err)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, completedUploadJSON{UploadID: id, Status: "completed", File: toJSON(f)})
		return
	}
	if !s.Completing() {
		parts, err := a.HotParts.ListParts(ctx, s.ObjectKey, s.StorageUploadID)
		if err == nil {
			a.inProgress(w, r, s, parts)
			return
		}
		if err := a.assembled(ctx, s, err); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	f, _, err := a.finishUpload(ctx, uid, id, 0)
	if errors.Is(err, errCompleting) {
		w.Header().Set("Retry-After", strconv.Itoa(completingRetryAfter))
		writeJSON(w, http.StatusOK, completingUploadJSON{UploadID: id, Status: "completing", Size: s.Size})
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, completedUploadJSON{UploadID: id, Status: "completed", File: toJSON(f)})
}

// inProgress answers an upload in progress: the parts the tier holds, and
// fresh URLs for the missing ones.
func (a *API) inProgress(w http.ResponseWriter, r *http.Request, s core.UploadSession, parts []storage.Part) {
	have := map[int]bool{}
	done := []partDone{}
	for _, p := range parts {
		if p.Number >= 1 && p.Number <= s.PartCount() {
			have[p.Number] = true
			done = append(done, partDone{PartNumber: p.Number, ETag: p.ETag, Size: p.Size})
		}
	}
	var missing []int
	for n := 1; n <= s.PartCount(); n++ {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	out, err := a.sessionJSON(r.Context(), s, done, missing)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
