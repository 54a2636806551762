package core

import (
	"slices"
	"strings"
)

// FileSort is the key a file list is ordered by; ties are broken by id in
// the same direction.
type FileSort string

// The sorts of GET /api/files.
const (
	SortName       FileSort = "name"        // original filename, case-insensitive (see shared/postgres ListFiles)
	SortSize       FileSort = "size"        // bytes
	SortUploadedAt FileSort = "uploaded_at" // upload time
)

// FileSorts are the valid sorts, in the order the API documents them.
var FileSorts = []FileSort{SortName, SortSize, SortUploadedAt}

// DefaultFileSort is the sort of a list that names none: newest first.
const DefaultFileSort = SortUploadedAt

// Valid reports whether s is a known sort.
func (s FileSort) Valid() bool { return slices.Contains(FileSorts, s) }

// DefaultOrder is the order of sort s when the request names none: A to Z
// for names, largest and newest first for size and upload time.
func (s FileSort) DefaultOrder() SortOrder {
	if s == SortName {
		return OrderAsc
	}
	return OrderDesc
}

// SortOrder is the direction of a sort.
type SortOrder string

// The orders of GET /api/files.
const (
	OrderAsc  SortOrder = "asc"
	OrderDesc SortOrder = "desc"
)

// SortOrders are the valid orders.
var SortOrders = []SortOrder{OrderAsc, OrderDesc}

// Valid reports whether o is a known order.
func (o SortOrder) Valid() bool { return slices.Contains(SortOrders, o) }

// CheckSort returns a validation error naming the field when s or o is
// not known; empty ones (the defaults) are fine.
func CheckSort(s FileSort, o SortOrder) error {
	if s != "" && !s.Valid() {
		return FieldError("sort", "sort must be one of %s", joinValues(FileSorts))
	}
	if o != "" && !o.Valid() {
		return FieldError("order", "order must be one of %s", joinValues(SortOrders))
	}
	return nil
}

func joinValues[T ~string](vs []T) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return strings.Join(out, ", ")
}
