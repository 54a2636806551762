package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Two-factor login: TOTP (RFC 6238) as authenticator apps speak it.
const (
	TOTPIssuer   = "hybrid-storage"
	TOTPPeriod   = 30 // seconds per step
	TOTPSkew     = 1  // steps accepted either side of now (clock drift, typing)
	RecoveryN    = 10 // recovery codes enable answers
	recoveryBits = 80
)

var totpOpts = totp.ValidateOpts{Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTP returns a new TOTP secret (base32, 160 bits) for the account
// email and its otpauth:// URI for a QR code.
func NewTOTP(email string) (secret, uri string, err error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: email, Period: TOTPPeriod,
		SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", "", fmt.Errorf("generate TOTP secret: %w", err)
	}
	return k.Secret(), k.URL(), nil
}

// TOTPStep returns the time step whose code code is, among those of now
// ± TOTPSkew steps, and reports whether there is one. Only the caller can
// tell whether that step was used already (postgres.UseTOTPStep).
func TOTPStep(secret, code string, now time.Time) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	cur := now.Unix() / TOTPPeriod
	found, step := 0, int64(0)
	for s := cur - TOTPSkew; s <= cur+TOTPSkew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*TOTPPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && found == 0 {
			found, step = 1, s
		}
	}
	return step, found == 1
}

// TOTPCode is the code of secret at t (tests, and nothing else).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

// NewRecoveryCodes returns RecoveryN codes of 80 random bits, written
// xxxx-xxxx-xxxx-xxxx (base32, lower case).
func NewRecoveryCodes() []string {
	out := make([]string, RecoveryN)
	for i := range out {
		var b [recoveryBits / 8]byte
		_, _ = rand.Read(b[:])
		s := strings.ToLower(base32.StdEncoding.EncodeToString(b[:])) // 16 characters
		out[i] = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
	}
	return out
}

// HashRecoveryCode is what the database keeps of a recovery code, as
// typed: case, spaces and dashes do not matter.
func HashRecoveryCode(code string) []byte {
	c := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	return HashToken("recovery:" + c)
}

// sealKey is the AES-256 key sealing TOTP secrets: derived from the
// signing key, so a copy of the database alone does not give the second
// factor. Rotating SECRET_KEY therefore turns every TOTP secret unusable
// (users then log in with a recovery code and set two-factor login up
// again).
func (a *Auth) sealKey() []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte("hybrid-storage TOTP secret sealing key"))
	return m.Sum(nil)
}

// Seal encrypts a TOTP secret for the database (AES-256-GCM).
func (a *Auth) Seal(secret string) []byte {
	gcm := a.gcm()
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	return gcm.Seal(nonce, nonce, []byte(secret), []byte("totp"))
}

// Open decrypts what Seal made.
func (a *Auth) Open(sealed []byte) (string, error) {
	gcm := a.gcm()
	if len(sealed) < gcm.NonceSize() {
		return "", errors.New("open TOTP secret: too short")
	}
	p, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte("totp"))
	if err != nil {
		return "", fmt.Errorf("open TOTP secret (SECRET_KEY changed?): %w", err)
	}
	return string(p), nil
}

func (a *Auth) gcm() cipher.AEAD {
	block, err := aes.NewCipher(a.sealKey())
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return gcm
}
