"""Era of design: catalogue rows matched to a sourced reference of weapon types.

What it adds
------------
Most catalogue rows record an item *type* ("Dragunov SVD sniper rifle") and no year of
manufacture. When a type entered service, and which state designed it, are public facts: the
committed reference ``data/raw/weapon_types.csv`` records them, one row per type the catalogues
and the paper-trail aliases name, each fact with the page(s) it was read on and a confidence
(its sidecar and ``docs/data-sources.md`` describe it). This module reads that table, matches
catalogue rows to it by designation, and adds to the processed catalogue

* the **era of design**: the year the matched type entered service (or was first produced, or
  had its design certified: ``service_year_basis``), its decade, and the report's period of that
  year (``data/raw/periods.csv``, the same rule as :mod:`takingstock.analysis.eras`: a whole year belongs
  to the period holding 2 July);
* the **state of design** where the row leaves ``country_of_design`` empty, marked as coming
  from the reference; a value the row gives is never overwritten, and a row whose state
  disagrees with the reference's is listed (:func:`design_state_disagreements`).

What the era of design means
----------------------------
It is the era of the *design*, not of the item: an item of a type cannot have been made before
the type existed, so the year says the item was made **no earlier than** that, never when. A
Kalashnikov made in 2010 is a design of 1949. Where a source gives only a decade ("introduced
in the early 1980s"), ``service_year_precision`` is ``decade``: the row gets that decade, and a
period only when the whole decade lies in one period.

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
A row that matches no type is listed with the reason (model not given, a count over many types,
an improvised weapon, or no type of the reference named).

Caveats
-------
* Years rest on public pages, often secondary (encyclopedia mirrors, defence press); pages
  differ by a year now and then (the reference's notes say where). Decades and periods are
  robust to that in most cases, single years less so.
* A series designation ("AK series", "Abrams") is matched to the first model of the series,
  which gives a lower bound for every later model.
* Copies and licence builds take the state of the design copied (the catalogue's rule): the
  Tabuk is a Yugoslav design made in Iraq.
* A joint design lists its partner states (``France;Germany``): a row naming one of them
  agrees with it; an empty row is filled with the joint entry of the crosswalk
  (``France/Germany (joint)``) when it has one.
* Speed: the match, its era and the note run once per distinct combination of designation,
  count basis, category and acquisition, and the state-of-design rules once per distinct pair
  of the row's own state and the matched type; both are then broadcast to the rows. A key
  holding the state of design too had 143,545 combinations on a synthetic catalogue of 10^6
  rows (4.2 s); split, about 3,400 and 300.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from takingstock.data import countries as _countries
from takingstock.analysis import eras as _eras
from takingstock.core import paths

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
UNKNOWN = "unknown"
FROM_CATALOGUE = "catalogue"
FROM_REFERENCE = "weapon_types.csv"
#: Columns :func:`add_design_columns` adds to the processed catalogue.
ADDED_COLUMNS = ("weapon_type", "weapon_type_match", "design_era_year", "design_era_precision",
                 "design_era_decade", "design_era_period_id", "design_era_period",
                 "design_era_placed", "design_era_note", "design_state_from",
                 "design_state_reference", "design_state_agrees")

_MODEL_NOT_GIVEN = re.compile(r"\bnot (given|named)\b|\bgeneric\b", re.IGNORECASE)
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
        from takingstock.data.catalogue import CATEGORIES as categories  # noqa: N811 (lazy: no cycle)
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


def design_eras(years: pd.Series, precision: pd.Series, periods: pd.DataFrame) -> pd.DataFrame:
    """Decade and period of design years (``precision`` ``year`` or ``decade``).

    A ``decade`` year gets its decade, and a period only when its first and last years fall
    in the same period. Returns ``design_era_decade``, ``design_era_period_id``,
    ``design_era_period`` (``"unknown"`` where not known) on ``years``' index.
    """
    y = pd.to_numeric(years, errors="coerce").astype("float64")
    dec = _eras.decade(y).astype("string").to_numpy()
    first = _eras.period_of_year(y, periods)
    last = _eras.period_of_year(y.where(precision.astype("string") != "decade", y + 9), periods)
    same = (first["period_id"] == last["period_id"]).to_numpy()
    pid = np.where(same, first["period_id"].to_numpy(), UNKNOWN)
    label = np.where(same, first["period"].to_numpy(), UNKNOWN)
    return pd.DataFrame({"design_era_decade": dec, "design_era_period_id": pid,
                         "design_era_period": label}, index=years.index).astype("string")


def unmatched_reason(designation: str, count_basis: str, category: str, acquisition: str = "") -> str:
    """Why a row that names no weapon type of the reference cannot be placed."""
    if _MODEL_NOT_GIVEN.search(str(designation)):
        return "model not given in the sources"
    if str(count_basis) in ("published", "derived"):
        return "a count over many weapon types (no model named)"
    if str(category) == "improvised" or str(acquisition) == "improvised":
        return "improvised weapon: no page read gives a design date"
    return ("no weapon type of weapon_types.csv in the designation (it names a class of weapon or a "
            "maker, or a model the reference lacks)")


def _resolve_states(names: list[str], crosswalk) -> list[str]:
    """Canonical states (unfolded) of the reference's design-state names."""
    return [crosswalk.resolve(n).state for n in names]


def _fill_name(names: list[str], crosswalk) -> str | None:
    """The crosswalk name to fill an empty design state with (None when it has none)."""
    if len(names) == 1:
        return names[0]
    joined = "/".join(names)
    try:
        crosswalk.resolve(joined)
        return joined
    except _countries.UnknownCountryError:
        return None


def _era_note(type_id, status, candidates, designation, count_basis, category, acquisition,
              decade, period_id, placed, *, ref: pd.DataFrame) -> str:
    """Why a row has no decade or no period of design ("" when it has both)."""
    if status == "ambiguous":
        return ("names more than one weapon type ("
                + ", ".join(ref.at[c, "designation"] for c in candidates.split(";")) + "): not forced to one")
    if status == "none":
        return unmatched_reason(designation, count_basis, category, acquisition)
    if not placed:
        return f"{ref.at[type_id, 'designation']}: no page read gives the year it entered service"
    if period_id == UNKNOWN:
        return f"only the decade ({decade}) is known, and it spans more than one period"
    return ""


def _reference_states(type_id: str, *, ref: pd.DataFrame, crosswalk) -> str:
    """The matched type's canonical states of design, ``; ``-separated ("" when none)."""
    names = split_list(ref.at[type_id, "design_state"]) if type_id else []
    return "; ".join(_resolve_states(names, crosswalk))


def _state_facts(own: str, type_id: str, *, ref: pd.DataFrame, crosswalk) -> tuple[str, str, str]:
    """(design_state_from, design_state_agrees, fill name) of a row's own state and type."""
    names = split_list(ref.at[type_id, "design_state"]) if type_id else []
    if own:
        if not names:
            return FROM_CATALOGUE, "", ""
        states = set(_resolve_states(names, crosswalk))
        joint = _fill_name(names, crosswalk)
        if joint:
            states.add(crosswalk.resolve(joint).state)
        return FROM_CATALOGUE, "yes" if crosswalk.resolve(own).state in states else "no", ""
    fill = _fill_name(names, crosswalk) if names else None
    return (FROM_REFERENCE if fill else UNKNOWN), "", fill or ""


def _factor_codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a text column and its distinct values (a missing value counts as "")."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    values = [str(v) for v in uniques]
    if (codes < 0).any():
        if "" not in values:
            values.append("")
        codes = np.where(codes < 0, values.index(""), codes)
    return np.asarray(codes, dtype=np.int64), values


def _combinations(columns: list[tuple[np.ndarray, list[str]]], what: str) -> tuple[np.ndarray, np.ndarray]:
    """The distinct combinations of factor codes: ``(inverse per row, codes per combination)``.

    One integer key per row (mixed radix of the codes), factorised by hashing.
    """
    sizes = [max(len(values), 1) for _, values in columns]
    if np.prod([float(z) for z in sizes]) >= 2 ** 62:
        raise ValueError(f"add_design_columns: too many distinct combinations of {what}")
    key = np.zeros(len(columns[0][0]), dtype=np.int64)
    for (codes, _), z in zip(columns, sizes):
        key = key * z + codes
    inverse, keys = pd.factorize(key)
    combos = np.zeros((len(keys), len(columns)), dtype=np.int64)
    rest = np.asarray(keys, dtype=np.int64)
    for i in range(len(columns) - 1, -1, -1):
        rest, combos[:, i] = np.divmod(rest, sizes[i])
    return np.asarray(inverse), combos


def add_design_columns(clean: pd.DataFrame, types: pd.DataFrame | str | Path | None = None,
                       crosswalk=None, periods: pd.DataFrame | str | Path | None = None,
                       fold_successors: bool = False) -> pd.DataFrame:
    """Return the processed catalogue with the era of design and the design-state fill.

    Args:
        clean: processed catalogue rows (``designation``, ``country_of_design``,
            ``count_basis``, ``category``, ``design_state``, ``design_iso``, ``design_bloc``).
        types: the reference (a frame from :func:`load_weapon_types`, a path, or None for the
            committed one).
        crosswalk: the run's :class:`~takingstock.data.countries.Crosswalk` (or a path; None: the
            committed one).
        periods: the run's periods (a frame from :func:`takingstock.analysis.eras.load_periods`, a path,
            or None for the committed one).
        fold_successors: fill design states as successors, as the rest of the row is.

    Returns:
        ``clean`` with :data:`ADDED_COLUMNS`: ``weapon_type`` (type id or ""),
        ``weapon_type_match`` (matched / ambiguous / none), ``design_era_year`` (Int64),
        ``design_era_precision`` (year / decade / ""), ``design_era_decade``,
        ``design_era_period_id``, ``design_era_period`` (``"unknown"`` where not known),
        ``design_era_placed`` (bool: a decade is known), ``design_era_note`` (why a row has no
        decade or no period; "" when both are known), ``design_state_from`` (catalogue /
        weapon_types.csv / unknown), ``design_state_reference`` (the reference's states for the
        matched type, canonical, ``; ``-separated) and ``design_state_agrees`` (yes / no / "").
        Where ``design_state_from`` is ``weapon_types.csv`` the ``design_state``, ``design_iso``
        and ``design_bloc`` come from the reference; ``country_of_design`` is never changed.
    """
    if not isinstance(crosswalk, _countries.Crosswalk):
        crosswalk = _countries.load_crosswalk(crosswalk)
    if not isinstance(types, pd.DataFrame):
        types = load_weapon_types(types, crosswalk)
    if not isinstance(periods, pd.DataFrame):
        periods = _eras.load_periods(periods)
    out = clean.copy(deep=False)  # new columns only; the input frame is left as it was
    # Everything is worked out once per distinct combination of the columns it depends on, then
    # broadcast: the match and its era once per designation, count basis, category and
    # acquisition; the state of design once per own state and matched type.
    inputs = ("designation", "count_basis", "category", "acquisition")
    factors = [_factor_codes(out[name]) if name in out else (np.zeros(len(out), dtype=np.int64), [""])
               for name in inputs]
    inverse, combos = _combinations(factors, ", ".join(inputs))
    table = pd.DataFrame({name: pd.Series([factors[i][1][k].strip() for k in combos[:, i]], dtype=object)
                          for i, name in enumerate(inputs)})
    table = pd.concat([table, match_designations(table["designation"], types)], axis=1)
    ref = types.set_index("type_id")
    ids = table["weapon_type"].astype(str)
    table["year"] = pd.array(ids.map(ref["service_year"]).to_numpy(dtype=object), dtype="Int64")
    table["precision"] = ids.map(ref["service_year_precision"]).fillna("").astype(str)
    table["placed"] = table["year"].notna().to_numpy(dtype=bool)
    table["precision"] = table["precision"].where(table["placed"], "")
    table = pd.concat([table, design_eras(table["year"], table["precision"], periods)], axis=1)
    table["design_era_note"] = [
        _era_note(r.weapon_type, r.weapon_type_match, r.candidates, r.designation, r.count_basis,
                  r.category, r.acquisition, r.design_era_decade, r.design_era_period_id, r.placed, ref=ref)
        for r in table.itertuples()]
    table["design_state_reference"] = [_reference_states(t, ref=ref, crosswalk=crosswalk)
                                       for t in table["weapon_type"].astype(str)]

    # the state of design: once per (own state, matched type)
    type_codes, type_values = _factor_codes(table["weapon_type"].astype(str))
    own = (_factor_codes(out["country_of_design"]) if "country_of_design" in out
           else (np.zeros(len(out), dtype=np.int64), [""]))
    by_state, pairs = _combinations([own, (type_codes[inverse], type_values)],
                                    "country_of_design and weapon type")
    facts = [_state_facts(own[1][o].strip(), type_values[t], ref=ref, crosswalk=crosswalk)
             for o, t in pairs]
    states = pd.DataFrame(facts, columns=["design_state_from", "design_state_agrees", "fill"])

    def spread(frame, rows, column, dtype="string"):
        return pd.array(frame[column].to_numpy(dtype=object), dtype=dtype).take(rows)

    filled = (states["fill"] != "").to_numpy()[by_state]
    if filled.any():
        fills = states.loc[states["fill"] != "", "fill"]
        look = crosswalk.lookup(fills, fold_successors=fold_successors)
        for col, attr in (("design_state", "state"), ("design_iso", "iso"), ("design_bloc", "bloc")):
            if col in out:
                by_pair = pd.Series(pd.NA, index=states.index, dtype="object")
                by_pair[fills.index] = look[attr].to_numpy(dtype=object)
                column = out[col].astype("object").to_numpy(copy=True)
                column[filled] = by_pair.to_numpy()[by_state][filled]
                out[col] = pd.array(column, dtype=out[col].dtype if out[col].dtype != object else "string")
    out["weapon_type"] = spread(table, inverse, "weapon_type")
    out["weapon_type_match"] = spread(table, inverse, "weapon_type_match")
    out["design_era_year"] = spread(table, inverse, "year", "Int64")
    out["design_era_precision"] = spread(table, inverse, "precision")
    for col in ("design_era_decade", "design_era_period_id", "design_era_period"):
        out[col] = spread(table, inverse, col)
    out["design_era_placed"] = table["placed"].to_numpy(dtype=bool)[inverse]
    out["design_era_note"] = spread(table, inverse, "design_era_note")
    out["design_state_from"] = spread(states, by_state, "design_state_from")
    out["design_state_reference"] = spread(table, inverse, "design_state_reference")
    out["design_state_agrees"] = spread(states, by_state, "design_state_agrees")
    return out


def _need(frame: pd.DataFrame, what: str) -> None:
    missing = [c for c in ADDED_COLUMNS if c not in frame.columns]
    if missing:
        raise KeyError(f"{what}: the frame lacks {missing}; run designs.add_design_columns "
                       "(the processed catalogue of step 01 has them)")


ROW_COLUMNS = ["catalogue", "record_id", "source_row", "designation"]


def _rows(frame: pd.DataFrame, mask, extra: list[str]) -> pd.DataFrame:
    cols = [c for c in ROW_COLUMNS if c in frame.columns] + extra
    return frame.loc[mask, cols].reset_index(drop=True)


def unplaced_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows without an era of design, each with ``count`` and the reason (``design_era_note``)."""
    _need(frame, "unplaced_rows")
    return _rows(frame, ~frame["design_era_placed"].astype(bool), ["count", "design_era_note"]) \
        .rename(columns={"design_era_note": "reason"})


def unplaced_summary(frame: pd.DataFrame, listed: int | None = None) -> pd.DataFrame:
    """The rows without an era of design, one line per catalogue, designation and reason.

    Columns ``catalogue, designation, reason, rows, count, record_ids`` (see
    :func:`takingstock.analysis.breakdowns.rows_by`: ``count`` sums the rows' units, ``record_ids``
    names the first ``listed`` rows), in the order of each line's first row. Every row of
    :func:`unplaced_rows` is counted in exactly one line.
    """
    from takingstock.analysis import breakdowns
    unplaced = unplaced_rows(frame)
    keys = [c for c in ("catalogue", "designation") if c in unplaced.columns] + ["reason"]
    return breakdowns.rows_by(unplaced, keys, listed=listed or breakdowns.LISTED_IDS)


def placed_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with an era of design: the type matched, its year, decade and period."""
    _need(frame, "placed_rows")
    return _rows(frame, frame["design_era_placed"].astype(bool),
                 ["weapon_type", "design_era_year", "design_era_precision", "design_era_decade",
                  "design_era_period", "design_era_note"])


def placement_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per catalogue: rows and counted units, and the share of each placed in a decade / period.

    Shares are percentages of all rows (or of the catalogue's ``count`` total), unplaced
    included, so a reader sees how much of the catalogue the era of design covers.
    """
    _need(frame, "placement_summary")
    f = pd.DataFrame({"catalogue": frame["catalogue"].astype(str).to_numpy(),
                      "count": pd.to_numeric(frame["count"]).to_numpy(),
                      "placed": frame["design_era_placed"].astype(bool).to_numpy(),
                      "period": (frame["design_era_period_id"].astype(str) != UNKNOWN).to_numpy()})
    f["count_placed"] = f["count"].where(f["placed"], 0)
    g = f.groupby("catalogue", sort=False).agg(
        rows=("count", "size"), rows_placed=("placed", "sum"), rows_with_period=("period", "sum"),
        count=("count", "sum"), count_placed=("count_placed", "sum")).reset_index()
    g["share_rows_placed"] = (100 * g["rows_placed"] / g["rows"]).round(1)
    g["share_count_placed"] = (100 * g["count_placed"] / g["count"].where(g["count"] > 0)).round(1)
    return g[["catalogue", "rows", "rows_placed", "share_rows_placed", "rows_with_period", "count",
              "count_placed", "share_count_placed"]]


def _as_era(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"decade": frame["design_era_decade"].astype("string").to_numpy(),
                         "period_id": frame["design_era_period_id"].astype("string").to_numpy(),
                         "period": frame["design_era_period"].astype("string").to_numpy(),
                         "count": frame["count"].to_numpy()})


def by_design_decade(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts and shares by decade of design (unknown kept, last), as ``breakdowns.by_decade``."""
    from takingstock.analysis import breakdowns
    _need(frame, "by_design_decade")
    return breakdowns.by_decade(_as_era(frame))


def by_design_period(frame: pd.DataFrame, periods: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts and shares by the report's period of the design year, as ``breakdowns.by_period``."""
    from takingstock.analysis import breakdowns
    _need(frame, "by_design_period")
    return breakdowns.by_period(_as_era(frame), periods)


def design_state_fills(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose empty ``country_of_design`` was filled from the reference."""
    _need(frame, "design_state_fills")
    return _rows(frame, frame["design_state_from"] == FROM_REFERENCE,
                 ["weapon_type", "design_state", "design_state_reference"])


def design_state_disagreements(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose own ``country_of_design`` differs from the reference's (the row's is kept)."""
    _need(frame, "design_state_disagreements")
    return _rows(frame, frame["design_state_agrees"] == "no",
                 ["country_of_design", "weapon_type", "design_state_reference"])


def type_summary(types: pd.DataFrame, type_id: str, periods: pd.DataFrame) -> dict:
    """One type's state of design and era of design, with the sources of both.

    Returns ``{type_id, designation, design_states (list), service_year, precision, basis,
    decade, period, design_state_url, service_year_url, confidence}``; raises KeyError naming
    the known ids when ``type_id`` is not in ``types``.
    """
    ref = types.set_index("type_id")
    if type_id not in ref.index:
        raise KeyError(f"weapon type {type_id!r} not in the reference; known: {sorted(ref.index)}")
    r = ref.loc[type_id]
    era = design_eras(pd.Series([r["service_year"]], dtype="Int64"),
                      pd.Series([r["service_year_precision"]]), periods).iloc[0]
    return {"type_id": type_id, "designation": r["designation"],
            "design_states": split_list(r["design_state"]),
            "service_year": None if pd.isna(r["service_year"]) else int(r["service_year"]),
            "precision": r["service_year_precision"], "basis": r["service_year_basis"],
            "decade": era["design_era_decade"], "period": era["design_era_period"],
            "design_state_url": r["design_state_url"], "service_year_url": r["service_year_url"],
            "confidence": r["service_year_confidence"]}


def designs_of_state_before(frame: pd.DataFrame, states: Iterable[str] | None, until_year: int) -> dict:
    """Among rows with an era of design, those designed by ``states`` in or before ``until_year``.

    ``states`` are canonical crosswalk names (e.g. ``["Soviet Union"]``; None: any state),
    compared with ``design_state`` (the row's own, or the reference's where the row gave none;
    pass a frame whose former states are not folded). A decade-precision year counts when the
    whole decade ends by ``until_year``.

    Returns ``{placed, matching, share}`` in counted units (``count``) and ``rows`` (the
    designations matched, distinct, in order); ``share`` is a percentage of ``placed``.
    """
    _need(frame, "designs_of_state_before")
    placed = frame[frame["design_era_placed"].astype(bool)]
    last = placed["design_era_year"].astype("float64") + np.where(
        placed["design_era_precision"] == "decade", 9, 0)
    of_state = placed["design_state"].astype(str).isin(list(states)) if states is not None else True
    hit = of_state & (last <= until_year)
    total, n = int(placed["count"].sum()), int(placed.loc[hit, "count"].sum())
    return {"placed": total, "matching": n, "share": 100 * n / total if total else float("nan"),
            "rows": list(dict.fromkeys(placed.loc[hit, "designation"].astype(str)))}


def with_design_columns(processed: pd.DataFrame, raw_dir: str | Path | None = None) -> pd.DataFrame:
    """``processed`` as it is when it has :data:`ADDED_COLUMNS`, else with them added.

    A processed catalogue written before this module existed lacks the columns: they are then
    computed from ``raw_dir``'s ``weapon_types.csv``, ``country_crosswalk.csv`` and
    ``periods.csv`` (the committed ones when ``raw_dir`` is None), and a line says so.
    """
    if all(c in processed.columns for c in ADDED_COLUMNS):
        return processed
    raw = Path(raw_dir) if raw_dir is not None else paths.RAW
    print(f"the processed catalogue has no era-of-design columns: adding them from {raw / 'weapon_types.csv'}")
    return add_design_columns(processed, raw / "weapon_types.csv", raw / "country_crosswalk.csv",
                              raw / "periods.csv")


def design_source_line(frame: pd.DataFrame, catalogue: str) -> str:
    """Figure source line for an era-of-design figure: the catalogue's, plus the reference."""
    from takingstock.analysis import breakdowns
    return (f"{breakdowns.source_line(frame, catalogue)}; years of design from "
            "data/raw/weapon_types.csv (the pages it names)")


def reference_table(types: pd.DataFrame) -> pd.DataFrame:
    """The reference as a reader's table: each type, its state and year of design, and sources."""
    t = types
    year = t["service_year"].astype("string").fillna("")
    year = year.where(t["service_year_precision"] != "decade", year + "s")
    return pd.DataFrame({
        "type": t["designation"], "state_of_design": t["design_state"].str.replace(";", " and "),
        "state_confidence": t["design_state_confidence"], "state_source": t["design_state_url"],
        "year": year, "basis": t["service_year_basis"], "year_confidence": t["service_year_confidence"],
        "year_source": t["service_year_url"],
    }).reset_index(drop=True)
