package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/proccpu"
)

// figure is one measured number, with its goal when it has one.
type figure struct {
	name, value, goal string
	ok                *bool
}

type report struct{ figures []figure }

// add records and prints a figure.
func (r *report) add(name, value, goal string, ok *bool) {
	f := figure{name, value, goal, ok}
	r.figures = append(r.figures, f)
	fmt.Println(f.line())
}

func (f figure) line() string {
	s := fmt.Sprintf("%-44s %s", f.name, f.value)
	if f.goal != "" {
		verdict := "MISS"
		if f.ok != nil && *f.ok {
			verdict = "ok"
		}
		s += fmt.Sprintf("   (goal %s: %s)", f.goal, verdict)
	}
	return s
}

func (r *report) print() {
	fmt.Println("\n# summary")
	fmt.Println("cpu:", proccpu.Flags())
	for _, f := range r.figures {
		if f.goal != "" {
			fmt.Println(f.line())
		}
	}
}

func boolp(b bool) *bool { return &b }

// percentile returns the p-th percentile (0..100) of ds (sorted in place).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mbps(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() / (1 << 20) }

// call sends a JSON request to the server as the bench user and decodes
// the answer into out (when not nil); it returns the status.
func (e *env) call(method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.base+path, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

const benchPassword = "bench-password-123"

func (e *env) signup(email string) error {
	if _, err := e.call("POST", "/api/auth/signup", map[string]string{"email": email, "password": benchPassword}, nil); err != nil {
		return err
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if _, err := e.call("POST", "/api/auth/login", map[string]string{"email": email, "password": benchPassword}, &out); err != nil {
		return err
	}
	e.token = out.AccessToken
	return nil
}
