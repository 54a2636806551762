package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/esm"
	"github.com/hybrid-storage/hybrid-storage/shared/queue"
)

// The SQS-compatible server of the tests is goaws (github.com/Admiral-Piett/goaws,
// pinned in tools/go.mod, built into .bin/goaws by make tools), started once
// per test binary unless TEST_SQS_ENDPOINT names a running one. It speaks
// the JSON protocol of aws-sdk-go-v2.

var (
	sqsOnce     sync.Once
	sqsEndpoint string
	sqsErr      error
)

// SQSEndpoint returns the URL of a running SQS-compatible server.
func SQSEndpoint(tb testing.TB) string {
	tb.Helper()
	if ep := os.Getenv("TEST_SQS_ENDPOINT"); ep != "" {
		return ep
	}
	sqsOnce.Do(func() { sqsEndpoint, sqsErr = startGoaws() })
	if sqsErr != nil {
		tb.Fatalf("testenv: %v", sqsErr)
	}
	return sqsEndpoint
}

// Queue creates a fresh queue for tb on the test SQS server (visibility
// timeout visibility), points cfg at it, and returns its client.
func Queue(tb testing.TB, cfg *config.Config, visibility time.Duration) *queue.SQS {
	tb.Helper()
	ep := SQSEndpoint(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	probe, err := queue.New(ctx, queue.Options{URL: "-", Endpoint: ep, Region: "us-east-1", AccessKeyID: "x", SecretKey: "x"})
	if err != nil {
		tb.Fatal(err)
	}
	created, err := esm.CreateQueue(ctx, probe.Client, randomName("sync-"), visibility, 0)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	cfg.SyncQueueURL, cfg.SQSEndpoint = created.URL, ep
	region := cfg.Cold.Region
	if region == "" {
		region = "us-east-1"
	}
	q, err := queue.New(ctx, queue.Options{URL: cfg.SyncQueueURL, Endpoint: ep, Region: region,
		AccessKeyID: "x", SecretKey: "x"})
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

// GoawsBinary finds goaws: $GOAWS_BIN, then <repo>/.bin/goaws, then PATH.
func GoawsBinary() (string, error) {
	if p := os.Getenv("GOAWS_BIN"); p != "" {
		return p, nil
	}
	if root, err := RepoRoot(); err == nil {
		p := filepath.Join(root, ".bin", "goaws")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("goaws"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("goaws not found: run `make tools` (builds .bin/goaws) or set TEST_SQS_ENDPOINT")
}

func startGoaws() (string, error) {
	bin, err := GoawsBinary()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "testenv-sqs-")
	if err != nil {
		return "", err
	}
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	g, err := esm.StartGoaws(bin, dir, fmt.Sprintf("127.0.0.1:%d", port), io.Discard, Start)
	if err != nil {
		return "", err
	}
	return g.Endpoint, nil
}

// ESM is the event source mapping of the tests' queues (shared/esm).
type ESM = esm.Mapping

// NewESM returns the mapping of the queue at url.
func NewESM(tb testing.TB, q *queue.SQS, url string) *ESM {
	tb.Helper()
	m, err := esm.New(context.Background(), q.Client, url)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return m
}
