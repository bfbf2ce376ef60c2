"""The reference of weapon types, and catalogue designations matched to it.

Most catalogue rows record an item *type* ("Dragunov SVD sniper rifle") and no year of
manufacture. When a type entered service, and which state designed it, are public facts: the
committed reference ``data/raw/weapon_types.csv`` records them, one row per type the catalogues
and the paper-trail aliases name, each fact with the page(s) it was read on and a confidence
(its entry in ``data/raw/datapackage.json`` and ``docs/data-sources.md`` describe it). This
module reads and checks that table (:func:`load_weapon_types`) and matches designations to it
(:func:`match_designations`).

Why it lives in the data layer: like the country crosswalk (:mod:`takingstock.data.countries`),
the reference is a committed input with rules for reading it and for matching the names a
catalogue uses to its entries, and cleaning a catalogue applies them
(:mod:`takingstock.data.design_era` adds the era of design to every clean row). The summaries an
analysis draws from the matched rows are in :mod:`takingstock.analysis.designs`.

Checks
------
Every problem of the table is listed at once as ``file: line N, column C: reason``
(:class:`WeaponTypesError`): a missing column or required value, a category that is not a
catalogue category, a fact given without a source URL or a confidence, a year out of range, a
state of design the crosswalk does not know, a type id or a spelling shared by two types.

Matching (:func:`normalise`, :func:`match_designations`)
--------------------------------------------------------
A designation and every spelling of the reference are normalised to word tokens: Unicode
compatibility form with accents removed, case folded, letters and digits split apart
("AK47" and "AK-47" both give ``ak 47``; "M1A1" gives ``m 1 a 1``), punctuation dropped. A
spelling matches when its tokens occur as consecutive whole tokens of the designation
("HOT" matches "HOT anti-tank guided missile" but not "shot"; "G3" does not match "G36").
When a type's match lies inside a longer match of another type ("Abrams" inside
"M1A1 Abrams"), the longer one wins. When two different types remain ("Bushmaster M4 ...
also says AR-15"), the row is **ambiguous** and is not placed: a row is never forced to a type.
A series designation ("AK series", "Abrams") is matched to the first model of the series.
Each distinct designation is matched once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable

import pandas as pd

from takingstock.core import paths
from takingstock.data import countries as _countries
from takingstock.data.catalogue_checks import CATEGORIES

REFERENCE_PATH = paths.RAW / "weapon_types.csv"
COLUMNS = ("type_id", "designation", "spellings", "category", "design_state",
           "design_state_url", "design_state_confidence", "service_year",
           "service_year_precision", "service_year_basis", "service_year_url",
           "service_year_confidence", "production_from", "production_to", "production_url",
           "production_confidence", "notes")


#: Each sourced fact: (value columns, url column, confidence column).
FACTS = {
    "design_state": (("design_state",), "design_state_url", "design_state_confidence"),
    "service_year": (("service_year",), "service_year_url", "service_year_confidence"),
    "production": (("production_from", "production_to"), "production_url", "production_confidence"),
}


CONFIDENCES = ("high", "medium", "low")
PRECISIONS = ("year", "decade")
BASES = ("entered service", "first produced", "design certified")
YEAR_MIN = 1800
YEAR_MAX = max(2026, date.today().year)

_SPLIT_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_TOKEN = re.compile(r"[^\W_]+")


class WeaponTypesError(ValueError):
    """The weapon-type reference is unusable; the message names the file, line and column."""


def normalise(text) -> tuple[str, ...]:
    """Word tokens of a designation or spelling (see the module docstring)."""
    s = unicodedata.normalize("NFKD", "" if text is None or text is pd.NA else str(text))
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    return tuple(_TOKEN.findall(_SPLIT_LETTER_DIGIT.sub(" ", s)))


def split_list(cell: str, sep: str = ";") -> list[str]:
    """Non-empty trimmed parts of a ``sep``-separated cell."""
    return [p.strip() for p in str(cell).split(sep) if p.strip()]


def split_urls(cell: str) -> list[str]:
    """URLs of a ``*_url`` cell (separated by whitespace)."""
    return str(cell).split()


def _int_or_none(value: str):
    try:
        return int(value)
    except ValueError:
        return None


def _row_problems(row: pd.Series, categories: Iterable[str], crosswalk) -> list[tuple[str, str]]:
    """Every problem of one reference row, as (column, reason)."""
    out: list[tuple[str, str]] = []
    for col in ("type_id", "designation", "spellings", "category"):
        if not row[col]:
            out.append((col, "required value is empty"))
    if row["category"] and row["category"] not in categories:
        out.append(("category", f"{row['category']!r} is not a catalogue category"))
    spellings = split_list(row["spellings"])
    if row["spellings"] and not spellings:
        out.append(("spellings", "no spelling between the ';'"))
    for sp in spellings:
        if not normalise(sp):
            out.append(("spellings", f"spelling {sp!r} has no letter or digit"))
    for fact, (values, url_col, conf_col) in FACTS.items():
        given = any(row[v] for v in values)
        if given:
            urls = split_urls(row[url_col])
            if not urls:
                out.append((url_col, f"{fact} is given without a source URL"))
            for u in urls:
                if not re.match(r"^https?://\S+$", u):
                    out.append((url_col, f"{u!r} is not an http(s) URL"))
            if row[conf_col] not in CONFIDENCES:
                out.append((conf_col, f"confidence must be one of {', '.join(CONFIDENCES)}"))
        else:
            for col in (url_col, conf_col):
                if row[col]:
                    out.append((col, f"a {col.rsplit('_', 1)[1]} is given but no {fact}"))
    year = None
    if row["service_year"]:
        year = _int_or_none(row["service_year"])
        if year is None or not YEAR_MIN <= year <= YEAR_MAX:
            out.append(("service_year", f"{row['service_year']!r} is not a year {YEAR_MIN}..{YEAR_MAX}"))
            year = None
        if row["service_year_precision"] not in PRECISIONS:
            out.append(("service_year_precision", f"must be one of {', '.join(PRECISIONS)}"))
        elif row["service_year_precision"] == "decade" and year is not None and year % 10:
            out.append(("service_year", "a decade is written as its first year (e.g. 1970)"))
        if row["service_year_basis"] not in BASES:
            out.append(("service_year_basis", f"must be one of {', '.join(BASES)}"))
    else:
        for col in ("service_year_precision", "service_year_basis"):
            if row[col]:
                out.append((col, "given but service_year is empty"))
    prod = {}
    for col in ("production_from", "production_to"):
        if row[col]:
            prod[col] = _int_or_none(row[col])
            if prod[col] is None or not YEAR_MIN <= prod[col] <= YEAR_MAX:
                out.append((col, f"{row[col]!r} is not a year {YEAR_MIN}..{YEAR_MAX}"))
                prod[col] = None
    if prod.get("production_from") and prod.get("production_to") \
            and prod["production_to"] < prod["production_from"]:
        out.append(("production_to", "ends before production_from"))
    if crosswalk is not None:
        for name in split_list(row["design_state"]):
            try:
                crosswalk.resolve(name)
            except _countries.UnknownCountryError as exc:
                out.append(("design_state", str(exc)))
    return out


def types_from_frame(table: pd.DataFrame, source: str = "<weapon types>", crosswalk=None,
                     categories: Iterable[str] | None = None) -> pd.DataFrame:
    """Check a reference table read as text and return it typed (see :func:`load_weapon_types`)."""
    if categories is None:
        categories = CATEGORIES
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise WeaponTypesError(f"{source}: missing column(s) {missing}")
    t = table[list(COLUMNS)].copy()
    for col in COLUMNS:
        t[col] = t[col].astype("string").fillna("").str.strip()
    problems: list[str] = []
    for i, row in t.iterrows():
        for col, reason in _row_problems(row, categories, crosswalk):
            problems.append(f"{source}: line {i + 2}, column {col}: {reason}")
    dup = t["type_id"][(t["type_id"] != "") & t["type_id"].duplicated(keep=False)]
    for i in dup.index:
        problems.append(f"{source}: line {i + 2}, column type_id: {t.at[i, 'type_id']!r} is not unique")
    owner: dict[tuple[str, ...], tuple[str, int]] = {}
    for i, row in t.iterrows():
        for sp in split_list(row["spellings"]):
            key = normalise(sp)
            if key and key in owner and owner[key][0] != row["type_id"]:
                problems.append(f"{source}: line {i + 2}, column spellings: {sp!r} is also a spelling "
                                f"of {owner[key][0]!r} (line {owner[key][1]})")
            elif key:
                owner.setdefault(key, (row["type_id"], i + 2))
    if problems:
        raise WeaponTypesError("\n".join(problems))
    for col in ("service_year", "production_from", "production_to"):
        t[col] = pd.to_numeric(t[col].replace("", pd.NA)).astype("Int64")
    t["tokens"] = [tuple(dict.fromkeys(normalise(s) for s in split_list(c))) for c in t["spellings"]]
    return t.reset_index(drop=True)


def load_weapon_types(path: str | Path | None = None, crosswalk=None) -> pd.DataFrame:
    """Read and check ``weapon_types.csv``.

    Args:
        path: the reference (None: the committed ``data/raw/weapon_types.csv``).
        crosswalk: a :class:`~takingstock.data.countries.Crosswalk` (or a path) to check every state of
            design against; None skips that check.

    Returns:
        The table with text columns trimmed, ``service_year``, ``production_from`` and
        ``production_to`` as ``Int64``, and ``tokens`` (the normalised spellings of each type).

    Raises:
        WeaponTypesError listing every problem as ``file: line N, column C: reason`` (missing
        file or column, empty required value, a fact without a source URL or confidence, a
        year out of range, an unknown state, a spelling shared by two types...).
    """
    path = Path(path) if path is not None else REFERENCE_PATH
    if not path.is_file():
        raise WeaponTypesError(f"{path}: weapon-type reference not found")
    if crosswalk is not None and not isinstance(crosswalk, _countries.Crosswalk):
        crosswalk = _countries.load_crosswalk(crosswalk)
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return types_from_frame(table, str(path), crosswalk)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    type_id: str


def _hits(tokens: tuple[str, ...], index: dict[str, list[tuple[tuple[str, ...], str]]]) -> list[_Hit]:
    hits = []
    for i, tok in enumerate(tokens):
        for spelling, type_id in index.get(tok, ()):
            if tokens[i:i + len(spelling)] == spelling:
                hits.append(_Hit(i, i + len(spelling), type_id))
    return hits


def _winners(hits: list[_Hit]) -> list[str]:
    """Type ids of the hits not lying inside a longer hit of another type, in order."""
    keep = []
    for h in hits:
        inside = any(g.type_id != h.type_id and g.start <= h.start and h.end <= g.end
                     and g.end - g.start > h.end - h.start for g in hits)
        if not inside:
            keep.append(h.type_id)
    return list(dict.fromkeys(keep))


def match_designations(designations: pd.Series, types: pd.DataFrame) -> pd.DataFrame:
    """Match each designation to at most one weapon type (see the module docstring).

    Returns:
        A DataFrame on ``designations``' index with ``weapon_type`` (the type id, ``""`` when
        none or ambiguous), ``weapon_type_match`` (``matched``, ``ambiguous`` or ``none``) and
        ``candidates`` (the type ids a designation names, ``;``-separated).
    """
    index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for type_id, spellings in zip(types["type_id"], types["tokens"]):
        for sp in spellings:
            index.setdefault(sp[0], []).append((sp, type_id))
    values = designations.astype("string").fillna("")
    found = {}
    for value in pd.unique(values):
        winners = _winners(_hits(normalise(value), index))
        status = "matched" if len(winners) == 1 else ("ambiguous" if winners else "none")
        found[value] = (winners[0] if status == "matched" else "", status, ";".join(winners))
    rows = [found[v] for v in values]
    return pd.DataFrame(rows, index=designations.index,
                        columns=["weapon_type", "weapon_type_match", "candidates"]).astype("string")
