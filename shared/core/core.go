// Package core holds the domain types of the file store (users, files,
// tiers), its error codes and its input rules. It imports nothing of ours.
package core

import "time"

// Tier names where a file's bytes live.
type Tier string

const (
	TierHot  Tier = "minio" // the S3-compatible hot tier next to the users
	TierCold Tier = "s3"    // AWS S3, where the nightly sync moves files
)

// Valid reports whether t is a known tier.
func (t Tier) Valid() bool { return t == TierHot || t == TierCold }

// User is an account. PasswordHash never leaves the server.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	CreatedAt    time.Time
}

// File is the metadata of one stored file.
type File struct {
	ID               int64
	UserID           int64
	Filename         string // sanitized name used in the object key
	OriginalFilename string // the name the user uploaded, used for downloads
	Size             int64
	ContentType      string
	Location         Tier
	ObjectKey        string
	AccessURL        string
	ChecksumSHA256   string // lower-case hex
	UploadedAt       time.Time
	SyncedAt         *time.Time
}
