package esm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/hybrid-storage/hybrid-storage/shared/procnet"
)

// Queue is a queue and its dead-letter queue as CreateQueue made them.
type Queue struct {
	URL, ARN                     string
	DeadLetterURL, DeadLetterARN string
}

// CreateQueue creates the queue name with the given visibility timeout
// and, when maxReceiveCount > 0, its dead-letter queue name+"-dlq" and the
// redrive policy sending a message there after maxReceiveCount
// deliveries, as the API stack creates the ticket queue. Creating a queue
// that exists is no error (its attributes are left as they are).
func CreateQueue(ctx context.Context, c *sqs.Client, name string, visibility time.Duration, maxReceiveCount int) (Queue, error) {
	var q Queue
	attrs := map[string]string{"VisibilityTimeout": strconv.Itoa(int(visibility / time.Second))}
	if maxReceiveCount > 0 {
		var err error
		if q.DeadLetterURL, q.DeadLetterARN, err = createQueue(ctx, c, name+"-dlq", nil); err != nil {
			return q, err
		}
		policy, _ := json.Marshal(map[string]any{"maxReceiveCount": maxReceiveCount, "deadLetterTargetArn": q.DeadLetterARN})
		attrs[string(types.QueueAttributeNameRedrivePolicy)] = string(policy)
	}
	var err error
	q.URL, q.ARN, err = createQueue(ctx, c, name, attrs)
	return q, err
}

func createQueue(ctx context.Context, c *sqs.Client, name string, attrs map[string]string) (url, arn string, err error) {
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", "", fmt.Errorf("esm: create queue %s: %w", name, err)
	}
	url = aws.ToString(out.QueueUrl)
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("esm: attributes of queue %s: %w", name, err)
	}
	return url, a.Attributes[string(types.QueueAttributeNameQueueArn)], nil
}

// Goaws is a running goaws server.
type Goaws struct {
	Endpoint string // http://host:port
	Cmd      *exec.Cmd
}

// StartGoaws runs the goaws binary bin on addr (host:port) with its
// configuration in dir, its output to logs, and waits until it listens.
// start starts the process (nil: cmd.Start); the process dies with the
// thread that started it. goaws accepts any credentials and signature and
// keeps its queues in memory.
func StartGoaws(bin, dir, addr string, logs io.Writer, start func(*exec.Cmd) error) (*Goaws, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("esm: goaws address %q: %w", addr, err)
	}
	conf := fmt.Sprintf(`Local:
  Host: %s
  Port: %s
  Region: us-east-1
  AccountId: "100010001000"
  LogToFile: false
  EnableDuplicates: false
  QueueAttributeDefaults:
    VisibilityTimeout: 30
    ReceiveMessageWaitTimeSeconds: 0
  Queues: []
  Topics: []
`, host, port)
	// goaws runs in dir: a relative bin is relative to the caller's directory.
	if bin, err = filepath.Abs(bin); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "goaws.yaml")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-config", file, "-loglevel", "warn", "Local")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if start == nil {
		start = (*exec.Cmd).Start
	}
	if err := start(cmd); err != nil {
		return nil, fmt.Errorf("esm: start goaws: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	// Ready when its own socket listens: a dial could reach another
	// process that took the port meanwhile.
	p, _ := strconv.Atoi(port)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		if ok, err := procnet.Listening(cmd.Process.Pid, p); err != nil || ok {
			if err != nil {
				_ = cmd.Process.Kill()
				return nil, err
			}
			return &Goaws{Endpoint: "http://" + addr, Cmd: cmd}, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("esm: goaws exited before it listened on %s", addr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	_ = cmd.Process.Kill()
	return nil, fmt.Errorf("esm: goaws did not listen on %s within 15s", addr)
}
