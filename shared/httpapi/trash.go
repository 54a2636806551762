package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// trashJSON is a file in the trash: the file object, when it was deleted
// and when the scheduled purge removes it.
type trashJSON struct {
	Kind string `json:"kind"` // "file"
	fileJSON
	DeletedAt string `json:"deleted_at"`
	PurgeAt   string `json:"purge_at"`
}

// trashFolderJSON is a folder entry of the trash: what went there with it
// comes back with it.
type trashFolderJSON struct {
	Kind      string `json:"kind"` // "folder"
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	DeletedAt string `json:"deleted_at"`
	PurgeAt   string `json:"purge_at"`
	FileCount int64  `json:"file_count"`
	TotalSize int64  `json:"total_size"`
}

func toTrashEntryJSON(e postgres.TrashEntry) any {
	if f := e.Folder; f != nil {
		return trashFolderJSON{Kind: "folder", ID: f.ID, Name: f.Name, DeletedAt: rfc3339(*f.DeletedAt), PurgeAt: rfc3339(*f.PurgeAt),
			FileCount: f.Files, TotalSize: f.Bytes}
	}
	return toTrashJSON(*e.File)
}

func toTrashJSON(f core.File) trashJSON {
	j := trashJSON{Kind: "file", fileJSON: toJSON(f)}
	if f.DeletedAt != nil {
		j.DeletedAt = rfc3339(*f.DeletedAt)
	}
	if f.PurgeAt != nil {
		j.PurgeAt = rfc3339(*f.PurgeAt)
	}
	return j
}

// trashFile is DELETE /api/files/{id} with a trash: the row is marked,
// the objects stay where they are.
func (a *API) trashFile(w http.ResponseWriter, r *http.Request, id int64) {
	uid, _ := auth.UserID(r.Context())
	if _, err := a.Files.TrashFile(r.Context(), uid, id, a.Config.TrashRetention()); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) listTrash(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultPageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			a.writeError(w, r, core.FieldError("limit", "limit must be a whole number from 1 to %d", maxPageSize))
			return
		}
		limit = n
	}
	uid, _ := auth.UserID(r.Context())
	entries, next, err := a.Files.ListTrash(r.Context(), uid, limit, q.Get("cursor"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]any, len(entries))
	for i, e := range entries {
		out[i] = toTrashEntryJSON(e)
	}
	var nextCursor *string
	if next != "" {
		nextCursor = &next
	}
	writeJSON(w, http.StatusOK, map[string]any{"files": out, "next_cursor": nextCursor})
}

func (a *API) restoreFile(w http.ResponseWriter, r *http.Request) {
	id, err := fileID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	uid, _ := auth.UserID(r.Context())
	f, err := a.Files.RestoreFile(r.Context(), uid, id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toJSON(f))
}

// purgeFile is DELETE /api/trash/{id}: the file is marked purging (it
// leaves the trash at once), its objects are removed from every tier, then
// its row. Once marked, a failure is left to the sweep, which finishes
// every purging row: the answer is 204 all the same.
func (a *API) purgeFile(w http.ResponseWriter, r *http.Request) {
	id, err := fileID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	uid, _ := auth.UserID(r.Context())
	f, err := a.Files.BeginPurge(r.Context(), uid, id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), purgeBudget)
	defer cancel()
	if err := a.Maintenance.Purge(ctx, f); err != nil {
		a.Logger.ErrorContext(ctx, "purge file: left to the sweep", "file_id", f.ID, "error", err.Error())
	}
	w.WriteHeader(http.StatusNoContent)
}

// emptyTrash is DELETE /api/trash: every file of the caller's trash is
// marked purging in one statement (the trash is empty from then on), then
// purged within the request's budget; what is left is the sweep's.
func (a *API) emptyTrash(w http.ResponseWriter, r *http.Request) {
	uid, _ := auth.UserID(r.Context())
	if _, err := a.Files.BeginPurgeTrash(r.Context(), uid); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.purgeNow(r.Context(), uid, "empty trash")
	w.WriteHeader(http.StatusNoContent)
}
