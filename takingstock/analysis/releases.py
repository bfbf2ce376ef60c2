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
   matches), order year, designation key (``sipri_weapons.normalise_designation``: ``F-16C Block-50/52``
   = ``F-16C Block-50``), number ordered and SIPRI weapon category (``sipri_weapons.weapon_category``,
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

What the changes add up to (TIV per period and supplier, renamed names and descriptions, the
claims that moved) is :mod:`takingstock.analysis.release_changes`. Every comparison here is
ours, not SIPRI's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from takingstock.data import sipri
from takingstock.data.coverage import Coverage
from takingstock.data.sipri_format import read_release_date
from takingstock.analysis.claims import ClaimContext
from takingstock.analysis import supply

__all__ = [
    "MATCH_LEVELS", "REDATE_YEARS", "REVISION_FIELDS", "SUBSTANTIVE_FIELDS", "Comparison", "compare",
    "release_labels", "change_alt", "TIV_TOLERANCE", "MatchLevel", "Matching",
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
    (``sipri_format.read_release_date``, the preamble only), the two newest distinct dates; for one
    date with several exports, the largest file (the whole register before a subset). A file
    given fills its side; the other side is the newest (or second newest) other release.

    Raises:
        FileNotFoundError: a file given is not there.
        takingstock.data.sipri_format.SipriFormatError: a file is not a SIPRI export.
    """
    for given in (old_file, new_file):
        if str(given) and not Path(given).is_file():
            raise FileNotFoundError(f"no SIPRI export at {given}")
    files = [Path(p) for p in registers]
    folder = folder or (files[0].parent if files else "the SIPRI folder")
    given = [Path(p) for p in (old_file, new_file) if str(p)]
    at_hand = [(p, read_release_date(p)) for p in dict.fromkeys([*given, *files])]
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
    """Whether two designation keys (``sipri_weapons.normalise_designation``) plausibly name one weapon:
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
