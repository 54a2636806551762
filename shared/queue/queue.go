// Package queue sends and receives the sync fan-out's tickets on Amazon SQS
// (or an SQS-compatible server speaking the JSON protocol, such as goaws in
// the tests).
package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Options locate the queue. An empty Endpoint means AWS; empty keys mean
// the default credential chain (a Lambda's role).
type Options struct {
	URL                    string // the queue URL (SYNC_QUEUE_URL)
	Endpoint               string // SQS_ENDPOINT
	Region                 string
	AccessKeyID, SecretKey string
	SessionToken           string
}

// SQS is one queue.
type SQS struct {
	Client *sqs.Client
	url    string
}

// New returns a client of the queue. It does no network I/O.
func New(ctx context.Context, o Options) (*SQS, error) {
	if o.URL == "" {
		return nil, errors.New("queue: SYNC_QUEUE_URL is not set")
	}
	loadOpts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(o.Region)}
	if o.AccessKeyID != "" {
		loadOpts = append(loadOpts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretKey, o.SessionToken)))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("queue aws config: %w", err)
	}
	client := sqs.NewFromConfig(cfg, func(so *sqs.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	return &SQS{Client: client, url: o.URL}, nil
}

// Send sends bodies, ten to a request (SendMessageBatch); it fails if any
// message was refused.
func (q *SQS) Send(ctx context.Context, bodies []string) error {
	for start := 0; start < len(bodies); start += 10 {
		chunk := bodies[start:min(start+10, len(bodies))]
		entries := make([]types.SendMessageBatchRequestEntry, len(chunk))
		for i, b := range chunk {
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(start + i)), MessageBody: aws.String(b)}
		}
		out, err := q.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if err != nil {
			return fmt.Errorf("queue: send %d messages: %w", len(chunk), err)
		}
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			return fmt.Errorf("queue: %d of %d messages refused: %s: %s", len(out.Failed), len(chunk),
				aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	return nil
}
