"""Which historical periods a run uses, and the processed catalogue's periods worked out under them.

The periods table, its checks and the rules placing a year in a decade and a period are data
rules, applied when a catalogue is cleaned: :mod:`takingstock.data.periods` (midpoint year,
decade, period of the midpoint instant). This module holds what an analysis does with them,
for the recipients a run is about.

**Periods per recipient.** A row of ``periods.csv`` applies to the recipients its
``recipients`` column names (``;``-separated, like ``windows.csv``; empty = any).
:func:`periods_for` gives a run the rows that apply to its recipients, or, where none does,
neutral calendar decades, so a run for Yemen is never told about Iraq's "UN embargo"; its note
says which periods the page uses. The processed catalogue holds the periods of the committed
table; :func:`assign_periods` works the periods of manufacture and of design out again under
the run's (:func:`for_run` does both for a run).

**Bands.** :func:`period_bands` gives the shaded spans of chosen periods on a chart of yearly
bars.
"""

from __future__ import annotations

import pandas as pd

from takingstock.data.design_era import design_eras
from takingstock.data.periods import period_of, period_recipients, periods_from_frame

def period_bands(years: pd.Series, periods: pd.DataFrame, period_ids) -> list[tuple[float, float, str]]:
    """Shaded spans ``(start, end, label)`` of the periods ``period_ids`` on a chart of yearly bars.

    A bar is centred on its year (1980 spans 1979.5-1980.5) and a year belongs to the period
    holding its middle, so a period ``[start_c, end_c)`` covers the bars from ``start_c - 0.5``
    to ``end_c - 0.5``; each band is cut to the years shown, and a period outside them gets none.
    """
    first, last = years.min() - 0.5, years.max() + 0.5
    bands = [(max(float(p.start_c) - 0.5, first), min(float(p.end_c) - 0.5, last), p.label)
             for p in periods.itertuples() if p.period_id in period_ids]
    return [b for b in bands if b[0] < b[1]]


NEUTRAL_FIRST_DECADE = 1950  # SIPRI's register starts in 1950


def neutral_decades(last_year: int, first_decade: int = NEUTRAL_FIRST_DECADE) -> pd.DataFrame:
    """Calendar decades as a periods table (the columns of
    :func:`takingstock.data.periods.load_periods`): ``Before 1950``, then ``1950s`` ... the
    decade of ``last_year``, the last one open-ended."""
    rows = [{"period_id": f"before-{first_decade}", "label": f"Before {first_decade}", "start": "",
             "end": f"{first_decade - 1}-12-31"}]
    for start in range(first_decade, last_year // 10 * 10 + 1, 10):
        rows.append({"period_id": f"{start}s", "label": f"{start}s", "start": f"{start}-01-01",
                     "end": f"{start + 9}-12-31"})
    rows[-1]["end"] = ""
    return periods_from_frame(pd.DataFrame(rows), "<neutral decades>")


def periods_for(recipients, periods: pd.DataFrame, last_year: int | None = None) -> pd.DataFrame:
    """The historical periods that apply to ``recipients`` (a name or a list).

    A row of ``periods.csv`` applies to the recipients its ``recipients`` column names
    (``;``-separated, as in ``windows.csv``; empty = any recipient, and a table without the
    column applies to all). The rows that apply to any of ``recipients`` are returned; where
    none does, the periods are neutral calendar decades (:func:`neutral_decades`) rather than
    another country's history. ``attrs["note"]`` says which, in a sentence for the page
    (empty when the table's own periods apply to every recipient); :func:`periods_note`.
    """
    names = [recipients] if isinstance(recipients, str) else list(recipients)
    if "recipients" not in periods.columns:
        return periods
    scopes = [period_recipients(v) for v in periods["recipients"]]
    wanted = {n.casefold() for n in names}
    applies = [not s or bool(wanted & {r.casefold() for r in s}) for s in scopes]
    who = ", ".join(names)
    if any(applies):
        out = periods[applies].reset_index(drop=True)
        scoped = sorted({r for s, a in zip(scopes, applies) if a for r in s})
        out.attrs["note"] = (f"Historical periods: those of periods.csv defined for {', '.join(scoped)}."
                             if scoped else "")
        return out
    defined = sorted({r for s in scopes for r in s})
    out = neutral_decades(last_year or pd.Timestamp.today().year)
    out.attrs["note"] = (f"The historical periods of periods.csv are defined for {', '.join(defined)} only; "
                         f"this run is for {who}, so its periods here are calendar decades. Add rows for "
                         f"{who} to periods.csv (column recipients) to give it periods of its own.")
    return out


def periods_note(periods: pd.DataFrame) -> str:
    """The sentence :func:`periods_for` left saying which periods apply (``""`` if none)."""
    return str(periods.attrs.get("note", ""))


def assign_periods(frame: pd.DataFrame, periods: pd.DataFrame, committed: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame`` (the processed catalogue) with its period of manufacture (``period_id``,
    ``period``, from ``year_mid``) and of design (``design_era_period_id``,
    ``design_era_period``, from ``design_era_year``) worked out again under ``periods``:
    the processed catalogue holds the periods of the committed table, which may not apply to
    the run's recipient (:func:`periods_for`). With ``committed`` (the table the catalogue was
    processed with) holding the same periods, ``frame`` is returned as it is."""
    if committed is not None and list(committed["period_id"]) == list(periods["period_id"]):
        return frame
    out = frame.copy()
    if "year_mid" in out:
        per = period_of(out["year_mid"], periods)
        out["period_id"], out["period"] = per["period_id"], per["period"]
    if {"design_era_year", "design_era_precision"} <= set(out.columns):
        years = pd.to_numeric(out["design_era_year"], errors="coerce")
        got = design_eras(years, out["design_era_precision"].astype("string"), periods)
        out["design_era_period_id"] = got["design_era_period_id"]
        out["design_era_period"] = got["design_era_period"]
    return out


def for_run(run) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(periods, catalogue)`` of a run (:class:`takingstock.data.runcontext.RunContext`): the
    periods that apply to its recipients (:func:`periods_for`) and its processed catalogue with
    the periods worked out under them (:func:`assign_periods`)."""
    committed = run.period_table()
    periods = periods_for(run.recipients, committed)
    return periods, assign_periods(run.catalogue(), periods, committed)
