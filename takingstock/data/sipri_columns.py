"""The columns of the deal frame: each deal's text fields typed, checked and named.

:func:`takingstock.data.sipri.read_register` builds the deal frame with these functions; each
refusal raises :class:`takingstock.data.sipri_format.SipriFormatError` naming the file, the
line, the column and the value (bad values: a year that is not a whole number, a flag that is
not ``?``, a list of delivery years that is not one).

**The `?` flags.** Three unnamed columns hold `?` when the value before them (year of order,
number ordered, number delivered) is uncertain. They become the boolean columns
``order_year_uncertain``, ``number_ordered_uncertain`` and ``number_delivered_uncertain``
(:func:`to_flag`).

**Names.** SIPRI keeps former states apart from their successors (`Soviet Union` vs `Russia`,
`Czechoslovakia` vs `Czechia`, `Yugoslavia` vs `Serbia`, `East Germany (GDR)` vs `Germany`,
where `Germany` covers West Germany before 1990). We keep them apart too. A name ending in
`*` is a non-state actor, `**` an international organisation; `unknown supplier(s)` and
`unknown recipient(s)` mean SIPRI could not identify the party. Those conventions decide the
``*_kind`` columns (:func:`name_kind`); every name goes through the project's country
crosswalk (``takingstock.data.countries``, loaded once per read) for a canonical state name,
ISO code and bloc (:func:`resolve_names`). A name the crosswalk does not know **stops the
read** (:func:`unknown_names_error` naming the name, its first line and column, and the other
unknown names): it is never guessed, and no deal is quietly left without a state; add a row to
the crosswalk. A crosswalk file that is itself broken raises
:class:`takingstock.data.countries.CrosswalkError`.

**Deal ids.** :func:`deal_ids` derives a stable id from a deal's own cell values, so a deal has
the same id in a whole export and in a subset of it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd

from takingstock.data import countries
from takingstock.data.sipri_format import SipriFormatError

__all__ = [
    "refuse_rows",
    "to_int",
    "to_float",
    "to_flag",
    "to_years",
    "per_distinct",
    "name_kind",
    "resolve_names",
    "unknown_names_error",
    "deal_ids",
]

def refuse_rows(path: Path, frame: pd.DataFrame, mask: pd.Series, column: str, what: str) -> None:
    """Raise naming the first bad row (file line), column and value."""
    if mask.any():
        row = frame.loc[mask].iloc[0]
        raise SipriFormatError(
            f"{path}, line {row['source_line']}, column {column!r}: {row[column]!r} is not "
            f"{what} ({int(mask.sum())} such row(s))"
        )


def to_int(frame: pd.DataFrame, col: str, path: Path) -> pd.Series:
    s = frame[col].str.strip()
    num = pd.to_numeric(s.where(s != ""), errors="coerce")
    refuse_rows(path, frame, (s != "") & (num.isna() | (num % 1 != 0)), col, "a whole number")
    return num.astype("Int64")


def to_float(frame: pd.DataFrame, col: str, path: Path) -> pd.Series:
    s = frame[col].str.strip()
    num = pd.to_numeric(s.where(s != ""), errors="coerce")
    refuse_rows(path, frame, (s != "") & num.isna(), col, "a number")
    return num.astype("float64")


def to_flag(frame: pd.DataFrame, col: str, path: Path) -> pd.Series:
    s = frame[col].str.strip()
    refuse_rows(path, frame, ~s.isin(["", "?"]), col, "empty or '?'")
    return s == "?"


_YEARS_RE = re.compile(r"^\d{4}(\s*;\s*\d{4})*$")


def to_years(frame: pd.DataFrame, col: str, path: Path) -> pd.Series:
    s = frame[col].str.strip().str.rstrip(";").str.strip()
    ok = (s == "") | s.str.match(_YEARS_RE)
    refuse_rows(path, frame, ~ok, col, "a list of years separated by ';'")
    years = per_distinct(s, lambda v: [int(y) for y in v.split(";")] if v else [])
    return pd.Series([list(v) for v in years], index=frame.index, dtype=object)  # a list of its own per deal


def per_distinct(text: pd.Series, fn) -> pd.Series:
    """``text.map(fn)``, with ``fn`` called once per distinct value (an export of 30,000 deals
    names some 250 recipients, 140 suppliers and 260 descriptions)."""
    return text.map({v: fn(v) for v in pd.unique(text.to_numpy(dtype=object))})


def name_kind(name: str) -> str:
    """SIPRI's naming convention: ``organisation`` (``**``), ``non-state`` (``*``),
    ``unknown`` (``unknown supplier(s)`` / ``unknown recipient(s)``), else ``state``."""
    n = str(name).strip()
    if n.endswith("**"):
        return "organisation"
    if n.endswith("*"):
        return "non-state"
    if n.lower().startswith("unknown"):
        return "unknown"
    return "state"


def resolve_names(names: pd.Series, crosswalk: countries.Crosswalk) -> tuple[pd.DataFrame, pd.Series]:
    """Map SIPRI names to state / iso / bloc / kind through the country crosswalk.

    SIPRI's own markers (``*``, ``**``, ``unknown ...``) decide the kind; for a plain state
    name the crosswalk's kind is used.

    Returns:
        (frame indexed like ``names`` with columns state, iso, bloc, kind; a boolean mask of
        the names the crosswalk does not know).
    """
    names = names.astype("str")
    got = crosswalk.lookup(names, errors="mark")
    unknown = got["error"] != ""
    marked = per_distinct(names, name_kind)
    out = pd.DataFrame(index=names.index)
    out["state"] = got["state"].where(~unknown, names).astype("str")
    out["iso"] = got["iso"].where(~unknown, pd.NA).astype("string")
    out["bloc"] = got["bloc"].where(~unknown, "unknown").astype("str")
    out["kind"] = marked.where((marked != "state") | unknown, got["kind"]).astype("str")
    return out, unknown.astype(bool)


def unknown_names_error(path: Path, frame: pd.DataFrame, unknown: pd.Series,
                         crosswalk: countries.Crosswalk) -> SipriFormatError:
    """The error naming each name the crosswalk lacks, with its first line and column."""
    n = len(frame)
    firsts: dict[str, tuple[int, str]] = {}
    for pos in unknown.to_numpy().nonzero()[0]:
        column = "recipient" if pos < n else "supplier"
        row = frame.iloc[pos % n]
        name = row[column]
        line = int(row["source_line"])
        if name not in firsts or line < firsts[name][0]:
            firsts[name] = (line, column)
    ordered = sorted(firsts.items(), key=lambda kv: kv[1][0])
    (name, (line, column)), rest = ordered[0], ordered[1:]
    hint = crosswalk.suggest(name)
    hint_text = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
    more = ""
    if rest:
        more = "; also unknown: " + ", ".join(
            f"{nm!r} (line {ln}, {col})" for nm, (ln, col) in rest[:10])
        if len(rest) > 10:
            more += f" and {len(rest) - 10} more"
    return SipriFormatError(
        f"{path}, line {line}, column {column!r}: {name!r} is not in the country crosswalk "
        f"({countries.CROSSWALK_PATH.name}){hint_text} Add a row for it to the crosswalk "
        f"(a name is never guessed){more}"
    )


def deal_ids(keys: list[str]) -> list[str]:
    """Stable ids from the deal's own cell values (:func:`record_keys`; same id in a full
    file and a subset of it); a repeated identical row gets ``-2``, ``-3``..."""
    seen: dict[str, int] = {}
    ids = []
    for rec in keys:
        key = hashlib.sha1(rec.encode("utf-8")).hexdigest()[:12]
        seen[key] = seen.get(key, 0) + 1
        ids.append(key if seen[key] == 1 else f"{key}-{seen[key]}")
    return ids
