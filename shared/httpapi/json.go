package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
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
// bodies over 64 KiB, malformed JSON, a body that is not an object, wrong
// types (naming the field, its path for nested ones) and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONLimit(w, r, v, maxJSONBody)
}

// decodeOptionalJSON is decodeJSON where an empty body is an empty object
// (every field absent).
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONBody(w, r, v, maxJSONBody, true)
}

// decodeJSONLimit is decodeJSON with a body limit of limit bytes.
func decodeJSONLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	return decodeJSONBody(w, r, v, limit, false)
}

func decodeJSONBody(w http.ResponseWriter, r *http.Request, v any, limit int64, optional bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return core.Errorf(core.CodeUnsupportedMedia, "request body must be application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var maxErr *http.MaxBytesError
		switch {
		case errors.As(err, &maxErr):
			return core.Errorf(core.CodeBodyTooLarge, "request body is larger than %d bytes", limit)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return core.Errorf(core.CodeBadRequest, "request body could not be read: it stopped arriving")
		}
		return core.Errorf(core.CodeBadRequest, "request body could not be read: %s", shortReason(err))
	}
	start := bytes.TrimLeft(body, " \t\r\n")
	if len(start) == 0 {
		if optional {
			return nil
		}
		return core.Errorf(core.CodeValidation, "request body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if start[0] != '{' {
		if err := dec.Decode(new(json.RawMessage)); err != nil {
			return core.Errorf(core.CodeValidation, "request body is not valid JSON")
		}
		return core.Errorf(core.CodeValidation, "request body must be a JSON object, not %s", jsonKind(start[0]))
	}
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return &core.Error{Code: core.CodeValidation, Field: typeErr.Field,
				Message: fmt.Sprintf("%s must be %s, not %s", typeErr.Field, wantKind(typeErr.Type), gotKind(typeErr.Value))}
		case errors.As(err, &typeErr):
			return core.Errorf(core.CodeValidation, "request body has a value of the wrong type")
		}
		return core.Errorf(core.CodeValidation, "request body is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return core.Errorf(core.CodeValidation, "request body has data after the JSON object")
	}
	return nil
}

// jsonKind names the JSON value that starts with byte c.
func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	}
	return "a number"
}

// wantKind names the JSON value a Go type decodes from.
func wantKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// gotKind names the value of a json.UnmarshalTypeError ("string",
// "number 1.5", "array"...).
func gotKind(v string) string {
	switch v {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "array":
		return "an array"
	case "object":
		return "an object"
	case "number":
		return "a number"
	}
	return v
}

// hasNUL reports whether s holds a NUL byte, which PostgreSQL text refuses.
func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }
