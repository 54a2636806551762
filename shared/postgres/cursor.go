package postgres

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// listCursor is where the next page of a file list starts: after the row
// with key Key and id ID in the list sorted by Sort in Order. Key is the
// last row's sort value as text: Unix microseconds (uploaded_at), bytes
// (size) or the original filename (name; the query lowers it as it lowers
// the column).
type listCursor struct {
	Sort  core.FileSort
	Order core.SortOrder
	Key   string
	ID    int64
}

// maxCursorLen bounds a cursor's text: base64 of the longest one (a name
// of core.MaxFilenameBytes plus sort, order and id) is under 400.
const maxCursorLen = 512

// maxCursorMicros is the latest upload time a cursor may carry (year
// 9999), so that its parameter is always a timestamp PostgreSQL holds.
const maxCursorMicros = 253402300799999999

// cursorAfter is the cursor of the page after file f in sort s, order o.
func cursorAfter(s core.FileSort, o core.SortOrder, f core.File) listCursor {
	c := listCursor{Sort: s, Order: o, ID: f.ID}
	switch s {
	case core.SortName:
		c.Key = f.OriginalFilename
	case core.SortSize:
		c.Key = strconv.FormatInt(f.Size, 10)
	default:
		c.Key = strconv.FormatInt(f.UploadedAt.UnixMicro(), 10)
	}
	return c
}

// encode is the cursor's opaque text: base64url of sort:order:id:key (the
// key last, since a name may hold colons).
func (c listCursor) encode() string {
	raw := string(c.Sort) + ":" + string(c.Order) + ":" + strconv.FormatInt(c.ID, 10) + ":" + c.Key
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// keyArg is the cursor's key as the query's parameter: a time, a size or
// a name.
func (c listCursor) keyArg() any {
	n, _ := strconv.ParseInt(c.Key, 10, 64) // checked by decodeCursor
	switch c.Sort {
	case core.SortName:
		return c.Key
	case core.SortSize:
		return n
	default:
		return time.UnixMicro(n).UTC()
	}
}

// decodeCursor parses a cursor of encode; any text it did not write, or
// whose key does not fit its sort, is an error.
func decodeCursor(s string) (listCursor, error) {
	if len(s) > maxCursorLen {
		return listCursor{}, errors.New("cursor too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return listCursor{}, fmt.Errorf("cursor encoding: %w", err)
	}
	parts := strings.SplitN(string(raw), ":", 4)
	if len(parts) != 4 {
		return listCursor{}, errors.New("cursor has too few fields")
	}
	c := listCursor{Sort: core.FileSort(parts[0]), Order: core.SortOrder(parts[1]), Key: parts[3]}
	if !c.Sort.Valid() || !c.Order.Valid() {
		return listCursor{}, errors.New("cursor names an unknown sort or order")
	}
	c.ID, err = strconv.ParseInt(parts[2], 10, 64)
	if err != nil || c.ID <= 0 || strconv.FormatInt(c.ID, 10) != parts[2] {
		return listCursor{}, errors.New("cursor id is not a positive number")
	}
	switch c.Sort {
	case core.SortName:
		if c.Key == "" || len(c.Key) > core.MaxFilenameBytes || !utf8.ValidString(c.Key) || strings.ContainsRune(c.Key, 0) {
			return listCursor{}, errors.New("cursor name is not a filename")
		}
	default:
		n, err := strconv.ParseInt(c.Key, 10, 64)
		if err != nil || strconv.FormatInt(n, 10) != c.Key || n < 0 || (c.Sort == core.SortUploadedAt && n > maxCursorMicros) {
			return listCursor{}, errors.New("cursor key is not a number of its sort")
		}
	}
	return c, nil
}

// encodeTimeCursor is the trash list's cursor: the last row's time and id.
func encodeTimeCursor(at time.Time, id int64) string {
	raw := strconv.FormatInt(at.UnixMicro(), 10) + ":" + strconv.FormatInt(id, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeTimeCursor(c string) (time.Time, int64, error) {
	if len(c) > 64 {
		return time.Time{}, 0, errors.New("cursor too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, err
	}
	us, ids, ok := strings.Cut(string(raw), ":")
	if !ok {
		return time.Time{}, 0, errors.New("cursor has no separator")
	}
	micros, err := strconv.ParseInt(us, 10, 64)
	if err != nil {
		return time.Time{}, 0, err
	}
	id, err := strconv.ParseInt(ids, 10, 64)
	if err != nil || id <= 0 {
		return time.Time{}, 0, errors.New("cursor id is not positive")
	}
	return time.UnixMicro(micros).UTC(), id, nil
}
