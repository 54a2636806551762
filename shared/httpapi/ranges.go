package httpapi

import (
	"sort"
	"strconv"
	"strings"

	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// maxRanges is the most ranges a download answers with 206, after
// overlapping and adjacent ranges are merged: a request for more gets the
// whole file with 200, as RFC 9110 lets a server do and as nginx and
// Apache do too. Each range costs one GET on the tier.
const maxRanges = 16

// planRanges reads the Range header h of a download of size bytes. It
// returns the Range header http.ServeContent is to see, and the ranges the
// tier will be asked for, sorted by offset:
//   - "" and nil serve the whole file with 200: no header, a unit other than
//     bytes, a syntactically invalid range set (RFC 9110 14.1.1: "bytes=5-2"
//     is invalid; the recipient ignores the header), more than maxRanges,
//     or an empty file (as net/http does: some clients send a Range with
//     every request);
//   - "bytes={size}-" and nil when no range is satisfiable ("bytes=-0", a
//     start at or past the end): ServeContent
//     answers 416 with Content-Range "bytes */{size}", after it has
//     checked the preconditions;
//   - otherwise the satisfiable ranges, overlapping and adjacent ones
//     merged, in the order they were asked for (RFC 9110 15.3.7.2).
func planRanges(h string, size int64) (string, []storage.ByteRange) {
	specs, ok := strings.CutPrefix(h, "bytes=")
	if !ok || size == 0 {
		return "", nil
	}
	var asked []storage.ByteRange
	valid := false
	for _, spec := range strings.Split(specs, ",") {
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue
		}
		r, satisfiable, ok := parseRangeSpec(spec, size)
		if !ok {
			return "", nil
		}
		valid = true
		if satisfiable {
			asked = append(asked, r)
		}
	}
	switch {
	case !valid:
		return "", nil
	case len(asked) == 0:
		return "bytes=" + strconv.FormatInt(size, 10) + "-", nil
	}
	inOrder, sorted := mergeRanges(asked)
	if len(inOrder) > maxRanges {
		return "", nil
	}
	var b strings.Builder
	b.WriteString("bytes=")
	for i, r := range inOrder {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(r.Offset, 10) + "-" + strconv.FormatInt(r.Offset+r.Length-1, 10))
	}
	return b.String(), sorted
}

// parseRangeSpec parses one int-range ("N-", "N-M") or suffix-range ("-N")
// against a file of size bytes. ok is false when spec is syntactically
// invalid; satisfiable is false when it selects no byte of the file.
func parseRangeSpec(spec string, size int64) (r storage.ByteRange, satisfiable, ok bool) {
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return r, false, false
	}
	if first == "" { // suffix-range: the last N bytes
		n, ok := parseDigits(last)
		if !ok {
			return r, false, false
		}
		if n == 0 || size == 0 {
			return r, false, true
		}
		n = min(n, size)
		return storage.ByteRange{Offset: size - n, Length: n}, true, true
	}
	start, ok := parseDigits(first)
	if !ok {
		return r, false, false
	}
	end := size - 1
	if last != "" {
		e, ok := parseDigits(last)
		if !ok || e < start {
			return r, false, false
		}
		end = min(e, size-1)
	}
	if start >= size {
		return r, false, true
	}
	return storage.ByteRange{Offset: start, Length: end - start + 1}, true, true
}

// parseDigits parses 1*DIGIT; numbers past int64 count as its maximum.
func parseDigits(s string) (int64, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, _ := strconv.ParseInt(s, 10, 64) // only ErrRange can be left, with n the maximum
	return n, true
}

// mergeRanges merges overlapping and adjacent ranges. It returns them in
// the order of the first range of each merged group, and sorted by offset.
func mergeRanges(rs []storage.ByteRange) (inOrder, sorted []storage.ByteRange) {
	idx := make([]int, len(rs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return rs[idx[a]].Offset < rs[idx[b]].Offset })
	type group struct {
		r     storage.ByteRange
		first int // index in rs of the group's first range asked for
	}
	var groups []group
	for _, i := range idx {
		r := rs[i]
		if n := len(groups); n > 0 {
			g := &groups[n-1]
			if end := g.r.Offset + g.r.Length; r.Offset <= end {
				g.r.Length = max(end, r.Offset+r.Length) - g.r.Offset
				g.first = min(g.first, i)
				continue
			}
		}
		groups = append(groups, group{r, i})
	}
	sorted = make([]storage.ByteRange, len(groups))
	for i, g := range groups {
		sorted[i] = g.r
	}
	sort.SliceStable(groups, func(a, b int) bool { return groups[a].first < groups[b].first })
	inOrder = make([]storage.ByteRange, len(groups))
	for i, g := range groups {
		inOrder[i] = g.r
	}
	return inOrder, sorted
}
