package core

import (
	"strings"
	"time"
)

// Limits of a user's folder tree: a hostile client cannot build a
// 100,000-level path or a million folders.
const (
	MaxFolderDepth = 64     // a top-level folder is at depth 1
	MaxFolders     = 10_000 // per user, trashed ones included until purged
)

// Folder is a folder of a user's tree.
type Folder struct {
	ID        int64
	UserID    int64
	ParentID  *int64 // nil: in the root
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt *time.Time
	PurgeAt   *time.Time
}

// PathItem is one folder of a path from the root.
type PathItem struct {
	ID   int64
	Name string
}

// TrashedFolder is a folder's entry in the trash: the folder and what went
// there with it.
type TrashedFolder struct {
	Folder
	Files int64 // files under it
	Bytes int64 // their total size
}

// FolderName checks a folder's name as file names are checked (UTF-8, no
// control characters, 1 to 255 bytes, no / or \, bidi controls and
// invisible characters removed) and refuses "." and "..". It returns the
// name to store, or an INVALID_FILENAME error.
func FolderName(name string) (string, error) {
	if strings.ContainsAny(name, `/\`) {
		return "", Errorf(CodeInvalidFilename, `a folder name cannot contain / or \`)
	}
	if err := ValidateOriginalFilename(name); err != nil {
		return "", err
	}
	name = strings.TrimSpace(StripInvisible(name))
	switch name {
	case "":
		return "", Errorf(CodeInvalidFilename, "folder name has only spaces or invisible characters")
	case ".", "..":
		return "", Errorf(CodeInvalidFilename, "a folder cannot be named . or ..")
	}
	return name, nil
}
