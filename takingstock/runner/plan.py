"""The plan of a run: every task with its checked parameters, run context and template values.

:class:`Plan` is built once, before anything runs, from the steps and the :class:`Config`:
it reads each notebook, checks the parameters (:mod:`takingstock.runner.params`), expands the
grid (:mod:`takingstock.runner.grid`), builds each task's
:class:`~takingstock.data.runcontext.RunContext` and checks its recipient names
(:mod:`takingstock.runner.names`). Any problem raises :class:`ParameterError` listing all of
them (exit 2): no kernel has started.

Every file a task reads or writes is named by its run context; step templates are filled
from :func:`template_values`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from takingstock.core import paths
from takingstock.data.runcontext import RunContext
from takingstock.runner import grid as gridmod
from takingstock.runner.names import name_problems
from takingstock.runner.cells import Param, notebook_parameters, read_notebook
from takingstock.runner.params import (Problem, check_values, convert, report, resolve_parameters, runner_values,
                                       shown)
from takingstock.runner.steps import Config, ParameterError, Step, Task


def template_values(context: RunContext, root: Path, params: Mapping[str, Any], stem: str) -> dict[str, Any]:
    """The names a step's input and output templates may use.

    ``{root}``; the folders ``{raw_dir}``, ``{processed_dir}``, ``{output_dir}``; the files
    ``{catalogues}`` (the patterns), ``{crosswalk}``, ``{periods}``, ``{sources}``,
    ``{own_sources}`` (each ``sources.csv`` beside a catalogue, none when there is none),
    ``{claims_path}``, ``{aliases}``, ``{windows}``, ``{country_groups}``, ``{weapon_types}`` and ``{sipri}`` (each
    SIPRI export at hand: a template naming it is filled once per export, none when there is
    none); ``{stem}``, the task's briefing stem (``04_supply_chains__yemen``); and every scalar
    parameter of the task. All come from the run context but the scalars.
    """
    values = {k: v for k, v in params.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
    values.update({
        "root": str(root), "raw_dir": str(context.raw_dir), "processed_dir": str(context.processed_dir),
        "output_dir": str(context.output_dir), "catalogues": [str(c) for c in context.catalogues],
        "crosswalk": str(context.crosswalk), "periods": str(context.periods),
        "sources": str(context.sources_file),
        "own_sources": [str(p) for p in context.own_sources_files()], "claims_path": str(context.claims_file),
        "aliases": str(context.aliases_file), "windows": str(context.windows_file),
        "country_groups": str(context.groups_file), "weapon_types": str(context.weapon_types_file),
        "sipri": [str(p) for p in context.register_files()], "stem": stem,
    })
    return values


def _context(step: str, params: Mapping[str, Any]) -> tuple[RunContext | None, Problem | None]:
    try:
        return RunContext.from_params(params), None
    except FileNotFoundError as exc:
        return None, Problem(f"step {step!r}: {exc}", (step,))


class Plan:
    """The tasks of a run, in step order (see the module docstring); whole after ``__init__``.

    Attributes:
        steps: the selected steps (all, or the ``--only`` ones and what they need).
        tasks: every task, a step's grid runs side by side.
        by_step: step name -> its tasks.
        notebooks: step name -> the parsed notebook.
        declared: step name -> its notebook's parameters.
        output_dir: the run's output folder (executed notebooks, cache).
    """

    def __init__(self, steps: Sequence[Step], config: Config):
        self.all_steps = list(steps)
        self.config = config
        self.root = Path(config.root)
        self._check_declaration()
        self.steps = self._selected()
        self.notebooks = {s.name: read_notebook(self.root / s.notebook) for s in self.all_steps if s.notebook}
        self.declared: dict[str, dict[str, Param]] = {
            s.name: notebook_parameters(self.root / s.notebook, self.notebooks[s.name])
            for s in self.all_steps if s.notebook
        }
        resolved = resolve_parameters(self.all_steps, config, self.declared)
        problems = gridmod.unknown_grid_scopes(config.grid, self.all_steps, self.declared)
        if problems:
            raise ParameterError(self.report(problems))
        self.output_dir = Path(self._function_params(resolved)["output_dir"])
        self.tasks: list[Task] = []
        problems = []
        for step in self.steps:
            made, wrong = self._tasks(step, resolved)
            self.tasks += made
            problems += wrong
        if problems:
            raise ParameterError(self.report(problems))
        self.by_step = {s.name: [t for t in self.tasks if t.step.name == s.name] for s in self.steps}

    # ------------------------------------------------------------ the declaration

    def _check_declaration(self) -> None:
        names = [s.name for s in self.all_steps]
        problems = [f"two steps are named {n!r}" for n in sorted({n for n in names if names.count(n) > 1})]
        for s in self.all_steps:
            problems += [f"step {s.name!r} needs unknown step {n!r}" for n in s.needs if n not in names]
            if s.notebook and not (self.root / s.notebook).is_file():
                problems.append(f"step {s.name!r}: no notebook {s.notebook}")
            if not s.notebook and s.func is None:
                problems.append(f"step {s.name!r} has neither a notebook nor a function")
        if problems:
            raise ParameterError("the pipeline's steps are wrong (nothing was run):\n"
                                 + "\n".join(f"  - {p}" for p in problems))

    def _selected(self) -> list[Step]:
        """All steps, or the ``--only`` steps and everything they need."""
        if not self.config.only:
            return list(self.all_steps)
        names = [s.name for s in self.all_steps]
        for name in self.config.only:
            if name not in names:
                raise ParameterError(f"--only {name}: no such step (steps: {', '.join(names)})")
        keep = self.needed(self.config.only)
        return [s for s in self.all_steps if s.name in keep]

    def needed(self, names: Iterable[str]) -> set[str]:
        """The steps ``names`` and every step they need, at any depth."""
        by_name = {s.name: s for s in self.all_steps}
        keep: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name not in keep:
                keep.add(name)
                todo.extend(by_name[name].needs)
        return keep

    # ------------------------------------------------------------ tasks

    def _function_params(self, resolved: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """A function step's parameters: the shared folders and every global value, as resolved
        for the notebooks that declare it (so paths are absolute)."""
        out: dict[str, Any] = {k: v for k, v in runner_values(self.root).items() if k != "static_figures"}
        for name, value in self.config.params.items():
            out[name] = next((r[name] for r in resolved.values() if name in r), value)
        return out

    def report(self, problems: Sequence[Problem]) -> str:
        """The exit-2 message for ``problems`` (:func:`takingstock.runner.params.report`)."""
        return report(problems, self.all_steps, self.declared, self.root, self.config.command)

    def _tasks(self, step: Step, resolved: Mapping[str, Mapping[str, Any]]) -> tuple[list[Task], list[Problem]]:
        if step.notebook is None:
            params = self._function_params(resolved)
            context, problem = _context(step.name, params)
            if context is None:
                return [], [problem]
            fmt = template_values(context, self.root, params, "")
            return [Task(step, "", params, context, fmt, None)], []
        declared = self.declared[step.name]
        base = dict(resolved[step.name])
        given = set(self.config.params) | set(self.config.step_params.get(step.name, {}))
        given &= set(declared)
        spec = gridmod.grid_for_step(step, declared, self.config.grid)
        variants: list[tuple[str, dict[str, Any]]] = [("", base)]
        problems: list[Problem] = []
        if spec is not None:
            name, values = spec
            variants = []
            for variant, value in gridmod.runs(name, values, declared[name]):
                converted, problem = convert(declared[name], value)
                if problem:
                    problems.append(Problem(f"--grid {step.name}.{name}: {problem}", (step.name,)))
                    continue
                variants.append((variant, {**base, name: converted, "variant": variant}))
            given = given | {name}
        if spec is None and "variant" in given and not gridmod.is_run_name(base.get("variant")):
            return [], [Problem(f"parameter 'variant' of step {step.name!r}: {shown(base.get('variant'))} is not "
                                "a run name: lower-case ASCII letters, digits and '-' only, as a grid value "
                                "becomes (e.g. 'yemen'); it names the run's files", (step.name,))]
        tasks = []
        for variant, params in variants:
            wrong = check_values(step.name, declared, params, given) if spec else []
            context, problem = _context(step.name, params)
            if context is None:
                problems.append(problem)
                continue
            wrong += self._name_problems(step, declared, params, given, context)
            if wrong:
                problems += wrong
                continue
            stem = context.stem(Path(step.notebook).stem)
            executed = paths.output_folder(self.output_dir, "notebooks") / f"{stem}.ipynb"
            if executed.resolve().parent != paths.output_folder(self.output_dir, "notebooks").resolve():  # checked names only
                problems.append(Problem(f"step {step.name!r}: run name {shown(stem)} would put its notebook "
                                        f"outside {paths.output_folder(self.output_dir, 'notebooks')}", (step.name,)))
                continue
            fmt = template_values(context, self.root, params, stem)
            tasks.append(Task(step, variant, params, context, fmt, executed))
        return tasks, problems

    def _name_problems(self, step: Step, declared: Mapping[str, Param], params: Mapping[str, Any],
                       given: set[str], context: RunContext) -> list[Problem]:
        """Recipient names given for ``(recipient)`` parameters, checked against the task's data."""
        marked = [n for n in sorted(given) if declared[n].recipient and n in params]
        if not marked:
            return []
        register = context.primary_register
        return [Problem(f"parameter {name!r} of step {step.name!r}: {p}", (step.name,))
                for name in marked for p in name_problems(params[name], register, context.crosswalk)]

    # ------------------------------------------------------------ queries

    def task_named(self, name: str) -> Task:
        """The task called ``name`` (``supply`` or ``supply[yemen]``)."""
        return next(t for t in self.tasks if t.name == name)

    def executed_notebooks(self) -> list[Path]:
        """The executed notebooks of this plan's notebook tasks that exist, in task order."""
        return [t.executed for t in self.tasks if t.executed is not None and t.executed.exists()]
