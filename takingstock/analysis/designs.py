"""Era of design: what the matched catalogue rows say, per catalogue, decade and period.

Cleaning a catalogue matches each row to the sourced reference of weapon types
(:mod:`takingstock.data.weapon_types`) and adds the era of design and the state of design
(:mod:`takingstock.data.design_era`, which explains both and their caveats). This module draws
the summaries the eras notebook shows from those columns: how much of each catalogue is placed
(:func:`placement_summary`), counts by decade and period of design (:func:`by_design_decade`,
:func:`by_design_period`), the rows left unplaced and why (:func:`unplaced_summary`), the states
of design filled from the reference or disagreeing with it, one type's facts with their sources
(:func:`type_summary`), the share of designs of some states before a year
(:func:`designs_of_state_before`, for the claims), and the reference as a reader's table.

The era of design is the era of the *design*, not of the item: an item was made no earlier
than the year its type entered service, never necessarily then.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from takingstock.analysis import breakdowns
from takingstock.data.design_era import ADDED_COLUMNS, FROM_REFERENCE, UNKNOWN, design_eras
from takingstock.data.weapon_types import split_list

def _need(frame: pd.DataFrame, what: str) -> None:
    missing = [c for c in ADDED_COLUMNS if c not in frame.columns]
    if missing:
        raise KeyError(f"{what}: the frame lacks {missing}; run design_era.add_design_columns "
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
    _need(frame, "by_design_decade")
    return breakdowns.by_decade(_as_era(frame))


def by_design_period(frame: pd.DataFrame, periods: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts and shares by the report's period of the design year, as ``breakdowns.by_period``."""
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
