"""Executing one task: a notebook with papermill, or a function; the failure message; stopping kernels.

Kernel and working directory
    Every notebook runs with ``kernel_name="python3"``: the ipykernel of the interpreter that
    runs the pipeline, whatever kernel the notebook's metadata names, so ``NoSuchKernel``
    cannot happen. The kernel starts in the project root (passed to nbclient, never via
    ``os.chdir``, which is process-wide and unsafe with threads); :func:`prepare_environment`
    puts the root on ``PYTHONPATH`` (so ``import takingstock`` works) and sets
    ``PLOTLY_RENDERER=notebook`` (so plotly figures survive nbconvert's HTML export).

Publishing only on success
    A notebook is executed into a hidden temporary file beside its final place and moved to
    ``<output_dir>/notebooks/<stem>.ipynb`` only when it succeeds, so a good executed notebook
    is never replaced by a broken one. On failure the partial notebook goes to
    ``<output_dir>/notebooks/failed/<stem>.ipynb`` and the message names the step, the
    notebook, the failing cell (1-based, counted in the source notebook), a source excerpt and
    the exception. Caveat: after a timeout or a dead kernel papermill returns no partial
    notebook; the message says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Sequence

from takingstock.runner.cells import source_cell_number
from takingstock.runner.steps import Config, StepContext, StepFailed, Task, cut
import logging
import errno
from takingstock.runner import forkserver


def prepare_environment(root: Path) -> None:
    """Environment every kernel inherits: the root on ``PYTHONPATH``, plotly's notebook renderer."""
    os.environ.setdefault("PLOTLY_RENDERER", "notebook")
    pythonpath = os.environ.get("PYTHONPATH", "")
    if str(root) not in pythonpath.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), pythonpath) if p)


def run_notebook(task: Task, root: Path, config: Config, kernels=None) -> None:
    """Execute one notebook task with papermill into a temp file; publish it only on success.

    ``kernels`` is the run's :class:`takingstock.runner.forkserver.Kernels` (a
    :class:`~takingstock.runner.forkserver.ForkServer` forks them), or ``None`` for a kernel
    started as a new process in a folder of its own. A kernel that fails to start (its sockets
    taken, or dead before it answered) is started again, up to :data:`START_ATTEMPTS` times.
    Whatever the kernel writes that reads as an error (:func:`kernel_errors`) fails the task.
    """

    # lazy: papermill costs ~1 s to import; the runner's module is loaded by `--help` and `--list` too
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError  # lazy: as papermill above


    # papermill re-reads the parameters cell with a regex that trips over quotes in a trailing
    # comment ("Unable to parse line ..."); our ast reader already checked it.
    logging.getLogger("papermill.translators").setLevel(logging.ERROR)

    own = kernels is None
    kernels = forkserver.Kernels() if own else kernels
    source = root / task.step.notebook
    final = task.executed
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.stem}.{os.getpid()}.{threading.get_ident()}.running.ipynb"
    failed = final.parent / "failed" / final.name
    # a failed copy from an earlier run would be mistaken for this run's partial notebook
    with contextlib.suppress(FileNotFoundError):
        failed.unlink()
    log = Path(kernels.new_name("log-")).with_suffix(".txt")
    ran = []  # the size of the kernel's log as each cell finished (see kernel_errors)

    def cell_done(**_) -> None:  # nbclient's hook, called as each cell has run
        with contextlib.suppress(OSError):
            ran.append(log.stat().st_size)

    try:
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                pm.execute_notebook(
                    str(source), str(tmp), parameters=dict(task.params), kernel_name="python3",
                    request_save_on_cell_execute=False, progress_bar=config.progress,
                    execution_timeout=config.execution_timeout, start_timeout=config.start_timeout,
                    # the kernel's cwd, given to nbclient; papermill's own cwd= uses os.chdir
                    resources={"metadata": {"path": str(root)}},
                    # ipykernel 7 warns on every start that its loopback TCP is unencrypted: noise.
                    # No IPython history: every kernel on the machine would write the one SQLite
                    # file in ~/.ipython, and a busy machine gets "database is locked" errors
                    extra_arguments=["--IPKernelApp.log_level=CRITICAL", "--HistoryManager.enabled=False"],
                    kernel_manager_class=kernels.kernel_manager_class(log),
                    on_cell_executed=cell_done,
                )
                break
            except Exception as exc:  # noqa: BLE001 - every failure is reported the same way
                if attempt < START_ATTEMPTS and not kernels.closed and _start_failure(exc):
                    # papermill saved the notebook before the kernel failed to start: no cell ran
                    with contextlib.suppress(FileNotFoundError):
                        tmp.unlink()
                    continue
                raise StepFailed(failure_message(task, source, exc, _keep(tmp, failed),
                                                 PapermillExecutionError)) from exc
        problems = kernel_errors(log, tmp, until=ran[-1] if ran else None)
        if problems:
            raise StepFailed(kernel_error_message(task, problems, _keep(tmp, failed)))
    finally:
        with contextlib.suppress(OSError):
            log.unlink()
        if own:
            kernels.stop()
    os.replace(tmp, final)


#: How many times a kernel is started before its step fails (see :func:`_start_failure`).
START_ATTEMPTS = 3


def _start_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a kernel that never started: its address taken (``EADDRINUSE``), or
    dead or silent before its first answer. No cell ran, so starting another is safe."""
    # lazy: zmq costs ~10 ms to import and a run with nothing to do starts no kernel (the warm
    # no-change run's target is 0.2 s in all)
    import zmq

    if isinstance(exc, zmq.ZMQError):
        return exc.errno == errno.EADDRINUSE
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("before replying to kernel_info" in text
                                               or "didn't respond in" in text)


def _keep(tmp: Path, failed: Path) -> Path | None:
    """Move a partial notebook to ``failed``; return where it is (None if there was none)."""
    if not tmp.exists():
        return None
    failed.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, failed)
    return failed


# ------------------------------------------------------------------ errors a kernel writes

#: Lines that read as errors though they are not: each a regular expression matched against one
#: line of a kernel's output. The one place such a message is allowed (see docs/pipeline.md);
#: empty today: a run on a quiet or a busy machine writes no such line.
HARMLESS: tuple[str, ...] = ()

#: What makes a line of a kernel's output an error: a Python traceback, a log record at level
#: ERROR or CRITICAL (``logging``'s default format, and tornado's and traitlets' ``[E ...]``), or
#: an exception tornado could not hand to anyone.
ERROR_LINE = re.compile(r"Traceback \(most recent call last\)|^(?:ERROR|CRITICAL):|^\[[EC] |Uncaught exception")
MAX_REPORTED_LINES = 8


def error_lines(text: str) -> list[str]:
    """The lines of ``text`` that are errors (:data:`ERROR_LINE`) and not :data:`HARMLESS`; a
    traceback also gives its last frame and the exception it ends with, so the report says what
    went wrong and where."""
    harmless = [re.compile(h) for h in HARMLESS]
    lines, found, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not ERROR_LINE.search(line) or any(h.search(line) for h in harmless):
            continue
        found.append(line)
        if "Traceback (most recent call last)" in line:
            end = i
            while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
                end += 1
            frames = [f.strip() for f in lines[i:end] if f.strip().startswith("File ")]
            found += frames[-1:] + lines[end:end + 1]
            i = end + 1
    return found


def notebook_stderr(path: Path) -> list[tuple[int, str]]:
    """(1-based cell number, text) of every stderr stream output of an executed notebook."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    found = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = out.get("text", "")
                found.append((number, "".join(text) if isinstance(text, list) else text))
    return found


def kernel_errors(log: Path, notebook: Path, until: int | None = None) -> list[str]:
    """Every error line the kernel wrote: in its own output (``log``, outside any cell) and in
    the stderr of the executed ``notebook``'s cells (the kernel captures what it writes while a
    cell runs, its log records too), each with where it was.

    ``until``: the size the log had when the last cell finished; what the kernel wrote after
    that, while it was shut down, is left out. Every output was saved by then, and a busy
    machine sometimes shows ipykernel failing on a socket already closed at that point
    (``ZMQError: Socket operation on non-socket`` in a ZMQStream callback).
    """
    found = []
    with contextlib.suppress(OSError):
        with open(log, "rb") as handle:
            text = handle.read(until if until is not None else -1).decode("utf-8", errors="replace")
        found += [f"kernel output: {line}" for line in error_lines(text)]
    for number, text in notebook_stderr(notebook):
        found += [f"cell {number} (of the executed notebook), stderr: {line}" for line in error_lines(text)]
    return found


def kernel_error_message(task: Task, problems: list[str], kept: Path | None) -> str:
    """What the user reads when a notebook ran but its kernel wrote errors."""
    lines = [f"step {task.name!r}: the kernel wrote {len(problems)} error line(s) while notebook "
             f"{task.step.notebook} ran (see takingstock.runner.execute.HARMLESS for the messages allowed)"]
    lines += [f"  {cut(p, 300)}" for p in problems[:MAX_REPORTED_LINES]]
    if len(problems) > MAX_REPORTED_LINES:
        lines.append(f"  ... and {len(problems) - MAX_REPORTED_LINES} more")
    if kept is not None:
        lines.append(f"  executed notebook kept at: {kept}")
    return "\n".join(lines)


def failure_message(task: Task, source: Path, exc: BaseException, kept: Path | None, pm_error) -> str:
    """What the user reads when a notebook task fails."""
    step = task.step
    lines = [f"step {task.name!r} failed in notebook {step.notebook}"]
    if isinstance(exc, pm_error):
        number = source_cell_number(source, exc.cell_index, bool(task.params))
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


def run_function(task: Task, output_dir: Path, executed: Sequence[Path]) -> None:
    """Call a function step with its :class:`StepContext`; any exception becomes :class:`StepFailed`."""
    ctx = StepContext(task.step, dict(task.params), output_dir, list(executed), task.context)
    _call(task.step.func, ctx, f"step {task.name!r} failed")


def run_early(step, finished: Task, output_dir: Path) -> None:
    """Call ``step.early`` for a task that has just run; any exception becomes :class:`StepFailed`."""
    executed = [finished.executed] if finished.executed is not None else []
    ctx = StepContext(finished.step, dict(finished.params), output_dir, executed, finished.context)
    _call(step.early, ctx, f"step {step.name!r}, early call after {finished.name!r}")


def run_prepare(step, own: Task, output_dir: Path):
    """Call ``step.prepare`` with the step's own context; return what it returns (a cleanup).

    Any exception becomes :class:`StepFailed` (reported as a warning; the step does without)."""
    ctx = StepContext(step, dict(own.params), output_dir, [], own.context)
    return _call(step.prepare, ctx, f"step {step.name!r}, prepare call")


def _call(func, ctx: StepContext, failure: str):
    """``func(ctx)``; any exception becomes :class:`StepFailed`, ``failure: Type: message``."""
    try:
        return func(ctx)
    except Exception as exc:  # noqa: BLE001 - every failure is reported the same way
        raise StepFailed(f"{failure}: {type(exc).__name__}: {exc}") from exc


def timed(func, *args) -> float:
    """Run ``func(*args)``; return the seconds it took."""
    started = time.perf_counter()
    func(*args)
    return time.perf_counter() - started


def stop_child_processes(grace: float = 3.0) -> None:
    """Terminate every process this one started (kernels, kaleido's browser); kill stragglers."""
    import psutil  # lazy: ~10 ms to import, for an interrupted run only (see zmq above)

    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
