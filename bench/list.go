package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what the bench needs of a connection.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (e *env) withDB(fn func(q querier) error) error {
	conn, err := pgx.Connect(e.ctx, e.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(e.ctx)
	return fn(conn)
}

// Benchmark set-up, not product SQL: 99 other users, 200 000 files for the
// bench user and 800 000 spread over the others, one a second into the past.
const (
	seedUsers = `INSERT INTO users (email, hashed_password)
		SELECT 'seed-' || g || '@bench.invalid', 'x' FROM generate_series(1, 99) g`
	seedFiles = `INSERT INTO files (user_id, filename, original_filename, file_size, content_type,
			storage_location, object_key, access_url, checksum_sha256, uploaded_at)
		SELECT CASE WHEN g <= 200000 THEN $1 ELSE $2 + (g % 99) END,
			'file-' || g || '.bin', 'file ' || g || '.bin', g * 10, 'application/octet-stream',
			CASE WHEN g % 3 = 0 THEN 's3' ELSE 'minio' END,
			'seed/' || g, 'http://seed/' || g, md5(g::text) || md5((-g)::text),
			now() - g * interval '1 second'
		FROM generate_series(1, 1000000) g`
	// The list query of shared/postgres (ListFiles), for EXPLAIN only.
	listQuery = `SELECT id, user_id, filename, original_filename, file_size, content_type, storage_location,
		object_key, access_url, checksum_sha256, uploaded_at, synced_at FROM files WHERE user_id = $1 %s
		ORDER BY uploaded_at DESC, id DESC LIMIT 51`
)

func (e *env) userID() (int64, error) {
	var me struct {
		ID int64 `json:"id"`
	}
	_, err := e.call("GET", "/api/auth/me", nil, &me)
	return me.ID, err
}

// seeded makes sure the million rows exist (once per run).
func (e *env) seeded() (int64, error) {
	uid, err := e.userID()
	if err != nil {
		return 0, err
	}
	return uid, e.withDB(func(q querier) error {
		var n int
		if err := q.QueryRow(e.ctx, `SELECT count(*) FROM files`).Scan(&n); err != nil {
			return err
		}
		if n >= 1000000 {
			return nil
		}
		t0 := time.Now()
		if _, err := q.Exec(e.ctx, seedUsers); err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
		var first int64
		if err := q.QueryRow(e.ctx, `SELECT min(id) FROM users WHERE email LIKE 'seed-%'`).Scan(&first); err != nil {
			return err
		}
		if _, err := q.Exec(e.ctx, seedFiles, uid, first); err != nil {
			return fmt.Errorf("seed files: %w", err)
		}
		if _, err := q.Exec(e.ctx, `VACUUM ANALYZE files`); err != nil {
			return err
		}
		e.report.add("seed 1 000 000 files (generate_series)", fmt.Sprintf("%.1f s", time.Since(t0).Seconds()), "", nil)
		return nil
	})
}

// list measures the first page and a page 150 000 rows deep.
func (e *env) list() error {
	uid, err := e.seeded()
	if err != nil {
		return err
	}
	// Walk to depth 150 000 the way a client would, 200 at a time.
	cursor := ""
	for depth := 0; depth < 150000; depth += 200 {
		var page struct {
			Next string `json:"next_cursor"`
		}
		if _, err := e.call("GET", "/api/files?limit=200&cursor="+url.QueryEscape(cursor), nil, &page); err != nil {
			return err
		}
		cursor = page.Next
	}
	// First and deep pages alternate, so that both see the same machine.
	var first, deep []time.Duration
	for i := 0; i < 1050; i++ {
		for _, c := range []struct {
			path string
			ds   *[]time.Duration
		}{{"/api/files?limit=50", &first}, {"/api/files?limit=50&cursor=" + url.QueryEscape(cursor), &deep}} {
			t0 := time.Now()
			if _, err := e.call("GET", c.path, nil, nil); err != nil {
				return err
			}
			if i >= 50 {
				*c.ds = append(*c.ds, time.Since(t0))
			}
		}
	}
	p50f, p99f := percentile(first, 50), percentile(first, 99)
	p50d, p99d := percentile(deep, 50), percentile(deep, 99)
	e.report.add("list first page (50 of 200 000) p50", ms(p50f), "", nil)
	e.report.add("list first page p99", ms(p99f), "<= 10 ms", boolp(p99f <= 10*time.Millisecond))
	e.report.add("list page at depth 150 000 p50", ms(p50d), "", nil)
	e.report.add("list page at depth 150 000 p99", ms(p99d), "", nil)
	r := float64(p50d) / float64(p50f)
	e.report.add("list deep / first page (p50)", fmt.Sprintf("%.2fx", r), "<= 1.20x", boolp(r <= 1.2))
	return e.withDB(func(q querier) error {
		var at time.Time
		var id int64
		if err := q.QueryRow(e.ctx, `SELECT uploaded_at, id FROM files WHERE user_id = $1
			ORDER BY uploaded_at DESC, id DESC OFFSET 149999 LIMIT 1`, uid).Scan(&at, &id); err != nil {
			return err
		}
		for _, c := range []struct {
			name, where string
			args        []any
		}{
			{"first page", "", []any{uid}},
			{"depth 150 000", "AND (uploaded_at, id) < ($2, $3)", []any{uid, at, id}},
		} {
			rows, err := q.Query(e.ctx, "EXPLAIN (ANALYZE, BUFFERS) "+fmt.Sprintf(listQuery, c.where), c.args...)
			if err != nil {
				return err
			}
			plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			fmt.Printf("EXPLAIN ANALYZE list, %s:\n    %s\n", c.name, strings.Join(plan, "\n    "))
		}
		return nil
	})
}
