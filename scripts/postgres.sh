#!/usr/bin/env bash
# A local PostgreSQL 15 for development and the test suite: one cluster per checkout,
# listening on 127.0.0.1 only, with trust authentication on loopback.
#
#   scripts/postgres.sh start    initialise the cluster if needed, start it, ensure the
#                                `broadsheet` role (CREATEDB) and database exist
#   scripts/postgres.sh stop     stop it (a no-op when it is not running)
#   scripts/postgres.sh status   say whether it runs; exits 0 when running, 3 when not
#   scripts/postgres.sh url      print the DATABASE_URL, e.g.
#                                DATABASE_URL=$(scripts/postgres.sh url) .venv/bin/pytest
#
# Environment:
#   BROADSHEET_PG_PORT  TCP port (default 54329)
#   PGDATA_DIR          data directory (default var/postgres in this checkout)
#   BROADSHEET_PG_BIN   server binaries (default /usr/lib/postgresql/15/bin, Debian's
#                       postgresql-15 package)
#   BROADSHEET_PG_USER  when run as root: the unprivileged user that runs the server
#                       (default `postgres` if it exists, else a `broadsheet-pg` system user)
#
# PostgreSQL refuses to run as root. Run as root (as CI does), this script runs initdb and
# pg_ctl as that unprivileged user, which owns the data directory. If that user cannot reach
# the checkout (say it lives under /root), the default data directory moves to
# /tmp/broadsheet-pg-<uid>-<checksum of the checkout path>.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
PG_BIN=${BROADSHEET_PG_BIN:-/usr/lib/postgresql/15/bin}
PORT=${BROADSHEET_PG_PORT:-54329}
HOST=127.0.0.1
DB_NAME=broadsheet
DB_ROLE=broadsheet
SUPERUSER=postgres

die() {
  echo "postgres.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start|stop|status|url" >&2
  exit 2
}

case $PORT in
  '' | *[!0-9]*) die "BROADSHEET_PG_PORT must be a port number, not '$PORT'" ;;
esac

is_root() { [ "$(id -u)" -eq 0 ]; }

require_binaries() {
  local tool
  for tool in initdb pg_ctl postgres psql; do
    if [ ! -x "$PG_BIN/$tool" ]; then
      die "PostgreSQL 15 server binaries not found ($PG_BIN/$tool is missing);" \
        "install them with: apt-get install postgresql-15 (or point BROADSHEET_PG_BIN at them)"
    fi
  done
}

# --- Who runs the server -------------------------------------------------------------------

PG_USER=
pick_user() {
  if ! is_root; then
    PG_USER=$(id -un)
  elif [ -n "${BROADSHEET_PG_USER:-}" ]; then
    PG_USER=$BROADSHEET_PG_USER
  elif id -u postgres > /dev/null 2>&1; then
    PG_USER=postgres
  else
    PG_USER=broadsheet-pg
  fi
}

user_exists() { id -u "$PG_USER" > /dev/null 2>&1; }

create_user() {
  user_exists && return 0
  [ "$PG_USER" = broadsheet-pg ] || die "user '$PG_USER' (BROADSHEET_PG_USER) does not exist"
  echo "Creating the system user $PG_USER to run PostgreSQL (it refuses to run as root)."
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$PG_USER"
}

# Run a command as the server's user, from / so that an unreadable working directory
# (a checkout under /root) does not trouble it.
as_pg() {
  if is_root; then
    (cd / && runuser -u "$PG_USER" -- "$@")
  else
    "$@"
  fi
}

# --- Where the data lives -------------------------------------------------------------------

DATA_DIR=
owner_of() { stat -c %U "$1" 2> /dev/null || stat -f %Su "$1"; }

pick_data_dir() {
  if [ -n "${PGDATA_DIR:-}" ]; then
    case $PGDATA_DIR in
      /*) DATA_DIR=$PGDATA_DIR ;;
      *) DATA_DIR=$PWD/$PGDATA_DIR ;;
    esac
  else
    DATA_DIR=$ROOT/var/postgres
    if is_root; then
      mkdir -p "$ROOT/var"
      if ! as_pg test -x "$ROOT/var" 2> /dev/null; then
        # Only root can reach the checkout: keep the cluster where the server's user can.
        DATA_DIR=/tmp/broadsheet-pg-$(id -u)-$(printf %s "$ROOT" | cksum | cut -d' ' -f1)
      fi
    fi
  fi
}

prepare_data_dir() {
  if [ -L "$DATA_DIR" ] || { [ -e "$DATA_DIR" ] && [ ! -d "$DATA_DIR" ]; }; then
    die "$DATA_DIR exists and is not a directory"
  fi
  if is_root; then
    if [ -d "$DATA_DIR" ]; then
      local owner
      owner=$(owner_of "$DATA_DIR")
      case $owner in
        "$PG_USER") ;;
        root) chown -R "$PG_USER:" "$DATA_DIR" ;;
        *) die "$DATA_DIR belongs to $owner; remove it or run as that user" ;;
      esac
    else
      mkdir -p "$(dirname "$DATA_DIR")"
      mkdir -m 700 "$DATA_DIR"
      chown "$PG_USER:" "$DATA_DIR"
    fi
    if ! as_pg test -w "$DATA_DIR"; then
      die "user $PG_USER cannot reach $DATA_DIR (a directory above it is not searchable);" \
        "choose another PGDATA_DIR"
    fi
  else
    mkdir -p "$DATA_DIR"
    [ -O "$DATA_DIR" ] || die "$DATA_DIR belongs to $(owner_of "$DATA_DIR"), not $PG_USER"
    chmod 700 "$DATA_DIR"
  fi
}

initialised() { [ -f "$DATA_DIR/PG_VERSION" ]; }

init_cluster() {
  initialised && return 0
  if [ -n "$(ls -A "$DATA_DIR")" ]; then
    die "$DATA_DIR is neither empty nor a PostgreSQL cluster; remove it and retry"
  fi
  local locale=(--no-locale)
  if locale -a 2> /dev/null | grep -qiE '^c\.utf-?8$'; then
    locale=(--locale=C.UTF-8)
  fi
  echo "Initialising a PostgreSQL cluster in $DATA_DIR"
  as_pg "$PG_BIN/initdb" --pgdata="$DATA_DIR" --username="$SUPERUSER" --encoding=UTF8 \
    "${locale[@]}" --auth=trust > "$DATA_DIR.initdb.log" 2>&1 || {
    cat "$DATA_DIR.initdb.log" >&2
    rm -f "$DATA_DIR.initdb.log"
    die "initdb failed"
  }
  rm -f "$DATA_DIR.initdb.log"
  # Loopback and the socket (inside the 0700 data directory) only; no passwords.
  as_pg tee "$DATA_DIR/pg_hba.conf" > /dev/null << 'EOF'
# Written by scripts/postgres.sh: a development cluster, reachable from this machine only.
local   all   all                  trust
host    all   all   127.0.0.1/32   trust
EOF
  as_pg tee -a "$DATA_DIR/postgresql.conf" > /dev/null << 'EOF'

# Added by scripts/postgres.sh: where and how to listen is rewritten on every start.
include_if_exists 'broadsheet.conf'
EOF
}

# The socket goes inside the data directory when its path fits the 107-byte limit on
# Unix socket paths; otherwise the cluster listens on TCP only.
write_runtime_conf() {
  local sockets=$DATA_DIR
  if [ $((${#DATA_DIR} + 20)) -gt 100 ] || [[ $DATA_DIR == *[\'\\]* ]]; then
    sockets=
  fi
  as_pg tee "$DATA_DIR/broadsheet.conf" > /dev/null << EOF
# Written by scripts/postgres.sh on every start; edit that script, not this file.
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$sockets'
# A throwaway development and test cluster: trade crash safety for speed.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

# --- State ----------------------------------------------------------------------------------

running() {
  initialised || return 1
  as_pg "$PG_BIN/pg_ctl" status --pgdata="$DATA_DIR" > /dev/null 2>&1
}

# The port the running server listens on (line 4 of postmaster.pid).
running_port() { sed -n 4p "$DATA_DIR/postmaster.pid" 2> /dev/null || true; }

psql_super() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" \
    -U "$SUPERUSER" -d postgres "$@"
}

ensure_database() {
  if [ -z "$(psql_super -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'")" ]; then
    psql_super -c "CREATE ROLE $DB_ROLE LOGIN CREATEDB"
  fi
  if [ -z "$(psql_super -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
    psql_super -c "CREATE DATABASE $DB_NAME OWNER $DB_ROLE"
  fi
}

url() { echo "postgres://$DB_ROLE@$HOST:$PORT/$DB_NAME"; }

# --- Commands -------------------------------------------------------------------------------

cmd_start() {
  require_binaries
  pick_user
  is_root && create_user
  pick_data_dir
  prepare_data_dir
  init_cluster
  if running; then
    local port
    port=$(running_port)
    if [ -n "$port" ] && [ "$port" != "$PORT" ]; then
      die "the cluster in $DATA_DIR already runs on port $port, not $PORT; stop it first"
    fi
    echo "PostgreSQL is already running on $HOST:$PORT (data in $DATA_DIR)."
  else
    write_runtime_conf
    local log=$DATA_DIR/server.log
    echo "Starting PostgreSQL on $HOST:$PORT (data in $DATA_DIR, log in $log)."
    if ! as_pg "$PG_BIN/pg_ctl" start --pgdata="$DATA_DIR" --log="$log" --wait \
      --timeout=60 --silent; then
      echo "---- last lines of $log ----" >&2
      tail -n 8 "$log" >&2 || true
      die "PostgreSQL did not start (is port $PORT taken? set BROADSHEET_PG_PORT)"
    fi
  fi
  ensure_database
  echo "DATABASE_URL=$(url)"
}

cmd_stop() {
  require_binaries
  pick_user
  if is_root && ! user_exists; then
    echo "PostgreSQL is not running."
    return 0
  fi
  pick_data_dir
  if ! running; then
    echo "PostgreSQL is not running."
    return 0
  fi
  echo "Stopping PostgreSQL (data in $DATA_DIR)."
  as_pg "$PG_BIN/pg_ctl" stop --pgdata="$DATA_DIR" --mode=fast --wait --timeout=60 --silent
}

cmd_status() {
  require_binaries
  pick_user
  if is_root && ! user_exists; then
    echo "PostgreSQL is not running (no cluster yet)."
    return 3
  fi
  pick_data_dir
  if ! initialised; then
    echo "PostgreSQL is not running (no cluster in $DATA_DIR yet)."
    return 3
  fi
  if running; then
    echo "PostgreSQL is running on $HOST:$(running_port) (pid $(head -n 1 \
      "$DATA_DIR/postmaster.pid"), data in $DATA_DIR)."
    return 0
  fi
  echo "PostgreSQL is not running (data in $DATA_DIR)."
  return 3
}

[ $# -eq 1 ] || usage
case $1 in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) url ;;
  *) usage ;;
esac
