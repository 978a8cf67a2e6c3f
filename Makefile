# Developer entry points. `make example` and `make test` are what the README
# documents; CI runs `make test` (via .ci/run).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
SLOCOMPILER := $(VENV)/bin/slocompiler

EXAMPLE_SPECS := examples/specs
EXAMPLE_OUT   := examples/out

# extra arguments, e.g. `make test PYTEST_ARGS='-k infra -x'`
# or `make bench BENCH_ARGS='--sizes 1000,10000,50000 --repeat 3'`
PYTEST_ARGS ?=
BENCH_ARGS  ?=

.PHONY: help setup promtool lint example test bench clean distclean

help:
	@echo "make example    compile $(EXAMPLE_SPECS) into $(EXAMPLE_OUT) and list the files"
	@echo "make test       lint, type-check and run the test suite (installs promtool if missing)"
	@echo "make lint       ruff and mypy only"
	@echo "make bench      run the benchmark (BENCH_ARGS='--sizes 1000,10000,50000')"
	@echo "make setup      create/refresh $(VENV) only"
	@echo "make clean      remove caches and build artifacts; distclean also removes $(VENV)"

setup:
	@bash scripts/setup.sh

promtool:
	@bash scripts/ensure-promtool.sh

example: setup
	@echo "==> $(SLOCOMPILER) build $(EXAMPLE_SPECS) -o $(EXAMPLE_OUT)"
	@$(SLOCOMPILER) build $(EXAMPLE_SPECS) -o $(EXAMPLE_OUT)
	@echo "==> cd examples/ml-platform && slocompiler build   (paths from its slocompiler.yaml)"
	@cd examples/ml-platform && ../../$(SLOCOMPILER) build
	@echo "==> generated files:"
	@find $(EXAMPLE_OUT) examples/ml-platform/generated -type f | LC_ALL=C sort | sed 's/^/    /'

test: setup promtool lint
	@bash scripts/fetch-sarif-schema.sh
	@echo "==> pytest"
	@$(PY) -m pytest -q $(PYTEST_ARGS)

lint: setup
	@echo "==> ruff check"
	@$(VENV)/bin/ruff check slocompiler tests benchmarks scripts
	@echo "==> mypy"
	@$(VENV)/bin/mypy

bench: setup
	@$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf build dist .pytest_cache .hypothesis *.egg-info out
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
