"""Run the pipeline's notebooks in dependency order: parameters, cache, grid, threads, failures.

``pipeline.py`` declares the steps (:class:`Step`: a notebook or a function, the steps it
needs, the files it reads and writes as templates) and calls :func:`main`. The package is
split by job; each module's docstring is the reference for its rules:

* :mod:`~takingstock.runner.steps`: the vocabulary (steps, tasks, results, the run's
  configuration, errors, exit codes);
* :mod:`~takingstock.runner.cells`: reading a ``parameters`` cell and its markers
  (``(path)``, ``(one of: ...)``, ``(min 1)``, ``(recipient)``...);
* :mod:`~takingstock.runner.params`: converting and checking the values given, and the
  messages that list parameters in words;
* :mod:`~takingstock.runner.names`: recipient names checked against the register and the
  crosswalk;
* :mod:`~takingstock.runner.grid`: a step run once per value of a parameter;
* :mod:`~takingstock.runner.plan`: every task of a run with its parameters and run context,
  all checked before anything runs;
* :mod:`~takingstock.runner.cache`: file hashes, the library modules a step uses, cache keys,
  freshness;
* :mod:`~takingstock.runner.execute`: running one notebook or function, the failure message,
  stopping kernels;
* :mod:`~takingstock.runner.schedule`: the scheduler (:class:`Pipeline`);
* :mod:`~takingstock.runner.cli`: the command line and :func:`main`.

A run with nothing to do imports neither papermill nor pandas (the warm path is measured in
``bench/README.md``).
"""

from takingstock.runner.cli import build_parser, exit_process, list_steps, main, parse_run_args
from takingstock.runner.plan import Plan
from takingstock.runner.cells import Param, notebook_parameters, source_cell_number
from takingstock.runner.params import resolve_parameters
from takingstock.runner.schedule import Pipeline, summary_table
from takingstock.runner.steps import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE, Config, ParameterError,
                                      Result, Step, StepContext, StepFailed, Task, default_dirs)


__all__ = ["Config", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_TERMINATED", "EXIT_USAGE", "Param", "ParameterError",
           "Pipeline", "Plan", "Result", "Step", "StepContext", "StepFailed", "Task", "build_parser",
           "default_dirs", "exit_process", "list_steps", "main", "notebook_parameters", "parse_run_args",
           "resolve_parameters", "source_cell_number", "summary_table"]
