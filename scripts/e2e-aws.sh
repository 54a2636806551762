#!/usr/bin/env bash
# The end-to-end test on the AWS shape: `make dev-aws` (scripts/dev-aws.sh)
# on free ports, with its own data directory and database, driven by the web
# app's e2e script in headless Chromium: the SPA with the API on its origin
# (/api/* as CloudFront serves it), the hot tier and the cold tier on their
# own origins, the sync function run by its API route, and
# the nightly chain (EventBridge's scheduled event to sync-dispatch, tickets
# through SQS, sync-worker invoked by the queue's event source mapping): a
# sync, an expired trash entry purged and an interrupted account deletion
# finished by it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/e2e-lib.sh
command -v psql >/dev/null || { echo "e2e-aws: psql not found (the nightly maintenance steps set rows by SQL): apt-get install -y postgresql-client" >&2; exit 1; }
data=$(mktemp -d)
db="hs_e2e_aws_$RANDOM$RANDOM"
export DATA_DIR=$data WEB_PORT=$(free_port) API_PORT=$(free_port) INVOKE_PORT=$(free_port) HOT_PORT=$(free_port) COLD_PORT=$(free_port) SQS_PORT=$(free_port)
export MAILPIT_SMTP_PORT=$(free_port) MAILPIT_PORT=$(free_port)
# Short access tokens, so the e2e sees refreshes (during a multipart upload too).
export ACCESS_TOKEN_EXPIRE_SECONDS=${E2E_ACCESS_TOKEN_SECONDS:-30}
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
# The nightly maintenance steps set rows by SQL (psql) and look for objects in each tier with its keys.
set -a; . "$data/secrets.env"; set +a
export E2E_DATABASE_URL=$DATABASE_URL
export E2E_HOT_TIER="http://$HOT_ACCESS_KEY:$HOT_SECRET_KEY@127.0.0.1:$HOT_PORT/${MINIO_BUCKET:-local-files}"
export E2E_COLD_TIER="http://$COLD_ACCESS_KEY:$COLD_SECRET_KEY@127.0.0.1:$COLD_PORT/${S3_BUCKET:-cloud-files}"
cd frontend
# The API is the SPA's origin (CloudFront's /api/* behavior, the stand-in's proxy): API_URL=$spa, as
# the browser calls it; E2E_GATEWAY_URL is API Gateway's own URL, which API clients keep using.
# Screenshots go to docs/screenshots (as aws-*.png) only when asked (E2E_SCREENSHOTS=docs).
shots=$data/screenshots
[[ ${E2E_SCREENSHOTS:-} == docs ]] && shots=$ROOT/docs/screenshots
status=0
SPA_URL=$spa API_URL=$spa E2E_GATEWAY_URL=$api E2E_MAIL_API="http://127.0.0.1:$MAILPIT_PORT" E2E_ACCESS_TOKEN_SECONDS=$ACCESS_TOKEN_EXPIRE_SECONDS LAMBDA_INVOKE_URL="http://127.0.0.1:$INVOKE_PORT/2015-03-31/functions/sync-dispatch/invocations" \
	SCREENSHOT_DIR=$shots SCREENSHOT_PREFIX=aws- E2E_KEEP_GOING=${E2E_KEEP_GOING:-1} SET_QUOTA_BIN=$data/hybrid-storage DEV_MODE=true node e2e/e2e.mjs || status=$?
if [[ $status -ne 0 ]]; then
	echo "e2e-aws: function logs (last lines):"
	for f in "$data"/logs/*.log; do echo "--- $(basename "$f")"; tail -n 8 "$f"; done
fi
exit $status
