#!/usr/bin/env bash
# Run a command with a throw-away local PostgreSQL server, exporting BAKEKIT_TEST_PG_URL.
# Uses BAKEKIT_TEST_PG_URL as it is when already set. Where no server binaries can be found
# the command runs without it (the PostgreSQL half of the tests then skips, except in CI,
# where the test suite refuses to skip it).
set -u
if [ -n "${BAKEKIT_TEST_PG_URL:-}" ]; then exec "$@"; fi

bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_ctl" ]; then
  bindir=$(pg_config --bindir)
fi
if [ -z "$bindir" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bindir=$d; done
fi
if [ -z "$bindir" ]; then
  echo "with-postgres: no PostgreSQL server binaries found; running without PostgreSQL" >&2
  exec "$@"
fi

port=${BAKEKIT_PG_PORT:-55432}
while (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
datadir=$(mktemp -d /tmp/bakekit-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" = "0" ]; then
  chown postgres:postgres "$datadir"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$bindir/initdb" -D "$datadir/data" -U postgres -A trust --no-sync >"$datadir/initdb.log" 2>&1 \
  || { cat "$datadir/initdb.log" >&2; exit 1; }
# another server may take a free-looking port at the same moment: try the next ones
started=""
for _ in $(seq 1 20); do
  while (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
  if "${as_pg[@]}" "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/server.log" -w \
    -o "-p $port -k $datadir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" \
    start >/dev/null 2>&1; then
    started=yes
    break
  fi
  port=$((port + 1))
done
if [ -z "$started" ]; then cat "$datadir/server.log" >&2; rm -rf "$datadir"; exit 1; fi
stop() {
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$datadir/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$datadir"
}
trap stop EXIT
psql_() { "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
psql_ -d postgres -c "CREATE ROLE bakekit LOGIN PASSWORD 'bakekit' CREATEDB CREATEROLE" \
  && psql_ -d postgres -c "CREATE DATABASE bakekit OWNER bakekit" || exit 1
export BAKEKIT_TEST_PG_URL="postgresql+psycopg://bakekit:bakekit@127.0.0.1:$port/bakekit"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on port $port" >&2
"$@"
