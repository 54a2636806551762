package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Detail    string `json:"detail"`
	ErrorCode string `json:"error_code"`
	Field     string `json:"field,omitempty"`
}

// statusOf maps an error code to its HTTP status.
func statusOf(c core.Code) int {
	switch c {
	case core.CodeValidation, core.CodeBadRequest, core.CodeMissingFile, core.CodeInvalidFilename, core.CodeResetTokenInvalid:
		return http.StatusBadRequest
	case core.CodeUnauthorized, core.CodeTokenExpired, core.CodeInvalidCredentials, core.CodeSharePassword,
		core.CodeSessionExpired, core.CodeSessionRevoked, core.CodeTOTPRequired:
		return http.StatusUnauthorized
	case core.CodeForbidden:
		return http.StatusForbidden
	case core.CodeFileNotFound, core.CodeNotFound, core.CodeUploadNotFound, core.CodeShareNotFound, core.CodeSessionNotFound,
		core.CodeFolderNotFound:
		return http.StatusNotFound
	case core.CodeShareGone:
		return http.StatusGone
	case core.CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case core.CodeEmailTaken, core.CodeSyncRunning, core.CodeUploadCompleting,
		core.CodeTOTPEnabled, core.CodeTOTPNotEnabled, core.CodeTOTPSetupRequired,
		core.CodeNameTaken, core.CodeFolderCycle, core.CodeFolderTooDeep, core.CodeFolderLimit:
		return http.StatusConflict
	case core.CodeFileTooLarge, core.CodeBodyTooLarge, core.CodeUploadQuota, core.CodeQuotaExceeded:
		return http.StatusRequestEntityTooLarge
	case core.CodeHeadersTooLarge:
		return http.StatusRequestHeaderFieldsTooLarge
	case core.CodeUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case core.CodeRangeNotSatisfied:
		return http.StatusRequestedRangeNotSatisfiable
	case core.CodePreconditionFailed:
		return http.StatusPreconditionFailed
	case core.CodeRateLimited, core.CodeTooManyUploads, core.CodeTooManyStreams:
		return http.StatusTooManyRequests
	case core.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError answers err in the JSON error format. Domain errors (*core.Error)
// are shown as they are; anything else is logged and answered 500 "internal
// error", never with its text.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var de *core.Error
	if !errors.As(err, &de) {
		a.Logger.ErrorContext(r.Context(), "request failed", "err", err.Error(),
			"method", r.Method, "path", loggedPath(r), "request_id", requestID(r.Context()))
		de = core.Errorf(core.CodeInternal, "internal error")
	}
	if de.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(de.RetryAfter))
	}
	writeJSON(w, statusOf(de.Code), errorBody{Detail: de.Message, ErrorCode: string(de.Code), Field: de.Field})
}
