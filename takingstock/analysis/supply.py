"""Supply-chain analysis on SIPRI deals: who armed a recipient, when, and the paper trail from
the report's items to SIPRI's register.

Methodology note
----------------
Every function takes ``deals`` as returned by :func:`takingstock.data.sipri.read_register` and is
pure (no files written). Three **counting bases** decide when a deal "happened":

* ``order`` - in its year of order (licence year for licensed production). Items are the
  number ordered and TIV the TIV of the whole order (unknown numbers count as 0 and unknown
  TIV as 0; the tables keep the deal count so nothing vanishes).
* ``delivery`` - in each year in which SIPRI lists a delivery. Items and TIV delivered are
  spread evenly over the listed years (see :mod:`takingstock.data.sipri`: SIPRI does not say how
  many per year). A deal with deliveries in several years counts as one deal in each year,
  but once in any multi-year total.
* ``either`` - in its order year or any delivery year. Over a window (e.g. 1980-88) a deal
  qualifies when it was ordered *or* delivered in it; per year, it counts in the order year
  and each delivery year, with items and TIV taken from the deliveries (spread).

A **recipient** matches on SIPRI's own name or the crosswalk's state (``Iraq`` does not
include ``Kurdistan Regional Government (Iraq)*``, a non-state recipient in SIPRI's terms).
Supplier lists use the crosswalk's state name and count only suppliers that are states
(``unknown supplier(s)`` and non-state suppliers are reported apart). Former states are
kept apart from their successors (the Soviet Union is not Russia).

**Blocs.** The share of Warsaw Pact vs NATO material uses the crosswalk's ``bloc``, a state's
Cold War alliance: ``Warsaw Pact`` (the Soviet Union, its allies of 1990 and their successor
states) vs ``NATO`` (its sixteen members of 1990: the United States, Canada and western
Europe); China and other states are shown apart. A state keeps its Cold War bloc after it
changed alliance (Poland, Czechia, Hungary and Bulgaria joined NATO by 2004), and the groups
are labelled so (:data:`BLOC_GROUPS`). Shares are of *delivered TIV*, a volume measure, not money.

**Paper trail.** Catalogue items are linked to SIPRI deals through our own alias table
(``data/raw/sipri_aliases.csv``). A link means SIPRI records a transfer of the same weapon
type to that recipient, not that the documented item came from that deal. Small arms, light
weapons, ammunition and improvised weapons are outside SIPRI's coverage: such items are listed
as unmatched with that reason. All calculations are ours, not SIPRI's.
"""

from __future__ import annotations

import re
from itertools import chain
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from takingstock.core import paths
from takingstock.analysis.eras import decade
from takingstock.data.sipri import deal_years

__all__ = [
    "BASES",
    "basis_rule",
    "select_recipients",
    "yearly_records",
    "imports_by_year",
    "imports_by_decade",
    "imports_by_period",
    "with_tiv_share",
    "top_suppliers_by_period",
    "supplier_tiv_by_period",
    "delivered_in_window",
    "TIV_LABEL",
    "embargo_gap",
    "bloc_shares",
    "suppliers_in_window",
    "window_suppliers",
    "window_rule",
    "us_deals_from",
    "named_orders",
    "load_aliases",
    "paper_trail",
    "paper_trail_summary",
    "trail_items",
    "OUTSIDE_SIPRI_CATEGORIES",
    "AliasError",
]

BASES = ("order", "delivery", "either")
#: Axis title for TIV, used by every notebook that plots it (TIV is not money).
TIV_LABEL = "SIPRI trend-indicator value (TIV), millions — a volume measure, not money"
UNKNOWN = "unknown"
OTHER = "other"
OUTSIDE_SIPRI_CATEGORIES = {
    "pistol": "small arms are outside SIPRI's coverage",
    "rifle": "small arms are outside SIPRI's coverage",
    "machine gun": "small arms are outside SIPRI's coverage",
    "sniper/anti-materiel rifle": "small arms are outside SIPRI's coverage",
    "RPG/recoilless": "light weapons (unguided) are outside SIPRI's coverage",
    "ammunition": "ammunition is outside SIPRI's coverage",
    "mortar": "mortars under 100 mm and their rounds are mostly outside SIPRI's coverage",
    "improvised": "improvised weapons are not transfers",
}


class AliasError(ValueError):
    """The alias table is malformed (names file, row and column)."""


def _check_basis(basis: str) -> None:
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, not {basis!r}")


def basis_rule(basis: str) -> str:
    """The counting rule in words, for captions."""
    _check_basis(basis)
    return {
        "order": "a deal counts in its year of order; items = number ordered, TIV = TIV of the whole order",
        "delivery": ("a deal counts in each year SIPRI lists a delivery; items and TIV delivered are "
                     "spread evenly over those years"),
        "either": ("a deal counts in its year of order and in each delivery year; items and TIV are "
                   "the deliveries, spread evenly over the delivery years"),
    }[basis]


def select_recipients(deals: pd.DataFrame, recipients: Iterable[str] | str) -> pd.DataFrame:
    """Deals whose recipient (SIPRI name or crosswalk state) is one of ``recipients``."""
    names = [recipients] if isinstance(recipients, str) else list(recipients)
    keys = {n.strip().casefold() for n in names}
    mask = _column_in(deals["recipient"], keys)
    if "recipient_state" in deals:
        mask |= _column_in(deals["recipient_state"], keys)
    return deals[mask]


def _column_in(column: pd.Series, keys: set[str]) -> pd.Series:
    """Where ``column``'s value, casefolded, is one of ``keys`` (casefolds each distinct value once)."""
    values = column.dropna().unique()
    return column.isin([v for v in values if str(v).casefold() in keys])


def yearly_records(deals: pd.DataFrame, basis: str = "delivery") -> pd.DataFrame:
    """One row per deal and counted year under ``basis`` with ``year``, ``items``, ``tiv``."""
    _check_basis(basis)
    if basis == "order":
        out = deals[deals["order_year"].notna()].copy()
        out["year"] = out["order_year"].astype("int64")
        out["items"] = out["number_ordered"].astype("float64").fillna(0.0)
        out["tiv"] = out["tiv_order"].fillna(0.0)
        return out.drop(columns=["delivery_years"]).reset_index(drop=True)
    spread = deal_years(deals)
    if basis == "delivery":
        return spread
    # the order year adds a row (no items, no TIV) only when it is not one of the deal's
    # delivery years: a deal ordered in a delivery year counts once in that year
    ordered = deals["order_year"].notna()
    in_delivery = pd.Series([y in ys for y, ys in zip(deals["order_year"], deals["delivery_years"])],
                            index=deals.index, dtype=bool)
    orders = deals[ordered & ~in_delivery].drop(columns=["delivery_years"]).copy()
    orders["year"] = orders["order_year"].astype("int64")
    orders["items"] = 0.0
    orders["tiv"] = 0.0
    return pd.concat([spread, orders], ignore_index=True)


def _aggregate(rec: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    return (rec.groupby(by, as_index=False)
            .agg(deals=("deal_id", "nunique"), items=("items", "sum"), tiv=("tiv", "sum")))


def imports_by_year(deals: pd.DataFrame, recipients, basis: str = "delivery",
                    year_from: int | None = None, year_to: int | None = None,
                    complete: bool = False) -> pd.DataFrame:
    """Imports of ``recipients`` per year: ``year, deals, items, tiv``.

    Years with none are omitted, unless ``complete``: then every year from the first to the
    last counted year is listed, with 0 where nothing was counted, so gaps (the embargo years)
    show as gaps rather than disappearing.
    """
    rec = yearly_records(select_recipients(deals, recipients), basis)
    if year_from is not None:
        rec = rec[rec["year"] >= year_from]
    if year_to is not None:
        rec = rec[rec["year"] <= year_to]
    out = _aggregate(rec, "year")[["year", "deals", "items", "tiv"]].sort_values("year")
    if complete and len(out):
        span = pd.RangeIndex(int(out["year"].min()), int(out["year"].max()) + 1, name="year")
        out = out.set_index("year").reindex(span, fill_value=0).reset_index()
        out["deals"] = out["deals"].astype("int64")
        out[["items", "tiv"]] = out[["items", "tiv"]].astype("float64")
    return out.reset_index(drop=True)


def with_tiv_share(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``tiv_share``: each row's TIV in percent (0-100) of the table's total."""
    total = table["tiv"].sum()
    return table.assign(tiv_share=table["tiv"] / total * 100 if total else float("nan"))


def delivered_in_window(deals: pd.DataFrame, start: int, end: int, recipients=None) -> pd.DataFrame:
    """Deal-years (``delivery`` basis: TIV and items spread over the delivery years) in
    ``start..end`` inclusive, for ``recipients`` or, when ``None``, for every recipient."""
    sel = deals if recipients is None else select_recipients(deals, recipients)
    rec = yearly_records(sel, "delivery")
    return rec[(rec["year"] >= start) & (rec["year"] <= end)]


def imports_by_decade(deals: pd.DataFrame, recipients, basis: str = "delivery") -> pd.DataFrame:
    """Imports per decade: ``decade`` (e.g. ``1980s``), ``deals``, ``items``, ``tiv``."""
    rec = yearly_records(select_recipients(deals, recipients), basis)
    rec["decade"] = decade(rec["year"]).astype(str)
    return _aggregate(rec, "decade").sort_values("decade").reset_index(drop=True)


def _with_period(rec: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    from takingstock.analysis.eras import period_of_year  # owned by the catalogue-code engineer

    got = period_of_year(rec["year"], periods)
    rec = rec.copy()
    rec["period_id"] = got["period_id"].astype(str).to_numpy()
    rec["period"] = got["period"].astype(str).to_numpy()
    return rec


def imports_by_period(deals: pd.DataFrame, recipients, periods: pd.DataFrame,
                      basis: str = "delivery", rates: bool = False) -> pd.DataFrame:
    """Imports per historical period (``periods`` from ``takingstock.analysis.eras.load_periods``):
    ``period_id, period, deals, items, tiv`` in the periods' order (empty periods shown as 0).

    With ``rates``, three columns are added: ``years`` (calendar years of the period inside
    the span from the first to the last counted year), ``tiv_per_year`` (TIV / years, 0 for a
    period with no year in the span) and ``tiv_share`` (percent of all TIV).
    """
    rec = _with_period(yearly_records(select_recipients(deals, recipients), basis), periods)
    agg = _aggregate(rec, ["period_id", "period"])
    frame = periods[["period_id", "label"]].rename(columns={"label": "period"}).astype(str)
    out = frame.merge(agg, on=["period_id", "period"], how="left")
    extra = agg[~agg["period_id"].isin(frame["period_id"])]
    out = pd.concat([out, extra], ignore_index=True)
    out["deals"] = out["deals"].fillna(0).astype("int64")
    out[["items", "tiv"]] = out[["items", "tiv"]].fillna(0.0)
    if rates:
        if len(rec):
            span = pd.DataFrame({"year": range(int(rec["year"].min()), int(rec["year"].max()) + 1)})
            years = _with_period(span, periods).groupby("period_id").size()
        else:
            years = pd.Series(dtype="int64")
        out["years"] = out["period_id"].map(years).fillna(0).astype("int64")
        out["tiv_per_year"] = (out["tiv"] / out["years"].where(out["years"] > 0)).fillna(0.0)
        out = with_tiv_share(out)
    return out


def top_suppliers_by_period(deals: pd.DataFrame, recipients, periods: pd.DataFrame,
                            basis: str = "delivery", n: int = 3) -> pd.DataFrame:
    """The ``n`` largest suppliers (by TIV) of each period: ``period_id, period, rank,
    supplier, deals, items, tiv, share`` (share of the period's TIV, in percent)."""
    rec = _with_period(yearly_records(select_recipients(deals, recipients), basis), periods)
    agg = _aggregate(rec, ["period_id", "period", "supplier_state"])
    agg["share"] = agg["tiv"] / agg.groupby("period_id")["tiv"].transform("sum") * 100
    agg = agg.sort_values(["period_id", "tiv", "supplier_state"], ascending=[True, False, True])
    agg["rank"] = agg.groupby("period_id").cumcount() + 1
    order = {p: i for i, p in enumerate(periods["period_id"])}
    out = agg[agg["rank"] <= n].rename(columns={"supplier_state": "supplier"})
    out = out.assign(_o=out["period_id"].map(order)).sort_values(["_o", "rank"]).drop(columns="_o")
    return out[["period_id", "period", "rank", "supplier", "deals", "items", "tiv", "share"]].reset_index(drop=True)


def supplier_tiv_by_period(deals: pd.DataFrame, recipients, periods: pd.DataFrame,
                           basis: str = "delivery", n: int = 6) -> pd.DataFrame:
    """TIV to ``recipients`` by period and supplier, for stacked bars: the ``n`` largest
    suppliers over the whole span keep their name, the rest are summed as ``other`` and
    unknown suppliers as ``unknown``. Returns ``period_id, period, supplier, tiv``, in the
    periods' order and, within a period, by the suppliers' overall rank."""
    rec = _with_period(yearly_records(select_recipients(deals, recipients), basis), periods)
    if rec.empty:
        return pd.DataFrame(columns=["period_id", "period", "supplier", "tiv"])
    sup = rec["supplier_state"].astype("string").fillna(UNKNOWN)
    totals = rec.groupby(sup.to_numpy())["tiv"].sum().sort_values(ascending=False)
    top = [s for s in totals.index if s != UNKNOWN][:n]
    label = sup.where(sup.isin(top) | (sup == UNKNOWN), OTHER)
    d = pd.DataFrame({"period_id": rec["period_id"].to_numpy(), "period": rec["period"].to_numpy(),
                      "supplier": label.to_numpy(), "tiv": rec["tiv"].to_numpy()})
    out = d.groupby(["period_id", "period", "supplier"], sort=False)["tiv"].sum().reset_index()
    porder = {p: i for i, p in enumerate(list(periods["period_id"]) + [UNKNOWN])}
    sorder = {s: i for i, s in enumerate(top + [OTHER, UNKNOWN])}
    return out.sort_values(["period_id", "supplier"], key=lambda s: s.map(porder) if s.name == "period_id"
                           else s.map(sorder)).reset_index(drop=True)


def embargo_gap(deals: pd.DataFrame, recipients, start: int = 1991, end: int = 2002,
                span: tuple[int, int] = (1950, 2025)) -> dict:
    """What SIPRI records during an embargo window, and the longest run of years without any
    delivery to ``recipients`` within ``span``.

    Returns a dict: ``orders_in_window`` and ``deliveries_in_window`` (deal counts),
    ``tiv_delivered_in_window``, ``gap_start``, ``gap_end``, ``gap_years`` (the longest run
    of consecutive years with no delivery, counted from the first delivery year in ``span``:
    the years before a recipient's first delivery are not a gap; ``None, None, 0`` without any
    delivery in ``span``), ``last_before`` and ``first_after`` (the delivery years around that
    run).
    """
    sel = select_recipients(deals, recipients)
    years = yearly_records(sel, "delivery")
    delivered = sorted(set(years["year"]))
    in_win = years[(years["year"] >= start) & (years["year"] <= end)]
    orders = sel[(sel["order_year"] >= start) & (sel["order_year"] <= end)]
    best = (None, None, 0)
    run_start = None
    # the years before the first delivery are not a gap: the search starts at that delivery
    first = next((y for y in delivered if y >= span[0]), None)
    for y in range(first if first is not None else span[1] + 1, span[1] + 2):
        if y <= span[1] and y not in delivered:
            run_start = y if run_start is None else run_start
        elif run_start is not None:
            length = y - run_start
            if length > best[2]:
                best = (run_start, y - 1, length)
            run_start = None
    gs, ge, n = best
    before = [y for y in delivered if gs is not None and y < gs]
    after = [y for y in delivered if ge is not None and y > ge]
    return {
        "window": (start, end),
        "orders_in_window": int(orders["deal_id"].nunique()),
        "deliveries_in_window": int(in_win["deal_id"].nunique()),
        "tiv_delivered_in_window": float(in_win["tiv"].sum()),
        "gap_start": gs, "gap_end": ge, "gap_years": n,
        "last_before": before[-1] if before else None,
        "first_after": after[0] if after else None,
    }


#: The before/after-2003 groups, named for what they count: the crosswalk's bloc is a state's
#: Cold War alliance (NATO's and the Warsaw Pact's members of 1990, the Soviet successors with
#: the Pact), kept whatever alliance a state joined later: Poland, Czechia, Hungary and
#: Bulgaria, NATO members by 2004, count with the Warsaw Pact.
BLOC_GROUPS = {"Warsaw Pact": "Warsaw Pact states of 1990 and Soviet successors",
               "NATO": "NATO members of 1990", "China": "China"}


def bloc_group(bloc: str) -> str:
    """Group a crosswalk bloc for the before/after-2003 comparison (:data:`BLOC_GROUPS`)."""
    return BLOC_GROUPS.get(str(bloc), "other")


def bloc_shares(deals: pd.DataFrame, recipients, split_year: int = 2003,
                year_from: int | None = None, year_to: int | None = None) -> pd.DataFrame:
    """Share of delivered TIV by bloc group before ``split_year`` and from it on.

    Returns ``era, group, tiv, share`` (share in percent within the era), deliveries spread by year.
    """
    rec = yearly_records(select_recipients(deals, recipients), "delivery")
    if year_from is not None:
        rec = rec[rec["year"] >= year_from]
    if year_to is not None:
        rec = rec[rec["year"] <= year_to]
    rec = rec.assign(
        era=(rec["year"] < split_year).map({True: f"before {split_year}", False: f"{split_year} on"}),
        group=rec["supplier_bloc"].map(bloc_group),
    )
    out = rec.groupby(["era", "group"], as_index=False)["tiv"].sum()
    out["share"] = out["tiv"] / out.groupby("era")["tiv"].transform("sum") * 100
    era_order = {f"before {split_year}": 0, f"{split_year} on": 1}
    out = out.assign(_e=out["era"].map(era_order)).sort_values(["_e", "tiv"], ascending=[True, False])
    return out.drop(columns="_e").reset_index(drop=True)


def window_rule(basis: str, start: int, end: int) -> str:
    """The rule for a window, in one sentence."""
    _check_basis(basis)
    what = {
        "order": f"ordered in {start}-{end} (SIPRI's year of order)",
        "delivery": f"with at least one delivery listed in {start}-{end}",
        "either": f"ordered in {start}-{end} or with at least one delivery listed in {start}-{end}",
    }[basis]
    return (f"A state counts as a supplier when SIPRI records at least one deal to the recipient "
            f"{what}; unknown and non-state suppliers are left out.")


def in_window(deals: pd.DataFrame, basis: str, start: int, end: int) -> pd.Series:
    """Which deals count in ``start..end`` under ``basis`` (:func:`window_rule`), a boolean mask."""
    ordered = deals["order_year"].between(start, end).fillna(False).astype(bool)
    if basis == "order":
        return ordered
    delivered = pd.Series(_delivered_in(deals["delivery_years"], start, end), index=deals.index)
    return delivered if basis == "delivery" else ordered | delivered


def _delivered_in(delivery_years: pd.Series, start: int, end: int) -> np.ndarray:
    """Whether each deal's list of delivery years has one in ``start..end``: the lists laid end
    to end in one array, compared at once and counted back per deal (the claims ledger asks
    this of the whole register for each reading of a window)."""
    lists = delivery_years.to_numpy()
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    years = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(lengths.sum()))
    owner = np.repeat(np.arange(len(lists)), lengths)
    return np.bincount(owner[(years >= start) & (years <= end)], minlength=len(lists)) > 0


def suppliers_in_window(deals: pd.DataFrame, recipient: str, start: int, end: int,
                        basis: str = "either") -> list[str]:
    """States (not unknown or non-state suppliers) with a deal to ``recipient`` counted in
    ``start..end`` under ``basis`` (:func:`window_rule` says the rule in words), sorted."""
    _check_basis(basis)
    sel = select_recipients(deals, recipient)
    sel = sel[in_window(sel, basis, start, end) & (sel["supplier_kind"] == "state")]
    return sorted(set(sel["supplier_state"]))


def window_suppliers(deals: pd.DataFrame, a: str = "Iraq", b: str = "Iran",
                     start: int = 1980, end: int = 1988, basis: str = "either") -> dict:
    """Suppliers of ``a``, of ``b`` and of both within ``start..end`` under ``basis``.

    Returns a dict with ``rule`` (the sentence), ``a``, ``b`` (sorted state names),
    ``both``, ``only_a``, ``only_b`` (keys are these fixed names, not the recipients').
    """
    sa, sb = (set(suppliers_in_window(deals, r, start, end, basis)) for r in (a, b))
    return {
        "rule": window_rule(basis, start, end),
        "basis": basis,
        "a": sorted(sa), "b": sorted(sb),
        "both": sorted(sa & sb),
        "only_a": sorted(sa - sb),
        "only_b": sorted(sb - sa),
    }


def window_table(deals: pd.DataFrame, a: str = "Iraq", b: str = "Iran",
                 start: int = 1980, end: int = 1988,
                 found: dict[str, dict] | None = None) -> pd.DataFrame:
    """Every supplier state of ``a`` or ``b`` in the window, and whom it supplied under each rule.

    One row per state; for each counting basis (order, delivery, either) a column saying
    ``a``, ``b``, ``both`` or empty. The rules themselves are :func:`window_rule`'s sentences.
    ``found`` takes :func:`window_suppliers`'s results by basis when the caller has them
    already (``{basis: window_suppliers(deals, a, b, start, end, basis)}``), so they are not
    computed twice.
    """
    if found is None:
        found = {basis: window_suppliers(deals, a, b, start, end, basis) for basis in BASES}
    states = sorted(set().union(*(set(w["a"]) | set(w["b"]) for w in found.values())))

    def side(w: dict, state: str) -> str:
        in_a, in_b = state in w["a"], state in w["b"]
        return "both" if in_a and in_b else a if in_a else b if in_b else ""

    return pd.DataFrame({"state": states,
                         **{basis: [side(w, st) for st in states] for basis, w in found.items()}})


_DEAL_COLUMNS = ["supplier", "order_year", "number_ordered", "designation", "description",
                 "number_delivered", "delivery_years", "tiv_delivered", "comments"]


def us_deals_from(deals: pd.DataFrame, recipient: str = "Iraq", year: int = 2003,
                  supplier: str = "United States") -> pd.DataFrame:
    """``supplier``'s deals with ``recipient`` ordered in ``year`` or later, by order year."""
    sel = select_recipients(deals, recipient)
    sel = sel[(sel["supplier_state"] == supplier) & (sel["order_year"] >= year)]
    return sel.sort_values(["order_year", "designation"])[_DEAL_COLUMNS].reset_index(drop=True)


#: The kinds of order the report names, each as SIPRI's stable weapon category (the reader's
#: mapping of every release's descriptions) and, inside it, words every release's wording of the
#: kind contains ("FGA aircraft" in 2025 and "fighter/ground-attack aircraft" in 2026 both hold
#: "fighter" or "FGA"). A rewording that keeps the category but drops those words would need a
#: new alternative here; tests check both real releases give the same orders.
NAMED_ORDER_KINDS = {
    "tanks": ("armoured vehicles", r"(light )?tank"),
    "fighter aircraft": ("aircraft", r".*(fighter|FGA).*"),
    "portable air-defence missiles": ("missiles", r"portable .*"),
    "air-defence systems": ("air defence systems", r".*(SAM|surface-to-air missile|air-defence) system"),
}


def named_orders(deals: pd.DataFrame, recipient: str = "Iraq", start: int = 2011,
                 end: int = 2013) -> pd.DataFrame:
    """Orders by ``recipient`` in ``start..end`` of the kinds the report names (tanks, fighter
    aircraft, portable air-defence missiles, air-defence systems), with a ``kind`` column
    (:data:`NAMED_ORDER_KINDS`: a weapon category, then a pattern within it)."""
    sel = select_recipients(deals, recipient)
    sel = sel[sel["order_year"].between(start, end).fillna(False).astype(bool)]
    parts = []
    for kind, (category, pattern) in NAMED_ORDER_KINDS.items():
        hit = sel[(sel["category"] == category) & sel["description"].str.fullmatch(pattern, case=False)]
        parts.append(hit.assign(kind=kind))
    out = pd.concat(parts, ignore_index=True)
    return out[["kind"] + _DEAL_COLUMNS].sort_values(["kind", "order_year", "supplier"]).reset_index(drop=True)


# ----------------------------------------------------------------------------- paper trail


ALIASES_PATH = paths.RAW / "sipri_aliases.csv"
_ALIAS_COLUMNS = ["alias_id", "catalogue_pattern", "sipri_designation", "sipri_description", "notes"]


def load_aliases(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check the alias table (every regex compiles; ids unique)."""
    path = Path(path) if path is not None else ALIASES_PATH
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in _ALIAS_COLUMNS if c not in table.columns]
    if missing:
        raise AliasError(f"{path}: missing column(s) {missing}")
    for i, row in table.iterrows():
        for col in ("catalogue_pattern", "sipri_designation", "sipri_description"):
            if col != "sipri_description" and not row[col].strip():
                raise AliasError(f"{path}, row {i + 1}, column {col!r}: empty")
            try:
                re.compile(row[col])
            except re.error as exc:
                raise AliasError(f"{path}, row {i + 1}, column {col!r}: bad pattern {row[col]!r} ({exc})") from exc
    dup = table["alias_id"][table["alias_id"].duplicated()]
    if len(dup):
        raise AliasError(f"{path}: alias_id {dup.iloc[0]!r} repeated")
    return table


def trail_items(catalogue: pd.DataFrame, *, compact: bool = False) -> pd.DataFrame:
    """The catalogue items a paper trail looks at: ``record_id, item, category, count``.

    ``catalogue`` needs ``designation``; ``record_id`` (default ``row1, row2, ...``),
    ``category`` (default ``""``) and ``count`` (default 1) are used when present. An item id
    met twice is kept once (the first row). Only these columns are copied.

    With ``compact``, ``item`` and ``category`` are categoricals of the same texts (one string
    per distinct value, not one per row: at 10^6 rows ~150 MB less, see
    :func:`paper_trail_summary`); otherwise they are plain text.
    """
    n = len(catalogue)
    ids = (catalogue["record_id"].astype(str) if "record_id" in catalogue
           else pd.Series([f"row{i + 1}" for i in range(n)], index=catalogue.index))
    if compact:
        item = _text_categories(catalogue["designation"], None)
        category = (_text_categories(catalogue["category"], "") if "category" in catalogue
                    else pd.Categorical([""] * n))
        columns = {"record_id": ids.reset_index(drop=True), "item": item, "category": category}
    else:
        columns = {"record_id": ids.to_numpy(), "item": catalogue["designation"].astype(str).to_numpy(),
                   "category": (catalogue["category"].fillna("").astype(str).to_numpy() if "category" in catalogue
                                else [""] * n)}
    items = pd.DataFrame({**columns,
                          "count": (pd.to_numeric(catalogue["count"]).to_numpy() if "count" in catalogue else 1)})
    return items.drop_duplicates("record_id").reset_index(drop=True)


def _text_categories(values: pd.Series, missing: str | None) -> pd.Categorical:
    """``values`` as a categorical of their texts (``str`` of each), a missing value as
    ``missing`` (None: left missing): what ``values.astype(str)`` (``missing=None``) or
    ``values.fillna("").astype(str)`` (``missing=""``) hold, with one string per distinct value."""
    codes, uniques = pd.factorize(values.array if isinstance(values.dtype, pd.CategoricalDtype)
                                  else values.to_numpy(dtype=object), use_na_sentinel=True)
    texts = [str(u) for u in uniques]
    if missing is not None and (codes < 0).any():
        texts.append(missing)
        codes = np.where(codes < 0, len(texts) - 1, codes)
    inverse, merged = pd.factorize(pd.Index(texts, dtype=object))  # two values with one text (1 and "1") share it
    inverse = np.append(inverse, -1)  # a code -1 stays missing
    return pd.Categorical.from_codes(inverse[codes], categories=pd.Index(list(merged)))


def _trail(items: pd.DataFrame, deals: pd.DataFrame, aliases: pd.DataFrame,
           recipients: Sequence[str]) -> tuple[pd.DataFrame, pd.Series]:
    """(item_deals, reason): every distinct designation with each deal it matches, and the
    reason each item without any deal has none (indexed like ``items``; NaN for matched items).
    The aliases are searched once per distinct designation, not once per item, and a reason is
    worked out once per distinct designation and category."""
    item_aliases = _item_aliases(items["item"], aliases)
    alias_deals = _alias_deals(select_recipients(deals, recipients), aliases)
    item_deals = item_aliases.merge(alias_deals, on="alias_id")[["item", *TRAIL_DEAL_COLUMNS]]
    from takingstock.analysis.breakdowns import line_codes

    left = items.loc[~items["item"].isin(item_deals["item"]), ["item", "category"]]
    code, first = line_codes(left, ["item", "category"])
    pairs = left.iloc[first.to_numpy()]
    hit_ids = item_aliases.groupby("item", sort=False)["alias_id"].agg(", ".join)
    hits = pd.Series(pairs["item"].astype(object).to_numpy()).map(hit_ids)
    outside = pd.Series(pairs["category"].astype(object).to_numpy()).map(OUTSIDE_SIPRI_CATEGORIES)
    reason = outside.fillna(hits.map(lambda ids: f"alias {ids}: no SIPRI deal to {', '.join(recipients)}",
                                     na_action="ignore"))
    reason = reason.fillna("no alias in sipri_aliases.csv (model not given, or not a major conventional weapon)")
    return item_deals, pd.Series(reason.to_numpy(dtype=object)[code], index=left.index, dtype=object)


#: The columns of a matched SIPRI deal in the paper trail (after ``alias_id``).
TRAIL_DEAL_COLUMNS = ["alias_id", "recipient", "supplier", "order_year", "number_ordered", "designation",
                      "description", "number_delivered", "delivery_years"]


def paper_trail(catalogue: pd.DataFrame, deals: pd.DataFrame, aliases: pd.DataFrame,
                recipients: Sequence[str] = ("Iraq", "Syria")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Match catalogue items to SIPRI deals to ``recipients`` for the same weapon, item by item.

    Args:
        catalogue: needs ``designation``; uses ``record_id`` and ``category`` when present.
        deals: from ``read_register``.
        aliases: from :func:`load_aliases`.
        recipients: SIPRI recipients to search (SIPRI name or crosswalk state).

    Returns:
        (matches, unmatched). ``matches``: one row per catalogue item and SIPRI deal, with
        ``record_id, item, alias_id, recipient, supplier, order_year, number_ordered,
        designation, description, number_delivered, delivery_years``. ``unmatched``: one row
        per catalogue item without any deal, with ``record_id, item, category, reason``.
        :func:`paper_trail_summary` gives the same by designation (what notebook 04 saves).
    """
    items = trail_items(catalogue)
    item_deals, reason = _trail(items, deals, aliases, recipients)
    matches = (items[["record_id", "item"]].merge(item_deals, on="item")
               .sort_values(["record_id", "recipient", "order_year"], kind="stable")
               .reset_index(drop=True))
    unmatched = items.loc[reason.index, ["record_id", "item", "category"]].assign(reason=reason).reset_index(drop=True)
    return matches, unmatched


def paper_trail_summary(catalogue: pd.DataFrame, deals: pd.DataFrame, aliases: pd.DataFrame,
                        recipients: Sequence[str] = ("Iraq", "Syria"),
                        listed: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`paper_trail` by designation: what it finds, one line per explanation, at any size.

    Returns:
        (matches, unmatched). ``matches``: one row per catalogue designation and SIPRI deal,
        ``item, rows, count, record_ids`` (the catalogue rows of that designation, their
        units, the first ``listed`` record ids: :func:`takingstock.analysis.breakdowns.rows_by`) then
        the deal (:data:`TRAIL_DEAL_COLUMNS`), in the catalogue's order, then by recipient and
        order year. ``unmatched``: one row per designation, category and reason without any
        deal, ``item, category, reason, rows, count, record_ids``. Every item of
        :func:`paper_trail`'s lists is counted in exactly one line of ``unmatched``, or in
        every line of ``matches`` of its designation.
    """
    from takingstock.analysis import breakdowns
    listed = listed or breakdowns.LISTED_IDS
    items = trail_items(catalogue, compact=True)
    item_deals, reason = _trail(items, deals, aliases, recipients)
    matched = items[items["item"].isin(item_deals["item"])]
    by_item = _plain_text(breakdowns.rows_by(matched, ["item"], listed=listed), ["item"])
    matches = (by_item.merge(item_deals, on="item")
               .sort_values(["recipient", "order_year"], kind="stable")
               .sort_values("item", key=lambda s: s.map({k: i for i, k in enumerate(by_item["item"])}), kind="stable")
               .reset_index(drop=True))
    left = items.loc[reason.index].assign(reason=reason)
    unmatched = _plain_text(breakdowns.rows_by(left, ["item", "category", "reason"], listed=listed),
                            ["item", "category"])
    return matches, unmatched


def _plain_text(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame`` with its categorical ``columns`` as plain text (a summary has one row per value)."""
    return frame.assign(**{c: frame[c].astype(str) for c in columns})


def _item_aliases(designations: pd.Series, aliases: pd.DataFrame) -> pd.DataFrame:
    """``item, alias_id`` for every distinct designation and alias whose pattern it contains.

    Each pattern is searched once over the distinct designations (a catalogue of 10^6 items
    usually has far fewer), case-insensitively, in the alias table's order.
    """
    names = pd.Series(designations.unique(), dtype="string")
    parts = [pd.DataFrame({"item": names[names.str.contains(al.catalogue_pattern, case=False, regex=True)],
                           "alias_id": al.alias_id})
             for al in aliases.itertuples(index=False)]
    found = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["item", "alias_id"])
    return found.astype({"item": str})


def _alias_deals(pool: pd.DataFrame, aliases: pd.DataFrame) -> pd.DataFrame:
    """The deals each alias matches: SIPRI designation (and description, if given) in full."""
    parts = []
    for al in aliases.itertuples(index=False):
        m = pool["designation"].str.fullmatch(al.sipri_designation, case=False)
        if str(al.sipri_description).strip():
            m &= pool["description"].str.fullmatch(al.sipri_description, case=False)
        hit = pool[m.fillna(False).astype(bool)]
        parts.append(pd.DataFrame({
            "alias_id": al.alias_id, "recipient": hit["recipient"], "supplier": hit["supplier"],
            "order_year": hit["order_year"], "number_ordered": hit["number_ordered"],
            "designation": hit["designation"], "description": hit["description"],
            "number_delivered": hit["number_delivered"],
            "delivery_years": hit["delivery_years"].map(lambda ys: "; ".join(str(y) for y in ys)),
        }))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TRAIL_DEAL_COLUMNS)
