#!/usr/bin/env bash
# A Temporal server on PostgreSQL on this machine, without Docker: builds the server and temporal-sql-tool from the
# Go module proxy, makes a PostgreSQL cluster, sets up the temporal and temporal_visibility schemas, starts the server
# on scripts/temporal-postgres.yaml, and creates the namespace and the TrellisStatus search attribute. Each step is
# skipped when it is already done, so running it again only starts what is stopped.
#
#   scripts/temporal-postgres.sh [start]   set up what is missing, start, print TEMPORAL_ADDRESS=... on stdout
#   scripts/temporal-postgres.sh stop      stop the server and PostgreSQL (the data stays)
#   scripts/temporal-postgres.sh status    say what runs
#
# Binaries, data and logs live under .trellis/postgres (TRELLIS_PG_DIR). Progress goes to stderr, so
# `export "$(scripts/temporal-postgres.sh)"` points this shell at the server. docs/self-hosted-server.md has more.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${TRELLIS_PG_DIR:-$ROOT/.trellis/postgres}
SERVER_VERSION=${TEMPORAL_SERVER_VERSION:-v1.32.1}
PG_PORT=${TRELLIS_PG_PORT:-55432}
PG_USER=${TRELLIS_PG_USER:-temporal}
PG_PASSWORD=${TRELLIS_PG_PASSWORD:-temporal}
FRONTEND_PORT=${TRELLIS_TEMPORAL_PORT:-17233}
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
ADDRESS=127.0.0.1:$FRONTEND_PORT

say() { echo "temporal-postgres: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# PostgreSQL refuses to run as root, so as root its commands run as the postgres user that Debian's package makes.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

find_go() {
  GO=${GO:-$(command -v go || true)}
  [ -n "$GO" ] || { [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go; } ||
    die "Go is needed to build the server (1.26.8 or newer for $SERVER_VERSION): install it (https://go.dev/dl/), or set GO=/path/to/go."
}

find_postgres() {
  if [ -z "${PG_BIN:-}" ]; then
    if command -v initdb >/dev/null; then
      # Through any symlink, to the folder that also holds that version's pg_ctl and psql.
      PG_BIN=$(dirname "$(readlink -f "$(command -v initdb)")")
    else
      # Debian keeps the server's programs off PATH, one folder per major version; take the newest.
      PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
  fi
  [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && [ -x "$PG_BIN/psql" ] ||
    die "PostgreSQL 12 or newer is needed: apt-get install -y postgresql (or set PG_BIN to the folder with initdb, pg_ctl and psql)."
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    die "PostgreSQL will not run as root and there is no postgres user: apt-get install -y postgresql makes one, or run this as another user."
  fi
}

find_cli() {
  TEMPORAL=${TEMPORAL_CLI:-$(command -v temporal || true)}
  [ -n "$TEMPORAL" ] || TEMPORAL=$ROOT/.trellis/temporal-cli/bin/temporal
  [ -x "$TEMPORAL" ] ||
    die "The Temporal CLI is needed for the namespace: run \`npm run temporal\` once (it installs one into .trellis/temporal-cli), or set TEMPORAL_CLI."
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

build() {
  if [ "$(cat "$STATE/bin/VERSION" 2>/dev/null)" = "$SERVER_VERSION" ] && [ -x "$STATE/bin/temporal-server" ] &&
    [ -x "$STATE/bin/temporal-sql-tool" ]; then
    return
  fi
  say "building Temporal server $SERVER_VERSION and temporal-sql-tool from the Go module proxy (a few minutes)"
  mkdir -p "$STATE/bin"
  local gobin
  gobin=$(mktemp -d)
  # Outside any module, so the server's own go.mod decides every dependency's version.
  if ! (cd "$gobin" && GOFLAGS=-trimpath GOBIN=$gobin "$GO" install \
    "go.temporal.io/server/cmd/server@$SERVER_VERSION" "go.temporal.io/server/cmd/tools/sql@$SERVER_VERSION") >&2; then
    rm -rf "$gobin"
    die "building go.temporal.io/server@$SERVER_VERSION failed (above): it needs the Go module proxy (\`$GO env GOPROXY\`) and the Go version its go.mod names."
  fi
  mv "$gobin/server" "$STATE/bin/temporal-server"
  mv "$gobin/sql" "$STATE/bin/temporal-sql-tool"
  rm -rf "$gobin"
  echo "$SERVER_VERSION" >"$STATE/bin/VERSION"
}

# The schema files ship in the server's module, which the build left in the module cache.
find_schema() {
  local dir
  dir=$(cd /tmp && "$GO" mod download -json "go.temporal.io/server@$SERVER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  SCHEMA=$dir/schema/postgresql/v12
  [ -d "$SCHEMA/temporal/versioned" ] && [ -d "$SCHEMA/visibility/versioned" ] ||
    die "no PostgreSQL schema in go.temporal.io/server@$SERVER_VERSION (looked in $SCHEMA)."
}

pg_running() { as_pg "$PG_BIN/pg_ctl" status -D "$STATE/pgdata" >/dev/null 2>&1; }
psql_admin() { as_pg "$PG_BIN/psql" -X -q -h "$STATE/run" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

start_postgres() {
  mkdir -p "$STATE/pgdata" "$STATE/run" "$STATE/logs"
  touch "$STATE/logs/postgres.log"
  chmod 700 "$STATE/pgdata"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$STATE/pgdata" "$STATE/run" "$STATE/logs/postgres.log"
    as_pg test -w "$STATE/pgdata" ||
      die "the postgres user cannot reach $STATE: let it through the folders above it (chmod o+x), or set TRELLIS_PG_DIR to a folder it can reach."
  fi
  if [ ! -f "$STATE/pgdata/PG_VERSION" ]; then
    say "creating a PostgreSQL cluster in $STATE/pgdata"
    as_pg "$PG_BIN/initdb" -D "$STATE/pgdata" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
      --no-locale >"$STATE/logs/initdb.log" 2>&1 || die "initdb failed: see $STATE/logs/initdb.log."
  fi
  if ! pg_running; then
    ! port_in_use "$PG_PORT" || die "port $PG_PORT is taken: set TRELLIS_PG_PORT to a free one."
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" start -w -D "$STATE/pgdata" -l "$STATE/logs/postgres.log" \
      -o "-p $PG_PORT -k $STATE/run -c listen_addresses=127.0.0.1" >/dev/null ||
      die "PostgreSQL did not start: see $STATE/logs/postgres.log."
  fi
  if [ -z "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" ]; then
    psql_admin -c "CREATE ROLE \"$PG_USER\" LOGIN CREATEDB PASSWORD '$PG_PASSWORD'"
  fi
}

sql_tool() {
  "$STATE/bin/temporal-sql-tool" --plugin postgres12 --endpoint 127.0.0.1 --port "$PG_PORT" --user "$PG_USER" \
    --password "$PG_PASSWORD" --database "$1" "${@:2}"
}

# create-database and setup-schema only once; update-schema applies whatever versions the database lacks.
setup_schema() {
  local db=$1 dir=$2
  if [ -z "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
    say "creating database $db"
    sql_tool "$db" create-database >>"$STATE/logs/schema.log" 2>&1 || die "creating database $db failed: see $STATE/logs/schema.log."
  fi
  if [ -z "$(psql_admin -d "$db" -tAc "SELECT to_regclass('public.schema_version')")" ]; then
    sql_tool "$db" setup-schema -v 0.0 >>"$STATE/logs/schema.log" 2>&1 || die "setting up schema $db failed: see $STATE/logs/schema.log."
  fi
  sql_tool "$db" update-schema -d "$SCHEMA/$dir/versioned" >>"$STATE/logs/schema.log" 2>&1 ||
    die "updating schema $db failed: see $STATE/logs/schema.log."
}

server_pid() {
  local pid
  pid=$(cat "$STATE/temporal.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start_server() {
  if server_pid >/dev/null; then return; fi
  local p
  for p in $FRONTEND_PORT $((FRONTEND_PORT + 1)) $((FRONTEND_PORT + 2)) $((FRONTEND_PORT + 3)) $((FRONTEND_PORT + 10)) \
    $((FRONTEND_PORT + 100)) $((FRONTEND_PORT + 101)) $((FRONTEND_PORT + 102)) $((FRONTEND_PORT + 103)); do
    ! port_in_use "$p" || die "port $p is taken: set TRELLIS_TEMPORAL_PORT to another frontend port (the server uses it, +1..+3, +10 and +100..+103)."
  done
  say "starting Temporal server $SERVER_VERSION on $ADDRESS (log: $STATE/logs/temporal.log)"
  # setsid: the server outlives this script and the terminal's Ctrl-C; `stop` ends it.
  # The config is a template the server fills in from these.
  TRELLIS_TEMPORAL_PORT=$FRONTEND_PORT TRELLIS_PG_PORT=$PG_PORT TRELLIS_PG_USER=$PG_USER TRELLIS_PG_PASSWORD=$PG_PASSWORD \
    TRELLIS_TEMPORAL_DYNAMIC_CONFIG=$ROOT/scripts/temporal-postgres-dynamic.yaml \
    setsid "$STATE/bin/temporal-server" --config-file "$ROOT/scripts/temporal-postgres.yaml" --allow-no-auth start \
    >>"$STATE/logs/temporal.log" 2>&1 </dev/null &
  echo $! >"$STATE/temporal.pid"
  for _ in $(seq 1 90); do
    if "$TEMPORAL" operator cluster health --address "$ADDRESS" 2>/dev/null | grep -q SERVING; then return; fi
    server_pid >/dev/null || die "the server stopped while starting: see $STATE/logs/temporal.log."
    sleep 1
  done
  die "the server did not answer on $ADDRESS within 90 s: see $STATE/logs/temporal.log."
}

# The frontend learns of a new namespace on its next registry refresh (seconds), so the attribute is retried.
setup_namespace() {
  if ! "$TEMPORAL" operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
    say "creating namespace $NAMESPACE"
    "$TEMPORAL" operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null
  fi
  for _ in $(seq 1 30); do
    if "$TEMPORAL" operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE" 2>/dev/null |
      grep -qw TrellisStatus; then
      return
    fi
    "$TEMPORAL" operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
      --name TrellisStatus --type Keyword >/dev/null 2>&1 || sleep 1
  done
  die "could not create the TrellisStatus search attribute in namespace $NAMESPACE: see $STATE/logs/temporal.log."
}

stop_all() {
  local pid
  if pid=$(server_pid); then
    say "stopping the Temporal server (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    ! kill -0 "$pid" 2>/dev/null || kill -9 "$pid"
  fi
  rm -f "$STATE/temporal.pid"
  find_postgres
  if [ -f "$STATE/pgdata/PG_VERSION" ] && pg_running; then
    say "stopping PostgreSQL"
    as_pg "$PG_BIN/pg_ctl" stop -w -m fast -D "$STATE/pgdata" >/dev/null
  fi
}

status() {
  find_postgres
  if [ -f "$STATE/pgdata/PG_VERSION" ] && pg_running; then say "PostgreSQL runs on 127.0.0.1:$PG_PORT"; else say "PostgreSQL is stopped"; fi
  if pid=$(server_pid); then say "the Temporal server runs (pid $pid) on $ADDRESS"; else say "the Temporal server is stopped"; fi
}

case "${1:-start}" in
start)
  find_go
  find_postgres
  find_cli
  build
  find_schema
  start_postgres
  setup_schema temporal temporal
  setup_schema temporal_visibility visibility
  start_server
  setup_namespace
  say "ready: Temporal $SERVER_VERSION on PostgreSQL at $ADDRESS, namespace $NAMESPACE"
  echo "TEMPORAL_ADDRESS=$ADDRESS"
  ;;
stop) stop_all ;;
status) status ;;
*) die "usage: scripts/temporal-postgres.sh [start|stop|status]" ;;
esac
