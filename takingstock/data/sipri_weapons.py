"""What weapon a SIPRI deal is about: its category, and a key for its designation.

**Weapon categories.** Because SIPRI rewords descriptions between releases, matching weapons
on them breaks from one release to the next. ``data/raw/sipri_weapon_categories.csv`` maps
every description of both releases at hand (263 spellings) to one of SIPRI's eleven
categories (:data:`WEAPON_CATEGORIES`); the reader adds it as the ``category`` column
(:func:`weapon_category`; descriptions matched case-insensitively, blanks collapsed). A
description the mapping lacks is **not guessed and does not stop the read**: its deals get
category ``unmapped`` (:data:`UNMAPPED`) and it is listed in
``Register.unmapped_descriptions``, so an analysis can say "not checkable" for those deals
rather than lose the whole register over one new wording; add it to the mapping.

**Designation keys.** SIPRI also respells designations (``F-16C Block-50/52`` in 2025,
``F-16C Block-50`` in 2026; ``EC145`` / ``EC-145``). ``designation_key`` is
:func:`normalise_designation` of the designation (its docstring states the rule and what it
deliberately keeps apart).
"""

from __future__ import annotations

import csv as _csv
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pandas as pd

from takingstock.core import paths
from takingstock.data.sipri_columns import per_distinct
from takingstock.data.sipri_format import SipriFormatError, value_error

__all__ = [
    "WEAPON_CATEGORIES",
    "UNMAPPED",
    "CATEGORIES_PATH",
    "load_weapon_categories",
    "weapon_category",
    "designation_keys",
    "normalise_designation",
]

#: SIPRI's weapon categories (https://www.sipri.org/databases/armstransfers/sources-and-methods).
WEAPON_CATEGORIES = (
    "aircraft", "air defence systems", "armoured vehicles", "artillery", "engines", "missiles",
    "naval weapons", "sensors", "ships", "satellites", "other",
)
#: The category of a deal whose description the mapping lacks (never guessed).
UNMAPPED = "unmapped"
#: The committed mapping of SIPRI's weapon descriptions to :data:`WEAPON_CATEGORIES`.
CATEGORIES_PATH = paths.RAW / "sipri_weapon_categories.csv"


def _description_key(text: str) -> str:
    """How descriptions are matched: case-folded, blanks collapsed."""
    return " ".join(str(text).split()).casefold()


def load_weapon_categories(path: str | Path | None = None) -> dict[str, str]:
    """The mapping description -> category (keys as :func:`_description_key` makes them).

    Raises:
        SipriFormatError: the file is missing, lacks a column, has an empty description, a
            category outside :data:`WEAPON_CATEGORIES`, or two spellings of one description
            with different categories (the message names the file, line and column).
    """
    path = Path(path) if path is not None else CATEGORIES_PATH
    return dict(_load_weapon_categories(str(path), path.stat().st_mtime_ns if path.is_file() else -1))


@lru_cache(maxsize=8)
def _load_weapon_categories(path_text: str, _stamp: int) -> tuple[tuple[str, str], ...]:
    path = Path(path_text)
    if not path.is_file():
        raise SipriFormatError(f"{path}: the weapon-category mapping is missing")
    out: dict[str, tuple[str, int]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = _csv.reader(fh)
        header = next(reader, [])
        if header[:2] != ["description", "category"]:
            raise SipriFormatError(
                f"{path}, line 1: the header must start with description,category (got {header[:2]})")
        for lineno, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            desc, cat = (row + ["", ""])[:2]
            key = _description_key(desc)
            if not key:
                raise value_error(path, lineno, "description", desc, "a description (empty)")
            if cat.strip() not in WEAPON_CATEGORIES:
                raise value_error(path, lineno, "category", cat,
                                       f"one of SIPRI's categories {list(WEAPON_CATEGORIES)}")
            if key in out and out[key][0] != cat.strip():
                raise SipriFormatError(
                    f"{path}, line {lineno}, column 'category': {desc!r} is {cat.strip()!r} here "
                    f"but {out[key][0]!r} on line {out[key][1]}")
            out.setdefault(key, (cat.strip(), lineno))
    return tuple((k, v[0]) for k, v in out.items())


def designation_keys(designations: pd.Series) -> pd.Series:
    """:func:`normalise_designation` of each designation (each distinct one computed once)."""
    uniq = pd.unique(designations)
    keys = {d: normalise_designation(d) for d in uniq}
    return designations.map(keys).astype("str")


def weapon_category(descriptions: pd.Series, mapping: dict[str, str] | None = None) -> pd.Series:
    """SIPRI's weapon category of each description; :data:`UNMAPPED` where the mapping lacks it."""
    mapping = load_weapon_categories() if mapping is None else mapping
    return per_distinct(descriptions.astype("str"), lambda d: mapping.get(_description_key(d), UNMAPPED)).astype("str")


_DASHES_RE = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d]")
_BLOCK_TOKEN_RE = re.compile(r"^block-?\d+[a-z]*(?:/\d+[a-z]*)*\+?$")


def normalise_designation(text: str) -> str:
    """A key under which SIPRI's spellings of one weapon designation agree across releases.

    Rule, in order: Unicode compatibility form (NFKC); every dash (en dash, minus sign...)
    becomes ``-``; case-folded; blanks collapsed to one space and removed around ``-`` and
    ``/``; a *production-block* token (``Block-50``, ``Block 50/52``, ``Block-1``) is dropped;
    a hyphen between a letter and a digit is dropped (``F-16`` = ``F16``, ``EC-145`` =
    ``EC145``, ``M-11`` = ``M11``). So ``F-16C Block-50/52`` (2025 release) and ``F-16C
    Block-50`` (2026) both give ``f16c``.

    What is *not* dropped, because it can name a different weapon: variant letters
    (``F-16C`` vs ``F-16D``, ``M-1A1`` vs ``M-1A2``), alternative designations after ``/``
    (``Mi-24D/Mi-25``), names (``Typhoon`` vs ``Eurofighter Typhoon``), calibres. Caveat:
    dropping the block merges deals of different production blocks of one variant (an
    ``F-16C Block-30`` and an ``F-16C Block-50`` share ``f16c``); match on ``designation``
    itself where the block matters.
    """
    s = unicodedata.normalize("NFKC", str(text))
    s = _DASHES_RE.sub("-", s).casefold()
    s = " ".join(s.split())
    s = re.sub(r"\s*([-/])\s*", r"\1", s)
    s = re.sub(r"\bblock (?=\d)", "block-", s)
    s = " ".join(t for t in s.split(" ") if not _BLOCK_TOKEN_RE.match(t))
    return re.sub(r"(?<=[a-z])-(?=\d)", "", s)
