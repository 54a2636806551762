#!/usr/bin/env bash
# The compose end-to-end test (make test-compose): builds the two images from
# local/Dockerfile and frontend/Dockerfile, brings docker-compose.yml up with a
# test .env made from .env.example (free ports; the cold tier a second bucket
# of the stack's S3 server), waits for every healthcheck, then:
#   1. the API checks (deploy/stack_test.go) through nginx and through the
#      backend's published port;
#   2. the browser e2e (frontend/e2e/e2e.mjs, headless Chromium) against the
#      nginx origin, quota step through the image's own binary;
#   3. a sync run (POST /api/sync/run): every file in the cold tier;
#   4. a restart of the backend container: the data is still there;
#   5. docker-compose.prod.yml applied to the running stack (every container
#      recreated, the volumes kept): merged model checked (limits, restart
#      policies, no published database or backend port), the new containers
#      carry them, the data is still there;
#   6. `down -v`: nothing of the run is left.
#
# Engine: Docker when `docker info` answers (the real images are pulled; its
# own `docker compose`). Otherwise podman (apt-get install podman runc
# mmdebstrap): deploy/standins.sh builds stand-ins for the public images,
# `podman system service` serves the Docker API on a private socket, and
# docker compose v2 built from tools/go.mod (.bin/docker-compose) drives it.
# COMPOSE="..." picks another compose command.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/e2e-lib.sh
started=$SECONDS
t0=$SECONDS
lap() { echo "e2e-compose: $1 ($((SECONDS - t0)) s)"; t0=$SECONDS; }

state=$(mktemp -d)
project=hs-e2e-$RANDOM$RANDOM
service_pid= health_pid=
cleanup() {
	local rc=$?
	trap - EXIT
	if [[ $rc -ne 0 && -n ${COMPOSE_READY:-} ]]; then
		echo "e2e-compose: FAILED; the stack's last logs:" >&2
		dc logs --no-color --tail 60 >&2 || true
	fi
	[[ -n ${COMPOSE_READY:-} ]] && dcp down -v --remove-orphans --timeout 5 >/dev/null 2>&1
	[[ -n $health_pid ]] && kill "$health_pid" 2>/dev/null
	[[ -n $service_pid ]] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
	rm -rf "$state"
	exit "$rc"
}
trap cleanup EXIT

if [[ -n ${COMPOSE:-} ]]; then
	read -r -a compose <<<"$COMPOSE"
	engine=custom
elif docker info >/dev/null 2>&1; then
	compose=(docker compose)
	engine=docker
else
	engine=podman
	export PODMAN_STATE=$ROOT/.data/podman
	source deploy/podman-env.sh
	# docker compose compiles (about 3 minutes the first time) while the
	# stand-ins are made (mostly downloads the first time).
	make --no-print-directory "$ROOT/.bin/docker-compose" >"$state/compose-build.log" 2>&1 &
	compose_build=$!
	bash deploy/standins.sh
	wait "$compose_build" || { cat "$state/compose-build.log" >&2; exit 1; }
	lap "stand-in images ready"
	# The Docker API on a private socket. Healthchecks: podman schedules
	# them with systemd timers, and there is no systemd here, so this loop
	# runs each of the stack's containers' checks every 2 s (compose's
	# depends_on and --wait read the status they leave).
	podman system service --time=0 "unix://$state/podman.sock" >"$state/service.log" 2>&1 &
	service_pid=$!
	for _ in $(seq 100); do [[ -S $state/podman.sock ]] && break; sleep 0.1; done
	export DOCKER_HOST=unix://$state/podman.sock
	# podman's build endpoint is buildah's (the classic builder's API).
	export DOCKER_BUILDKIT=0
	compose=("$ROOT/.bin/docker-compose")
	(while sleep 2; do
		for id in $(podman ps -q --filter "label=com.docker.compose.project=$project"); do
			podman healthcheck run "$id" >/dev/null 2>&1 || true
		done
	done) &
	health_pid=$!
fi
docker_inspect() { # docker_inspect ID FORMAT
	if [[ $engine == podman ]]; then podman inspect --format "$2" "$1"; else docker inspect --format "$2" "$1"; fi
}
volumes_left() {
	if [[ $engine == podman ]]; then podman volume ls -q --filter "label=com.docker.compose.project=$project"
	else docker volume ls -q --filter "label=com.docker.compose.project=$project"; fi
}
echo "e2e-compose: engine $engine, compose $("${compose[@]}" version --short 2>/dev/null || echo '?'), project $project"

# The stack's /24 (NETWORK_PREFIX): one that no route of the host and no
# network of the engine overlaps. A fixed subnet failed CI once (2026-12-07:
# "subnet 172.29.80.0/24 is already used on the host or by another config"),
# left by a run that was killed before its `down`.
subnets_in_use() {
	ip -4 route show 2>/dev/null | awk '$1 != "default" {print $1}'
	local ids
	if [[ $engine == podman ]]; then ids=$(podman network ls -q); else ids=$(docker network ls -q 2>/dev/null || true); fi
	[[ -z $ids ]] && return 0
	if [[ $engine == podman ]]; then podman network inspect $ids; else docker network inspect $ids; fi |
		grep -oiE '"subnet": *"[0-9.]+/[0-9]+"' | grep -oE '[0-9.]+/[0-9]+' || true
}
ip4int() { local IFS=.; read -r a b c d <<<"$1"; echo $(((a << 24) | (b << 16) | (c << 8) | ${d:-0})); }
free_network_prefix() {
	local used n cidr base bits m cand
	used=$(subnets_in_use)
	for n in $(shuf -i 16-254); do
		cand=$(ip4int "172.29.$n.0")
		for cidr in $used; do
			base=${cidr%/*} bits=${cidr#*/}
			[[ $cidr == */* ]] || bits=32
			((bits > 24)) && bits=24
			m=$(((0xffffffff << (32 - bits)) & 0xffffffff))
			(((cand & m) == ($(ip4int "$base") & m))) && continue 2
		done
		echo "172.29.$n"
		return 0
	done
	echo "e2e-compose: no free /24 in 172.29.16.0-172.29.254.0" >&2
	return 1
}
net_prefix=$(free_network_prefix)

# The test .env: .env.example with the settings a user edits.
set_env() { # set_env NAME VALUE
	if grep -q "^$1=" "$state/.env"; then
		sed -i "s|^$1=.*|$1=$2|" "$state/.env"
	else
		echo "$1=$2" >>"$state/.env"
	fi
}
web=$(free_port) api=$(free_port) s3=$(free_port) pg=$(free_port)
cp .env.example "$state/.env"
key=e2e-hot-$RANDOM secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
sync_token=e2e-sync-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
for kv in "WEB_PORT=$web" "API_PORT=$api" "S3_PORT=$s3" "POSTGRES_PORT=$pg" \
	"POSTGRES_PASSWORD=e2e-pg-$RANDOM$RANDOM" "SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
	"MINIO_ACCESS_KEY=$key" "MINIO_SECRET_KEY=$secret" "MINIO_PUBLIC_ENDPOINT=localhost:$s3" \
	"CSP_CONNECT_SRC=http://localhost:$s3" "CORS_ORIGINS=http://localhost:$web,http://localhost:$api" \
	"S3_ENDPOINT=http://s3:9000" "S3_PUBLIC_ENDPOINT=http://localhost:$s3" "S3_BUCKET=cloud-files" \
	"AWS_ACCESS_KEY_ID=$key" "AWS_SECRET_ACCESS_KEY=$secret" "SYNC_TRIGGER_TOKEN=$sync_token" \
	"AUTH_RATE_LIMIT_PER_MINUTE=600" "AUTH_RATE_LIMIT_PER_EMAIL_PER_HOUR=600" "BCRYPT_COST=10" \
	"NETWORK_PREFIX=$net_prefix"; do
	set_env "${kv%%=*}" "${kv#*=}"
done
dc() { "${compose[@]}" -p "$project" --project-directory "$ROOT" --env-file "$state/.env" -f "$ROOT/docker-compose.yml" "$@"; }
dcp() { "${compose[@]}" -p "$project" --project-directory "$ROOT" --env-file "$state/.env" -f "$ROOT/docker-compose.yml" -f "$ROOT/docker-compose.prod.yml" "$@"; }

dc config --quiet
# The dev override still merges (it is not run: it compiles in the container).
"${compose[@]}" -p "$project" --project-directory "$ROOT" --env-file "$state/.env" \
	-f "$ROOT/docker-compose.yml" -f "$ROOT/docker-compose.dev.yml" config --quiet
dc build
lap "images built (local/Dockerfile, frontend/Dockerfile)"
COMPOSE_READY=1
dc up -d --wait --wait-timeout 300
lap "stack up, every healthcheck healthy"
dc ps --format '{{.Service}}: {{.Status}}'

# Healthy is alive (/healthz); ready (/readyz, through nginx) is the
# backend reaching both tiers. Once in CI (2026-12-07) the container
# network dropped the backend's connections to the S3 service for about
# 50 s after a healthy start; the checks wait for ready (at most 120 s)
# and the run says how long it took.
for i in $(seq 120); do
	curl -fsS -o /dev/null "http://localhost:$web/readyz" && break
	((i == 120)) && { echo "e2e-compose: GET /readyz not 200 after 120 s"; exit 1; }
	sleep 1
done
lap "backend ready: both tiers reachable"

web_url=http://localhost:$web api_url=http://localhost:$api
stack() { # stack PHASE [API_URL]: deploy/stack_test.go against the stack
	STACK_STATE=$state/stack.json STACK_PHASE=$1 STACK_WEB_URL=$web_url STACK_API_URL=${2:-} \
		go test -count=1 -run '^TestComposeStack$' -v ./deploy/ 2>&1 | grep -E '^(=== RUN|--- |    |ok|FAIL|PASS)' || return 1
}
stack fresh "$api_url"
lap "API checks through nginx and the backend's port"

# The browser e2e on the nginx origin. -set-quota runs in the backend
# container (its binary, its DATABASE_URL).
[[ -d frontend/node_modules/playwright-core ]] || (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
cat >"$state/set-quota" <<EOF
#!/usr/bin/env bash
exec $(printf '%q ' "${compose[@]}") -p $project --project-directory $ROOT --env-file $state/.env -f $ROOT/docker-compose.yml exec -T backend /app/server "\$@"
EOF
chmod +x "$state/set-quota"
(cd frontend && SPA_URL=$web_url API_URL=$web_url SYNC_TRIGGER_TOKEN=$sync_token SET_QUOTA_BIN=$state/set-quota \
	SCREENSHOT_DIR=$state/screenshots SCREENSHOT_PREFIX=compose- node e2e/e2e.mjs)
lap "browser e2e against nginx"

# A sync run: everything the API checks uploaded moves to the cold tier.
out=$(curl -sS -X POST -H "Authorization: Bearer $sync_token" -w '\n%{http_code}' "$web_url/api/sync/run")
[[ ${out##*$'\n'} == 200 ]] || { echo "e2e-compose: POST /api/sync/run answered: $out" >&2; exit 1; }
echo "e2e-compose: sync run: ${out%$'\n'*}"
stack synced "$api_url"
lap "sync run, files in the cold tier"

dc restart backend
dc up -d --wait --wait-timeout 120
stack restarted "$api_url"
lap "backend restarted, data kept"

# Production overrides, on the same volumes.
dcp config --format json >"$state/prod.json"
node - "$state/prod.json" <<'EOF'
const p = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
const bad = [];
for (const [name, s] of Object.entries(p.services)) {
  if (s.restart !== 'unless-stopped') bad.push(`${name}: restart ${s.restart}`);
  const lim = s.deploy?.resources?.limits;
  if (!lim?.memory || !lim?.cpus) bad.push(`${name}: limits ${JSON.stringify(lim)}`);
}
for (const name of ['postgres', 'backend']) if ((p.services[name].ports || []).length) bad.push(`${name} publishes ${JSON.stringify(p.services[name].ports)}`);
if (bad.length) { console.error(`docker-compose.prod.yml, merged:\n  ${bad.join('\n  ')}`); process.exit(1); }
console.log('e2e-compose: prod model: every service restart unless-stopped with cpu and memory limits; postgres and backend publish nothing');
EOF
ids=$(dc ps -q | sort)
if ! dcp up -d --wait --wait-timeout 180; then
	[[ $engine == podman ]] || exit 1
	# podman 4.3 can still hold the old frontend's fixed address ($net_prefix.10)
	# for a moment after stopping it ("IPAM error: requested ip address ...
	# is already allocated"); Docker frees it at once. Once more:
	sleep 5
	dcp up -d --wait --wait-timeout 180
fi
[[ -z $(comm -12 <(echo "$ids") <(dcp ps -q | sort)) ]] || { echo "e2e-compose: prod: some containers were not recreated" >&2; exit 1; }
for svc in postgres:5432 backend:8000; do
	out=$(dcp port "${svc%:*}" "${svc#*:}" 2>/dev/null || true)
	[[ -z $out || $out == :0 ]] || { echo "e2e-compose: prod: ${svc%:*} publishes $out" >&2; exit 1; }
done
if curl -s -o /dev/null "http://127.0.0.1:$pg" || curl -s -o /dev/null "$api_url/healthz"; then
	echo "e2e-compose: prod: the database or the backend answers on the host" >&2
	exit 1
fi
id=$(dcp ps -q backend)
lim=$(docker_inspect "$id" '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}')
[[ $lim == "1073741824 2000000000 unless-stopped" ]] || { echo "e2e-compose: prod backend runs with memory, cpus, restart = $lim" >&2; exit 1; }
STACK_WEB_URL=$web_url stack restarted
lap "recreated with docker-compose.prod.yml (backend: $lim), data kept"

dcp down -v --timeout 10
COMPOSE_READY=
left=$(volumes_left)
[[ -z $left ]] || { echo "e2e-compose: down -v left volumes: $left" >&2; exit 1; }
lap "down -v: no container, network or volume left"
echo "e2e-compose: ok ($((SECONDS - started)) s in all)"
