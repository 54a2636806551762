package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hybrid-storage/hybrid-storage/shared/auth"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// shareStore is what the share links need of the database
// (shared/postgres/shares.go).
type shareStore interface {
	CheckShareable(ctx context.Context, userID, fileID int64) error
	CreateShare(ctx context.Context, s *core.Share, tokenHash []byte) error
	LiveShares(ctx context.Context, userID, fileID int64) ([]core.Share, error)
	RevokeShare(ctx context.Context, userID, id int64) error
	ShareByToken(ctx context.Context, tokenHash []byte) (core.Share, core.File, error)
	ClaimDownload(ctx context.Context, id int64) (core.File, error)
}

// shareDownloadTTL is how long a share's presigned download URL works.
const shareDownloadTTL = 5 * time.Minute

// shareLimitedTTL is how long the URL of a share with max_downloads works:
// a claimed download is one GET, but the URL serves any GET until it
// expires, so it must expire soon after the browser has started its
// download (S3 checks the expiry when a request starts; a transfer under
// way continues). Lambda's 6 MB answers rule out streaming the file through
// the API instead.
const shareLimitedTTL = 10 * time.Second

// shareTokenBytes is the randomness of a share token: 256 bits, written
// as 43 characters of unpadded base64url.
const shareTokenBytes = 32

var shareTokenLen = base64.RawURLEncoding.EncodedLen(shareTokenBytes)

// newShareToken returns a fresh token and its SHA-256, the only form the
// database keeps (a high-entropy token needs no slow hash).
func newShareToken() (string, []byte) {
	var b [shareTokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	return tok, hashShareToken(tok)
}

func hashShareToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// shareToken reads {token}: anything that is not a token of the right
// shape is an unknown share, answered as one (no hint that the shape was
// wrong), without a query.
func shareToken(r *http.Request) ([]byte, error) {
	tok := r.PathValue("token")
	if len(tok) != shareTokenLen {
		return nil, postgres.ErrShareNotFound
	}
	if _, err := base64.RawURLEncoding.DecodeString(tok); err != nil {
		return nil, postgres.ErrShareNotFound
	}
	return hashShareToken(tok), nil
}

type shareJSON struct {
	ID           int64  `json:"id"`
	URL          string `json:"url,omitempty"`
	ExpiresAt    string `json:"expires_at"`
	MaxDownloads *int   `json:"max_downloads"`
	Downloads    int    `json:"downloads"`
	HasPassword  bool   `json:"has_password"`
	CreatedAt    string `json:"created_at"`
}

func toShareJSON(s core.Share) shareJSON {
	return shareJSON{ID: s.ID, ExpiresAt: rfc3339(s.ExpiresAt), MaxDownloads: s.MaxDownloads, Downloads: s.Downloads,
		HasPassword: s.PasswordHash != "", CreatedAt: rfc3339(s.CreatedAt)}
}

// shareRequest is the body of POST /api/files/{id}/shares.
type shareRequest struct {
	ExpiresInHours *int    `json:"expires_in_hours"`
	Password       *string `json:"password"`
	MaxDownloads   *int    `json:"max_downloads"`
}

func (in shareRequest) check() error {
	if h := in.ExpiresInHours; h != nil && (*h < core.MinShareHours || *h > core.MaxShareHours) {
		return core.FieldError("expires_in_hours", "expires_in_hours must be a whole number from %d to %d", core.MinShareHours, core.MaxShareHours)
	}
	if n := in.MaxDownloads; n != nil && (*n < 1 || *n > core.MaxShareDownloads) {
		return core.FieldError("max_downloads", "max_downloads must be a whole number from 1 to %d", core.MaxShareDownloads)
	}
	if p := in.Password; p != nil {
		if hasNUL(*p) {
			return core.FieldError("password", "password must not contain NUL bytes")
		}
		return core.ValidatePassword(*p)
	}
	return nil
}

// createShare is POST /api/files/{id}/shares. The answer carries the link
// once: the database keeps only the token's hash. A password costs a bcrypt
// hash, so a share with one is first checked (the file, the cap on live
// shares) and counted against AUTH_RATE_LIMIT_PER_MINUTE per user and per
// client address; only then is the password hashed, in the share lane of
// the bcrypt slots, which logins and signups go before.
func (a *API) createShare(w http.ResponseWriter, r *http.Request) {
	id, err := fileID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var in shareRequest
	if err := decodeOptionalJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := in.check(); err != nil {
		a.writeError(w, r, err)
		return
	}
	uid, _ := auth.UserID(r.Context())
	hours := core.DefaultShareHours
	if in.ExpiresInHours != nil {
		hours = *in.ExpiresInHours
	}
	s := core.Share{FileID: id, UserID: uid, MaxDownloads: in.MaxDownloads,
		ExpiresAt: a.now().Add(time.Duration(hours) * time.Hour).Truncate(time.Second)}
	if in.Password != nil {
		if err := a.Shares.CheckShareable(r.Context(), uid, id); err != nil {
			a.writeError(w, r, err)
			return
		}
		if !a.allow(w, r, "share-password:user:"+strconv.FormatInt(uid, 10), a.Config.AuthRateMin, time.Minute) ||
			!a.allow(w, r, "share-password:addr:"+a.clientAddr(r), a.Config.AuthRateMin, time.Minute) {
			return
		}
		if s.PasswordHash, err = a.Auth.HashPassword(r.Context(), auth.LaneShare, *in.Password); err != nil {
			a.writeBusy(w, r, err)
			return
		}
	}
	tok, hash := newShareToken()
	if err := a.Shares.CreateShare(r.Context(), &s, hash); err != nil {
		a.writeError(w, r, err)
		return
	}
	out := toShareJSON(s)
	out.URL = a.webOrigin(r) + "/s/" + tok
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

// webOrigin is the origin of the web app whose /s/{token} page a link
// opens: the Origin of the request when it is one of CORS_ORIGINS (the web
// app that asked: the local server's own page, or CloudFront on AWS),
// otherwise the first of CORS_ORIGINS.
func (a *API) webOrigin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" && slices.Contains(a.Config.CORSOrigins, o) {
		return o
	}
	if len(a.Config.CORSOrigins) > 0 {
		if u, err := url.Parse(a.Config.CORSOrigins[0]); err == nil {
			return u.Scheme + "://" + u.Host
		}
	}
	return ""
}

// listShares is GET /api/files/{id}/shares: the file's live shares (no
// links: only their hashes are kept).
func (a *API) listShares(w http.ResponseWriter, r *http.Request) {
	id, err := fileID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	uid, _ := auth.UserID(r.Context())
	shares, err := a.Shares.LiveShares(r.Context(), uid, id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := make([]shareJSON, len(shares))
	for i, s := range shares {
		out[i] = toShareJSON(s)
	}
	writeJSON(w, http.StatusOK, map[string]any{"shares": out})
}

// revokeShare is DELETE /api/shares/{share_id}.
func (a *API) revokeShare(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("share_id"), 10, 64)
	if err != nil || id <= 0 {
		a.writeError(w, r, &core.Error{Code: core.CodeValidation, Message: "share id must be a positive integer", Field: "share_id"})
		return
	}
	uid, _ := auth.UserID(r.Context())
	if err := a.Shares.RevokeShare(r.Context(), uid, id); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// liveShare reads {token}'s share: 404 SHARE_NOT_FOUND, 410 SHARE_GONE.
func (a *API) liveShare(r *http.Request) (core.Share, core.File, error) {
	hash, err := shareToken(r)
	if err != nil {
		return core.Share{}, core.File{}, err
	}
	s, f, err := a.Shares.ShareByToken(r.Context(), hash)
	if err != nil {
		return core.Share{}, core.File{}, err
	}
	if s.Gone {
		return core.Share{}, core.File{}, postgres.ErrShareGone
	}
	return s, f, nil
}

// publicShare is GET /api/public/shares/{token}: what the public page
// shows. It never carries a download URL, password or not; of a share with
// a password it says nothing of the file either (name, size and type come
// with the download's answer, once the password matched).
func (a *API) publicShare(w http.ResponseWriter, r *http.Request) {
	s, f, err := a.liveShare(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := map[string]any{"expires_at": rfc3339(s.ExpiresAt), "needs_password": s.PasswordHash != ""}
	if s.PasswordHash == "" {
		addFileFacts(out, f)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// addFileFacts adds what a share's recipient may know of its file.
func addFileFacts(out map[string]any, f core.File) {
	out["filename"], out["file_size"], out["content_type"] = f.OriginalFilename, f.Size, f.ContentType
}

// downloadShare is POST /api/public/shares/{token}/download {password?}:
// the password (when the share has one) is checked like a login's — one
// bcrypt comparison in the share lane, attempts counted per client
// address, and guesses per (share, address) and per share (beginGuess) —
// then one download is counted and a presigned URL of the file's current
// tier returned, with the file's name, size and type.
func (a *API) downloadShare(w http.ResponseWriter, r *http.Request) {
	s, _, err := a.liveShare(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var in struct {
		Password *string `json:"password"`
	}
	if err := decodeOptionalJSON(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if s.PasswordHash != "" {
		if in.Password == nil || *in.Password == "" {
			a.writeError(w, r, core.Errorf(core.CodeSharePassword, "this share link needs its password"))
			return
		}
		// Every share's password attempts from one address together meet
		// AUTH_RATE_LIMIT_PER_MINUTE (a bound on the bcrypt work one
		// address asks for); each share's, the guess counters.
		if !a.allow(w, r, "share-attempts:addr:"+a.clientAddr(r), a.Config.AuthRateMin, time.Minute) {
			return
		}
		end, allowed := a.beginGuess(w, r, a.shareGuesses(r, s.ID))
		if !allowed {
			return
		}
		pw := *in.Password
		if hasNUL(pw) || len(pw) > core.MaxPasswordBytes {
			pw = "" // compared all the same: the answer takes as long
		}
		ok, err := a.Auth.CheckPassword(r.Context(), auth.LaneShare, s.PasswordHash, pw)
		if err != nil {
			end(guessNotMade)
			a.writeBusy(w, r, err)
			return
		}
		end(outcome(ok && pw != ""))
		if !ok || pw == "" {
			a.writeError(w, r, core.Errorf(core.CodeInvalidCredentials, "the password is incorrect"))
			return
		}
	}
	f, err := a.Shares.ClaimDownload(r.Context(), s.ID)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ttl := shareDownloadTTL
	if s.MaxDownloads != nil {
		ttl = shareLimitedTTL
	}
	u, err := a.tiers[f.Location].PresignGet(r.Context(), f.ObjectKey, f.OriginalFilename, ttl)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := map[string]any{"url": u, "expires_in": int(ttl / time.Second)}
	addFileFacts(out, f)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// publicSharesPrefix is the path of the public share routes; the segment
// after it is a share's token, its secret.
const publicSharesPrefix = "/api/public/shares/"

// loggedPath is the path the logs record, with every segment that may be
// a secret replaced by redactToken: the segment after publicSharesPrefix
// (a share's token, matched by a route or not), and anywhere in the path a
// segment shaped like a token (secretShaped), so that a token in a path
// no route takes (/api/public/shares//<token>, /api//public/shares/<token>)
// is not logged either.
func loggedPath(r *http.Request) string {
	p := r.URL.Path
	tokenAt := -1 // the index of the segment after publicSharesPrefix
	if strings.HasPrefix(p, publicSharesPrefix) {
		tokenAt = strings.Count(publicSharesPrefix, "/")
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s != "" && (i == tokenAt || secretShaped(s)) {
			segs[i] = redactToken(s)
		}
	}
	return strings.Join(segs, "/")
}

// minSecretRun is the shortest run of base64url characters taken for a
// secret: 128 random bits are 22 characters; a share token is 43, a JWT's
// parts longer than 24.
const minSecretRun = 24

// secretShaped reports whether a path segment holds what may be a secret:
// a run of minSecretRun or more base64url characters (a share token, a JWT
// or any of its parts, a key). A UUID, the API's upload ids, is not: it
// names an upload session only to its owner.
func secretShaped(seg string) bool {
	if len(seg) < minSecretRun {
		return false
	}
	if _, err := uuid.Parse(seg); err == nil && len(seg) == 36 {
		return false
	}
	run := 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			if run++; run >= minSecretRun {
				return true
			}
			continue
		}
		run = 0
	}
	return false
}

// redactToken names a token in logs without revealing it: the first 8 hex
// digits of its SHA-256, enough to tell requests of one link apart.
func redactToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return "<token:" + hex.EncodeToString(h[:4]) + ">"
}
