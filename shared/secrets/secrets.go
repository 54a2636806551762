// Package secrets fills configuration values from AWS Secrets Manager on
// Lambda. The deployment passes secret ARNs (SECRET_KEY_SECRET_ARN, ...)
// instead of the values; Overlay fetches each once at cold start and
// returns a getenv that answers the plain variables from them, for
// config.Load.
package secrets

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Fetcher returns a secret's string value.
type Fetcher interface {
	Fetch(ctx context.Context, arn string) (string, error)
}

// secretVars maps each *_SECRET_ARN variable to how its value becomes
// plain variables.
var secretVars = []struct {
	arnVar string
	expand func(value string) (map[string]string, error)
}{
	{"SECRET_KEY_SECRET_ARN", plain("SECRET_KEY")},
	{"SYNC_TRIGGER_TOKEN_SECRET_ARN", plain("SYNC_TRIGGER_TOKEN")},
	{"SMTP_URL_SECRET_ARN", smtpURL},
	{"DATABASE_URL_SECRET_ARN", databaseURL},
	{"MINIO_CREDENTIALS_SECRET_ARN", minioCredentials},
}

// Overlay returns getenv with the values of every *_SECRET_ARN variable
// that is set fetched through f. With none set it returns getenv itself
// and makes no call. Errors name the variable.
func Overlay(ctx context.Context, getenv func(string) string, f Fetcher) (func(string) string, error) {
	values := map[string]string{}
	for _, sv := range secretVars {
		arn := getenv(sv.arnVar)
		if arn == "" {
			continue
		}
		if f == nil {
			var err error
			if f, err = NewSecretsManager(ctx); err != nil {
				return nil, err
			}
		}
		raw, err := f.Fetch(ctx, arn)
		if err != nil {
			return nil, fmt.Errorf("secrets: %s: %w", sv.arnVar, err)
		}
		vals, err := sv.expand(raw)
		if err != nil {
			return nil, fmt.Errorf("secrets: %s: %w", sv.arnVar, err)
		}
		for k, v := range vals {
			values[k] = v
		}
	}
	if len(values) == 0 {
		return getenv, nil
	}
	return func(k string) string {
		if v, ok := values[k]; ok {
			return v
		}
		return getenv(k)
	}, nil
}

func plain(name string) func(string) (map[string]string, error) {
	return func(v string) (map[string]string, error) {
		if v == "" {
			return nil, fmt.Errorf("secret is empty")
		}
		return map[string]string{name: v}, nil
	}
}

// smtpURL accepts the URL as it is, or JSON {"url": "..."} (the
// placeholder the stateful stack creates: {"url": "none"}, no mail).
func smtpURL(v string) (map[string]string, error) {
	if !strings.HasPrefix(strings.TrimSpace(v), "{") {
		return plain("SMTP_URL")(v)
	}
	var j struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal([]byte(v), &j); err != nil || j.URL == "" {
		return nil, fmt.Errorf(`secret is neither an smtp:// URL nor JSON {"url": "smtp://..."}`)
	}
	return map[string]string{"SMTP_URL": j.URL}, nil
}

// databaseURL accepts a postgres:// URL or the JSON that RDS stores
// ({"host","port","username","password","dbname"}).
func databaseURL(v string) (map[string]string, error) {
	if u, err := url.Parse(v); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return map[string]string{"DATABASE_URL": v}, nil
	}
	var rds struct {
		Host     string `json:"host"`
		Port     any    `json:"port"`
		Username string `json:"username"`
		Password string `json:"password"`
		DBName   string `json:"dbname"`
	}
	if err := json.Unmarshal([]byte(v), &rds); err != nil || rds.Host == "" || rds.Username == "" {
		return nil, fmt.Errorf("secret is neither a postgres:// URL nor RDS JSON with host and username")
	}
	port := "5432"
	switch p := rds.Port.(type) {
	case float64:
		port = strconv.Itoa(int(p))
	case string:
		if p != "" {
			port = p
		}
	}
	if rds.DBName == "" {
		rds.DBName = "hybrid_storage"
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(rds.Username, rds.Password), Host: rds.Host + ":" + port, Path: "/" + rds.DBName, RawQuery: "sslmode=require"}
	return map[string]string{"DATABASE_URL": u.String()}, nil
}

func minioCredentials(v string) (map[string]string, error) {
	var c struct {
		AccessKey string `json:"accessKey"`
		SecretKey string `json:"secretKey"`
	}
	if err := json.Unmarshal([]byte(v), &c); err != nil || c.AccessKey == "" || c.SecretKey == "" {
		return nil, fmt.Errorf(`secret must be JSON {"accessKey": "...", "secretKey": "..."}`)
	}
	return map[string]string{"MINIO_ACCESS_KEY": c.AccessKey, "MINIO_SECRET_KEY": c.SecretKey}, nil
}

// SecretsManager fetches from AWS Secrets Manager with the default
// credential chain (the function's role).
type SecretsManager struct{ client *secretsmanager.Client }

// NewSecretsManager returns a Fetcher for AWS Secrets Manager.
func NewSecretsManager(ctx context.Context) (*SecretsManager, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("secrets: aws config: %w", err)
	}
	return &SecretsManager{client: secretsmanager.NewFromConfig(cfg)}, nil
}

// Fetch returns the secret's current string value.
func (s *SecretsManager) Fetch(ctx context.Context, arn string) (string, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("get secret value: %w", err)
	}
	return aws.ToString(out.SecretString), nil
}
