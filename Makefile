# postroom: `make run` sets up and serves on the embedded store; `make test` sets up and runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS_STAMP := tests/js/node_modules/.installed

.PHONY: run test lint typecheck setup js clean bench fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

js: $(JS_STAMP)

run: $(STAMP)
	$(BIN)/postroom serve --host 127.0.0.1 --port 9700 --data-dir ./postroom-data

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) js lint typecheck
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=15

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Not part of `make test`: mutated SDK requests against a server it starts (bench/fuzz.py).
FUZZ_ARGS ?= --count 1000000
fuzz: $(STAMP)
	$(BIN)/python bench/fuzz.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) tests/js/node_modules postroom-data
