#!/usr/bin/env bash
# make bench: builds the local server, the Lambda functions and the bench
# program, starts a private S3 server (versitygw from .bin, on a free
# 127.0.0.1 port, data in a temporary directory) and runs every scenario
# against it and PostgreSQL at 127.0.0.1:5432 (a database of its own,
# dropped at the end). Prints one line per figure, then a summary.
# Pass scenario names to run only those: bash bench/run.sh transfer,list
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_DB_URL=${BENCH_DB_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}

[[ -x .bin/versitygw && -x .bin/aws-lambda-rie ]] || make tools
work=$(mktemp -d "${TMPDIR:-/tmp}/hs-bench.XXXXXX")
cleanup() {
	[[ -n ${S3_PID:-} ]] && kill "$S3_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
	[[ -n ${s3dir:-} && $s3dir == /dev/shm/hs-bench-s3.* ]] && rm -rf "$s3dir"
	return 0
}
trap cleanup EXIT

echo "building server, bench, Lambda functions"
go build -o "$work/server" ./local
go build -o "$work/bench" ./bench
make -s lambdas >/dev/null
GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o "$work/lambda/bootstrap" ./functions/healthz

port=$((20000 + RANDOM % 12000))
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((20000 + RANDOM % 12000)); done
# Objects live in memory (tmpfs) when there is room, so that the figures
# measure the code and not this machine's disk; otherwise in the temp dir.
s3dir="$work/s3"
if [[ -d /dev/shm && -w /dev/shm ]] && (( $(df --output=avail -k /dev/shm | tail -1) > 8 * 1024 * 1024 )); then
	s3dir=$(mktemp -d /dev/shm/hs-bench-s3.XXXXXX)
fi
mkdir -p "$s3dir"
# versitygw closes every connection after its answer unless told to keep
# them (real S3 and MinIO keep them): BENCH_S3_KEEPALIVE=1 passes --keep-alive.
keepalive=()
[[ ${BENCH_S3_KEEPALIVE:-} == 1 ]] && keepalive=(--keep-alive)
ROOT_ACCESS_KEY=minioadmin ROOT_SECRET_KEY=minioadmin "$ROOT/.bin/versitygw" "${keepalive[@]}" --port "127.0.0.1:$port" posix "$s3dir" >"$work/s3.log" 2>&1 &
S3_PID=$!
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

echo "S3 data in $s3dir${keepalive:+, keep-alive on}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpu: $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed "s/^ //"); flags: $(grep -m1 "^flags" /proc/cpuinfo | grep -oE "\b(sha_ni|avx2|avx512f|aes|pclmulqdq|vpclmulqdq)\b" | tr "\n" " ")"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3)"
"$work/bench" -s3 "127.0.0.1:$port" -server "$work/server" -work "$work" \
	-rie "$ROOT/.bin/aws-lambda-rie" -bootstrap "$work/lambda/bootstrap" -dist "$ROOT/dist" \
	-db "$BENCH_DB_URL" -s3pid "$S3_PID" ${1:+-only "$1"}
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
