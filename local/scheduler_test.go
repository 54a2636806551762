package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A scheduled run that panics is logged and the next one runs: the panic
// does not take the server (here: the test binary) down.
func TestSchedulerSurvivesAPanickingRun(t *testing.T) {
	var runs atomic.Int32
	again := make(chan struct{})
	run := func(ctx context.Context) {
		if runs.Add(1) == 1 {
			panic("injected panic in a scheduled run")
		}
		select {
		case again <- struct{}{}:
		default:
		}
	}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait, err := startScheduler(ctx, "@every 1s", run, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-again:
	case <-time.After(5 * time.Second):
		t.Fatalf("no run after the panicking one (%d runs): %s", runs.Load(), logs.String())
	}
	cancel()
	wait()
	if !strings.Contains(logs.String(), "injected panic in a scheduled run") {
		t.Errorf("the panic was not logged: %s", logs.String())
	}
}
