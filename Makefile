# Two commands on a fresh machine: `make table` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SPEC   ?= mobilenet_v1

.PHONY: table test lint bench validate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the project metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

table: $(VENV)/.installed
	$(BIN)/lightcost table $(SPEC)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check lightcost tests benchmarks tools
	$(BIN)/ruff format --check lightcost tests benchmarks tools
	$(BIN)/mypy lightcost

test: lint
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/sweep.py

validate: $(VENV)/.installed-test
	$(BIN)/python benchmarks/latency_validation.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
