package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
)

func newAuth(tb testing.TB) *Auth {
	tb.Helper()
	a, err := New([]byte(strings.Repeat("s", 32)), time.Hour, bcrypt.MinCost, 16)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func TestPasswordRoundTrip(t *testing.T) {
	a := newAuth(t)
	h, err := a.HashPassword(t.Context(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a.CheckPassword(t.Context(), h, "correct horse"); !ok || err != nil {
		t.Error("CheckPassword(right) = false, want true")
	}
	if ok, _ := a.CheckPassword(t.Context(), h, "wrong horse"); ok {
		t.Error("CheckPassword(wrong) = true, want false")
	}
	if ok, _ := a.CheckPassword(t.Context(), "", "correct horse"); ok {
		t.Error("CheckPassword with no hash = true, want false")
	}
}

func TestTokenRoundTrip(t *testing.T) {
	a := newAuth(t)
	tok, exp, err := a.IssueToken(42, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expiry in %v, want about 1h", d)
	}
	id, err := a.ParseToken(tok)
	if err != nil || id != 42 {
		t.Fatalf("ParseToken = %d, %v; want 42, nil", id, err)
	}
}

func TestParseTokenRejects(t *testing.T) {
	a := newAuth(t)
	key := []byte(strings.Repeat("s", 32))
	sign := func(m jwt.SigningMethod, k any, c jwt.Claims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	future := jwt.NewNumericDate(time.Now().Add(time.Hour))
	expired, _, _ := a.IssueToken(1, time.Now().Add(-2*time.Hour))
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"garbage", "not.a.token", ErrUnauthorized},
		{"empty", "", ErrUnauthorized},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.RegisteredClaims{Subject: "1", ExpiresAt: future}), ErrUnauthorized},
		{"HS512", sign(jwt.SigningMethodHS512, key, jwt.RegisteredClaims{Subject: "1", ExpiresAt: future}), ErrUnauthorized},
		{"wrong key", sign(jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), jwt.RegisteredClaims{Subject: "1", ExpiresAt: future}), ErrUnauthorized},
		{"no expiry", sign(jwt.SigningMethodHS256, key, jwt.RegisteredClaims{Subject: "1"}), ErrUnauthorized},
		{"bad subject", sign(jwt.SigningMethodHS256, key, jwt.RegisteredClaims{Subject: "abc", ExpiresAt: future}), ErrUnauthorized},
		{"negative subject", sign(jwt.SigningMethodHS256, key, jwt.RegisteredClaims{Subject: "-3", ExpiresAt: future}), ErrUnauthorized},
		{"expired", expired, ErrTokenExpired},
		{"huge", strings.Repeat("a", 5000), ErrUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := a.ParseToken(tc.token)
			if !errors.Is(err, tc.want) {
				t.Errorf("ParseToken = %d, %v; want error %v", id, err, tc.want)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	a := newAuth(t)
	tok, _, _ := a.IssueToken(7, time.Now())
	gone, _, _ := a.IssueToken(8, time.Now())
	live := func(_ context.Context, id int64) error {
		if id == 8 {
			return ErrUnauthorized // a deleted user
		}
		return nil
	}
	var gotID int64
	h := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotID, _ = UserID(r.Context())
	}), live, func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(http.StatusUnauthorized) })
	for _, tc := range []struct {
		header string
		status int
		id     int64
	}{
		{"Bearer " + tok, 200, 7},
		{"bearer " + tok, 200, 7},
		{"Basic abc", 401, 0},
		{"", 401, 0},
		{"Bearer x" + tok, 401, 0},
		{"Bearer " + gone, 401, 0},
	} {
		gotID = 0
		r := httptest.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status || gotID != tc.id {
			t.Errorf("header %.20q: status %d id %d, want %d %d", tc.header, w.Code, gotID, tc.status, tc.id)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	a := newAuth(f)
	tok, _, _ := a.IssueToken(1, time.Now())
	f.Add(tok)
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		// Only the one token we signed (for user 1) may verify: any other
		// input must be refused, never give another user.
		id, err := a.ParseToken(s)
		if err == nil && id != 1 {
			t.Fatalf("accepted token for user %d", id)
		}
	})
}

// TestDummyHashes keeps the precomputed dummy hashes honest: each is a
// bcrypt hash of its cost.
func TestDummyHashes(t *testing.T) {
	for cost, h := range dummyHashes {
		if got, err := bcrypt.Cost([]byte(h)); err != nil || got != cost {
			t.Errorf("dummy hash for cost %d has cost %d (%v)", cost, got, err)
		}
		if cost < 12 && bcrypt.CompareHashAndPassword([]byte(h), []byte("dummy password for timing")) != nil {
			t.Errorf("dummy hash for cost %d does not match its password", cost)
		}
	}
}

// Password checks wait for a bcrypt slot with their request's context, in a
// queue of bounded length; past it they get ErrBusy at once.
func TestBcryptQueueIsBounded(t *testing.T) {
	a, err := New([]byte(strings.Repeat("s", 32)), time.Hour, bcrypt.MinCost, 1)
	if err != nil {
		t.Fatal(err)
	}
	for range cap(a.slots) { // every slot busy
		a.slots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(t.Context())
	queued := make(chan error, 1)
	go func() {
		_, err := a.CheckPassword(ctx, "", "password123")
		queued <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); len(a.waiting) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a caller finding every slot busy did not queue")
		}
	}
	if _, err := a.CheckPassword(t.Context(), "", "password123"); !errors.Is(err, ErrBusy) {
		t.Errorf("with the queue full: %v, want ErrBusy", err)
	}
	if _, err := a.HashPassword(t.Context(), "password123"); !errors.Is(err, ErrBusy) {
		t.Errorf("hash with the queue full: %v, want ErrBusy", err)
	}
	cancel() // the queued client leaves
	select {
	case err := <-queued:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("queued caller whose context ended: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a queued caller whose context ended is still waiting")
	}
	if len(a.waiting) != 0 {
		t.Errorf("queue holds %d after its caller left, want 0", len(a.waiting))
	}
	// A slot freed serves the next caller.
	<-a.slots
	if ok, err := a.CheckPassword(t.Context(), "", "password123"); ok || err != nil {
		t.Errorf("after a slot freed: %v, %v; want false, nil", ok, err)
	}
}
