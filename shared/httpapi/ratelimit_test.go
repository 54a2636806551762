package httpapi_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
)

// clientFrom is a client whose connections come from local address ip (any
// of 127.0.0.0/8 works on Linux), so that the server sees distinct peers.
func (s *stack) clientFrom(tb testing.TB, ip string) *client {
	c := s.client(tb)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.hc.Transport = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	return c
}

// login tries a wrong password as email, with the extra headers, and
// returns the status (401 while within the limit, 429 past it).
func (c *client) login(email string, header map[string]string) int {
	c.tb.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	resp, b := c.do("POST", "/api/auth/login", strings.NewReader(`{"email":"`+email+`","password":"wrong-password"}`), h)
	switch resp.StatusCode {
	case 401:
	case 429:
		wantError(c.tb, resp, b, 429, "RATE_LIMITED")
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 3600 {
			c.tb.Errorf("429 with Retry-After %q, want 1..3600 seconds", resp.Header.Get("Retry-After"))
		}
	default:
		c.tb.Fatalf("login: status %d (%s), want 401 or 429", resp.StatusCode, b)
	}
	return resp.StatusCode
}

// attempts logs in n times and returns the statuses.
func attempts(c *client, n int, email string, header map[string]string) []int {
	var got []int
	for range n {
		got = append(got, c.login(email, header))
	}
	return got
}

func wantStatuses(tb testing.TB, what string, got []int, want ...int) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: %d answers, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			tb.Errorf("%s: statuses %v, want %v", what, got, want)
			return
		}
	}
}

func TestAuthRateLimitPerClientAddress(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) {
		c.AuthRateMin = 2
		c.TrustedProxies = []*net.IPNet{{IP: net.IPv4(127, 0, 0, 3), Mask: net.CIDRMask(32, 32)}}
	})
	a, b := s.clientFrom(t, "127.0.0.1"), s.clientFrom(t, "127.0.0.2")
	wantStatuses(t, "client A", attempts(a, 3, "a@example.com", nil), 401, 401, 429)
	wantStatuses(t, "client B, another address", attempts(b, 2, "b@example.com", nil), 401, 401)

	// An untrusted peer's X-Forwarded-For is ignored: it cannot buy itself
	// a fresh budget by naming another address each time.
	u := s.clientFrom(t, "127.0.0.4")
	var got []int
	for i := range 3 {
		got = append(got, u.login("u@example.com", map[string]string{"X-Forwarded-For": "198.51.100." + strconv.Itoa(i+1)}))
	}
	wantStatuses(t, "untrusted sender, changing X-Forwarded-For", got, 401, 401, 429)

	// Behind a trusted proxy the client is the forwarded address.
	p := s.clientFrom(t, "127.0.0.3")
	x1 := map[string]string{"X-Forwarded-For": "203.0.113.7"}
	x2 := map[string]string{"X-Forwarded-For": "192.0.2.99, 203.0.113.8"} // the left part is the client's own claim
	if onLambda() {
		// API Gateway's sourceIp is the client; a header names nothing.
		wantStatuses(t, "lambda: X-Forwarded-For ignored", append(attempts(p, 2, "p@example.com", x1), attempts(p, 1, "p@example.com", x2)...), 401, 401, 429)
		return
	}
	wantStatuses(t, "forwarded client 1", attempts(p, 3, "p@example.com", x1), 401, 401, 429)
	wantStatuses(t, "forwarded client 2", attempts(p, 2, "p@example.com", x2), 401, 401)
	x3 := map[string]string{"X-Forwarded-For": "203.0.113.8, 203.0.113.7"} // client 2 spoofing client 1's address on its left is not believed
	wantStatuses(t, "forwarded client 1 again", attempts(p, 1, "p@example.com", x3), 429)
}

// Two API instances on one database share the budgets: on Lambda every
// function instance is one of these.
func TestAuthRateLimitSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	edit := func(c *config.Config) { c.AuthRateMin = 3 }
	s1 := newStack(t, edit)
	s2 := newStack(t, func(c *config.Config) { edit(c); c.DatabaseURL = s1.app.Config.DatabaseURL })
	c1, c2 := s1.clientFrom(t, "127.0.0.5"), s2.clientFrom(t, "127.0.0.5")
	got := []int{c1.login("x@example.com", nil), c2.login("y@example.com", nil), c1.login("x@example.com", nil), c2.login("y@example.com", nil)}
	wantStatuses(t, "one address on two instances", got, 401, 401, 401, 429)
	// Signup and login share the budget too.
	resp, b := c1.do("POST", "/api/auth/signup", strings.NewReader(`{"email":"z@example.com","password":"correct horse battery"}`), jsonHeader)
	wantError(t, resp, b, 429, "RATE_LIMITED")
}

// A guess at one account spread over many addresses meets one budget per
// target email, whichever instance answers.
func TestAuthRateLimitPerTargetEmail(t *testing.T) {
	t.Parallel()
	edit := func(c *config.Config) { c.AuthEmailRateHour = 3 }
	s1 := newStack(t, edit)
	s2 := newStack(t, func(c *config.Config) { edit(c); c.DatabaseURL = s1.app.Config.DatabaseURL })
	var got []int
	for i, s := range []*stack{s1, s2, s1, s2} {
		got = append(got, s.clientFrom(t, "127.0.1."+strconv.Itoa(i+1)).login("victim@example.com", nil))
	}
	wantStatuses(t, "one email from four addresses", got, 401, 401, 401, 429)
	wantStatuses(t, "another email", attempts(s1.clientFrom(t, "127.0.1.9"), 1, "other@example.com", nil), 401)
}

// Logins past the bcrypt queue answer 503 with Retry-After at once instead
// of waiting behind every other hash.
func TestLoginQueueFullIsUnavailable(t *testing.T) {
	if onLambda() {
		t.Skip("a Lambda instance serves one request at a time: its queue never holds a second login")
	}
	t.Parallel()
	s := newStack(t, func(c *config.Config) {
		c.BcryptQueueMax = 0
		c.BcryptCost = 13 // ~0.5 s a hash: the slots stay busy while the others arrive
	})
	n := runtime.GOMAXPROCS(0) + 2 // more than the slots (cores - 1), no queue
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.clientFrom(t, "127.0.2."+strconv.Itoa(i+1))
			resp, b := c.do("POST", "/api/auth/login", strings.NewReader(`{"email":"q`+strconv.Itoa(i)+`@example.com","password":"correct horse battery"}`), jsonHeader)
			if resp.StatusCode == 503 {
				wantError(t, resp, b, 503, "SERVICE_UNAVAILABLE")
				if resp.Header.Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
			}
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[503] == 0 || count[401] == 0 || count[401]+count[503] != n {
		t.Errorf("answers %v, want some 401 (served) and some 503 (queue full), nothing else", count)
	}
}

// backdate moves the last guess of every (secret, address) pair back by
// d, as if d had passed.
func (s *stack) backdate(tb testing.TB, d time.Duration) {
	tb.Helper()
	if _, err := s.app.DB.Pool.Exec(tb.Context(), `UPDATE auth_rate_limits SET window_start = window_start - $1 * interval '1 second'
		WHERE key LIKE 'guess:%'`, d.Seconds()); err != nil {
		tb.Fatal(err)
	}
}

// loginAs logs in as email with password and returns the status (and
// checks Retry-After of a 429 against retry, when not 0).
func (c *client) loginAs(email, password string, retry int) int {
	c.tb.Helper()
	resp, b := c.do("POST", "/api/auth/login", jsonReader(map[string]string{"email": email, "password": password}), jsonHeader)
	switch resp.StatusCode {
	case 200, 401:
	case 429:
		wantError(c.tb, resp, b, 429, "RATE_LIMITED")
		if got := resp.Header.Get("Retry-After"); retry != 0 && got != strconv.Itoa(retry) {
			c.tb.Errorf("429 with Retry-After %s, want %d", got, retry)
		}
	default:
		c.tb.Fatalf("login: %d %s", resp.StatusCode, b)
	}
	return resp.StatusCode
}

// Guesses from one address slow that address only: five free, then a
// delay that doubles (1 s, 2 s, …); the owner elsewhere logs in, a right
// password from the guessing address forgets its count (issue 21, item 6).
func TestLoginGuessesBackOffPerAddress(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	const email, pw = "backoff@example.com", "correct horse battery"
	owner := s.clientFrom(t, "127.0.6.1").signup(email)
	guesser := s.clientFrom(t, "127.0.6.2")
	var got []int
	for range 6 {
		got = append(got, guesser.loginAs(email, "wrong-password", 1))
	}
	wantStatuses(t, "six guesses from one address", got, 401, 401, 401, 401, 401, 429)
	wantStatuses(t, "the right password from there too", []int{guesser.loginAs(email, pw, 1)}, 429)
	wantStatuses(t, "the owner's address", []int{owner.loginAs(email, pw, 0)}, 200)
	wantStatuses(t, "a fresh address", []int{s.clientFrom(t, "127.0.6.3").loginAs(email, pw, 0)}, 200)
	s.backdate(t, time.Second)
	wantStatuses(t, "a second later, then at once", []int{guesser.loginAs(email, "wrong-password", 0), guesser.loginAs(email, "wrong-password", 2)}, 401, 429)
	s.backdate(t, 2*time.Second)
	wantStatuses(t, "the right password forgets the count", []int{guesser.loginAs(email, pw, 0), guesser.loginAs(email, "wrong-password", 0)}, 200, 401)
}

// Strangers spending the account's hourly ceiling from many addresses
// do not lock the owner out where the owner has logged in before: login
// and account deletion from there work; a fresh address meets the ceiling
// (issue 21, item 6).
func TestStrangersCannotLockOwnerOut(t *testing.T) {
	t.Parallel()
	s := newStack(t, func(c *config.Config) { c.AuthEmailRateHour = 6 })
	const email, pw = "locked@example.com", "correct horse battery"
	owner := s.clientFrom(t, "127.0.7.1").signup(email) // its login makes the address known
	count := map[int]int{}
	for i := range 3 {
		stranger := s.clientFrom(t, fmt.Sprintf("127.0.7.%d", 10+i))
		for range 4 {
			count[stranger.loginAs(email, "wrong-password", 0)]++
		}
	}
	if count[401] != 6 || count[429] != 6 {
		t.Errorf("12 guesses from 3 addresses: %v, want 6 x 401 (the ceiling) and 6 x 429", count)
	}
	for range 3 { // right passwords are not counted
		wantStatuses(t, "the owner's known address", []int{owner.loginAs(email, pw, 0)}, 200)
	}
	wantStatuses(t, "a fresh address, right password", []int{s.clientFrom(t, "127.0.7.2").loginAs(email, pw, 0)}, 429)
	if st, b := owner.deleteAccount("wrong-password"); st != 401 {
		t.Fatalf("wrong deletion password from the known address: %d %s, want 401", st, b)
	}
	if st, b := owner.deleteAccount(pw); st != 204 {
		t.Fatalf("deletion from the known address: %d %s, want 204", st, b)
	}
}
