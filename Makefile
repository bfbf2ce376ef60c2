# taking-stock: `make report` rebuilds everything, `make test` runs the tests.
# Both set themselves up (saying what they do): a virtual environment in .venv with
# requirements.txt installed and the package in editable mode,
# Debian's Chromium for static figures, the PDF edition and browser checks, and Debian's
# poppler-utils for the PDF checks (each installed when missing and we are root with apt-get;
# otherwise a notice, and what needs it is skipped).

## GLOBALS
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help setup chromium poppler report test test-fast bench explore clean

## COMMANDS
help:            ## list the commands
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

setup: $(STAMP) chromium poppler  ## create .venv, install requirements, Chromium and poppler-utils

$(STAMP): requirements.txt requirements-runtime.txt pyproject.toml
	@echo "Creating the virtual environment $(VENV) (a few seconds)..."
	$(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned packages into $(VENV) (first time: about 5 minutes)..."
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@echo "Installing the takingstock package (editable) and its taking-stock command..."
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)
	@echo "Set-up done: $(VENV) is ready (make setup only reinstalls when the requirements change)."

chromium:        ## install Debian's chromium if it is missing (root only)
	@bash scripts/ensure-chromium.sh

poppler:         ## install Debian's poppler-utils if missing (root only; for the PDF checks)
	@bash scripts/ensure-poppler.sh

report: setup    ## rebuild every table, figure, briefing and the PDF edition
	@echo "Rebuilding what is out of date (a first run: a few minutes; output/briefings/index.html)..."
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
