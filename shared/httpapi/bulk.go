package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// Bulk actions: POST /api/files/bulk {action, file_ids} acts on up to
// maxBulkItems files and answers each one's outcome; one failing leaves
// the others done, and each file is either done or untouched.
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
	bulkFailed   = "failed"   // nothing was done to the file: error_code and detail say why
)

type bulkRequest struct {
	Action  string  `json:"action"`
	FileIDs []int64 `json:"file_ids"`
	// Folders are not built yet: these are refused when sent (not null).
	FolderIDs      *json.RawMessage `json:"folder_ids"`
	TargetFolderID *json.RawMessage `json:"target_folder_id"`
}

type bulkResult struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	ErrorCode string `json:"error_code,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

// bulk is POST /api/files/bulk: delete (to the trash, or for good without
// one, as DELETE /api/files/{id}) or restore (as POST
// /api/trash/{id}/restore) each of file_ids. The answer is 200 with one
// result per distinct id in the order of the request. Another user's id
// answers failed FILE_NOT_FOUND as a missing one does: a bulk call does
// not tell which ids exist.
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
	ids, err := validateBulk(in)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	uid, _ := auth.UserID(r.Context())
	var results []bulkResult
	switch {
	case in.Action == "restore":
		results, err = a.bulkUpdate(r.Context(), ids, bulkRestored, func(ctx context.Context) ([]int64, error) {
			return a.Files.RestoreFiles(ctx, uid, ids)
		})
	case a.Config.TrashRetentionDays > 0:
		results, err = a.bulkUpdate(r.Context(), ids, bulkTrashed, func(ctx context.Context) ([]int64, error) {
			return a.Files.TrashFiles(ctx, uid, ids, a.Config.TrashRetention())
		})
	default:
		results = a.bulkDeleteNow(r.Context(), uid, ids)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// notBuilt refuses what needs folders, which are not built yet: 400
// naming field.
func notBuilt(field, what string) error {
	return core.FieldError(field, "%s is not available yet: folders do not exist", what)
}

// validateBulk checks a bulk request and returns its distinct file ids in
// the order they were first given.
func validateBulk(in bulkRequest) ([]int64, error) {
	switch in.Action {
	case "delete", "restore":
	case "move":
		return nil, notBuilt("action", "move")
	case "":
		return nil, core.FieldError("action", "action is required: delete or restore")
	default:
		return nil, core.FieldError("action", "action must be delete or restore")
	}
	if in.FolderIDs != nil {
		return nil, notBuilt("folder_ids", "folder_ids")
	}
	if in.TargetFolderID != nil {
		return nil, notBuilt("target_folder_id", "target_folder_id")
	}
	seen := make(map[int64]bool, len(in.FileIDs))
	ids := make([]int64, 0, len(in.FileIDs))
	for i, id := range in.FileIDs {
		if id <= 0 {
			return nil, core.FieldError("file_ids", "file_ids[%d] must be a positive integer", i)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || len(ids) > maxBulkItems {
		return nil, core.FieldError("file_ids", "file_ids must list 1 to %d distinct file ids, not %d", maxBulkItems, len(ids))
	}
	return ids, nil
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
			results[i] = bulkResult{ID: id, Status: status}
		} else {
			results[i] = notFoundResult(id)
		}
	}
	return results, nil
}

func notFoundResult(id int64) bulkResult {
	return bulkResult{ID: id, Status: bulkFailed, ErrorCode: string(core.CodeFileNotFound), Detail: "file not found"}
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
			results[i] = bulkResult{ID: id, Status: bulkFailed, ErrorCode: string(core.CodeUnavailable),
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
				results[i] = bulkResult{ID: id, Status: bulkDeleted}
			case errors.As(err, &de) && (de.Code == core.CodeFileNotFound || de.Code == core.CodeForbidden):
				results[i] = notFoundResult(id)
			default:
				a.Logger.ErrorContext(ctx, "bulk delete: file left as it was", "file_id", id, "user_id", uid, "error", err.Error())
				results[i] = bulkResult{ID: id, Status: bulkFailed, ErrorCode: string(core.CodeInternal),
					Detail: "the file could not be deleted and is unchanged: try again"}
			}
		}()
	}
	wg.Wait()
	return results
}
