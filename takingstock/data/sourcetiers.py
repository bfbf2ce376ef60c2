"""How much weight a source can bear: the tiers of ``data/raw/sources.csv``.

Every source gets a tier, with the reason in ``tier_reason``:

* ``primary`` - the report itself, its publisher's press release, and primary research (a
  Conflict Armament Research field study);
* ``established`` - an established outlet with an editorial desk (a national newspaper, a
  public broadcaster, a news agency's copy, a trade publication);
* ``other`` - everything else: blogs, aggregators, partisan or state outlets of poor standing,
  a celebrity blog or a sports site relaying someone else's story, unreviewed tertiary tables.

``read`` says whether the source's own text was read (``yes``, ``partly``, ``no``): CAR's
studies are primary research but were not read here, so a figure attributed to them rests on
the outlets that quoted them. The *best tier behind* a figure is therefore the best tier among
the sources behind it that were read; a figure whose best tier is ``other`` rests only on the
lowest tier and is flagged (:func:`tier_flag`). The tiers are our judgement, recorded with a
reason so a reader can disagree row by row.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from takingstock.core.tabular import read_text_table

__all__ = ["TIERS", "TIER_WORDS", "READ_VALUES", "SourcesError", "load_sources", "best_tier", "tier_label",
           "tier_flag"]

TIERS = ("primary", "established", "other")   # best first
TIER_WORDS = {"primary": "the report or primary research", "established": "established outlet", "other": "other"}
READ_VALUES = ("yes", "partly", "no")
COLUMNS = ("source_id", "tier", "tier_reason", "read")


class SourcesError(ValueError):
    """The sources table is malformed (names the file, row and column)."""


def load_sources(path: str | Path) -> pd.DataFrame:
    """``sources.csv`` indexed by ``source_id``, its tiers checked.

    Raises:
        SourcesError naming the file, row and column of a missing column, an unknown tier or
        ``read`` value, an empty reason, or a duplicate id.
    """
    path = Path(path)
    table = read_text_table(path, COLUMNS, SourcesError)
    table = table.apply(lambda col: col.str.strip())
    for n, row in enumerate(table.itertuples(index=False), start=2):
        for column, allowed in (("tier", TIERS), ("read", READ_VALUES)):
            if getattr(row, column) not in allowed:
                raise SourcesError(f"{path}, row {n}, column {column!r}: {getattr(row, column)!r} is not one of {allowed}")
        if not row.tier_reason:
            raise SourcesError(f"{path}, row {n}, column 'tier_reason': empty (say why the tier)")
    dup = table["source_id"].duplicated()
    if dup.any():
        raise SourcesError(f"{path}, row {int(dup.to_numpy().argmax()) + 2}, column 'source_id': duplicate "
                           f"{table['source_id'][dup].iloc[0]!r}")
    return table.set_index("source_id", drop=False)


def best_tier(ids, sources: pd.DataFrame) -> tuple[str, list[str]]:
    """``(tier, ids)``: the best tier among the sources ``ids`` that were read (``read`` yes or
    partly), and the ids at that tier; ``("", [])`` when none of them was read. (Looked up one id
    at a time: the claims file asks this of a handful of ids per claim.)"""
    read = [i for i in ids if i in sources.index and sources.at[i, "read"] != "no"]
    for tier in TIERS:
        at = [i for i in read if sources.at[i, "tier"] == tier]
        if at:
            return tier, at
    return "", []


def tier_label(ids, sources: pd.DataFrame) -> str:
    """The best tier behind a figure in words, e.g. ``established outlet (dw-2015-12-08)``; a
    primary source named but not read is said so."""
    tier, at = best_tier(ids, sources)
    unread = [i for i in ids if i in sources.index and sources.at[i, "read"] == "no"]
    head = f"{TIER_WORDS[tier]} ({', '.join(at)})" if tier else "no source read"
    return head + (f"; named but not read: {', '.join(unread)}" if unread else "")


def tier_flag(ids, sources: pd.DataFrame) -> str:
    """A warning when the figure rests only on the lowest tier (or on no source read), else ``""``."""
    tier, at = best_tier(ids, sources)
    if tier == "other":
        reasons = "; ".join(f"{i}: {sources.at[i, 'tier_reason']}" for i in at)
        return f"rests only on the lowest tier of source ({reasons})"
    if not tier:
        return "rests on no source whose text was read"
    return ""
