// Package auth hashes passwords with bcrypt, issues and verifies HS256 JWTs,
// and provides the middleware that puts the authenticated user in the
// request context.
package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

// Errors of token verification, as domain errors with 401 codes.
var (
	ErrUnauthorized = core.Errorf(core.CodeUnauthorized, "missing or invalid token")
	ErrTokenExpired = core.Errorf(core.CodeTokenExpired, "token has expired")
)

// ErrBusy is returned by HashPassword and CheckPassword when every bcrypt
// slot is taken and the queue waiting for one is full (503, Retry-After 1).
var ErrBusy = &core.Error{Code: core.CodeUnavailable, Message: "too many sign-ins at once; try again in a moment", RetryAfter: 1}

// Auth holds the signing key and the password cost.
type Auth struct {
	key  []byte
	ttl  time.Duration
	cost int
	// dummyHash is compared against when a login names an unknown email, so
	// that the answer takes as long as for a wrong password.
	dummyHash []byte
	// slots bounds concurrent bcrypt work to all cores but one, so that a
	// burst of logins cannot starve every other request of CPU; waiting
	// bounds the callers queued for a slot.
	slots   chan struct{}
	waiting chan struct{}
}

// dummyHashes are bcrypt hashes of a throw-away password at the usual
// costs, so that start-up (a Lambda cold start) need not spend a whole
// bcrypt computation making one.
var dummyHashes = map[int]string{
	4:  "$2a$04$x30PQsZpArqHgZTpx1GIp.vlP618dvXeZqxVGu1/WeaYYAtLx2G5a",
	10: "$2a$10$C3Z/NbVPqX4FVmdEM6LNBeA9oev1pdHs/8LIg4E2h5DT3NF81onYG",
	11: "$2a$11$WcHMorZu8N8LcelUuipQveyMzknAeGUOY2l0/SvEgmh5DyZI1lW92",
	12: "$2a$12$dVRfA/G96asPScnsoOfkru0QkJclQN1WnD9pbeESGSK/anWkYejP2",
	13: "$2a$13$g43ir9x9S2fJNbymQNozluh0xBPoGQjrHsHKFlYDfyMlb2wnvRVuK",
	14: "$2a$14$mBXjHadkEmRnA55pUcBaTudrmjlJtYULEAmTBJe0Q1YAM8n7JPLqq",
}

// New returns an Auth signing with key, issuing tokens valid for ttl and
// hashing passwords at bcrypt cost, with at most queueMax password checks
// waiting for a bcrypt slot (more get ErrBusy).
func New(key []byte, ttl time.Duration, cost, queueMax int) (*Auth, error) {
	dummy := []byte(dummyHashes[cost])
	if len(dummy) == 0 {
		var err error
		if dummy, err = bcrypt.GenerateFromPassword([]byte("dummy password for timing"), cost); err != nil {
			return nil, fmt.Errorf("dummy hash: %w", err)
		}
	}
	slots := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))
	return &Auth{key: key, ttl: ttl, cost: cost, dummyHash: dummy, slots: slots, waiting: make(chan struct{}, max(0, queueMax))}, nil
}

// busy runs fn holding one of the bcrypt slots, at low priority. When none
// is free it waits in the queue, or returns ErrBusy when the queue is full,
// or ctx's error when ctx ends first (the client left: no hash for it).
func (a *Auth) busy(ctx context.Context, fn func()) error {
	select {
	case a.slots <- struct{}{}:
	default:
		select {
		case a.waiting <- struct{}{}:
		default:
			return ErrBusy
		}
		select {
		case a.slots <- struct{}{}:
			<-a.waiting
		case <-ctx.Done():
			<-a.waiting
			return fmt.Errorf("wait for a bcrypt slot: %w", context.Cause(ctx))
		}
	}
	defer func() { <-a.slots }()
	runLowPriority(fn)
	return nil
}

// TTL is how long issued tokens live.
func (a *Auth) TTL() time.Duration { return a.ttl }

// Queue reports the bcrypt slots in use and the callers waiting for one.
func (a *Auth) Queue() (running, waiting int) { return len(a.slots), len(a.waiting) }

// HashPassword returns the bcrypt hash of password. It returns ErrBusy or
// ctx's error when no bcrypt slot could be had.
func (a *Auth) HashPassword(ctx context.Context, password string) (string, error) {
	var h []byte
	var err error
	if err := a.busy(ctx, func() { h, err = bcrypt.GenerateFromPassword([]byte(password), a.cost) }); err != nil {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether password matches hash. With an empty hash
// (unknown user) it compares against a dummy hash and reports false, taking
// the same time as a real comparison. It returns ErrBusy or ctx's error
// when no bcrypt slot could be had.
func (a *Auth) CheckPassword(ctx context.Context, hash, password string) (bool, error) {
	ok := false
	err := a.busy(ctx, func() {
		if hash == "" {
			_ = bcrypt.CompareHashAndPassword(a.dummyHash, []byte(password))
			return
		}
		ok = bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	})
	return ok, err
}

// IssueToken returns a signed token for userID and its expiry.
func (a *Auth) IssueToken(userID int64, now time.Time) (string, time.Time, error) {
	exp := now.Add(a.ttl)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(userID, 10),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
	})
	s, err := tok.SignedString(a.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp, nil
}

// ParseToken verifies a token (HS256 only, expiry required) and returns its
// user id. It returns ErrTokenExpired or ErrUnauthorized.
func (a *Auth) ParseToken(s string) (int64, error) {
	if len(s) > 4096 {
		return 0, ErrUnauthorized
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(s, &claims, func(*jwt.Token) (any, error) { return a.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(5*time.Second),
	)
	if errors.Is(err, jwt.ErrTokenExpired) {
		return 0, ErrTokenExpired
	}
	if err != nil {
		return 0, ErrUnauthorized
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrUnauthorized
	}
	return id, nil
}

type ctxKey struct{}

// WithUser returns ctx carrying the authenticated user's id.
func WithUser(ctx context.Context, userID int64) context.Context {
	return context.WithValue(ctx, ctxKey{}, userID)
}

// UserID returns the authenticated user's id from ctx, if any.
func UserID(ctx context.Context) (int64, bool) {
	id, ok := ctx.Value(ctxKey{}).(int64)
	return id, ok
}
