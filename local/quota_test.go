package main

import "testing"

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
