package testenv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/procnet"
)

// Mail server of the tests: mailpit (pinned in tools/go.mod, built into
// .bin by make tools), one per test binary, started on first use. Its SMTP
// side takes any credentials; its HTTP API reads what arrived.
var (
	mailOnce sync.Once
	mailSMTP string // host:port
	mailAPI  string // http://host:port
	mailErr  error
)

// Mailpit returns the SMTP address (host:port) and the HTTP API's base URL
// of the tests' mail server. TEST_SMTP_ADDR and TEST_MAIL_API name a
// running one; otherwise .bin/mailpit is started for the test binary's
// lifetime.
func Mailpit(tb testing.TB) (smtpAddr, apiURL string) {
	tb.Helper()
	if s, a := os.Getenv("TEST_SMTP_ADDR"), os.Getenv("TEST_MAIL_API"); s != "" && a != "" {
		return s, a
	}
	mailOnce.Do(func() { mailSMTP, mailAPI, mailErr = startMailpit() })
	if mailErr != nil {
		tb.Fatalf("testenv: %v", mailErr)
	}
	return mailSMTP, mailAPI
}

func startMailpit() (string, string, error) {
	bin := os.Getenv("MAILPIT_BIN")
	if bin == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", "", err
		}
		bin = filepath.Join(root, ".bin", "mailpit")
		if _, err := os.Stat(bin); err != nil {
			if p, err := exec.LookPath("mailpit"); err == nil {
				bin = p
			} else {
				return "", "", fmt.Errorf("mailpit not found: run `make tools`")
			}
		}
	}
	smtpPort, err := FreePort()
	if err != nil {
		return "", "", err
	}
	httpPort, err := FreePort()
	if err != nil {
		return "", "", err
	}
	smtpAddr := fmt.Sprintf("127.0.0.1:%d", smtpPort)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", httpPort)
	cmd := exec.Command(bin, "--smtp", smtpAddr, "--listen", httpAddr, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--disable-version-check", "--max", "100000", "--quiet")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test binary
	if err := Start(cmd); err != nil {
		return "", "", fmt.Errorf("start mailpit: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		a, err := procnet.Listening(cmd.Process.Pid, smtpPort)
		if err != nil {
			_ = cmd.Process.Kill()
			return "", "", err
		}
		b, _ := procnet.Listening(cmd.Process.Pid, httpPort)
		if a && b {
			return smtpAddr, "http://" + httpAddr, nil
		}
		select {
		case <-exited:
			return "", "", fmt.Errorf("mailpit exited at start")
		case <-time.After(50 * time.Millisecond):
		}
	}
	_ = cmd.Process.Kill()
	return "", "", fmt.Errorf("mailpit did not listen within 15s")
}

// Mail is one message as mailpit's API reports it.
type Mail struct {
	ID      string `json:"ID"`
	Subject string `json:"Subject"`
	Text    string `json:"Text"`
	From    struct {
		Address string `json:"Address"`
	} `json:"From"`
}

// MailsTo returns the messages the mail server at apiURL holds for to,
// newest first, waiting up to wait for at least want of them.
func MailsTo(tb testing.TB, apiURL, to string, want int, wait time.Duration) []Mail {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for {
		var list struct {
			Messages []struct {
				ID string `json:"ID"`
			} `json:"messages"`
		}
		getJSON(tb, apiURL+"/api/v1/search?query="+url.QueryEscape(`to:"`+to+`"`), &list)
		if len(list.Messages) >= want || time.Now().After(deadline) {
			out := make([]Mail, len(list.Messages))
			for i, m := range list.Messages {
				getJSON(tb, apiURL+"/api/v1/message/"+m.ID, &out[i])
			}
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getJSON(tb testing.TB, u string, v any) {
	tb.Helper()
	resp, err := http.Get(u)
	if err != nil {
		tb.Fatalf("mailpit: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		tb.Fatalf("mailpit: GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tb.Fatalf("mailpit: GET %s: %v", u, err)
	}
}
