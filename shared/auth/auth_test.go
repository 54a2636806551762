package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
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
	h, err := a.HashPassword(t.Context(), LaneSignup, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := a.CheckPassword(t.Context(), LaneLogin, h, "correct horse"); !ok || err != nil {
		t.Error("CheckPassword(right) = false, want true")
	}
	if ok, _ := a.CheckPassword(t.Context(), LaneLogin, h, "wrong horse"); ok {
		t.Error("CheckPassword(wrong) = true, want false")
	}
	if ok, _ := a.CheckPassword(t.Context(), LaneLogin, "", "correct horse"); ok {
		t.Error("CheckPassword with no hash = true, want false")
	}
}

func TestTokenRoundTrip(t *testing.T) {
	a := newAuth(t)
	tok, exp, err := a.IssueToken(42, 9, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expiry in %v, want about 1h", d)
	}
	id, sid, err := a.ParseToken(tok)
	if err != nil || id != 42 || sid != 9 {
		t.Fatalf("ParseToken = %d, %d, %v; want 42, 9, nil", id, sid, err)
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
	expired, _, _ := a.IssueToken(1, 1, time.Now().Add(-2*time.Hour))
	type withSession struct {
		jwt.RegisteredClaims
		Sid any `json:"sid"`
	}
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
		// Tokens of before sessions name none: nothing could end them.
		{"no session", sign(jwt.SigningMethodHS256, key, jwt.RegisteredClaims{Subject: "1", ExpiresAt: future}), ErrUnauthorized},
		{"session 0", sign(jwt.SigningMethodHS256, key, withSession{jwt.RegisteredClaims{Subject: "1", ExpiresAt: future}, 0}), ErrUnauthorized},
		{"session as string", sign(jwt.SigningMethodHS256, key, withSession{jwt.RegisteredClaims{Subject: "1", ExpiresAt: future}, "5"}), ErrUnauthorized},
		{"huge", strings.Repeat("a", 5000), ErrUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, _, err := a.ParseToken(tc.token)
			if !errors.Is(err, tc.want) {
				t.Errorf("ParseToken = %d, %v; want error %v", id, err, tc.want)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	a := newAuth(t)
	tok, _, _ := a.IssueToken(7, 70, time.Now())
	gone, _, _ := a.IssueToken(8, 80, time.Now())
	ended, _, _ := a.IssueToken(7, 71, time.Now())
	live := func(_ context.Context, id, sid int64) error {
		if id == 8 || sid == 71 {
			return ErrUnauthorized // a deleted user, an ended session
		}
		return nil
	}
	var gotID, gotSession int64
	h := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotID, _ = UserID(r.Context())
		gotSession, _ = SessionID(r.Context())
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
		{"Bearer " + ended, 401, 0},
	} {
		gotID = 0
		r := httptest.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status || gotID != tc.id || tc.id != 0 && gotSession != 70 {
			t.Errorf("header %.20q: status %d id %d, want %d %d", tc.header, w.Code, gotID, tc.status, tc.id)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	a := newAuth(f)
	tok, _, _ := a.IssueToken(1, 1, time.Now())
	f.Add(tok)
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		// Only the one token we signed (for user 1) may verify: any other
		// input must be refused, never give another user.
		id, sid, err := a.ParseToken(s)
		if err == nil && (id != 1 || sid != 1) {
			t.Fatalf("accepted token for user %d session %d", id, sid)
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

// takeSlots holds every bcrypt slot, as running computations would.
func takeSlots(tb testing.TB, a *Auth) {
	tb.Helper()
	for range a.slots {
		if err := a.acquire(tb.Context(), LaneLogin); err != nil {
			tb.Fatal(err)
		}
	}
}

// waitQueued waits until n callers wait in lane.
func waitQueued(tb testing.TB, a *Auth, lane Lane, n int) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		a.mu.Lock()
		got := len(a.waiting[lane])
		a.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("lane %d: %d callers waiting, want %d", lane, got, n)
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
	takeSlots(t, a)
	ctx, cancel := context.WithCancel(t.Context())
	queued := make(chan error, 1)
	go func() {
		_, err := a.CheckPassword(ctx, LaneLogin, "", "password123")
		queued <- err
	}()
	waitQueued(t, a, LaneLogin, 1)
	if _, err := a.CheckPassword(t.Context(), LaneLogin, "", "password123"); !errors.Is(err, ErrBusy) {
		t.Errorf("with the queue full: %v, want ErrBusy", err)
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
	if _, waiting := a.Queue(); waiting != 0 {
		t.Errorf("queue holds %d after its caller left, want 0", waiting)
	}
	// A slot freed serves the next caller.
	a.release()
	if ok, err := a.CheckPassword(t.Context(), LaneLogin, "", "password123"); ok || err != nil {
		t.Errorf("after a slot freed: %v, %v; want false, nil", ok, err)
	}
}

// Each lane has its own queue, and a freed slot serves the first lane
// with a caller waiting: share passwords, however many, neither fill the
// logins' queue nor go before a waiting login.
func TestBcryptLanes(t *testing.T) {
	a, err := New([]byte(strings.Repeat("s", 32)), time.Hour, bcrypt.MinCost, 2)
	if err != nil {
		t.Fatal(err)
	}
	a.slots, a.free = 1, 1 // one computation at a time: the order is the lanes'
	takeSlots(t, a)
	order := make(chan Lane, 4)
	var wg sync.WaitGroup
	enqueue := func(lane Lane) {
		wg.Go(func() {
			if _, err := a.CheckPassword(t.Context(), lane, "", "password123"); err != nil {
				t.Errorf("lane %d: %v", lane, err)
			}
			order <- lane
		})
	}
	enqueue(LaneShare)
	enqueue(LaneShare)
	waitQueued(t, a, LaneShare, 2)
	if _, err := a.HashPassword(t.Context(), LaneShare, "password123"); !errors.Is(err, ErrBusy) {
		t.Errorf("share lane full: %v, want ErrBusy", err)
	}
	enqueue(LaneSignup)
	waitQueued(t, a, LaneSignup, 1)
	enqueue(LaneLogin) // the share lane is full; the login lane is not
	waitQueued(t, a, LaneLogin, 1)

	before := a.Runs()
	a.release()
	wg.Wait()
	close(order)
	var got []Lane
	for l := range order {
		got = append(got, l)
	}
	want := []Lane{LaneLogin, LaneSignup, LaneShare, LaneShare}
	if !slices.Equal(got, want) {
		t.Errorf("served in lane order %v, want %v", got, want)
	}
	if n := a.Runs() - before; n != 4 {
		t.Errorf("Runs grew by %d, want 4", n)
	}
	if running, waiting := a.Queue(); running != 0 || waiting != 0 {
		t.Errorf("Queue() = %d, %d after all ran, want 0, 0", running, waiting)
	}
}

func TestOpaqueTokens(t *testing.T) {
	a := newAuth(t)
	tok := NewOpaqueToken()
	if !WellFormedToken(tok) || len(tok) != 43 || tok == NewOpaqueToken() {
		t.Fatalf("NewOpaqueToken = %q: want 43 random base64url characters", tok)
	}
	for _, bad := range []string{"", tok[:42], tok + "A", strings.Repeat("!", 43)} {
		if WellFormedToken(bad) {
			t.Errorf("WellFormedToken(%q) = true", bad)
		}
	}
	next := a.SuccessorToken(tok)
	if !WellFormedToken(next) || next == tok || next != a.SuccessorToken(tok) || a.SuccessorToken(next) == next {
		t.Errorf("SuccessorToken(%q) = %q: want a well-formed, stable, different token", tok, next)
	}
	other, _ := New([]byte(strings.Repeat("o", 32)), time.Hour, 4, 4)
	if other.SuccessorToken(tok) == next {
		t.Error("the successor does not depend on the key")
	}
	if len(HashToken(tok)) != 32 {
		t.Error("HashToken is not 32 bytes")
	}
}

func TestTOTP(t *testing.T) {
	a := newAuth(t)
	secret, uri, err := NewTOTP("ada@example.com")
	if err != nil || !strings.HasPrefix(uri, "otpauth://totp/hybrid-storage:ada@example.com?") || !strings.Contains(uri, "secret="+secret) {
		t.Fatalf("NewTOTP = %q, %q, %v", secret, uri, err)
	}
	now := time.Unix(1_800_000_015, 0)
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		code, _ := TOTPCode(secret, now.Add(d))
		step, ok := TOTPStep(secret, code, now)
		if !ok || step != now.Add(d).Unix()/30 {
			t.Errorf("code of now%+v: step %d ok %v", d, step, ok)
		}
	}
	old, _ := TOTPCode(secret, now.Add(-90*time.Second))
	for _, bad := range []string{old, "", "12345", "1234567", "abcdef"} {
		if _, ok := TOTPStep(secret, bad, now); ok && bad != "" {
			cur, _ := TOTPCode(secret, now)
			if bad != cur {
				t.Errorf("TOTPStep(%q) accepted", bad)
			}
		}
	}
	sealed := a.Seal(secret)
	if got, err := a.Open(sealed); err != nil || got != secret || strings.Contains(string(sealed), secret) {
		t.Errorf("Open(Seal) = %q, %v", got, err)
	}
	other, _ := New([]byte(strings.Repeat("o", 32)), time.Hour, 4, 4)
	if _, err := other.Open(sealed); err == nil {
		t.Error("another key opened the sealed secret")
	}
	codes := NewRecoveryCodes()
	if len(codes) != 10 || len(codes[0]) != 19 || codes[0] == codes[1] {
		t.Fatalf("recovery codes %v", codes)
	}
	if string(HashRecoveryCode(strings.ToUpper(strings.ReplaceAll(codes[0], "-", " ")))) != string(HashRecoveryCode(codes[0])) {
		t.Error("recovery code hashes depend on case or separators")
	}
}
