#!/usr/bin/env bash
# The test suite on PostgreSQL 15 (`make test-postgres`). Starts the checkout's cluster
# with scripts/postgres.sh, runs pytest against it (extra arguments go to pytest), and
# stops the cluster again if this script started it. Exits with pytest's status.
#
# Without the server binaries the run is skipped, unless REQUIRE_POSTGRES=1 (as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PG_BIN=${BROADSHEET_PG_BIN:-/usr/lib/postgresql/15/bin}

missing=
for tool in initdb pg_ctl postgres psql; do
  [ -x "$PG_BIN/$tool" ] || missing="${missing:+$missing, }$tool"
done
if [ -n "$missing" ]; then
  if [ "${REQUIRE_POSTGRES:-0}" = 1 ]; then
    echo "test-postgres: REQUIRE_POSTGRES=1 but the PostgreSQL 15 server binaries are" \
      "missing from $PG_BIN ($missing); install them with: apt-get install postgresql-15" >&2
    exit 1
  fi
  echo "Skipping the PostgreSQL run: no PostgreSQL 15 server binaries in $PG_BIN" \
    "(apt-get install postgresql-15, or set BROADSHEET_PG_BIN, to enable it)."
  exit 0
fi

# Leave a cluster a developer already had running alone; stop one started here.
started=0
trap '[ "$started" = 0 ] || scripts/postgres.sh stop || echo "could not stop PostgreSQL" >&2' EXIT

if ! scripts/postgres.sh status > /dev/null 2>&1; then
  started=1
fi
scripts/postgres.sh start

DATABASE_URL=$(scripts/postgres.sh url)
export DATABASE_URL
# This run happens a year and ten hours from now (tests/conftest.py, shifted_clock): a
# test that mixes the real date or time of day with one it sets fails here, on any day,
# instead of on the day the calendar catches up with it.
export BROADSHEET_TEST_CLOCK_SHIFT=${BROADSHEET_TEST_CLOCK_SHIFT:-8770h}
echo "Running the test suite on PostgreSQL ($DATABASE_URL), clock moved $BROADSHEET_TEST_CLOCK_SHIFT ahead"
status=0
"$BIN/pytest" "$@" || status=$?
exit "$status"
