"""The ``taking-stock`` command: ``pipeline.py`` for an installed package, run in a project folder.

``pip install .`` installs it (``[project.scripts]`` of ``pyproject.toml``); ``python -m
takingstock`` is the same. It takes every argument ``pipeline.py`` takes (``run``, ``list``,
``fetch-sipri``, ``check-claims``, ``--only``, ``-p``, ...) plus ``--project-dir DIR``: the
project folder to build (its ``notebooks/``, ``data/raw/``, ``data/processed/``, ``output/``).
Without it the folder comes from ``$TAKINGSTOCK_PROJECT``, else the working folder or the nearest
project folder above it (:func:`takingstock.core.paths.find_root`).

``--project-dir`` is taken out of the arguments and put in ``$TAKINGSTOCK_PROJECT`` before any
other module of the package is imported, because :mod:`takingstock.core.paths` fixes the project
folder at import; the kernels the run starts inherit the variable, so the notebooks' defaults
name the same folder.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Sequence

COMMAND = "taking-stock"
PROJECT_OPTION = "--project-dir"
PROJECT_ENV = "TAKINGSTOCK_PROJECT"  # as takingstock.core.paths.PROJECT_ENV (not imported: see the docstring)
EXIT_USAGE = 2  # as takingstock.runner.steps.EXIT_USAGE (not imported: see the docstring)
PREFACE = """\
usage: taking-stock [--project-dir DIR] [run | list | fetch-sipri | check-claims] [options]

  --project-dir DIR   the project folder to build: its notebooks/, data/raw/ (your catalogues,
                      data/raw/sipri/ for SIPRI exports), data/processed/ and output/; default
                      $TAKINGSTOCK_PROJECT, else the working folder or the nearest folder above
                      it holding notebooks/ and data/raw/
  project folder now: {root}

The options below are pipeline.py's (the usage line names it):
"""


def take_project_dir(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """``argv`` without ``--project-dir DIR`` (or ``--project-dir=DIR``), and DIR (None if absent).

    Raises ValueError when the option has no value.
    """
    rest: list[str] = []
    project = None
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == PROJECT_OPTION:
            if i + 1 >= len(args) or args[i + 1].startswith("-"):
                raise ValueError(f"{PROJECT_OPTION} needs a folder")
            project = args[i + 1]
            i += 2
            continue
        if arg.startswith(PROJECT_OPTION + "="):
            project = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return rest, project


def run(argv: Sequence[str] | None = None) -> int:
    """Run ``taking-stock`` with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    try:
        argv, project = take_project_dir(sys.argv[1:] if argv is None else argv)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if project is not None:
        os.environ[PROJECT_ENV] = str(Path(project).expanduser().resolve())
    # lazy: takingstock.core.paths reads $TAKINGSTOCK_PROJECT when first imported, which this sets
    from takingstock.core import paths

    if project is not None and paths.ROOT != Path(os.environ[paths.PROJECT_ENV]):
        # takingstock.core.paths was imported before this call (in the same process): too late
        print(f"error: {PROJECT_OPTION} must be given before takingstock.core.paths is imported "
              f"(the project folder is already {paths.ROOT})", file=sys.stderr)
        return EXIT_USAGE
    if "-h" in argv or "--help" in argv:
        print(PREFACE.format(root=paths.ROOT if paths.is_project(paths.ROOT) else
                             f"none ({paths.ROOT} has no notebooks/ and data/raw/)"))
    elif not paths.is_project(paths.ROOT):
        print(f"error: {paths.ROOT} is not a taking-stock project folder (it needs notebooks/ and "
              f"data/raw/): run taking-stock in one, or name it with {PROJECT_OPTION} DIR or "
              f"${PROJECT_ENV}", file=sys.stderr)
        return EXIT_USAGE
    # lazy: every module below reads the project folder through takingstock.core.paths (see above)
    from takingstock.pipeline_steps import STEPS
    from takingstock.runner import main  # lazy: as above

    # messages name the command as the user typed it (`taking-stock fetch-sipri`, `taking-stock list`)
    command = COMMAND if project is None else f"{COMMAND} {PROJECT_OPTION} {shlex.quote(project)}"
    return main(argv, STEPS, paths.ROOT, command=command)


def main() -> None:
    """The console script: run, then end the process as ``pipeline.py`` does."""
    code = run()
    from takingstock.runner import exit_process  # lazy: as above, after the project folder is set

    exit_process(code)


if __name__ == "__main__":
    main()
