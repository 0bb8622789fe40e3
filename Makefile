# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates .venv on first use, so a fresh machine only needs Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit bench bench-quick clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The peer clients (pycontribs jira, atlassian-python-api) and the profiler for the benches.
$(BIN)/.bench-installed: $(BIN)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/sentineliq demo

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(BIN)/.installed
	$(BIN)/mypy src

unit: $(BIN)/.installed
	$(BIN)/pytest -n 3

test: lint typecheck unit

# Side by side with the peers against the sandbox, plus ingest, rate limit, growth and scale-out
# (PostgreSQL at 127.0.0.1:5432 for scale-out): tables to stdout and bench/results/. About 15 min.
bench: $(BIN)/.bench-installed
	$(BIN)/python bench/sidebyside.py

bench-quick: $(BIN)/.bench-installed
	$(BIN)/python bench/sidebyside.py --quick

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
