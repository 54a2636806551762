#!/usr/bin/env bash
# The end-to-end test on the AWS shape: `make dev-aws` (scripts/dev-aws.sh)
# on free ports, with its own data directory and database, driven by the web
# app's e2e script in headless Chromium: the SPA, the API, the hot tier and
# the cold tier on four origins, the sync function run by its API route and
# by EventBridge's scheduled event.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/e2e-lib.sh
data=$(mktemp -d)
db="hs_e2e_aws_$RANDOM$RANDOM"
export DATA_DIR=$data WEB_PORT=$(free_port) API_PORT=$(free_port) INVOKE_PORT=$(free_port) HOT_PORT=$(free_port) COLD_PORT=$(free_port)
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
export SYNC_TRIGGER_TOKEN=e2e-sync-trigger-token-$RANDOM$RANDOM

bash scripts/dev-aws.sh >"$data/dev-aws.log" 2>&1 &
dev=$!
trap stop EXIT

spa="http://localhost:$WEB_PORT" api="http://localhost:$API_PORT"
up() { curl -fs "$api/healthz" >/dev/null 2>&1 && curl -fs "$spa/" >/dev/null 2>&1; }
for _ in $(seq 600); do
	up && break
	kill -0 "$dev" 2>/dev/null || { cat "$data/dev-aws.log"; echo "e2e-aws: the stack did not start" >&2; exit 1; }
	sleep 0.5
done
up || { cat "$data/dev-aws.log"; echo "e2e-aws: the stack is not ready" >&2; exit 1; }
# The local binary's -set-quota gives the e2e user a quota (same database; DEV_MODE: no SECRET_KEY needed for it).
go build -o "$data/hybrid-storage" ./local
cd frontend
# Screenshots go to docs/screenshots (as aws-*.png) only when asked (E2E_SCREENSHOTS=docs).
shots=$data/screenshots
[[ ${E2E_SCREENSHOTS:-} == docs ]] && shots=$ROOT/docs/screenshots
status=0
SPA_URL=$spa API_URL=$api LAMBDA_INVOKE_URL="http://127.0.0.1:$INVOKE_PORT/2015-03-31/functions/sync/invocations" \
	SCREENSHOT_DIR=$shots SCREENSHOT_PREFIX=aws- E2E_KEEP_GOING=${E2E_KEEP_GOING:-1} SET_QUOTA_BIN=$data/hybrid-storage DEV_MODE=true node e2e/e2e.mjs || status=$?
if [[ $status -ne 0 ]]; then
	echo "e2e-aws: function logs (last lines):"
	for f in "$data"/logs/*.log; do echo "--- $(basename "$f")"; tail -n 8 "$f"; done
fi
exit $status
