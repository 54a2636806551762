// Package auth hashes passwords with bcrypt, issues and verifies HS256 JWTs,
// and provides the middleware that puts the authenticated user in the
// request context.
package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
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
// slot is taken and the queue of the caller's lane is full (503,
// Retry-After 1).
var ErrBusy = &core.Error{Code: core.CodeUnavailable, Message: "too many sign-ins at once; try again in a moment", RetryAfter: 1}

// Lane is a class of bcrypt work. Each lane has a waiting queue of its own,
// and a freed slot goes to the first lane (in this order) with a caller
// waiting, so that no amount of work in a later lane makes an earlier
// lane's callers wait for more than the computations already running, or
// fills their queue.
type Lane int

// The lanes, first served first.
const (
	LaneLogin  Lane = iota // password checks of logins and account deletions
	LaneSignup             // hashes of new accounts' passwords
	LaneShare              // share passwords: hashing a new share's, checking a download's
	numLanes
)

// Auth holds the signing key and the password cost.
type Auth struct {
	key  []byte
	ttl  time.Duration
	cost int
	// dummyHash is compared against when a login names an unknown email, so
	// that the answer takes as long as for a wrong password.
	dummyHash []byte
	// slots bounds concurrent bcrypt work to all cores but one, so that a
	// burst of logins cannot starve every other request of CPU; queueMax
	// bounds the callers of each lane queued for a slot.
	slots    int
	queueMax int
	mu       sync.Mutex
	free     int                       // slots not in use
	waiting  [numLanes][]chan struct{} // per lane, oldest first; closed when handed a slot
	runs     atomic.Int64              // bcrypt computations started
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
// hashing passwords at bcrypt cost, with at most queueMax callers of each
// lane waiting for a bcrypt slot (more get ErrBusy).
func New(key []byte, ttl time.Duration, cost, queueMax int) (*Auth, error) {
	dummy := []byte(dummyHashes[cost])
	if len(dummy) == 0 {
		var err error
		if dummy, err = bcrypt.GenerateFromPassword([]byte("dummy password for timing"), cost); err != nil {
			return nil, fmt.Errorf("dummy hash: %w", err)
		}
	}
	slots := max(1, runtime.GOMAXPROCS(0)-1)
	return &Auth{key: key, ttl: ttl, cost: cost, dummyHash: dummy, slots: slots, free: slots, queueMax: max(0, queueMax)}, nil
}

// busy runs fn holding one of the bcrypt slots, at low priority. When none
// is free it waits in lane's queue, or returns ErrBusy when that queue is
// full, or ctx's error when ctx ends first (the client left: no hash for
// it).
func (a *Auth) busy(ctx context.Context, lane Lane, fn func()) error {
	if err := a.acquire(ctx, lane); err != nil {
		return err
	}
	defer a.release()
	a.runs.Add(1)
	runLowPriority(fn)
	return nil
}

func (a *Auth) acquire(ctx context.Context, lane Lane) error {
	if lane < 0 || lane >= numLanes {
		return fmt.Errorf("bcrypt lane %d: no such lane", lane)
	}
	a.mu.Lock()
	if a.free > 0 { // then nobody waits: release hands slots to waiters first
		a.free--
		a.mu.Unlock()
		return nil
	}
	if len(a.waiting[lane]) >= a.queueMax {
		a.mu.Unlock()
		return ErrBusy
	}
	turn := make(chan struct{})
	a.waiting[lane] = append(a.waiting[lane], turn)
	a.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	a.mu.Lock()
	i := slices.Index(a.waiting[lane], turn)
	if i >= 0 {
		a.waiting[lane] = slices.Delete(a.waiting[lane], i, i+1)
	}
	a.mu.Unlock()
	if i < 0 { // handed a slot as ctx ended: pass it on
		a.release()
	}
	return fmt.Errorf("wait for a bcrypt slot: %w", context.Cause(ctx))
}

// release hands the slot to the oldest waiter of the first lane that has
// one, or frees it.
func (a *Auth) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for l := range a.waiting {
		if q := a.waiting[l]; len(q) > 0 {
			close(q[0])
			a.waiting[l] = q[1:]
			return
		}
	}
	a.free++
}

// TTL is how long issued tokens live.
func (a *Auth) TTL() time.Duration { return a.ttl }

// Queue reports the bcrypt slots in use and the callers of every lane
// waiting for one.
func (a *Auth) Queue() (running, waiting int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, q := range a.waiting {
		waiting += len(q)
	}
	return a.slots - a.free, waiting
}

// Runs is the number of bcrypt computations (hashes and comparisons) this
// Auth has started.
func (a *Auth) Runs() int64 { return a.runs.Load() }

// HashPassword returns the bcrypt hash of password, computed in lane. It
// returns ErrBusy or ctx's error when no bcrypt slot could be had.
func (a *Auth) HashPassword(ctx context.Context, lane Lane, password string) (string, error) {
	var h []byte
	var err error
	if err := a.busy(ctx, lane, func() { h, err = bcrypt.GenerateFromPassword([]byte(password), a.cost) }); err != nil {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether password matches hash. With an empty hash
// (unknown user) it compares against a dummy hash and reports false, taking
// the same time as a real comparison. The comparison runs in lane. It
// returns ErrBusy or ctx's error when no bcrypt slot could be had.
func (a *Auth) CheckPassword(ctx context.Context, lane Lane, hash, password string) (bool, error) {
	ok := false
	err := a.busy(ctx, lane, func() {
		if hash == "" {
			_ = bcrypt.CompareHashAndPassword(a.dummyHash, []byte(password))
			return
		}
		ok = bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	})
	return ok, err
}

// claims are an access token's: the user (sub) and the session (sid).
type claims struct {
	jwt.RegisteredClaims
	Session int64 `json:"sid"`
}

// IssueToken returns a signed access token for userID's session sessionID
// and its expiry.
func (a *Auth) IssueToken(userID, sessionID int64, now time.Time) (string, time.Time, error) {
	exp := now.Add(a.ttl)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ID:        NewOpaqueToken()[:22], // 128 bits: two tokens of one second differ
			Subject:   strconv.FormatInt(userID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		Session: sessionID,
	})
	s, err := tok.SignedString(a.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp, nil
}

// ParseToken verifies an access token (HS256 only, expiry required, a
// session named) and returns its user and session ids. It returns
// ErrTokenExpired or ErrUnauthorized.
func (a *Auth) ParseToken(s string) (userID, sessionID int64, err error) {
	if len(s) > 4096 {
		return 0, 0, ErrUnauthorized
	}
	var c claims
	_, err = jwt.ParseWithClaims(s, &c, func(*jwt.Token) (any, error) { return a.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(5*time.Second),
	)
	if errors.Is(err, jwt.ErrTokenExpired) {
		return 0, 0, ErrTokenExpired
	}
	if err != nil {
		return 0, 0, ErrUnauthorized
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 || c.Session <= 0 {
		return 0, 0, ErrUnauthorized // a token of no session (before sessions) cannot be ended: refused
	}
	return id, c.Session, nil
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

type sessionKey struct{}

// WithSession returns ctx carrying the session of the request's token.
func WithSession(ctx context.Context, sessionID int64) context.Context {
	return context.WithValue(ctx, sessionKey{}, sessionID)
}

// SessionID returns the session of the request's access token, if any.
func SessionID(ctx context.Context) (int64, bool) {
	id, ok := ctx.Value(sessionKey{}).(int64)
	return id, ok
}
