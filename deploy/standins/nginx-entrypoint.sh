#!/bin/sh
# Stand-in for the nginx images' /docker-entrypoint.sh: when the command is
# nginx, each /etc/nginx/templates/*.template is written to
# /etc/nginx/conf.d/ (suffix dropped) with ${VAR} replaced by the environment
# variables that are set (and only those: nginx's own $uri stays), as the
# official 20-envsubst-on-templates.sh does. Then the command runs.
set -eu
case ${1:-} in
nginx | nginx-debug)
	defined=$(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
	for t in /etc/nginx/templates/*.template; do
		[ -f "$t" ] || continue
		out=/etc/nginx/conf.d/$(basename "$t" .template)
		envsubst "$defined" <"$t" >"$out"
		echo "$0: Running envsubst on $t to $out"
	done
	;;
esac
exec "$@"
