"""The command line of ``pipeline.py``: subcommands, options, ``--params`` files, ``main``.

``pipeline.py [run] [options]`` runs the stale steps; ``list`` prints the steps and every
notebook's parameters; ``fetch-sipri`` and ``check-claims`` hand over to
:func:`takingstock.data.fetch.main` and :func:`takingstock.analysis.claims.check_main`. Exit codes: 0 done,
1 a step failed, 2 bad parameters or usage (nothing was run), 130 interrupted.

Values: ``-p NAME VALUE`` (VALUE read as YAML: ``true``, ``3``, ``[Iraq, Syria]``; a relative
path is taken from the current folder), ``-p STEP.NAME VALUE`` for one step, ``--params FILE``
(a YAML mapping of ``NAME: value``, ``STEP: {NAME: value}`` or ``STEP.NAME: value``, and
``grid:``; relative paths are taken from the file's folder), ``--grid STEP.NAME=V1,V2``
(:mod:`takingstock.runner.grid`). Later sources win at the same scope; a value for one step
always beats a value for all.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import errno
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Sequence


from takingstock.core import paths
from takingstock.runner.grid import parse_grid_option
from takingstock.runner.lock import LockHeld
from takingstock.runner.cells import notebook_parameters
from takingstock.runner.params import YamlProblem, describe, load_yaml
from takingstock.runner.schedule import Pipeline
from takingstock.runner.steps import (DEFAULT_CELL_TIMEOUT, DEFAULT_COMMAND, DEFAULT_JOBS, DEFAULT_LARGE_FILE_MB,
                                      DEFAULT_START_TIMEOUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED,
                                      EXIT_USAGE, Config, ParameterError, Step, cut)

SUBCOMMANDS = {
    "run": "run the steps (the default when no subcommand is given)",
    "list": "list the steps, their notebooks, inputs, outputs and parameters",
    "fetch-sipri": "download a SIPRI trade register export (takingstock.data.fetch)",
    "check-claims": "check the claims ledger against the accepted verdicts (takingstock.analysis.claims)",
}
GRID_KEY = "grid"  # the --params key holding the grid


def build_parser(steps: Sequence[Step]) -> argparse.ArgumentParser:
    """The ``run`` options of ``pipeline.py``."""
    epilog = "subcommands (first argument):\n" + "\n".join(
        f"  {name:<14}{text}" for name, text in SUBCOMMANDS.items())
    epilog += "\n\nsteps: " + ", ".join(s.name for s in steps)
    epilog += ("\n\nexit codes: 0 ok, 1 a step failed (or the output folder cannot be written), 2 bad "
               "parameters or usage, or another run is using the output folder, 130 interrupted (Ctrl-C), "
               "143 terminated (SIGTERM). See docs/pipeline.md.")
    parser = argparse.ArgumentParser(
        prog="pipeline.py", epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Rebuild every table, figure and briefing of taking-stock, skipping what is up to date.")
    parser.add_argument("--params", metavar="FILE", action="append", default=[],
                        help="YAML file of parameters (NAME: value, or STEP: {NAME: value}, grid: ...); repeatable")
    parser.add_argument("-p", "--parameter", nargs=2, metavar=("NAME", "VALUE"), action="append", default=[],
                        help="one parameter, VALUE parsed as YAML; STEP.NAME for one step only")
    parser.add_argument("--grid", action="append", default=[], metavar="STEP.NAME=V1,V2",
                        help="run STEP once per value of NAME (e.g. supply.recipients=Iraq,Syria,Yemen); repeatable")
    parser.add_argument("--force", action="store_true", help="rerun every selected step, even if up to date")
    parser.add_argument("--only", action="append", default=[], metavar="STEP",
                        help="run STEP (always) and any stale step it needs; repeatable")
    parser.add_argument("-j", "--jobs", type=int, default=DEFAULT_JOBS,
                        help=f"steps run side by side in threads (default {DEFAULT_JOBS})")
    parser.add_argument("-k", "--keep-going", action="store_true",
                        help="after a failure, still run every step that does not need the failed one")
    parser.add_argument("--timeout", type=float,
                        default=float(os.environ.get("TAKINGSTOCK_CELL_TIMEOUT", DEFAULT_CELL_TIMEOUT)),
                        help=f"seconds a single cell may run (default {DEFAULT_CELL_TIMEOUT})")
    parser.add_argument("--start-timeout", type=float,
                        default=float(os.environ.get("TAKINGSTOCK_START_TIMEOUT", DEFAULT_START_TIMEOUT)),
                        help=f"seconds to wait for a kernel to start (default {DEFAULT_START_TIMEOUT})")
    parser.add_argument("--fresh-kernels", action="store_true",
                        help="start every kernel as a new process instead of forking it from one "
                             "pre-imported process (slower; see takingstock/runner/forkserver.py)")
    parser.add_argument("--large-file-mb", type=float, default=DEFAULT_LARGE_FILE_MB, metavar="MB",
                        help="steps that hold a file bigger than this (the processed catalogue) run one "
                             f"at a time, to bound memory (default {DEFAULT_LARGE_FILE_MB:g}; see docs/pipeline.md)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for another run using the same output folder to end "
                             "(default: stop at once, exit 2)")
    parser.add_argument("--accept", action="append", default=[], metavar="STEP",
                        help="go on when STEP's check refuses its result (clean: every catalogue row "
                             "rejected), with a warning; repeatable")
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="show cell progress bars (default: only on a terminal outside CI)")
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    return parser


#: The largest ``--params`` file read (a parameters file is a few lines; a bigger one is a mistake
#: or an attack, refused before it is read) and the longest ``-p`` value.
MAX_PARAMS_BYTES = 1_000_000
MAX_VALUE_CHARS = 100_000


def _yaml_value(text: str) -> Any:
    if len(text) > MAX_VALUE_CHARS:
        raise ParameterError(f"-p: a value of {len(text):,} characters; at most {MAX_VALUE_CHARS:,}")
    try:
        return load_yaml(text)
    except YamlProblem as exc:
        if exc.alias:
            raise ParameterError(f"-p {cut(text, 60)!r}: {exc.problem}") from exc
        return text


def _scope(key: str, steps: set[str]) -> tuple[str, str]:
    """``"origin.top_n"`` -> ``("origin", "top_n")``; ``"top_n"`` -> ``("*", "top_n")``."""
    if "." in key and key.split(".", 1)[0] in steps:
        step, name = key.split(".", 1)
        return step, name
    return "*", key


def put(config: Config, steps: set[str], key: str, value: Any, base: Path, raw: str | None) -> None:
    """Record one value with the folder its relative paths are taken from (and its CLI text)."""
    scope, name = _scope(str(key), steps)
    target = config.params if scope == "*" else config.step_params.setdefault(scope, {})
    target[name] = value
    config.bases.setdefault(scope, {})[name] = base
    if raw is not None:
        config.cli_strings.setdefault(scope, {})[name] = raw
    else:  # a later file's value replaces an earlier command-line text
        config.cli_strings.get(scope, {}).pop(name, None)


def _grid_from_file(config: Config, steps: set[str], grid: Any, file: str) -> None:
    if not isinstance(grid, dict):
        raise ParameterError(f"--params {file}: '{GRID_KEY}' must map STEP.NAME to a list of values")
    for key, values in grid.items():
        if key in steps and isinstance(values, dict):
            for name, inner in values.items():
                _grid_from_file(config, steps, {f"{key}.{name}": inner}, file)
            continue
        if not isinstance(values, list):
            raise ParameterError(f"--params {file}: {GRID_KEY}.{key} must be a list of values")
        config.grid[_scope(str(key), steps)] = values


def read_params_file(config: Config, steps: set[str], file: str) -> None:
    """Add one ``--params`` YAML file's values (and grid) to ``config``."""
    path = Path(file)
    try:
        size = path.stat().st_size
        if size > MAX_PARAMS_BYTES:
            raise ParameterError(f"--params {file}: {size / 1e6:.1f} MB; a parameters file is at most "
                                 f"{MAX_PARAMS_BYTES / 1e6:g} MB (nothing was read)")
        raw = path.read_bytes()
        text = raw.decode("utf-8")
        data = load_yaml(text) or {}
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ParameterError(f"--params {file}, line {line}: not UTF-8 text (byte {raw[exc.start]:#04x} at "
                             f"offset {exc.start}); save the file as UTF-8") from None
    except (OSError, YamlProblem) as exc:
        raise ParameterError(f"--params {file}: cannot read it: {cut(exc, 500)}") from exc
    if not isinstance(data, dict):
        raise ParameterError(f"--params {file}: expected a mapping of NAME: value")
    base = path.resolve().parent
    for key, value in data.items():
        if key == GRID_KEY:
            _grid_from_file(config, steps, value, file)
        elif key in steps and isinstance(value, dict):
            for name, inner in value.items():
                put(config, steps, f"{key}.{name}", inner, base, None)
        else:
            put(config, steps, key, value, base, None)


def parse_run_args(argv: Sequence[str], steps: Sequence[Step], root: Path = paths.ROOT,
                   command: str = DEFAULT_COMMAND) -> Config:
    """Turn ``run`` arguments into a :class:`Config` (values are checked by the plan); ``command``
    is how messages name the pipeline's command."""
    args = build_parser(steps).parse_args(list(argv))
    names = {s.name for s in steps}
    config = Config(root=Path(root), command=command, jobs=args.jobs, force=args.force, only=tuple(args.only),
                    keep_going=args.keep_going, execution_timeout=args.timeout,
                    start_timeout=args.start_timeout, fork_kernels=not args.fresh_kernels,
                    large_file_mb=args.large_file_mb, lock_wait=args.wait, accept=tuple(args.accept))
    config.progress = (args.progress if args.progress is not None
                       else sys.stderr.isatty() and not os.environ.get("CI"))
    for file in args.params:
        read_params_file(config, names, file)
    for key, text in args.parameter:
        put(config, names, key, _yaml_value(text), Path.cwd(), text)
    for option in args.grid:
        key, values = parse_grid_option(option)
        config.grid[_scope(key, names)] = values
    return config


def list_steps(steps: Sequence[Step], root: Path = paths.ROOT, out=None) -> None:
    """Print the steps with notebooks, needs, inputs, outputs and parameters."""
    out = out or sys.stdout
    for s in steps:
        print(f"{s.name}: {s.description}", file=out)
        path = Path(root) / s.notebook if s.notebook else None
        if path is not None:
            print(f"  notebook: {s.notebook}" + ("" if path.exists() else "  (missing)"), file=out)
        else:
            print("  function step (no notebook)", file=out)
        print(f"  needs:    {', '.join(s.needs) or '-'}", file=out)
        print(f"  reads:    {', '.join(s.inputs) or '-'}", file=out)
        print(f"  writes:   {', '.join(s.outputs) or '-'}", file=out)
        if path is not None and path.exists():
            print("  parameters:", file=out)
            print(describe(notebook_parameters(path), root), file=out)
        print(file=out)


def main(argv: Sequence[str] | None, steps: Sequence[Step], root: Path = paths.ROOT,
         command: str = DEFAULT_COMMAND) -> int:
    """Entry point of ``pipeline.py`` (and of ``taking-stock``, which passes its ``command``
    name for the messages); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    subcommand = argv[0] if argv and argv[0] in SUBCOMMANDS else "run"
    rest = argv[1:] if argv and argv[0] in SUBCOMMANDS else argv
    if subcommand == "list":
        try:
            list_steps(steps, root)
        except BrokenPipeError:  # `pipeline.py list | head`
            sys.stdout = None
        except ParameterError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return EXIT_OK
    if subcommand == "fetch-sipri":
        # lazy: it loads pandas (through takingstock.data.sipri), ~0.6 s (python -X importtime) a run must not pay
        from takingstock.data.fetch import main as fetch_main

        return int(fetch_main(list(rest)) or 0)
    if subcommand == "check-claims":
        # lazy: it loads pandas, ~1.4 s (python -X importtime) a run must not pay
        from takingstock.analysis.claims import check_main

        return int(check_main(list(rest)) or 0)
    try:
        with sigterm_as_interrupt():
            config = parse_run_args(rest, steps, root, command)
            results = Pipeline(steps, config).run()
    except (ParameterError, LockHeld) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Terminated:
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except OSError as exc:  # a read-only or full output folder: one line, no traceback
        print(f"error: {os_error_text(exc)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_FAILED if any(r.state == "failed" for r in results) else EXIT_OK


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread: the run stops as it does on Ctrl-C (kernels and
    browsers stopped, temporary files and folders removed), then exits 143."""


@contextlib.contextmanager
def sigterm_as_interrupt():
    """While the block runs (in the main thread), SIGTERM raises :class:`Terminated`."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminated(signum, frame):
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def os_error_text(exc: OSError) -> str:
    """One line for a file system error: what could not be done, where, and the likely cause."""
    where = f" {exc.filename}" if exc.filename else ""
    hint = {errno.EROFS: " (the folder is on a read-only file system)",
            errno.EACCES: " (no permission to write there)",
            errno.ENOSPC: " (the disk is full)", errno.EDQUOT: " (the disk quota is used up)"}.get(exc.errno, "")
    return f"cannot write{where}: {exc.strerror or exc}{hint}"


def exit_process(code: int) -> None:
    """End ``pipeline.py`` with ``code`` once everything is written, without the interpreter's
    teardown.

    A run leaves pandas, pyarrow, plotly, nbconvert and their caches in memory, and freeing them
    object by object at exit took ~0.3 s of every run, after the last file was written. So:
    wait for any thread that is not a daemon (as a normal exit does), run the ``atexit``
    handlers (the browser's close among them), flush both streams, then ``os._exit``. Only the
    script calls this; :func:`main` itself returns, for tests and other callers.
    """
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (`pipeline.py | head`): nothing more to say
            pass
    os._exit(code)
