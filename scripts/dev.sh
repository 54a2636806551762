#!/usr/bin/env bash
# make dev: bring the whole product up on this machine without Docker.
#   - an S3-compatible server (versitygw, pinned in tools/go.mod) on 127.0.0.1:9000
#     holding the hot bucket and, standing in for AWS, the cold bucket; data in .data/s3
#   - PostgreSQL: DATABASE_URL, or postgres://postgres@127.0.0.1:5432/hybrid_storage
#     (created if missing); if nothing answers there but PostgreSQL is installed,
#     a private cluster in .data/pg on port 55432
#   - a mail server for password reset links (mailpit, pinned in tools/go.mod): SMTP on
#     127.0.0.1:1025 (MAILPIT_SMTP_PORT), the mails at http://localhost:8025 (MAILPIT_PORT,
#     also its HTTP API); not started when SMTP_URL is set
#   - the web app (built into frontend/dist when its sources changed)
#   - the local server on :8000 (PORT): API + web app + midnight sync scheduler
# Ctrl-C stops everything this script started. Data survives restarts.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA=${DATA_DIR:-$ROOT/.data}
mkdir -p "$DATA/s3"

pids=()
pg_started=""
cleanup() {
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [[ -n $pg_started ]]; then
		runuser -u postgres -- "$pg_started/pg_ctl" -D "$DATA/pg" -m fast stop >/dev/null 2>&1 || true
	fi
	echo "dev: stopped"
}
trap cleanup EXIT INT TERM

say() { echo "dev: $*"; }
die() { echo "dev: $*" >&2; exit 1; }
listening() { (echo >"/dev/tcp/$1/$2") 2>/dev/null; }

# --- S3-compatible server -------------------------------------------------
export MINIO_ENDPOINT=${MINIO_ENDPOINT:-127.0.0.1:9000}
export MINIO_ACCESS_KEY=${MINIO_ACCESS_KEY:-minioadmin}
export MINIO_SECRET_KEY=${MINIO_SECRET_KEY:-minioadmin}
s3_host=${MINIO_ENDPOINT%:*} s3_port=${MINIO_ENDPOINT##*:}
if listening "$s3_host" "$s3_port"; then
	say "using the S3 server already at $MINIO_ENDPOINT"
else
	[[ -x .bin/versitygw ]] || die "no .bin/versitygw: run 'make tools' (make dev does it for you)"
	ROOT_ACCESS_KEY=$MINIO_ACCESS_KEY ROOT_SECRET_KEY=$MINIO_SECRET_KEY \
		.bin/versitygw --port "$MINIO_ENDPOINT" posix "$DATA/s3" >"$DATA/s3.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do listening "$s3_host" "$s3_port" && break; sleep 0.1; done
	listening "$s3_host" "$s3_port" || die "the S3 server did not start; see $DATA/s3.log"
	say "S3 server on $MINIO_ENDPOINT (data in $DATA/s3)"
fi
# Without AWS settings the cold tier is a second bucket on the same server.
if [[ -z ${AWS_ACCESS_KEY_ID:-} && -z ${S3_ENDPOINT+x} ]]; then
	export S3_ENDPOINT="http://$MINIO_ENDPOINT" AWS_ACCESS_KEY_ID=$MINIO_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$MINIO_SECRET_KEY
	say "cold tier: bucket ${S3_BUCKET:-cloud-files} on the same server (set AWS_* and S3_BUCKET for real S3)"
fi

# --- mail (password reset links) ----------------------------------------------
if [[ -z ${SMTP_URL:-} ]]; then
	MAILPIT_SMTP_PORT=${MAILPIT_SMTP_PORT:-1025} MAILPIT_PORT=${MAILPIT_PORT:-8025}
	if listening 127.0.0.1 "$MAILPIT_SMTP_PORT"; then
		say "using the mail server already at 127.0.0.1:$MAILPIT_SMTP_PORT"
	else
		[[ -x .bin/mailpit ]] || die "no .bin/mailpit: run 'make tools' (make dev does it for you)"
		.bin/mailpit --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" --listen "127.0.0.1:$MAILPIT_PORT" --smtp-auth-accept-any \
			--smtp-auth-allow-insecure --disable-version-check --quiet >"$DATA/mail.log" 2>&1 &
		pids+=($!)
		for _ in $(seq 100); do listening 127.0.0.1 "$MAILPIT_SMTP_PORT" && listening 127.0.0.1 "$MAILPIT_PORT" && break; sleep 0.1; done
		listening 127.0.0.1 "$MAILPIT_SMTP_PORT" || die "the mail server did not start; see $DATA/mail.log"
		say "mail server: SMTP 127.0.0.1:$MAILPIT_SMTP_PORT, mails at http://localhost:$MAILPIT_PORT"
	fi
	export SMTP_URL="smtp://127.0.0.1:$MAILPIT_SMTP_PORT"
fi

# --- PostgreSQL --------------------------------------------------------------
if [[ -z ${DATABASE_URL:-} ]]; then
	if listening 127.0.0.1 5432; then
		export DATABASE_URL="postgres://postgres@127.0.0.1:5432/hybrid_storage?sslmode=disable"
	else
		pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
		[[ -n $pgbin && -x $pgbin/initdb ]] || die "no PostgreSQL at 127.0.0.1:5432 and none installed: start one, set DATABASE_URL, or 'apt-get install postgresql'"
		if [[ ! -f $DATA/pg/PG_VERSION ]]; then
			mkdir -p "$DATA/pg" && chown postgres "$DATA/pg"
			runuser -u postgres -- "$pgbin/initdb" -D "$DATA/pg" -U postgres --auth=trust >/dev/null
		fi
		mkdir -p "$DATA/pg-sock" && chown postgres "$DATA/pg-sock"
		runuser -u postgres -- "$pgbin/pg_ctl" -D "$DATA/pg" -l "$DATA/pg.log" \
			-o "-p 55432 -k $DATA/pg-sock -c listen_addresses=127.0.0.1" -w start >/dev/null
		pg_started=$pgbin
		export DATABASE_URL="postgres://postgres@127.0.0.1:55432/hybrid_storage?sslmode=disable"
		say "started a private PostgreSQL in $DATA/pg on port 55432"
	fi
fi

# --- web app -------------------------------------------------------------------
if [[ -f frontend/package.json ]]; then
	if ! command -v npm >/dev/null; then
		say "npm not found: serving the API only (install Node.js 20 for the web app)"
	elif [[ ! -f frontend/dist/index.html || -n $(find frontend/src frontend/index.html frontend/package.json -newer frontend/dist/index.html -print -quit 2>/dev/null) ]]; then
		say "building the web app"
		(cd frontend && { [[ -d node_modules ]] || npm ci --no-audit --no-fund --loglevel=error; } && npm run build --silent) || die "web app build failed (see above)"
	fi
fi

# --- the server ------------------------------------------------------------------
export DEV_MODE=${DEV_MODE:-true}
export SYNC_TRIGGER_TOKEN=${SYNC_TRIGGER_TOKEN:-dev-sync-trigger-token}
export PORT=${PORT:-8000}
go build -o .bin/hybrid-storage ./local
say "http://localhost:$PORT  (API under /api; Ctrl-C stops everything)"
.bin/hybrid-storage -create-db &
pids+=($!)
wait "${pids[-1]}"
