package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// rateCounter counts attempts in windows shared by every instance of the
// API (PostgreSQL, shared/postgres/ratelimit.go).
type rateCounter interface {
	RateHit(ctx context.Context, key string, window time.Duration) (hits int, left time.Duration, err error)
	RateUnhit(ctx context.Context, key string) error
	BackoffHit(ctx context.Context, key string, b postgres.Backoff) (wait time.Duration, err error)
	RateDelete(ctx context.Context, key string) error
	Remember(ctx context.Context, key string, ttl time.Duration) error
	Remembered(ctx context.Context, key string) (bool, error)
}

// newAuthLimiter limits signup and login per client address (see
// clientAddr). The count is in the database, so every local server, every
// Lambda function and every instance of it share one budget per client.
func (a *API) newAuthLimiter() func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if a.allow(w, r, "addr:"+a.clientAddr(r), a.Config.AuthRateMin, time.Minute) {
				next.ServeHTTP(w, r)
			}
		})
	}
}

// allow counts one attempt on key. Past limit attempts in the window it
// answers 429 RATE_LIMITED with Retry-After (the window's remaining
// seconds) and reports false.
func (a *API) allow(w http.ResponseWriter, r *http.Request, key string, limit int, window time.Duration) bool {
	hits, left, err := a.Limits.RateHit(r.Context(), key, window)
	if err != nil {
		a.writeError(w, r, fmt.Errorf("auth rate limit: %w", err))
		return false
	}
	if hits <= limit {
		return true
	}
	a.writeError(w, r, rateLimited(left))
	return false
}

// rateLimited is 429 RATE_LIMITED with Retry-After: wait, in whole seconds.
func rateLimited(wait time.Duration) error {
	return &core.Error{Code: core.CodeRateLimited, Message: "too many attempts; try again later",
		RetryAfter: max(1, int(math.Ceil(wait.Seconds())))}
}

// emailKey is the rate limit key of a login's target account: a hash, so
// that the counters table holds no addresses.
func emailKey(email string) string {
	h := sha256.Sum256([]byte(email))
	return "email:" + hex.EncodeToString(h[:16])
}

// Guesses at a secret (an account's password, a share's) are limited as
// OWASP's Authentication and Credential Stuffing cheat sheets advise: per
// (secret, client address) pair with progressive delays, so that one
// address guessing slows only itself; and under an hourly ceiling per
// secret from all addresses together (AUTH_RATE_LIMIT_PER_EMAIL_PER_HOUR),
// which addresses that gave the secret in the last 30 days do not count
// against or meet, so that strangers spending it do not lock the owner out
// where the owner has logged in before. Only wrong guesses count: a right
// one takes its counts back. The README's "Guessing passwords" works out
// what this allows.

// guessBackoff is the progressive delay of one pair: five guesses free,
// then 1 s, 2 s, 4 s … doubling to at most 15 minutes between guesses;
// forgotten a day after the last wrong guess, or at once after a right one.
var guessBackoff = postgres.Backoff{Free: 5, Base: time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour}

// knownFor is how long an address that gave a secret is exempt from the
// secret's hourly ceiling.
const knownFor = 30 * 24 * time.Hour

// guessTarget names the counters of guesses at one secret from the
// request's client address.
type guessTarget struct {
	pair    string // the secret from this address: guessBackoff
	ceiling string // the secret from every address not known to it: an hourly count
	known   string // marked for knownFor when this address gives the secret
}

func newGuessTarget(secret, addr string) guessTarget {
	return guessTarget{pair: "guess:" + secret + ":" + addr, ceiling: secret, known: "known:" + secret + ":" + addr}
}

// accountGuesses are the counters of guesses at email's password (logins,
// account deletions).
func (a *API) accountGuesses(r *http.Request, email string) guessTarget {
	return newGuessTarget(emailKey(email), a.clientAddr(r))
}

// shareGuesses are the counters of guesses at share id's password.
func (a *API) shareGuesses(r *http.Request, id int64) guessTarget {
	return newGuessTarget("share:"+strconv.FormatInt(id, 10), a.clientAddr(r))
}

// guessOutcome is what became of a guess beginGuess allowed.
type guessOutcome int

const (
	guessWrong   guessOutcome = iota // counted
	guessRight                       // its counts taken back, the pair forgotten, the address known
	guessNotMade                     // never compared (no bcrypt slot, an error): its counts taken back
)

func outcome(ok bool) guessOutcome {
	if ok {
		return guessRight
	}
	return guessWrong
}

// beginGuess counts a guess at t's secret before it is compared, so that
// parallel guesses cannot pass the limits together. When a limit refuses
// it, it answers 429 RATE_LIMITED with Retry-After and reports false;
// otherwise the caller compares and then calls end with the outcome.
func (a *API) beginGuess(w http.ResponseWriter, r *http.Request, t guessTarget) (end func(guessOutcome), ok bool) {
	ctx := r.Context()
	wait, err := a.Limits.BackoffHit(ctx, t.pair, guessBackoff)
	if err != nil {
		a.writeError(w, r, fmt.Errorf("guess limit: %w", err))
		return nil, false
	}
	if wait > 0 {
		a.writeError(w, r, rateLimited(wait))
		return nil, false
	}
	known, err := a.Limits.Remembered(ctx, t.known)
	if err != nil {
		a.endGuess(ctx, t, false, guessNotMade)
		a.writeError(w, r, fmt.Errorf("guess limit: %w", err))
		return nil, false
	}
	if !known {
		hits, left, err := a.Limits.RateHit(ctx, t.ceiling, time.Hour)
		if err != nil {
			a.endGuess(ctx, t, false, guessNotMade)
			a.writeError(w, r, fmt.Errorf("guess limit: %w", err))
			return nil, false
		}
		if hits > a.Config.AuthEmailRateHour {
			// The ceiling stays spent; the pair's turn is given back.
			a.endGuess(ctx, t, false, guessNotMade)
			a.writeError(w, r, rateLimited(left))
			return nil, false
		}
	}
	return func(o guessOutcome) { a.endGuess(ctx, t, !known, o) }, true
}

// endGuess settles the counts of a guess (see guessOutcome); ceiling says
// whether it was counted against the hourly ceiling. Its errors are
// logged: the answer does not depend on them.
func (a *API) endGuess(ctx context.Context, t guessTarget, ceiling bool, o guessOutcome) {
	if o == guessWrong {
		return
	}
	ctx = context.WithoutCancel(ctx)
	var errs []error
	if ceiling {
		errs = append(errs, a.Limits.RateUnhit(ctx, t.ceiling))
	}
	if o == guessRight {
		errs = append(errs, a.Limits.RateDelete(ctx, t.pair), a.Limits.Remember(ctx, t.known, knownFor))
	} else {
		errs = append(errs, a.Limits.RateUnhit(ctx, t.pair))
	}
	for _, err := range errs {
		if err != nil {
			a.Logger.ErrorContext(ctx, "guess limit: settle", "error", err.Error(), "request_id", requestID(ctx))
		}
	}
}
