package main

import (
	"errors"
	"testing"

	"github.com/hybrid-storage/hybrid-storage/shared/postgres"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

func TestParseQuotaArgs(t *testing.T) {
	q, err := parseQuotaArgs([]string{" Ada@Example.com", "512"})
	if err != nil || q.email != "ada@example.com" || q.bytes == nil || *q.bytes != 512<<20 {
		t.Fatalf("EMAIL 512: %+v, %v", q, err)
	}
	q, err = parseQuotaArgs([]string{"ada@example.com", "default"})
	if err != nil || q.bytes != nil {
		t.Fatalf("EMAIL default: %+v, %v", q, err)
	}
	for _, bad := range [][]string{{}, {"ada@example.com"}, {"not-an-email", "5"}, {"ada@example.com", "-1"}, {"ada@example.com", "lots"}, {"ada@example.com", "1073741825"}, {"a@example.com", "1", "2"}} {
		if _, err := parseQuotaArgs(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// -set-quota writes users.quota_bytes, and "default" clears it.
func TestRunSetQuota(t *testing.T) {
	url := testenv.DatabaseURL(t)
	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateUser(t.Context(), "ada@example.com", "x"); err != nil {
		t.Fatal(err)
	}
	quota := func() *int64 {
		var q *int64
		if err := db.Pool.QueryRow(t.Context(), `SELECT quota_bytes FROM users WHERE email = 'ada@example.com'`).Scan(&q); err != nil {
			t.Fatal(err)
		}
		return q
	}
	q, _ := parseQuotaArgs([]string{"ada@example.com", "5"})
	if err := runSetQuota(t.Context(), url, q); err != nil {
		t.Fatal(err)
	}
	if got := quota(); got == nil || *got != 5<<20 {
		t.Fatalf("quota_bytes %v, want 5 MiB", got)
	}
	q, _ = parseQuotaArgs([]string{"ada@example.com", "default"})
	if err := runSetQuota(t.Context(), url, q); err != nil || quota() != nil {
		t.Fatalf("after default: %v, quota_bytes %v", err, quota())
	}
	q, _ = parseQuotaArgs([]string{"nobody@example.com", "5"})
	if err := runSetQuota(t.Context(), url, q); !errors.Is(err, postgres.ErrUserNotFound) {
		t.Fatalf("unknown email: %v, want user not found", err)
	}
}
