package secrets

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type fakeFetcher map[string]string

var _ Fetcher = fakeFetcher(nil)

func (f fakeFetcher) Fetch(_ context.Context, arn string) (string, error) {
	v, ok := f[arn]
	if !ok {
		return "", errors.New("ResourceNotFoundException")
	}
	return v, nil
}

func TestOverlay(t *testing.T) {
	env := map[string]string{
		"SECRET_KEY_SECRET_ARN":        "arn:key",
		"DATABASE_URL_SECRET_ARN":      "arn:db",
		"MINIO_CREDENTIALS_SECRET_ARN": "arn:minio",
		"MINIO_BUCKET":                 "hot",
		"SECRET_KEY":                   "ignored-plain-value",
	}
	f := fakeFetcher{
		"arn:key":   "k-from-secrets-manager",
		"arn:db":    `{"host":"db.example","port":5433,"username":"app","password":"p@ss/word","dbname":"files"}`,
		"arn:minio": `{"accessKey":"AK","secretKey":"SK"}`,
	}
	get, err := Overlay(context.Background(), func(k string) string { return env[k] }, f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"SECRET_KEY":       "k-from-secrets-manager",
		"DATABASE_URL":     "postgres://app:p%40ss%2Fword@db.example:5433/files?sslmode=require",
		"MINIO_ACCESS_KEY": "AK",
		"MINIO_SECRET_KEY": "SK",
		"MINIO_BUCKET":     "hot",
	}
	for k, v := range want {
		if got := get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestOverlayWithoutARNsMakesNoCall(t *testing.T) {
	get, err := Overlay(context.Background(), func(k string) string {
		if strings.HasSuffix(k, "_SECRET_ARN") {
			return ""
		}
		return "x" + k
	}, nil)
	if err != nil || get("A") != "xA" {
		t.Fatalf("Overlay = %v, get(A) = %q", err, get("A"))
	}
}

func TestOverlayErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env    map[string]string
		secret string
		want   string
	}{
		{map[string]string{"DATABASE_URL_SECRET_ARN": "arn:db"}, "not a url", "DATABASE_URL_SECRET_ARN"},
		{map[string]string{"MINIO_CREDENTIALS_SECRET_ARN": "arn:db"}, `{"accessKey":""}`, "MINIO_CREDENTIALS_SECRET_ARN"},
		{map[string]string{"SECRET_KEY_SECRET_ARN": "arn:missing"}, "", "SECRET_KEY_SECRET_ARN"},
	}
	for _, tc := range tests {
		_, err := Overlay(context.Background(), func(k string) string { return tc.env[k] }, fakeFetcher{"arn:db": tc.secret})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("env %v: err %v, want one naming %s", tc.env, err, tc.want)
		}
	}
}

func TestSMTPURLSecret(t *testing.T) {
	for raw, want := range map[string]string{
		"smtp://u:p@email-smtp.eu-west-1.amazonaws.com:587": "smtp://u:p@email-smtp.eu-west-1.amazonaws.com:587",
		`{"url":"none","unused":"x"}`:                       "none",
		`{"url":"smtps://u:p@h:465"}`:                       "smtps://u:p@h:465",
	} {
		got, err := smtpURL(raw)
		if err != nil || got["SMTP_URL"] != want {
			t.Errorf("smtpURL(%q) = %v, %v; want %q", raw, got, err, want)
		}
	}
	for _, bad := range []string{"", `{"nope":1}`, `{`} {
		if _, err := smtpURL(bad); err == nil {
			t.Errorf("smtpURL(%q) accepted", bad)
		}
	}
}
