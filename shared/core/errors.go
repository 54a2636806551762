package core

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error code, sent to clients as error_code.
type Code string

// Error codes of the API. Each maps to one HTTP status in httpapi.
const (
	CodeValidation         Code = "VALIDATION_ERROR"
	CodeBadRequest         Code = "BAD_REQUEST"
	CodeEmailTaken         Code = "EMAIL_TAKEN"
	CodeInvalidCredentials Code = "INVALID_CREDENTIALS"
	CodeUnauthorized       Code = "UNAUTHORIZED"
	CodeTokenExpired       Code = "TOKEN_EXPIRED"
	CodeForbidden          Code = "FORBIDDEN"
	CodeFileNotFound       Code = "FILE_NOT_FOUND"
	CodeUploadNotFound     Code = "UPLOAD_NOT_FOUND"
	CodeNotFound           Code = "NOT_FOUND"
	CodeMethodNotAllowed   Code = "METHOD_NOT_ALLOWED"
	CodeMissingFile        Code = "MISSING_FILE"
	CodeInvalidFilename    Code = "INVALID_FILENAME"
	CodeFileTooLarge       Code = "FILE_TOO_LARGE"
	CodeBodyTooLarge       Code = "BODY_TOO_LARGE"
	CodeHeadersTooLarge    Code = "HEADERS_TOO_LARGE"
	CodeUnsupportedMedia   Code = "UNSUPPORTED_MEDIA_TYPE"
	CodeRateLimited        Code = "RATE_LIMITED"
	CodeRangeNotSatisfied  Code = "RANGE_NOT_SATISFIABLE"
	CodePreconditionFailed Code = "PRECONDITION_FAILED"
	CodeUnavailable        Code = "SERVICE_UNAVAILABLE"
	CodeSyncRunning        Code = "SYNC_RUNNING"
	CodeUploadCompleting   Code = "UPLOAD_COMPLETING" // another request is finishing the upload: retry after Retry-After
	CodeTooManyUploads     Code = "TOO_MANY_UPLOADS"  // MAX_OPEN_UPLOADS reached: complete or abort one first
	CodeUploadQuota        Code = "UPLOAD_QUOTA_EXCEEDED"
	CodeQuotaExceeded      Code = "QUOTA_EXCEEDED"          // the upload would take the user past their storage quota
	CodeShareNotFound      Code = "SHARE_NOT_FOUND"         // no share has this token
	CodeShareGone          Code = "SHARE_GONE"              // expired, revoked, used up, or its file trashed or deleted
	CodeSharePassword      Code = "SHARE_PASSWORD_REQUIRED" // the share has a password and none was sent
	CodeInternal           Code = "INTERNAL_ERROR"

	CodeFolderNotFound Code = "FOLDER_NOT_FOUND" // no live folder of the caller has this id
	CodeNameTaken      Code = "NAME_TAKEN"       // a sibling folder has this name (case-insensitively)
	CodeFolderCycle    Code = "FOLDER_CYCLE"     // a folder cannot move into itself or a descendant
	CodeFolderTooDeep  Code = "FOLDER_TOO_DEEP"  // folders nest at most MaxFolderDepth deep
	CodeFolderLimit    Code = "FOLDER_LIMIT"     // a user has at most MaxFolders folders

	// Sessions (issue 22).
	CodeSessionExpired    Code = "SESSION_EXPIRED"     // the session passed its idle or absolute limit, or is unknown: log in again
	CodeSessionRevoked    Code = "SESSION_REVOKED"     // the session was ended (logout, password change or reset, refresh token reuse, account deletion)
	CodeSessionNotFound   Code = "SESSION_NOT_FOUND"   // no live session of the caller has this id
	CodeTOTPRequired      Code = "TOTP_REQUIRED"       // the account has two-factor login: send totp_code or recovery_code
	CodeTOTPEnabled       Code = "TOTP_ENABLED"        // two-factor login is already on: disable it first
	CodeTOTPNotEnabled    Code = "TOTP_NOT_ENABLED"    // two-factor login is off
	CodeTOTPSetupRequired Code = "TOTP_SETUP_REQUIRED" // enable without a setup first
	CodeResetTokenInvalid Code = "RESET_TOKEN_INVALID" // unknown, used or expired password reset token

	// MAX_STREAMED_UPLOADS or MAX_STREAMED_UPLOADS_PER_USER streamed
	// uploads are under way: retry after Retry-After.
	CodeTooManyStreams Code = "TOO_MANY_STREAMED_UPLOADS"
)

// Error is a domain error: a code for machines and a message safe to show
// to the user. Field, when set, names the input field at fault;
// RetryAfter, when set, is the Retry-After (seconds) of the answer.
type Error struct {
	Code       Code
	Message    string
	Field      string
	RetryAfter int
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns a validation *Error naming the field at fault.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: CodeValidation, Message: fmt.Sprintf(format, args...), Field: field}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal when there is none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
