package queue_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/queue"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// Send goes ten messages to a request: 23 bodies arrive, each once, on a
// real SQS-compatible server (goaws).
func TestSendInBatchesOfTen(t *testing.T) {
	var cfg config.Config
	q := testenv.Queue(t, &cfg, 30*time.Second)
	var bodies []string
	for i := range 23 {
		bodies = append(bodies, fmt.Sprintf(`{"n":%02d}`, i))
	}
	ctx := context.Background()
	if err := q.Send(ctx, bodies); err != nil {
		t.Fatal(err)
	}
	esm := testenv.NewESM(t, q, cfg.SyncQueueURL)
	var got []string
	for deadline := time.Now().Add(10 * time.Second); len(got) < len(bodies) && time.Now().Before(deadline); {
		ev, err := esm.Receive(ctx, 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range ev.Records {
			got = append(got, r.Body)
		}
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(bodies) {
		t.Errorf("received %v, want %v", got, bodies)
	}
}

// A queue URL is required.
func TestNewWithoutURL(t *testing.T) {
	if _, err := queue.New(context.Background(), queue.Options{}); err == nil {
		t.Error("no error without SYNC_QUEUE_URL")
	}
}
