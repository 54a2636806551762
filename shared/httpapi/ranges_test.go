package httpapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/storage"
)

// spans builds ranges from offset, length pairs.
func spans(pairs ...int64) []storage.ByteRange {
	out := make([]storage.ByteRange, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, storage.ByteRange{Offset: pairs[i], Length: pairs[i+1]})
	}
	return out
}

func TestPlanRanges(t *testing.T) {
	many := func(n, step int) string {
		specs := make([]string, n)
		for i := range specs {
			specs[i] = fmt.Sprintf("%d-%d", i*step, i*step)
		}
		return "bytes=" + strings.Join(specs, ",")
	}
	tests := []struct {
		name, in   string
		size       int64
		wantHeader string
		wantSpans  []storage.ByteRange
	}{
		{"none", "", 1024, "", nil},
		{"other unit", "items=0-5", 1024, "", nil},
		{"whole from 0", "bytes=0-", 1024, "bytes=0-1023", spans(0, 1024)},
		{"bounded", "bytes=10-19", 1024, "bytes=10-19", spans(10, 10)},
		{"end past size", "bytes=1000-5000", 1024, "bytes=1000-1023", spans(1000, 24)},
		{"suffix", "bytes=-24", 1024, "bytes=1000-1023", spans(1000, 24)},
		{"suffix longer than file", "bytes=-5000", 1024, "bytes=0-1023", spans(0, 1024)},
		{"suffix zero", "bytes=-0", 1024, "bytes=1024-", nil},
		{"start at size", "bytes=1024-", 1024, "bytes=1024-", nil},
		{"beyond size", "bytes=2000-3000", 1024, "bytes=1024-", nil},
		{"empty file", "bytes=0-", 0, "", nil},
		{"empty file suffix", "bytes=-1", 0, "", nil},
		{"unsatisfiable dropped", "bytes=-0,5-9,4000-", 1024, "bytes=5-9", spans(5, 5)},
		{"last before first", "bytes=5-2", 1024, "", nil},
		{"not digits", "bytes=a-b", 1024, "", nil},
		{"no dash", "bytes=5", 1024, "", nil},
		{"negative", "bytes=--5", 1024, "", nil},
		{"one bad spec spoils the set", "bytes=0-1,5-2", 1024, "", nil},
		{"only commas", "bytes=,,", 1024, "", nil},
		{"spaces and empty elements", "bytes= 0-1 , ,4-5", 1024, "bytes=0-1,4-5", spans(0, 2, 4, 2)},
		{"huge numbers", "bytes=0-99999999999999999999999", 1024, "bytes=0-1023", spans(0, 1024)},
		{"overlapping merged", "bytes=0-10,5-20", 1024, "bytes=0-20", spans(0, 21)},
		{"adjacent merged", "bytes=0-9,10-19", 1024, "bytes=0-19", spans(0, 20)},
		{"order kept", "bytes=100-109,0-9", 1024, "bytes=100-109,0-9", spans(0, 10, 100, 10)},
		{"merged group keeps its first place", "bytes=500-509,0-9,5-20,505-600", 1024, "bytes=500-600,0-20", spans(0, 21, 500, 101)},
		{"3000 adjacent ranges are one", many(3000, 1), 4096, "bytes=0-2999", spans(0, 3000)},
		{"16 ranges served", many(16, 2), 4096, many(16, 2), nil},
		{"17 ranges: whole file", many(17, 2), 4096, "", nil},
		{"3000 ranges: whole file", many(3000, 2), 8192, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, got := planRanges(tc.in, tc.size)
			if h != tc.wantHeader {
				t.Errorf("header %q, want %q", h, tc.wantHeader)
			}
			if tc.wantSpans != nil && fmt.Sprint(got) != fmt.Sprint(tc.wantSpans) {
				t.Errorf("spans %v, want %v", got, tc.wantSpans)
			}
			if tc.wantHeader == "" || strings.HasSuffix(tc.wantHeader, "-") {
				if got != nil {
					t.Errorf("spans %v, want none", got)
				}
			}
		})
	}
}

func FuzzPlanRanges(f *testing.F) {
	for _, s := range []string{"bytes=0-", "bytes=-0", "bytes=5-2", "bytes=0-1,1-2,-3", "bytes=,", "bytes=99999999999999999999-"} {
		f.Add(s, int64(1024))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			return
		}
		rng, got := planRanges(h, size)
		if len(got) > maxRanges {
			t.Fatalf("%d spans", len(got))
		}
		var total int64
		for i, s := range got {
			if s.Length <= 0 || s.Offset < 0 || s.Offset+s.Length > size {
				t.Fatalf("span %v outside a file of %d bytes", s, size)
			}
			if i > 0 && got[i-1].Offset+got[i-1].Length >= s.Offset {
				t.Fatalf("spans %v overlap, touch or are out of order", got)
			}
			total += s.Length
		}
		if total > size {
			t.Fatalf("spans of %d bytes for a file of %d", total, size)
		}
		if again, _ := planRanges(rng, size); rng != "" && got != nil && again != rng {
			t.Fatalf("planned header %q plans again as %q", rng, again)
		}
	})
}
