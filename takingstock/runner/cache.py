"""The cache: file hashes, the library modules a step uses, step keys and freshness.

A task's key is the SHA-256 of: its name (``supply[yemen]``), its notebook's cells (type,
source, tags; outputs, execution counts and metadata ignored), its parameters, the content of
each input file its templates name (files matching its own outputs left out: a step that
writes into a folder it reads would otherwise always be stale), the project's
``requirements.txt`` and ``requirements-runtime.txt``, and the
library modules it uses (:class:`ModuleIndex`): the ``takingstock`` modules its notebook's code
cells import (for a function step: those its function's body imports, the run context it is
handed, the file that defines the function, and the same for its ``early`` and ``prepare``
functions), with
their own imports inside the package, transitively, and the ``__init__`` of every package on
the way (importing ``takingstock.analysis.claims.spec`` runs
``takingstock/__init__.py`` and ``takingstock/analysis/claims/__init__.py``). Editing
``takingstock/report/figures.py`` therefore reruns only the steps that import it, directly or not.
Data files a module reads (``takingstock/publish/templates/``) are inputs of the step that uses them.

A task is fresh when its key equals the key of its last successful run, and its executed
notebook and the outputs recorded then still exist with the content they had then (SHA-256,
recorded in ``steps.json``): an output edited or removed outside the runner (a processed
parquet changed by hand) makes its producer stale, and the run says which file (the scheduler
adds: no step it needs reran).

Memos. Hashes, and what each module, each notebook's code cells and each function step
import, are memoised in ``<output_dir>/.cache/`` (``files.json``, ``imports.json``; parsing the
notebooks' cells was half of a run with nothing to do) by (size, mtime in ns) of the file they
come from: an unchanged file is not read again
(an edit that keeps both exactly is missed; ``--force`` covers it). Run state is
``steps.json``. Caveats: an import the code does not write as an ``import`` statement
(``importlib.import_module("takingstock.x")``) is not seen; a code cell that is not valid
Python (a cell magic) makes its notebook depend on the whole package.
"""

from __future__ import annotations

import ast
import glob
import hashlib
import inspect
import itertools
import json
import os
import string
import textwrap
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from takingstock.core import paths
from takingstock.core.atomic import sha256_file, write_text
from takingstock.runner.cells import cell_source

PACKAGE = "takingstock"
RUN_CONTEXT = "takingstock.data.runcontext"
# the pins (requirements.txt reads the runtime ones from requirements-runtime.txt)
REQUIREMENTS = ("requirements.txt", "requirements-runtime.txt")


def package_root(root: Path) -> Path:
    """The folder holding the ``takingstock`` package the kernels import: the project's own copy
    (a checkout: the kernels have the project on ``PYTHONPATH``), else the installed one."""
    if (Path(root) / PACKAGE).is_dir():
        return Path(root)
    return Path(__file__).resolve().parents[2]


class Memo:
    """Values computed from files, kept on disk and trusted while (size, mtime_ns) are unchanged."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        try:
            self.memo: dict[str, list] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.memo = {}
        self.dirty = False

    def get(self, path: Path, compute: Callable[[Path], Any], tag: str = "") -> Any:
        """``compute(path)``, or the value memoised for the file's current size and mtime.

        ``tag`` tells apart several values kept for one file (a function's imports beside its
        module's)."""
        st = path.stat()
        key = f"{tag} {path}" if tag else str(path)
        with self._lock:
            hit = self.memo.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        value = compute(path)
        with self._lock:
            self.memo[key] = [st.st_size, st.st_mtime_ns, value]
            self.dirty = True
        return value

    def save(self) -> None:
        """Write the memo back (atomically) if it changed."""
        if self.dirty:
            with self._lock:
                write_text(self.path, json.dumps(self.memo, sort_keys=True))
                self.dirty = False


class FileHasher(Memo):
    """SHA-256 of files, memoised by (size, mtime_ns) so unchanged files are not read."""

    def hash(self, path: Path) -> str:
        """Return the content hash of ``path``."""
        return self.get(path, sha256_file)


# ------------------------------------------------------------------ library modules


def imported_names(tree: ast.AST, current: str = "", is_package: bool = False) -> set[str]:
    """Dotted names a module or cell imports: ``takingstock.x`` and ``takingstock.x.y`` candidates.

    ``from takingstock import figures`` gives ``takingstock`` and ``takingstock.report.figures`` (which
    of them are modules :class:`ModuleIndex` decides); relative imports are resolved against
    ``current`` (the importing module's dotted name).
    """
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = current.split(".") if current else []
                parts = parts if is_package else parts[:-1]
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return {n for n in out if n == PACKAGE or n.startswith(PACKAGE + ".")}


class ModuleIndex:
    """The ``takingstock`` modules under a root and what each imports (memoised in ``imports``)."""

    def __init__(self, root: Path, imports: Memo):
        self.root = Path(root)
        self.imports = imports
        self._files: dict[str, Path | None] = {}  # dotted name -> file, for this run
        self._imports_of: dict[Path, list[str]] = {}  # module file -> what it imports, for this run

    def module_file(self, dotted: str) -> Path | None:
        """The file of a dotted module name, or None when it is not a module of the package."""
        if dotted not in self._files:
            base = self.root.joinpath(*dotted.split("."))
            self._files[dotted] = next((c for c in (base.with_suffix(".py"), base / "__init__.py") if c.is_file()),
                                       None)
        return self._files[dotted]

    def _module_imports(self, path: Path) -> list[str]:
        rel = path.relative_to(self.root).with_suffix("")
        is_package = rel.name == "__init__"
        dotted = ".".join(rel.parts[:-1] if is_package else rel.parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        return sorted(imported_names(tree, dotted, is_package))

    def closure(self, names: Iterable[str]) -> list[Path]:
        """The files of ``names`` that are modules, their parent packages and imports, transitively."""
        seen: set[Path] = set()
        todo = list(names)
        while todo:
            dotted = todo.pop()
            parts = dotted.split(".")
            for i in range(1, len(parts) + 1):
                path = self.module_file(".".join(parts[:i]))
                if path is None or path in seen:
                    continue
                seen.add(path)
                if path not in self._imports_of:  # stat the file once per run, not once per task
                    self._imports_of[path] = self.imports.get(path, self._module_imports)
                todo.extend(self._imports_of[path])
        return sorted(seen)

    def whole_package(self) -> list[Path]:
        """Every module of the package (what a notebook that cannot be parsed depends on)."""
        pkg = self.root / PACKAGE
        return sorted(p for p in pkg.rglob("*.py") if "__pycache__" not in p.parts)


def notebook_imports(nb: Mapping) -> set[str] | None:
    """The package names a notebook's code cells import, or None if a cell is not Python."""
    out: set[str] = set()
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        # line magics and shell escapes are not Python; drop them, keep the rest
        source = "\n".join(line for line in cell_source(cell).splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        try:
            out |= imported_names(ast.parse(source))
        except SyntaxError:
            return None
    return out


def _sorted_or_none(names: set[str] | None) -> list[str] | None:
    return None if names is None else sorted(names)


def function_imports(func: Callable) -> set[str]:
    """The package names a function's body imports, or that it uses from its module's imports."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
        # the defining file itself: inspect.getmodule() would find the wrong module when the
        # file runs as __main__ through runpy, and the key would depend on how it was started
        module_source = Path(inspect.getsourcefile(func)).read_text(encoding="utf-8")
    except (OSError, TypeError):
        return set()
    tree = ast.parse(source)
    body = tree.body[0].body if tree.body and hasattr(tree.body[0], "body") else tree.body
    used = {n.id for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    out = set().union(*(imported_names(stmt) for stmt in body)) if body else set()
    for node in ast.parse(module_source).body:  # module-level imports the body names
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if (alias.asname or alias.name.split(".")[0]) in used:
                    base = node.module if isinstance(node, ast.ImportFrom) else alias.name
                    if base and (base == PACKAGE or base.startswith(PACKAGE + ".")):
                        out |= {base, f"{base}.{alias.name}"} if isinstance(node, ast.ImportFrom) else {base}
    return out


# ---------------------------------------------------------------------- templates


def fill_template(template: str, fmt: Mapping[str, Any]) -> list[str]:
    """The patterns of one template: one, or one per item of each list value it names.

    ``"{catalogues}"`` with ``catalogues=["a.csv", "b/*.csv"]`` gives ``["a.csv", "b/*.csv"]``;
    an empty list gives no pattern, and so does a template naming an optional parameter that
    was not given (``{old_release_file}`` of notebook 06).
    """
    names = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    if any(n not in fmt for n in names):
        return []
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


def notebook_fingerprint(nb: Mapping) -> str:
    """Hash a notebook's cells (type, source, tags), ignoring outputs, counts and metadata."""
    cells = [[c.get("cell_type"), cell_source(c), sorted(c.get("metadata", {}).get("tags", []))]
             for c in nb.get("cells", [])]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


# ---------------------------------------------------------------------- the cache


class StepCache:
    """Keys, freshness and run state of the tasks of one output folder (whole after ``__init__``)."""

    def __init__(self, root: Path, output_dir: Path):
        self.root = Path(root)
        folder = paths.output_folder(output_dir, "cache")
        self.state_path = folder / "steps.json"
        self.hasher = FileHasher(folder / "files.json")
        self.modules = ModuleIndex(package_root(self.root), Memo(folder / "imports.json"))
        try:
            self.state: dict[str, dict] = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.state = {}
        self._lock = threading.Lock()

    def library_files(self, task, nb: Mapping | None) -> list[Path]:
        """The package files a task's code uses (see the module docstring), and the pins."""
        step = task.step
        if nb is not None:
            names = self._notebook_imports(task, nb)
            files = self.modules.whole_package() if names is None else self.modules.closure(names)
        elif step.func is not None:
            # it is handed a RunContext, so the run context's code is its code too
            extra = set().union(*(self._function_imports(f) for f in (step.early, step.prepare) if f is not None))
            files = self.modules.closure(self._function_imports(step.func) | extra | {RUN_CONTEXT})
            with_source = inspect.getsourcefile(step.func)
            # resolved: run through runpy, the file may be named relative to the working folder
            files = sorted(set(files) | ({Path(with_source).resolve()} if with_source else set()))
        else:
            files = []
        pins = (self.root / name for name in REQUIREMENTS)
        return files + [req for req in pins if req.is_file()]

    def _notebook_imports(self, task, nb: Mapping) -> set[str] | None:
        """:func:`notebook_imports`, memoised by the notebook file (parsing every code cell is
        about half of a run with nothing to do)."""
        path = self.root / task.step.notebook
        if not path.is_file():
            return notebook_imports(nb)
        names = self.modules.imports.get(path, lambda _: _sorted_or_none(notebook_imports(nb)), tag="cells")
        return None if names is None else set(names)

    def _function_imports(self, func: Callable) -> set[str]:
        """:func:`function_imports`, memoised by the file that defines the function."""
        try:
            path = Path(inspect.getsourcefile(func)).resolve()  # run through runpy, it may be relative
        except TypeError:
            return set()
        return set(self.modules.imports.get(path, lambda _: sorted(function_imports(func)),
                                            tag=f"function {func.__qualname__}"))

    def key(self, task, nb: Mapping | None) -> str:
        """The task's cache key (see the module docstring)."""
        digest = hashlib.sha256()
        digest.update(task.name.encode())
        digest.update((notebook_fingerprint(nb) if nb is not None else "-").encode())
        digest.update(json.dumps(task.params, sort_keys=True, default=str).encode())
        for path in self.library_files(task, nb):
            digest.update(f"{self._name(path)}\0{self.hasher.hash(path)}\0".encode())
        own = set(expand(task.step.outputs, task.fmt))  # a step's own outputs never count as inputs
        for path in expand(task.step.inputs, task.fmt):
            if path not in own:
                digest.update(f"{path}\0{self.hasher.hash(path)}\0".encode())
        return digest.hexdigest()

    def _name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def is_fresh(self, task, key: str) -> bool:
        """Same key as the last successful run, and its executed notebook and outputs still there
        and unchanged (:meth:`changed_outputs`)."""
        entry = self.state.get(task.name)
        if not entry or entry.get("key") != key:
            return False
        if task.executed is not None and not task.executed.exists():
            return False
        return not self.changed_outputs(task)

    def changed_outputs(self, task) -> list[str]:
        """The outputs of the task's last successful run that were removed or changed since
        (content hash against the one recorded then), each as ``"<path> (removed)"`` or
        ``"<path> (changed)"``; [] when none was or there is no such run."""
        entry = self.state.get(task.name) or {}
        outputs = entry.get("outputs", {})
        recorded = outputs if isinstance(outputs, dict) else dict.fromkeys(outputs)  # an older steps.json: no hashes
        if task.executed is not None and entry.get("notebook"):
            recorded = {**recorded, str(task.executed): entry["notebook"]}
        changed = []
        for name, digest in recorded.items():
            path = Path(name)
            if not path.is_file():
                changed.append(f"{name} (removed)")
            elif digest is not None and self.hasher.hash(path) != digest:
                changed.append(f"{name} (changed)")
        return changed

    def forget(self, task) -> None:
        """Drop a task's entry (before it runs, or when it failed or was interrupted)."""
        with self._lock:
            self.state.pop(task.name, None)
            self._save_state()

    def record(self, task, key: str, seconds: float, outputs: list[Path], finished: str) -> None:
        """Remember a successful run, with the content hash of each output and of its executed
        notebook (so that one changed or removed outside the runner makes the task stale)."""
        hashes = {str(p): self.hasher.hash(Path(p)) for p in outputs}
        notebook = (self.hasher.hash(task.executed)
                    if task.executed is not None and task.executed.is_file() else None)
        with self._lock:
            self.state[task.name] = {"key": key, "seconds": round(seconds, 3), "finished": finished,
                                     "outputs": hashes, "notebook": notebook}
            self._save_state()

    def _save_state(self) -> None:
        write_text(self.state_path, json.dumps(self.state, indent=1, sort_keys=True))

    def save_memos(self) -> None:
        """Write the hash and import memos back."""
        self.hasher.save()
        self.modules.imports.save()
