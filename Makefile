# taking-stock: `make report` rebuilds everything, `make test` runs the tests.
# Both set themselves up: a virtual environment in .venv with requirements.txt installed,
# and Debian's Chromium for static figures and browser checks (installed when missing and
# we are root with apt-get; otherwise a notice and the static files are skipped).

## GLOBALS
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help setup chromium report test test-fast bench explore clean

## COMMANDS
help:            ## list the commands
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

setup: $(STAMP) chromium  ## create .venv, install requirements and Chromium

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

chromium:        ## install Debian's chromium if it is missing (root only)
	@bash scripts/ensure-chromium.sh

report: setup    ## rebuild every table, figure and briefing
	$(PY) pipeline.py

test: setup      ## run the whole test suite
	$(PY) -m pytest

test-fast: setup ## unit tests only (no notebooks, no browser)
	$(PY) -m pytest -m "not slow"

bench: setup     ## run the benchmarks (see bench/README.md)
	$(PY) bench/run_bench.py

explore: setup   ## add JupyterLab for exploring the notebooks
	$(PY) -m pip install --quiet -r requirements-explore.txt
	@echo "start it with: $(VENV)/bin/jupyter lab notebooks/"

clean:           ## remove rebuilt outputs (keeps .venv and data/raw)
	rm -rf output/* data/processed/*
	touch output/.gitkeep data/processed/.gitkeep
