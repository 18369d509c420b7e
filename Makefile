# Audotics: `make run` starts the platform with demo data, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck pytest install system-deps bench clean lock

# constraints.txt pins what the suite was last green with, so a fresh machine gets the same
# versions (a new redis-py once changed its type annotations and failed mypy on CI only).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -c "from audotics.ml import kernels; kernels.warm_up()"  # compile once
	touch $(STAMP)

install: $(STAMP)

# Real PostgreSQL and Redis servers for the test suite (started on loopback by the tests).
system-deps:
	@./scripts/install-system-deps.sh

run: $(STAMP)
	$(BIN)/audotics migrate
	$(BIN)/audotics demo
	$(BIN)/audotics serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-deps
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP) system-deps
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .audotics .pytest_cache .mypy_cache .ruff_cache

# Refresh the pins after changing dependencies: fresh resolve, then freeze.
lock:
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	( echo '# Versions the test suite was last green with (pip freeze of .venv); refresh with `make lock`.'; \
	  $(BIN)/pip freeze --exclude-editable ) > constraints.txt
	touch $(STAMP)
