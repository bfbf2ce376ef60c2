"""The paper trail: which SIPRI deals record a transfer of the same weapon type as a catalogue item.

Method
------
Catalogue items are linked to SIPRI deals through our own alias table
(``data/raw/sipri_aliases.csv``): each row gives a regular expression over catalogue
designations and the SIPRI designation (and, where needed, description) it stands for. An item
is linked to every deal of the recipient whose designation the alias names. A link means SIPRI
records a transfer of the same weapon type to that recipient, not that the documented item came
from that deal.

Caveat: small arms, light weapons, ammunition and improvised weapons are outside SIPRI's
coverage (:data:`OUTSIDE_SIPRI_CATEGORIES`); such items are listed as unmatched with that
reason, never as "no deal found". All calculations are ours, not SIPRI's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from takingstock.core import paths
from takingstock.analysis import breakdowns
from takingstock.analysis.breakdowns import line_codes
from takingstock.analysis.supply import select_recipients

__all__ = ["AliasError", "ALIASES_PATH", "OUTSIDE_SIPRI_CATEGORIES", "TRAIL_DEAL_COLUMNS", "load_aliases",
           "trail_items", "paper_trail", "paper_trail_summary"]

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
