"""The era of design and the state of design, added to clean catalogue rows.

Every clean row is matched to the reference of weapon types by its designation
(:mod:`takingstock.data.weapon_types`), and :func:`add_design_columns` adds

* the **era of design**: the year the matched type entered service (or was first produced, or
  had its design certified: ``service_year_basis``), its decade, and the report's period of that
  year (``data/raw/periods.csv``, the same rule as :mod:`takingstock.data.periods`: a whole year
  belongs to the period holding 2 July);
* the **state of design** where the row leaves ``country_of_design`` empty, marked as coming
  from the reference; a value the row gives is never overwritten, and whether the row's state
  agrees with the reference's is recorded (``design_state_agrees``).

Why it lives in the data layer: cleaning a catalogue (:mod:`takingstock.data.cleaning`) adds
these columns to the processed catalogue, from the three reference tables it reads (weapon
types, country crosswalk, periods), all data-layer inputs. The summaries an analysis draws from
the columns (placement shares, decades and periods of design, rows left unplaced) are in
:mod:`takingstock.analysis.designs`.

What the era of design means
----------------------------
It is the era of the *design*, not of the item: an item of a type cannot have been made before
the type existed, so the year says the item was made **no earlier than** that, never when. A
Kalashnikov made in 2010 is a design of 1949. Where a source gives only a decade ("introduced
in the early 1980s"), ``service_year_precision`` is ``decade``: the row gets that decade, and a
period only when the whole decade lies in one period (:func:`design_eras`). A row that matches
no type, or an ambiguous one, is not placed, and ``design_era_note`` says why (model not given,
a count over many types, an improvised weapon, or no type of the reference named:
:func:`unmatched_reason`).

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
from pathlib import Path

import numpy as np
import pandas as pd

from takingstock.core import paths
from takingstock.data import countries as _countries
from takingstock.data.periods import UNKNOWN, decade, load_periods, period_of_year
from takingstock.data.weapon_types import load_weapon_types, match_designations, split_list

FROM_CATALOGUE = "catalogue"
FROM_REFERENCE = "weapon_types.csv"


#: Columns :func:`add_design_columns` adds to the processed catalogue.
ADDED_COLUMNS = ("weapon_type", "weapon_type_match", "design_era_year", "design_era_precision",
                 "design_era_decade", "design_era_period_id", "design_era_period",
                 "design_era_placed", "design_era_note", "design_state_from",
                 "design_state_reference", "design_state_agrees")

_MODEL_NOT_GIVEN = re.compile(r"\bnot (given|named)\b|\bgeneric\b", re.IGNORECASE)


def design_eras(years: pd.Series, precision: pd.Series, periods: pd.DataFrame) -> pd.DataFrame:
    """Decade and period of design years (``precision`` ``year`` or ``decade``).

    A ``decade`` year gets its decade, and a period only when its first and last years fall
    in the same period. Returns ``design_era_decade``, ``design_era_period_id``,
    ``design_era_period`` (``"unknown"`` where not known) on ``years``' index.
    """
    y = pd.to_numeric(years, errors="coerce").astype("float64")
    dec = decade(y).astype("string").to_numpy()
    first = period_of_year(y, periods)
    last = period_of_year(y.where(precision.astype("string") != "decade", y + 9), periods)
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
        types: the reference (a frame from
            :func:`~takingstock.data.weapon_types.load_weapon_types`, a path, or None for the
            committed one).
        crosswalk: the run's :class:`~takingstock.data.countries.Crosswalk` (or a path; None: the
            committed one).
        periods: the run's periods (a frame from :func:`takingstock.data.periods.load_periods`,
            a path, or None for the committed one).
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
        periods = load_periods(periods)
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


def with_design_columns(processed: pd.DataFrame, raw_dir: str | Path | None = None) -> pd.DataFrame:
    """``processed`` as it is when it has :data:`ADDED_COLUMNS`, else with them added.

    A processed catalogue written before the era of design was added lacks the columns: they are then
    computed from ``raw_dir``'s ``weapon_types.csv``, ``country_crosswalk.csv`` and
    ``periods.csv`` (the committed ones when ``raw_dir`` is None), and a line says so.
    """
    if all(c in processed.columns for c in ADDED_COLUMNS):
        return processed
    raw = Path(raw_dir) if raw_dir is not None else paths.RAW
    print(f"the processed catalogue has no era-of-design columns: adding them from {raw / 'weapon_types.csv'}")
    return add_design_columns(processed, raw / "weapon_types.csv", raw / "country_crosswalk.csv",
                              raw / "periods.csv")
