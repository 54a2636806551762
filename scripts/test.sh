#!/usr/bin/env bash
# Runs every test: Go unit and integration tests against a real PostgreSQL
# and a real S3 server (started here), Lambda functions through the adapter
# and the Runtime Interface Emulator, short fuzz runs, and the web app's
# tests when frontend/ exists. The API integration tests run twice: against
# the local server, and against the Lambda functions (HTTPAPI_MODE=lambda). Prints a final "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/.bin:$PATH"
export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}

work=$(mktemp -d)
cleanup() { [[ -n ${S3_PID:-} ]] && kill "$S3_PID" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# One S3 server for the whole run; each test makes its own buckets.
port=$((20000 + RANDOM % 12000))
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((20000 + RANDOM % 12000)); done
ROOT_ACCESS_KEY=minioadmin ROOT_SECRET_KEY=minioadmin "$ROOT/.bin/versitygw" --port "127.0.0.1:$port" posix "$work" >"$work.s3.log" 2>&1 &
S3_PID=$!
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
export TEST_S3_ENDPOINT="127.0.0.1:$port"

passed=0 failed=0
step() { # step NAME CMD...: run one suite and count it
	local name=$1; shift
	echo "=== $name: $*"
	if "$@"; then passed=$((passed+1)); echo "--- $name: ok"; else failed=$((failed+1)); echo "--- $name: FAILED"; fi
}

step "lint (gofmt, vet, staticcheck, mod tidy)" make --no-print-directory lint
step "go test" go test -count=1 -timeout 20m ./...
# The API integration tests again, through a local API Gateway in front of
# every function's real bootstrap under the Lambda Runtime Interface Emulator.
step "httpapi on Lambda (RIE)" env HTTPAPI_MODE=lambda go test -count=1 -timeout 20m ./shared/httpapi/
# Budgets are counts of executions (about 10 s each on an idle 2-core
# machine), not durations: with a duration, Go 1.26's fuzz coordinator can
# report its own deadline as a failure ("context deadline exceeded", no
# failing input) when the machine is busy at the end (go.dev/issue/75804,
# fixed in Go 1.27); it did in CI here on 2026-12-02.
for target in "./shared/core FuzzSanitizeFilename 250000" "./shared/storage FuzzContentDisposition 60000" "./shared/auth FuzzParseToken 200000" "./shared/postgres FuzzDecodeCursor 100000" "./shared/httpapi FuzzPlanRanges 70000"; do
	set -- $target
	step "fuzz $2" go test -run '^$' -fuzz "^$2\$" -fuzztime="${3}x" -timeout 10m "$1"
done
if [[ -f frontend/package.json ]]; then
	step "web unit tests" bash -c 'cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm test'
fi
if [[ -f frontend/e2e/e2e.mjs ]]; then
	step "web end-to-end, same origin (headless Chromium, make dev's stack)" bash scripts/e2e.sh
	# The deployed shape: SPA, API Gateway + Lambda, hot and cold tiers on four origins.
	step "web end-to-end, AWS shape (headless Chromium, make dev-aws's stack)" bash scripts/e2e-aws.sh
fi
if [[ -f infra/go.mod ]]; then
	step "infra tests" bash -c 'cd infra && go test -count=1 ./...'
fi
# The compose stack for real: both images built, docker-compose.yml up, API
# checks, browser e2e, sync, restart, prod overrides, down -v (Docker, or
# podman with stand-in images). CI installs podman (.ci/run) and sets
# REQUIRE_COMPOSE_E2E=1 so that a missing engine fails instead of skipping.
if docker info >/dev/null 2>&1 || command -v podman >/dev/null; then
	step "compose end-to-end (make test-compose)" make --no-print-directory test-compose
elif [[ -n ${REQUIRE_COMPOSE_E2E:-} ]]; then
	step "compose end-to-end (make test-compose)" bash -c 'echo "no container engine: apt-get install -y podman runc mmdebstrap" >&2; exit 1'
else
	echo "=== SKIP compose end-to-end: no Docker engine and no podman (apt-get install -y podman runc mmdebstrap)"
fi

echo
echo "suites: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
