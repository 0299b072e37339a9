# Servio: `make run` serves the embedded default, `make test` runs every check.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2
# Run once, on the SQLite leg: the browser tests (the UI does not change with the database) and
# the drills that start servers and databases of their own. Keeps CI under 20 minutes.
ONE_LEG_ONLY := --ignore=tests/browser --ignore=tests/api/test_outages.py --ignore=tests/core/test_drills.py

.PHONY: run test lint typecheck pytest bench setup clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: setup
	$(BIN)/servio migrate --verbosity 0
	$(BIN)/servio demo --if-empty
	$(BIN)/servio run

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SERVIO_VAR_DIR=var/check $(BIN)/servio makemigrations --check --dry-run

typecheck: $(VENV)/.installed
	SERVIO_VAR_DIR=var/check $(BIN)/mypy servio/core $$(ls -d servio/*/services.py servio/*/services servio/*/selectors.py servio/*/selectors servio/*/workflow.py 2>/dev/null | grep -v '^servio/core/')

pytest: setup
	@echo "== tests on SQLite =="
	SERVIO_VAR_DIR=var/test $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
	@if [ -n "$$SERVIO_TEST_DATABASE_URL" ]; then \
		echo "== tests on PostgreSQL ($$SERVIO_TEST_DATABASE_URL) =="; \
		SERVIO_VAR_DIR=var/test DATABASE_URL="$$SERVIO_TEST_DATABASE_URL" $(BIN)/pytest -n $(PYTEST_WORKERS) $(ONE_LEG_ONLY) $(PYTEST_ARGS); \
	else \
		echo "== PostgreSQL leg skipped: set SERVIO_TEST_DATABASE_URL=postgres://user@127.0.0.1:5432/test to run it =="; \
	fi

test: lint typecheck pytest

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules var .mypy_cache .ruff_cache
