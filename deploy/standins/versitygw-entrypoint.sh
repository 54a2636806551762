#!/bin/sh
# Stand-in for versity/versitygw's docker-entrypoint.sh: arguments run
# versitygw as they are; without any, VGW_BACKEND (posix, scoutfs, s3, azure,
# plugin, iam) with VGW_ARGS before it and VGW_BACKEND_ARG / VGW_BACKEND_ARGS
# after it.
set -eu
bin=${VGW_BINARY:-/usr/local/bin/versitygw}
[ "$#" -gt 0 ] && exec "$bin" "$@"
case ${VGW_BACKEND:-} in
posix | scoutfs | s3 | azure | plugin | iam) ;;
*) echo "VGW_BACKEND must be one of posix, scoutfs, s3, azure, plugin, iam (was '${VGW_BACKEND:-}')" >&2; exit 1 ;;
esac
# shellcheck disable=SC2086
set -- ${VGW_ARGS:-} "$VGW_BACKEND"
[ -n "${VGW_BACKEND_ARG:-}" ] && set -- "$@" "$VGW_BACKEND_ARG"
# shellcheck disable=SC2086
exec "$bin" "$@" ${VGW_BACKEND_ARGS:-}
