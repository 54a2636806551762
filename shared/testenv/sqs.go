package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
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
	out, err := probe.Client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(randomName("sync-")),
		Attributes: map[string]string{"VisibilityTimeout": fmt.Sprint(int(visibility.Seconds()))}})
	if err != nil {
		tb.Fatalf("testenv: create queue: %v", err)
	}
	cfg.SyncQueueURL, cfg.SQSEndpoint = aws.ToString(out.QueueUrl), ep
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
	conf := fmt.Sprintf(`Test:
  Host: 127.0.0.1
  Port: %d
  Region: us-east-1
  AccountId: "100010001000"
  LogToFile: false
  EnableDuplicates: false
  QueueAttributeDefaults:
    VisibilityTimeout: 30
    ReceiveMessageWaitTimeSeconds: 0
  Queues: []
  Topics: []
`, port)
	file := filepath.Join(dir, "goaws.yaml")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "-config", file, "-loglevel", "warn", "Test")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := Start(cmd); err != nil {
		return "", fmt.Errorf("start goaws: %w", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return "http://" + addr, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return "", fmt.Errorf("goaws did not listen on %s within 15s", addr)
}

// ESM stands in for Lambda's SQS event source mapping in tests: it
// receives messages from a queue and hands them over as the mapping does,
// an events.SQSEvent, then deletes the records the function did not report
// in batchItemFailures (ReportBatchItemFailures). A record it does not
// delete comes back after the queue's visibility timeout.
type ESM struct {
	Q   *queue.SQS
	URL string // the queue's URL
	ARN string // the queue's ARN, as eventSourceARN
}

// NewESM returns the mapping of the queue at url.
func NewESM(tb testing.TB, q *queue.SQS, url string) *ESM {
	tb.Helper()
	out, err := q.Client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		tb.Fatalf("testenv: queue attributes: %v", err)
	}
	return &ESM{Q: q, URL: url, ARN: out.Attributes[string(types.QueueAttributeNameQueueArn)]}
}

// Receive waits up to wait for at most max messages and returns them as
// the mapping's event (empty Records when none came).
func (m *ESM) Receive(ctx context.Context, max int32, wait time.Duration) (events.SQSEvent, error) {
	out, err := m.Q.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(m.URL), MaxNumberOfMessages: max,
		WaitTimeSeconds: int32(wait / time.Second), MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil {
		return events.SQSEvent{}, fmt.Errorf("receive: %w", err)
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{}}
	for _, msg := range out.Messages {
		attrs := map[string]string{}
		for k, v := range msg.Attributes {
			attrs[k] = v
		}
		if attrs["ApproximateReceiveCount"] == "" {
			attrs["ApproximateReceiveCount"] = "1"
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle), Body: aws.ToString(msg.Body),
			Md5OfBody: aws.ToString(msg.MD5OfBody), Attributes: attrs, MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource: "aws:sqs", EventSourceARN: m.ARN, AWSRegion: "us-east-1",
		})
	}
	return ev, nil
}

// Ack deletes the records of ev that resp does not report as failed.
func (m *ESM) Ack(ctx context.Context, ev events.SQSEvent, resp events.SQSEventResponse) error {
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, r := range ev.Records {
		if failed[r.MessageId] {
			continue
		}
		if _, err := m.Q.Client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(m.URL),
			ReceiptHandle: aws.String(r.ReceiptHandle)}); err != nil {
			return fmt.Errorf("delete message %s: %w", r.MessageId, err)
		}
	}
	return nil
}
