#!/usr/bin/env bash
# The production topology on one machine, on loopback only (docs/deployment.md, "The
# production topology on one machine"):
#
#   Varnish 7 (127.0.0.1:6181, the public address; varnishadm on 6182)
#     -> gunicorn running Broadsheet (127.0.0.1:8100, production settings)
#          -> PostgreSQL 15 (127.0.0.1:54339)
#          -> Redis 7 (127.0.0.1:63790): Django's cache and the task queue
#   the background worker: `manage.py rqworker`, on the queue in Redis
#
#   scripts/prod.sh up       start whatever is not running yet (migrate, collectstatic and,
#                            on an empty database, seed the demo newsroom), then say where
#                            each part listens
#   scripts/prod.sh down     stop exactly what `up` started (by the PIDs it recorded); the
#                            data stays
#   scripts/prod.sh status   say what runs; exits 0 when everything does, 3 otherwise
#
# Everything lives under var/prod (BROADSHEET_PROD_DIR): data, logs, PIDs, the rendered VCL,
# the generated secret key. Ports: BROADSHEET_PROD_PG_PORT, _REDIS_PORT, _APP_PORT,
# _VARNISH_PORT, _VARNISH_ADMIN_PORT; gunicorn's processes: BROADSHEET_PROD_WORKERS (3) and
# BROADSHEET_PROD_THREADS (4 threads each).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
BIN=${BIN:-$ROOT/.venv/bin}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
PROD_DIR=${BROADSHEET_PROD_DIR:-$ROOT/var/prod}
case $PROD_DIR in /*) ;; *) PROD_DIR=$PWD/$PROD_DIR ;; esac

HOST=127.0.0.1
PG_PORT=${BROADSHEET_PROD_PG_PORT:-54339}
REDIS_PORT=${BROADSHEET_PROD_REDIS_PORT:-63790}
APP_PORT=${BROADSHEET_PROD_APP_PORT:-8100}
VARNISH_PORT=${BROADSHEET_PROD_VARNISH_PORT:-6181}
VARNISH_ADMIN_PORT=${BROADSHEET_PROD_VARNISH_ADMIN_PORT:-6182}
WORKERS=${BROADSHEET_PROD_WORKERS:-3}
THREADS=${BROADSHEET_PROD_THREADS:-4}
WORKER_CLASS=${BROADSHEET_PROD_WORKER_CLASS:-gthread}
VARNISH_MEMORY=${BROADSHEET_PROD_VARNISH_MEMORY:-256m}

RUN=$PROD_DIR/run
LOG=$PROD_DIR/log
VCL_SOURCE=$ROOT/deploy/varnish/broadsheet.vcl

die() {
  echo "prod.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 up|down|status" >&2
  exit 2
}

for port in "$PG_PORT" "$REDIS_PORT" "$APP_PORT" "$VARNISH_PORT" "$VARNISH_ADMIN_PORT"; do
  case $port in
    '' | *[!0-9]*) die "ports must be numbers, not '$port'" ;;
  esac
done

is_root() { [ "$(id -u)" -eq 0 ]; }

# PostgreSQL through the same script as the tests' cluster, on a port and data of its own.
postgres() {
  BROADSHEET_PG_PORT=$PG_PORT PGDATA_DIR=$PROD_DIR/postgres "$ROOT/scripts/postgres.sh" "$@"
}

# --- PIDs -----------------------------------------------------------------------------------

# The PID in a pidfile, if that process still runs the program named (a PID left from an
# earlier boot may belong to something else by now).
live_pid() {
  local file=$1 program=$2 pid
  [ -s "$file" ] || return 1
  pid=$(head -n 1 "$file")
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$program" || return 1
  echo "$pid"
}

# Stop the process in a pidfile with SIGTERM, and SIGKILL if it has not gone after a while.
stop_pidfile() {
  local name=$1 file=$2 program=$3 seconds=${4:-20} pid
  if ! pid=$(live_pid "$file" "$program"); then
    echo "${name^} is not running."
    rm -f "$file"
    return 0
  fi
  echo "Stopping $name (pid $pid)."
  kill -TERM "$pid" 2> /dev/null || true
  local waited=0
  while kill -0 "$pid" 2> /dev/null; do
    if [ "$waited" -ge $((seconds * 10)) ]; then
      echo "$name did not stop in ${seconds}s; killing it." >&2
      kill -KILL "$pid" 2> /dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$file"
}

# Wait until a command succeeds, up to a deadline; show the log's tail when it never does.
wait_for() {
  local what=$1 seconds=$2 log=$3
  shift 3
  local tries=0
  until "$@" > /dev/null 2>&1; do
    if [ "$tries" -ge $((seconds * 10)) ]; then
      echo "---- last lines of $log ----" >&2
      tail -n 20 "$log" >&2 || true
      die "$what did not come up in ${seconds}s"
    fi
    sleep 0.1
    tries=$((tries + 1))
  done
}

port_free() {
  ! (exec 3<> "/dev/tcp/$HOST/$1") 2> /dev/null
}

require_port_free() {
  port_free "$1" || die "port $1 ($2) is taken by something prod.sh did not start;" \
    "choose another with $3"
}

# Any HTTP answer at all (the app may answer /healthz 503 while its database warms up).
answers_http() {
  local code
  code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$1") || true
  [ -n "$code" ] && [ "$code" != 000 ]
}

# --- The app's environment ------------------------------------------------------------------

app_env() {
  if [ ! -s "$PROD_DIR/secret-key" ]; then
    (umask 077 && "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))' \
      > "$PROD_DIR/secret-key")
  fi
  export DJANGO_SETTINGS_MODULE=broadsheet.settings.production
  SECRET_KEY=$(cat "$PROD_DIR/secret-key")
  export SECRET_KEY
  export HTTPS=false
  export ALLOWED_HOSTS=${ALLOWED_HOSTS:-127.0.0.1,localhost}
  export DATABASE_URL=postgres://broadsheet@$HOST:$PG_PORT/broadsheet
  export CONN_MAX_AGE=600
  export REDIS_URL=redis://$HOST:$REDIS_PORT/0
  export TASK_BACKEND=django_tasks_rq.RQBackend
  # Varnish holds the pages; the app purges it and trusts the address it adds.
  export BROADSHEET_VARNISH_URLS=http://$HOST:$VARNISH_PORT
  export BROADSHEET_PAGE_CACHE=off
  export BROADSHEET_TRUSTED_PROXIES=1
  # Links in pages, feeds and emails name the public address: Varnish's.
  export BROADSHEET_BASE_URL=http://$HOST:$VARNISH_PORT
  # Media, mail, static files and the demo's logins, apart from `make demo`'s var/.
  export BROADSHEET_VAR_DIR=$PROD_DIR/var
}

# --- PostgreSQL -----------------------------------------------------------------------------

PG_BIN=${BROADSHEET_PG_BIN:-/usr/lib/postgresql/15/bin}

up_postgres() {
  postgres start | grep -v '^DATABASE_URL=' || true
  postgres status > /dev/null || die "PostgreSQL did not start (see $PROD_DIR/postgres/server.log)"
  # scripts/postgres.sh sets up a throwaway cluster for tests (fsync, synchronous commits
  # and full-page writes off). Here a vote acknowledged must survive a crash of the
  # server, as in production: ALTER SYSTEM's settings come after that script's, and win.
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U postgres -d postgres \
    -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
    -c "ALTER SYSTEM SET full_page_writes = on" -c "SELECT pg_reload_conf()" > /dev/null
}

# --- Redis ----------------------------------------------------------------------------------

redis_pid() { live_pid "$RUN/redis.pid" redis-server; }

up_redis() {
  local pid
  if pid=$(redis_pid); then
    echo "Redis is already running on $HOST:$REDIS_PORT (pid $pid)."
    return 0
  fi
  command -v redis-server > /dev/null || die "redis-server not found; apt-get install redis-server"
  require_port_free "$REDIS_PORT" Redis BROADSHEET_PROD_REDIS_PORT
  mkdir -p "$PROD_DIR/redis"
  cat > "$PROD_DIR/redis/redis.conf" << EOF
# Written by scripts/prod.sh on every start; edit that script, not this file.
bind $HOST
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $RUN/redis.pid
logfile $LOG/redis.log
dir $PROD_DIR/redis
# The task queue lives here too: the append-only file keeps queued tasks across restarts.
appendonly yes
appendfsync everysec
# Cache entries all carry a timeout; queued tasks and the purge tokens do not. Evicting only
# keys with a timeout lets the cache fill memory without ever dropping a task or a token.
maxmemory 256mb
maxmemory-policy volatile-lru
EOF
  echo "Starting Redis on $HOST:$REDIS_PORT (data in $PROD_DIR/redis, log in $LOG/redis.log)."
  redis-server "$PROD_DIR/redis/redis.conf"
  wait_for Redis 20 "$LOG/redis.log" redis_ping
}

redis_ping() { [ "$(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2> /dev/null)" = PONG ]; }

# --- The database's contents ----------------------------------------------------------------

# True once the demo newsroom (or anyone's content) is in: any story at all.
has_stories() {
  local count
  count=$("$BIN/python" manage.py shell -c \
    'from broadsheet.news.models import ArticlePage; print(ArticlePage.objects.exists())' \
    2> /dev/null | tail -n 1) || return 1
  [ "$count" = True ]
}

prepare_database() {
  echo "Migrating the database, collecting static files."
  "$BIN/python" manage.py migrate --no-input -v0
  "$BIN/python" manage.py collectstatic --no-input -v0
  if has_stories; then
    echo "The database has stories already: not seeding."
  elif varnish_pid > /dev/null; then
    "$BIN/python" manage.py seed_demo
  else
    # Varnish starts afterwards with an empty cache: nothing to purge, and no warning per
    # story that it cannot be reached.
    BROADSHEET_VARNISH_URLS= "$BIN/python" manage.py seed_demo
  fi
}

# --- gunicorn -------------------------------------------------------------------------------

app_pid() { live_pid "$RUN/gunicorn.pid" gunicorn; }

up_app() {
  local pid
  if pid=$(app_pid); then
    echo "gunicorn is already running on $HOST:$APP_PORT (pid $pid)."
    return 0
  fi
  require_port_free "$APP_PORT" gunicorn BROADSHEET_PROD_APP_PORT
  echo "Starting gunicorn on $HOST:$APP_PORT ($WORKERS processes of $THREADS threads," \
    "log in $LOG/gunicorn.log)."
  # gthread rather than sync: the same throughput here (docs/deployment.md has the
  # figures), Varnish's connections to the app are kept open, and a request waiting on a
  # slow database holds one thread rather than a whole process.
  setsid "$BIN/gunicorn" broadsheet.wsgi --bind "$HOST:$APP_PORT" \
    --workers "$WORKERS" --worker-class "$WORKER_CLASS" --threads "$THREADS" \
    --pid "$RUN/gunicorn.pid" --access-logfile "$LOG/gunicorn-access.log" \
    --error-logfile "$LOG/gunicorn.log" --graceful-timeout 10 --timeout 60 \
    < /dev/null >> "$LOG/gunicorn.log" 2>&1 &
  wait_for gunicorn 60 "$LOG/gunicorn.log" answers_http "http://$HOST:$APP_PORT/healthz"
}

# --- The worker -----------------------------------------------------------------------------

worker_pid() { live_pid "$RUN/worker.pid" rqworker; }

up_worker() {
  local pid
  if pid=$(worker_pid); then
    echo "The worker is already running (pid $pid)."
    return 0
  fi
  echo "Starting the background worker on the Redis queue (log in $LOG/worker.log)."
  # --with-scheduler: the worker also moves deferred tasks (scheduled publishing, the
  # newsletter's send time) onto the queue when they fall due. RQ's default worker forks a
  # child per task, which opens its own database connection: slower than SimpleWorker,
  # but a PostgreSQL restart cannot leave it holding a dead connection.
  setsid "$BIN/python" manage.py rqworker default --job-class django_tasks_rq.Job \
    --with-scheduler < /dev/null >> "$LOG/worker.log" 2>&1 &
  echo $! > "$RUN/worker.pid"
  sleep 0.5
  worker_pid > /dev/null || {
    tail -n 20 "$LOG/worker.log" >&2
    die "the worker stopped at once (see $LOG/worker.log)"
  }
}

# --- Varnish --------------------------------------------------------------------------------

varnish_pid() { live_pid "$RUN/varnishd.pid" varnishd; }

# The committed VCL with this topology's backend address (the lines marked "rendered").
render_vcl() {
  local out=$PROD_DIR/varnish/broadsheet.vcl
  sed -E \
    -e "s/^([^=]+= )[^;]+;([[:space:]]*# rendered: app host)$/\1\"$HOST\";\2/" \
    -e "s/^([^=]+= )[^;]+;([[:space:]]*# rendered: app port)$/\1\"$APP_PORT\";\2/" \
    "$VCL_SOURCE" > "$out.tmp"
  if [ "$(grep -c -E "^ +\.(host|port) = \"($HOST|$APP_PORT)\"; +# rendered" "$out.tmp")" != 2 ]; then
    die "could not fill in the backend's address in $VCL_SOURCE (lines marked 'rendered')"
  fi
  mv "$out.tmp" "$out"
  chmod 644 "$out"
  echo "$out"
}

up_varnish() {
  local pid vcl jail=()
  if pid=$(varnish_pid); then
    echo "Varnish is already running on $HOST:$VARNISH_PORT (pid $pid)."
    return 0
  fi
  command -v varnishd > /dev/null || die "varnishd not found; apt-get install varnish varnish-modules"
  require_port_free "$VARNISH_PORT" Varnish BROADSHEET_PROD_VARNISH_PORT
  require_port_free "$VARNISH_ADMIN_PORT" varnishadm BROADSHEET_PROD_VARNISH_ADMIN_PORT
  mkdir -p "$PROD_DIR/varnish"
  vcl=$(render_vcl)
  if [ ! -s "$PROD_DIR/varnish/secret" ]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$PROD_DIR/varnish/secret")
  fi
  # As root, Varnish drops to its own users (varnish, vcache), who must be able to read the
  # VCL; a checkout only root can reach (say under /root) runs it without that jail.
  if is_root && ! runuser -u varnish -- test -r "$vcl" 2> /dev/null; then
    echo "The varnish user cannot read $vcl: running Varnish without its privilege jail."
    jail=(-j none)
  fi
  echo "Starting Varnish on $HOST:$VARNISH_PORT ($VARNISH_MEMORY of cache, log in $LOG/varnish.log)."
  varnishd "${jail[@]}" -a "$HOST:$VARNISH_PORT" -T "$HOST:$VARNISH_ADMIN_PORT" \
    -S "$PROD_DIR/varnish/secret" -f "$vcl" -n "$PROD_DIR/varnish/work" \
    -s "malloc,$VARNISH_MEMORY" -P "$RUN/varnishd.pid" >> "$LOG/varnish.log" 2>&1 ||
    {
      tail -n 20 "$LOG/varnish.log" >&2
      die "varnishd did not start"
    }
  wait_for Varnish 30 "$LOG/varnish.log" answers_http "http://$HOST:$VARNISH_PORT/healthz"
}

# --- Commands -------------------------------------------------------------------------------

table() {
  local pg_state redis_state app_state worker_state varnish_state pid
  pg_state=$(postgres status > /dev/null 2>&1 && echo running || echo stopped)
  redis_state=$(pid=$(redis_pid) && echo "running (pid $pid)" || echo stopped)
  app_state=$(pid=$(app_pid) && echo "running (pid $pid)" || echo stopped)
  worker_state=$(pid=$(worker_pid) && echo "running (pid $pid)" || echo stopped)
  varnish_state=$(pid=$(varnish_pid) && echo "running (pid $pid)" || echo stopped)
  printf '\n%-24s %-22s %s\n' part address state
  printf '%-24s %-22s %s\n' "Varnish (public)" "http://$HOST:$VARNISH_PORT/" "$varnish_state"
  printf '%-24s %-22s %s\n' "varnishadm" "$HOST:$VARNISH_ADMIN_PORT" \
    "varnishadm -n $PROD_DIR/varnish/work"
  printf '%-24s %-22s %s\n' "gunicorn (the app)" "http://$HOST:$APP_PORT/" "$app_state"
  printf '%-24s %-22s %s\n' "worker (rqworker)" "queue 'default'" "$worker_state"
  printf '%-24s %-22s %s\n' "Redis" "$HOST:$REDIS_PORT" "$redis_state"
  printf '%-24s %-22s %s\n' "PostgreSQL 15" "$HOST:$PG_PORT" "$pg_state"
  printf '\nState, logs and PIDs: %s\n' "$PROD_DIR"
}

cmd_up() {
  [ -x "$BIN/python" ] || die "$BIN/python is missing; run make install first"
  mkdir -p "$PROD_DIR" "$RUN" "$LOG"
  cd "$ROOT"
  trap 'echo "prod.sh: up stopped half-way; scripts/prod.sh status shows what runs," \
    "make prod-down stops it." >&2' EXIT
  app_env
  up_postgres
  up_redis
  if app_pid > /dev/null; then
    echo "gunicorn is running already: not migrating or seeding."
  else
    prepare_database
  fi
  up_app
  up_worker
  up_varnish
  trap - EXIT
  table
  echo
  echo "The newsroom: http://$HOST:$VARNISH_PORT/  (sign in at /admin/;" \
    "logins in $PROD_DIR/var/demo-logins.txt)"
  echo "Stop everything: make prod-down (or scripts/prod.sh down); the data stays in $PROD_DIR."
}

cmd_down() {
  stop_pidfile Varnish "$RUN/varnishd.pid" varnishd
  stop_pidfile "the worker (rqworker)" "$RUN/worker.pid" rqworker
  stop_pidfile gunicorn "$RUN/gunicorn.pid" gunicorn 30
  stop_pidfile Redis "$RUN/redis.pid" redis-server
  if [ -d "$PROD_DIR/postgres" ]; then
    postgres stop
  else
    echo "PostgreSQL is not running."
  fi
}

cmd_status() {
  table
  redis_pid > /dev/null && app_pid > /dev/null && worker_pid > /dev/null &&
    varnish_pid > /dev/null && postgres status > /dev/null 2>&1 || return 3
}

[ $# -eq 1 ] || usage
case $1 in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) usage ;;
esac
