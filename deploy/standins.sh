#!/usr/bin/env bash
# Test-only: builds stand-ins for the public base images that our Dockerfiles
# and compose files name, for a machine where podman runs containers but no
# image registry can be reached. Each is tagged with the exact name the files
# use, so `docker compose` (talking to podman) builds local/Dockerfile and
# frontend/Dockerfile unchanged and runs the stack. Used by
# scripts/e2e-compose.sh; never by users, who pull the real images.
#
#   bash deploy/standins.sh            build what is missing or out of date
#   STANDINS_FORCE=1 bash deploy/standins.sh   rebuild everything
#
# Made from one Debian 12 root file system (mmdebstrap, from the Debian
# archive this machine reaches) plus the toolchains on the machine: Go at
# $(go env GOROOT), Node.js and npm from $(command -v node), versitygw built
# here at the version tools/go.mod pins. Each image carries the label
# org.hybrid-storage.standin=<key of its inputs>: same inputs, no rebuild
# (a cache between runs on one machine); a fresh machine builds them all
# (about 3 minutes).
#
# How each differs from the official image is written next to it below and
# in the README (Tests, "The compose stack").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PODMAN_STATE=${PODMAN_STATE:-$ROOT/.data/podman}
source deploy/podman-env.sh

GOROOT_HOST=$(go env GOROOT)
GO_VERSION=$(go env GOVERSION)
NODE_BIN=$(readlink -f "$(command -v node)")
NODE_VERSION=$(node --version)
NODE_MODULES=$(dirname "$(dirname "$NODE_BIN")")/lib/node_modules
[[ -d $NODE_MODULES/npm ]] || { echo "standins: npm not found in $NODE_MODULES" >&2; exit 1; }
VGW_VERSION=$(cd tools && go list -m -f '{{.Version}}' github.com/versity/versitygw)
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY=${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}

# name -> what it stands for. The compose and Dockerfile names are checked
# against this list below, so a new base image fails here, named.
declare -A IMAGES=(
	[alpine:3.22]=alpine
	[golang:1.26-alpine]=golang
	[node:20-alpine]=node
	[nginxinc/nginx-unprivileged:1.28-alpine]=nginx
	[postgres:15.15-alpine]=postgres
	["versity/versitygw:$VGW_VERSION"]=versitygw
)
ROOTFS=localhost/hybrid-storage-standin/rootfs:bookworm
ROOTFS_PACKAGES=busybox,ca-certificates,tzdata,libstdc++6,gettext-base,nginx,postgresql-15

# Every base image our Dockerfiles build FROM and every image a compose file
# runs without building it must have a stand-in.
for name in $(sed -n 's/^FROM \([^ ]*\).*/\1/p' local/Dockerfile frontend/Dockerfile) \
	$(sed -n 's/^ *image: *\([^ #]*\).*/\1/p' docker-compose*.yml | grep -v '^hybrid-storage/'); do
	case $name in build | spa | runtime) continue ;; esac
	[[ -n ${IMAGES[$name]:-} ]] || { echo "standins: no stand-in for $name (add one to deploy/standins.sh)" >&2; exit 1; }
done

full() { [[ $1 == */* ]] && echo "$1" || echo "library/$1"; }
label() { pm image inspect --format '{{index .Labels "org.hybrid-storage.standin"}}' "$1" 2>/dev/null || true; }
rootfs_key=$(echo "rootfs 1 $ROOTFS_PACKAGES $DEBIAN_MIRROR $DEBIAN_SECURITY" | sha256sum | cut -c1-16)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# build NAME CONTEXT PARENT_KEY: builds $work/NAME.Containerfile in CONTEXT,
# tagged NAME, unless an image of that name was made of the same inputs (the
# Containerfile, the files at the top of CONTEXT, the toolchain versions, its
# parent's key). Sets key to its key.
build() {
	local name=$1 ctx=$2 started=$SECONDS old
	key=$({
		echo "$3 $GO_VERSION $NODE_VERSION $VGW_VERSION"
		cat "$work/${IMAGES[$name]}.Containerfile"
		find "$ctx" -maxdepth 1 -type f -print0 | sort -z | xargs -0 -r sha256sum | cut -c1-64
	} | sha256sum | cut -c1-16)
	if [[ -z ${STANDINS_FORCE:-} && $(label "docker.io/$(full "$name")") == "$key" ]]; then
		echo "standins: $name (cached)"
		return
	fi
	old=$(pm image inspect --format '{{.Id}}' "docker.io/$(full "$name")" 2>/dev/null || true)
	pm build --quiet --pull=never --label "org.hybrid-storage.standin=$key" \
		--label "org.hybrid-storage.standin-for=docker.io/$(full "$name")" \
		-t "docker.io/$(full "$name")" -f "$work/${IMAGES[$name]}.Containerfile" "$ctx" >/dev/null
	# The image it replaces, unless something still uses it.
	[[ -z $old ]] || pm rmi "$old" >/dev/null 2>&1 || true
	echo "standins: $name ($((SECONDS - started)) s)"
}

# The root file system every stand-in starts from: Debian 12 (glibc) where
# the official images are Alpine (musl), with what all of them need at once.
if [[ -n ${STANDINS_FORCE:-} || $(label "$ROOTFS") != "$rootfs_key" ]]; then
	started=$SECONDS
	command -v mmdebstrap >/dev/null || { echo "mmdebstrap not found: apt-get install -y mmdebstrap" >&2; exit 1; }
	mmdebstrap --quiet --variant=minbase --mode=root \
		--include="$ROOTFS_PACKAGES" \
		--customize-hook='rm -rf "$1"/var/lib/postgresql/15 "$1"/etc/postgresql/15 "$1"/etc/nginx/sites-enabled/* "$1"/var/cache/apt/*.bin' \
		bookworm "$work/rootfs.tar" \
		"deb $DEBIAN_MIRROR bookworm main" "deb $DEBIAN_MIRROR bookworm-updates main" "deb $DEBIAN_SECURITY bookworm-security main"
	pm import --quiet --change "LABEL org.hybrid-storage.standin=$rootfs_key" "$work/rootfs.tar" "$ROOTFS" >/dev/null
	rm -f "$work/rootfs.tar"
	echo "standins: Debian 12 root file system ($((SECONDS - started)) s)"
fi
podman_probe "$ROOTFS"

# alpine:3.22. Differences: Debian 12 and glibc, not Alpine and musl; /bin/sh
# is dash; `apk add` only accepts what is already there (deploy/standins/apk:
# ca-certificates, tzdata); wget is BusyBox's, as on Alpine; adduser and
# addgroup take BusyBox's options over shadow's tools (deploy/standins/adduser);
# also carries nginx, PostgreSQL 15 and gettext (one root file system for all
# stand-ins); trusts this machine's CA bundle ($CA_BUNDLE), which
# here includes the network's TLS-intercepting proxy, so builds can reach the
# Go module proxy and the npm registry.
mkdir -p "$work/alpine"
cp deploy/standins/apk deploy/standins/adduser "$work/alpine/"
cp "$CA_BUNDLE" "$work/alpine/ca-certificates.crt"
cat >"$work/alpine.Containerfile" <<EOF
FROM $ROOTFS
COPY apk /sbin/apk
COPY adduser /usr/local/bin/adduser
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -sf /bin/busybox /usr/local/bin/wget && ln -sf adduser /usr/local/bin/addgroup
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["/bin/sh"]
EOF
build alpine:3.22 "$work/alpine" "$rootfs_key"
alpine_key=$key

# golang:1.26-alpine. Differences: the Go of this machine ($GO_VERSION) where
# the tag floats to the newest 1.26.x; the alpine stand-in under it (so no
# git, as in the official image); GOTOOLCHAIN=local, GOPATH=/go as there.
cat >"$work/golang.Containerfile" <<EOF
FROM docker.io/library/alpine:3.22
COPY . /usr/local/go
ENV GOLANG_VERSION=${GO_VERSION#go} GOTOOLCHAIN=local GOPATH=/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /go/src /go/bin && chmod -R 1777 /go
WORKDIR /go
EOF
build golang:1.26-alpine "$GOROOT_HOST" "$alpine_key"

# node:20-alpine. Differences: this machine's Node.js ($NODE_VERSION) and its
# npm ($(node -p 'require(process.argv[1]).version' "$NODE_MODULES/npm/package.json")),
# where the official image has the npm its Node release bundles (10.x);
# NODE_EXTRA_CA_CERTS points at the CA bundle; user node (1000) as there.
mkdir -p "$work/node/bin"
cp "$NODE_BIN" "$work/node/bin/node"
cp -a "$NODE_MODULES" "$work/node/node_modules"
cat >"$work/node.Containerfile" <<EOF
FROM docker.io/library/alpine:3.22
COPY bin/node /usr/local/bin/node
COPY node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && { [ ! -d /usr/local/lib/node_modules/corepack ] || ln -s ../lib/node_modules/corepack/dist/corepack.js /usr/local/bin/corepack; } \
 && addgroup -g 1000 node && adduser -u 1000 -G node -s /bin/sh -D node
ENV NODE_VERSION=${NODE_VERSION#v} NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
EOF
build node:20-alpine "$work/node" "$alpine_key"

# nginxinc/nginx-unprivileged:1.28-alpine. Differences: Debian's nginx
# 1.22 (the same directives our nginx.conf uses), not 1.28; only the
# entrypoint's envsubst-on-templates step (deploy/standins/nginx-entrypoint.sh),
# not its IPv6 and worker-tuning scripts; the same user (101), port 8080 of
# our server block, /tmp for pid and temporary files, logs to stdout/stderr.
mkdir -p "$work/nginx"
cp deploy/standins/nginx-entrypoint.sh deploy/standins/nginx.conf "$work/nginx/"
cat >"$work/nginx.Containerfile" <<EOF
FROM docker.io/library/alpine:3.22
COPY nginx.conf /etc/nginx/nginx.conf
COPY nginx-entrypoint.sh /docker-entrypoint.sh
RUN (getent group 101 >/dev/null || addgroup -g 101 -S nginx) \
 && (getent passwd 101 >/dev/null || adduser -u 101 -G "\$(getent group 101 | cut -d: -f1)" -S -D -H -s /sbin/nologin nginx) \
 && mkdir -p /etc/nginx/templates /etc/nginx/conf.d /usr/share/nginx/html /var/cache/nginx \
 && chown -R 101:0 /etc/nginx/conf.d /var/cache/nginx /usr/share/nginx/html \
 && chmod -R g+w /etc/nginx/conf.d /var/cache/nginx
EXPOSE 8080
STOPSIGNAL SIGQUIT
USER 101
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
EOF
build nginxinc/nginx-unprivileged:1.28-alpine "$work/nginx" "$alpine_key"

# postgres:15.15-alpine. Differences: Debian's PostgreSQL 15 (15.20 today)
# where the tag pins 15.15; locale C.UTF-8 (the official Alpine image:
# en_US.utf8); the entrypoint (deploy/standins/postgres-entrypoint.sh) keeps
# the contract compose uses (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB,
# PGDATA, POSTGRES_HOST_AUTH_METHOD, POSTGRES_INITDB_ARGS, initdb.d scripts;
# scram-sha-256 for TCP) but not every option (no POSTGRES_*_FILE secrets,
# no non-root `user:`); pg_isready on PATH for the healthcheck.
mkdir -p "$work/postgres"
cp deploy/standins/postgres-entrypoint.sh "$work/postgres/docker-entrypoint.sh"
cat >"$work/postgres.Containerfile" <<EOF
FROM docker.io/library/alpine:3.22
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN mkdir -p /docker-entrypoint-initdb.d /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PG_MAJOR=15 PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
build postgres:15.15-alpine "$work/postgres" "$alpine_key"

# versity/versitygw:<version of tools/go.mod>. Differences: the official
# image is this binary (CGO off) on alpine:latest with the project's
# docker-entrypoint.sh; here the same version built with this machine's Go
# ($GO_VERSION, the release used the Go of its day) on the alpine stand-in,
# and an entrypoint with the same contract (deploy/standins/versitygw-entrypoint.sh).
mkdir -p "$work/versitygw"
vgw=$PODMAN_STATE/versitygw-$VGW_VERSION-$GO_VERSION
[[ -x $vgw ]] || (cd tools && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X=main.Version=$VGW_VERSION" \
	-o "$vgw" github.com/versity/versitygw/cmd/versitygw)
cp "$vgw" "$work/versitygw/versitygw"
cp deploy/standins/versitygw-entrypoint.sh "$work/versitygw/docker-entrypoint.sh"
cat >"$work/versitygw.Containerfile" <<EOF
FROM docker.io/library/alpine:3.22
COPY versitygw /usr/local/bin/versitygw
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN mkdir -p /tmp/vgw
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
EOF
build "versity/versitygw:$VGW_VERSION" "$work/versitygw" "$alpine_key"
echo "standins: done"
