# Sourced by deploy/standins.sh and scripts/e2e-compose.sh on a machine
# without a Docker engine: podman (with runc) configured for this machine.
#   - CONTAINERS_CONF: our own containers.conf (the machine's stays as it is)
#     with runtime runc (crun fails on these machines' cgroups) and
#     resource limits a container may have: podman as root asks runc for
#     nofile=1048576 and a large nproc by default, and a sandbox without
#     CAP_SYS_RESOURCE refuses to raise them ("error setting rlimit type 7").
#   - pm: podman with that configuration.
# Needs PODMAN_STATE (a directory for the configuration).
command -v podman >/dev/null || { echo "podman not found: apt-get install -y podman runc mmdebstrap" >&2; exit 1; }
command -v runc >/dev/null || { echo "runc not found: apt-get install -y runc" >&2; exit 1; }
mkdir -p "$PODMAN_STATE"
export CONTAINERS_CONF=$PODMAN_STATE/containers.conf
pm() { podman "$@"; }

# podman_conf [NPROC]: writes containers.conf with the machine's open-files
# limit and NPROC processes.
podman_conf() {
	local nofile
	nofile=$(ulimit -Hn)
	[[ $nofile == unlimited ]] && nofile=1048576
	cat >"$CONTAINERS_CONF" <<CONF
# written by deploy/podman-env.sh
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=${1:-4096}:${1:-4096}"]
log_driver = "k8s-file"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
}

# podman_probe IMAGE: the largest process limit runc may set here (tried
# with a container of IMAGE), kept in containers.conf.
podman_probe() {
	local n
	[[ -f $CONTAINERS_CONF.ok ]] && return 0
	for n in "$(ulimit -Hu)" 65536 32768 16384 4096; do
		[[ $n == unlimited ]] && continue
		podman_conf "$n"
		if podman run --rm --network none "$1" true 2>/dev/null; then
			touch "$CONTAINERS_CONF.ok"
			return 0
		fi
	done
	echo "podman: no container starts here (tried runc with nproc down to 4096):" >&2
	podman run --rm --network none "$1" true >&2
	return 1
}
[[ -f $CONTAINERS_CONF ]] || podman_conf
