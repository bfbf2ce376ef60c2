"""Recipient names checked before any kernel starts: the register's recipients, the crosswalk's states.

A parameter marked ``(recipient)`` (``recipients``, ``comparison``) names countries or
non-state actors as SIPRI or the crosswalk spells them. A name the run's primary SIPRI
register does not list as a recipient and the crosswalk does not list as a state would make
the notebook chart nothing (titles such as "None-None"), so it stops the run with exit 2 and
the closest known names (``difflib``, compared case-insensitively).

Only what is needed is read, and only when such a parameter is given: the register's first
column (its recipients) with the standard library, never the deals with pandas, and the
crosswalk's ``state`` column. The register is the task's primary one
(:attr:`takingstock.data.runcontext.RunContext.primary_register`); without a register at hand the
crosswalk alone decides. With several exports at hand and no ``sipri_register`` given, choosing
the primary one reads their preambles (:mod:`takingstock.data.sipri_format`, the standard library
only).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from takingstock.runner.params import shown
import difflib
from takingstock.runner.steps import ParameterError

#: The first fields of a SIPRI trade-register header (``takingstock.data.sipri_format.HEADER_START``; a test
#: checks they agree); repeated here so that checking names never imports pandas.
HEADER_START = "Recipient,Supplier,Year of order"
_MIN_FIELDS = 16  # a deal line has 16 fields; a comment carried over a line break has fewer


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1", "replace")  # pragma: no cover - latin-1 decodes any byte


@lru_cache(maxsize=8)
def _register_recipients(path: str, _stamp: tuple[int, int]) -> frozenset[str]:
    lines = _decode(Path(path).read_bytes()).splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip('"').startswith(HEADER_START)), None)
    if start is None:
        return frozenset()  # not a register: the notebook's own reader says why
    names = set()
    for line in lines[start + 1:]:
        fields = line.rstrip(" \t;\r").split(",")
        if len(fields) >= _MIN_FIELDS and fields[0].strip():
            names.add(fields[0].strip())
    return frozenset(names)


def register_recipients(path: str | Path) -> frozenset[str]:
    """The recipient names of a SIPRI export (its first column), read without pandas."""
    st = Path(path).stat()
    return _register_recipients(str(path), (st.st_size, st.st_mtime_ns))


@lru_cache(maxsize=8)
def _crosswalk_states(path: str, _stamp: tuple[int, int]) -> frozenset[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if "state" not in (reader.fieldnames or []):

            raise ParameterError(f"{path}, line 1: the crosswalk has no column 'state'")
        return frozenset(row["state"].strip() for row in reader if (row.get("state") or "").strip())


def crosswalk_states(path: str | Path) -> frozenset[str]:
    """The ``state`` column of the country crosswalk."""
    st = Path(path).stat()
    return _crosswalk_states(str(path), (st.st_size, st.st_mtime_ns))


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` known names closest to ``name`` (case-insensitive), best first."""

    by_fold: dict[str, str] = {}
    for k in sorted(known):
        by_fold.setdefault(k.casefold(), k)
    return [by_fold[m] for m in difflib.get_close_matches(name.casefold(), list(by_fold), n=n, cutoff=0.6)]


def name_problems(value: Any, register: Path | None, crosswalk: Path | None) -> list[str]:
    """What is wrong with the name(s) in ``value`` ([] when each is known).

    Args:
        value: a name or a list of names; ``""`` (one name left empty) is accepted.
        register: the primary SIPRI export, or None.
        crosswalk: the country crosswalk, or None when it is missing.
    """
    if value == "":
        return []  # a single name left empty: none (e.g. no comparison recipient)
    names = list(value) if isinstance(value, (list, tuple)) else [value]
    if isinstance(value, (list, tuple)) and not names:
        return ["expected at least one name"]
    recipients = register_recipients(register) if register is not None else frozenset()
    states = crosswalk_states(crosswalk) if crosswalk is not None and Path(crosswalk).is_file() else frozenset()
    known = recipients | states
    where = " or ".join(w for w in (register and f"a recipient in {Path(register).name}",
                                    states and f"a state of {Path(crosswalk).name}") if w)
    problems = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{shown(name)} is not a name")
        elif known and name not in known:
            near = closest(name, known) if len(name) <= 200 else []
            hint = f"; closest: {', '.join(near)}" if near else "; no known name is close"
            problems.append(f"{shown(name)} is not {where}{hint}")
    return problems
