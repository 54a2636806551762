package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// A token stays valid after its user is deleted; every route refuses it
// with 401 instead of a foreign-key violation (500) on the writing ones or
// an empty list on the reading ones.
func TestDeletedUserTokenIsUnauthorized(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("gone@example.com")
	f := c.mustUpload("a.txt", []byte("hello"))
	if _, err := s.app.DB.Pool.Exec(t.Context(), `DELETE FROM users WHERE email = 'gone@example.com'`); err != nil {
		t.Fatal(err)
	}
	body, ct := multipartBody(t, "file", "b.txt", "", []byte("again"))
	tests := []struct{ name, method, path string }{
		{"me", "GET", "/api/auth/me"},
		{"list", "GET", "/api/files"},
		{"get", "GET", fmt.Sprintf("/api/files/%d", f.ID)},
		{"download", "GET", fmt.Sprintf("/api/files/%d/download", f.ID)},
		{"delete", "DELETE", fmt.Sprintf("/api/files/%d", f.ID)},
		{"sync status", "GET", "/api/sync/status"},
		{"get upload", "GET", "/api/files/uploads/00000000-0000-0000-0000-000000000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := c.do(tc.method, tc.path, nil, nil)
			wantError(t, resp, b, 401, "UNAUTHORIZED")
		})
	}
	t.Run("upload", func(t *testing.T) {
		resp, b := c.do("POST", "/api/files/upload", body, map[string]string{"Content-Type": ct})
		wantError(t, resp, b, 401, "UNAUTHORIZED")
	})
	t.Run("create upload", func(t *testing.T) {
		resp, b := c.do("POST", "/api/files/uploads", strings.NewReader(`{"filename":"big.bin","size":10485760}`), jsonHeader)
		wantError(t, resp, b, 401, "UNAUTHORIZED")
	})
}
