package httpapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// Bulk actions: POST /api/files/bulk {action, file_ids, folder_ids,
// target_folder_id} acts on up to maxBulkItems files and folders and
// answers each one's outcome; one failing leaves the others done, and
// each item is either done or untouched.
const (
	maxBulkItems = 1000
	// bulkWorkers bounds the purges a bulk delete without a trash runs at
	// once (each removes objects from both tiers).
	bulkWorkers = 8
	// defaultBulkBudget is how long a bulk delete without a trash keeps
	// starting purges: files not reached by then answer failed with
	// SERVICE_UNAVAILABLE (nothing was done to them; send them again).
	// Started purges run on up to bulkItemGrace more, inside the 29 s of
	// the function (API Gateway waits 30 s).
	defaultBulkBudget = 18 * time.Second
	bulkItemGrace     = 8 * time.Second
)

// Statuses of a bulk action's results.
const (
	bulkTrashed  = "trashed"  // delete with a trash: the file is in the trash
	bulkDeleted  = "deleted"  // delete without a trash: the file and its objects are gone
	bulkRestored = "restored" // restore: the file is back in the list
	bulkMoved    = "moved"    // move: the item is in the target folder
	bulkFailed   = "failed"   // nothing was done to the file: error_code and detail say why
)

type bulkRequest struct {
	Action         string     `json:"action"`
	FileIDs        []int64    `json:"file_ids"`
	FolderIDs      []int64    `json:"folder_ids"`
	TargetFolderID optionalID `json:"target_folder_id"` // move: null is the root
}

// bulkItems are a bulk request's checked items.
type bulkItems struct {
	files, folders []int64
	target         *int64 // move
}

type bulkResult struct {
	Kind      string `json:"kind"` // file or folder
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	ErrorCode string `json:"error_code,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// bulk is POST /api/files/bulk: delete (to the trash, or for good without
// one, as DELETE /api/files/{id} and /api/folders/{id}), restore (as POST
// /api/trash/{id}/restore and /api/trash/folders/{id}/restore) or move
// (as PATCH with folder_id / parent_id) each of file_ids and folder_ids.
// The answer is 200 with one result per distinct id, files first, each in
// the order of the request. Another user's id answers failed
// FILE_NOT_FOUND / FOLDER_NOT_FOUND as a missing one does: a bulk call
// does not tell which ids exist.
func (a *API) bulk(w http.ResponseWriter, r *http.Request) {
	if err := requireJSON(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	var in bulkRequest
	if err := decodeJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	items, err := validateBulk(in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	uid, _ := auth.UserID(ctx)
	if items.target != nil {
		if _, err := a.Files.FolderForUser(ctx, uid, *items.target); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	ids := items.files
	var results []bulkResult
	purge := a.Config.TrashRetentionDays <= 0 // delete without a trash
	switch {
	case len(ids) == 0:
	case in.Action == "move":
		results, err = a.bulkUpdate(ctx, ids, bulkMoved, func(ctx context.Context) ([]int64, error) {
			return a.Files.MoveFiles(ctx, uid, ids, items.target)
		})
	case in.Action == "restore":
		results, err = a.bulkUpdate(ctx, ids, bulkRestored, func(ctx context.Context) ([]int64, error) {
			return a.Files.RestoreFiles(ctx, uid, ids)
		})
	case a.Config.TrashRetentionDays > 0:
		results, err = a.bulkUpdate(ctx, ids, bulkTrashed, func(ctx context.Context) ([]int64, error) {
			return a.Files.TrashFiles(ctx, uid, ids, a.Config.TrashRetention())
		})
	default:
		results = a.bulkDeleteNow(ctx, uid, ids)
	}
	if err != nil {
		a.writeError(w, r, accountGone(err))
		return
	}
	for _, id := range items.folders {
		res := bulkResult{Kind: "folder", ID: id}
		var err error
		switch in.Action {
		case "move":
			res.Status = bulkMoved
			_, err = a.Files.UpdateFolder(ctx, uid, id, postgres.FolderChange{Move: true, ParentID: items.target})
		case "restore":
			res.Status = bulkRestored
			_, err = a.Files.RestoreFolder(ctx, uid, id)
		default:
			res.Status = bulkTrashed
			if purge {
				res.Status = bulkDeleted
			}
			err = a.Files.TrashFolder(ctx, uid, id, a.Config.TrashRetention(), purge)
		}
		results = append(results, folderResult(res, err))
	}
	if purge && in.Action == "delete" && len(items.folders) > 0 {
		a.purgeNow(ctx, uid, "bulk delete of folders")
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// folderResult is res, or its failure when err is set: another user's
// folder reads as a missing one, a domain error says itself, anything
// else is an internal error (the folder is unchanged: each folder's change
// is one transaction).
func folderResult(res bulkResult, err error) bulkResult {
	if err == nil {
		return res
	}
	res.Status = bulkFailed
	var de *core.Error
	switch {
	case errors.Is(err, postgres.ErrFolderForbidden):
		de = postgres.ErrFolderNotFound
	case errors.As(err, &de):
	default:
		de = core.Errorf(core.CodeInternal, "the folder could not be changed and is unchanged: try again")
	}
	res.ErrorCode, res.Detail = string(de.Code), de.Message
	return res
}

// validateBulk checks a bulk request and returns its distinct file and
// folder ids in the order they were first given.
func validateBulk(in bulkRequest) (bulkItems, error) {
	var items bulkItems
	switch in.Action {
	case "delete", "restore":
		if in.TargetFolderID.set {
			return items, core.FieldError("target_folder_id", "target_folder_id is for move only")
		}
	case "move":
		if !in.TargetFolderID.set {
			return items, core.FieldError("target_folder_id", "target_folder_id is required for move: a folder id, or null for the root")
		}
		var err error
		if items.target, err = in.TargetFolderID.folder("target_folder_id"); err != nil {
			return items, err
		}
	case "":
		return items, core.FieldError("action", "action is required: delete, restore or move")
	default:
		return items, core.FieldError("action", "action must be delete, restore or move")
	}
	var err error
	if items.files, err = distinctIDs("file_ids", in.FileIDs); err != nil {
		return items, err
	}
	if items.folders, err = distinctIDs("folder_ids", in.FolderIDs); err != nil {
		return items, err
	}
	if n := len(items.files) + len(items.folders); n == 0 || n > maxBulkItems {
		return items, core.FieldError("file_ids", "file_ids and folder_ids must list 1 to %d distinct ids together, not %d", maxBulkItems, n)
	}
	return items, nil
}

// distinctIDs checks ids (field names them) and returns them without
// repeats, in the order first given.
func distinctIDs(field string, ids []int64) ([]int64, error) {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for i, id := range ids {
		if id <= 0 {
			return nil, core.FieldError(field, "%s[%d] must be a positive integer", field, i)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// bulkUpdate runs one statement that changes the rows of some of ids and
// returns which: those answer status, the rest failed FILE_NOT_FOUND.
func (a *API) bulkUpdate(ctx context.Context, ids []int64, status string, update func(context.Context) ([]int64, error)) ([]bulkResult, error) {
	done, err := update(ctx)
	if err != nil {
		return nil, err
	}
	ok := make(map[int64]bool, len(done))
	for _, id := range done {
		ok[id] = true
	}
	results := make([]bulkResult, len(ids))
	for i, id := range ids {
		if ok[id] {
			results[i] = bulkResult{Kind: "file", ID: id, Status: status}
		} else {
			results[i] = notFoundResult(id)
		}
	}
	return results, nil
}

func notFoundResult(id int64) bulkResult {
	return bulkResult{Kind: "file", ID: id, Status: bulkFailed, ErrorCode: string(core.CodeFileNotFound), Detail: "file not found"}
}

// bulkDeleteNow deletes each of ids for good (no trash), as DELETE
// /api/files/{id} does, bulkWorkers at a time. A purge is started only
// within a.bulkBudget; the files not reached answer failed
// SERVICE_UNAVAILABLE, untouched.
func (a *API) bulkDeleteNow(ctx context.Context, uid int64, ids []int64) []bulkResult {
	start := time.Now()
	// Started purges finish even if the client goes away: each leaves its
	// file whole or gone.
	itemCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), start.Add(a.bulkBudget+bulkItemGrace))
	defer cancel()
	results := make([]bulkResult, len(ids))
	slots := make(chan struct{}, bulkWorkers)
	var wg sync.WaitGroup
	for i, id := range ids {
		slots <- struct{}{}
		if time.Since(start) >= a.bulkBudget || ctx.Err() != nil {
			<-slots
			results[i] = bulkResult{Kind: "file", ID: id, Status: bulkFailed, ErrorCode: string(core.CodeUnavailable),
				Detail: "not attempted within this request's time budget: nothing was done, send it again"}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			err := a.deleteNow(itemCtx, uid, id)
			var de *core.Error
			switch {
			case err == nil:
				results[i] = bulkResult{Kind: "file", ID: id, Status: bulkDeleted}
			case errors.As(err, &de) && (de.Code == core.CodeFileNotFound || de.Code == core.CodeForbidden):
				results[i] = notFoundResult(id)
			default:
				a.Logger.ErrorContext(ctx, "bulk delete: file left as it was", "file_id", id, "user_id", uid, "error", err.Error())
				results[i] = bulkResult{Kind: "file", ID: id, Status: bulkFailed, ErrorCode: string(core.CodeInternal),
					Detail: "the file could not be deleted and is unchanged: try again"}
			}
		}()
	}
	wg.Wait()
	return results
}
