package httpapi_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

func TestSignupLoginMe(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t)

	var created struct {
		Message string `json:"message"`
		UserID  int64  `json:"user_id"`
	}
	c.json("POST", "/api/auth/signup", map[string]string{"email": "  Ada@Example.COM ", "password": "correct horse battery"}, 201, &created)
	if created.UserID <= 0 || created.Message == "" {
		t.Fatalf("signup answer %+v", created)
	}

	resp, b := c.do("POST", "/api/auth/signup", strings.NewReader(`{"email":"ada@example.com","password":"other-password"}`), nil)
	wantError(t, resp, b, 409, "EMAIL_TAKEN")

	var login struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		User        struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"user"`
	}
	c.json("POST", "/api/auth/login", map[string]string{"email": "ADA@example.com", "password": "correct horse battery"}, 200, &login)
	if login.TokenType != "bearer" || login.ExpiresIn != 900 || login.User.ID != created.UserID || login.User.Email != "ada@example.com" || login.AccessToken == "" {
		t.Fatalf("login answer %+v", login)
	}

	c.token = login.AccessToken
	var me struct {
		ID        int64  `json:"id"`
		Email     string `json:"email"`
		CreatedAt string `json:"created_at"`
	}
	c.json("GET", "/api/auth/me", nil, 200, &me)
	if me.ID != created.UserID || me.Email != "ada@example.com" {
		t.Fatalf("me = %+v", me)
	}
	if _, err := time.Parse(time.RFC3339, me.CreatedAt); err != nil || !strings.HasSuffix(me.CreatedAt, "Z") {
		t.Errorf("created_at %q is not RFC 3339 UTC", me.CreatedAt)
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t)
	c.json("POST", "/api/auth/signup", map[string]string{"email": "bob@example.com", "password": "correct horse battery"}, 201, nil)

	var bodies []string
	for _, creds := range []string{
		`{"email":"bob@example.com","password":"wrong-password"}`,
		`{"email":"nobody@example.com","password":"correct horse battery"}`,
		`{"email":"not-an-email","password":"correct horse battery"}`,
	} {
		resp, b := c.do("POST", "/api/auth/login", strings.NewReader(creds), nil)
		wantError(t, resp, b, 401, "INVALID_CREDENTIALS")
		bodies = append(bodies, string(b))
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Errorf("login failure bodies differ:\n%s", strings.Join(bodies, ""))
	}
}

func TestAuthBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t)
	long := strings.Repeat("é", 37) // 74 bytes
	tests := []struct {
		name, path, ctype, body string
		status                  int
		code                    string
	}{
		{"bad json", "/api/auth/signup", "application/json", `{"email":`, 400, "VALIDATION_ERROR"},
		{"empty body", "/api/auth/signup", "application/json", ``, 400, "VALIDATION_ERROR"},
		{"array", "/api/auth/signup", "application/json", `[1,2]`, 400, "VALIDATION_ERROR"},
		{"wrong type", "/api/auth/signup", "application/json", `{"email":5,"password":"correct horse battery"}`, 400, "VALIDATION_ERROR"},
		{"missing password", "/api/auth/signup", "application/json", `{"email":"a@example.com"}`, 400, "VALIDATION_ERROR"},
		{"bad email", "/api/auth/signup", "application/json", `{"email":"nope","password":"correct horse battery"}`, 400, "VALIDATION_ERROR"},
		{"short password", "/api/auth/signup", "application/json", `{"email":"a@example.com","password":"short"}`, 400, "VALIDATION_ERROR"},
		{"73+ byte password", "/api/auth/signup", "application/json", `{"email":"a@example.com","password":"` + long + `"}`, 400, "VALIDATION_ERROR"},
		{"NUL byte", "/api/auth/signup", "application/json", `{"email":"a\u0000@example.com","password":"correct horse battery"}`, 400, "VALIDATION_ERROR"},
		{"trailing data", "/api/auth/signup", "application/json", `{"email":"a@example.com","password":"correct horse battery"} {}`, 400, "VALIDATION_ERROR"},
		{"wrong content type", "/api/auth/signup", "text/plain", `{"email":"a@example.com","password":"correct horse battery"}`, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"huge body", "/api/auth/login", "application/json", `{"email":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "BODY_TOO_LARGE"},
		{"login missing email", "/api/auth/login", "application/json", `{"password":"x"}`, 400, "VALIDATION_ERROR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := c.do("POST", tc.path, strings.NewReader(tc.body), map[string]string{"Content-Type": tc.ctype})
			wantError(t, resp, b, tc.status, tc.code)
		})
	}
	// None of the bad signups created an account.
	var n int
	if err := s.app.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 0 {
		t.Errorf("users after bad input: %d (%v), want 0", n, err)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t).signup("tok@example.com")
	good := c.token
	sign := func(m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(m, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	key := s.app.Config.SecretKey
	tests := []struct {
		name, token, code string
	}{
		{"none", "", "UNAUTHORIZED"},
		{"garbage", "abc.def.ghi", "UNAUTHORIZED"},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "1", "exp": time.Now().Add(time.Hour).Unix()}), "UNAUTHORIZED"},
		{"other key", sign(jwt.SigningMethodHS256, []byte(strings.Repeat("z", 32)), jwt.MapClaims{"sub": "1", "exp": time.Now().Add(time.Hour).Unix()}), "UNAUTHORIZED"},
		{"expired", sign(jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "1", "exp": time.Now().Add(-time.Hour).Unix()}), "TOKEN_EXPIRED"},
		{"unknown user", sign(jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": "99999", "exp": time.Now().Add(time.Hour).Unix()}), "UNAUTHORIZED"},
		{"tampered", good[:len(good)-2] + "xx", "UNAUTHORIZED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.token = tc.token
			resp, b := c.do("GET", "/api/auth/me", nil, nil)
			wantError(t, resp, b, 401, tc.code)
		})
	}
	for _, path := range []string{"/api/files", "/api/files/1", "/api/files/1/download"} {
		c.token = ""
		resp, b := c.do("GET", path, nil, nil)
		wantError(t, resp, b, 401, "UNAUTHORIZED")
	}
}

func TestAuthRateLimit(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.AuthRateMin = 3 })
	c := s.client(t)
	for i := range 3 {
		resp, b := c.do("POST", "/api/auth/login", strings.NewReader(`{"email":"x@example.com","password":"correct horse battery"}`), nil)
		if resp.StatusCode != 401 {
			t.Fatalf("attempt %d: status %d (%s), want 401", i+1, resp.StatusCode, b)
		}
	}
	// Signup and login share one budget per client, counted in the
	// database: on Lambda too, where each is its own function.
	resp, b := c.do("POST", "/api/auth/signup", strings.NewReader(`{"email":"x@example.com","password":"correct horse battery"}`), nil)
	wantError(t, resp, b, 429, "RATE_LIMITED")
	if ra := resp.Header.Get("Retry-After"); ra == "" {
		t.Error("429 without Retry-After")
	}
	// Other endpoints are not limited.
	resp, _ = c.do("GET", "/healthz", nil, nil)
	if resp.StatusCode != 200 {
		t.Errorf("healthz after auth limit: %d", resp.StatusCode)
	}
}

func TestRoutingErrorsAreJSON(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t)
	resp, b := c.do("GET", "/api/nothing-here", nil, nil)
	wantError(t, resp, b, 404, "NOT_FOUND")
	resp, b = c.do("PUT", "/api/files", nil, nil)
	wantError(t, resp, b, 405, "METHOD_NOT_ALLOWED")
	if allow := resp.Header.Get("Allow"); allow != "GET" {
		t.Errorf("Allow = %q, want GET", allow)
	}
	resp, b = c.do("PATCH", "/api/auth/login", bytes.NewReader(nil), nil)
	wantError(t, resp, b, 405, "METHOD_NOT_ALLOWED")
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t)
	c.json("GET", "/healthz", nil, 200, nil)
	c.json("GET", "/readyz", nil, 200, nil)

	// A cold tier that does not answer makes the service not ready.
	broken := newStack(t, func(c *config.Config) { c.Cold.Bucket = "missing-bucket-" + strings.ToLower(t.Name()[:4]) })
	// Prepare created it; remove it again to break readiness.
	if _, err := broken.app.Cold.Client.DeleteBucket(t.Context(), &s3.DeleteBucketInput{Bucket: &broken.app.Config.Cold.Bucket}); err != nil {
		t.Fatal(err)
	}
	resp, b := broken.client(t).do("GET", "/readyz", nil, nil)
	wantError(t, resp, b, 503, "SERVICE_UNAVAILABLE")
	if !strings.Contains(string(b), "cold tier") {
		t.Errorf("readyz body %s does not name the cold tier", b)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	c := s.client(t)
	resp, _ := c.do("OPTIONS", "/api/files", nil, map[string]string{
		"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization",
	})
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:5173" {
		t.Errorf("allowed origin preflight: ACAO = %q", got)
	}
	resp, _ = c.do("GET", "/healthz", nil, map[string]string{"Origin": "http://evil.example"})
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("foreign origin got ACAO %q", got)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("missing security or request id headers: %v", resp.Header)
	}
}
