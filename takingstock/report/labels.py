"""Words for readers: column names, catalogue ids, lists, year lists and numbers as text.

The tables, figures and page leads of the briefings are read by people who never saw the code,
so nothing a reader sees should be an identifier (``period_id``, ``amnesty_2015``), a Python
repr (``[2014, 2015, 2016]``, ``nan``, ``None``) or a number with more digits than it means
(``3150.888847486363``, ``20,634.88 items``). This module turns each of those into words; the
CSVs keep the names and the full precision.

Method
------
* :func:`header` turns a column name into a header: a table of known names first
  (:data:`KNOWN_HEADERS`: ``period_id`` -> "Period", ``tiv_share`` -> "Share of TIV",
  ``tiv`` -> "TIV (millions)"), then a readable fallback: underscores become spaces, known
  acronyms are upper case (TIV, SIPRI, ISO, EU...), a trailing ``_id`` is dropped
  (``window_id`` -> "Window") and ``_ids`` makes a plural (``source_ids`` -> "Sources"),
  ``share_x``/``x_share`` read "Share of x", ``n_x`` reads "Number of x", and a TIV column
  carries its unit (SIPRI's TIV are millions). A name already in words (a country, ``allowed to
  differ``) keeps its words, with a capital first letter. :func:`headers` does a whole table
  and keeps the headers distinct (``period_id`` beside ``period`` reads "Period code").
* :func:`catalogue_title` turns a catalogue id into its short title (the part of its title in
  ``data/raw/datapackage.json`` before the colon, as
  :func:`takingstock.data.catalogue_names.catalogue_titles` reads it: ``amnesty_2015`` ->
  "Amnesty International, Taking Stock (2015)", ``car_2014_ammunition`` -> "Conflict Armament
  Research (2014)": the part up to the year when that is distinct); a catalogue of the user's own that the data
  package does not list reads as its id in words (``my_items`` -> "My items").
* :func:`list_text` joins items as prose ("A, B and C"); :func:`year_ranges` writes years as
  ranges ("1980–1988, 1991, 2003–2005"); :func:`cell_text` applies both to a cell holding a
  list, tuple, set or array (years when every item is a whole number between 1800 and 2100) and
  writes a dict as "key: value; ...".
* Numbers: :func:`column_decimals` picks one number of decimals (0, 1 or 2) for a whole column,
  the fewest that keep every non-zero value within 5% of itself and not zero; so a column never
  mixes "4,270" and "4,700.03", 3150.89 reads "3,151" and 0.4 reads "0.4". A non-zero value
  too small for two decimals reads "<0.01" (never "0"). :func:`format_number` formats one value
  with given decimals and thousands separators; :func:`tiv_text` writes an amount of TIV in a
  sentence ("3,151 million TIV", "0.4 million TIV"; zero is "0 TIV", never "0 million TIV").

Caveats
-------
The output is plain text; HTML and Markdown escaping stays the job of ``takingstock.report.tables``
(which calls this module) and of whatever else puts the text on a page.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from takingstock.core import paths
from takingstock.data.catalogue_names import catalogue_titles

#: The en dash a reader sees for a missing value (never "nan" or "None").
MISSING = "\u2013"
#: Words written in capitals wherever they appear in a column name.
ACRONYMS = {"tiv": "TIV", "sipri": "SIPRI", "iso": "ISO", "eu": "EU", "nato": "NATO", "un": "UN",
            "car": "CAR", "us": "US", "uk": "UK", "ussr": "USSR", "id": "ID", "pdf": "PDF",
            "csv": "CSV", "url": "URL"}
#: The unit every TIV column is in (SIPRI publishes TIV in millions).
TIV_UNIT = "millions"

#: Headers of the project's column names whose fallback would read badly.
KNOWN_HEADERS = {
    "tiv": "TIV (millions)",
    "tiv_share": "Share of TIV",
    "tiv_per_year": "TIV per year (millions)",
    "tiv_delivered": "TIV delivered (millions)",
    "share_published": "Published share",
    "share_rows_placed": "Share of rows placed",
    "share_count_placed": "Share of the count placed",
    "rows_placed": "Rows placed",
    "rows_with_period": "Rows with a period",
    "count_placed": "Count placed",
    "difference_pp": "Difference (percentage points)",
    "iso": "ISO code",
    "count_basis": "Counted as",
    "source_row": "Row in the source file",
    "record_ids": "Records",
    "order_year": "Year of order",
    "delivery_years": "Years of delivery",
    "year_from": "From (year)",
    "year_to": "To (year)",
    "design_state_reference": "State of design (reference)",
    "state_of_design": "State of design",
    "across_releases": "Across releases",
}

_YEAR_MIN, _YEAR_MAX = 1800, 2100
_TOLERANCE = 0.05
_MAX_DECIMALS = 2
#: Below this a value is float noise, shown as zero.
_NOISE = 1e-9


def _word(w: str) -> str:
    return ACRONYMS.get(w.lower(), w)


def _words(name: str) -> str:
    """``design_state`` -> "design state" (acronyms in capitals; an ``id`` or ``ids`` folded)."""
    parts = [p for p in re.split(r"[_\s]+", name.strip()) if p]
    if len(parts) > 1 and parts[-1].lower() == "id":
        parts = parts[:-1]
    elif len(parts) > 1 and parts[-1].lower() == "ids":
        parts = parts[:-2] + [parts[-2] + "s"]
    return " ".join(_word(p) for p in parts)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def header(name: object) -> str:
    """A column name as a header a reader understands (see the module docstring)."""
    raw = str(name)
    key = raw.strip().lower()
    if key in KNOWN_HEADERS:
        return KNOWN_HEADERS[key]
    base, bracket = raw, ""
    m = re.match(r"^(.*?)\s*(\[[^\]]*\])\s*$", raw)
    if m:  # "tiv [2025-03-13]": the release in brackets stays as written
        base, bracket = m.group(1), " " + m.group(2)
    b = base.strip().lower()
    if b in KNOWN_HEADERS:
        return KNOWN_HEADERS[b] + bracket
    if "_" not in base and not any(w in ACRONYMS for w in b.split()):
        return _capital(raw)
    tokens = [t for t in re.split(r"[_\s]+", b) if t]
    if tokens[:1] == ["share"] and len(tokens) > 1:
        text = "share of " + _words("_".join(tokens[1:]))
    elif tokens[-1:] == ["share"] and len(tokens) > 1:
        text = "share of " + _words("_".join(tokens[:-1]))
    elif tokens[:1] == ["n"] and len(tokens) > 1:
        text = "number of " + _words("_".join(tokens[1:]))
    else:
        text = _words(base)
    if "tiv" in tokens and "share" not in tokens:
        text += f" ({TIV_UNIT})"
    return _capital(text) + bracket


def headers(names: Iterable[object]) -> list[str]:
    """:func:`header` of every name, kept distinct: a clash reads "<header> code" for an id."""
    names = list(names)
    out = [header(n) for n in names]
    for i, n in enumerate(names):
        if out.count(out[i]) > 1:
            if str(n).lower().endswith("_id"):
                out[i] = f"{out[i]} code"
            elif out.count(out[i]) > 1 and str(n) != out[i]:
                out[i] = f"{out[i]} ({n})".replace("_", " ")
    return out


@lru_cache(maxsize=4)
def _short_titles(titles: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """``{catalogue id: title}`` shortened for readers: "Conflict Armament Research (2014),
    Islamic State Ammunition in Iraq and Syria" reads "Conflict Armament Research (2014)", the
    part up to the year, unless two would then be equal (those keep their whole title)."""
    full = dict(titles)
    short = {k: (re.match(r"^[^,]*\(\d{4}\)", t) or re.match(".*", t)).group(0) for k, t in full.items()}
    clashes = {t for t in short.values() if list(short.values()).count(t) > 1}
    return {k: (full[k] if t in clashes else t) for k, t in short.items()}


def catalogue_title(catalogue_id: object, datapackage: str | Path | None = None) -> str:
    """A catalogue id as a reader's title: ``amnesty_2015`` -> "Amnesty International, Taking
    Stock (2015)"; an id the data package does not list reads as its words (``my_items`` -> "My
    items"). ``datapackage``: the data package to read titles from (default: the project's),
    through :func:`takingstock.data.catalogue_names.catalogue_titles`."""
    cid = str(catalogue_id)
    titles = _short_titles(tuple(catalogue_titles(datapackage or paths.RAW / "datapackage.json").items()))
    if cid in titles:
        return titles[cid]
    return _capital(" ".join(p for p in re.split(r"[_\s]+", cid) if p)) or cid


def list_text(items: Iterable[object], conjunction: str = "and") -> str:
    """Items as prose: ``["A", "B", "C"]`` -> "A, B and C"; one item is itself; none is ""."""
    words = [cell_text(i) for i in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _is_year(value: object) -> bool:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(f) and f.is_integer() and _YEAR_MIN <= f <= _YEAR_MAX


def year_ranges(years: Iterable[object]) -> str:
    """Years as ranges: ``[2014, 2015, 2016, 2018]`` -> "2014–2016, 2018" (sorted, deduplicated)."""
    ys = sorted({int(float(y)) for y in years if _is_year(y)})
    runs: list[list[int]] = []
    for y in ys:
        if runs and y == runs[-1][1] + 1:
            runs[-1][1] = y
        else:
            runs.append([y, y])
    return ", ".join(str(a) if a == b else f"{a}\u2013{b}" for a, b in runs)


_YEAR_LIST_TEXT = re.compile(r"^\s*\[?\s*\d{4}(\s*[;,]\s*\d{4})*\s*\]?\s*$")


def year_list_text(text: str) -> str | None:
    """A text listing years ("1998; 1999", "[2005]") as ranges ("1998–1999"); ``None`` if it is
    not such a list."""
    if not _YEAR_LIST_TEXT.match(text):
        return None
    years = re.findall(r"\d{4}", text)
    return year_ranges(years) if all(_is_year(y) for y in years) else None


def is_missing(value: object) -> bool:
    """True for ``None``, NaN, ``pd.NA`` and ``NaT`` (never for a list or an array)."""
    if value is None:
        return True
    if isinstance(value, (list, tuple, set, frozenset, dict, np.ndarray)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def cell_text(value: object) -> str:
    """Any cell as reader's text: missing -> en dash, a list of years -> ranges, a list -> prose,
    a dict -> "key: value; ...", a whole float -> an integer, anything else -> ``str``."""
    if is_missing(value):
        return MISSING
    if isinstance(value, dict):
        return "; ".join(f"{cell_text(k)}: {cell_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        if not items:
            return MISSING
        if items and all(_is_year(i) for i in items):
            return year_ranges(items)
        return list_text(items)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return format_number(float(value), column_decimals([value]))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return str(value)


def column_decimals(values: Iterable[object], max_decimals: int = _MAX_DECIMALS) -> int:
    """The fewest decimals (0..``max_decimals``) that show every non-zero value of a column
    within 5% of itself and not as zero (values too small for ``max_decimals`` are left to
    :func:`format_number`'s "<0.01")."""
    nums = []
    for v in values:
        if is_missing(v) or isinstance(v, (bool, np.bool_)):
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f) and abs(f) >= max(10 ** -max_decimals, _NOISE):
            nums.append(f)
    for d in range(max_decimals + 1):
        if all(round(f, d) != 0 and abs(round(f, d) - f) <= _TOLERANCE * abs(f) for f in nums):
            return d
    return max_decimals


def format_number(value: object, decimals: int = 0) -> str:
    """``value`` with thousands separators and ``decimals`` decimals; missing -> en dash; a
    non-zero value that would print as zero reads "<0.01" (or "<1" with no decimals)."""
    if is_missing(value):
        return MISSING
    f = float(value)
    if not math.isfinite(f):
        return MISSING
    if abs(f) < _NOISE:  # float noise of a difference (2.35 - 2.3500000000000227) is zero
        f = 0.0
    text = f"{f:,.{decimals}f}"
    if f != 0 and round(f, decimals) == 0:
        smallest = f"{10 ** -decimals:.{decimals}f}" if decimals else "1"
        return f"<{smallest}" if f > 0 else f">-{smallest}"
    return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text


def tiv_text(value: object) -> str:
    """An amount of SIPRI TIV (millions) in a sentence: 3150.89 -> "3,151 million TIV",
    0.4 -> "0.4 million TIV", 0 -> "0 TIV" (never "0 million TIV"); missing -> "TIV unknown"."""
    if is_missing(value):
        return "TIV unknown"
    f = float(value)
    if f == 0:
        return "0 TIV"
    decimals = column_decimals([f]) if abs(f) >= 10 ** -_MAX_DECIMALS else _MAX_DECIMALS
    return f"{format_number(f, decimals)} million TIV"
