# Two commands do all the set-up on a fresh machine (only Python, pip and make):
#   make run    the service with its web inbox (SQLite file, offline engine, no API key)
#   make test   lint, format check and the test suite
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# empty: the commands' own rule (LEAD_COPILOT_DB, else lead-copilot.db)
DB ?=

.PHONY: run test chaos lint format bench models models-check clean

$(BIN)/lead-copilot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/lead-copilot
	$(BIN)/lead-copilot serve --demo --host $(HOST) --port $(PORT) $(if $(DB),--db $(DB))

test: $(BIN)/lead-copilot
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# The fault-injection tests alone (also part of `make test`); the run ends with
# one line per fault: what was checked and what was seen.
chaos: $(BIN)/lead-copilot
	$(BIN)/python -m pytest -m chaos

format: $(BIN)/lead-copilot
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/lead-copilot
	for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Rebuild every shipped model from its training data (deterministic), or check
# byte for byte that the shipped files are what their data gives.
models: $(BIN)/lead-copilot
	$(BIN)/python -m copilot.evals.retrain

models-check: $(BIN)/lead-copilot
	$(BIN)/python -m copilot.evals.retrain --check

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
