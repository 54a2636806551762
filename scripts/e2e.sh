#!/usr/bin/env bash
# The end-to-end test: the real stack (as `make dev` starts it, on free ports,
# with its own data directory and database) driven by the web app's e2e
# script in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/e2e-lib.sh
data=$(mktemp -d)
db="hs_e2e_$RANDOM$RANDOM"
export DATA_DIR=$data PORT=$(free_port) MINIO_ENDPOINT=127.0.0.1:$(free_port)
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
export SYNC_TRIGGER_TOKEN=e2e-sync-trigger-token-$RANDOM$RANDOM
export CORS_ORIGINS="http://127.0.0.1:$PORT"
# mailpit (started by dev.sh) receives the password reset mail; the e2e reads it over E2E_MAIL_API.
export MAILPIT_SMTP_PORT=$(free_port) MAILPIT_PORT=$(free_port)
# Short access tokens, so the e2e sees refreshes (during a multipart upload too).
export ACCESS_TOKEN_EXPIRE_SECONDS=${E2E_ACCESS_TOKEN_SECONDS:-30}

bash scripts/dev.sh >"$data/dev.log" 2>&1 &
dev=$!
trap stop EXIT

base="http://127.0.0.1:$PORT"
for _ in $(seq 600); do
	curl -fs "$base/readyz" >/dev/null 2>&1 && break
	kill -0 "$dev" 2>/dev/null || { cat "$data/dev.log"; echo "e2e: the stack did not start" >&2; exit 1; }
	sleep 0.5
done
curl -fs "$base/readyz" >/dev/null || { cat "$data/dev.log"; echo "e2e: the stack is not ready" >&2; exit 1; }
# The local binary's -set-quota gives the e2e user a quota (DEV_MODE: no SECRET_KEY needed for it).
go build -o "$data/hybrid-storage" ./local
cd frontend
# Screenshots go to docs/screenshots only when asked (E2E_SCREENSHOTS=docs).
shots=$data/screenshots
[[ ${E2E_SCREENSHOTS:-} == docs ]] && shots=$ROOT/docs/screenshots
SPA_URL=$base API_URL=$base E2E_MAIL_API="http://127.0.0.1:$MAILPIT_PORT" E2E_ACCESS_TOKEN_SECONDS=$ACCESS_TOKEN_EXPIRE_SECONDS SCREENSHOT_DIR=$shots SET_QUOTA_BIN=$data/hybrid-storage DEV_MODE=true node e2e/e2e.mjs
