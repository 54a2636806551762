package lambdafn_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv/lambdagw"
)

// TestMigrateUnderRuntimeInterfaceEmulator runs functions/migrate's real
// bootstrap under the emulator against a database without tables: the
// first invocation applies every migration, the second none.
func TestMigrateUnderRuntimeInterfaceEmulator(t *testing.T) {
	t.Parallel()
	cfg := testenv.Config(t)
	cfg.DatabaseURL = testenv.EmptyDatabaseURL(t)

	url := lambdagw.StartRIE(t, "migrate", cfg)
	invoke := func(ev string) int {
		t.Helper()
		resp, err := http.Post(url, "application/json", bytes.NewReader([]byte(ev)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out struct {
			Applied *int `json:"applied"`
		}
		if err := json.Unmarshal(b, &out); err != nil || out.Applied == nil {
			t.Fatalf("migrate answered %d %s", resp.StatusCode, b)
		}
		return *out.Applied
	}

	if n := invoke(`{}`); n < 1 {
		t.Fatalf("first invocation applied %d migrations, want at least 1", n)
	}
	conn, err := pgx.Connect(t.Context(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for _, table := range []string{"users", "files"} {
		var exists bool
		if err := conn.QueryRow(t.Context(), `SELECT to_regclass($1) IS NOT NULL`, "public."+table).Scan(&exists); err != nil || !exists {
			t.Errorf("table %s after migrate: exists=%v (%v)", table, exists, err)
		}
	}
	// A CDK Trigger's custom-resource event: nothing left to apply.
	if n := invoke(`{"RequestType":"Create","ResourceProperties":{"HandlerArn":"arn:aws:lambda:us-east-1:123456789012:function:x"}}`); n != 0 {
		t.Errorf("second invocation applied %d migrations, want 0", n)
	}
}

// TestMigrateFailsTheInvocation: a database that cannot be reached is an
// error of the invocation, not an answer (a deploy must fail on it).
func TestMigrateFailsTheInvocation(t *testing.T) {
	t.Parallel()
	if _, err := lambdafnMigrate(t, "postgres://postgres@127.0.0.1:1/nope?sslmode=disable&connect_timeout=2"); err == nil {
		t.Fatal("migrate against an unreachable database did not fail")
	}
}
