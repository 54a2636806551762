package httpapi

import (
	"net/http"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
)

// abortUpload ends an upload: its parts (or its object, if it was completed
// but not recorded) are removed, then the session.
func (a *API) abortUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uid, _ := auth.UserID(ctx)
	id, err := uploadID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := a.Maintenance.EndUpload(ctx, uid, id); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.Logger.InfoContext(ctx, "upload aborted", "upload_id", id, "user_id", uid, "request_id", requestID(ctx))
	w.WriteHeader(http.StatusNoContent)
}
