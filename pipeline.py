#!/usr/bin/env python3
"""taking-stock's front door: `python pipeline.py` rebuilds what changed; `--help` for more.

The steps are declared in `takingstock/pipeline_steps.py` (the installed `taking-stock` command
runs the same ones); running them (parameter checks, cache, grid, threads, failure reports) is
the `takingstock.runner` package's job. See docs/pipeline.md.
"""

from __future__ import annotations

import sys

from takingstock.pipeline_steps import STEPS
from takingstock.runner import exit_process, main

if __name__ == "__main__":
    exit_process(main(sys.argv[1:], STEPS))
