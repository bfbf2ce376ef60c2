"""Notebook parameters: convert and check the values given for them; the messages that list them.

What a notebook declares (its ``parameters`` cell, the markers) is read by
:mod:`takingstock.runner.cells`.

Checking
    A value given for a name the notebook declares must have the default's type (an int is
    fine for a float; on the command line a scalar is accepted for a ``str`` as its text, so
    ``-p label 2015`` gives ``"2015"``), then obey the markers; ``NAME_from``/``NAME_to``
    pairs declared by one notebook must have first <= last (unless one is its ``(V means ...)``
    value). Only given values are checked (defaults are the notebook author's), and a pair is
    checked as soon as one of its two values is given.

Messages
    Every problem is a :class:`Problem`: its line, and what it asks to be listed after the
    lines (:func:`report`): the parameters of the step a value was given for, or only the
    parameter itself when the value was given for every step, or the names close to an unknown
    one with the command that lists them all. A parameter is shown in words, as ``list`` shows
    it too (:func:`describe`): ``top_n (a whole number, at least 1; default 10) - help``; a
    default is the value the runner passes (the shared folders), the literal as it would be
    typed after ``-p``, the project path a ``paths`` expression names, never Python source.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import os
import reprlib
from pathlib import Path
from typing import Any, Collection, Mapping, Sequence


from takingstock.core import paths
from takingstock.runner.cells import NO_VALUE, Param
from takingstock.runner.steps import (DEFAULT_COMMAND, Config, ParameterError, Step, cut, default_dirs,
                                      shown_path)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with the parameters given, and what the message lists after it.

    Attributes:
        text: the error line.
        steps: the step(s) the value was meant for: each one's parameters are listed.
        unknown: a name no notebook declares: the names close to it are listed.
        shared: the name of a parameter whose value, given for every step that declares it
            (``-p NAME``), a step refused: that parameter is listed, not all of the step's.
    """

    text: str
    steps: tuple[str, ...] = ()
    unknown: str = ""
    shared: str = ""


def _number_text(n: float) -> str:
    """A bound as the user typed it: ``1`` not ``1.0``."""
    return str(int(n)) if float(n).is_integer() else str(n)


# ---------------------------------------------------------------------- converting


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


def absolute(value: str, base: Path | None) -> str:
    """``value`` (``~`` expanded) made absolute against ``base`` (the current folder if None)."""
    return str(((base or Path.cwd()) / os.path.expanduser(value)).resolve())


def convert(param: Param, value: Any, *, text: str | None = None, base: Path | None = None) -> tuple[Any, str]:
    """The value to pass for ``param``, or ``(value, problem)`` when it is refused.

    ``text`` is the command line's text of the value (a scalar given for a ``str`` parameter
    is taken as that text); ``base`` the folder a relative path is taken from.
    """
    if param.kind == "paths" and param.type == "str" and isinstance(value, (list, tuple)):
        if not value or not all(isinstance(v, str) and v for v in value):
            return value, f"expected a path, a glob or a non-empty list of them, got {shown(value)}"
        return [absolute(v, base) for v in value], ""
    ok, converted = _type_ok(value, param.type)
    if not ok and param.type == "str" and text is not None and not isinstance(value, (list, dict)):
        ok, converted = True, text
    if not ok:
        return value, (f"expected {param.type} like the default {param.default}, "
                       f"got {type(value).__name__} {shown(value)}")
    if param.is_path and isinstance(converted, str) and converted:
        converted = absolute(converted, base)
    return converted, ""


# ------------------------------------------------------------------------ checking


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _bound_ok(number: float, kind: str, limit: float) -> bool:
    return number >= limit if kind == "min" else number <= limit


def value_problems(param: Param, value: Any) -> list[str]:
    """What is wrong with ``value`` against ``param``'s choices and bounds ([] when fine)."""
    problems = []
    for item in _items(value):
        if param.choices and str(item) not in param.choices:
            problems.append(f"{shown(item)} is not one of: {', '.join(param.choices)}")
        if param.exempt is not None and item == param.exempt:
            continue
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            for kind, limit in param.bounds:
                if not _bound_ok(item, kind, limit):
                    word = "below the minimum" if kind == "min" else "above the maximum"
                    problems.append(f"{shown(item)} is {word} {_number_text(limit)} (allowed: {plain_type(param)})")
    return problems


def pair_problems(step: str, params: Mapping[str, Param], values: Mapping[str, Any], given: set[str]) -> list[str]:
    """``NAME_from``/``NAME_to`` pairs whose first is after their last (a value given for either)."""
    problems = []
    for first in params:
        if not first.endswith("_from"):
            continue
        last = first[: -len("_from")] + "_to"
        if last not in params or not ({first, last} & given):
            continue
        a = values.get(first, params[first].default_value())
        b = values.get(last, params[last].default_value())
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
            continue
        if a == params[first].exempt or b == params[last].exempt:
            continue
        if a > b:
            problems.append(f"parameters {first} and {last} of step {step!r}: {first} {a} is after "
                            f"{last} {b} (the first must be <= the last)")
    return problems


def check_values(step: str, params: Mapping[str, Param], values: Mapping[str, Any], given: set[str],
                 shared: Collection[str] = ()) -> list[Problem]:
    """Every marker and pair problem of the ``given`` names of one task's values; ``shared``
    are the names whose value was given for every step (``-p NAME``), not for this one."""
    problems = [Problem(f"parameter {name!r} of step {step!r}: {p}", (step,), shared=name if name in shared else "")
                for name in sorted(given) for p in value_problems(params[name], values[name])
                if name in values]
    return problems + [Problem(p, (step,)) for p in pair_problems(step, params, values, given)]


# ----------------------------------------------------------------------- resolving


def runner_values(root: Path) -> dict[str, Any]:
    """What the runner passes to every notebook that declares the name (the user may override).

    The shared folders, and ``static_figures=False``: under the pipeline the ``figures`` step
    draws every static image in one browser session.
    """
    return {**default_dirs(root), "static_figures": False}


def unknown_names(steps: Sequence[Step], config: Config, declared: Mapping[str, Mapping[str, Param]]) -> list[Problem]:
    """Names and steps the user gave that no notebook (or not that step's) declares."""
    names = [s.name for s in steps]
    problems = [Problem(f"unknown step {shown(name.split('.')[0])} in {shown(name)} (steps: {', '.join(names)})")
                if "." in name else Problem(f"unknown parameter {shown(name)}: no notebook declares it", unknown=name)
                for name in config.params if not any(name in d for d in declared.values())]
    for step, values in config.step_params.items():
        if step not in names:
            problems.append(Problem(f"unknown step {shown(step)} in a step parameter (steps: {', '.join(names)})"))
        elif step not in declared:
            problems.append(Problem(f"step {step!r} has no notebook to take parameters (steps that take "
                                    f"parameters: {', '.join(declared)})"))
        else:
            problems += [Problem(f"unknown parameter {step}.{cut(str(name), 80)}: {step}'s notebook does not "
                                 "declare it", (step,)) for name in values if name not in declared[step]]
    return problems


def step_values(step: str, params: Mapping[str, Param],
                config: Config) -> tuple[dict[str, Any], set[str], list[Problem]]:
    """One notebook step's values: (values to pass, names the user gave, problems).

    The most specific scope wins: a value for this step beats a value for every notebook, and
    its command-line text and base folder come from the same scope.
    """
    own = config.step_params.get(step, {})
    given = {**config.params, **own}
    values = {n: v for n, v in runner_values(config.root).items() if n in params}
    problems = []
    for name, value in given.items():
        if name not in params:
            continue
        scope = step if name in own else "*"
        converted, problem = convert(params[name], value, text=config.cli_strings.get(scope, {}).get(name),
                                     base=config.bases.get(scope, {}).get(name))
        if problem:
            problems.append(Problem(f"parameter {name!r} of step {step!r}: {problem}", (step,),
                                    shared=name if scope == "*" else ""))
        else:
            values[name] = converted
    names = set(given) & set(params)
    return values, names, problems


def resolve_parameters(
    steps: Sequence[Step], config: Config, declared: Mapping[str, Mapping[str, Param]]
) -> dict[str, dict[str, Any]]:
    """Check the user's parameters and return each notebook step's values (grid aside).

    Args:
        steps: the pipeline.
        config: the user's global (``params``) and per-step (``step_params``) values.
        declared: step name -> its notebook's parameters.

    Returns:
        step name -> {name: value} to pass to papermill (only names the notebook declares).

    Raises:
        ParameterError: listing every problem, then what the user needs to put it right
            (:func:`report`).
    """
    problems = unknown_names(steps, config, declared)
    resolved = {}
    for step, params in declared.items():
        values, given, wrong = step_values(step, params, config)
        shared = set(config.params) - set(config.step_params.get(step, {}))
        problems += wrong or check_values(step, params, values, given, shared)
        resolved[step] = values
    if problems:
        raise ParameterError(report(problems, steps, declared, config.root, config.command))
    return resolved


#: The types of a parameter, in words.
TYPE_WORDS = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "text",
              "list": "a list", "dict": "a mapping", None: "any value"}


def plain_value(value: Any) -> str:
    """A value as it is typed after ``-p NAME`` (YAML): ``true``, ``10``, ``all``, ``""``,
    ``[Iraq, Syria]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(plain_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{plain_value(k)}: {plain_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _path_value(node: ast.AST) -> Path | None:
    """The path a default like ``str(paths.RAW / "catalogue_*.csv")`` names (:mod:`takingstock.core.paths`'
    folders joined with text), read without running it; None for any other expression."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str" and len(node.args) == 1:
        return _path_value(node.args[0])
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "paths":
        found = getattr(paths, node.attr, None)
        return found if isinstance(found, Path) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left = _path_value(node.left)
        right = node.right.value if isinstance(node.right, ast.Constant) else None
        return left / right if left is not None and isinstance(right, str) else None
    return None


def plain_default(param: Param, root: Path) -> str:
    """A parameter's default in words: the value the runner passes (the shared folders, shown
    under ``root``), the literal, the project path an expression names, else "set by the notebook"."""
    passed = runner_values(root)
    if param.name in passed:
        value = passed[param.name]
        return f"{shown_path(value, root) if param.is_path else plain_value(value)}, passed by the runner"
    value = param.default_value()
    if value is not NO_VALUE:
        return plain_value(value)
    try:
        path = _path_value(ast.parse(param.default, mode="eval").body)
    except SyntaxError:
        path = None
    return shown_path(path, paths.ROOT) if path is not None else "set by the notebook"


def plain_type(param: Param) -> str:
    """A parameter's type and allowed values in words: ``a whole number, at least 1``."""
    if param.kind == "paths":
        parts = ["a path, a glob or a list of them"]
    elif param.kind == "path":
        parts = ["a path"]
    else:
        parts = [TYPE_WORDS.get(param.type, "any value")]
    if param.choices:
        parts.append("one of: " + ", ".join(param.choices))
    parts += [f"{'at least' if kind == 'min' else 'at most'} {_number_text(n)}" for kind, n in param.bounds]
    if param.exempt is not None:
        parts.append(f"or {plain_value(param.exempt)}")
    if param.recipient:
        parts.append("recipient names")
    return ", ".join(parts)


def describe(params: Mapping[str, Param], root: Path = paths.ROOT) -> str:
    """The parameters, one per line, in words: ``name (type and allowed values; default D) - help``."""
    if not params:
        return "    (no parameters cell)"
    return "\n".join(f"    {p.name} ({plain_type(p)}; default {plain_default(p, root)})"
                     + (f" - {p.help}" if p.help else "") for p in params.values())


class YamlProblem(ValueError):
    """A value or file that is not YAML the runner accepts; ``alias`` when it used an alias
    (``*name``), which is refused outright, ``problem`` the parser's short reason."""

    def __init__(self, message: str, *, alias: bool = False, problem: str = ""):
        super().__init__(message)
        self.alias = alias
        self.problem = problem


@functools.lru_cache(maxsize=1)
def _no_alias_loader():
    """A safe YAML loader that refuses aliases (``*name``): a few hundred bytes of nested
    aliases expand to gigabytes (a "billion laughs"), and no parameter needs one."""
    # lazy: yaml costs 10-20 ms to import and only values given with -p, --params or --grid
    # need it; a run with nothing to do (target 0.2 s in all) is given none
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, "aliases (*name) are not accepted in parameters", mark)
            return super().compose_node(parent, index)

    return yaml, NoAliasLoader


def load_yaml(text: str) -> Any:
    """``text`` read as YAML, safely and without aliases (:func:`_no_alias_loader`); raises
    :class:`YamlProblem` for text that is not YAML or uses an alias."""
    yaml, loader = _no_alias_loader()
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        alias = isinstance(exc, yaml.composer.ComposerError) and "aliases" in str(exc)
        raise YamlProblem(str(exc), alias=alias, problem=str(getattr(exc, "problem", "") or "")) from exc


#: At most this many problems are listed, each cut to this many characters: a message stays
#: readable (and cheap) whatever the user gave.
MAX_PROBLEMS = 30
MAX_PROBLEM_CHARS = 400


def shown(value: Any, limit: int = 120) -> str:
    """``repr(value)`` for a message: nested values cut short (``reprlib``), the text cut to
    ``limit`` characters. A value of any size costs nothing to show."""
    short = reprlib.Repr()
    short.maxlevel, short.maxstring, short.maxother = 3, limit, limit
    return cut(short.repr(value), limit)


def report(problems: Sequence[Problem], steps: Sequence[Step], declared: Mapping[str, Mapping[str, Param]],
           root: Path = paths.ROOT, command: str = DEFAULT_COMMAND) -> str:
    """The exit-2 message: every problem, then what puts it right, not every step's parameters:
    the parameters of a step a value was given for (``STEP.NAME``) or whose check failed; the
    parameter itself for a value given to every step (``-p NAME``); the names close to an
    unknown one and the command listing them all; the step names for an unknown step (in the
    problem's own line)."""
    lines = ["parameter check failed (nothing was run):"]
    lines += [f"  - {cut(p.text, MAX_PROBLEM_CHARS)}" for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"  ... and {len(problems) - MAX_PROBLEMS:,} more problems")
    problems = problems[:MAX_PROBLEMS]  # what follows is for the problems shown
    notebooks = {s.name: s.notebook for s in steps}
    whole = {step for p in problems if not p.shared for step in p.steps}
    for step in (s for s in declared if s in whole):
        lines += [f"parameters of step {step} ({notebooks.get(step)}):", describe(declared[step], root)]
    for name in dict.fromkeys(p.shared for p in problems if p.shared):
        refused = [step for p in problems if p.shared == name for step in p.steps]
        lines.append(f"{name}, as the steps that refused the value declare it:")
        lines += param_lines(name, {step: declared[step][name] for step in dict.fromkeys(refused)}, root)
    unknown = list(dict.fromkeys(p.unknown for p in problems if p.unknown))
    found = {name: close_names(name, declared, root) for name in unknown}
    for name, close in found.items():
        if close:
            lines += [f"close to {shown(name)}:", *close]
    far = [shown(name) for name, close in found.items() if not close]
    if far:
        lines.append(f"no parameter has a name close to {', '.join(far)}")
    if unknown:
        lines.append(f"every step's parameters: {command} list")
    return "\n".join(lines)


def param_lines(name: str, where: Mapping[str, Param], root: Path) -> list[str]:
    """One line per way the steps in ``where`` (step -> its :class:`Param` called ``name``)
    declare it: ``name (type; default D; steps a, b) - help``."""
    ways: dict[tuple[str, str], list[str]] = {}
    for step, param in where.items():
        ways.setdefault((plain_type(param), plain_default(param, root)), []).append(step)
    lines = []
    for (kind, default), named in ways.items():
        helps = [where[step].help for step in named if where[step].help]
        lines.append(f"    {name} ({kind}; default {default}; step{'s' if len(named) > 1 else ''} {', '.join(named)})"
                     + (f" - {helps[0]}" if helps else ""))
    return lines


def close_names(name: str, declared: Mapping[str, Mapping[str, Param]], root: Path) -> list[str]:
    """The parameters whose names are close to ``name``, one line each with the steps that
    declare it ([] when none is)."""
    known = list(dict.fromkeys(n for params in declared.values() for n in params))
    lines: list[str] = []
    for found in difflib.get_close_matches(str(name), known, n=3, cutoff=0.6):
        lines += param_lines(found, {step: params[found] for step, params in declared.items() if found in params}, root)
    return lines
