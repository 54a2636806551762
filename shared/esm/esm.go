// Package esm stands in for Lambda's SQS event source mapping off AWS:
// Mapping polls a queue and invokes a function with each batch as the
// mapping does (an events.SQSEvent), at most MaximumConcurrency
// invocations at once, deletes what succeeded and leaves what failed
// (ReportBatchItemFailures) to come back after the queue's visibility
// timeout, so that the queue's redrive policy sends it to the dead-letter
// queue after maxReceiveCount deliveries. CreateQueue and StartGoaws set up
// the SQS side as the deploy does, on goaws (an SQS-compatible server).
//
// make dev-aws drives functions/sync-worker with it, and the tests of the
// fan-out use its Receive and Ack.
package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Invoker runs one synchronous invocation of the mapped function with
// event (JSON) and returns its answer; an error is a failed invocation (a
// function error, a timeout, a throttle).
type Invoker func(ctx context.Context, event []byte) ([]byte, error)

// Mapping is one event source mapping: a queue and the function it
// invokes. Build it with New; set Invoke (and the options) before Run.
type Mapping struct {
	Client   *sqs.Client
	QueueURL string
	QueueARN string // eventSourceARN of the records
	Region   string // awsRegion of the records
	// MaxReceiveCount is the queue's redrive policy's (0: none); the
	// mapping only logs with it: the queue moves the message.
	MaxReceiveCount int

	Invoke Invoker
	// BatchSize is the most records in one event (0: 1, as the sync
	// worker's mapping).
	BatchSize int
	// MaximumConcurrency is the most invocations at once (0: 2, AWS's
	// minimum).
	MaximumConcurrency int
	// PollWait is a receive's long-poll time (0: 20 s, as the mapping's
	// pollers do).
	PollWait time.Duration
	Logger   *slog.Logger // nil: discard

	mu sync.Mutex
	// receives counts deliveries by message id: goaws (v0.5.4) reports an
	// ApproximateReceiveCount of 1 on every delivery, so the mapping, the
	// queue's only consumer, counts them itself.
	receives map[string]int
}

// New returns the mapping of the queue at url, with the queue's ARN and
// redrive policy read from SQS.
func New(ctx context.Context, c *sqs.Client, url string) (*Mapping, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn, types.QueueAttributeNameRedrivePolicy}})
	if err != nil {
		return nil, fmt.Errorf("esm: attributes of queue %s: %w", url, err)
	}
	m := &Mapping{Client: c, QueueURL: url, QueueARN: out.Attributes[string(types.QueueAttributeNameQueueArn)], Region: "us-east-1"}
	if p := out.Attributes[string(types.QueueAttributeNameRedrivePolicy)]; p != "" {
		var rp struct {
			MaxReceiveCount json.RawMessage `json:"maxReceiveCount"` // a number on AWS, a string on goaws
		}
		if err := json.Unmarshal([]byte(p), &rp); err == nil {
			m.MaxReceiveCount, _ = strconv.Atoi(string(trimQuotes(rp.MaxReceiveCount)))
		}
	}
	return m, nil
}

func trimQuotes(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

// Receive waits up to wait for at most max messages and returns them as
// the mapping's event (empty Records when none came), each record's
// ApproximateReceiveCount counted by the mapping.
func (m *Mapping) Receive(ctx context.Context, max int32, wait time.Duration) (events.SQSEvent, error) {
	out, err := m.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(m.QueueURL), MaxNumberOfMessages: max,
		WaitTimeSeconds: int32(wait / time.Second), MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil {
		return events.SQSEvent{}, fmt.Errorf("esm: receive: %w", err)
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{}}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.receives == nil {
		m.receives = map[string]int{}
	}
	for _, msg := range out.Messages {
		id := aws.ToString(msg.MessageId)
		m.receives[id]++
		attrs := map[string]string{}
		for k, v := range msg.Attributes {
			attrs[k] = v
		}
		attrs["ApproximateReceiveCount"] = strconv.Itoa(m.receives[id])
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: id, ReceiptHandle: aws.ToString(msg.ReceiptHandle), Body: aws.ToString(msg.Body),
			Md5OfBody: aws.ToString(msg.MD5OfBody), Attributes: attrs, MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource: "aws:sqs", EventSourceARN: m.QueueARN, AWSRegion: m.Region,
		})
	}
	return ev, nil
}

// Ack deletes the records of ev that resp does not report as failed.
func (m *Mapping) Ack(ctx context.Context, ev events.SQSEvent, resp events.SQSEventResponse) error {
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var errs []error
	for _, r := range ev.Records {
		if failed[r.MessageId] {
			continue
		}
		if _, err := m.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(m.QueueURL),
			ReceiptHandle: aws.String(r.ReceiptHandle)}); err != nil {
			errs = append(errs, fmt.Errorf("esm: delete message %s: %w", r.MessageId, err))
			continue
		}
		m.mu.Lock()
		delete(m.receives, r.MessageId)
		m.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Failures is what the mapping makes of an invocation of ev that answered
// out (or failed with err) under ReportBatchItemFailures: the ids of the
// records left in the queue. A failed invocation, an answer that is not
// JSON, or a batchItemFailures entry with an empty or unknown
// itemIdentifier fails the whole batch; an empty answer, null, {} or an
// empty list fails none.
func Failures(ev events.SQSEvent, out []byte, err error) []string {
	all := make([]string, len(ev.Records))
	known := map[string]bool{}
	for i, r := range ev.Records {
		all[i] = r.MessageId
		known[r.MessageId] = true
	}
	if err != nil {
		return all
	}
	if len(out) == 0 || string(out) == "null" {
		return nil
	}
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if json.Unmarshal(out, &resp) != nil {
		return all
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == nil || !known[*f.ItemIdentifier] {
			return all
		}
		failed = append(failed, *f.ItemIdentifier)
	}
	return failed
}

// Run polls and invokes until ctx ends: MaximumConcurrency pollers, each
// receiving at most BatchSize messages and invoking the function with them
// before it receives again. It returns when every invocation under way
// has ended.
func (m *Mapping) Run(ctx context.Context) error {
	if m.Invoke == nil {
		return errors.New("esm: no function to invoke")
	}
	pollers := m.MaximumConcurrency
	if pollers <= 0 {
		pollers = 2
	}
	var wg sync.WaitGroup
	for range pollers {
		wg.Go(func() { m.poll(ctx) })
	}
	wg.Wait()
	return ctx.Err()
}

func (m *Mapping) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

func (m *Mapping) poll(ctx context.Context) {
	batch, wait := int32(max(m.BatchSize, 1)), m.PollWait
	if wait <= 0 {
		wait = 20 * time.Second
	}
	for ctx.Err() == nil {
		ev, err := m.Receive(ctx, batch, wait)
		if err != nil {
			if ctx.Err() == nil {
				m.logger().Error("event source mapping: receive", "queue", m.QueueARN, "error", err.Error())
				sleep(ctx, time.Second)
			}
			continue
		}
		if len(ev.Records) > 0 {
			m.deliver(ctx, ev)
		}
	}
}

// deliver invokes the function with ev and deletes the records it did not
// fail.
func (m *Mapping) deliver(ctx context.Context, ev events.SQSEvent) {
	log := m.logger()
	raw, err := json.Marshal(ev)
	if err != nil {
		log.Error("event source mapping: encode event", "error", err.Error())
		return
	}
	started := time.Now()
	out, err := m.Invoke(ctx, raw)
	failed := Failures(ev, out, err)
	resp := events.SQSEventResponse{}
	for _, id := range failed {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	// Deleting is not the invocation's: it goes on when ctx has ended.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if aerr := m.Ack(dctx, ev, resp); aerr != nil {
		log.Error("event source mapping: delete", "error", aerr.Error())
	}
	for _, r := range ev.Records {
		attrs := []any{"queue", m.QueueARN, "message_id", r.MessageId, "receive_count", r.Attributes["ApproximateReceiveCount"],
			"duration_ms", time.Since(started).Milliseconds()}
		if !slices.Contains(failed, r.MessageId) {
			log.Info("event source mapping: record done", attrs...)
			continue
		}
		if err != nil {
			attrs = append(attrs, "error", err.Error())
		} else {
			attrs = append(attrs, "answer", truncate(string(out), 300))
		}
		n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
		if m.MaxReceiveCount > 0 && n >= m.MaxReceiveCount {
			log.Error("event source mapping: record failed for the last time; the queue moves it to the dead-letter queue after the visibility timeout", attrs...)
			m.mu.Lock()
			delete(m.receives, r.MessageId)
			m.mu.Unlock()
			continue
		}
		log.Warn("event source mapping: record failed; it comes back after the visibility timeout", attrs...)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
