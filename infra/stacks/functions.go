// Package stacks defines the AWS deployment of hybrid-storage as CDK
// constructs: the stateful resources (cold-tier bucket, secrets, optional
// database), the HTTP API with one Lambda function per entry of the
// function table (shared/httpapi/functions.go), the nightly sync schedule,
// and the SPA behind CloudFront.
//
// Nothing here reads the environment or CDK context: infra/main.go does and
// passes everything in as props, so tests can build the stacks from fixtures.
package stacks

import (
	"fmt"
	"strconv"

	"github.com/hybrid-storage/hybrid-storage/shared/config"
	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
)

// Settings are the deploy's settings (hosted.Params) by config variable,
// e.g. "MAX_FILE_SIZE_MB": "250"; a missing one takes the deployed shape's
// default (hosted.Param.DefaultValue, config's unless hosted says).
type Settings map[string]string

// Get is the value of the config variable name.
func (s Settings) Get(name string) string {
	if v, ok := s[name]; ok {
		return v
	}
	for _, p := range hosted.Params {
		if p.Var == name {
			return p.DefaultValue()
		}
	}
	return ""
}

// Check refuses a setting config.Load would refuse at cold start, naming
// its CDK context key.
func (s Settings) Check() error {
	for _, p := range hosted.Params {
		v := s.Get(p.Var)
		if v == "" && (p.Required || p.DefaultValue() == "") {
			continue // required ones are warned about by main; optional ones may be empty
		}
		if err := config.Check(p.Var, v); err != nil {
			return fmt.Errorf("context %s: %w", p.ContextKey(), err)
		}
	}
	for name := range s {
		if !isParam(name) {
			return fmt.Errorf("setting %s is not one of hosted.Params", name)
		}
	}
	return nil
}

func isParam(name string) bool {
	for _, p := range hosted.Params {
		if p.Var == name {
			return true
		}
	}
	return false
}

// MinioPublic is the hot tier's endpoint for browsers: MINIO_PUBLIC_ENDPOINT,
// or MINIO_ENDPOINT when it is empty.
func (s Settings) MinioPublic() string {
	if v := s.Get("MINIO_PUBLIC_ENDPOINT"); v != "" {
		return v
	}
	return s.Get("MINIO_ENDPOINT")
}

// MinioSecure reports whether the hot tier is reached over TLS.
func (s Settings) MinioSecure() bool {
	b, _ := strconv.ParseBool(s.Get("MINIO_SECURE"))
	return b
}

// SyncWorkers is the ticket queue's MaximumConcurrency (SYNC_WORKERS).
func (s Settings) SyncWorkers() int {
	n, _ := strconv.Atoi(s.Get("SYNC_WORKERS"))
	return n
}
