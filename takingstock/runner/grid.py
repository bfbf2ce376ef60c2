"""A grid: a step run once per value of one of its parameters.

Spelling
    Command line: ``--grid STEP.NAME=V1,V2,V3`` (or ``--grid 'STEP.NAME=[V1, V2]'`` as a YAML
    list, for values holding commas), repeatable; ``--grid NAME=...`` applies to every
    notebook that declares NAME. In a ``--params`` file: ``grid: {STEP.NAME: [V1, V2]}`` or
    ``grid: {STEP: {NAME: [V1, V2]}}`` (``grid`` is therefore not a parameter name). The
    command line's grid replaces the file's for the same scope and name.

Runs
    Each value gives one run (a :class:`~takingstock.runner.steps.Task`) of the step: for a
    ``list`` parameter the run gets ``[value]`` (``recipients=[Yemen]``), otherwise the value
    itself, checked like any other value (type, markers, recipient names). Each run also gets
    ``variant=<slug of the value>`` (``yemen``), so its run context names its outputs
    (``RunContext.stem``: ``04_supply_chains__yemen``); its executed notebook is
    ``output/notebooks/<stem>.ipynb``, its cache entry ``supply[yemen]``. Steps that need the
    step wait for all its runs, and are blocked if one fails.

Rules (exit 2 otherwise): at most one grid parameter per step; the notebook must declare the
parameter and ``variant`` (else its runs would overwrite each other's outputs); at least one
value; two values may not have the same slug.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping, Sequence


from takingstock.runner.cells import Param
from takingstock.runner.params import Problem, YamlProblem, load_yaml, shown
from takingstock.runner.steps import ParameterError, Step


def is_run_name(text: Any) -> bool:
    """Whether ``text`` may name a run (a ``variant``): its own slug, not empty. Only such a name
    goes into a file name (``output/notebooks/<stem>__<variant>.ipynb``)."""
    return isinstance(text, str) and bool(text) and slug(text) == text and len(text) <= 100


def slug(value: Any) -> str:
    """A file-name part for a grid value: ASCII lower case, runs of other characters as ``-``."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def parse_grid_values(text: str) -> list[Any]:
    """``Iraq,Syria`` -> ``["Iraq", "Syria"]``; ``[a, b]`` is read as a YAML list; items as YAML scalars."""
    text = text.strip()
    if text.startswith("["):
        try:
            values = load_yaml(text)
        except YamlProblem as exc:
            raise ParameterError(f"--grid: cannot read {shown(text)} as a list: {shown(str(exc), 300)}") from exc
        return list(values or [])

    def scalar(part: str) -> Any:
        try:
            value = load_yaml(part)
        except YamlProblem:
            return part
        return part if isinstance(value, (list, dict)) or value is None else value

    return [scalar(p.strip()) for p in text.split(",") if p.strip()]


def parse_grid_option(option: str) -> tuple[str, list[Any]]:
    """``supply.recipients=Iraq,Syria`` -> ``("supply.recipients", ["Iraq", "Syria"])``."""
    name, sep, values = option.partition("=")
    if not sep or not name.strip():
        raise ParameterError(f"--grid {option}: expected STEP.NAME=V1,V2,... (or NAME=V1,V2,...)")
    return name.strip(), parse_grid_values(values)


def grid_for_step(step: Step, params: Mapping[str, Param], grid: Mapping[tuple[str, str], list[Any]]) -> tuple[str, list[Any]] | None:
    """The (name, values) this step runs over, or None; :class:`ParameterError` when ambiguous."""
    mine = {name: values for (scope, name), values in grid.items() if scope == step.name}
    mine.update({name: values for (scope, name), values in grid.items()
                 if scope == "*" and name in params and name not in mine})
    if not mine:
        return None
    if len(mine) > 1:
        raise ParameterError(f"--grid: step {step.name!r} has more than one grid parameter "
                             f"({', '.join(sorted(mine))}); one per step")
    name, values = next(iter(mine.items()))
    if name not in params:
        raise ParameterError(f"--grid {step.name}.{name}: {step.notebook} declares no parameter {name!r}")
    if "variant" not in params:
        raise ParameterError(f"--grid {step.name}.{name}: {step.notebook} declares no 'variant' parameter, "
                             "so its runs would write over each other's outputs")
    if not values:
        raise ParameterError(f"--grid {step.name}.{name}: no values")
    slugs = [slug(v) for v in values]
    clash = sorted({s for s in slugs if slugs.count(s) > 1 or not s})
    if clash:
        raise ParameterError(f"--grid {step.name}.{name}: values {shown(values)} give the same or an empty "
                             f"run name {clash!r}")
    return name, list(values)


def runs(name: str, values: Sequence[Any], param: Param) -> list[tuple[str, Any]]:
    """``(variant, value to pass)`` per grid value: a list parameter gets ``[value]``."""
    wrap = param.type == "list"
    return [(slug(v), [v] if wrap and not isinstance(v, list) else v) for v in values]


def unknown_grid_scopes(grid: Mapping[tuple[str, str], Any], steps: Sequence[Step],
                        declared: Mapping[str, Mapping[str, Param]]) -> list[Problem]:
    """Grid entries naming no step, or a name no notebook declares."""
    names = [s.name for s in steps]
    problems = []
    for scope, name in grid:
        if scope != "*" and scope not in names:
            problems.append(Problem(f"--grid {scope}.{name}: no step {scope!r} (steps: {', '.join(names)})"))
        elif scope != "*" and scope not in declared:
            problems.append(Problem(f"--grid {scope}.{name}: step {scope!r} has no notebook (steps that take "
                                    f"parameters: {', '.join(declared)})"))
        elif scope == "*" and "." in name:
            problems.append(Problem(f"--grid {name}: no step {name.split('.')[0]!r} (steps: {', '.join(names)})"))
        elif scope == "*" and not any(name in d for d in declared.values()):
            problems.append(Problem(f"--grid {name}: no notebook declares {name!r}", unknown=name))
    return problems
