package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads a JSON object body into v, refusing wrong content types,
// bodies over 64 KiB, malformed JSON, wrong types and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONLimit(w, r, v, maxJSONBody)
}

// decodeJSONLimit is decodeJSON with a body limit of limit bytes.
func decodeJSONLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return core.Errorf(core.CodeUnsupportedMedia, "request body must be application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if err := dec.Decode(v); err != nil {
		var maxErr *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &maxErr):
			return core.Errorf(core.CodeBodyTooLarge, "request body is larger than %d bytes", limit)
		case errors.As(err, &typeErr):
			return &core.Error{Code: core.CodeValidation, Message: typeErr.Field + " has the wrong type", Field: typeErr.Field}
		case errors.Is(err, io.EOF):
			return core.Errorf(core.CodeValidation, "request body is empty")
		case errors.Is(err, os.ErrDeadlineExceeded):
			return core.Errorf(core.CodeBadRequest, "request body could not be read: it stopped arriving")
		default:
			return core.Errorf(core.CodeValidation, "request body is not valid JSON")
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return core.Errorf(core.CodeValidation, "request body has data after the JSON object")
	}
	return nil
}

// hasNUL reports whether s holds a NUL byte, which PostgreSQL text refuses.
func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }
