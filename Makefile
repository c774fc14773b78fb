# The targets humans and .ci/run share. Needs only Python 3.11, make and git.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test test-sqlite test-postgres lint format check install clean bench prod-up prod-down

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

install: $(VENV)/.installed

## make demo: install, migrate, seed the demo newsroom, serve on http://127.0.0.1:8000
demo: install
	BIN=$(BIN) ./scripts/demo.sh

## make prod-up: the production topology on loopback: PostgreSQL 15, Redis 7, gunicorn, the
## RQ worker and Varnish 7 in front on http://127.0.0.1:6181; state and logs under var/prod
prod-up: install
	BIN=$(BIN) ./scripts/prod.sh up

## make prod-down: stop exactly what prod-up started; the data stays in var/prod
prod-down:
	./scripts/prod.sh down

## make test: lint, Django checks, the suite on SQLite, then on PostgreSQL 15 when its
## server binaries are installed (Debian's postgresql-15; .ci/run installs them).
test: install lint check test-sqlite test-postgres

test-sqlite: install
	$(BIN)/pytest

test-postgres: install
	BIN=$(BIN) ./scripts/test-postgres.sh

check: install
	DJANGO_SETTINGS_MODULE=broadsheet.settings.test $(BIN)/python manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=broadsheet.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make bench: votes and comments per second over real HTTP (needs Debian's wrk)
bench: install
	$(BIN)/python bench/engagement_load.py --duration 20

## make bench-newsletter: the daily issue to 10k, 30k and 100k subscribers through a loopback
## SMTP sink: messages/s, peak memory, and whether memory grows with the list
.PHONY: bench-newsletter
bench-newsletter: install
	$(BIN)/python bench/newsletter_send.py --scaling

## make bench-wire: 10,000 agency items (NewsML-G2, ninjs, RSS) parsed, then ingested into
## articles by manage.py ingest: items/s for each, and the memory used
.PHONY: bench-wire
bench-wire: install
	$(BIN)/python bench/wire_ingest.py

## make bench-discovery: search, feeds and sitemaps on 100,000 articles, SQLite and
## PostgreSQL: search p50/p95 and each feed and sitemap page, uncached
.PHONY: bench-discovery
bench-discovery: install
	$(BIN)/python bench/discovery.py

## make bench-serving: the article page through Varnish, from the app's own page cache,
## uncached (SQLite, PostgreSQL) and as an nginx static file, against stock Wagtail,
## WordPress and Ghost set up from ../shared/peers: req/s, p50/p99 and the issue's ratios
.PHONY: bench-serving
bench-serving: install
	$(BIN)/python bench/serving.py --with-ghost

## make bench-drill: the breaking-news drill on scripts/prod.sh's topology (started if it is
## not running): readers, voters, commenters and an editor, calm, then with gunicorn's
## workers killed and restarted, then PostgreSQL restarted; about seven minutes
.PHONY: bench-drill
bench-drill: install
	$(BIN)/python bench/drill.py

clean:
	rm -rf $(VENV) var/static
