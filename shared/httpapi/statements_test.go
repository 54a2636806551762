package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
)

// TestSmallUploadStatements holds a small streamed upload to its round
// trips to PostgreSQL: the session check of the auth middleware, the
// quota's reservation (one statement, with or without a quota) and the
// file's row (one statement that also drops the reservation). Before the
// usage counters it cost 11 with a quota and 9 without (bench/README.md).
func TestSmallUploadStatements(t *testing.T) {
	if onLambda() {
		t.Skip("counts the statements of the in-process handler")
	}
	for _, quota := range []int64{0, 1 << 30} {
		t.Run(fmt.Sprintf("quota=%d", quota), func(t *testing.T) {
			s := newStack(t, func(c *config.Config) { c.UserQuota = quota })
			c := s.client(t).signup("statements@example.com")
			c.mustUpload("warm.bin", make([]byte, 16<<10)) // pools and prepared statements warm
			for i := range 3 {
				body, ct := multipartBody(t, "file", fmt.Sprintf("small-%d.bin", i), "", make([]byte, 16<<10))
				ctx, n := postgres.CountStatements(t.Context())
				req := httptest.NewRequestWithContext(ctx, "POST", "/api/files/upload", body)
				req.Header.Set("Content-Type", ct)
				req.Header.Set("Authorization", "Bearer "+c.token)
				rec := httptest.NewRecorder()
				s.app.API.Handler().ServeHTTP(rec, req)
				if rec.Code != http.StatusCreated {
					t.Fatalf("upload: status %d, body %s", rec.Code, rec.Body)
				}
				if got := n.N(); got != 3 {
					t.Errorf("upload %d sent %d statements, want 3", i, got)
				}
			}
			var reservations int
			if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM quota_reservations`).Scan(&reservations); err != nil {
				t.Fatal(err)
			}
			if reservations != 0 {
				t.Errorf("%d quota reservations left after the uploads", reservations)
			}
		})
	}
}
