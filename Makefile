# The two commands of the README: `make run` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-postgres postgres postgres-deps install migrate demo lint check-contract check-contract-adopted browser-deps screenshots demo-roadmap clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

## Create the virtualenv if missing, install, migrate and serve on http://$(HOST):$(PORT)/
run: migrate
	$(PY) manage.py runserver $(HOST):$(PORT)

## The whole test suite; installs Debian's Chromium for the browser test first if missing.
test: $(STAMP) browser-deps
	$(PY) -m pytest

## The same suite on PostgreSQL: a throwaway cluster (Debian's postgresql, run as a non-root
## user, listening only on a private socket) is created, migrated by the tests, and removed.
test-postgres: $(STAMP) browser-deps postgres-deps
	$(PY) deploy/local_postgres.py run -- $(PY) -m pytest

## A local PostgreSQL to try Motus on (data in .postgres/); prints the DATABASE_URL to export.
postgres: postgres-deps
	$(PYTHON) deploy/local_postgres.py start .postgres

## Debian's PostgreSQL server programs: installed with apt-get when run as root; otherwise
## stops at once with the one command to run.
postgres-deps:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	  else \
	    echo "PostgreSQL's server is missing: run 'sudo apt-get install postgresql', then make test-postgres again." >&2; \
	    exit 1; \
	  fi; }

## Load the contract's optional demo programs/products/features/standards.
demo: migrate
	$(PY) manage.py load_demo_data

## A 150-item demo roadmap with work in flight (on an empty database).
demo-roadmap: migrate
	$(PY) manage.py demo_roadmap

## The README's screenshots (docs/*.png) on a 150-item demo roadmap (manage.py demo_roadmap).
screenshots: $(STAMP) browser-deps
	$(PY) docs/screenshots.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Compare a freshly migrated database with ../shared/contract (the CI does this too).
check-contract: $(STAMP)
	tmp=$$(mktemp -d) && MOTUS_DB_PATH=$$tmp/coordination.db $(PY) manage.py migrate --noinput -v0 \
	  && python3 ../shared/contract/check_schema.py $$tmp/coordination.db --seed

## The same check on a file the `motus` tool created (built by tests/upstream_file.py), adopted by migrate.
check-contract-adopted: $(STAMP)
	tmp=$$(mktemp -d) && MOTUS_DB_PATH=$$tmp/template.db $(PY) manage.py migrate --noinput -v0 \
	  && $(PY) tests/upstream_file.py $$tmp/template.db $$tmp/coordination.db \
	  && MOTUS_DB_PATH=$$tmp/coordination.db $(PY) manage.py migrate --noinput -v0 \
	  && python3 ../shared/contract/check_schema.py $$tmp/coordination.db --seed --allow-upstream-runtime

## Debian's Chromium for the browser tests: installed with apt-get when run as root; otherwise
## stops at once with the one command to run.
browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "The browser test needs Debian's Chromium: run 'sudo apt-get install chromium', then make test again." >&2; \
	    exit 1; \
	  fi; }

clean:
	rm -rf $(VENV) staticfiles test-artifacts
	-$(PYTHON) deploy/local_postgres.py stop .postgres 2>/dev/null; rm -rf .postgres
