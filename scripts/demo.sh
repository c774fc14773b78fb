#!/usr/bin/env bash
# The demo newsroom on one machine: SQLite, the in-process cache, the database task queue
# and email written to var/mail. Serves http://127.0.0.1:8000 with gunicorn (two worker
# processes) and runs the background worker beside it; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
mkdir -p var

# The demo runs the production settings, with a key generated once for this checkout.
if [ ! -s var/secret-key ]; then
  "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret-key
fi
export DJANGO_SETTINGS_MODULE=broadsheet.settings.production
SECRET_KEY="$(cat var/secret-key)"
export SECRET_KEY
export HTTPS=false
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-127.0.0.1,localhost}
PORT=${PORT:-8000}
export BROADSHEET_BASE_URL=${BROADSHEET_BASE_URL:-http://127.0.0.1:$PORT}

"$BIN/python" manage.py migrate --no-input -v0
"$BIN/python" manage.py collectstatic --no-input -v0
"$BIN/python" manage.py seed_demo

mkdir -p var/log
"$BIN/python" manage.py db_worker --interval 1 >> var/log/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
echo "Background worker running (pid $WORKER), logging to var/log/worker.log."
echo "Every email the site sends is written to var/mail/, one .eml file per message (open it in any mail program)."
echo
echo "Serving http://127.0.0.1:$PORT/ (another port: PORT=8080 make demo). Ctrl-C stops."
echo "Logins, kept in var/demo-logins.txt: admin, editor, reporter, moderator;" \
  "$(grep '^Password: ' var/demo-logins.txt)"
exec_status=0
"$BIN/gunicorn" broadsheet.wsgi --bind "127.0.0.1:$PORT" --workers 2 --access-logfile - \
  --graceful-timeout 5 || exec_status=$?
exit $exec_status
