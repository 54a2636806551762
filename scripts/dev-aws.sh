#!/usr/bin/env bash
# make dev-aws: the product as `cdk deploy` builds it, on this machine,
# without Docker or AWS (local/devaws explains each part):
#   http://localhost:8080  the SPA (CloudFront), same origin as the API: /api/* proxied to :8000
#   http://localhost:8000  the API (API Gateway -> one Lambda bootstrap per function, under the RIE)
#   http://localhost:8025  the mail server's mails and HTTP API (mailpit; SMTP on 127.0.0.1:1025),
#                          the SMTP_URL secret of the functions
#   http://localhost:9000  the hot tier (your MinIO): versitygw, data in .data-aws/hot
#   http://localhost:9100  the cold tier (S3): a second versitygw, data in .data-aws/cold
#   127.0.0.1:8001         Lambda's Invoke API (make sync-aws: EventBridge's nightly event to sync-dispatch)
#   127.0.0.1:9324         SQS (goaws): the ticket queue and its dead-letter queue; the queue's
#                          event source mapping invokes sync-worker
#   PostgreSQL             DATABASE_URL, or database hybrid_storage_aws at 127.0.0.1:5432
# Ports: WEB_PORT, API_PORT, INVOKE_PORT, HOT_PORT, COLD_PORT, SQS_PORT, MAILPIT_SMTP_PORT, MAILPIT_PORT. Data in
# DATA_DIR (default .data-aws). Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA=${DATA_DIR:-$ROOT/.data-aws}
WEB_PORT=${WEB_PORT:-8080} API_PORT=${API_PORT:-8000} INVOKE_PORT=${INVOKE_PORT:-8001}
HOT_PORT=${HOT_PORT:-9000} COLD_PORT=${COLD_PORT:-9100} SQS_PORT=${SQS_PORT:-9324}
MAILPIT_SMTP_PORT=${MAILPIT_SMTP_PORT:-1025} MAILPIT_PORT=${MAILPIT_PORT:-8025}
mkdir -p "$DATA/hot" "$DATA/cold" "$DATA/logs"

pids=()
cleanup() {
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo "dev-aws: stopped"
}
trap cleanup EXIT INT TERM
say() { echo "dev-aws: $*"; }
die() { echo "dev-aws: $*" >&2; exit 1; }
listening() { (echo >"/dev/tcp/$1/$2") 2>/dev/null; }

for p in "$WEB_PORT" "$API_PORT" "$INVOKE_PORT" "$HOT_PORT" "$COLD_PORT" "$SQS_PORT" "$MAILPIT_SMTP_PORT" "$MAILPIT_PORT"; do
	listening 127.0.0.1 "$p" && die "port $p is in use (make dev running? set WEB_PORT, API_PORT, INVOKE_PORT, HOT_PORT, COLD_PORT, SQS_PORT, MAILPIT_SMTP_PORT, MAILPIT_PORT)"
done
[[ -x .bin/versitygw && -x .bin/aws-lambda-rie && -x .bin/goaws && -x .bin/mailpit ]] || die "run 'make tools' first (make dev-aws does it for you)"

# --- what the deploy is given: secrets (Secrets Manager) and the tiers' keys.
# Generated once, kept in $DATA/secrets.env; not the dev defaults, because
# the functions run as on AWS (DEV_MODE unset).
if [[ ! -f $DATA/secrets.env ]]; then
	rnd() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
	umask 077
	cat >"$DATA/secrets.env" <<EOF
SECRET_KEY=$(rnd 32)
SYNC_TRIGGER_TOKEN=${SYNC_TRIGGER_TOKEN:-$(rnd 24)}
HOT_ACCESS_KEY=hot$(rnd 6)
HOT_SECRET_KEY=$(rnd 20)
COLD_ACCESS_KEY=cold$(rnd 6)
COLD_SECRET_KEY=$(rnd 20)
EOF
fi
set -a; . "$DATA/secrets.env"; set +a

# --- the two tiers: two S3 servers, two origins ------------------------------
start_s3() { # name port access secret
	ROOT_ACCESS_KEY=$3 ROOT_SECRET_KEY=$4 .bin/versitygw --port "127.0.0.1:$2" posix "$DATA/$1" >"$DATA/logs/$1-s3.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do listening 127.0.0.1 "$2" && return; sleep 0.1; done
	die "the $1 S3 server did not start; see $DATA/logs/$1-s3.log"
}
start_s3 hot "$HOT_PORT" "$HOT_ACCESS_KEY" "$HOT_SECRET_KEY"
start_s3 cold "$COLD_PORT" "$COLD_ACCESS_KEY" "$COLD_SECRET_KEY"

# --- the mail server (SES's SMTP interface on AWS): the SMTP_URL secret ---------
.bin/mailpit --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" --listen "127.0.0.1:$MAILPIT_PORT" --smtp-auth-accept-any \
	--smtp-auth-allow-insecure --disable-version-check --quiet >"$DATA/logs/mail.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do listening 127.0.0.1 "$MAILPIT_SMTP_PORT" && listening 127.0.0.1 "$MAILPIT_PORT" && break; sleep 0.1; done
listening 127.0.0.1 "$MAILPIT_SMTP_PORT" || die "the mail server did not start; see $DATA/logs/mail.log"
export SMTP_URL="smtp://dev-aws:any-password@127.0.0.1:$MAILPIT_SMTP_PORT"

# --- PostgreSQL (as scripts/dev.sh: here, or a private cluster) -------------------
if [[ -z ${DATABASE_URL:-} ]]; then
	if listening 127.0.0.1 5432; then
		export DATABASE_URL="postgres://postgres@127.0.0.1:5432/hybrid_storage_aws?sslmode=disable"
	else
		pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
		[[ -n $pgbin && -x $pgbin/initdb ]] || die "no PostgreSQL at 127.0.0.1:5432 and none installed: start one or set DATABASE_URL"
		if [[ ! -f $DATA/pg/PG_VERSION ]]; then
			mkdir -p "$DATA/pg" && chown postgres "$DATA/pg"
			runuser -u postgres -- "$pgbin/initdb" -D "$DATA/pg" -U postgres --auth=trust >/dev/null
		fi
		mkdir -p "$DATA/pg-sock" && chown postgres "$DATA/pg-sock"
		runuser -u postgres -- "$pgbin/pg_ctl" -D "$DATA/pg" -l "$DATA/logs/pg.log" \
			-o "-p 55433 -k $DATA/pg-sock -c listen_addresses=127.0.0.1" -w start >/dev/null
		trap 'runuser -u postgres -- "$pgbin/pg_ctl" -D "$DATA/pg" -m fast stop >/dev/null 2>&1 || true; cleanup' EXIT INT TERM
		export DATABASE_URL="postgres://postgres@127.0.0.1:55433/hybrid_storage_aws?sslmode=disable"
	fi
fi

# --- the SPA, built as make deploy builds it: the API on its own origin (/api/*) --
api_origin="same-origin"
dist=frontend/dist-aws
command -v npm >/dev/null || die "npm not found: install Node.js 20"
if [[ ! -f $dist/index.html || $(cat "$dist/.api-origin" 2>/dev/null) != "$api_origin" ||
	-n $(find frontend/src frontend/index.html frontend/package.json -newer "$dist/index.html" -print -quit 2>/dev/null) ]]; then
	say "building the SPA (API on its own origin)"
	(cd frontend && { [[ -d node_modules ]] || npm ci --no-audit --no-fund --loglevel=error; } &&
		VITE_API_BASE_URL= npx vite build --outDir dist-aws --emptyOutDir --logLevel warn) || die "SPA build failed"
	echo "$api_origin" >"$dist/.api-origin"
fi

# --- every function's bootstrap (linux/amd64 here; arm64 on AWS) ----------------
say "building the functions"
GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o "$DATA/functions/" ./functions/...
go build -o .bin/devaws ./local/devaws

export DATABASE_URL
.bin/devaws -web "127.0.0.1:$WEB_PORT" -api "127.0.0.1:$API_PORT" -invoke "127.0.0.1:$INVOKE_PORT" \
	-hot "127.0.0.1:$HOT_PORT" -cold "127.0.0.1:$COLD_PORT" -sqs "127.0.0.1:$SQS_PORT" \
	-web-dir "$dist" -functions "$DATA/functions" -rie .bin/aws-lambda-rie -goaws .bin/goaws &
pids+=($!)
say "open http://localhost:$WEB_PORT (mails: http://localhost:$MAILPIT_PORT; sync token: SYNC_TRIGGER_TOKEN in $DATA/secrets.env; Ctrl-C stops everything)"
wait "${pids[-1]}"
