package core

import "time"

// Share is a share link of one file: whoever holds its token may download
// the file without an account, until it expires, is revoked, has served
// MaxDownloads downloads, or the file leaves (trash, purge, deletion).
type Share struct {
	ID           int64
	FileID       int64 // 0 once the file is deleted (the share is then gone)
	UserID       int64
	PasswordHash string // bcrypt; "" when the share has no password
	ExpiresAt    time.Time
	MaxDownloads *int // nil: no limit
	Downloads    int
	RevokedAt    *time.Time
	CreatedAt    time.Time
	// Gone is true when the share no longer serves its file (as the
	// database's clock saw it when the row was read).
	Gone bool
}

// Share limits.
const (
	MinShareHours     = 1
	MaxShareHours     = 720 // 30 days
	DefaultShareHours = 168 // 7 days
	MaxShareDownloads = 1_000_000
	MaxLiveShares     = 100 // live shares per file
)
