# Two commands do all the set-up: `make run` and `make test` (each creates .venv as needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## serve on http://127.0.0.1:8000 (SQLite, local disk, in-process fan-out)
	$(BIN)/python server.py

test: $(STAMP)  ## the whole suite (PostgreSQL/Redis parts need TEST_DATABASE_URL/TEST_REDIS_URL)
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff lint + format check + import-linter contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(STAMP)  ## load test, bare python-socketio vs Parley (needs node + npm; BENCH_ARGS="--rate 2 ...")
	$(BIN)/python bench/run.py $(BENCH_ARGS)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
