package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/core"
)

type folderObj struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	ParentID  *int64 `json:"parent_id"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	Path      []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"path"`
}

// mkdir makes folder name in parent (nil: the root).
func (c *client) mkdir(name string, parent *int64) folderObj {
	c.tb.Helper()
	var f folderObj
	c.json("POST", "/api/folders", map[string]any{"name": name, "parent_id": parent}, 201, &f)
	return f
}

func (c *client) folders(parent string) []folderObj {
	c.tb.Helper()
	var out struct {
		Folders []folderObj `json:"folders"`
	}
	c.json("GET", "/api/folders?parent_id="+parent, nil, 200, &out)
	return out.Folders
}

func (c *client) filesIn(folder string) []fileObj {
	c.tb.Helper()
	var p filePage
	c.json("GET", "/api/files?folder_id="+folder, nil, 200, &p)
	return p.Files
}

// uploadTo uploads data as name into folder (its folder_id form field
// before the file).
func (c *client) uploadTo(folder, name string, data []byte) (*http.Response, []byte) {
	c.tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("folder_id", folder)
	w, _ := mw.CreateFormFile("file", name)
	w.Write(data)
	mw.Close()
	return c.do("POST", "/api/files/upload", &buf, map[string]string{"Content-Type": mw.FormDataContentType()})
}

func (c *client) mustUploadTo(folder int64, name string, data []byte) fileObj {
	c.tb.Helper()
	resp, b := c.uploadTo(fmt.Sprint(folder), name, data)
	var f fileObj
	if resp.StatusCode != 201 || json.Unmarshal(b, &f) != nil {
		c.tb.Fatalf("upload %q into folder %d: %d %s", name, folder, resp.StatusCode, b)
	}
	return f
}

func idsOf[T any](xs []T, id func(T) int64) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func folderIDs(fs []folderObj) []int64 { return idsOf(fs, func(f folderObj) int64 { return f.ID }) }

func sameIDs(a, b []int64) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// A tree: folders by name in their parent, the path for breadcrumbs, names
// unique among siblings case-insensitively, files in folders listed per
// folder and all together, moves of files and folders, and cycles refused.
func TestFolderTree(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("tree@example.com")

	projects := c.mkdir("Projects", nil)
	archive := c.mkdir("archive", nil)
	y2026 := c.mkdir("2026", &projects.ID)
	q1 := c.mkdir("  Q1\u200b ", &y2026.ID)
	if q1.Name != "Q1" || *q1.ParentID != y2026.ID || projects.ParentID != nil {
		t.Fatalf("folders %+v %+v", q1, projects)
	}
	if got := folderIDs(c.folders("root")); !sameIDs(got, []int64{archive.ID, projects.ID}) {
		t.Errorf("root folders %v, want archive, Projects (by name, case-insensitively)", got)
	}
	if got := folderIDs(c.folders(fmt.Sprint(projects.ID))); !sameIDs(got, []int64{y2026.ID}) {
		t.Errorf("folders of Projects %v", got)
	}
	var got folderObj
	c.json("GET", fmt.Sprintf("/api/folders/%d", q1.ID), nil, 200, &got)
	if len(got.Path) != 3 || got.Path[0].Name != "Projects" || got.Path[1].Name != "2026" || got.Path[2].ID != q1.ID {
		t.Errorf("path of Q1: %+v", got.Path)
	}

	// Names: unique among siblings (case-insensitively), free elsewhere.
	resp, body := c.do("POST", "/api/folders", strings.NewReader(`{"name":"PROJECTS"}`), map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 409, "NAME_TAKEN")
	c.mkdir("Projects", &archive.ID)
	for _, bad := range []string{"", "a/b", `a\b`, "..", "\u200b", "tab\there", strings.Repeat("x", 256)} {
		b, _ := json.Marshal(map[string]any{"name": bad})
		resp, body := c.do("POST", "/api/folders", bytes.NewReader(b), map[string]string{"Content-Type": "application/json"})
		wantError(t, resp, body, 400, "INVALID_FILENAME")
	}
	for _, tc := range []struct {
		body, code string
		status     int
	}{
		{`{}`, "VALIDATION_ERROR", 400},
		{`{"name":"x","parent_id":-1}`, "VALIDATION_ERROR", 400},
		{`{"name":"x","parent_id":"1"}`, "VALIDATION_ERROR", 400},
		{`{"name":"x","parent_id":999999}`, "FOLDER_NOT_FOUND", 404},
	} {
		resp, body := c.do("POST", "/api/folders", strings.NewReader(tc.body), map[string]string{"Content-Type": "application/json"})
		wantError(t, resp, body, tc.status, tc.code)
	}

	// Files in folders.
	rootFile := c.mustUpload("root.txt", []byte("root"))
	inQ1 := c.mustUploadTo(q1.ID, "plan.txt", []byte("plan"))
	if inQ1.FolderID == nil || *inQ1.FolderID != q1.ID || rootFile.FolderID != nil {
		t.Fatalf("folder_id of uploads: %v, %v", inQ1.FolderID, rootFile.FolderID)
	}
	if got := ids(c.filesIn("root")); !sameIDs(got, []int64{rootFile.ID}) {
		t.Errorf("files in the root %v", got)
	}
	if got := ids(c.filesIn(fmt.Sprint(q1.ID))); !sameIDs(got, []int64{inQ1.ID}) {
		t.Errorf("files in Q1 %v", got)
	}
	if got := c.files(); len(got) != 2 {
		t.Errorf("every file: %d, want 2 (search spans folders)", len(got))
	}
	resp, body = c.uploadTo("999999", "lost.txt", []byte("x"))
	wantError(t, resp, body, 404, "FOLDER_NOT_FOUND")
	resp, body = c.uploadTo("nope", "lost.txt", []byte("x"))
	wantError(t, resp, body, 400, "VALIDATION_ERROR")
	resp, body = c.do("GET", "/api/files?folder_id=999999", nil, nil)
	wantError(t, resp, body, 404, "FOLDER_NOT_FOUND")

	// A file moves by PATCH (metadata only: same key), to a folder or back to the root.
	var moved fileObj
	c.json("PATCH", fmt.Sprintf("/api/files/%d", rootFile.ID), map[string]any{"folder_id": archive.ID}, 200, &moved)
	if moved.FolderID == nil || *moved.FolderID != archive.ID || moved.AccessURL != rootFile.AccessURL || moved.OriginalFilename != "root.txt" {
		t.Fatalf("moved file %+v", moved)
	}
	c.json("PATCH", fmt.Sprintf("/api/files/%d", rootFile.ID), map[string]any{"folder_id": nil, "filename": "back.txt"}, 200, &moved)
	if moved.FolderID != nil || moved.OriginalFilename != "back.txt" {
		t.Fatalf("moved back and renamed %+v", moved)
	}
	resp, body = c.do("PATCH", fmt.Sprintf("/api/files/%d", rootFile.ID), strings.NewReader(`{"folder_id":424242}`), map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 404, "FOLDER_NOT_FOUND")

	// A folder moves with everything in it; never into itself or below.
	for _, target := range []int64{projects.ID, y2026.ID, q1.ID} {
		resp, body := c.do("PATCH", fmt.Sprintf("/api/folders/%d", projects.ID), strings.NewReader(fmt.Sprintf(`{"parent_id":%d}`, target)),
			map[string]string{"Content-Type": "application/json"})
		wantError(t, resp, body, 409, "FOLDER_CYCLE")
	}
	var f folderObj
	c.json("PATCH", fmt.Sprintf("/api/folders/%d", y2026.ID), map[string]any{"parent_id": archive.ID, "name": "Year 2026"}, 200, &f)
	if f.Name != "Year 2026" || *f.ParentID != archive.ID {
		t.Fatalf("moved folder %+v", f)
	}
	c.json("GET", fmt.Sprintf("/api/folders/%d", q1.ID), nil, 200, &got)
	if len(got.Path) != 3 || got.Path[0].ID != archive.ID || got.Path[1].Name != "Year 2026" {
		t.Errorf("path of Q1 after the move: %+v", got.Path)
	}
	if got := ids(c.filesIn(fmt.Sprint(q1.ID))); !sameIDs(got, []int64{inQ1.ID}) {
		t.Errorf("files of Q1 after its parent moved: %v", got)
	}
	resp, body = c.do("PATCH", fmt.Sprintf("/api/folders/%d", y2026.ID), strings.NewReader(`{"parent_id":null,"name":"projects"}`),
		map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 409, "NAME_TAKEN")
	resp, body = c.do("PATCH", fmt.Sprintf("/api/folders/%d", y2026.ID), strings.NewReader(`{}`), map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 400, "VALIDATION_ERROR")

	// Another user sees none of it and can use none of it.
	other := s.client(t).signup("tree-other@example.com")
	if got := other.folders("root"); len(got) != 0 {
		t.Errorf("another user's root folders: %+v", got)
	}
	for _, req := range []struct{ method, path, body string }{
		{"GET", fmt.Sprintf("/api/folders/%d", projects.ID), ""},
		{"GET", fmt.Sprintf("/api/folders?parent_id=%d", projects.ID), ""},
		{"GET", fmt.Sprintf("/api/files?folder_id=%d", q1.ID), ""},
		{"PATCH", fmt.Sprintf("/api/folders/%d", projects.ID), `{"name":"mine"}`},
		{"DELETE", fmt.Sprintf("/api/folders/%d", projects.ID), ""},
		{"POST", "/api/folders", fmt.Sprintf(`{"name":"x","parent_id":%d}`, projects.ID)},
	} {
		resp, body := other.do(req.method, req.path, strings.NewReader(req.body), map[string]string{"Content-Type": "application/json"})
		wantError(t, resp, body, 403, "FORBIDDEN")
	}
	theirs := other.mustUpload("theirs.txt", []byte("theirs"))
	resp, body = other.do("PATCH", fmt.Sprintf("/api/files/%d", theirs.ID), strings.NewReader(fmt.Sprintf(`{"folder_id":%d}`, archive.ID)),
		map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 403, "FORBIDDEN")
	resp, body = other.uploadTo(fmt.Sprint(archive.ID), "sneak.txt", []byte("x"))
	wantError(t, resp, body, 403, "FORBIDDEN")
	if got := c.filesIn(fmt.Sprint(archive.ID)); len(got) != 0 {
		t.Errorf("archive holds %+v", got)
	}
}

// Depth and count limits: a hostile client cannot build a deep path.
func TestFolderLimits(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("deep@example.com")
	var parent *int64
	var chain []folderObj
	for i := 0; i < core.MaxFolderDepth; i++ {
		f := c.mkdir(fmt.Sprint("level ", i+1), parent)
		chain = append(chain, f)
		parent = &f.ID
	}
	resp, body := c.do("POST", "/api/folders", strings.NewReader(fmt.Sprintf(`{"name":"one too deep","parent_id":%d}`, *parent)),
		map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 409, "FOLDER_TOO_DEEP")
	// A two-level folder cannot move under level 63.
	side := c.mkdir("side", nil)
	c.mkdir("inner", &side.ID)
	resp, body = c.do("PATCH", fmt.Sprintf("/api/folders/%d", side.ID), strings.NewReader(fmt.Sprintf(`{"parent_id":%d}`, chain[62].ID)),
		map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 409, "FOLDER_TOO_DEEP")
	var got folderObj
	c.json("GET", fmt.Sprintf("/api/folders/%d", *parent), nil, 200, &got)
	if len(got.Path) != core.MaxFolderDepth {
		t.Errorf("path of the deepest folder: %d items, want %d", len(got.Path), core.MaxFolderDepth)
	}
	// The count: filled up in SQL (10,000 requests would be slow), then one more is refused.
	var uid int64
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT id FROM users WHERE email = 'deep@example.com'`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.DB.Pool.Exec(t.Context(), `INSERT INTO folders (user_id, name)
		SELECT $1, 'bulk ' || g FROM generate_series(1, $2) g`, uid, core.MaxFolders-core.MaxFolderDepth-2); err != nil {
		t.Fatal(err)
	}
	resp, body = c.do("POST", "/api/folders", strings.NewReader(`{"name":"one too many"}`), map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 409, "FOLDER_LIMIT")
}

// Deleting a folder trashes it, its subfolders and their files as one
// entry; restoring brings exactly that back; purging removes every object;
// a share of a file in it is gone while it is in the trash.
func TestFolderTrash(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("folder-trash@example.com")
	docs := c.mkdir("Docs", nil)
	sub := c.mkdir("Sub", &docs.ID)
	a := c.mustUploadTo(docs.ID, "a.txt", []byte("aaaa"))
	b := c.mustUploadTo(sub.ID, "b.txt", []byte("bb"))
	early := c.mustUploadTo(sub.ID, "early.txt", []byte("e"))
	keep := c.mustUpload("keep.txt", []byte("keep"))
	coldKey := moveToCold(t, s, b.ID)
	sh := c.share(a.ID, map[string]any{})
	c.json("DELETE", fmt.Sprintf("/api/files/%d", early.ID), nil, 204, nil) // its own entry
	before := c.usage()

	c.json("DELETE", fmt.Sprintf("/api/folders/%d", docs.ID), nil, 204, nil)
	if got := ids(c.files()); !sameIDs(got, []int64{keep.ID}) {
		t.Errorf("files after the folder's delete %v, want only keep.txt", got)
	}
	if got := c.folders("root"); len(got) != 0 {
		t.Errorf("root folders after the delete %+v", got)
	}
	resp, body := c.do("GET", fmt.Sprintf("/api/folders/%d", sub.ID), nil, nil)
	wantError(t, resp, body, 404, "FOLDER_NOT_FOUND")
	tr := c.trash()
	if len(tr) != 2 || tr[0].Kind != "folder" || tr[0].ID != docs.ID || tr[0].Name != "Docs" || tr[0].FileCount != 2 || tr[0].TotalSize != 6 ||
		tr[1].Kind != "file" || tr[1].ID != early.ID {
		t.Fatalf("trash %+v, want Docs (2 files, 6 bytes) then early.txt", tr)
	}
	after := c.usage()
	if after.TrashBytes != before.TrashBytes+6 || after.Files != before.Files-2 {
		t.Errorf("usage %+v after the delete, before %+v", after, before)
	}
	resp, body = c.do("GET", "/api/public/shares/"+shareToken(t, sh), nil, nil)
	wantError(t, resp, body, 410, "SHARE_GONE")
	// The files that went with the folder are not entries of their own.
	resp, body = c.do("POST", fmt.Sprintf("/api/trash/%d/restore", a.ID), nil, nil)
	wantError(t, resp, body, 404, "FILE_NOT_FOUND")
	resp, body = c.do("DELETE", fmt.Sprintf("/api/trash/%d", a.ID), nil, nil)
	wantError(t, resp, body, 404, "FILE_NOT_FOUND")

	// Restore: the folder, its subfolder and their two files, not early.txt.
	var f folderObj
	c.json("POST", fmt.Sprintf("/api/trash/folders/%d/restore", docs.ID), nil, 200, &f)
	if f.ID != docs.ID || f.ParentID != nil {
		t.Fatalf("restored %+v", f)
	}
	if got := ids(c.filesIn(fmt.Sprint(sub.ID))); !sameIDs(got, []int64{b.ID}) {
		t.Errorf("files of Sub after the restore %v", got)
	}
	if tr := c.trash(); len(tr) != 1 || tr[0].ID != early.ID {
		t.Errorf("trash after the restore %+v", tr)
	}
	if u := c.usage(); u != before {
		t.Errorf("usage after the restore %+v, want %+v", u, before)
	}
	resp, _ = c.do("GET", "/api/public/shares/"+shareToken(t, sh), nil, nil)
	if resp.StatusCode != 200 {
		t.Errorf("share after the restore: %d", resp.StatusCode)
	}
	// early.txt's folder is live again: it comes back into Sub.
	var back fileObj
	c.json("POST", fmt.Sprintf("/api/trash/%d/restore", early.ID), nil, 200, &back)
	if back.FolderID == nil || *back.FolderID != sub.ID {
		t.Errorf("early.txt restored into %v, want Sub", back.FolderID)
	}

	// A file trashed alone whose folder then went to the trash comes back in the root.
	c.json("DELETE", fmt.Sprintf("/api/files/%d", early.ID), nil, 204, nil)
	c.json("DELETE", fmt.Sprintf("/api/folders/%d", sub.ID), nil, 204, nil)
	c.json("POST", fmt.Sprintf("/api/trash/%d/restore", early.ID), nil, 200, &back)
	if back.FolderID != nil {
		t.Errorf("early.txt restored into %v, want the root (its folder is in the trash)", *back.FolderID)
	}
	// Sub comes back under Docs, unless a live sibling took its name: then 409.
	c.mkdir("sub", &docs.ID)
	resp, body = c.do("POST", fmt.Sprintf("/api/trash/folders/%d/restore", sub.ID), nil, nil)
	wantError(t, resp, body, 409, "NAME_TAKEN")

	// Purge: Sub's objects leave every tier, its rows go.
	c.json("DELETE", fmt.Sprintf("/api/trash/folders/%d", sub.ID), nil, 204, nil)
	if rowExists(t, s, b.ID) || inTier(t, s.app.Cold, coldKey) || inTier(t, s.app.Hot, coldKey) {
		t.Error("b.txt is still there after its folder's purge")
	}
	var n int
	s.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM folders WHERE id = $1`, sub.ID).Scan(&n)
	if n != 0 {
		t.Error("Sub's row is still there after its purge")
	}
	resp, body = c.do("POST", fmt.Sprintf("/api/trash/folders/%d/restore", sub.ID), nil, nil)
	wantError(t, resp, body, 404, "FOLDER_NOT_FOUND")

	// Emptying the trash takes folder entries too; the sweep takes expired ones.
	c.json("DELETE", fmt.Sprintf("/api/folders/%d", docs.ID), nil, 204, nil)
	c.json("DELETE", "/api/trash", nil, 204, nil)
	if tr := c.trash(); len(tr) != 0 {
		t.Errorf("trash after emptying it %+v", tr)
	}
	if rowExists(t, s, a.ID) {
		t.Error("a.txt is still there after emptying the trash")
	}
	exp := c.mkdir("Expiring", nil)
	x := c.mustUploadTo(exp.ID, "x.txt", []byte("x"))
	c.json("DELETE", fmt.Sprintf("/api/folders/%d", exp.ID), nil, 204, nil)
	if _, err := s.app.DB.Pool.Exec(t.Context(), `UPDATE files SET purge_at = now() - interval '1 second' WHERE id = $1`, x.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.DB.Pool.Exec(t.Context(), `UPDATE folders SET purge_at = now() - interval '1 second' WHERE id = $1`, exp.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := s.app.Maintenance.PurgeExpiredTrash(t.Context()); err != nil || n != 1 {
		t.Fatalf("PurgeExpiredTrash: %d, %v", n, err)
	}
	if tr := c.trash(); len(tr) != 0 {
		t.Errorf("trash after the sweep %+v", tr)
	}
	s.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM folders WHERE deleted_at IS NOT NULL`).Scan(&n)
	if n != 0 {
		t.Errorf("%d trashed folder rows left after the sweep", n)
	}
}

// Without a trash, deleting a folder purges everything in it at once.
func TestFolderDeleteWithoutTrash(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.TrashRetentionDays = 0 })
	c := s.client(t).signup("no-trash-folder@example.com")
	d := c.mkdir("Gone", nil)
	f := c.mustUploadTo(d.ID, "f.txt", []byte("f"))
	key := moveToCold(t, s, f.ID)
	c.json("DELETE", fmt.Sprintf("/api/folders/%d", d.ID), nil, 204, nil)
	if rowExists(t, s, f.ID) || inTier(t, s.app.Cold, key) || inTier(t, s.app.Hot, key) {
		t.Error("the file is still there")
	}
	if tr := c.trash(); len(tr) != 0 {
		t.Errorf("trash %+v", tr)
	}
	if u := c.usage(); u.UsedBytes != 0 || u.Files != 0 {
		t.Errorf("usage %+v", u)
	}
}

// Bulk move: files in one statement, folders one by one, each answered.
func TestBulkMove(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("bulk-move@example.com")
	dest := c.mkdir("Dest", nil)
	inner := c.mkdir("Inner", &dest.ID)
	loose := c.mkdir("Loose", nil)
	f1 := c.mustUpload("1.txt", []byte("1"))
	f2 := c.mustUpload("2.txt", []byte("2"))
	other := s.client(t).signup("bulk-move-other@example.com")
	theirs := other.mustUpload("theirs.txt", []byte("t"))
	theirFolder := other.mkdir("Theirs", nil)

	var out struct {
		Results []struct {
			Kind      string `json:"kind"`
			Status    string `json:"status"`
			ErrorCode string `json:"error_code"`
			ID        int64  `json:"id"`
		} `json:"results"`
	}
	c.json("POST", "/api/files/bulk", map[string]any{"action": "move", "file_ids": []int64{f1.ID, theirs.ID, f2.ID},
		"folder_ids": []int64{loose.ID, dest.ID, theirFolder.ID}, "target_folder_id": inner.ID}, 200, &out)
	got := []string{}
	for _, r := range out.Results {
		got = append(got, fmt.Sprintf("%s %d %s", r.Kind, r.ID, r.Status))
	}
	want := []string{fmt.Sprintf("file %d moved", f1.ID), fmt.Sprintf("file %d failed", theirs.ID), fmt.Sprintf("file %d moved", f2.ID),
		fmt.Sprintf("folder %d moved", loose.ID), fmt.Sprintf("folder %d failed", dest.ID), fmt.Sprintf("folder %d failed", theirFolder.ID)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	if got := ids(c.filesIn(fmt.Sprint(inner.ID))); !sameIDs(got, []int64{f2.ID, f1.ID}) {
		t.Errorf("files in Inner %v", got)
	}
	if got := folderIDs(c.folders(fmt.Sprint(inner.ID))); !sameIDs(got, []int64{loose.ID}) {
		t.Errorf("folders in Inner %v", got)
	}
	if got := other.files(); len(got) != 1 || got[0].FolderID != nil {
		t.Errorf("another user's file after my bulk move %+v", got)
	}
	// Bulk delete and restore of a folder.
	c.json("POST", "/api/files/bulk", map[string]any{"action": "delete", "folder_ids": []int64{inner.ID}}, 200, &out)
	if len(out.Results) != 1 || out.Results[0].Status != "trashed" || len(c.files()) != 0 {
		t.Fatalf("bulk delete of a folder: %+v, files %+v", out.Results, c.files())
	}
	c.json("POST", "/api/files/bulk", map[string]any{"action": "restore", "folder_ids": []int64{inner.ID}}, 200, &out)
	if len(out.Results) != 1 || out.Results[0].Status != "restored" || len(c.files()) != 2 {
		t.Fatalf("bulk restore of a folder: %+v", out.Results)
	}
	for _, tc := range []struct{ body, code string }{
		{fmt.Sprintf(`{"action":"move","file_ids":[%d]}`, f1.ID), "VALIDATION_ERROR"},
		{fmt.Sprintf(`{"action":"delete","file_ids":[%d],"target_folder_id":null}`, f1.ID), "VALIDATION_ERROR"},
		{fmt.Sprintf(`{"action":"move","file_ids":[%d],"target_folder_id":999999}`, f1.ID), "FOLDER_NOT_FOUND"},
		{fmt.Sprintf(`{"action":"move","file_ids":[%d],"target_folder_id":%d}`, f1.ID, theirFolder.ID), "FORBIDDEN"},
		{`{"action":"move","target_folder_id":null}`, "VALIDATION_ERROR"},
	} {
		resp, body := c.do("POST", "/api/files/bulk", strings.NewReader(tc.body), map[string]string{"Content-Type": "application/json"})
		wantError(t, resp, body, map[string]int{"VALIDATION_ERROR": 400, "FOLDER_NOT_FOUND": 404, "FORBIDDEN": 403}[tc.code], tc.code)
	}
}

// A presigned multipart upload goes into the folder named at its creation;
// if that folder went to the trash meanwhile, into the root, and the file
// is not lost.
func TestUploadIntoFolder(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("upload-folder@example.com")
	d := c.mkdir("Videos", nil)
	data := randomBytes(t, 8*mib+10)
	start := func(name string) (string, []partRef) {
		var u uploadObj
		c.json("POST", "/api/files/uploads", map[string]any{"filename": name, "size": len(data), "folder_id": d.ID}, 201, &u)
		var refs []partRef
		for i, part := range chunks(data, u.PartSize) {
			refs = append(refs, partRef{i + 1, putPart(t, u.Parts[i].URL, part)})
		}
		return u.UploadID, refs
	}
	complete := func(id string, refs []partRef) fileObj {
		var f fileObj
		c.json("POST", "/api/files/uploads/"+id+"/complete", map[string]any{"parts": refs}, 201, &f)
		return f
	}
	f := complete(start("clip.bin"))
	if f.FolderID == nil || *f.FolderID != d.ID {
		t.Fatalf("multipart upload landed in %v, want Videos", f.FolderID)
	}
	id, refs := start("late.bin")
	c.json("DELETE", fmt.Sprintf("/api/folders/%d", d.ID), nil, 204, nil)
	late := complete(id, refs)
	if late.FolderID != nil {
		t.Errorf("upload completed after its folder's delete landed in %d, want the root", *late.FolderID)
	}
	if got := ids(c.filesIn("root")); !sameIDs(got, []int64{late.ID}) {
		t.Errorf("root files %v", got)
	}
	resp, body := c.do("POST", "/api/files/uploads", strings.NewReader(fmt.Sprintf(`{"filename":"x","size":5,"folder_id":%d}`, d.ID)),
		map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 404, "FOLDER_NOT_FOUND")
}

// The sync job moves a file in a folder like any other; it stays in its
// folder.
func TestSyncKeepsFolders(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("sync-folder@example.com")
	d := c.mkdir("Synced", nil)
	f := c.mustUploadTo(d.ID, "s.txt", []byte("sync me"))
	if _, err := s.app.Sync.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := c.filesIn(fmt.Sprint(d.ID))
	if len(got) != 1 || got[0].ID != f.ID || got[0].StorageLocation != "s3" || *got[0].FolderID != d.ID {
		t.Fatalf("files of the folder after the sync %+v", got)
	}
}

// An upload whose name a live file in the same folder has (case-
// insensitively) gets " (1)", " (2)"… before its extension, on both upload
// paths and under concurrency; other folders and the trash do not count.
func TestUploadNamesAreNumbered(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.MaxStreamedUploadsPerUser = 8 })
	c := s.client(t).signup("numbered@example.com")
	d := c.mkdir("Docs", nil)
	names := func(fs ...fileObj) []string {
		out := []string{}
		for _, f := range fs {
			out = append(out, f.OriginalFilename)
		}
		return out
	}
	a := c.mustUpload("notes.txt", []byte("1"))
	b := c.mustUpload("notes.txt", []byte("2"))
	u := c.mustUpload("NOTES.TXT", []byte("3"))
	other := c.mustUploadTo(d.ID, "notes.txt", []byte("4"))
	readme := c.mustUpload("README", []byte("5"))
	readme2 := c.mustUpload("readme", []byte("6"))
	if got, want := names(a, b, u, other, readme, readme2), []string{"notes.txt", "notes (1).txt", "NOTES (2).TXT", "notes.txt", "README", "readme (1)"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("names %q, want %q", got, want)
	}
	if b.Filename != "notes (1).txt" {
		t.Errorf("stored name %q", b.Filename)
	}
	// Downloads carry the name the file got.
	resp, _ := c.do("GET", fmt.Sprintf("/api/files/%d/download", b.ID), nil, nil)
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "notes (1).txt") {
		t.Errorf("Content-Disposition %q", cd)
	}
	// The trash does not count.
	c.json("DELETE", fmt.Sprintf("/api/files/%d", a.ID), nil, 204, nil)
	if again := c.mustUpload("notes.txt", []byte("7")); again.OriginalFilename != "notes.txt" {
		t.Errorf("upload after the first went to the trash: %q", again.OriginalFilename)
	}
	// The presigned multipart path.
	data := randomBytes(t, 8*mib+1)
	var up uploadObj
	c.json("POST", "/api/files/uploads", map[string]any{"filename": "notes.txt", "size": len(data), "folder_id": d.ID}, 201, &up)
	var refs []partRef
	for i, part := range chunks(data, up.PartSize) {
		refs = append(refs, partRef{i + 1, putPart(t, up.Parts[i].URL, part)})
	}
	var big fileObj
	c.json("POST", "/api/files/uploads/"+up.UploadID+"/complete", map[string]any{"parts": refs}, 201, &big)
	if big.OriginalFilename != "notes (1).txt" {
		t.Errorf("multipart upload named %q, want notes (1).txt", big.OriginalFilename)
	}
	// Past the first block of 21 names.
	var last fileObj
	for range 23 {
		last = c.mustUpload("many.txt", []byte("m"))
	}
	if last.OriginalFilename != "many (22).txt" {
		t.Errorf("the 23rd many.txt is named %q", last.OriginalFilename)
	}
	// Eight at once into one folder: eight names.
	race := c.mkdir("Race", nil)
	got := make(chan string, 8)
	for range 8 {
		go func() {
			resp, body := c.uploadTo(fmt.Sprint(race.ID), "same.txt", []byte("x"))
			var f fileObj
			json.Unmarshal(body, &f)
			if resp.StatusCode != 201 {
				got <- fmt.Sprintf("status %d", resp.StatusCode)
				return
			}
			got <- f.OriginalFilename
		}()
	}
	seen := map[string]bool{}
	for range 8 {
		seen[<-got] = true
	}
	if len(seen) != 8 || !seen["same.txt"] || !seen["same (7).txt"] {
		t.Errorf("eight concurrent uploads got %v", seen)
	}
}
