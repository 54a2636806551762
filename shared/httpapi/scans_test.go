package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// scanGuarded are the tables no request and no sync batch may read with a
// sequential scan: each grows with the service.
var scanGuarded = map[string]bool{"files": true, "users": true, "upload_sessions": true, "shares": true, "sessions": true, "user_usage": true, "folders": true}

// Set-up SQL of TestNoRequestScansATable, not product SQL: 100 000 users,
// a million files (200 000 of them the test user's; 200 in the hot tier,
// whose objects do not exist, so the sync run fails them quickly; half of
// the test user's in its folder Seed), 100 000 sessions, 50 000 upload
// sessions, 50 000 shares and 100 000 folders of other users.
var scanSeed = []string{
	`INSERT INTO users (email, hashed_password) SELECT 'seed-' || g || '@scan.invalid', 'x' FROM generate_series(1, 100000) g`,
	`INSERT INTO folders (user_id, name) SELECT $1 + 1 + g % 100000, 'folder ' || g FROM generate_series(1, 100000) g`,
	`INSERT INTO folders (user_id, name) VALUES ($1, 'Seed')`,
	`INSERT INTO files (user_id, filename, original_filename, file_size, content_type, storage_location, object_key, access_url,
			checksum_sha256, uploaded_at, deleted_at, purge_at, folder_id)
		SELECT CASE WHEN g <= 200000 THEN $1 ELSE $1 + 1 + g % 100000 END, 'file-' || g || '.bin', 'file ' || g || '.bin', g * 10,
			'application/octet-stream', CASE WHEN g % 5000 = 0 THEN 'minio' ELSE 's3' END, 'seed/' || g, 'http://seed/' || g,
			md5(g::text) || md5((-g)::text), now() - g * interval '1 second',
			CASE WHEN g % 10 = 0 THEN now() END, CASE WHEN g % 10 = 0 THEN now() + interval '30 days' END,
			CASE WHEN g % 2 = 0 AND g <= 200000 THEN (SELECT id FROM folders WHERE user_id = $1 AND name = 'Seed') END
		FROM generate_series(1, 1000000) g`,
	`INSERT INTO sessions (user_id, expires_at) SELECT $1 + 1 + g % 100000, now() + interval '30 days' FROM generate_series(1, 100000) g`,
	`INSERT INTO upload_sessions (id, user_id, object_key, storage_upload_id, filename, original_filename, declared_size, content_type,
			part_size, expires_at)
		SELECT gen_random_uuid(), $1 + 1 + g % 100000, 'seed-upload/' || g, 'x', 'u.bin', 'u.bin', 1000, 'application/octet-stream',
			8388608, now() + interval '1 day'
		FROM generate_series(1, 50000) g`,
	`INSERT INTO shares (file_id, user_id, token_hash, expires_at)
		SELECT f.id, f.user_id, sha256(f.id::text::bytea), now() + interval '1 day'
		FROM files f WHERE f.user_id <> $1 AND f.deleted_at IS NULL ORDER BY f.id LIMIT 50000`,
}

// TestNoRequestScansATable records every statement a session of requests
// (uploads of both paths, listing with search and paging in every sort
// and order, details, rename, download, shares, trash, restore, bulk delete and restore, purge, usage,
// sessions, sync status) and one sync run send, over a database of a
// million files, and fails when the EXPLAIN of any of them reads a guarded
// table sequentially, or of a file list sorts instead of reading an index
// in order.
func TestNoRequestScansATable(t *testing.T) {
	if onLambda() {
		t.Skip("records the statements of the in-process handler")
	}
	s := newStack(t, func(c *config.Config) { c.UserQuota = 1 << 40 })
	ctx := t.Context()
	c := s.client(t).signup("scans@example.com")
	var me struct {
		ID int64 `json:"id"`
	}
	c.json("GET", "/api/auth/me", nil, 200, &me)
	start := time.Now()
	for _, q := range scanSeed {
		args := []any{me.ID}
		if !strings.Contains(q, "$1") {
			args = nil
		}
		if _, err := s.app.DB.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("seed: %v\n%s", err, q)
		}
	}
	if _, err := s.app.DB.Pool.Exec(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %s", time.Since(start).Round(time.Millisecond))

	// The same API, every request's context recording; the file lists'
	// statements apart as well, to be checked for sorting too.
	rec, sent := postgres.RecordStatements(context.Background())
	listRec, listSent := postgres.RecordStatements(context.Background())
	h := s.app.API.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := rec
		if r.Method == "GET" && r.URL.Path == "/api/files" {
			ctx = listRec
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(srv.Close)
	c.base = srv.URL

	// Every request must succeed: a refused one would send fewer statements.
	ok := func(resp *http.Response, body []byte) {
		t.Helper()
		if resp.StatusCode >= 400 {
			t.Fatalf("%s %s: status %d, body %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body)
		}
	}
	f := c.mustUpload("scan.txt", []byte("scan me"))
	if st, b := c.uploadPresigned("presigned.bin", make([]byte, 1000)); st != 201 {
		t.Fatalf("presigned upload: %d %s", st, b)
	}
	var page struct {
		NextCursor *string `json:"next_cursor"`
	}
	var seed []folderObj
	c.json("GET", "/api/folders?parent_id=root", nil, 200, &struct {
		Folders *[]folderObj `json:"folders"`
	}{&seed})
	if len(seed) != 1 {
		t.Fatalf("root folders %+v, want Seed", seed)
	}
	c.json("GET", "/api/files?limit=50", nil, 200, &page)
	if page.NextCursor != nil {
		c.json("GET", "/api/files?limit=50&cursor="+*page.NextCursor, nil, 200, nil)
	}
	c.json("GET", "/api/files?q=file+12&location=s3", nil, 200, nil)
	// Every sort and order, a first page and the next: each must be read
	// in the order of an index (migration 00023), not sorted. (With a
	// filter as selective as the seed's hot tier, 40 of the user's files,
	// the planner rightly sorts what the tier's index finds.)
	for _, so := range core.FileSorts {
		for _, o := range core.SortOrders {
			path := fmt.Sprintf("/api/files?limit=50&sort=%s&order=%s", so, o)
			c.json("GET", path, nil, 200, &page)
			if page.NextCursor == nil {
				t.Fatalf("%s: no next page", path)
			}
			c.json("GET", path+"&cursor="+url.QueryEscape(*page.NextCursor), nil, 200, nil)
			// One folder's files, and the root's, in the same sort.
			for _, folder := range []string{fmt.Sprint(seed[0].ID), "root"} {
				path := fmt.Sprintf("/api/files?limit=50&sort=%s&order=%s&folder_id=%s", so, o, folder)
				c.json("GET", path, nil, 200, &page)
				if page.NextCursor == nil {
					t.Fatalf("%s: no next page", path)
				}
				c.json("GET", path+"&cursor="+url.QueryEscape(*page.NextCursor), nil, 200, nil)
			}
		}
	}
	// Folders: make a tree, upload into it, move, rename, trash, restore, purge.
	top := c.mkdir("Top", nil)
	sub := c.mkdir("Sub", &top.ID)
	c.json("GET", fmt.Sprintf("/api/folders?parent_id=%d", top.ID), nil, 200, nil)
	c.json("GET", fmt.Sprintf("/api/folders/%d", sub.ID), nil, 200, nil)
	inSub := c.mustUploadTo(sub.ID, "in-sub.txt", []byte("sub"))
	c.json("PATCH", fmt.Sprintf("/api/folders/%d", sub.ID), map[string]any{"name": "Sub 2", "parent_id": seed[0].ID}, 200, nil)
	c.json("PATCH", fmt.Sprintf("/api/folders/%d", sub.ID), map[string]any{"parent_id": top.ID}, 200, nil)
	c.json("PATCH", fmt.Sprintf("/api/files/%d", inSub.ID), map[string]any{"folder_id": top.ID}, 200, nil)
	c.json("POST", "/api/files/bulk", map[string]any{"action": "move", "file_ids": []int64{inSub.ID, 10, 500000},
		"folder_ids": []int64{sub.ID}, "target_folder_id": seed[0].ID}, 200, nil)
	c.json("POST", "/api/files/bulk", map[string]any{"action": "move", "folder_ids": []int64{sub.ID}, "target_folder_id": top.ID}, 200, nil)
	ok(c.do("DELETE", fmt.Sprintf("/api/folders/%d", top.ID), nil, nil))
	c.json("GET", "/api/trash?limit=50", nil, 200, nil)
	c.json("POST", fmt.Sprintf("/api/trash/folders/%d/restore", top.ID), nil, 200, nil)
	ok(c.do("DELETE", fmt.Sprintf("/api/folders/%d", top.ID), nil, nil))
	ok(c.do("DELETE", fmt.Sprintf("/api/trash/folders/%d", top.ID), nil, nil))
	c.json("GET", fmt.Sprintf("/api/files/%d", f.ID), nil, 200, nil)
	c.json("PATCH", fmt.Sprintf("/api/files/%d", f.ID), map[string]string{"filename": "renamed.bin"}, 200, nil)
	// A seed file: another user's (403) or in the trash (404).
	if r, b := c.do("PATCH", "/api/files/500001", strings.NewReader(`{"filename":"not-mine.bin"}`), map[string]string{"Content-Type": "application/json"}); r.StatusCode != 403 && r.StatusCode != 404 {
		t.Fatalf("rename of a seed file: %d %s", r.StatusCode, b)
	}
	ok(c.do("GET", fmt.Sprintf("/api/files/%d/download", f.ID), nil, nil))
	sh := c.share(f.ID, map[string]any{"expires_in_hours": 1})
	anon := s.client(t)
	anon.base = srv.URL
	anon.json("GET", "/api/public/shares/"+shareToken(t, sh), nil, 200, nil)
	ok(shareDownload(anon, shareToken(t, sh), nil))
	c.json("GET", fmt.Sprintf("/api/files/%d/shares", f.ID), nil, 200, nil)
	ok(c.do("DELETE", fmt.Sprintf("/api/shares/%d", sh.ID), nil, nil))
	c.json("GET", "/api/usage", nil, 200, nil)
	c.json("GET", "/api/auth/sessions", nil, 200, nil)
	c.json("GET", "/api/sync/status", nil, 200, nil)
	ok(c.do("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, nil))
	c.json("GET", "/api/trash?limit=50", nil, 200, nil)
	c.json("POST", fmt.Sprintf("/api/trash/%d/restore", f.ID), nil, 200, nil)
	// Bulk delete and restore: one statement each for up to 1000 ids,
	// some of them the seed's (other users' or trashed).
	bulkIDs := []int64{f.ID, 10, 20, 500000, 999999}
	c.json("POST", "/api/files/bulk", map[string]any{"action": "delete", "file_ids": bulkIDs}, 200, nil)
	c.json("POST", "/api/files/bulk", map[string]any{"action": "restore", "file_ids": bulkIDs}, 200, nil)
	ok(c.do("DELETE", fmt.Sprintf("/api/files/%d", f.ID), nil, nil))
	ok(c.do("DELETE", fmt.Sprintf("/api/trash/%d", f.ID), nil, nil))
	c.json("POST", "/api/auth/login", map[string]string{"email": "scans@example.com", "password": testPassword}, 200, nil)

	// One sync run: claims and flips over the million rows.
	if _, err := s.app.Sync.Run(rec); err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{}
	var explained int
	lists := map[string]bool{}
	for _, st := range listSent.Sent() {
		lists[strings.TrimSpace(st.SQL)] = true
	}
	for _, st := range append(sent.Sent(), listSent.Sent()...) {
		q := strings.TrimSpace(st.SQL)
		verb := strings.ToLower(strings.Fields(q + " x")[0])
		if seen[q] || !map[string]bool{"select": true, "insert": true, "update": true, "delete": true, "with": true}[verb] {
			continue
		}
		seen[q] = true
		var plan []map[string]any
		if err := s.app.DB.Pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+q, st.Args...).Scan(&plan); err != nil {
			t.Errorf("explain: %v\n%s", err, q)
			continue
		}
		explained++
		for _, rel := range seqScans(plan[0]["Plan"]) {
			if scanGuarded[rel] {
				t.Errorf("sequential scan of %s in\n%s", rel, q)
			}
		}
		// A page of a list is the first rows of an index in its order: a
		// Sort node would sort all of the user's matching files first.
		if lists[q] && hasNode(plan[0]["Plan"], "Sort") {
			t.Errorf("file list sorted, not read in index order (a missing index?):\n%s\nargs %v", q, st.Args)
		}
	}
	if explained < 30 {
		t.Errorf("explained %d distinct statements; the session sends more: the recording missed some", explained)
	}
	t.Logf("%d statements sent, %d distinct explained", len(sent.Sent()), explained)
}

// hasNode reports whether a plan node or one of its children is of type
// typ.
func hasNode(node any, typ string) bool {
	n, ok := node.(map[string]any)
	if !ok {
		return false
	}
	if n["Node Type"] == typ {
		return true
	}
	kids, _ := n["Plans"].([]any)
	for _, k := range kids {
		if hasNode(k, typ) {
			return true
		}
	}
	return false
}

// seqScans returns the relations a plan node or its children scan
// sequentially (subplans and init plans included).
func seqScans(node any) []string {
	n, ok := node.(map[string]any)
	if !ok {
		return nil
	}
	var out []string
	if n["Node Type"] == "Seq Scan" {
		if rel, ok := n["Relation Name"].(string); ok {
			out = append(out, rel)
		}
	}
	if kids, ok := n["Plans"].([]any); ok {
		for _, k := range kids {
			out = append(out, seqScans(k)...)
		}
	}
	sort.Strings(out)
	return out
}
