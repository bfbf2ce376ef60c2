"""What the changes between two SIPRI releases add up to: TIV per period and supplier, names and
descriptions reworded, the register's facts side by side, and the claims whose verdict moved.

Method
------
Every function here reads a :class:`takingstock.analysis.releases.Matching` (the deals of two
releases paired one to one) and its revisions (:func:`takingstock.analysis.releases.revisions`).

TIV by period uses :mod:`takingstock.analysis.supply` (delivered TIV spread evenly over the delivery
years, as notebooks 03 and 04 do). TIV is SIPRI's volume measure, not money; every comparison
here is ours, not SIPRI's.

Vocabulary: a name is *re-spelt* when only one release uses it and the other names the same
crosswalk state differently; a description is *renamed* when no deal of the new release uses
its old wording (:func:`renamed_descriptions`).

Claims (:func:`claims_that_moved`): the ledger computed on both releases; for each claim whose
verdict or value differs, the parts that moved (from the ledger) and the deals its computation
reads that were added, dropped or revised (:func:`deals_behind_claim`; the deals are named with
the TIV delivered by the whole deal, which may lie partly outside the claim's window).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from takingstock.data.periods import decade
from takingstock.analysis import supply
from takingstock.analysis.claims import release_columns
from takingstock.analysis.releases import TIV_TOLERANCE, Matching

def tiv_by_period_supplier(matching: Matching, recipients, periods: pd.DataFrame, n: int = 6) -> pd.DataFrame:
    """Delivered TIV to ``recipients`` by period and supplier in each release, and the change.

    The ``n`` suppliers with the most TIV over both releases keep their name; the rest are
    ``other``. Columns: ``period_id, period, supplier, tiv [<old>], tiv [<new>], change``
    (new minus old), in the periods' order.
    """
    a_col, b_col = f"tiv [{matching.old_label}]", f"tiv [{matching.new_label}]"
    a = supply.supplier_tiv_by_period(matching.old, recipients, periods, n=10**6).rename(columns={"tiv": a_col})
    b = supply.supplier_tiv_by_period(matching.new, recipients, periods, n=10**6).rename(columns={"tiv": b_col})
    both = a.merge(b, on=["period_id", "period", "supplier"], how="outer").fillna({a_col: 0.0, b_col: 0.0})
    totals = (both[a_col] + both[b_col]).groupby(both["supplier"]).sum().sort_values(ascending=False)
    top = [s for s in totals.index if s not in (supply.OTHER, supply.UNKNOWN)][:n]
    both["supplier"] = both["supplier"].where(both["supplier"].isin(top + [supply.UNKNOWN]), supply.OTHER)
    out = both.groupby(["period_id", "period", "supplier"], as_index=False, sort=False)[[a_col, b_col]].sum()
    out["change"] = _change(out[a_col], out[b_col])
    porder = {p: i for i, p in enumerate(periods["period_id"])}
    sorder = {s: i for i, s in enumerate(top + [supply.OTHER, supply.UNKNOWN])}
    out = out.assign(_p=out["period_id"].map(porder).fillna(len(porder)), _s=out["supplier"].map(sorder))
    return out.sort_values(["_p", "_s"]).drop(columns=["_p", "_s"]).reset_index(drop=True)


def _change(a: pd.Series, b: pd.Series) -> pd.Series:
    """``b - a``, with differences below :data:`TIV_TOLERANCE` shown as 0 (no ``-0.00``)."""
    d = b - a
    return d.where(d.abs() >= TIV_TOLERANCE, 0.0)


def period_totals(table: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """:func:`tiv_by_period_supplier` summed over suppliers: one row per period of
    ``periods`` (0 where neither release records a delivery, e.g. an embargo)."""
    cols = [c for c in table.columns if c.startswith("tiv [")]
    frame = periods[["period_id", "label"]].rename(columns={"label": "period"}).astype(str)
    sums = table.groupby(["period_id", "period"], as_index=False, sort=False)[cols].sum()
    out = frame.merge(sums, on=["period_id", "period"], how="outer", sort=False).fillna({c: 0.0 for c in cols})
    order = {p: i for i, p in enumerate(frame["period_id"])}
    out = (out.assign(_o=out["period_id"].map(order).fillna(len(order)))
           .sort_values("_o", kind="stable").drop(columns="_o"))
    out["change"] = _change(out[cols[0]], out[cols[1]])
    return out.reset_index(drop=True)


def tiv_by_decade(matching: Matching) -> pd.DataFrame:
    """Delivered TIV of the whole of each release per decade of delivery, and the change."""
    cols = []
    for deals, label in ((matching.old, matching.old_label), (matching.new, matching.new_label)):
        rec = supply.yearly_records(deals, "delivery")
        col = f"tiv [{label}]"
        cols.append(rec.groupby(decade(rec["year"]).astype(str).to_numpy())["tiv"].sum().rename(col))
    out = pd.concat(cols, axis=1).fillna(0.0).sort_index()
    out.index.name = "decade"
    out = out.reset_index()
    out["change"] = _change(out.iloc[:, 1], out.iloc[:, 2])
    return out


# ----------------------------------------------------------------------------- names


def _names(deals: pd.DataFrame, who: str) -> pd.DataFrame:
    return deals[[who, f"{who}_state"]].drop_duplicates().rename(columns={who: "name", f"{who}_state": "state"})


def name_changes(matching: Matching) -> pd.DataFrame:
    """Recipient and supplier names found in one release only.

    Columns: ``role`` (recipient or supplier), ``name``, ``state`` (the crosswalk's), ``in``
    (the release that has it), ``change``: ``re-spelt`` when the other release names the same
    state differently (the spelling changed), else ``added`` or ``dropped`` (the party itself
    appears or disappears).
    """
    rows = []
    for who in ("recipient", "supplier"):
        a, b = _names(matching.old, who), _names(matching.new, who)
        for mine, other, label, kind in ((a, b, matching.old_label, "dropped"), (b, a, matching.new_label, "added")):
            only = mine[~mine["name"].isin(set(other["name"]))]
            for r in only.itertuples():
                spelt = sorted(set(other.loc[other["state"] == r.state, "name"]))
                rows.append({"role": who, "name": r.name, "state": r.state, "in": label,
                             "change": "re-spelt" if spelt else kind,
                             "other spelling": ", ".join(spelt)})
    out = pd.DataFrame(rows, columns=["role", "name", "state", "in", "change", "other spelling"])
    return out.sort_values(["role", "change", "state", "in"]).reset_index(drop=True)


def renamed_descriptions(matching: Matching) -> pd.DataFrame:
    """Weapon descriptions that changed between the releases, from the matched deals.

    Each distinct (old wording, new wording) pair among matched deals, with its category and
    number of deals, and ``kind``:

    * ``renamed`` - the old wording is used by no deal of the new release (SIPRI retired it)
      and this new wording is the one most of its matched deals now carry: a change of
      vocabulary (``APC`` -> ``armoured personnel carrier``). One per retired wording.
    * ``re-described`` - any other pair: some deals of a wording got another description
      (a second destination of a retired wording, or a wording still in use).

    A change of case or blanks counts (SIPRI's text changed). Columns: ``was, now, category,
    deals, kind``; renamed first, most deals first.
    """
    p = matching.pairs
    was = matching.old.loc[p["old"], "description"].to_numpy()
    now = matching.new.loc[p["new"], "description"].to_numpy()
    cat = matching.new.loc[p["new"], "category"].to_numpy()
    d = pd.DataFrame({"was": was, "now": now, "category": cat})
    d = d[d["was"] != d["now"]]
    out = d.groupby(["was", "now", "category"], as_index=False).size().rename(columns={"size": "deals"})
    out = out.sort_values(["deals", "was", "now"], ascending=[False, True, True]).reset_index(drop=True)
    retired = ~out["was"].isin(set(matching.new["description"]))
    main = ~out.duplicated("was")
    out["kind"] = (retired & main).map({True: "renamed", False: "re-described"})
    return out.sort_values("kind", key=lambda k: k.map({"renamed": 0, "re-described": 1}),
                           kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- the register as a whole


def register_facts(matching: Matching) -> pd.DataFrame:
    """Whole-register facts of each release, as text: deals, recipients, suppliers (names as
    written), designations, weapon descriptions, deals with no delivery yet, delivered TIV,
    the latest order year. Columns ``fact, <old>, <new>, change``."""
    def facts(d: pd.DataFrame) -> dict:
        return {"deals": len(d), "recipients (names)": d["recipient"].nunique(),
                "suppliers (names)": d["supplier"].nunique(), "designations": d["designation"].nunique(),
                "weapon descriptions": d["description"].nunique(),
                "deals with no delivery yet": int((d["n_delivery_years"] == 0).sum()),
                "TIV delivered (millions; not money)": float(d["tiv_delivered"].fillna(0).sum()),
                "latest order year": int(d["order_year"].max()) if d["order_year"].notna().any() else None}

    def text(v, year: bool = False) -> str:
        if v is None:
            return "—"
        return str(v) if year else (f"{v:,.1f}" if isinstance(v, float) else f"{v:,}")

    a, b = facts(matching.old), facts(matching.new)
    rows = []
    for k in a:
        va, vb = a[k], b[k]
        change = None if va is None or vb is None else vb - va
        as_text = (lambda v: text(v, year=True)) if k == "latest order year" else text
        rows.append({"fact": k, matching.old_label: as_text(va), matching.new_label: as_text(vb),
                     "change": "—" if change is None else
                     (f"{change:+,.1f}" if isinstance(change, float) else f"{change:+,}")})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- claims


_CLAIM_FIELDS = ("order year", "number ordered", "number delivered", "delivery years", "TIV delivered",
                 "TIV of the order")


def _windows(params: dict) -> list[tuple[int, int]]:
    return [(int(params[k][0]), int(params[k][1])) for k in ("years", "baseline", "span") if k in params]


def _in_scope(deals: pd.DataFrame, params: dict) -> pd.Series:
    """Deals a claim's computation can see: its recipient(s), supplier and weapon, with an
    order or delivery year in one of its windows (all deals of the recipient without a window)."""
    names = [params[k] for k in ("recipient", "other") if k in params]
    mask = supply.select_recipients(deals, names).index if names else deals.index
    keep = deals.index.isin(mask)
    at = np.flatnonzero(keep)  # the other tests read the recipient's deals only (not the whole register)
    sel, ok = deals.iloc[at], np.ones(len(at), dtype=bool)
    if "supplier" in params:
        ok &= (sel["supplier_state"] == params["supplier"]).to_numpy()
    if "designation" in params:
        ok &= sel["designation"].astype(str).str.contains(params["designation"], case=False, regex=True).to_numpy()
    wins = _windows(params)
    if wins:
        ok &= _year_in_windows(sel, wins)
    keep[at[~ok]] = False
    return pd.Series(keep, index=deals.index)


def _year_in_windows(deals: pd.DataFrame, wins: list[tuple[int, int]]) -> np.ndarray:
    """Per deal: whether its order year or one of its delivery years is in one of ``wins``."""
    position = pd.RangeIndex(len(deals))
    years = pd.concat([
        pd.Series(deals["delivery_years"].to_numpy(), index=position).explode(),
        pd.Series(deals["order_year"].to_numpy(), index=position),
    ]).dropna().astype("float64")
    inside = np.zeros(len(years), dtype=bool)
    for a, b in wins:
        inside |= ((years >= a) & (years <= b)).to_numpy()
    hits = np.zeros(len(deals), dtype=bool)
    hits[years.index[inside].to_numpy(dtype="int64")] = True
    return hits


def _deal_name(r) -> str:
    year = int(r["order_year"]) if pd.notna(r["order_year"]) else "?"
    n = int(r["number_ordered"]) if pd.notna(r["number_ordered"]) else "?"
    return f"{n} {r['designation']} from {r['supplier']} to {r['recipient']} (ordered {year})"


def _tiv(r) -> float:
    return float(r["tiv_delivered"]) if pd.notna(r["tiv_delivered"]) else 0.0


def deals_behind_claim(claim_params: dict, matching: Matching, revs: pd.DataFrame) -> pd.DataFrame:
    """The deals a claim's computation reads (:func:`_in_scope` in either release) that were
    added, dropped or revised in a field that can move a value (:data:`_CLAIM_FIELDS`: order
    year, numbers, delivery years, TIV; the category is part of every match key, so a reworded
    description cannot move a claim).

    Columns: ``change`` (added, dropped, revised), ``deal`` (in words), ``fields`` (revised
    ones, ``was -> now``), ``tiv_change`` (TIV delivered by the whole deal, new minus old), largest first.
    """
    old_in = _in_scope(matching.old, claim_params)
    new_in = _in_scope(matching.new, claim_params)
    pairs = matching.pairs
    rows = []
    for r in matching.dropped[old_in.loc[matching.dropped.index]].to_dict("records"):
        rows.append({"change": "dropped", "deal": _deal_name(r), "fields": "", "tiv_change": -_tiv(r)})
    for r in matching.added[new_in.loc[matching.added.index]].to_dict("records"):
        rows.append({"change": "added", "deal": _deal_name(r), "fields": "", "tiv_change": _tiv(r)})
    rel = revs[revs["field"].isin(_CLAIM_FIELDS)]
    seen = pairs[(pairs["old"].map(old_in) | pairs["new"].map(new_in))]
    rel = rel[rel["new"].isin(seen["new"])]
    for (i, j), part in rel.groupby(["old", "new"], sort=False):
        o, n = matching.old.loc[i], matching.new.loc[j]
        fields = "; ".join(f"{f} {w} -> {v}" for f, w, v in zip(part["field"], part["was"], part["now"]))
        rows.append({"change": "revised", "deal": _deal_name(n), "fields": fields, "tiv_change": _tiv(n) - _tiv(o)})
    out = pd.DataFrame(rows, columns=["change", "deal", "fields", "tiv_change"])
    order = out["tiv_change"].abs().sort_values(ascending=False, kind="stable").index
    return out.reindex(order).reset_index(drop=True)


def deal_sentence(behind: pd.DataFrame, top: int = 3) -> str:
    """One sentence naming the deals that moved a claim: counts per kind of change, then the
    ``top`` deals with the largest TIV change (and what was revised in them)."""
    if behind.empty:
        return ("No deal the computation reads was added, dropped or revised in its order year, numbers, "
                "deliveries, TIV or description: the move comes from elsewhere (e.g. other recipients' deals "
                "in a world total, or a supplier's re-spelt name).")
    counts = behind["change"].value_counts()
    head = ", ".join(f"{int(counts[k])} {k}" for k in ("added", "dropped", "revised") if k in counts)
    named = []
    for r in behind.head(top).itertuples():
        what = f"{r.change}: {r.deal}"
        if r.fields:
            what += f" ({r.fields})"
        if abs(r.tiv_change) >= TIV_TOLERANCE:
            what += f", {r.tiv_change:+,.1f} TIV delivered"
        named.append(what)
    more = f"; and {len(behind) - top} more" if len(behind) > top else ""
    return f"Deals behind the move: {head}. Largest: " + "; ".join(named) + more + "."


def claims_that_moved(ledger: pd.DataFrame, claims: list, matching: Matching, revs: pd.DataFrame) -> pd.DataFrame:
    """Claims whose verdict or computed value differs between the two releases.

    Args:
        ledger: ``claims.evaluate_releases(claims, [ctx_new, ctx_old])`` (newest first), whose
            release labels are the matching's labels.
        claims: the claims evaluated (for their params).
        matching, revs: :func:`match_deals` on the whole releases and its :func:`revisions`.

    Returns:
        ``id, claim, stated, computed [<old>], verdict [<old>], computed [<new>], verdict [<new>],
        parts, deals`` where ``parts`` is the ledger's explanation from the computations' parts
        and ``deals`` is :func:`deal_sentence` of :func:`deals_behind_claim`.
    """
    co, vo = release_columns(matching.old_label)
    cn, vn = release_columns(matching.new_label)
    moved = ledger[(ledger[co] != ledger[cn]) | (ledger[vo] != ledger[vn])]
    params = {c.id: c.params for c in claims}
    rows = []
    for r in moved.to_dict("records"):
        rows.append({"id": r["id"], "claim": r["claim"], "stated": r["stated"], co: r[co], vo: r[vo],
                     cn: r[cn], vn: r[vn], "parts": _parts_only(r["across_releases"]),
                     "deals": deal_sentence(deals_behind_claim(params[r["id"]], matching, revs))})
    return pd.DataFrame(rows, columns=["id", "claim", "stated", co, vo, cn, vn, "parts", "deals"])


def _parts_only(across: str) -> str:
    """The ledger's ``across_releases`` note without its leading restatement of both values."""
    m = re.search(r"\. (Moved by: .*|Not checkable in .*|Same parts.*)$", str(across))
    return m.group(1) if m else str(across)


# ----------------------------------------------------------------------------- the whole comparison


def change_alt(table: pd.DataFrame, who: str) -> str:
    """Alt text of :func:`takingstock.report.charts.release_changes`: the change per period and its largest supplier part."""
    cols = [c for c in table.columns if c.startswith("tiv [")]
    old, new = (c[len("tiv ["):-1] for c in cols)
    bits = []
    for period, part in table.groupby("period", sort=False):
        total = part["change"].sum()
        top = part.reindex(part["change"].abs().sort_values(ascending=False).index).iloc[0]
        bits.append(f"{period}: {total:+,.1f}" + (f" (largest: {top['supplier']} {top['change']:+,.1f})"
                                                  if abs(top["change"]) >= TIV_TOLERANCE else ""))
    return (f"Bar chart of the change in SIPRI trend-indicator value (a volume measure, not money) delivered "
            f"to {who} per period, from the release of {old} to that of {new}, split by supplier. "
            + "; ".join(bits) + ".")
