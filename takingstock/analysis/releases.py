"""What changed between two SIPRI releases: deals matched, added, dropped and revised.

Method
------
SIPRI revises its whole Arms Transfers Database every spring. Its exports carry **no deal
identifier**, so the same deal has to be recognised in two releases from what it says. The rule
(:func:`match_deals`) pairs deals one to one, level by level; each level only looks at the
deals that the levels before it left unpaired:

1. ``identical`` - every field :func:`revisions` compares is the same (recipient and supplier
   as written, order year, numbers, designation, description, delivery years, status,
   comments, the three TIVs and the ``?`` flags).
2. ``same key`` - same recipient and supplier (the crosswalk's states, so a re-spelt name still
   matches), order year, designation key (``sipri.normalise_designation``: ``F-16C Block-50/52``
   = ``F-16C Block-50``), number ordered and SIPRI weapon category (``sipri.weapon_category``,
   stable across rewordings such as ``portable SAM`` -> ``portable surface-to-air missile``).
   Anything else (delivery years, TIV, status, description wording, comments) may differ.
3. ``number revised`` - as 2 without the number ordered.
4. ``re-dated`` - as 2 without the order year, which may move by at most
   :data:`REDATE_YEARS` years.
5. ``re-designated`` - same recipient and supplier states, order year, number ordered,
   category and delivery years, and designations that look alike
   (:func:`designations_alike`: ``Mi-24D/Mi-25`` -> ``Mi-24D``, ``SA-316B Alouette-3`` ->
   ``SA-316 Alouette-3``).

Where a level offers several pairings, the closest is taken first: smallest change of order
year, then of number ordered, then of TIV of the order and TIV delivered, then the order of
the rows in the files. An empty cell (an order year or a number not known) matches an empty
cell. Deals of the old release left unpaired are **dropped**, of the new one **added**.
:meth:`Matching.level_counts` reports each level's count and both unmatched counts.

Limits: a deal re-designated beyond recognition (``Mi-24`` -> ``Mi-35``, no shared word), whose
category changed (its description moved to another SIPRI category), whose recipient or
supplier changed state, or whose order year *and* number both changed shows as one dropped
and one added deal. Two deals alike on every key (two orders of the same number of the same
weapon in the same year) may be paired crosswise; their revisions are then those of the
crosswise pair. A deal SIPRI split or merged shows as a revised number plus an added or
dropped deal. Measured on the releases of 2025-03-13 and 2026-05-18: see ``docs/sipri.md``.

Revisions (:func:`revisions`) compare a matched pair field by field (:data:`REVISION_FIELDS`:
order year, numbers, delivery years, the three TIVs, status, description, designation,
the ``?`` flags, comments, recipient and supplier spellings); TIVs differ when they differ by
more than :data:`TIV_TOLERANCE`.

Which releases (:func:`choose_releases`): the two newest distinct release dates stated in the
preambles of the exports at hand (for one date, the largest file), unless files are given; a
file without a `Data generated:` line is never chosen by default. Fewer than two: a sentence
saying so, and nothing is compared.

Vocabulary: a name is *re-spelt* when only one release uses it and the other names the same
crosswalk state differently; a description is *renamed* when no deal of the new release uses
its old wording (:func:`renamed_descriptions`).

Claims (:func:`claims_that_moved`): the ledger computed on both releases; for each claim whose
verdict or value differs, the parts that moved (from the ledger) and the deals its computation
reads that were added, dropped or revised (:func:`deals_behind_claim`; the deals are named with
the TIV delivered by the whole deal, which may lie partly outside the claim's window).

TIV by period uses :mod:`takingstock.analysis.supply` (delivered TIV spread evenly over the delivery
years, as notebooks 03 and 04 do). TIV is SIPRI's volume measure, not money; every comparison
here is ours, not SIPRI's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from takingstock.core import paths
from takingstock.data import sipri
from takingstock.analysis import supply
from takingstock.analysis.eras import decade

__all__ = [
    "MATCH_LEVELS", "REDATE_YEARS", "REVISION_FIELDS", "SUBSTANTIVE_FIELDS", "Comparison", "compare",
    "release_labels", "change_figure", "change_alt", "TIV_TOLERANCE", "MatchLevel", "Matching",
    "ReleaseChoice", "choose_releases", "designations_alike", "match_deals", "revisions", "revision_counts",
    "revised_deals", "deal_list", "tiv_by_period_supplier", "period_totals", "name_changes",
    "renamed_descriptions", "register_facts", "tiv_by_decade", "claims_that_moved",
    "deals_behind_claim", "deal_sentence",
]

#: How far (years) a deal's order year may move and still be matched at the ``re-dated`` level.
REDATE_YEARS = 3
#: TIVs closer than this (millions of TIV) count as unchanged (SIPRI rounds to 0.01).
TIV_TOLERANCE = 0.005

_WHO = ("recipient_state", "supplier_state")


#: Fields compared in a matched pair: (label, columns). A field differs when any column does.
REVISION_FIELDS = (
    ("order year", ("order_year",)),
    ("number ordered", ("number_ordered",)),
    ("number delivered", ("number_delivered",)),
    ("delivery years", ("delivery_years",)),
    ("TIV per unit", ("tiv_per_unit",)),
    ("TIV of the order", ("tiv_order",)),
    ("TIV delivered", ("tiv_delivered",)),
    ("status", ("status",)),
    ("description", ("description",)),
    ("designation", ("designation",)),
    ("uncertainty flags", ("order_year_uncertain", "number_ordered_uncertain", "number_delivered_uncertain")),
    ("comments", ("comments",)),
    ("recipient spelling", ("recipient",)),
    ("supplier spelling", ("supplier",)),
)
#: Every column a revision looks at: a pair equal in all of them is ``identical``.
_ALL_FIELDS = tuple(c for _, cols in REVISION_FIELDS for c in cols)


@dataclass(frozen=True)
class MatchLevel:
    """One level of the matching rule: its name, the columns that must be equal, and what
    it allows to differ (in words, for tables and the README)."""

    name: str
    keys: tuple[str, ...]
    allows: str


#: The matching rule, level by level (see the module docstring).
MATCH_LEVELS = (
    MatchLevel("identical", _ALL_FIELDS, "nothing"),
    MatchLevel("same key", (*_WHO, "order_year", "designation_key", "number_ordered", "category"),
               "deliveries, TIV, status, wording, comments"),
    MatchLevel("number revised", (*_WHO, "order_year", "designation_key", "category"),
               "also the number ordered"),
    MatchLevel("re-dated", (*_WHO, "designation_key", "number_ordered", "category"),
               f"also the order year (by up to {REDATE_YEARS} years)"),
    MatchLevel("re-designated", (*_WHO, "order_year", "number_ordered", "category", "delivery_years"),
               "the designation, when alike (a shared word or the same first 4 characters)"),
)

_TIV_COLUMNS = {"tiv_per_unit", "tiv_order", "tiv_delivered"}
#: The fields whose revision changes what a deal says was ordered or delivered (the table of
#: revised deals shows these; wording, flags, comments and spellings are counted apart).
SUBSTANTIVE_FIELDS = ("order year", "number ordered", "number delivered", "delivery years", "TIV per unit",
                      "TIV of the order", "TIV delivered", "status", "designation")


# ----------------------------------------------------------------------------- choosing releases


@dataclass
class ReleaseChoice:
    """The two exports to compare, or why there are not two.

    Attributes:
        old, new: the exports (``None`` when fewer than two releases are at hand).
        reason: ``""`` when both are there, else the sentence the notebook prints.
        at_hand: every export looked at, with its release date (``None`` without a
            `Data generated:` line).
    """

    old: Path | None
    new: Path | None
    reason: str = ""
    at_hand: list[tuple[Path, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.old is not None and self.new is not None


def choose_releases(registers: Sequence[str | Path], old_file: str | Path = "",
                    new_file: str | Path = "", folder: str | Path | None = None) -> ReleaseChoice:
    """The two exports to compare: the files given, else the two newest releases at hand.

    Args:
        registers: the exports at hand (``RunContext.registers``: the run context chooses
            them, newest release first).
        old_file, new_file: exports named by the notebook's parameters (``""`` = choose).
        folder: where the exports are looked for, named in the sentence when there are too few.

    Default: among ``registers`` whose preamble states a release date
    (``sipri.read_release_date``, the preamble only), the two newest distinct dates; for one
    date with several exports, the largest file (the whole register before a subset). A file
    given fills its side; the other side is the newest (or second newest) other release.

    Raises:
        FileNotFoundError: a file given is not there.
        takingstock.data.sipri.SipriFormatError: a file is not a SIPRI export.
    """
    for given in (old_file, new_file):
        if str(given) and not Path(given).is_file():
            raise FileNotFoundError(f"no SIPRI export at {given}")
    files = [Path(p) for p in registers]
    folder = folder or (files[0].parent if files else "the SIPRI folder")
    given = [Path(p) for p in (old_file, new_file) if str(p)]
    at_hand = [(p, sipri.read_release_date(p)) for p in dict.fromkeys([*given, *files])]
    dated = sorted(((d, p.stat().st_size, p) for p, d in at_hand if d is not None), reverse=True)
    best: dict = {}
    for d, _, p in dated:
        best.setdefault(d, p)
    by_date = sorted(best.items(), reverse=True)
    date_of = dict(at_hand)
    if str(old_file) and str(new_file):
        old, new = Path(old_file), Path(new_file)
    elif str(new_file):
        new = Path(new_file)
        others = [p for d, p in by_date if d != date_of[new] and (date_of[new] is None or d < date_of[new])]
        old = others[0] if others else None
    elif str(old_file):
        old = Path(old_file)
        others = [p for d, p in by_date if d != date_of[old] and (date_of[old] is None or d > date_of[old])]
        new = others[0] if others else None
    else:
        new = by_date[0][1] if by_date else None
        old = by_date[1][1] if len(by_date) > 1 else None
    if old is None or new is None:
        undated = [p.name for p, d in at_hand if d is None]
        seen = "; ".join(f"{d.isoformat()} ({p.name})" for d, p in by_date) or "none"
        reason = (f"Fewer than two SIPRI releases at hand in {folder} (releases found: {seen}"
                  + (f"; without a release date in their preamble: {', '.join(undated)}" if undated else "")
                  + "): there is nothing to compare, so this step is skipped. Place a second release's "
                  "export in that folder, or pass -p releases.old_release_file PATH.")
        return ReleaseChoice(None, None, reason, at_hand)
    if old.resolve() == new.resolve():
        raise ValueError(f"old_release_file and new_release_file are the same file: {old}")
    return ReleaseChoice(old, new, "", at_hand)


# ----------------------------------------------------------------------------- matching


@dataclass
class Matching:
    """Two releases' deals and how they pair.

    Attributes:
        old, new: the deals of each release (``Register.deals``), indexed ``0..n-1``.
        pairs: one row per matched pair: ``old`` and ``new`` (row positions), ``level``.
        old_label, new_label: how the releases are named in tables (e.g. ``2025-03-13``).
    """

    old: pd.DataFrame
    new: pd.DataFrame
    pairs: pd.DataFrame
    old_label: str = "old"
    new_label: str = "new"

    @property
    def dropped(self) -> pd.DataFrame:
        """Deals of the old release with no partner in the new one."""
        return self.old.drop(index=self.pairs["old"])

    @property
    def added(self) -> pd.DataFrame:
        """Deals of the new release with no partner in the old one."""
        return self.new.drop(index=self.pairs["new"])

    def subset(self, recipients: Iterable[str] | str) -> "Matching":
        """The same matching restricted to deals to ``recipients`` (SIPRI names or states).

        Recipient is part of every level's key, so this equals matching those deals alone."""
        old = supply.select_recipients(self.old, recipients)
        new = supply.select_recipients(self.new, recipients)
        keep = self.pairs["old"].isin(old.index) & self.pairs["new"].isin(new.index)
        return Matching(old, new, self.pairs[keep].reset_index(drop=True), self.old_label, self.new_label)

    def level_counts(self) -> pd.DataFrame:
        """Deals matched at each level, then the unmatched of each side:
        ``rule, matches, allowed to differ``; the counts add up to each release's deals."""
        got = self.pairs["level"].value_counts()
        rows = [{"rule": lv.name, "deals": int(got.get(lv.name, 0)), "allowed to differ": lv.allows}
                for lv in MATCH_LEVELS]
        rows.append({"rule": f"unmatched in {self.old_label} (dropped)", "deals": len(self.dropped),
                     "allowed to differ": ""})
        rows.append({"rule": f"unmatched in {self.new_label} (added)", "deals": len(self.added),
                     "allowed to differ": ""})
        return pd.DataFrame(rows)


def _key_frame(deals: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """The key columns as plain objects (``<NA>`` as one marker) so that empty matches empty."""
    out = pd.DataFrame(index=deals.index)
    for k in keys:
        col = deals[k]
        out[k] = col.astype(object).where(col.notna(), "<empty>").astype(str)
    return out


def _closeness(old: pd.DataFrame, new: pd.DataFrame, cand: pd.DataFrame) -> pd.DataFrame:
    """Sort candidate pairs, closest first (the order the module docstring gives)."""
    o, n = old.loc[cand["old"]], new.loc[cand["new"]]

    def gap(col: str) -> pd.Series:
        a = pd.to_numeric(o[col], errors="coerce").astype("float64").to_numpy()
        b = pd.to_numeric(n[col], errors="coerce").astype("float64").to_numpy()
        d = pd.Series(abs(a - b), index=cand.index)
        return d.fillna(1e12)

    cand = cand.assign(_y=gap("order_year"), _n=gap("number_ordered"), _t=gap("tiv_order"),
                       _d=gap("tiv_delivered"))
    return cand.sort_values(["_y", "_n", "_t", "_d", "old", "new"], kind="stable")


_TOKEN_SPLIT_RE = re.compile(r"[^0-9a-z]+")


def designations_alike(a: str, b: str) -> bool:
    """Whether two designation keys (``sipri.normalise_designation``) plausibly name one weapon:
    they share a word of at least 3 characters holding a letter (``sa316b alouette3`` and
    ``sa316 alouette3``; ``96k9 pantsyr-s1`` and ``pantsyr-s1``), or, with every separator
    removed, start with the same 4 characters (``swiftships35`` and ``swiftships35m``)."""
    ta = {t for t in _TOKEN_SPLIT_RE.split(str(a)) if len(t) >= 3 and re.search("[a-z]", t)}
    tb = {t for t in _TOKEN_SPLIT_RE.split(str(b)) if len(t) >= 3 and re.search("[a-z]", t)}
    if ta & tb:
        return True
    fa, fb = _TOKEN_SPLIT_RE.sub("", str(a)), _TOKEN_SPLIT_RE.sub("", str(b))
    return len(fa) >= 4 and fa[:4] == fb[:4]


def _pair_level(old: pd.DataFrame, new: pd.DataFrame, level: MatchLevel) -> pd.DataFrame:
    """One-to-one pairs of ``old`` and ``new`` rows (still unpaired) at one level."""
    if old.empty or new.empty:
        return pd.DataFrame({"old": pd.Series(dtype="int64"), "new": pd.Series(dtype="int64")})
    a = _key_frame(old, level.keys).reset_index(names="old")
    b = _key_frame(new, level.keys).reset_index(names="new")
    cand = a.merge(b, on=list(level.keys))[["old", "new"]]
    if level.name == "re-dated" and len(cand):
        ya = pd.to_numeric(old.loc[cand["old"], "order_year"], errors="coerce").to_numpy(dtype="float64")
        yb = pd.to_numeric(new.loc[cand["new"], "order_year"], errors="coerce").to_numpy(dtype="float64")
        cand = cand[abs(ya - yb) <= REDATE_YEARS]
    if level.name == "re-designated" and len(cand):
        alike = [designations_alike(x, y) for x, y in zip(old.loc[cand["old"], "designation_key"],
                                                          new.loc[cand["new"], "designation_key"])]
        cand = cand[alike]
    cand = _closeness(old, new, cand)
    used_o, used_n, rows = set(), set(), []
    for i, j in zip(cand["old"].tolist(), cand["new"].tolist()):
        if i not in used_o and j not in used_n:
            used_o.add(i)
            used_n.add(j)
            rows.append((i, j))
    return pd.DataFrame(rows, columns=["old", "new"], dtype="int64")


def match_deals(old: pd.DataFrame, new: pd.DataFrame, old_label: str = "old",
                new_label: str = "new") -> Matching:
    """Pair the deals of two releases by :data:`MATCH_LEVELS` (rule in the module docstring).

    Args:
        old, new: ``Register.deals`` of the older and the newer release (or any subset of
            them: matching is within recipient, so a subset of recipients gives the same pairs).
        old_label, new_label: names of the releases in tables.
    """
    old = old.reset_index(drop=True)
    new = new.reset_index(drop=True)
    found = []
    left_o, left_n = old, new
    for level in MATCH_LEVELS:
        got = _pair_level(left_o, left_n, level)
        found.append(got.assign(level=level.name))
        left_o = left_o.drop(index=got["old"])
        left_n = left_n.drop(index=got["new"])
    pairs = pd.concat(found, ignore_index=True)
    pairs["level"] = pairs["level"].astype(str)
    return Matching(old, new, pairs, old_label, new_label)


# ----------------------------------------------------------------------------- revisions


def _differs(a: pd.Series, b: pd.Series, column: str) -> pd.Series:
    """Row by row, whether two aligned columns differ (TIVs beyond :data:`TIV_TOLERANCE`;
    empty equals empty; delivery years compared as lists)."""
    if column == "delivery_years":
        return pd.Series([list(x) != list(y) for x, y in zip(a, b)], index=a.index, dtype=bool)
    na, nb = a.isna().to_numpy(), b.isna().to_numpy()
    if column in _TIV_COLUMNS:
        diff = (a.astype("float64") - b.astype("float64")).abs().to_numpy() > TIV_TOLERANCE
    else:
        filled_a = a.astype(object).where(~a.isna(), "").to_numpy()
        filled_b = b.astype(object).where(~b.isna(), "").to_numpy()
        diff = filled_a != filled_b
    return pd.Series(((na != nb) | (~na & ~nb & diff)), index=a.index, dtype=bool)


def _show(value: object) -> str:
    """A cell value as text for a revision table (``—`` for empty)."""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value) or "—"
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "?" if value else "sure"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def revisions(matching: Matching) -> pd.DataFrame:
    """Every field that differs in a matched pair: one row per pair and field.

    Columns: ``old``, ``new`` (row positions), ``level``, ``field`` (a label of
    :data:`REVISION_FIELDS`), ``was``, ``now`` (the values as text; the three ``?`` flags are
    shown as ``?`` or ``sure`` each, joined with ``/``).
    """
    pairs = matching.pairs[matching.pairs["level"] != "identical"].reset_index(drop=True)
    o = matching.old.loc[pairs["old"]].reset_index(drop=True)
    n = matching.new.loc[pairs["new"]].reset_index(drop=True)
    parts = []
    for label, cols in REVISION_FIELDS:
        mask = pd.Series(False, index=pairs.index)
        for c in cols:
            mask |= _differs(o[c], n[c], c)
        if not mask.any():
            continue
        idx = mask[mask].index
        # whole columns at once (a cell-by-cell lookup took seconds on a full register)
        was = [" / ".join(_show(v) for v in row) for row in zip(*(o.loc[idx, c].tolist() for c in cols))]
        now = [" / ".join(_show(v) for v in row) for row in zip(*(n.loc[idx, c].tolist() for c in cols))]
        parts.append(pd.DataFrame({"old": pairs.loc[idx, "old"].to_numpy(), "new": pairs.loc[idx, "new"].to_numpy(),
                                   "level": pairs.loc[idx, "level"].to_numpy(), "field": label,
                                   "was": was, "now": now}))
    if not parts:
        return pd.DataFrame(columns=["old", "new", "level", "field", "was", "now"])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["new"], kind="stable").reset_index(drop=True)


def revision_counts(matching: Matching, revs: pd.DataFrame) -> pd.DataFrame:
    """Matched deals revised in each field (``field, deals``, every field listed, in
    :data:`REVISION_FIELDS` order), then ``any field`` and ``unchanged``."""
    per = revs.groupby("field")["new"].nunique() if len(revs) else pd.Series(dtype="int64")
    rows = [{"field": label, "deals": int(per.get(label, 0))} for label, _ in REVISION_FIELDS]
    revised = revs["new"].nunique() if len(revs) else 0
    rows.append({"field": "any field", "deals": int(revised)})
    rows.append({"field": "unchanged", "deals": int(len(matching.pairs) - revised)})
    return pd.DataFrame(rows)


_DEAL_COLUMNS = ["recipient", "supplier", "order_year", "number_ordered", "designation",
                 "description", "category", "delivery_years", "tiv_delivered"]


def deal_list(deals: pd.DataFrame) -> pd.DataFrame:
    """Deals as a table a reader can scan (years as text, sorted by order year, supplier)."""
    out = deals[_DEAL_COLUMNS].copy()
    out["delivery_years"] = out["delivery_years"].map(_show)
    return out.sort_values(["recipient", "order_year", "supplier", "designation"],
                           na_position="last").reset_index(drop=True)


def revised_deals(matching: Matching, revs: pd.DataFrame, fields: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per revised matched deal: who, what (the new release's values), the level it
    was matched at, and ``changes`` (``field: was -> now`` for each field that differs).

    ``fields`` limits the fields shown (e.g. without ``comments``); a deal with none of them
    changed is left out.
    """
    part = revs if fields is None else revs[revs["field"].isin(list(fields))]
    if part.empty:
        return pd.DataFrame(columns=["recipient", "supplier", "order_year", "designation", "level", "changes"])
    changes = (part.assign(text=part["field"] + ": " + part["was"] + " -> " + part["now"])
               .groupby(["old", "new", "level"], sort=False)["text"].agg(" | ".join).reset_index())
    n = matching.new.loc[changes["new"]]
    out = pd.DataFrame({
        "recipient": n["recipient"].to_numpy(), "supplier": n["supplier"].to_numpy(),
        "order_year": n["order_year"].to_numpy(), "designation": n["designation"].to_numpy(),
        "level": changes["level"].to_numpy(), "changes": changes["text"].to_numpy(),
    })
    return out.sort_values(["recipient", "order_year", "supplier", "designation"]).reset_index(drop=True)


# ----------------------------------------------------------------------------- TIV


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
    from takingstock.analysis.claims import release_columns

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


def release_labels(old: sipri.Register, new: sipri.Register) -> tuple[str, str]:
    """Names of the two releases in tables: their release dates, or the file names when a
    date is missing or both exports share one."""
    def one(reg: sipri.Register) -> str:
        return reg.release_date.isoformat() if reg.release_date else reg.path.stem
    a, b = one(old), one(new)
    return (old.path.stem, new.path.stem) if a == b else (a, b)


@dataclass
class Comparison:
    """Two releases read, matched and compared (what notebook 06 shows).

    Attributes:
        old, new: the two registers.
        matching: :func:`match_deals` of their whole deals.
        revs: :func:`revisions` of the matching.
    """

    old: sipri.Register
    new: sipri.Register
    matching: Matching
    revs: pd.DataFrame

    @property
    def labels(self) -> tuple[str, str]:
        return self.matching.old_label, self.matching.new_label

    def for_recipients(self, recipients) -> tuple[Matching, pd.DataFrame]:
        """The matching and revisions of the deals to ``recipients`` only."""
        sub = self.matching.subset(recipients)
        revs = self.revs[self.revs["new"].isin(sub.pairs["new"])]
        return sub, revs

    def claim_contexts(self, catalogue: pd.DataFrame | None = None) -> list:
        """``ClaimContext`` of each release, newest first (for ``claims.evaluate_releases``)."""
        from takingstock.analysis.claims import ClaimContext
        from takingstock.data.coverage import Coverage

        return [ClaimContext(catalogue=catalogue, deals=reg.deals, coverage=Coverage.from_register(reg), label=label)
                for reg, label in ((self.new, self.labels[1]), (self.old, self.labels[0]))]


def compare(old_path: str | Path, new_path: str | Path, read=None) -> Comparison:
    """Read two exports, match their deals and list the revisions.

    ``read`` reads one export (default ``sipri.read_register``; the notebook passes the run
    context's ``read_register``, which goes through the parsed-register cache).
    """
    read = sipri.read_register if read is None else read
    # the newer first: it is the run's primary export, which the other notebooks wait for when
    # no kernel has parsed it yet (the parsed-register cache's lock)
    new = read(new_path)
    old = read(old_path)
    a, b = release_labels(old, new)
    matching = match_deals(old.deals, new.deals, a, b)
    return Comparison(old, new, matching, revisions(matching))


def _tick_label(label: str, width: int = 16) -> str:
    """A period label as a short multi-line tick (escaped: labels come from a data file)."""
    import html
    import textwrap

    return "<br>".join(html.escape(part, quote=False) for part in textwrap.wrap(str(label), width) or [""])


def change_figure(table: pd.DataFrame, who: str, source: str):
    """Bars of the change of delivered TIV (new minus old) per period, one colour per
    supplier, gains above zero and losses below (:func:`tiv_by_period_supplier`'s table).

    Suppliers whose TIV did not change in any period are left out of the bars and the legend;
    period names are written on horizontal lines under each bar.
    """
    from takingstock.report import figures

    cols = [c for c in table.columns if c.startswith("tiv [")]
    old, new = (c[len("tiv ["):-1] for c in cols)
    moved = table.groupby("supplier")["change"].transform(lambda c: (c.abs() >= TIV_TOLERANCE).any())
    data = table[moved].assign(period=table["period"].map(_tick_label))
    order = [_tick_label(p) for p in dict.fromkeys(table["period"])]
    fig = figures.stacked_bars(data, x="period", y="change", colour="supplier", x_order=order,
                               title=f"What moved between SIPRI's releases of {old} and {new}: TIV delivered to {who}",
                               source=source, x_title="Period of delivery",
                               y_title=f"Change of TIV ({new} minus {old}), millions; not money")
    fig.update_layout(barmode="relative")  # the tick labels' layout: figures.fit_x_labels
    return fig


def change_alt(table: pd.DataFrame, who: str) -> str:
    """Alt text of :func:`change_figure`: the change per period and its largest supplier part."""
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
