# leadgate: `make demo` runs the main job on the embedded default; `make test` runs the test suite.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-postgres test-spark lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,postgres]'
	touch $(STAMP)

$(VENV)/.spark: $(STAMP)
	$(BIN)/pip install -q -e '.[dev,postgres,spark]'
	touch $(VENV)/.spark

demo: $(STAMP)
	$(BIN)/leadgate generate --out demo --leads 2000 --seed 7
	$(BIN)/leadgate score examples/classic.yaml --leads demo/leads.csv --events demo/events.csv \
		--accounts demo/accounts.csv --as-of 2026-11-01T00:00:00Z --out demo/scores.jsonl
	$(BIN)/python examples/live_demo.py

lint: $(STAMP)
	$(BIN)/ruff check leadgate tests bench examples
	$(BIN)/ruff format --check leadgate tests bench examples
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

test-postgres: $(STAMP)
	$(BIN)/pytest -q -m postgres

test-spark: $(VENV)/.spark
	$(BIN)/pytest -q -m spark

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
