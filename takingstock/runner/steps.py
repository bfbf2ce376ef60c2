"""The runner's vocabulary: steps, tasks, results, the run's configuration, errors, exit codes.

A :class:`Step` is what ``pipeline.py`` declares (a notebook or a function, what it needs, the
files it reads and writes). A :class:`Task` is one run of a step: a step runs once, or once
per value of its grid parameter (:mod:`takingstock.runner.grid`); each task has its own
parameters, run context, executed notebook and cache entry. A :class:`Result` is what
happened to a task. :class:`Config` holds what the command line and ``--params`` files said.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from takingstock.core import paths

if TYPE_CHECKING:  # pragma: no cover
    from takingstock.data.runcontext import RunContext

DEFAULT_JOBS = 2
#: A step whose ``holds`` files weigh more than this (MB on disk) runs while no other step
#: holding one of them does (:attr:`Config.large_file_mb`).
DEFAULT_LARGE_FILE_MB = 8.0
DEFAULT_CELL_TIMEOUT = 600
DEFAULT_START_TIMEOUT = 60
#: The folders every notebook that declares them receives, always as absolute paths.
SHARED_DIRS = ("raw_dir", "processed_dir", "output_dir")

#: How messages name the pipeline's command (``taking-stock`` says ``taking-stock``: :attr:`Config.command`).
DEFAULT_COMMAND = "python pipeline.py"

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # ... and by SIGTERM (128 + 15)


class ParameterError(ValueError):
    """A parameter, a grid or the pipeline's declaration is wrong; nothing was run (exit 2)."""


class StepFailed(RuntimeError):
    """A task failed; ``str()`` is the full message for the user."""


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def shown_path(path: str | os.PathLike, root: str | os.PathLike) -> str:
    """``path`` relative to ``root`` when inside it, else to the working folder when inside
    that, else absolute (as a message shows a file to the user)."""
    path = Path(path).resolve()
    for base in (Path(root).resolve(), Path.cwd().resolve()):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def default_dirs(root: str | os.PathLike) -> dict[str, str]:
    """The shared folders under ``root``, laid out as :mod:`takingstock.core.paths` lays them out."""
    root = Path(root)
    return {
        "raw_dir": str(root / paths.RAW.relative_to(paths.ROOT)),
        "processed_dir": str(root / paths.PROCESSED.relative_to(paths.ROOT)),
        "output_dir": str(root / paths.OUTPUT.relative_to(paths.ROOT)),
    }


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of the pipeline.

    Args:
        name: short id used on the command line (``clean``, ``origin``...).
        notebook: notebook path relative to the root, or None for a function step.
        needs: names of the steps that must finish first (every run of each, in a grid).
        inputs: glob templates of the files read (``{raw_dir}/x.csv``; the names are listed
            in :func:`takingstock.runner.plan.template_values`).
        outputs: glob templates of the files written.
        func: for a function step, a callable taking a :class:`StepContext`.
        description: one line for ``list``.
        early: for a function step, a callable taking a :class:`StepContext`, called for each
            task of a step it needs as soon as that task has run (not when it was skipped), on
            the runner's one background thread, with that task's step, parameters, run
            context and executed notebook (``executed_notebooks``: that one, or none for a
            function task), while the run goes on; ``func`` runs once every early call has
            returned. A step's early calls run one at a time on the step's own background
            thread, in the order the tasks finished; an early call for a task waits for the
            early calls for the same task of the steps it needs (publish's page of a notebook
            comes after figures' images of it).
            A failing early call is reported and does not fail the run (``func`` is expected
            to finish what an early call left undone). The figures step draws each notebook's
            static images this way, and the publish step renders each notebook's page body.
        prepare: for a function step, a callable taking the step's own :class:`StepContext`,
            called once on the step's background thread as soon as a task of a step it needs has
            run (so the step will run too): the figures and publish steps start their browsers
            while the next notebooks run. It may return a callable, called when the run ends (to
            free what was prepared and not used). Early calls and the step wait for it.
        holds: glob templates of the files the step loads whole into memory (the analysis
            notebooks: the processed catalogue). When those files weigh more than
            :attr:`Config.large_file_mb` together, the step waits until no other running task
            holds one of them: two kernels each holding a catalogue of 10^6 rows would need
            ~1 GB between them. Below that size, such steps run side by side as any others.
        check: a callable taking the task's :class:`StepContext` once the task has run, returning
            ``None`` when its outputs can be used, else a message saying why not (the cleaning
            step: every catalogue row was rejected). The task then fails with that message,
            unless the user accepts it (``--accept STEP``, :attr:`Config.accept`).
        notice: a callable taking a task's :class:`StepContext` when the run ends, for each task
            that ran or was up to date, returning one line the user must know from what the
            task recorded (no SIPRI export at hand, catalogue rows rejected, a comparison
            skipped), or ``None``. The lines are printed under the step table, each once.
    """

    name: str
    notebook: str | None = None
    needs: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    func: Callable[["StepContext"], Any] | None = None
    description: str = ""
    early: Callable[["StepContext"], Any] | None = None
    prepare: Callable[["StepContext"], Any] | None = None
    holds: tuple[str, ...] = ()
    check: Callable[["StepContext"], str | None] | None = None
    notice: Callable[["StepContext"], str | None] | None = None


@dataclasses.dataclass(frozen=True)
class Task:
    """One run of a step: the step, its grid variant (``""`` outside a grid) and its values.

    Attributes:
        params: what the notebook receives (only names it declares), or a function step's
            parameters.
        context: the run context built from ``params`` (every file the task uses).
        fmt: the values its input and output templates are filled with.
        executed: where its executed notebook goes (None for a function step).
    """

    step: Step
    variant: str
    params: dict[str, Any]
    context: "RunContext"
    fmt: dict[str, Any]
    executed: Path | None

    @property
    def name(self) -> str:
        """``supply``, or ``supply[yemen]`` for one run of a grid."""
        return f"{self.step.name}[{self.variant}]" if self.variant else self.step.name


@dataclasses.dataclass
class StepContext:
    """What a function step (and a step's ``check`` and ``notice``) receives.

    ``root`` is the project folder and ``command`` the command the user runs the pipeline
    with (``python pipeline.py`` or ``taking-stock``), for messages that name a path or a
    command.
    """

    step: Step
    params: dict[str, Any]
    output_dir: Path
    executed_notebooks: list[Path]
    context: "RunContext | None" = None
    root: Path = paths.ROOT
    command: str = DEFAULT_COMMAND

    def shown(self, path: str | os.PathLike) -> str:
        """``path`` as a message names it: relative to the project folder when inside it,
        else to the working folder when inside that, else absolute."""
        return shown_path(path, self.root)


@dataclasses.dataclass
class Result:
    """What happened to one task."""

    step: str  # the task's name (``supply`` or ``supply[yemen]``)
    state: str  # ran, skipped, failed, blocked, not run, interrupted
    seconds: float = 0.0
    message: str = ""


@dataclasses.dataclass
class Config:
    """Everything a run needs besides the steps (see :func:`takingstock.runner.cli.parse_run_args`).

    ``params`` holds values for every notebook that declares the name, ``step_params`` values
    for one step. ``bases`` says, per scope (``"*"`` or a step) and name, the folder a relative
    path value is taken from (the YAML file's folder for ``--params``; the current directory
    otherwise). ``cli_strings`` keeps the command line's text of ``-p`` values, so ``2015``
    can be a ``str``. ``grid`` maps a scope and name to the values a step runs once each with.
    """

    root: Path = paths.ROOT
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    step_params: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    cli_strings: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    bases: dict[str, dict[str, Path]] = dataclasses.field(default_factory=dict)
    grid: dict[tuple[str, str], list[Any]] = dataclasses.field(default_factory=dict)
    jobs: int = DEFAULT_JOBS
    force: bool = False
    only: tuple[str, ...] = ()
    keep_going: bool = False
    execution_timeout: float = DEFAULT_CELL_TIMEOUT
    start_timeout: float = DEFAULT_START_TIMEOUT
    progress: bool = False
    fork_kernels: bool = True
    large_file_mb: float = DEFAULT_LARGE_FILE_MB
    #: seconds to wait for another run's lock on the output folder (0: stop at once, exit 2)
    lock_wait: float = 0.0
    #: steps whose check (:attr:`Step.check`) the user accepts: the run goes on, with a warning
    accept: tuple[str, ...] = ()
    #: the command the user runs (named in messages: ``python pipeline.py fetch-sipri``)
    command: str = DEFAULT_COMMAND
