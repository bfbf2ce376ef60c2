"""Ten years on: what SIPRI's register shows after the report, for any recipient.

Method
------
*Taking Stock* was published in December 2015. The follow-up compares two windows of
``data/raw/windows.csv``, defined for any recipient:

* ``before-report`` - 2003 to 2015, from the US-led invasion of Iraq to the report's year;
* ``after-report`` - 2016 to the register's last year. Its ``last`` is written ``2100``, as the
  open end of ``periods.csv``'s last period: :func:`clip` ends it with the export's last year
  (:attr:`takingstock.data.coverage.Coverage.last_year`: a release of year *Y* holds data up to
  *Y - 1*), so the same window serves every release.

Every function takes *deal-years* (:func:`deal_years`: one row per deal and counted year under
a counting basis, :func:`takingstock.analysis.supply.yearly_records`) or deals, and is pure. Deliveries are
counted on the ``delivery`` basis (TIV delivered spread evenly over the listed delivery years),
orders on the ``order`` basis (the TIV of the whole order in its order year). TIV is SIPRI's
volume measure, not money; suppliers are the crosswalk's states (``unknown supplier(s)`` shown
as ``unknown``).

* :func:`period_totals` - TIV and deals per window and per year of each window (the windows
  differ in length, so the yearly mean is what compares).
* :func:`suppliers_ranked` - suppliers by TIV in a window, with shares.
* :func:`supplier_changes` - who supplied in both windows, who is *new* after the report
  (delivered after, not before) and who *stopped* (delivered before, not after).
* :func:`by_category` - TIV per SIPRI weapon category (the reader's stable category) and window.
* :func:`origin_deliveries` - the states of origin of the catalogues (former states as their
  successors, :func:`takingstock.data.att.origin_states`) that delivered after the report, and how much.
* :func:`by_att_status` - deliveries split by the supplier's ATT status *in the year of each
  delivery* (:func:`takingstock.data.att.with_status`).

Coverage. :func:`lacks` says why an export cannot answer for a recipient and a window: the
export must hold every deal to the recipient (a one-recipient export of Iraq cannot speak for
Syria) and reach the window's years; the notebook and the claims print that reason as *not
checkable* instead of a number. Calculations are ours, not SIPRI's.
"""

from __future__ import annotations

import pandas as pd

from takingstock.analysis import supply
from takingstock.data import att
from takingstock.data.sipri_terms import NO_REGISTER

__all__ = ["BEFORE", "AFTER", "clip", "lacks", "why_not", "deal_years", "in_window", "period_totals",
           "yearly_series", "suppliers_ranked", "supplier_changes", "by_category",
           "origin_deliveries", "by_att_status", "UNKNOWN"]

#: The window ids of ``windows.csv`` the follow-up compares.
BEFORE, AFTER = "before-report", "after-report"
UNKNOWN = "unknown"


def clip(first: int, last: int, coverage) -> tuple[int, int]:
    """``(first, last)`` with ``last`` ended at the export's last year (an open window's 2100)."""
    end = coverage.last_year if coverage is not None else None
    return int(first), int(min(last, end) if end is not None else last)


def lacks(coverage, recipients, first: int, last: int) -> str:
    """Why the export cannot answer for ``recipients`` in ``first..last`` (``""`` when it can).

    ``last`` should already be clipped (:func:`clip`); a window that starts after the export's
    last year is not covered at all.
    """
    if coverage is None:
        return NO_REGISTER
    names = [recipients] if isinstance(recipients, str) else list(recipients)
    if (why := coverage.lacks_recipients(names)):
        return why
    if first > last:
        return (f"the export holds data up to {last} only; the window starts in {first}")
    return coverage.lacks_years(first, last) or ""


def why_not(coverage, recipients, *spans, missing: str = "") -> str:
    """The sentence a section shows instead of its finding, or ``""`` when it can be computed.

    ``spans`` are the (clipped) windows it needs, ``missing`` what to say without any export
    (:meth:`takingstock.data.runcontext.RunContext.missing_register`).
    """
    if coverage is None:
        return missing or f"Not checkable: {NO_REGISTER}."
    why = lacks(coverage, recipients, min(s[0] for s in spans), max(s[1] for s in spans))
    return f"Not checkable: {why}." if why else ""


def deal_years(deals: pd.DataFrame, recipients, basis: str = "delivery") -> pd.DataFrame:
    """The recipients' deal-years (:func:`takingstock.analysis.supply.yearly_records`): ``deal_id,
    supplier, supplier_state, supplier_iso, category, year, items, tiv`` and the other deal
    columns; ``supplier_state`` missing -> ``unknown``."""
    rec = supply.yearly_records(supply.select_recipients(deals, recipients), basis)
    state = rec["supplier_state"].astype("string").fillna(UNKNOWN)
    return rec.assign(supplier_state=state.where(state != "unknown supplier(s)", UNKNOWN))


def in_window(years: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """The deal-years with ``first <= year <= last``."""
    return years[years["year"].between(first, last)]


def period_totals(years: pd.DataFrame, windows: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Per window (label -> (first, last), in order): ``period, first_year, last_year, years,
    deals, tiv, tiv_a_year`` (years = calendar years in the window; deals counted once)."""
    rows = []
    for label, (first, last) in windows.items():
        w = in_window(years, first, last)
        n = last - first + 1
        rows.append({"period": label, "first_year": first, "last_year": last, "years": n,
                     "deals": int(w["deal_id"].nunique()), "tiv": float(w["tiv"].sum()),
                     "tiv_a_year": float(w["tiv"].sum()) / n if n > 0 else float("nan")})
    return pd.DataFrame(rows)


def yearly_series(years: pd.DataFrame, windows: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """TIV per year over every window (``year, period, deals, tiv``), years without any
    counted deal shown as 0 so a gap shows as a gap."""
    parts = []
    for label, (first, last) in windows.items():
        w = in_window(years, first, last)
        agg = w.groupby("year").agg(deals=("deal_id", "nunique"), tiv=("tiv", "sum"))
        agg = agg.reindex(range(first, last + 1), fill_value=0).rename_axis("year").reset_index()
        parts.append(agg.assign(period=label))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["year", "deals", "tiv", "period"])
    return out[["year", "period", "deals", "tiv"]].astype({"deals": "int64", "tiv": "float64"})


def suppliers_ranked(years: pd.DataFrame) -> pd.DataFrame:
    """Suppliers of the deal-years given, by TIV: ``rank, supplier, deals, tiv, share``
    (share in percent of the total; ties broken by name)."""
    agg = (years.groupby("supplier_state", observed=True)
           .agg(deals=("deal_id", "nunique"), tiv=("tiv", "sum")).reset_index()
           .rename(columns={"supplier_state": "supplier"}))
    agg["supplier"] = agg["supplier"].astype(str)
    total = agg["tiv"].sum()
    agg["share"] = agg["tiv"] / total * 100 if total else float("nan")
    agg = agg.sort_values(["tiv", "supplier"], ascending=[False, True]).reset_index(drop=True)
    agg.insert(0, "rank", range(1, len(agg) + 1))
    return agg


def supplier_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Every supplier of either set of deal-years: ``supplier, tiv_before, tiv_after, change``,
    change = ``new`` (after only), ``stopped`` (before only) or ``continued``; ``unknown``
    suppliers are left out (they are no state). Sorted by change, then TIV after and before."""
    b = before.groupby("supplier_state", observed=True)["tiv"].sum()
    a = after.groupby("supplier_state", observed=True)["tiv"].sum()
    out = pd.DataFrame({"tiv_before": b, "tiv_after": a}).rename_axis("supplier").reset_index()
    out["supplier"] = out["supplier"].astype(str)
    out = out[out["supplier"] != UNKNOWN]
    in_b, in_a = out["tiv_before"].notna(), out["tiv_after"].notna()
    out["change"] = "continued"
    out.loc[in_a & ~in_b, "change"] = "new"
    out.loc[in_b & ~in_a, "change"] = "stopped"
    out[["tiv_before", "tiv_after"]] = out[["tiv_before", "tiv_after"]].fillna(0.0)
    order = {"new": 0, "stopped": 1, "continued": 2}
    return (out.assign(_o=out["change"].map(order))
            .sort_values(["_o", "tiv_after", "tiv_before", "supplier"], ascending=[True, False, False, True])
            .drop(columns="_o").reset_index(drop=True))


def by_category(years: pd.DataFrame, windows: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """TIV per weapon category and window: ``category``, then per window its TIV and its share
    (percent) of the window's TIV (``tiv_<label>``, ``share_<label>``); categories by TIV,
    largest first (the last window first)."""
    cols = {}
    for label, (first, last) in windows.items():
        w = in_window(years, first, last)
        tiv = w.groupby(w["category"].astype(str))["tiv"].sum()
        cols[f"tiv_{label}"] = tiv
        cols[f"share_{label}"] = tiv / tiv.sum() * 100 if tiv.sum() else tiv * float("nan")
    out = pd.DataFrame(cols).fillna(0.0).rename_axis("category").reset_index()
    tiv_cols = [c for c in out.columns if c.startswith("tiv_")]
    return out.sort_values(tiv_cols[::-1], ascending=False).reset_index(drop=True)


def origin_deliveries(years: pd.DataFrame, origins: pd.DataFrame) -> pd.DataFrame:
    """For each state of origin (``origins``: :func:`takingstock.data.att.origin_states`, one row
    per origin and the state that stands for it), the deliveries of that state in ``years``:
    ``state, iso, origins, delivered, deals, tiv, share`` (share of all the TIV in ``years``);
    states that delivered first, by TIV."""
    total = float(years["tiv"].sum())
    agg = years.groupby("supplier_iso", observed=True).agg(deals=("deal_id", "nunique"), tiv=("tiv", "sum"))
    named = origins.groupby(["state", "iso"], sort=False)["origin"].agg(lambda s: ", ".join(sorted(set(s))))
    out = named.rename("origins").reset_index()
    out["deals"] = out["iso"].map(agg["deals"]).fillna(0).astype("int64")
    out["tiv"] = out["iso"].map(agg["tiv"]).fillna(0.0)
    out["delivered"] = out["deals"] > 0
    out["share"] = out["tiv"] / total * 100 if total else float("nan")
    return (out[["state", "iso", "origins", "delivered", "deals", "tiv", "share"]]
            .sort_values(["delivered", "tiv", "state"], ascending=[False, False, True]).reset_index(drop=True))


def by_att_status(years: pd.DataFrame, att_table: pd.DataFrame) -> pd.DataFrame:
    """Deliveries split by the supplier's ATT status in the year of each delivery:
    ``att_status, suppliers, deals, tiv, share`` (one row per status of
    :data:`takingstock.data.att.STATUSES` met; ``suppliers`` names them)."""

    marked = att.with_status(years.assign(supplier_iso=years["supplier_iso"].astype(str)), att_table)
    total = float(marked["tiv"].sum())
    out = (marked.groupby("att_status", observed=True)
           .agg(suppliers=("supplier_state", lambda s: ", ".join(sorted(set(map(str, s))))),
                deals=("deal_id", "nunique"), tiv=("tiv", "sum")).reset_index())
    out["att_status"] = out["att_status"].astype(str)
    out["share"] = out["tiv"] / total * 100 if total else float("nan")
    return out
