package postgres

import (
	"context"
	"fmt"
	"math"
	"time"
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
