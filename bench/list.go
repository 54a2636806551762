package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
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

// listCase is one order of the list: its query string and ListParams.
type listCase struct {
	name   string // as the figures say it
	query  string // sort and order of GET /api/files, "" for the default
	params postgres.ListParams
	cursor string // of the page at depth 150 000
	first  []time.Duration
	deep   []time.Duration
}

// list measures the first page and a page 150 000 rows deep, in the
// default order (newest first) and sorted by name (A to Z) and by size
// (largest first).
func (e *env) list() error {
	uid, err := e.seeded()
	if err != nil {
		return err
	}
	cases := []*listCase{
		{name: "list", params: postgres.ListParams{Limit: 50}},
		{name: "list by name asc", query: "&sort=name&order=asc",
			params: postgres.ListParams{Limit: 50, Sort: core.SortName, Order: core.OrderAsc}},
		{name: "list by size desc", query: "&sort=size&order=desc",
			params: postgres.ListParams{Limit: 50, Sort: core.SortSize, Order: core.OrderDesc}},
	}
	// Walk each to depth 150 000 the way a client would, 200 at a time.
	for _, c := range cases {
		for depth := 0; depth < 150000; depth += 200 {
			var page struct {
				Next string `json:"next_cursor"`
			}
			if _, err := e.call("GET", "/api/files?limit=200"+c.query+"&cursor="+url.QueryEscape(c.cursor), nil, &page); err != nil {
				return err
			}
			c.cursor = page.Next
		}
	}
	// First and deep pages of every order alternate, so that all see the
	// same machine.
	for i := 0; i < 1050; i++ {
		for _, c := range cases {
			for _, p := range []struct {
				path string
				ds   *[]time.Duration
			}{{"/api/files?limit=50" + c.query, &c.first}, {"/api/files?limit=50" + c.query + "&cursor=" + url.QueryEscape(c.cursor), &c.deep}} {
				t0 := time.Now()
				if _, err := e.call("GET", p.path, nil, nil); err != nil {
					return err
				}
				if i >= 50 {
					*p.ds = append(*p.ds, time.Since(t0))
				}
			}
		}
	}
	for _, c := range cases {
		p50f, p99f := percentile(c.first, 50), percentile(c.first, 99)
		p50d, p99d := percentile(c.deep, 50), percentile(c.deep, 99)
		r := float64(p50d) / float64(p50f)
		if c.query == "" {
			// The figures of the default order, named as before sorting existed.
			e.report.add("list first page (50 of 200 000) p50", ms(p50f), "", nil)
			e.report.add("list first page p99", ms(p99f), "<= 10 ms", boolp(p99f <= 10*time.Millisecond))
			e.report.add("list page at depth 150 000 p50", ms(p50d), "", nil)
			e.report.add("list page at depth 150 000 p99", ms(p99d), "", nil)
			e.report.add("list deep / first page (p50)", fmt.Sprintf("%.2fx", r), "<= 1.20x", boolp(r <= 1.2))
			continue
		}
		e.report.add(c.name+", first page p50", ms(p50f), "", nil)
		e.report.add(c.name+", first page p99", ms(p99f), "<= 10 ms", boolp(p99f <= 10*time.Millisecond))
		e.report.add(c.name+", page at depth 150 000 p50", ms(p50d), "", nil)
		e.report.add(c.name+", page at depth 150 000 p99", ms(p99d), "<= 10 ms", boolp(p99d <= 10*time.Millisecond))
		e.report.add(c.name+", deep / first page (p50)", fmt.Sprintf("%.2fx", r), "", nil)
	}
	return e.explainList(uid, cases)
}

// explainList sends each case's first and deep page through shared/postgres
// (the product's own SQL), records the statements and prints their
// EXPLAIN ANALYZE.
func (e *env) explainList(uid int64, cases []*listCase) error {
	db, err := postgres.Open(e.ctx, e.dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, c := range cases {
		for _, page := range []struct{ name, cursor string }{{"first page", ""}, {"depth 150 000", c.cursor}} {
			ctx, sent := postgres.RecordStatements(e.ctx)
			p := c.params
			p.Cursor = page.cursor
			if _, _, err := db.ListFiles(ctx, uid, p); err != nil {
				return fmt.Errorf("%s, %s: %w", c.name, page.name, err)
			}
			for _, st := range sent.Sent() {
				rows, err := db.Pool.Query(e.ctx, "EXPLAIN (ANALYZE, BUFFERS) "+st.SQL, st.Args...)
				if err != nil {
					return fmt.Errorf("explain %s: %w", st.SQL, err)
				}
				plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					return err
				}
				fmt.Printf("EXPLAIN ANALYZE %s, %s:\n    %s\n", c.name, page.name, strings.Join(plan, "\n    "))
			}
		}
	}
	return nil
}
