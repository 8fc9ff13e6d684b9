# doorpin: `make run` serves the demo, `make test` runs every check CI runs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint typecheck unit bench install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs are pinned by constraints.txt, so a fresh machine gets exactly the tested versions.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/doorpin db upgrade
	$(BIN)/doorpin demo --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install-test
	$(BIN)/mypy src

test: lint typecheck
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

unit: install-test
	$(BIN)/pytest tests/unit -q

# Benchmarks run on SQLite and PostgreSQL; without DOORPIN_TEST_POSTGRES_URL a throwaway server is started.
bench: install-test
	@if [ -n "$$DOORPIN_TEST_POSTGRES_URL" ]; then $(BIN)/python -m benchmarks; else \
	  eval "$$(scripts/throwaway-postgres start)" && trap 'scripts/throwaway-postgres stop "$$PG_THROWAWAY_DIR"' EXIT && \
	  $(BIN)/python -m benchmarks; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
