package postgres

import (
	"fmt"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// Numbered names on upload: a file gets its own name, or the first free of
// "stem (1).ext", "stem (2).ext"… (core.NumberedName) among the live files
// of the folder it lands in, chosen by file_name_pick (migration 00025)
// in the statement or transaction that records it. Renames, moves and
// restores do not number: they may still give two files one name.

// nameBlock is how many names one call of file_name_pick tries;
// maxNameBlocks how many calls a file gets before it is refused.
const (
	nameBlock     = 21
	maxNameBlocks = 50
)

// ErrNamesExhausted: more than nameBlock*maxNameBlocks live files of the
// folder share the file's name and its numbered forms.
var ErrNamesExhausted = core.Errorf(core.CodeNameTaken, "over %d files in this folder already have this name or a numbered form of it: rename the file", nameBlock*maxNameBlocks)

// nameCandidates are the names block b tries for a file first named name,
// original and stored (core.UploadFilenames) side by side.
func nameCandidates(name string, b int) (originals, stored []string, err error) {
	for i := range nameBlock {
		n := b*nameBlock + i
		cand := name
		if n > 0 {
			cand = core.NumberedName(name, n)
		}
		s, o, err := core.UploadFilenames(cand)
		if err != nil {
			return nil, nil, fmt.Errorf("numbered name %q: %w", cand, err)
		}
		originals, stored = append(originals, o), append(stored, s)
	}
	return originals, stored, nil
}
