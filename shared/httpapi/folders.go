package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// folderJSON is the folder object of the API.
type folderJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	ParentID  *int64 `json:"parent_id"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

type pathJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func toFolderJSON(f core.Folder) folderJSON {
	return folderJSON{ID: f.ID, Name: f.Name, ParentID: f.ParentID, CreatedAt: rfc3339(f.CreatedAt), UpdatedAt: rfc3339(f.UpdatedAt)}
}

// optionalID is a JSON field that may be absent, null (the root) or a
// folder id; set tells absent from null.
type optionalID struct {
	set bool
	raw json.RawMessage
}

func (o *optionalID) UnmarshalJSON(b []byte) error {
	o.set, o.raw = true, bytes.Clone(b)
	return nil
}

// folder reads the field named field: nil for null (the root), else a
// positive id.
func (o optionalID) folder(field string) (*int64, error) {
	if string(o.raw) == "null" {
		return nil, nil
	}
	var id int64
	if err := json.Unmarshal(o.raw, &id); err != nil || id <= 0 {
		return nil, core.FieldError(field, "%s must be a folder id (a positive integer) or null for the root", field)
	}
	return &id, nil
}

// pathFolderID reads the {id} path value of a folder route.
func pathFolderID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &core.Error{Code: core.CodeValidation, Message: "folder id must be a positive integer", Field: "id"}
	}
	return id, nil
}

// queryFolder reads a folder_id query parameter: "root" is the root (0),
// else a positive id. ok is false when the parameter is absent.
func queryFolder(r *http.Request, name string) (id int64, ok bool, err error) {
	s := r.URL.Query().Get(name)
	switch s {
	case "":
		return 0, false, nil
	case "root":
		return 0, true, nil
	}
	id, err = strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, false, core.FieldError(name, "%s must be a folder id or root", name)
	}
	return id, true, nil
}

// createFolder is POST /api/folders {name, parent_id}.
func (a *API) createFolder(w http.ResponseWriter, r *http.Request) {
	if err := requireJSON(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	var in struct {
		Name     *string    `json:"name"`
		ParentID optionalID `json:"parent_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if in.Name == nil {
		a.writeError(w, r, core.FieldError("name", "name is required"))
		return
	}
	name, err := core.FolderName(*in.Name)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var parent *int64
	if in.ParentID.set {
		if parent, err = in.ParentID.folder("parent_id"); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	uid, _ := auth.UserID(r.Context())
	f, err := a.Files.CreateFolder(r.Context(), uid, parent, name)
	if err != nil {
		a.writeError(w, r, accountGone(err))
		return
	}
	writeJSON(w, http.StatusCreated, toFolderJSON(f))
}

// listFolders is GET /api/folders?parent_id=<id|root>: the direct
// subfolders, by name.
func (a *API) listFolders(w http.ResponseWriter, r *http.Request) {
	id, _, err := queryFolder(r, "parent_id")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var parent *int64
	if id != 0 {
		parent = &id
	}
	uid, _ := auth.UserID(r.Context())
	folders, err := a.Files.ListFolders(r.Context(), uid, parent)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]folderJSON, len(folders))
	for i, f := range folders {
		out[i] = toFolderJSON(f)
	}
	writeJSON(w, http.StatusOK, map[string]any{"folders": out})
}

// getFolder is GET /api/folders/{id}: the folder and its path from the
// top-level folder down to it (breadcrumbs).
func (a *API) getFolder(w http.ResponseWriter, r *http.Request) {
	id, err := pathFolderID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	uid, _ := auth.UserID(r.Context())
	f, path, err := a.Files.FolderPath(r.Context(), uid, id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]pathJSON, len(path))
	for i, p := range path {
		items[i] = pathJSON{ID: p.ID, Name: p.Name}
	}
	writeJSON(w, http.StatusOK, struct {
		folderJSON
		Path []pathJSON `json:"path"`
	}{toFolderJSON(f), items})
}

// updateFolder is PATCH /api/folders/{id} {name?, parent_id?}: rename
// and/or move.
func (a *API) updateFolder(w http.ResponseWriter, r *http.Request) {
	if err := requireJSON(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	id, err := pathFolderID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var in struct {
		Name     *string    `json:"name"`
		ParentID optionalID `json:"parent_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	var c postgres.FolderChange
	if in.Name != nil {
		name, err := core.FolderName(*in.Name)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		c.Name = &name
	}
	if in.ParentID.set {
		c.Move = true
		if c.ParentID, err = in.ParentID.folder("parent_id"); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	if c.Name == nil && !c.Move {
		a.writeError(w, r, core.FieldError("name", "send name, parent_id or both"))
		return
	}
	uid, _ := auth.UserID(r.Context())
	f, err := a.Files.UpdateFolder(r.Context(), uid, id, c)
	if err != nil {
		a.writeError(w, r, accountGone(err))
		return
	}
	writeJSON(w, http.StatusOK, toFolderJSON(f))
}

// deleteFolder is DELETE /api/folders/{id}: the folder, its subfolders and
// their files go to the trash as one entry; without a trash
// (TRASH_RETENTION_DAYS=0) they are purged now, the rest by the sweep.
func (a *API) deleteFolder(w http.ResponseWriter, r *http.Request) {
	id, err := pathFolderID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	uid, _ := auth.UserID(r.Context())
	purge := a.Config.TrashRetentionDays <= 0
	if err := a.Files.TrashFolder(r.Context(), uid, id, a.Config.TrashRetention(), purge); err != nil {
		a.writeError(w, r, accountGone(err))
		return
	}
	if purge {
		a.purgeNow(r.Context(), uid, "delete folder")
	}
	w.WriteHeader(http.StatusNoContent)
}

// restoreFolder is POST /api/trash/folders/{id}/restore.
func (a *API) restoreFolder(w http.ResponseWriter, r *http.Request) {
	id, err := pathFolderID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	uid, _ := auth.UserID(r.Context())
	f, err := a.Files.RestoreFolder(r.Context(), uid, id)
	if err != nil {
		a.writeError(w, r, accountGone(err))
		return
	}
	writeJSON(w, http.StatusOK, toFolderJSON(f))
}

// purgeFolder is DELETE /api/trash/folders/{id}: the entry and its files
// are marked purging (they leave the trash at once), then purged within
// the request's budget; what is left is the sweep's.
func (a *API) purgeFolder(w http.ResponseWriter, r *http.Request) {
	id, err := pathFolderID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	uid, _ := auth.UserID(r.Context())
	if err := a.Files.BeginPurgeFolder(r.Context(), uid, id); err != nil {
		a.writeError(w, r, accountGone(err))
		return
	}
	a.purgeNow(r.Context(), uid, "purge folder")
	w.WriteHeader(http.StatusNoContent)
}

// purgeNow purges uid's purging files and folders within purgeBudget,
// even if the client goes away; a failure is the sweep's to finish.
func (a *API) purgeNow(ctx context.Context, uid int64, what string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), purgeBudget)
	defer cancel()
	if err := a.Maintenance.PurgeAllPurging(ctx, uid); err != nil {
		a.Logger.ErrorContext(ctx, what+": left to the sweep", "user_id", uid, "error", err.Error())
	}
}
