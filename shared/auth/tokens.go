package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// OpaqueTokenBytes is the size of refresh and password reset tokens: 256
// bits, sent as 43 characters of unpadded base64url.
const OpaqueTokenBytes = 32

// OpaqueTokenLen is the length of an opaque token as sent.
var OpaqueTokenLen = base64.RawURLEncoding.EncodedLen(OpaqueTokenBytes)

// NewOpaqueToken returns a random token of OpaqueTokenBytes (a refresh
// token, a password reset token).
func NewOpaqueToken() string {
	var b [OpaqueTokenBytes]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// WellFormedToken reports whether s looks like an opaque token, so that
// anything else is refused before a query.
func WellFormedToken(s string) bool {
	if len(s) != OpaqueTokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// HashToken is what the database keeps of an opaque token: its SHA-256.
// The tokens carry 256 bits, so a plain hash is enough (nothing to salt or
// stretch against guessing).
func HashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// SuccessorToken is the refresh token that replaces tok: an HMAC of tok
// under the signing key, so that a second refresh with tok moments later
// (two tabs, a lost answer) can be given the very same successor without
// the server storing any token. Without the key it is as unpredictable as
// a random token.
func (a *Auth) SuccessorToken(tok string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte("hybrid-storage refresh token successor\x00"))
	m.Write([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
