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

// StorageStandard is the storage class of every hot copy and the default of
// the cold tier.
const StorageStandard = "STANDARD"

// Valid reports whether t is a known tier.
func (t Tier) Valid() bool { return t == TierHot || t == TierCold }

// User is an account. PasswordHash never leaves the server.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	CreatedAt    time.Time
	// Two-factor login: TOTPSecret is the secret in force, sealed
	// (auth.Auth.Seal); nil while two-factor login is off.
	TOTPSecret []byte
}

// TOTPEnabled reports whether the user logs in with a second factor.
func (u User) TOTPEnabled() bool { return u.TOTPSecret != nil }

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
	// ChecksumSHA256 is lower-case hex; empty when not known yet: a file
	// completed from a presigned multipart upload is recorded without
	// reading its bytes, and the sync job fills it as it moves the file.
	ChecksumSHA256 string
	// ChecksumCRC64NVME is the full-object CRC64NVME, base64 as S3 reports
	// it; empty when unknown (files uploaded before it was computed, until
	// the sync job moves them).
	ChecksumCRC64NVME string
	// StorageClass is the S3 storage class of the file's copy: STANDARD in
	// the hot tier, the class the sync job wrote in the cold tier.
	StorageClass string
	// HotETag is the ETag of the file's object in the hot tier when it was
	// recorded (empty for rows from before it was kept). The sync job reads
	// the object with If-Match on it, so that an object replaced since is
	// refused rather than copied as the file.
	HotETag    string
	UploadedAt time.Time
	SyncedAt   *time.Time
	// DeletedAt and PurgeAt are set while the file is in the trash: when it
	// went there and when the scheduled purge removes it.
	DeletedAt *time.Time
	PurgeAt   *time.Time
	// FolderID is the folder the file is in; nil: the root.
	FolderID *int64
}

// UploadSession is a presigned multipart upload in progress: the browser
// sends the parts straight to the hot tier, then asks the API to complete.
type UploadSession struct {
	ID               string // our id (a UUID): the upload_id clients see
	UserID           int64
	ObjectKey        string
	StorageUploadID  string // the hot tier's multipart upload id; never sent to clients
	Filename         string // sanitized name used in the object key
	OriginalFilename string
	Size             int64 // declared size in bytes
	ContentType      string
	PartSize         int64
	CreatedAt        time.Time
	ExpiresAt        time.Time
	FolderID         *int64 // the folder the file goes to (nil: the root)
	// AssembledAt is set once the hot tier has assembled the object: the
	// upload is completing (its file not recorded yet). FinishUntil is the
	// lease of the request finishing it.
	AssembledAt *time.Time
	FinishUntil *time.Time
}

// Completing reports whether the hot tier has assembled the object and
// only the recording of its file is left.
func (s UploadSession) Completing() bool { return s.AssembledAt != nil }

// PartCount is the number of parts the declared size splits into.
func (s UploadSession) PartCount() int {
	if s.PartSize <= 0 || s.Size <= 0 {
		return 0
	}
	return int((s.Size + s.PartSize - 1) / s.PartSize)
}

// PartLen is the size part n (1-based) must have.
func (s UploadSession) PartLen(n int) int64 {
	if n < s.PartCount() {
		return s.PartSize
	}
	return s.Size - int64(s.PartCount()-1)*s.PartSize
}

// Session is one login of a user (issue 22): its refresh token lives in a
// cookie, and every access token names it.
type Session struct {
	ID         int64
	UserID     int64
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time // the absolute limit (SESSION_MAX_DAYS after the login)
	IP         string
	UserAgent  string
}
