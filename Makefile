# Every target works from a fresh clone with only python3 on PATH.
# `make install` creates .venv and reruns only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SCHEMA ?=

.DEFAULT_GOAL := help
.PHONY: help demo bench install generate check-generated lint typecheck pytest test schema schema-check clean

help:
	@echo "make demo             the client against a local Kraken sandbox (no network, no credentials)"
	@echo "make test             install, check generated code, lint, typecheck, run the tests"
	@echo "make bench            per-call cost, import time, generate time, memory (bench/results.json)"
	@echo "make generate         rebuild generated/ from schema.graphql + queries/ + codegen.toml"
	@echo "make check-generated  fail if generated/ is not what make generate produces"
	@echo "make schema           replace schema.graphql by introspecting KRAKEN_URL"
	@echo "make schema-check SCHEMA=path   report what a candidate schema breaks for us"

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/python tools/demo.py

bench: $(INSTALLED)
	$(BIN)/python bench/run.py

generate: $(INSTALLED)
	$(BIN)/python tools/generate.py

check-generated: $(INSTALLED)
	$(BIN)/python tools/generate.py --check

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy oeus_kraken examples tools bench

pytest: $(INSTALLED)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: install check-generated lint typecheck pytest

schema: $(INSTALLED)
	$(BIN)/python tools/schema_tool.py fetch

schema-check: $(INSTALLED)
	@test -n "$(SCHEMA)" || { echo "usage: make schema-check SCHEMA=path/to/candidate.graphql"; exit 2; }
	$(BIN)/python tools/schema_tool.py check "$(SCHEMA)"

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
