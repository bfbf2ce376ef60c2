"""The historical periods table, and the rule placing a span of years in a decade and a period.

Why it lives in the data layer: the table is a committed input (``data/raw/periods.csv``) read
and checked like the other reference tables, and cleaning a catalogue (step 01,
:mod:`takingstock.data.cleaning`) adds each row's midpoint year, decade and period with these
rules. What a *run* does with periods (those of its recipients, or neutral decades; shaded
bands on a chart) is analysis: :mod:`takingstock.analysis.eras`.

Methodology
-----------
**Midpoint year.** A source gives a single year (``1975``), a range (``1970``-``1979``) or
nothing. For a row with years ``year_from``..``year_to`` (inclusive whole calendar years) we
use ``year_mid = (year_from + year_to) / 2``; with only one end known, that end; with none,
missing. A single year gives ``year_mid = year``. In continuous time the middle of the span is
the instant ``year_mid + 0.5`` (``1975.0`` is 1 January 1975, so the middle of the year 1975 is
``1975.5``, and the middle of 1970-1979 is 1 January 1975).

**Decade** = the decade holding the midpoint instant ``year_mid + 0.5``: 1975 -> ``"1970s"``;
1970-1979 (instant 1 January 1975) -> ``"1970s"``; 1974-1983 (instant 1 January 1979) ->
``"1970s"``; 1975-1984 (instant 1 January 1980, an exact tie) -> ``"1980s"``, the same side of
the line as the period rule below. A range that straddles
decades is thus put in the decade holding its midpoint, which is honest only for short
ranges: the catalogue keeps ``year_from``/``year_to`` so a reader can see how wide it was.
Missing years give ``"unknown"``.

**Period.** The report's historical periods come from the committed table
``data/raw/periods.csv`` (``period_id,label,start,end``; inclusive ISO dates; an empty start
or end is open), so a user can change them without touching code. A span is assigned to the
period that contains its **midpoint instant** (``year_mid + 0.5`` as above). For a whole year
that straddles a boundary this is the period that holds 2 July of that year, which is the
same as "the period holding most of the year" whenever the year is split in two. Example: if
rearmament ends on 9 June 2014 and the period after the fall of Mosul starts on 10 June 2014,
the year 2014 (a delivery year in SIPRI, or a manufacture year) falls *after* Mosul. Instants
that fall in no period (a gap in the table, or before the first start) get ``"unknown"``.

**Recipients.** A row applies to the recipients its optional ``recipients`` column names
(``;``-separated, like ``windows.csv``; empty = any; :func:`period_recipients`). Periods must
not overlap (checked on loading) among the rows that apply to one recipient.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from takingstock.core import paths

PERIODS_PATH = paths.RAW / "periods.csv"
PERIOD_COLUMNS = ["period_id", "label", "start", "end"]
UNKNOWN = "unknown"


class PeriodsError(ValueError):
    """The periods table is unusable (missing column, bad date, overlap)."""


def _continuous(dates: pd.Series) -> np.ndarray:
    """Dates as continuous years: 1 January Y = Y.0, fractions by day of year."""
    d = pd.to_datetime(dates)
    days = np.where(d.dt.is_leap_year, 366.0, 365.0)
    return (d.dt.year + (d.dt.day_of_year - 1) / days).to_numpy(dtype=float)


def load_periods(path: str | Path | None = None) -> pd.DataFrame:
    """Read the periods table and add continuous bounds.

    Returns:
        The table sorted by start, with columns period_id, label, start, end (strings as in the
        file) plus ``start_c`` (continuous year of the first instant, ``-inf`` if open) and
        ``end_c`` (continuous year just after the last inclusive day, ``inf`` if open).

    Raises:
        PeriodsError naming the file and the row when a column is missing, a date cannot be
        read, a period ends before it starts, or two periods overlap.
    """
    path = Path(path) if path is not None else PERIODS_PATH
    if not path.is_file():
        raise PeriodsError(f"{path}: periods table not found")
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return periods_from_frame(table, str(path))


def periods_from_frame(table: pd.DataFrame, source: str = "<periods>") -> pd.DataFrame:
    """Check a periods DataFrame (as read from CSV) and add ``start_c``/``end_c``."""
    missing = [c for c in PERIOD_COLUMNS if c not in table.columns]
    if missing:
        raise PeriodsError(f"{source}: missing column(s) {missing}")
    t = table.copy()
    for col in PERIOD_COLUMNS:
        t[col] = t[col].astype("string").fillna("").str.strip()
    for col, fill in (("start", -np.inf), ("end", np.inf)):
        parsed = pd.to_datetime(t[col].where(t[col] != ""), format="%Y-%m-%d", errors="coerce")
        bad = (t[col] != "") & parsed.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise PeriodsError(f"{source}: row {i + 2}, column {col}: "
                               f"{t[col].iloc[i]!r} is not a YYYY-MM-DD date")
        cont = np.full(len(t), fill)
        ok = parsed.notna().to_numpy()
        if ok.any():
            shifted = parsed[ok] + pd.Timedelta(days=1) if col == "end" else parsed[ok]
            cont[ok] = _continuous(shifted)
        t[f"{col}_c"] = cont
    if (t["period_id"] == "").any():
        raise PeriodsError(f"{source}: a row has an empty period_id")
    if t["period_id"].duplicated().any():
        raise PeriodsError(f"{source}: duplicate period_id {list(t['period_id'][t['period_id'].duplicated()])}")
    t = t.sort_values("start_c", kind="stable").reset_index(drop=True)
    scopes = [period_recipients(v) for v in t["recipients"]] if "recipients" in t else [()] * len(t)
    for i in range(len(t)):
        if t.at[i, "end_c"] <= t.at[i, "start_c"]:
            raise PeriodsError(f"{source}: period {t.at[i, 'period_id']!r} ends before it starts")
        for j in range(i):
            shared = not scopes[i] or not scopes[j] or set(scopes[i]) & set(scopes[j])
            if shared and t.at[i, "start_c"] < t.at[j, "end_c"]:
                raise PeriodsError(f"{source}: periods {t.at[j, 'period_id']!r} and "
                                   f"{t.at[i, 'period_id']!r} overlap")
    return t


def period_recipients(value) -> tuple[str, ...]:
    """The recipients a period row names (``recipients``: ``;``-separated; empty = any)."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return tuple(r.strip() for r in text.split(";") if r.strip())


def year_mid(year_from: pd.Series, year_to: pd.Series) -> pd.Series:
    """Midpoint year of inclusive whole-year spans (float; one end alone; NaN if none)."""
    a = pd.to_numeric(year_from, errors="coerce").astype("float64")
    b = pd.to_numeric(year_to, errors="coerce").astype("float64")
    return ((a.fillna(b) + b.fillna(a)) / 2).rename("year_mid")


def decade(mid: pd.Series | float) -> pd.Series | str:
    """Decade label (``"1970s"``) of midpoint years; ``"unknown"`` where missing."""
    if np.isscalar(mid):
        return UNKNOWN if pd.isna(mid) else f"{int(np.floor(mid + 0.5)) // 10 * 10}s"
    m = pd.to_numeric(mid, errors="coerce").astype("float64")
    start = np.floor(m + 0.5) // 10 * 10
    labels = start.astype("Int64").astype("string") + "s"
    return labels.fillna(UNKNOWN).astype("string").rename("decade")


def period_of(mid: pd.Series, periods: pd.DataFrame) -> pd.DataFrame:
    """Period of each midpoint year (see the module docstring for the rule).

    Args:
        mid: midpoint years (``year_mid``); a plain whole year ``Y`` means the year ``Y``.
        periods: from :func:`load_periods`.

    Returns:
        DataFrame on ``mid``'s index with ``period_id`` and ``period`` (the label), both
        ``"unknown"`` where the year is missing or falls in no period.
    """
    m = pd.to_numeric(mid, errors="coerce").astype("float64").to_numpy()
    instant = m + 0.5
    starts = periods["start_c"].to_numpy(dtype=float)
    ends = periods["end_c"].to_numpy(dtype=float)
    idx = np.searchsorted(starts, instant, side="right") - 1
    safe = np.clip(idx, 0, max(len(periods) - 1, 0))
    ok = (~np.isnan(instant)) & (idx >= 0) & (len(periods) > 0)
    if len(periods):
        ok &= instant < ends[safe]
    ids = np.array(list(periods["period_id"]) + [UNKNOWN], dtype=object)
    labels = np.array(list(periods["label"]) + [UNKNOWN], dtype=object)
    pick = np.where(ok, safe, len(periods))
    index = mid.index if isinstance(mid, pd.Series) else None
    return pd.DataFrame({"period_id": ids[pick], "period": labels[pick]}, index=index).astype("string")


def period_of_year(years: pd.Series, periods: pd.DataFrame) -> pd.DataFrame:
    """Period of whole calendar years (e.g. SIPRI delivery years): same rule as :func:`period_of`."""
    return period_of(pd.to_numeric(years, errors="coerce"), periods)


def add_eras(frame: pd.DataFrame, periods: pd.DataFrame, year_from: str = "year_from",
             year_to: str = "year_to") -> pd.DataFrame:
    """Return ``frame`` with ``year_mid``, ``decade``, ``period_id`` and ``period`` added."""
    mid = year_mid(frame[year_from], frame[year_to])
    per = period_of(mid, periods)
    return frame.assign(year_mid=mid, decade=decade(mid), period_id=per["period_id"],
                        period=per["period"])
