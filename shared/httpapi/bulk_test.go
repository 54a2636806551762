package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

type bulkResultObj struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	ErrorCode string `json:"error_code"`
	Detail    string `json:"detail"`
}

func (c *client) bulk(action string, ids ...int64) []bulkResultObj {
	c.tb.Helper()
	var out struct {
		Results []bulkResultObj `json:"results"`
	}
	c.json("POST", "/api/files/bulk", map[string]any{"action": action, "file_ids": ids}, 200, &out)
	return out.Results
}

// wantResults checks each result's id and status (and error code when
// the status is failed: "failed/CODE").
func wantResults(tb testing.TB, got []bulkResultObj, want ...string) {
	tb.Helper()
	var have []string
	for _, r := range got {
		s := fmt.Sprintf("%d:%s", r.ID, r.Status)
		if r.Status == "failed" {
			s += "/" + r.ErrorCode
			if r.Detail == "" {
				tb.Errorf("result %+v has no detail", r)
			}
		}
		have = append(have, s)
	}
	if !slices.Equal(have, want) {
		tb.Fatalf("results\n %v\nwant\n %v", have, want)
	}
}

func ids(files []fileObj) []int64 {
	out := make([]int64, len(files))
	for i, f := range files {
		out[i] = f.ID
	}
	return out
}

// With a trash, a bulk delete trashes the caller's live files and answers
// the rest (another user's, missing, already trashed) failed
// FILE_NOT_FOUND, one result per distinct id in the request's order; a
// bulk restore brings back what is in the trash; the usage follows.
func TestBulkDeleteAndRestoreWithTrash(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("bulk@example.com")
	other := s.client(t).signup("bulk-other@example.com")
	a := c.mustUpload("a.txt", []byte("aaaa"))
	b := c.mustUpload("b.txt", []byte("bbbbbb"))
	keep := c.mustUpload("keep.txt", []byte("k"))
	theirs := other.mustUpload("theirs.txt", []byte("t"))
	coldKey := moveToCold(t, s, b.ID)
	before := c.usage()

	res := c.bulk("delete", b.ID, theirs.ID, a.ID, 987654321, b.ID, a.ID)
	wantResults(t, res, fmt.Sprintf("%d:trashed", b.ID), fmt.Sprintf("%d:failed/FILE_NOT_FOUND", theirs.ID),
		fmt.Sprintf("%d:trashed", a.ID), "987654321:failed/FILE_NOT_FOUND")
	if got := ids(c.files()); !slices.Equal(got, []int64{keep.ID}) {
		t.Fatalf("list after bulk delete %v, want only %d", got, keep.ID)
	}
	if got := other.files(); len(got) != 1 {
		t.Fatalf("the other user's list %+v: their file must stay", got)
	}
	if !inTier(t, s.app.Cold, coldKey) {
		t.Fatal("trashing removed an object")
	}
	u := c.usage()
	if u.Files != 1 || u.TrashBytes != 10 || u.UsedBytes != before.UsedBytes {
		t.Errorf("usage after bulk delete %+v, want 1 file, 10 bytes in the trash, %d used as before", u, before.UsedBytes)
	}
	// Again: already in the trash.
	wantResults(t, c.bulk("delete", a.ID), fmt.Sprintf("%d:failed/FILE_NOT_FOUND", a.ID))

	// Restore: the trashed ones come back; a live one, another user's
	// (even trashed) and a missing one fail.
	other.json("DELETE", fmt.Sprintf("/api/files/%d", theirs.ID), nil, 204, nil)
	res = c.bulk("restore", keep.ID, a.ID, theirs.ID, b.ID, 5)
	wantResults(t, res, fmt.Sprintf("%d:failed/FILE_NOT_FOUND", keep.ID), fmt.Sprintf("%d:restored", a.ID),
		fmt.Sprintf("%d:failed/FILE_NOT_FOUND", theirs.ID), fmt.Sprintf("%d:restored", b.ID), "5:failed/FILE_NOT_FOUND")
	got := ids(c.files())
	slices.Sort(got)
	if want := []int64{a.ID, b.ID, keep.ID}; !slices.Equal(got, want) {
		t.Fatalf("list after bulk restore %v, want %v", got, want)
	}
	if tr := other.trash(); len(tr) != 1 {
		t.Fatalf("the other user's trash %+v: their file must stay there", tr)
	}
	if u := c.usage(); u != before {
		t.Errorf("usage after restore %+v, want %+v", u, before)
	}
	var f fileObj
	c.json("GET", fmt.Sprintf("/api/files/%d", b.ID), nil, 200, &f)
	if f.StorageLocation != "s3" {
		t.Errorf("restored file in %q, want the cold tier it was in", f.StorageLocation)
	}
}

// Without a trash, a bulk delete purges each of the caller's files from
// every tier, then its row; the others fail and stay.
func TestBulkDeleteWithoutTrash(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.TrashRetentionDays = 0 })
	c := s.client(t).signup("bulk-now@example.com")
	other := s.client(t).signup("bulk-now-other@example.com")
	var mine []fileObj
	for i := range 12 {
		mine = append(mine, c.mustUpload(fmt.Sprintf("f%d.txt", i), []byte(strings.Repeat("x", i+1))))
	}
	keep := c.mustUpload("keep.txt", []byte("k"))
	theirs := other.mustUpload("theirs.txt", []byte("t"))
	coldKey := moveToCold(t, s, mine[0].ID)
	hotKey := objectKey(t, s, mine[1].ID)
	theirKey := objectKey(t, s, theirs.ID)

	ask := append(ids(mine), theirs.ID, 424242, mine[3].ID)
	res := c.bulk("delete", ask...)
	var want []string
	for _, f := range mine {
		want = append(want, fmt.Sprintf("%d:deleted", f.ID))
	}
	want = append(want, fmt.Sprintf("%d:failed/FILE_NOT_FOUND", theirs.ID), "424242:failed/FILE_NOT_FOUND")
	wantResults(t, res, want...)
	for _, f := range mine {
		if rowExists(t, s, f.ID) {
			t.Errorf("file %d still has its row", f.ID)
		}
	}
	if inTier(t, s.app.Cold, coldKey) || inTier(t, s.app.Hot, hotKey) {
		t.Error("an object of a deleted file is left")
	}
	if !inTier(t, s.app.Hot, theirKey) || !rowExists(t, s, theirs.ID) {
		t.Error("another user's file was touched")
	}
	if got := ids(c.files()); !slices.Equal(got, []int64{keep.ID}) {
		t.Fatalf("list %v, want only %d", got, keep.ID)
	}
	if u := c.usage(); u.Files != 1 || u.UsedBytes != 1 || u.TrashBytes != 0 {
		t.Errorf("usage %+v, want 1 file of 1 byte", u)
	}
	// Restore finds nothing in a trash that does not exist.
	wantResults(t, c.bulk("restore", mine[2].ID), fmt.Sprintf("%d:failed/FILE_NOT_FOUND", mine[2].ID))
}

// A bulk delete without a trash starts purges within a budget: what is not
// reached by then answers failed SERVICE_UNAVAILABLE and is left whole.
func TestBulkDeleteBudget(t *testing.T) {
	if onLambda() {
		t.Skip("sets the budget of the in-process handler")
	}
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.TrashRetentionDays = 0 })
	s.app.API.SetBulkBudget(0)
	c := s.client(t).signup("bulk-budget@example.com")
	f := c.mustUpload("f.txt", []byte("f"))
	wantResults(t, c.bulk("delete", f.ID), fmt.Sprintf("%d:failed/SERVICE_UNAVAILABLE", f.ID))
	if !rowExists(t, s, f.ID) || !inTier(t, s.app.Hot, objectKey(t, s, f.ID)) {
		t.Fatal("a file not reached was touched")
	}
	s.app.API.SetBulkBudget(time.Minute)
	wantResults(t, c.bulk("delete", f.ID), fmt.Sprintf("%d:deleted", f.ID))
}

// 1000 distinct ids are the most: 1001 are refused, repeats count once;
// bad bodies answer 4xx in the JSON error format naming the field.
func TestBulkLimitsAndValidation(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("bulk-limits@example.com")
	f := c.mustUpload("f.txt", []byte("f"))
	thousand := make([]int64, 1000)
	for i := range thousand {
		thousand[i] = int64(i + 1_000_000)
	}
	thousand[500] = f.ID
	res := c.bulk("delete", thousand...)
	if len(res) != 1000 {
		t.Fatalf("%d results, want 1000", len(res))
	}
	for i, r := range res {
		want := "failed"
		if i == 500 {
			want = "trashed"
		}
		if r.ID != thousand[i] || r.Status != want {
			t.Fatalf("result %d: %+v, want id %d %s", i, r, thousand[i], want)
		}
	}
	// 1000 distinct and a repeat: fine.
	res = c.bulk("restore", append(thousand, f.ID)...)
	if len(res) != 1000 || res[500].Status != "restored" {
		t.Fatalf("%d results, [500] %+v: want 1000 with %d restored", len(res), res[500], f.ID)
	}

	type tc struct {
		name, body, ctype string
		status            int
		code, field       string
	}
	tooMany := `{"action":"delete","file_ids":[`
	for i := range 1001 {
		if i > 0 {
			tooMany += ","
		}
		tooMany += fmt.Sprint(2_000_000 + i)
	}
	tooMany += `]}`
	for _, tc := range []tc{
		{"1001 ids", tooMany, "application/json", 400, "VALIDATION_ERROR", "file_ids"},
		{"empty list", `{"action":"delete","file_ids":[]}`, "application/json", 400, "VALIDATION_ERROR", "file_ids"},
		{"no list", `{"action":"delete"}`, "application/json", 400, "VALIDATION_ERROR", "file_ids"},
		{"zero id", `{"action":"delete","file_ids":[1,0]}`, "application/json", 400, "VALIDATION_ERROR", "file_ids"},
		{"negative id", `{"action":"restore","file_ids":[-3]}`, "application/json", 400, "VALIDATION_ERROR", "file_ids"},
		{"string id", `{"action":"delete","file_ids":["1"]}`, "application/json", 400, "VALIDATION_ERROR", "file_ids"},
		{"fraction", `{"action":"delete","file_ids":[1.5]}`, "application/json", 400, "VALIDATION_ERROR", "file_ids"},
		{"ids not a list", `{"action":"delete","file_ids":1}`, "application/json", 400, "VALIDATION_ERROR", "file_ids"},
		{"unknown action", `{"action":"shred","file_ids":[1]}`, "application/json", 400, "VALIDATION_ERROR", "action"},
		{"no action", `{"file_ids":[1]}`, "application/json", 400, "VALIDATION_ERROR", "action"},
		{"action not a string", `{"action":1,"file_ids":[1]}`, "application/json", 400, "VALIDATION_ERROR", "action"},
		{"move without a target", `{"action":"move","file_ids":[1]}`, "application/json", 400, "VALIDATION_ERROR", "target_folder_id"},
		{"move to a missing folder", `{"action":"move","file_ids":[1],"target_folder_id":2}`, "application/json", 404, "FOLDER_NOT_FOUND", ""},
		{"bad target", `{"action":"move","file_ids":[1],"target_folder_id":"2"}`, "application/json", 400, "VALIDATION_ERROR", "target_folder_id"},
		{"zero folder id", `{"action":"delete","folder_ids":[0]}`, "application/json", 400, "VALIDATION_ERROR", "folder_ids"},
		{"target folder on delete", `{"action":"delete","file_ids":[1],"target_folder_id":2}`, "application/json", 400, "VALIDATION_ERROR", "target_folder_id"},
		{"not JSON", `{"action":`, "application/json", 400, "VALIDATION_ERROR", ""},
		{"an array", `[1,2]`, "application/json", 400, "VALIDATION_ERROR", ""},
		{"empty body", ``, "application/json", 400, "VALIDATION_ERROR", ""},
		{"form", `action=delete&file_ids=1`, "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"no content type", `{"action":"delete","file_ids":[1]}`, "", 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"too large", `{"action":"delete","file_ids":[1],"pad":"` + strings.Repeat("x", 70<<10) + `"}`, "application/json", 413, "BODY_TOO_LARGE", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.ctype != "" {
				h["Content-Type"] = tc.ctype
			}
			resp, body := c.do("POST", "/api/files/bulk", strings.NewReader(tc.body), h)
			wantError(t, resp, body, tc.status, tc.code)
			if tc.field != "" && !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
				t.Errorf("body %s, want field %s", body, tc.field)
			}
		})
	}
	// Nothing was done by a refused call.
	if got := c.files(); len(got) != 1 {
		t.Fatalf("list %+v after refused calls", got)
	}
	// Without a token.
	resp, body := s.client(t).do("POST", "/api/files/bulk", strings.NewReader(`{"action":"delete","file_ids":[1]}`), map[string]string{"Content-Type": "application/json"})
	wantError(t, resp, body, 401, "UNAUTHORIZED")
}
