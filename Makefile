# `make run` and `make test` work on a fresh machine with only Python and make:
# each (re)creates .venv when it is missing or older than pyproject.toml, then does its job.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INSTANCE ?= instances/geo6.yaml
POLICIES ?= bace,delay-first,cost-first,cost-first-spill,sjf,fifo-firstfit,random
RUN_OUT ?= out/geo6
LINT_DIRS := $(wildcard src tests benchmarks scripts)

.PHONY: run test lint unit bench paper clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/bace-opt compare $(INSTANCE) --policies $(POLICIES) --out $(RUN_OUT)

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/ruff format --check $(LINT_DIRS)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest

test: lint unit

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py sim-speed

# The BACE-Pipe paper's experiment on geo6: 864 runs (~2 min on 2 cores), then its tables and plots.
paper: $(STAMP)
	$(BIN)/bace-opt sweep benchmarks/paper.sweep.yaml --out benchmarks/results/paper
	$(BIN)/bace-opt report benchmarks/results/paper

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
