# bakekit: `make demo` and `make test` are the two commands a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/bakekit demo

test: $(VENV)/.installed-test
	$(BIN)/ruff check bakekit tests benchmarks
	$(BIN)/mypy bakekit
	scripts/with-postgres.sh sh -c '$(BIN)/pytest && $(BIN)/pytest --nbval-lax -p no:cacheprovider notebooks/'

lint: $(VENV)/.installed-test
	$(BIN)/ruff check bakekit tests benchmarks
	$(BIN)/mypy bakekit

bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e ".[test,bench]"
	scripts/with-postgres.sh $(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
