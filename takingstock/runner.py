"""Run the pipeline's notebooks in dependency order: parameters, cache, threads, failures.

Method
------
A pipeline is a list of :class:`Step`. A step either executes a notebook with papermill or
calls a Python function (the ``publish`` step). Each step declares the steps it ``needs``,
the files it reads (``inputs``) and the files it writes (``outputs``), as glob templates
filled from the step's parameters (``{raw_dir}/catalogue_*.csv``, ``{processed_dir}/...``,
``{root}``, and ``{sipri}`` = the SIPRI register given, or ``<raw_dir>/sipri/*.csv``).

Kernel and working directory
    Every notebook runs with ``kernel_name="python3"``: the ipykernel of the interpreter that
    runs the pipeline, whatever kernel the notebook's metadata names, so ``NoSuchKernel``
    cannot happen. The kernel starts in the project root (passed to nbclient, never via
    ``os.chdir``, which is process-wide and unsafe with threads); the root is also put on
    ``PYTHONPATH`` so ``import takingstock`` works. ``PLOTLY_RENDERER=notebook`` is set before
    any kernel starts, so plotly figures survive nbconvert's HTML export.

Parameters
    Values come from a YAML file (``--params``) and ``-p NAME VALUE`` (the value is parsed as
    YAML: ``-p fold_successors true`` is a bool). ``-p step.NAME VALUE`` targets one step.
    The shared folders ``raw_dir``, ``processed_dir`` and ``output_dir`` are passed to every
    notebook that declares them, always as absolute paths; a non-empty string given for a path
    parameter (``sipri_register``, ``catalogues``, ``crosswalk``, ``periods``, ``sources``, or a
    name ending in ``_dir``, ``_path``, ``_file``) is made absolute (relative to the current
    directory for ``-p``, to the YAML file's folder for ``--params``).
    Before anything runs, every given parameter is checked against the ``parameters`` cell of
    the notebooks: a name that no notebook declares, or a value whose type differs from the
    default's (bool, int, float, str, list, dict; an int is accepted for a float; a ``None``
    default or one whose type cannot be read accepts anything), stops the run with exit code 2
    and a list of the valid parameters. On the command line a scalar is accepted for a ``str``
    parameter as its text (``-p label 2015`` gives ``"2015"``). ``catalogues`` (a ``str`` path
    parameter, :data:`PATH_LIST_NAMES`) also takes a non-empty list of paths or globs
    (``-p catalogues "[a.csv, more/*.csv]"``); each is made absolute, and each is an input of
    the step that reads it. The parameters cell is read
    with Python's ``ast`` (same rules as ``papermill.inspect_notebook``; a test checks they
    agree) so that a no-change run never imports papermill.

Cache (incremental runs)
    A step's key is the SHA-256 of: the notebook's cells (type, source, tags; outputs,
    execution counts and metadata ignored), its resolved parameters, the content hash of
    every input file, the library code (``takingstock/**/*.py``, ``takingstock/templates/**``,
    ``requirements.txt``; for a function step also the file that defines the function). State
    lives in ``<output_dir>/.cache/``. Files matching a step's own ``outputs`` are left out of
    its inputs (a step that writes into a folder it reads would otherwise always be stale). A step is skipped when its key equals the last
    successful run's key, its executed notebook and recorded outputs still exist, and no step
    it needs reran in this run. File hashes are memoised by (size, mtime in ns): a file whose
    size and mtime are unchanged is not re-read (an edit that keeps both exactly is missed;
    ``--force`` covers that). ``--force`` reruns everything selected; ``--only STEP`` runs
    STEP (always) plus any stale step it needs.

Parallel runs
    ``--jobs N`` runs up to N ready steps at once in threads (toolchain notes: threads are
    clean, separate processes hit kernel port races). The default is 2 (two cores).

Failures
    Executed notebooks are written to a temporary file and moved to
    ``<output_dir>/notebooks/<stem>.ipynb`` only on success. On failure the partial notebook
    goes to ``<output_dir>/notebooks/failed/<stem>.ipynb``; the message names the step, the
    notebook, the failing cell (1-based, counted in the source notebook), a source excerpt
    and the exception; the step's cache entry is dropped; no new step starts (unless
    ``--keep-going``, which still runs whatever does not need the failed step) and the run
    exits with 1. Files a notebook already wrote before failing are its own (each is written
    atomically, so none is half-written); the publish step never runs on a failed input.
    Caveat: after a timeout or a dead kernel papermill returns no partial notebook.

Interrupting
    Ctrl-C stops the run cleanly: the kernels (and any browser) the run started are terminated,
    so the worker threads end at once (papermill keeps no partial notebook of a killed
    kernel), no hidden ``.running`` file is left, the steps are marked
    ``interrupted`` / ``not run`` in the summary, and the exit code is 130. Published outputs
    are untouched: a notebook is only moved into place when it finishes.

Timeouts
    ``--timeout`` (per cell, default 600 s) and ``--start-timeout`` (kernel start, default
    60 s), also from ``TAKINGSTOCK_CELL_TIMEOUT`` / ``TAKINGSTOCK_START_TIMEOUT``.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures as cf
import contextlib
import dataclasses
import glob
import hashlib
import importlib
import inspect
import itertools
import json
import os
import string
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from takingstock import paths
from takingstock.io import sha256_file

DEFAULT_JOBS = 2
DEFAULT_CELL_TIMEOUT = 600
DEFAULT_START_TIMEOUT = 60
SHARED_DIRS = ("raw_dir", "processed_dir", "output_dir")
_PATH_SUFFIXES = ("_dir", "_path", "_file")
_PATH_NAMES = {"sipri_register", "catalogues", "crosswalk", "periods", "sources"}
#: ``str`` path parameters that also take a list of paths or globs (``catalogues``).
PATH_LIST_NAMES = {"catalogues"}


def default_dirs(root: str | os.PathLike) -> dict[str, str]:
    """The shared folders under ``root``, laid out as :mod:`takingstock.paths` lays them out."""
    root = Path(root)
    return {
        "raw_dir": str(root / paths.RAW.relative_to(paths.ROOT)),
        "processed_dir": str(root / paths.PROCESSED.relative_to(paths.ROOT)),
        "output_dir": str(root / paths.OUTPUT.relative_to(paths.ROOT)),
    }

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C (128 + SIGINT)


# --------------------------------------------------------------------------- steps


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of the pipeline.

    Args:
        name: short id used on the command line (``clean``, ``origin``...).
        notebook: notebook path relative to the root, or None for a function step.
        needs: names of the steps that must finish first.
        inputs: glob templates of the files read (see the module docstring).
        outputs: glob templates of the files written.
        func: for a function step, a callable taking a :class:`StepContext`.
        description: one line for ``list``.
    """

    name: str
    notebook: str | None = None
    needs: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    func: Callable[["StepContext"], Any] | None = None
    description: str = ""
    template_defaults: tuple[tuple[str, str], ...] = ()  # {name} used in templates when not given


@dataclasses.dataclass
class StepContext:
    """What a function step receives."""

    step: Step
    params: dict[str, Any]
    output_dir: Path
    executed_notebooks: list[Path]


class MissingDependency(RuntimeError):
    """A function step's module or function is not there (yet): the step is reported as missing."""


class ParameterError(ValueError):
    """A parameter given by the user is unknown or of the wrong type."""


class StepFailed(RuntimeError):
    """A step failed; ``str()`` is the full message for the user."""


@dataclasses.dataclass
class Config:
    """Everything a run needs besides the steps (see :func:`parse_run_args`)."""

    root: Path = paths.ROOT
    params: dict[str, Any] = dataclasses.field(default_factory=dict)  # global user params
    step_params: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    # the command line's raw text for -p values ("*" = global), so "2015" can be a str
    cli_strings: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    jobs: int = DEFAULT_JOBS
    force: bool = False
    only: tuple[str, ...] = ()
    keep_going: bool = False
    execution_timeout: float = DEFAULT_CELL_TIMEOUT
    start_timeout: float = DEFAULT_START_TIMEOUT
    progress: bool = False


# ---------------------------------------------------------------- parameters cell


@dataclasses.dataclass(frozen=True)
class Param:
    """A parameter declared in a notebook's ``parameters`` cell."""

    name: str
    default: str  # the default's source text
    type: str | None  # bool, int, float, str, list, dict, or None = any
    help: str = ""


_TYPE_NAMES = {"bool", "int", "float", "str", "list", "dict"}


def _literal_type(node: ast.AST) -> str | None:
    if isinstance(node, ast.JoinedStr):
        return "str"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _TYPE_NAMES:
        return node.func.id
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        return "list"
    name = type(value).__name__
    return name if name in _TYPE_NAMES else None


def read_notebook(path: str | os.PathLike) -> dict:
    """Read a notebook file as plain JSON (no nbformat import)."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _source(cell: Mapping) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def parameters_cell(nb: Mapping) -> tuple[int, str] | None:
    """Return (index, source) of the first code cell tagged ``parameters``, or None."""
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return index, _source(cell)
    return None


def notebook_parameters(path: str | os.PathLike | Mapping, nb: Mapping | None = None) -> dict[str, Param]:
    """Parameters declared by a notebook: name -> :class:`Param`, in cell order.

    Reads top-level ``name = value`` and ``name: type = value`` lines of the cell tagged
    ``parameters``; a ``# comment`` after the value on the same line becomes the help text
    (a ``#`` inside the value, as in ``colour = "#0b4f8a"``, is not a comment).

    Args:
        path: the notebook file (named in error messages), or the parsed notebook itself.
        nb: the notebook already parsed from ``path`` (it is then not read again).
    """
    if isinstance(path, Mapping):
        path, nb = "<notebook>", path
    found = parameters_cell(nb if nb is not None else read_notebook(path))
    if found is None:
        return {}
    source = found[1]
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{path}: the parameters cell is not valid Python: {exc}") from exc
    lines = source.splitlines()
    out: dict[str, Param] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value, annotation = node.targets[0].id, node.value, None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value, annotation = node.target.id, node.value, node.annotation
        else:
            continue
        kind = _literal_type(value)
        if annotation is not None and isinstance(annotation, ast.Name) and annotation.id in _TYPE_NAMES:
            kind = annotation.id
        line = lines[node.end_lineno - 1] if node.end_lineno else ""
        # end_col_offset counts UTF-8 bytes: what follows the value on its last line
        after = line.encode("utf-8")[node.end_col_offset or 0:].decode("utf-8", "replace")
        help_text = after.split("#", 1)[1].strip() if "#" in after else ""
        out[name] = Param(name, ast.get_source_segment(source, value) or "", kind, help_text)
    return out


def source_cell_number(notebook: Path, cell_index: int, injected: bool) -> int:
    """1-based number, in the source notebook, of cell ``cell_index`` of its parameterised copy.

    papermill inserts its ``injected-parameters`` cell right after the ``parameters`` cell (or
    first when there is none) whenever parameters are passed.
    """
    if not injected:
        return cell_index + 1
    found = parameters_cell(read_notebook(notebook))
    injected_at = found[0] + 1 if found else 0
    if cell_index == injected_at:
        return 0  # the injected parameters cell itself
    return cell_index + 1 if cell_index < injected_at else cell_index


def _type_ok(value: Any, kind: str | None) -> tuple[bool, Any]:
    """Check ``value`` against a declared type; return (ok, value to pass)."""
    if kind is None:
        return True, value
    if kind == "bool":
        return isinstance(value, bool), value
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool), value
    if kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if kind == "str":
        return isinstance(value, str), value
    if kind == "list":
        return isinstance(value, (list, tuple)), list(value) if isinstance(value, (list, tuple)) else value
    if kind == "dict":
        return isinstance(value, dict), value
    return True, value


def is_path_param(name: str) -> bool:
    """True for parameter names that hold a path (made absolute before passing)."""
    return name in _PATH_NAMES or name.endswith(_PATH_SUFFIXES)


def absolutise(name: str, value: Any, base: Path) -> Any:
    """Make a path parameter's non-empty string value (or each string of a list) absolute."""
    if is_path_param(name) and isinstance(value, str) and value:
        return str((base / os.path.expanduser(value)).resolve())
    if name in PATH_LIST_NAMES and isinstance(value, (list, tuple)):
        return [absolutise(name, v, base) for v in value]
    return value


def _path_list_ok(value: Any) -> bool:
    """True for a non-empty list of non-empty strings (paths or globs)."""
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(v, str) and v for v in value))


def _describe(params: Mapping[str, Param]) -> str:
    if not params:
        return "    (no parameters cell)"
    def kind(p: Param) -> str:
        return "str or list of str" if p.name in PATH_LIST_NAMES and p.type == "str" else p.type or "any"

    return "\n".join(
        f"    {p.name} ({kind(p)}) = {p.default}" + (f"  # {p.help}" if p.help else "")
        for p in params.values()
    )


def resolve_parameters(
    steps: Sequence[Step], config: Config, declared: Mapping[str, Mapping[str, Param]]
) -> dict[str, dict[str, Any]]:
    """Check the user's parameters and return each notebook step's parameters.

    Args:
        steps: the pipeline.
        config: holds the user's global (``params``) and per-step (``step_params``) values.
        declared: step name -> its notebook's parameters (only steps whose notebook exists).

    Returns:
        step name -> {name: value} to pass to papermill (only names the notebook declares).

    Raises:
        ParameterError: listing every problem and each notebook's valid parameters.
    """
    names = {s.name for s in steps}
    problems: list[str] = []
    shared = default_dirs(config.root)
    for name, value in config.params.items():
        if not any(name in d for d in declared.values()):
            problems.append(f"unknown parameter {name!r}: no notebook declares it")
    for step, values in config.step_params.items():
        if step not in names:
            problems.append(f"unknown step {step!r} in a step parameter (steps: {', '.join(names)})")
            continue
        if step not in declared:
            problems.append(f"step {step!r} has no notebook to take parameters")
            continue
        for name in values:
            if name not in declared[step]:
                problems.append(f"unknown parameter {step}.{name}: {step}'s notebook does not declare it")
    resolved: dict[str, dict[str, Any]] = {}
    for step, params in declared.items():
        own = config.step_params.get(step, {})
        given = {**shared, **config.params, **own}
        mine: dict[str, Any] = {}
        for name, value in given.items():
            if name not in params:
                continue
            if name in PATH_LIST_NAMES and params[name].type == "str" and isinstance(value, (list, tuple)):
                if not _path_list_ok(value):
                    problems.append(f"parameter {name!r} of step {step!r}: expected a path, a glob or "
                                    f"a non-empty list of them, got {value!r}")
                    continue
                mine[name] = list(value)
                continue
            ok, value = _type_ok(value, params[name].type)
            # the most specific scope wins, for the value and for its command-line text alike
            text = config.cli_strings.get(step if name in own else "*", {}).get(name)
            if not ok and params[name].type == "str" and text is not None and not isinstance(value, (list, dict)):
                ok, value = True, text
            if not ok:
                problems.append(
                    f"parameter {name!r} of step {step!r}: expected {params[name].type} like the "
                    f"default {params[name].default}, got {type(value).__name__} {value!r}"
                )
                continue
            mine[name] = value
        resolved[step] = mine
    if problems:
        lines = ["parameter check failed (nothing was run):"]
        lines += [f"  - {p}" for p in problems]
        lines.append("valid parameters:")
        for step, params in declared.items():
            lines.append(f"  {step} ({next(s.notebook for s in steps if s.name == step)}):")
            lines.append(_describe(params))
        raise ParameterError("\n".join(lines))
    return resolved


# ------------------------------------------------------------------------- hashing


class FileHasher:
    """SHA-256 of files, memoised on disk by (size, mtime_ns) so unchanged files are not read."""

    def __init__(self, memo_path: Path):
        self.memo_path = memo_path
        self._lock = threading.Lock()
        try:
            self.memo: dict[str, list] = json.loads(memo_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.memo = {}
        self.dirty = False

    def hash(self, path: Path) -> str:
        """Return the content hash of ``path``."""
        st = path.stat()
        key = str(path)
        with self._lock:
            hit = self.memo.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        value = sha256_file(path)
        with self._lock:
            self.memo[key] = [st.st_size, st.st_mtime_ns, value]
            self.dirty = True
        return value

    def save(self) -> None:
        """Write the memo back (atomically) if it changed."""
        if self.dirty:
            from takingstock.io import write_text

            with self._lock:
                write_text(self.memo_path, json.dumps(self.memo, sort_keys=True))
                self.dirty = False


def fill_template(template: str, fmt: Mapping[str, Any]) -> list[str]:
    """The patterns of one template: one, or one per item of each list value it names.

    ``"{catalogues}"`` with ``catalogues=["a.csv", "b/*.csv"]`` gives ``["a.csv", "b/*.csv"]``.
    """
    names = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    lists = {n: list(fmt[n]) for n in dict.fromkeys(names) if isinstance(fmt.get(n), (list, tuple))}
    if not lists:
        return [template.format(**fmt)]
    return [template.format(**{**fmt, **dict(zip(lists, combo))})
            for combo in itertools.product(*lists.values())]


def expand(templates: Iterable[str], fmt: Mapping[str, Any]) -> list[Path]:
    """Fill glob templates from ``fmt`` and return the sorted files that exist."""
    found: set[Path] = set()
    for template in templates:
        for pattern in fill_template(template, fmt):
            found.update(Path(p) for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    return sorted(found)


def library_files(root: Path) -> list[Path]:
    """The files whose change invalidates every step: package code, templates, pins."""
    pkg = root / "takingstock"
    files = sorted(pkg.rglob("*.py")) + sorted(p for p in (pkg / "templates").rglob("*") if p.is_file())
    req = root / "requirements.txt"
    return [p for p in files if "__pycache__" not in p.parts] + ([req] if req.exists() else [])


def notebook_fingerprint(nb: Mapping) -> str:
    """Hash a notebook's cells (type, source, tags), ignoring outputs, counts and metadata."""
    cells = [
        [c.get("cell_type"), _source(c), sorted(c.get("metadata", {}).get("tags", []))]
        for c in nb.get("cells", [])
    ]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


# --------------------------------------------------------------------------- runner


def _template_value(name: str, value: Any) -> bool:
    """Whether a parameter can fill a template: a scalar, or a path list (``catalogues``)."""
    return isinstance(value, (str, int, float)) or (name in PATH_LIST_NAMES and _path_list_ok(value))


@dataclasses.dataclass
class Result:
    """What happened to one step."""

    step: str
    state: str  # ran, skipped, failed, blocked, missing, not run
    seconds: float = 0.0
    message: str = ""


class Pipeline:
    """Run a list of steps under a :class:`Config`; see the module docstring."""

    def __init__(self, steps: Sequence[Step], config: Config, out=None):
        self.steps = list(steps)
        self.by_name = {s.name: s for s in self.steps}
        self.config = config
        self.root = Path(config.root)
        self.out = out or sys.stdout
        self._print_lock = threading.Lock()
        for s in self.steps:
            for need in s.needs:
                if need not in self.by_name:
                    raise ValueError(f"step {s.name!r} needs unknown step {need!r}")

    # -- helpers
    def say(self, text: str) -> None:
        with self._print_lock:
            print(text, file=self.out, flush=True)

    def notebook_path(self, step: Step) -> Path | None:
        return None if step.notebook is None else self.root / step.notebook

    def output_dir(self, params: Mapping[str, Any] | None = None) -> Path:
        value = (params or {}).get("output_dir") or self.config.params.get("output_dir")
        return Path(value or default_dirs(self.root)["output_dir"])

    def fmt(self, params: Mapping[str, Any], step: Step | None = None) -> dict[str, Any]:
        """Values that input/output templates may use."""
        base = {"root": str(self.root), **default_dirs(self.root)}
        base.update({k: v for k, v in self.config.params.items() if _template_value(k, v)})
        base.update({k: v for k, v in params.items() if _template_value(k, v)})
        for name, template in (step.template_defaults if step else ()):
            if not base.get(name):
                base[name] = template.format(**base)
        register = params.get("sipri_register") or self.config.params.get("sipri_register")
        # the notebooks look for the newest export in <raw_dir>/sipri/, as the step's raw_dir says
        sipri_dir = Path(base["raw_dir"]) / paths.SIPRI_RAW.relative_to(paths.RAW)
        base["sipri"] = register or str(sipri_dir / "*.csv")
        return base

    def selected(self) -> list[Step]:
        """Steps to consider: all, or the ``--only`` steps and everything they need."""
        if not self.config.only:
            return self.steps
        for name in self.config.only:
            if name not in self.by_name:
                raise ParameterError(f"--only {name}: no such step (steps: {', '.join(self.by_name)})")
        keep: set[str] = set()
        todo = list(self.config.only)
        while todo:
            name = todo.pop()
            if name not in keep:
                keep.add(name)
                todo.extend(self.by_name[name].needs)
        return [s for s in self.steps if s.name in keep]

    # -- cache
    def _state_path(self) -> Path:
        return self.output_dir() / ".cache" / "steps.json"

    def _load_state(self) -> dict:
        try:
            return json.loads(self._state_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _save_state(self) -> None:
        from takingstock.io import write_text

        write_text(self._state_path(), json.dumps(self.state, indent=1, sort_keys=True))

    def cache_key(self, step: Step, params: Mapping[str, Any], nb: Mapping | None) -> str:
        """The step's cache key (see the module docstring)."""
        digest = hashlib.sha256()
        digest.update(step.name.encode())
        digest.update((notebook_fingerprint(nb) if nb is not None else "-").encode())
        digest.update(json.dumps(params, sort_keys=True, default=str).encode())
        digest.update(self.lib_hash.encode())
        if step.func is not None:
            with contextlib.suppress(TypeError, OSError):
                digest.update(self.hasher.hash(Path(inspect.getsourcefile(step.func))).encode())
        fmt = self.fmt(params, step)
        own = set(expand(step.outputs, fmt))  # a step's own outputs never count as its inputs
        for path in expand(step.inputs, fmt):
            if path in own:
                continue
            digest.update(f"{path}\0{self.hasher.hash(path)}\0".encode())
        return digest.hexdigest()

    def executed_path(self, step: Step) -> Path:
        return self.output_dir() / "notebooks" / f"{Path(step.notebook).stem}.ipynb"

    def is_fresh(self, step: Step, key: str) -> bool:
        entry = self.state.get(step.name)
        if not entry or entry.get("key") != key:
            return False
        if step.notebook is not None and not self.executed_path(step).exists():
            return False
        return all(Path(p).exists() for p in entry.get("outputs", []))

    # -- execution
    def run_notebook(self, step: Step, params: Mapping[str, Any]) -> None:
        """Execute one notebook with papermill into a temp file; publish it only on success."""
        import logging

        import papermill as pm
        from papermill.exceptions import PapermillExecutionError

        # papermill re-reads the parameters cell with a regex that trips over quotes in a
        # trailing comment ("Unable to parse line ..."); the ast reader above already checked it.
        logging.getLogger("papermill.translators").setLevel(logging.ERROR)

        source = self.notebook_path(step)
        final = self.executed_path(step)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".{final.stem}.{os.getpid()}.{threading.get_ident()}.running.ipynb"
        failed = final.parent / "failed" / final.name
        # a failed copy from an earlier run would be mistaken for this run's partial notebook
        with contextlib.suppress(FileNotFoundError):
            failed.unlink()
        try:
            pm.execute_notebook(
                str(source),
                str(tmp),
                parameters=dict(params),
                kernel_name="python3",
                request_save_on_cell_execute=False,
                progress_bar=self.config.progress,
                execution_timeout=self.config.execution_timeout,
                start_timeout=self.config.start_timeout,
                # The kernel's cwd, given to nbclient; papermill's own cwd= uses os.chdir.
                resources={"metadata": {"path": str(self.root)}},
                # ipykernel 7 warns on every start that its loopback TCP is unencrypted: noise.
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
        except Exception as exc:  # noqa: BLE001 - every failure is reported the same way
            kept = None
            if tmp.exists():
                failed.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, failed)
                kept = failed
            raise StepFailed(
                self._failure_message(step, exc, kept, PapermillExecutionError, bool(params))
            ) from exc
        os.replace(tmp, final)

    def _failure_message(
        self, step: Step, exc: BaseException, kept: Path | None, pm_error, injected: bool
    ) -> str:
        lines = [f"step {step.name!r} failed in notebook {step.notebook}"]
        if isinstance(exc, pm_error):
            number = source_cell_number(self.notebook_path(step), exc.cell_index, injected)
            where = f"cell {number}" if number else "the injected parameters cell"
            lines.append(f"  {where} of {step.notebook} (In [{exc.exec_count}])")
            excerpt = [ln for ln in (exc.source or "").splitlines() if ln.strip()][-6:]
            lines += ["  source:"] + [f"    | {ln}" for ln in excerpt]
            lines.append(f"  exception: {exc.ename}: {exc.evalue}")
        else:
            lines.append(f"  exception: {type(exc).__name__}: {exc}")
        if kept is not None:
            lines.append(f"  partial executed notebook kept at: {kept}")
        else:
            lines.append("  no partial notebook was written (kernel start, timeout or dead kernel)")
        return "\n".join(lines)

    def run_function(self, step: Step, params: Mapping[str, Any]) -> None:
        executed = [
            self.executed_path(s) for s in self.steps
            if s.notebook is not None and self.executed_path(s).exists()
        ]
        ctx = StepContext(step, dict(params), self.output_dir(), executed)
        try:
            step.func(ctx)
        except MissingDependency:
            raise
        except Exception as exc:  # noqa: BLE001
            raise StepFailed(f"step {step.name!r} failed: {type(exc).__name__}: {exc}") from exc

    def _execute(self, step: Step, params: Mapping[str, Any]) -> float:
        started = time.perf_counter()
        if step.notebook is not None:
            self.run_notebook(step, params)
        else:
            self.run_function(step, params)
        return time.perf_counter() - started

    # -- the scheduler
    def run(self) -> list[Result]:
        """Run the selected steps; return one :class:`Result` per selected step."""
        os.environ.setdefault("PLOTLY_RENDERER", "notebook")
        pythonpath = os.environ.get("PYTHONPATH", "")
        if str(self.root) not in pythonpath.split(os.pathsep):
            os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.root), pythonpath) if p)

        steps = self.selected()
        nbs: dict[str, dict] = {}
        declared: dict[str, dict[str, Param]] = {}
        for s in self.steps:
            path = self.notebook_path(s)
            if path is not None and path.exists():
                nbs[s.name] = read_notebook(path)
                declared[s.name] = notebook_parameters(path, nbs[s.name])
        resolved = resolve_parameters(self.steps, self.config, declared)
        self.hasher = FileHasher(self.output_dir() / ".cache" / "files.json")
        self.lib_hash = hashlib.sha256(
            "".join(f"{p.relative_to(self.root)}\0{self.hasher.hash(p)}\0" for p in library_files(self.root)).encode()
        ).hexdigest()
        self.state = self._load_state()

        results: dict[str, Result] = {}
        total = len(steps)

        def finish(name: str, result: Result) -> None:
            results[name] = result
            extra = f"  {result.message}" if result.message and result.state != "failed" else ""
            self.say(f"[{len(results):>2}/{total}] {name:<8} {result.state:<11} {result.seconds:6.1f}s{extra}")

        pool = cf.ThreadPoolExecutor(max_workers=max(1, int(self.config.jobs)))
        self._started: set[str] = set()
        try:
            self._schedule(pool, steps, nbs, resolved, results, finish)
        except KeyboardInterrupt:
            self.say("\nInterrupted: stopping the kernels this run started ...")
            stop_child_processes()
            pool.shutdown(wait=True, cancel_futures=True)
            for step in steps:
                if step.name not in results:
                    state = "interrupted" if step.name in self._started else "not run"
                    self.state.pop(step.name, None)
                    finish(step.name, Result(step.name, state, message="Ctrl-C"))
            self._save_state()
            self.hasher.save()
            self.say(summary_table([results[s.name] for s in steps]))
            raise
        pool.shutdown(wait=True)
        self.hasher.save()
        ordered = [results[s.name] for s in steps if s.name in results]
        self.say(summary_table(ordered))
        return ordered

    def _schedule(self, pool, steps, nbs, resolved, results, finish) -> None:
        """Start steps as their needs finish, at most ``jobs`` at a time, until all are done."""
        reran: set[str] = set()
        bad: set[str] = set()  # failed or blocked
        stop = False
        pending = list(steps)
        selected = {s.name for s in steps}
        running: dict[cf.Future, tuple[Step, str, dict]] = {}
        jobs = max(1, int(self.config.jobs))
        while pending or running:
            progressed = False
            for step in list(pending):
                if stop:
                    break
                if any(n not in results for n in step.needs if n in selected):
                    continue
                if any(n in bad for n in step.needs):
                    pending.remove(step)
                    bad.add(step.name)
                    finish(step.name, Result(step.name, "blocked", message="needs a failed step"))
                    progressed = True
                    continue
                if step.notebook is not None and step.name not in nbs:
                    pending.remove(step)
                    finish(step.name, Result(step.name, "missing", message=f"no notebook {step.notebook}"))
                    progressed = True
                    continue
                if len(running) >= jobs:
                    break
                params = resolved.get(step.name, {}) if step.notebook else self._function_params()
                key = self.cache_key(step, params, nbs.get(step.name))
                forced = self.config.force or step.name in self.config.only
                upstream = any(n in reran for n in step.needs)
                if not forced and not upstream and self.is_fresh(step, key):
                    pending.remove(step)
                    finish(step.name, Result(step.name, "skipped", message="up to date"))
                    progressed = True
                    continue
                pending.remove(step)
                self.state.pop(step.name, None)
                self._save_state()
                what = step.notebook or "function step"
                self.say(f"[ run ] {step.name:<8} {what}")
                self._started.add(step.name)
                running[pool.submit(self._execute, step, params)] = (step, key, params)
                progressed = True
            if stop and not running:
                for step in pending:
                    finish(step.name, Result(step.name, "not run", message="stopped after a failure"))
                pending = []
                break
            if not running:
                if not progressed and pending:  # pragma: no cover - guarded by needs check
                    raise RuntimeError(f"cannot schedule: {[s.name for s in pending]}")
                continue
            done, _ = cf.wait(list(running), return_when=cf.FIRST_COMPLETED)
            for future in done:
                step, key, params = running.pop(future)
                try:
                    seconds = future.result()
                except MissingDependency as exc:
                    finish(step.name, Result(step.name, "missing", message=str(exc)))
                    continue
                except StepFailed as exc:
                    bad.add(step.name)
                    self.say(f"\nFAILED: {exc}\n")
                    finish(step.name, Result(step.name, "failed", message=str(exc)))
                    if not self.config.keep_going:
                        stop = True
                    continue
                reran.add(step.name)
                outs = expand(step.outputs, self.fmt(params, step))
                if step.outputs and not outs:
                    self.say(f"[warn ] {step.name}: produced none of its declared outputs {list(step.outputs)}")
                self.state[step.name] = {
                    "key": key,
                    "seconds": round(seconds, 3),
                    "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "outputs": [str(p) for p in outs],
                }
                self._save_state()
                finish(step.name, Result(step.name, "ran", seconds))

    def _function_params(self) -> dict[str, Any]:
        out = {**default_dirs(self.root), "output_dir": str(self.output_dir())}
        out.update(self.config.params)
        return out


def stop_child_processes(grace: float = 3.0) -> None:
    """Terminate every process this one started (kernels, kaleido's browser); kill stragglers."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()


def summary_table(results: Sequence[Result]) -> str:
    """A plain-text table: step, state, seconds."""
    lines = ["", f"{'step':<10}{'state':<10}{'seconds':>8}", "-" * 28]
    lines += [f"{r.step:<10}{r.state:<10}{r.seconds:>8.1f}" for r in results]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ CLI

SUBCOMMANDS = {
    "run": "run the steps (the default when no subcommand is given)",
    "list": "list the steps, their notebooks, inputs, outputs and parameters",
    "fetch-sipri": "download a SIPRI trade register export (takingstock.fetch)",
    "check-claims": "check the claims ledger against the accepted verdicts (takingstock.claims)",
}


def build_parser(steps: Sequence[Step]) -> argparse.ArgumentParser:
    """The ``run`` options of ``pipeline.py``."""
    epilog = "subcommands (first argument):\n" + "\n".join(
        f"  {name:<14}{text}" for name, text in SUBCOMMANDS.items()
    )
    epilog += "\n\nsteps: " + ", ".join(s.name for s in steps)
    epilog += "\n\nexit codes: 0 ok, 1 a step failed, 2 bad parameters or usage, 130 interrupted. See docs/pipeline.md."
    parser = argparse.ArgumentParser(
        prog="pipeline.py",
        description="Rebuild every table, figure and briefing of taking-stock, skipping what is up to date.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--params", metavar="FILE", action="append", default=[],
                        help="YAML file of parameters (NAME: value, or STEP: {NAME: value}); repeatable")
    parser.add_argument("-p", "--parameter", nargs=2, metavar=("NAME", "VALUE"), action="append", default=[],
                        help="one parameter, VALUE parsed as YAML; STEP.NAME for one step only")
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
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="show cell progress bars (default: only on a terminal outside CI)")
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    return parser


def _yaml_value(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _put(config: Config, steps: set[str], key: str, value: Any, base: Path, raw: str | None) -> None:
    if isinstance(key, str) and "." in key and key.split(".", 1)[0] in steps:
        step, name = key.split(".", 1)
        config.step_params.setdefault(step, {})[name] = absolutise(name, value, base)
        if raw is not None:
            config.cli_strings.setdefault(step, {})[name] = raw
    else:
        config.params[str(key)] = absolutise(str(key), value, base)
        if raw is not None:
            config.cli_strings.setdefault("*", {})[str(key)] = raw


def parse_run_args(argv: Sequence[str], steps: Sequence[Step], root: Path = paths.ROOT) -> Config:
    """Turn ``run`` arguments into a :class:`Config` (parameter values not yet checked)."""
    args = build_parser(steps).parse_args(list(argv))
    names = {s.name for s in steps}
    config = Config(root=Path(root), jobs=args.jobs, force=args.force, only=tuple(args.only),
                    keep_going=args.keep_going, execution_timeout=args.timeout,
                    start_timeout=args.start_timeout)
    config.progress = (
        args.progress if args.progress is not None
        else sys.stderr.isatty() and not os.environ.get("CI")
    )
    for file in args.params:
        import yaml

        path = Path(file)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ParameterError(f"--params {file}: cannot read it: {exc}") from exc
        if not isinstance(data, dict):
            raise ParameterError(f"--params {file}: expected a mapping of NAME: value")
        base = path.resolve().parent
        for key, value in data.items():
            if key in names and isinstance(value, dict):
                for name, inner in value.items():
                    _put(config, names, f"{key}.{name}", inner, base, None)
            else:
                _put(config, names, key, value, base, None)
    for key, text in args.parameter:
        _put(config, names, key, _yaml_value(text), Path.cwd(), text)
    return config


def list_steps(steps: Sequence[Step], root: Path = paths.ROOT, out=None) -> None:
    """Print the steps with notebooks, needs, inputs, outputs and parameters."""
    out = out or sys.stdout
    for s in steps:
        print(f"{s.name}: {s.description}", file=out)
        if s.notebook:
            path = Path(root) / s.notebook
            print(f"  notebook: {s.notebook}" + ("" if path.exists() else "  (missing)"), file=out)
        else:
            print("  function step (no notebook)", file=out)
        print(f"  needs:    {', '.join(s.needs) or '-'}", file=out)
        print(f"  reads:    {', '.join(s.inputs) or '-'}", file=out)
        print(f"  writes:   {', '.join(s.outputs) or '-'}", file=out)
        if s.notebook and (Path(root) / s.notebook).exists():
            print("  parameters:", file=out)
            print(_describe(notebook_parameters(Path(root) / s.notebook)), file=out)
        print(file=out)


def _delegate(module: str, function: str, argv: Sequence[str]) -> int:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        print(f"{module} is not available yet (no module {module}); cannot run this command.", file=sys.stderr)
        return EXIT_USAGE
    func = getattr(mod, function, None)
    if func is None:
        print(f"{module}.{function} does not exist yet; cannot run this command.", file=sys.stderr)
        return EXIT_USAGE
    return int(func(list(argv)) or 0)


def main(argv: Sequence[str] | None, steps: Sequence[Step], root: Path = paths.ROOT) -> int:
    """Entry point of ``pipeline.py``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else "run"
    rest = argv[1:] if argv and argv[0] in SUBCOMMANDS else argv
    if command == "list":
        try:
            list_steps(steps, root)
        except BrokenPipeError:  # `pipeline.py list | head`
            sys.stdout = None
        return EXIT_OK
    if command == "fetch-sipri":
        return _delegate("takingstock.fetch", "main", rest)
    if command == "check-claims":
        return _delegate("takingstock.claims", "check_main", rest)
    try:
        config = parse_run_args(rest, steps, root)
        results = Pipeline(steps, config).run()
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if any(r.state == "failed" for r in results) else EXIT_OK
