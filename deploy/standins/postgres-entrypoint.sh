#!/bin/sh
# Stand-in for the official postgres image's docker-entrypoint.sh: the same
# contract for what docker-compose.yml uses. On an empty PGDATA it runs
# initdb with POSTGRES_USER as the superuser and POSTGRES_PASSWORD as its
# password (scram-sha-256 for TCP clients, trust on the local socket),
# creates POSTGRES_DB, runs /docker-entrypoint-initdb.d/*.sql and *.sh, then
# starts `postgres` (listening on every interface) as the postgres user.
set -eu
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ "${1:-postgres}" != postgres ]; then exec "$@"; fi
shift || true
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
mkdir -p "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
chown -R postgres:postgres "$PGDATA" /var/run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
		echo "Error: Database is uninitialized and superuser password is not specified." >&2
		echo "       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)." >&2
		exit 1
	fi
	pw=$(mktemp); printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pw"; chown postgres "$pw"
	as_pg initdb --username="$POSTGRES_USER" --pwfile="$pw" --auth-local=trust \
		--auth-host="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-} >/dev/null
	rm -f "$pw"
	printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"
	as_pg pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k /var/run/postgresql" -w start >/dev/null
	if [ "$POSTGRES_DB" != postgres ]; then
		as_pg psql -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$POSTGRES_USER" -d postgres -q \
			-c "CREATE DATABASE \"$POSTGRES_DB\""
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		case $f in
		*.sql) as_pg psql -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$f" ;;
		*.sh) . "$f" ;;
		esac
	done
	as_pg pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
	echo "PostgreSQL init process complete; ready for start up."
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups -- postgres -c listen_addresses='*' "$@"
