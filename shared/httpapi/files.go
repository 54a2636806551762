package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// fileJSON is the file object of the API.
type fileJSON struct {
	ID               int64  `json:"id"`
	Filename         string `json:"filename"`
	OriginalFilename string `json:"original_filename"`
	FileSize         int64  `json:"file_size"`
	ContentType      string `json:"content_type"`
	StorageLocation  string `json:"storage_location"`
	StorageClass     string `json:"storage_class"`
	AccessURL        string `json:"access_url"`
	// ChecksumSHA256 is null while not known yet: a file completed from a
	// presigned upload gets it when the sync job moves it to cold storage.
	ChecksumSHA256 *string `json:"checksum_sha256"`
	// ChecksumCRC64NVME is null for files uploaded before it was computed,
	// until the sync job moves them.
	ChecksumCRC64NVME *string `json:"checksum_crc64nvme"`
	UploadedAt        string  `json:"uploaded_at"`
	SyncedAt          *string `json:"synced_at"`
	// FolderID is the file's folder; null: the root.
	FolderID *int64 `json:"folder_id"`
}

// displayName is the original name without bidi controls and invisible
// characters: rows stored before uploads stripped them still have them.
func displayName(f core.File) string {
	if n := core.StripInvisible(f.OriginalFilename); n != "" {
		return n
	}
	return f.Filename
}

func toJSON(f core.File) fileJSON {
	j := fileJSON{
		ID: f.ID, Filename: f.Filename, OriginalFilename: displayName(f), FileSize: f.Size,
		ContentType: f.ContentType, StorageLocation: string(f.Location), AccessURL: f.AccessURL,
		UploadedAt: rfc3339(f.UploadedAt), StorageClass: f.StorageClass, FolderID: f.FolderID,
	}
	if f.ChecksumSHA256 != "" {
		c := f.ChecksumSHA256
		j.ChecksumSHA256 = &c
	}
	if j.StorageClass == "" {
		j.StorageClass = core.StorageStandard
	}
	if f.ChecksumCRC64NVME != "" {
		c := f.ChecksumCRC64NVME
		j.ChecksumCRC64NVME = &c
	}
	if f.SyncedAt != nil {
		s := rfc3339(*f.SyncedAt)
		j.SyncedAt = &s
	}
	return j
}

// fileID reads the {id} path value.
func fileID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &core.Error{Code: core.CodeValidation, Message: "file id must be a positive integer", Field: "id"}
	}
	return id, nil
}

// ownedFile loads the {id} file of the authenticated user.
func (a *API) ownedFile(r *http.Request) (core.File, error) {
	id, err := fileID(r)
	if err != nil {
		return core.File{}, err
	}
	uid, _ := auth.UserID(r.Context())
	return a.Files.FileForUser(r.Context(), uid, id)
}

func (a *API) getFile(w http.ResponseWriter, r *http.Request) {
	f, err := a.ownedFile(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toJSON(f))
}

// updateRequest is PATCH /api/files/{id}'s body.
type updateRequest struct {
	Filename *string    `json:"filename"`
	FolderID optionalID `json:"folder_id"` // null: the root
}

// updateFile is PATCH /api/files/{id}: renames the file (the name
// downloads and shares give it) and/or moves it to another folder.
// Metadata only: the object key, which holds the name given at upload,
// and every tier's object stay as they are.
func (a *API) updateFile(w http.ResponseWriter, r *http.Request) {
	if err := requireJSON(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	id, err := fileID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var in updateRequest
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	var c postgres.FileChange
	if in.Filename != nil {
		if c.Stored, c.Original, err = core.RenameFilenames(*in.Filename); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	if in.FolderID.set {
		c.Move = true
		if c.FolderID, err = in.FolderID.folder("folder_id"); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	if in.Filename == nil && !c.Move {
		a.writeError(w, r, core.FieldError("filename", "send filename, folder_id or both"))
		return
	}
	uid, _ := auth.UserID(r.Context())
	f, err := a.Files.UpdateFile(r.Context(), uid, id, c)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toJSON(f))
}

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

func (a *API) listFiles(w http.ResponseWriter, r *http.Request) {
	p, err := listParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	uid, _ := auth.UserID(r.Context())
	if p.InFolder && p.FolderID != 0 {
		if _, err := a.Files.FolderForUser(r.Context(), uid, p.FolderID); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	files, next, err := a.Files.ListFiles(r.Context(), uid, p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]fileJSON, len(files))
	for i, f := range files {
		out[i] = toJSON(f)
	}
	var nextCursor *string
	if next != "" {
		nextCursor = &next
	}
	writeJSON(w, http.StatusOK, map[string]any{"files": out, "next_cursor": nextCursor})
}

func listParams(r *http.Request) (postgres.ListParams, error) {
	q := r.URL.Query()
	p := postgres.ListParams{Limit: defaultPageSize, Cursor: q.Get("cursor"), Query: q.Get("q")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			return p, core.FieldError("limit", "limit must be a whole number from 1 to %d", maxPageSize)
		}
		p.Limit = n
	}
	if len(p.Query) > core.MaxFilenameBytes || !utf8.ValidString(p.Query) || hasNUL(p.Query) {
		return p, core.FieldError("q", "q must be valid UTF-8 text of at most %d bytes", core.MaxFilenameBytes)
	}
	if s := q.Get("location"); s != "" {
		if !core.Tier(s).Valid() {
			return p, core.FieldError("location", "location must be minio or s3")
		}
		p.Location = core.Tier(s)
	}
	var err error
	if p.FolderID, p.InFolder, err = queryFolder(r, "folder_id"); err != nil {
		return p, err
	}
	// Checked by ListFiles, with the defaults.
	p.Sort, p.Order = core.FileSort(q.Get("sort")), core.SortOrder(q.Get("order"))
	return p, nil
}

func (a *API) deleteFile(w http.ResponseWriter, r *http.Request) {
	id, err := fileID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if a.Config.TrashRetentionDays > 0 {
		a.trashFile(w, r, id)
		return
	}
	uid, _ := auth.UserID(r.Context())
	if err := a.deleteNow(r.Context(), uid, id); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteNow deletes userID's live file id without a trash
// (TRASH_RETENTION_DAYS=0): the object goes from every tier: the sync job may have copied it to
// the cold tier even if the row still says hot. The current tier goes
// last, so a failure leaves a downloadable file and its row. Nothing
// waits for the sync job: it holds a lease, not a lock. Errors as
// postgres.DeleteFile.
func (a *API) deleteNow(ctx context.Context, uid, id int64) error {
	f, err := a.Files.DeleteFile(ctx, uid, id, func(f core.File) error {
		for _, t := range []core.Tier{other(f.Location), f.Location} {
			if err := a.tiers[t].Delete(ctx, f.ObjectKey); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if f.Location == core.TierHot {
		// A sync job copying the file may have finished its cold put after
		// the removal above and flipped the row before it was deleted:
		// remove the cold copy once more now that the row is gone (a put
		// finishing later meets no row at its fenced flip and removes its
		// copy itself).
		if err := a.tiers[core.TierCold].Delete(context.WithoutCancel(ctx), f.ObjectKey); err != nil {
			a.Logger.ErrorContext(ctx, "delete file: cold copy left behind", "file_id", f.ID, "key", f.ObjectKey, "error", err.Error())
		}
	}
	return nil
}

func other(t core.Tier) core.Tier {
	if t == core.TierHot {
		return core.TierCold
	}
	return core.TierHot
}
