# Patrol: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PWA_SOURCES := $(shell find pwa/src pwa/build.mjs pwa/package.json -type f 2>/dev/null)

.PHONY: run test test-python test-e2e-pg test-pwa serve build-pwa install chromium bench clean help

help:
	@echo "make run    install everything, load demo data (first time) and start on http://127.0.0.1:8000"
	@echo "make test   install test needs (incl. Chromium) and run unit, integration and browser tests"
	@echo "make bench  run the benchmarks: sync apply, analytics, live fan-out (see docs/perf.md)"
	@echo "make clean  remove the virtualenv, node_modules and the built front end (keeps data/)"

run: install build-pwa
	$(BIN)/patrol seed --demo --if-empty
	$(BIN)/patrol serve

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Patrol needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

build-pwa: pwa/dist/.built

pwa/node_modules/.installed: pwa/package.json pwa/package-lock.json
	cd pwa && npm ci --no-audit --no-fund
	touch $@

pwa/dist/.built: pwa/node_modules/.installed $(PWA_SOURCES)
	cd pwa && npm run build
	touch $@

# A Chromium for Playwright: the system one, Playwright's own, or Debian's package.
chromium: install
	@if exe=$$($(BIN)/python -m e2e.browser 2>/dev/null); then \
	  echo "browser for e2e: $$exe"; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "installing Debian's chromium for the browser tests"; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium && $(BIN)/python -m e2e.browser; \
	else \
	  $(BIN)/python -m e2e.browser; \
	fi

test: install build-pwa chromium test-pwa test-python test-e2e-pg

test-pwa: pwa/node_modules/.installed
	cd pwa && npm test

test-python:
	$(BIN)/python -m pytest

# The browser tests once more with the server on PostgreSQL (each server in a throwaway schema).
PG_DSN = $${PATROL_TEST_PG_DSN:-postgresql://postgres@127.0.0.1:5432/test}
test-e2e-pg:
	@if PATROL_TEST_PG_DSN=$(PG_DSN) $(BIN)/python -c 'import asyncio, os, asyncpg; \
	    asyncio.run(asyncpg.connect(os.environ["PATROL_TEST_PG_DSN"], timeout=3))' 2>/dev/null; then \
	  PATROL_E2E_DATABASE_URL=$(PG_DSN) $(BIN)/python -m pytest e2e; \
	elif [ "$$PATROL_REQUIRE_PG" = 1 ]; then \
	  echo "PostgreSQL is required (PATROL_REQUIRE_PG=1) but not reachable at $(PG_DSN)"; exit 1; \
	else \
	  echo "PostgreSQL not reachable at $(PG_DSN): browser tests on PostgreSQL skipped"; \
	fi

# Fault scenarios against real `patrol serve` processes (docs/reliability.md): kill -9 in a
# reconnect storm, a PostgreSQL outage, reset/duplicated/reordered connections, a slow console,
# two instances with one killed; each on SQLite and PostgreSQL where it applies, after the
# negative control. Not part of `make test` (a short smoke run of it is, in tests/chaos).
.PHONY: test-chaos
test-chaos: install
	PATROL_TEST_PG_DSN=$(PG_DSN) $(BIN)/python -m tests.chaos --negative-control --database sqlite --seconds 5
	PATROL_TEST_PG_DSN=$(PG_DSN) $(BIN)/python -m tests.chaos --scale 2 --seconds 20

# Benchmarks print figures (docs/perf.md says what was measured, with the same commands).
bench: install
	PYTHONPATH=. $(BIN)/python -m server.services.sync_bench
	$(BIN)/python -m server.analytics.bench --runs 7 --scale 1 10
	$(BIN)/python -m server.realtime.bench --officers 2000 --dispatchers 20 --rate 200 --seconds 20

clean:
	rm -rf $(VENV) pwa/node_modules pwa/dist
