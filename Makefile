# Every target works from a fresh clone with only python3 on PATH.
# `make install` creates .venv and reruns only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SCHEMA ?=
# Set on the command line only (`make schema-check URL=...`): not taken from an environment
# variable that happens to be called URL.
URL =
ALLOW_BREAKING =
# A switch (ALLOW_BREAKING, FAIL_ON_DEPRECATED) is on when set to anything but empty or 0: before,
# `make schema ALLOW_BREAKING=0` counted as on and wrote a schema that breaks our operations.
on = $(filter-out 0,$(strip $(1)))
# `make test-pythons`: the CPython versions it looks for (each gets its own .venv-3.X), and
# REQUIRE_ALL=1 to fail when one of them is not on this machine (CI sets it), on the command
# line or in the environment (a CI job's `env:`; `REQUIRE_ALL =` ignored that one, and a missing
# version passed without a word). REQUIRE_ALL=0 is off, as empty is (any text counted as on).
PYTHONS = 3.10 3.11 3.12 3.13
REQUIRE_ALL ?=

.DEFAULT_GOAL := help
.PHONY: help demo bench install generate check-generated lint typecheck pytest test test-fast test-pythons schema schema-check clean

help:
	@echo "make demo             the client against a local Kraken sandbox (no network, no credentials)"
	@echo "make test             install, check generated code, lint, typecheck, run the tests (the 10 slowest named at the end)"
	@echo "make test-fast        the tests not marked slow: the quick inner loop (every behaviour area, about a minute on 2 cores)"
	@echo "make bench            per-call cost, import time, generate time, memory (bench/results.json)"
	@echo "make install          create .venv with the package (editable) and the dev tools; reruns only when pyproject.toml changes"
	@echo "make generate         rebuild generated/ from schema.graphql + queries/ + codegen.toml (FAIL_ON_DEPRECATED=1: refuse if an operation uses a deprecated element)"
	@echo "make check-generated  fail if generated/ is not what make generate produces"
	@echo "make lint             ruff check and ruff format --check"
	@echo "make typecheck        mypy --strict on oeus_kraken, entry, examples, tools and bench"
	@echo "make pytest           the tests alone, one worker per core and one more (PYTEST_ARGS=... passes options, e.g. -m 'not slow')"
	@echo "make test-pythons     the tests on each CPython 3.10-3.13 found (pyenv or python3.X on PATH), one after another, each in its own .venv-3.X; names those it cannot find (PYTEST_ARGS=... passes options; REQUIRE_ALL=1: a missing version fails)"
	@echo "make schema           refresh schema.graphql from KRAKEN_URL (left as it is when the types are the same, or when it breaks one of our operations: ALLOW_BREAKING=1 writes it anyway)"
	@echo "make schema-check SCHEMA=path | URL=url   dry run: what a candidate file or endpoint changes for us"
	@echo "make clean            remove .venv, the .venv-3.X of test-pythons, the tools' caches and byte code"
	@echo "make help             this list"

install: $(INSTALLED)

# $(INSTALLED) records which PYTHON made the venv, and where (its links and its scripts' #! lines
# are absolute paths). The venv is made again, from scratch, when its python no longer runs (the
# Python it came from was uninstalled or upgraded), when the clone was moved, or when PYTHON is
# named (`make install PYTHON=python3.10`) and is not the one that made it; before, make saw
# .installed, said "Nothing to be done", and every target failed with ".venv/bin/python: No such
# file or directory" until `make clean`, or kept the other Python without a word. An empty
# .installed (made before this record) still counts; so does any PYTHON when none is named.
MADE_WITH = $(PYTHON) in $(CURDIR)
MADE_BY = $(if $(filter file,$(origin PYTHON)),*,'$(PYTHON)')
# The case patterns are in (...) so that make, counting parentheses, sees $(shell ...) whole.
REMAKE := $(shell test -x $(BIN)/python && case "$$(cat $(INSTALLED) 2>/dev/null)" in ('' | $(MADE_BY)' in $(CURDIR)') ;; (*) false;; esac || echo FORCE)

# Its first step says in one line what to do when PYTHON cannot make it; before, "make: python3:
# No such file or directory", or pip's "requires a different Python" after the downloads.
$(INSTALLED): pyproject.toml $(REMAKE)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
	  echo "make: PYTHON=$(PYTHON) does not run a Python 3.10 or newer (not on PATH, or a pyenv shim for a version not selected); name one: make install PYTHON=/path/to/python3.X" >&2; exit 2; }
	$(PYTHON) -m venv $(if $(REMAKE),--clear,) $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade 'pip>=25.1'
	# --group: the PEP 735 dependency group in pyproject.toml (needs pip 25.1).
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[sandbox,codegen,parquet,chart]' --group dev
	echo '$(MADE_WITH)' > $@

# Named by REMAKE: always out of date, so the venv is made again.
FORCE:

demo: $(INSTALLED)
	$(BIN)/python tools/demo.py

bench: $(INSTALLED)
	$(BIN)/python bench/run.py

generate: $(INSTALLED)
	$(BIN)/python tools/generate.py $(if $(call on,$(FAIL_ON_DEPRECATED)),--fail-on-deprecated,)

check-generated: $(INSTALLED)
	$(BIN)/python tools/generate.py --check

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy oeus_kraken entry examples tools bench

# One worker more than this machine's cores, work stealing: about a fifth of the suite's worker
# time is spent waiting (deadlines running out, Retry-After, a child process starting), and the
# extra worker keeps every core busy meanwhile (on 2 cores: 3 workers, 30 s quicker than 2).
# Byte-code caches on even if PYTHONDONTWRITEBYTECODE is set: without them every worker and every
# subprocess compiles the package (and pytest rewrites every test module's asserts) again on each
# run. Both are expanded when a test target runs, not by every make (demo, help). WORKERS asks
# the venv's python, not PYTHON: once installed, python3 need not be on PATH (before, without it,
# pytest got `-n` with no number and stopped on a usage error).
WORKERS = $(shell $(BIN)/python -c "import os; print((len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)) + 1)")
PYTEST = PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(WORKERS) --dist worksteal

pytest: $(INSTALLED)
	$(PYTEST) --durations=10 $(PYTEST_ARGS)

test-fast: $(INSTALLED)
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

test: install check-generated lint typecheck pytest

# Each version runs `make pytest VENV=.venv-3.X PYTHON=...`, so its venv is installed as .venv is;
# PYTEST_ARGS reaches it through MAKEFLAGS.
test-pythons:
	+$(PYTHON) tools/test_pythons.py --make "$(MAKE)" $(if $(filter-out 0,$(REQUIRE_ALL)),--require-all,) $(PYTHONS)

schema: $(INSTALLED)
	$(BIN)/python tools/schema_tool.py fetch $(if $(call on,$(ALLOW_BREAKING)),--allow-breaking,)

# A dry run: compares schema.graphql with a candidate file or with what a live endpoint answers.
schema-check: $(INSTALLED)
	@test -n "$(SCHEMA)$(URL)" || { echo "usage: make schema-check SCHEMA=path/to/candidate.graphql, or URL=https://host/v1/graphql/"; exit 2; }
	$(BIN)/python tools/schema_tool.py check $(if $(URL),--url "$(URL)",) $(if $(SCHEMA),"$(SCHEMA)",)

# test-pythons' venvs by name (.venv-3.10 ... .venv-3.13): a glob, .venv-3.*, also took a user's
# own .venv-3.12-dev. The byte code the test targets write (they turn it on) in the project's own
# folders, and hypothesis's example database, go too; before, both stayed after `make clean`.
CODE_FOLDERS = oeus_kraken generated entry tools bench examples tests
clean:
	rm -rf $(VENV) $(addprefix .venv-,$(PYTHONS)) .mypy_cache .pytest_cache .ruff_cache .hypothesis
	$(if $(wildcard $(CODE_FOLDERS)),find $(wildcard $(CODE_FOLDERS)) -name __pycache__ -type d -prune -exec rm -rf {} +)
