package esm_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hybrid-storage/hybrid-storage/shared/esm"
	"github.com/hybrid-storage/hybrid-storage/shared/queue"
	"github.com/hybrid-storage/hybrid-storage/shared/testenv"
)

// newQueue creates a fresh queue on the tests' goaws (visibility timeout
// visibility, a dead-letter queue after maxReceive deliveries when > 0)
// and returns a sender and the queue.
func newQueue(t *testing.T, visibility time.Duration, maxReceive int) (*sqs.Client, *queue.SQS, esm.Queue) {
	t.Helper()
	ep := testenv.SQSEndpoint(t)
	probe, err := queue.New(t.Context(), queue.Options{URL: "-", Endpoint: ep, Region: "us-east-1", AccessKeyID: "x", SecretKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	q, err := esm.CreateQueue(t.Context(), probe.Client, "esm-"+hex.EncodeToString(b[:]), visibility, maxReceive)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := queue.New(t.Context(), queue.Options{URL: q.URL, Endpoint: ep, Region: "us-east-1", AccessKeyID: "x", SecretKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return probe.Client, sender, q
}

// delivery is one record as the function saw it.
type delivery struct {
	body  string
	count string // ApproximateReceiveCount
}

// recorder is a function under the mapping: it records every record it
// is given and answers with answer(body, n), n counting that body's
// deliveries from 1.
type recorder struct {
	mu     sync.Mutex
	seen   []delivery
	answer func(body string, n int) (failed bool, err error)
}

func (r *recorder) invoke(_ context.Context, event []byte) ([]byte, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		if rec.EventSource != "aws:sqs" || rec.EventSourceARN == "" || rec.ReceiptHandle == "" {
			return nil, fmt.Errorf("record %+v is not as the mapping sends it", rec)
		}
		r.mu.Lock()
		r.seen = append(r.seen, delivery{rec.Body, rec.Attributes["ApproximateReceiveCount"]})
		n := r.count(rec.Body)
		r.mu.Unlock()
		failed, err := r.answer(rec.Body, n)
		if err != nil {
			return nil, err
		}
		if failed {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return json.Marshal(resp)
}

func (r *recorder) count(body string) int {
	n := 0
	for _, d := range r.seen {
		if d.body == body {
			n++
		}
	}
	return n
}

func (r *recorder) counts(body string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, d := range r.seen {
		if d.body == body {
			out = append(out, d.count)
		}
	}
	return out
}

// run runs m until done reports true or limit passes.
func run(t *testing.T, m *esm.Mapping, limit time.Duration, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx) }()
	for deadline := time.Now().Add(limit); !done() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want context.Canceled", err)
	}
}

// empty reports whether the queue at url holds no message, visible or not.
func empty(t *testing.T, c *sqs.Client, url string) bool {
	t.Helper()
	out, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
}

// A record the function reports in batchItemFailures, and one whose
// invocation fails, stay in the queue and come back after the visibility
// timeout with their receive count up; what succeeded is deleted.
func TestFailedRecordsComeBackAfterTheVisibilityTimeout(t *testing.T) {
	t.Parallel()
	c, sender, q := newQueue(t, time.Second, 0)
	if err := sender.Send(t.Context(), []string{"ok", "reported-once", "crashed-once"}); err != nil {
		t.Fatal(err)
	}
	m, err := esm.New(t.Context(), c, q.URL)
	if err != nil {
		t.Fatal(err)
	}
	fn := &recorder{answer: func(body string, n int) (bool, error) {
		switch {
		case body == "reported-once" && n == 1:
			return true, nil
		case body == "crashed-once" && n == 1:
			return false, errors.New("function error")
		}
		return false, nil
	}}
	m.Invoke, m.MaximumConcurrency, m.PollWait = fn.invoke, 2, time.Second
	run(t, m, 20*time.Second, func() bool {
		return len(fn.counts("reported-once")) == 2 && len(fn.counts("crashed-once")) == 2 && empty(t, c, q.URL)
	})
	for body, want := range map[string][]string{"ok": {"1"}, "reported-once": {"1", "2"}, "crashed-once": {"1", "2"}} {
		if got := fn.counts(body); !slices.Equal(got, want) {
			t.Errorf("%s: delivered with receive counts %v, want %v", body, got, want)
		}
	}
	if !empty(t, c, q.URL) {
		t.Error("the queue is not empty after every record succeeded")
	}
}

// A record that fails every time is delivered maxReceiveCount times, then
// the queue's redrive policy moves it to the dead-letter queue.
func TestDeadLetterQueueAfterMaxReceives(t *testing.T) {
	t.Parallel()
	c, sender, q := newQueue(t, time.Second, 3)
	if err := sender.Send(t.Context(), []string{"poison"}); err != nil {
		t.Fatal(err)
	}
	m, err := esm.New(t.Context(), c, q.URL)
	if err != nil {
		t.Fatal(err)
	}
	if m.MaxReceiveCount != 3 {
		t.Errorf("MaxReceiveCount %d read from the redrive policy, want 3", m.MaxReceiveCount)
	}
	fn := &recorder{answer: func(string, int) (bool, error) { return true, nil }}
	m.Invoke, m.MaximumConcurrency, m.PollWait = fn.invoke, 2, time.Second
	dlq, err := esm.New(t.Context(), c, q.DeadLetterURL)
	if err != nil {
		t.Fatal(err)
	}
	var dead []string
	run(t, m, 30*time.Second, func() bool {
		ev, err := dlq.Receive(t.Context(), 10, 0)
		if err != nil {
			t.Error(err)
			return true
		}
		for _, r := range ev.Records {
			dead = append(dead, r.Body)
		}
		return len(dead) > 0
	})
	if got := fn.counts("poison"); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Errorf("delivered with receive counts %v, want 1, 2, 3", got)
	}
	if !slices.Equal(dead, []string{"poison"}) {
		t.Errorf("dead-letter queue holds %v, want the poison message", dead)
	}
	if !empty(t, c, q.URL) {
		t.Error("the message is still in the queue")
	}
}

// No more than MaximumConcurrency invocations run at once, and the mapping
// uses all of them; every message is worked once.
func TestMaximumConcurrency(t *testing.T) {
	t.Parallel()
	c, sender, q := newQueue(t, 30*time.Second, 3)
	var bodies []string
	for i := range 12 {
		bodies = append(bodies, fmt.Sprint(i))
	}
	if err := sender.Send(t.Context(), bodies); err != nil {
		t.Fatal(err)
	}
	m, err := esm.New(t.Context(), c, q.URL)
	if err != nil {
		t.Fatal(err)
	}
	var running, most, done atomic.Int64
	var mu sync.Mutex
	var worked []string
	m.MaximumConcurrency, m.PollWait = 3, time.Second
	m.Invoke = func(_ context.Context, event []byte) ([]byte, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			if m := most.Load(); n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		var ev events.SQSEvent
		_ = json.Unmarshal(event, &ev)
		if len(ev.Records) != 1 {
			return nil, fmt.Errorf("%d records in an event, want 1 (batch size 1)", len(ev.Records))
		}
		time.Sleep(300 * time.Millisecond)
		mu.Lock()
		worked = append(worked, ev.Records[0].Body)
		mu.Unlock()
		done.Add(1)
		return []byte(`{"batchItemFailures":[]}`), nil
	}
	run(t, m, 20*time.Second, func() bool { return done.Load() == 12 && empty(t, c, q.URL) })
	if most.Load() != 3 {
		t.Errorf("at most %d invocations ran at once, want 3", most.Load())
	}
	slices.Sort(worked)
	want := slices.Clone(bodies)
	slices.Sort(want)
	if !slices.Equal(worked, want) {
		t.Errorf("worked %v, want each of %v once", worked, want)
	}
}

// What the mapping makes of a function's answer under
// ReportBatchItemFailures (AWS Lambda developer guide, "Reporting batch
// item failures").
func TestFailures(t *testing.T) {
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "a"}, {MessageId: "b"}}}
	for _, tc := range []struct {
		name string
		out  string
		err  error
		want []string
	}{
		{"empty list", `{"batchItemFailures":[]}`, nil, nil},
		{"null list", `{"batchItemFailures":null}`, nil, nil},
		{"empty response", `{}`, nil, nil},
		{"null response", `null`, nil, nil},
		{"no answer", ``, nil, nil},
		{"one failed", `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, nil, []string{"b"}},
		{"invocation failed", ``, errors.New("timeout"), []string{"a", "b"}},
		{"not JSON", `Task timed out`, nil, []string{"a", "b"}},
		{"empty identifier", `{"batchItemFailures":[{"itemIdentifier":""}]}`, nil, []string{"a", "b"}},
		{"null identifier", `{"batchItemFailures":[{"itemIdentifier":null}]}`, nil, []string{"a", "b"}},
		{"wrong key", `{"batchItemFailures":[{"id":"a"}]}`, nil, []string{"a", "b"}},
		{"unknown identifier", `{"batchItemFailures":[{"itemIdentifier":"z"}]}`, nil, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := esm.Failures(ev, []byte(tc.out), tc.err); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
