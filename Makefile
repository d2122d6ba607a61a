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
# Pinned versions (HiGHS above all: an upgrade changes solve times and sometimes which optimum is
# found); `make CONSTRAINTS= test` installs the newest releases instead.
CONSTRAINTS ?= constraints.txt
PIN := $(if $(CONSTRAINTS),-c $(CONSTRAINTS),)

.PHONY: run test lint unit bench paper lock clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIN) -e '.[dev]'
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

# Re-pin constraints.txt to what .venv holds now (after an intentional upgrade, re-measure).
lock: $(STAMP)
	@{ sed -n '/^#/p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt.new
	@mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
