# The two commands: `make dev` brings the product up, `make test` runs every test.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/.bin
FUNCTIONS := $(notdir $(wildcard functions/*))
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

.PHONY: dev dev-aws sync-aws test test-compose test-go test-web fuzz lint build lambdas tools web migrate sync clean bench

## dev: build what is missing and run API + web app + S3 server + database on :8000
dev: tools
	@bash scripts/dev.sh

## dev-aws: the deployed (CDK) shape on this machine: SPA on :8080, API Gateway + Lambda (RIE) on :8000, hot and cold tiers on :9000 and :9100, SQS on :9324
dev-aws: tools
	@bash scripts/dev-aws.sh

## sync-aws: post EventBridge's nightly event to sync-dispatch of make dev-aws (Lambda Invoke API on INVOKE_PORT), as the rule does
sync-aws:
	@curl -fsS -H 'Content-Type: application/json' --data-binary @shared/lambdafn/testdata/eventbridge-scheduled-event.json \
		http://127.0.0.1:$${INVOKE_PORT:-8001}/2015-03-31/functions/sync-dispatch/invocations; echo

## test: every test (Go unit + integration on real Postgres and S3, Lambda, fuzz, web app)
test: tools
	@bash scripts/test.sh

## test-compose: build the images, run docker-compose.yml (then with the prod overrides) and test it end to end (Docker, or podman with stand-in images)
test-compose:
	@bash scripts/e2e-compose.sh

## tools: pinned helper binaries in .bin (S3 server, Lambda runtime emulator, SQS server, mail server)
tools: $(BIN)/versitygw $(BIN)/aws-lambda-rie $(BIN)/goaws $(BIN)/mailpit

$(BIN)/versitygw: tools/go.mod
	@echo "building versitygw (pinned in tools/go.mod; about a minute the first time)"
	cd tools && GOBIN=$(BIN) $(GO) install github.com/versity/versitygw/cmd/versitygw
	@touch $@

$(BIN)/aws-lambda-rie: tools/go.mod
	cd tools && GOBIN=$(BIN) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
	@touch $@

# docker compose v2 from its Go module (test-compose on a machine with podman
# and no Docker: it drives podman's Docker-compatible API); about 3 minutes.
$(BIN)/docker-compose: tools/go.mod
	@echo "building docker compose (pinned in tools/go.mod; about 3 minutes the first time)"
	cd tools && $(GO) build -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$$($(GO) list -m -f '{{.Version}}' github.com/docker/compose/v2)" \
		-o $(BIN)/docker-compose github.com/docker/compose/v2/cmd

# mailpit: the SMTP server (with an HTTP API to read what arrived) of make dev, make dev-aws, the
# e2e and the tests' password reset mail.
$(BIN)/mailpit: tools/mailpit/go.mod
	@echo "building mailpit (pinned in tools/mailpit/go.mod, a module of its own so that its dependencies do not move the other tools'; about two minutes the first time)"
	cd tools/mailpit && GOBIN=$(BIN) $(GO) install github.com/axllent/mailpit
	@touch $@

# goaws (SQS, JSON protocol): the ticket queue of make dev-aws and of the tests; tools/goaws is
# goaws's server bound to 127.0.0.1 (goaws's own command listens on every interface).
$(BIN)/goaws: tools/go.mod tools/goaws/main.go
	cd tools && $(GO) build -o $(BIN)/goaws ./goaws

## bench: throughput, memory, latency and Lambda figures (bench/README.md)
bench: tools
	@bash bench/run.sh

## build: the local server binary
build:
	$(GO) build -o $(BIN)/hybrid-storage ./local

## lambdas: every function as dist/<name>/bootstrap (linux/arm64)
lambdas:
	@for f in $(FUNCTIONS); do \
		echo "lambda $$f"; \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o dist/$$f/bootstrap ./functions/$$f || exit 1; \
	done

## web: build the SPA into frontend/dist
web:
	cd frontend && npm ci --no-audit --no-fund && npm run build

## migrate: apply database migrations (DATABASE_URL)
migrate:
	$(GO) run ./local -migrate-only

## sync: run the sync job once against the `make dev` stack (scripts/dev.sh's defaults) and print its report
sync:
	@set -a; DEV_MODE=$${DEV_MODE:-true}; MINIO_ENDPOINT=$${MINIO_ENDPOINT:-127.0.0.1:9000}; \
	MINIO_ACCESS_KEY=$${MINIO_ACCESS_KEY:-minioadmin}; MINIO_SECRET_KEY=$${MINIO_SECRET_KEY:-minioadmin}; \
	if [[ -z $${AWS_ACCESS_KEY_ID:-} && -z $${S3_ENDPOINT+x} ]]; then \
		S3_ENDPOINT=http://$$MINIO_ENDPOINT; AWS_ACCESS_KEY_ID=$$MINIO_ACCESS_KEY; AWS_SECRET_ACCESS_KEY=$$MINIO_SECRET_KEY; fi; \
	if [[ -z $${DATABASE_URL:-} ]] && ! (echo >/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
		DATABASE_URL="postgres://postgres@127.0.0.1:55432/hybrid_storage?sslmode=disable"; fi; \
	set +a; $(GO) run ./local -sync-once

## lint: gofmt, go vet, staticcheck, go mod tidy check
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	$(GO) mod tidy -diff

clean:
	rm -rf dist $(BIN)/hybrid-storage

# synth, deploy, deploy-web, destroy, infra-test (Go CDK; see docs/deploy.md)
include infra/Makefile.inc
