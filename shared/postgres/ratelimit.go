package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// RateHit counts one attempt for key in its current window and returns the
// attempts counted in that window so far, this one included, and the time
// left until the window ends. A key's window opens at its first attempt
// and lasts window; the first attempt after it ends opens the next. Windows
// follow the database's clock, so every instance agrees on them. A call
// that opens a window also deletes up to 1000 rows of windows that ended.
// One key must always be used with one window length.
func (db *DB) RateHit(ctx context.Context, key string, window time.Duration) (hits int, left time.Duration, err error) {
	secs := int64(math.Ceil(window.Seconds()))
	if secs < 1 {
		return 0, 0, fmt.Errorf("rate limit %q: window %s under a second", key, window)
	}
	var leftSecs float64
	err = db.Pool.QueryRow(ctx, `
		INSERT INTO auth_rate_limits AS r (key, window_start, expires_at, hits)
		VALUES ($1, now(), now() + $2 * interval '1 second', 1)
		ON CONFLICT (key) DO UPDATE SET
			hits         = CASE WHEN r.expires_at <= now() THEN 1 ELSE r.hits + 1 END,
			window_start = CASE WHEN r.expires_at <= now() THEN now() ELSE r.window_start END,
			expires_at   = CASE WHEN r.expires_at <= now() THEN now() + $2 * interval '1 second' ELSE r.expires_at END
		RETURNING r.hits, extract(epoch FROM r.expires_at - now())::float8`,
		key, secs).Scan(&hits, &leftSecs)
	if err != nil {
		return 0, 0, fmt.Errorf("count attempt of %q: %w", key, err)
	}
	if hits == 1 {
		if _, err := db.Pool.Exec(ctx, `
			DELETE FROM auth_rate_limits WHERE ctid = ANY (ARRAY(
				SELECT ctid FROM auth_rate_limits WHERE expires_at < now() LIMIT 1000))`); err != nil {
			return 0, 0, fmt.Errorf("delete ended rate limit windows: %w", err)
		}
	}
	// now() is each statement's transaction start: a window opened by a
	// transaction that started later than this one can look a little longer
	// than window from here.
	return hits, min(time.Duration(leftSecs*float64(time.Second)), window), nil
}

// RateUnhit takes back one attempt counted on key in its current window
// (an attempt that turned out not to be what the window counts, such as a
// right password where failures are counted). A key with no live window,
// or at zero, is left as it is.
func (db *DB) RateUnhit(ctx context.Context, key string) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE auth_rate_limits SET hits = hits - 1
		WHERE key = $1 AND hits > 0 AND expires_at > now()`, key); err != nil {
		return fmt.Errorf("take back attempt of %q: %w", key, err)
	}
	return nil
}

// Backoff is a progressive delay between attempts on one key: the first
// Free attempts are free; after that each attempt must come Base × 2^k
// after the one before (k = attempts counted − Free), at most Max. The
// count is forgotten Forget after the last attempt.
type Backoff struct {
	Free      int
	Base, Max time.Duration
	Forget    time.Duration
}

// Delay is how long after the attempt before an attempt may come when n
// attempts are counted.
func (b Backoff) Delay(n int) time.Duration {
	if n < b.Free {
		return 0
	}
	d := b.Base
	for range n - b.Free {
		if d >= b.Max {
			break
		}
		d *= 2
	}
	return min(d, b.Max)
}

// BackoffHit counts one attempt on key under b, when b allows one now,
// and returns 0; otherwise it counts nothing and returns how long until an
// attempt is allowed. The key's row keeps the attempts counted (hits) and
// the time of the last (window_start, its window restarting at each
// attempt); it ends b.Forget after the last attempt. RateDelete forgets it
// at once. One key must always be used with one Backoff.
func (db *DB) BackoffHit(ctx context.Context, key string, b Backoff) (wait time.Duration, err error) {
	if b.Free < 0 || b.Base < time.Second || b.Max < b.Base || b.Forget < b.Max {
		return 0, fmt.Errorf("backoff %q: bad parameters %+v", key, b)
	}
	// delay(hits) in seconds, as Delay computes it (the exponent capped so
	// that power() stays finite).
	const delay = `least($3::float8 * power(2, least(r.hits - $2, 60)), $4::float8)`
	var counted int
	err = db.Pool.QueryRow(ctx, `
		INSERT INTO auth_rate_limits AS r (key, window_start, expires_at, hits)
		VALUES ($1, now(), now() + $5 * interval '1 second', 1)
		ON CONFLICT (key) DO UPDATE SET
			hits         = CASE WHEN r.expires_at <= now() THEN 1 ELSE r.hits + 1 END,
			window_start = now(),
			expires_at   = now() + $5 * interval '1 second'
		WHERE r.expires_at <= now() OR r.hits < $2 OR r.window_start + `+delay+` * interval '1 second' <= now()
		RETURNING r.hits`,
		key, b.Free, b.Base.Seconds(), b.Max.Seconds(), b.Forget.Seconds()).Scan(&counted)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("count attempt of %q: %w", key, err)
	}
	var secs float64
	err = db.Pool.QueryRow(ctx, `SELECT extract(epoch FROM r.window_start + `+delay+` * interval '1 second' - now())::float8
		FROM auth_rate_limits r WHERE r.key = $1`, key, b.Free, b.Base.Seconds(), b.Max.Seconds()).Scan(&secs)
	if err != nil {
		return 0, fmt.Errorf("delay of %q: %w", key, err)
	}
	// An attempt allowed meanwhile (the delay ran out between the two
	// statements) still waits a moment: the caller answers "try again".
	return max(time.Duration(secs*float64(time.Second)), time.Millisecond), nil
}

// RateDelete forgets key's counter.
func (db *DB) RateDelete(ctx context.Context, key string) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM auth_rate_limits WHERE key = $1`, key); err != nil {
		return fmt.Errorf("forget %q: %w", key, err)
	}
	return nil
}

// Remember marks key for ttl from now (a fact with an end, such as "this
// address gave this password"), counting the marks in hits.
func (db *DB) Remember(ctx context.Context, key string, ttl time.Duration) error {
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO auth_rate_limits AS r (key, window_start, expires_at, hits)
		VALUES ($1, now(), now() + $2 * interval '1 second', 1)
		ON CONFLICT (key) DO UPDATE SET
			hits = CASE WHEN r.expires_at <= now() THEN 1 ELSE r.hits + 1 END,
			window_start = now(), expires_at = now() + $2 * interval '1 second'`,
		key, ttl.Seconds()); err != nil {
		return fmt.Errorf("remember %q: %w", key, err)
	}
	return nil
}

// Remembered reports whether key is marked (Remember) and its mark has
// not ended.
func (db *DB) Remembered(ctx context.Context, key string) (bool, error) {
	var ok bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM auth_rate_limits WHERE key = $1 AND expires_at > now())`, key).Scan(&ok); err != nil {
		return false, fmt.Errorf("look up %q: %w", key, err)
	}
	return ok, nil
}
