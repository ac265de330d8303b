# Two commands: `make run` and `make test`. Everything a target needs is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi.py
HOST ?= 127.0.0.1
PORT ?= 5000
# Every recipe and the processes it starts see them: development's PUBLIC_BASE_URL follows them.
export HOST PORT

.PHONY: run test test-sqlite lint bench install assets chromium migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# The portal's browser scripts (htmx, twilio-video), pinned in package.json and package-lock.json,
# installed from the npm registry and served by the app (never copied into the repository).
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(NODE_STAMP)

assets: $(NODE_STAMP)

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

# Web server on SQLite (instance/telehealth.db) with a local Stripe, demo data seeded; Ctrl-C stops it.
run: seed assets
	PYTHONPATH=. $(BIN)/python scripts/run_dev.py

lint: install
	$(BIN)/ruff check telehealth config tests bench migrations scripts wsgi.py

# The whole suite on PostgreSQL when a server answers (or TEST_DATABASE_URL is set), else SQLite;
# the browser tests in a second process beside the rest (scripts/run_tests.sh).
test: lint assets chromium
	bash scripts/run_tests.sh $(BIN)/python $(PYTEST_ARGS)

# CI's second pass: the browser tests (tests/portal) already ran on PostgreSQL.
test-sqlite: install assets
	TEST_DATABASE_URL=sqlite:// $(BIN)/python -m pytest -q --ignore=tests/portal $(PYTEST_ARGS)

# Throughput and latency as ratios to a bare Flask route, on PostgreSQL, with gunicorn and wrk.
bench: install
	bash bench/ensure_wrk.sh
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules instance/*.db*
