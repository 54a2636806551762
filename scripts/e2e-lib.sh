# Sourced by scripts/e2e.sh and scripts/e2e-aws.sh: the Chromium check, free
# ports and the clean-up of a run ($dev, $db, $data, set by the caller).
me=${0##*/}
command -v chromium >/dev/null || [[ -x ${CHROMIUM_PATH:-/usr/lib/chromium/chromium} ]] ||
	{ echo "${me%.sh}: Chromium not found: apt-get install -y chromium" >&2; exit 1; }

# free_port: a port nothing listens on, below Linux's ephemeral range
# (32768-60999): a port from that range can be taken as the local port of an
# outgoing connection between this check and the bind (CI's compose run
# failed so on 2026-12-07: "bind: address already in use").
free_port() {
	local p=$((20000 + RANDOM % 12000))
	while (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((20000 + RANDOM % 12000)); done
	echo "$p"
}

stop() {
	kill "$dev" 2>/dev/null || true
	wait "$dev" 2>/dev/null || true
	command -v psql >/dev/null && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$data"
}
