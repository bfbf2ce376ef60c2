"""Checking catalogue rows: types, the schema, cross-field and reference rules, cell sizes.

The second step of cleaning a catalogue (:mod:`takingstock.data.cleaning`), on the text cells
:mod:`takingstock.data.catalogue_files` read. Every function returns the problems it finds as
a frame ``row, column, value, reason`` (``row`` 0-based in the file's data rows); a row with any
problem is rejected with all of them, so one pass names every problem of every row.

Method
------
1. **Types.** Every cell is text. Whole-number columns (``year_from``, ``year_to``,
   ``quantity``) accept plain ASCII digits only, optionally after a minus sign
   (:func:`parse_whole_numbers`): ``1e3``, ``1985.0``, ``1.99e3``, ``1,730`` are rows rejected
   with the reason, never read as 1000, 1985, 1990, 1730. The text is converted to int64
   exactly (never through a float); a number of more than 18 digits is not converted and
   fails its column's range. ``share_published`` accepts plain decimal notation (``43.5``; no
   exponent, no decimal comma, no ``nan``). A cell that fails is a row problem.
2. **Schema checks** with pandera (:func:`catalogue_schema`), run lazily so that every problem
   of every row is found in one pass: controlled vocabularies (category, acquisition,
   count_basis, confidence), required text present, years in ``YEAR_MIN..YEAR_MAX``, quantity
   in ``0..MAX_QUANTITY`` (10^9), share in 0..100, source ids a ``;``-separated list. Each of
   these checks reads one cell, so each column is validated on its distinct values and a
   failing value is a problem of every row holding it (:func:`schema_problems`).
3. **Cross-field and reference checks**, vectorised in pandas: ``year_to >= year_from``;
   ``record_id`` unique within the file (every row sharing an id is rejected, since we cannot
   know which one is right); both country columns resolve in the country crosswalk (an
   unknown name is rejected with the closest known names, never guessed); optionally, every
   source id exists in ``sources.csv``: the one given (the committed ``data/raw/sources.csv``)
   together with a ``sources.csv`` beside the catalogue file, where a user lists their own
   sources (:func:`known_source_ids`, :func:`takingstock.core.paths.sources_beside`).
4. **Cell sizes.** A cell longer than :data:`MAX_CELL_CHARS` (32,767, what a spreadsheet cell
   holds) is a problem of its row, since no catalogue field needs more and it is most often a
   quote left open (:func:`cell_size_problems`).

Speed: every rule that reads one cell at a time (numbers, the schema, country names, source
ids) is worked out once per distinct value and broadcast to the rows
(:func:`by_distinct_value`): a catalogue of 10^6 rows holds some 80 distinct years, 250
country names and 500 quantities.

Exact arithmetic: every count is at most :data:`MAX_QUANTITY` (10^9 items in one row), so an
int64 sum of counts cannot overflow for fewer than 9.2 x 10^9 rows (far more than fit in
memory), and a file whose clean counts add up to more than :data:`MAX_TOTAL` (2^53, some 9
million rows at the largest quantity) is refused (:func:`check_total`): below it a total is
exact in float64 too. So every total computed from a catalogue is exact, and every share (a
count over its total, x 100) lies between 0 and 100, correct to float precision.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from takingstock.core import paths
from takingstock.data import countries as _countries
from takingstock.data.catalogue_files import CatalogueFileError

CATEGORIES = ("pistol", "rifle", "machine gun", "sniper/anti-materiel rifle", "RPG/recoilless",
              "guided anti-tank missile", "MANPADS", "mortar", "artillery", "rocket",
              "armoured vehicle", "ammunition", "improvised", "other")
ACQUISITIONS = ("iraqi capture", "syrian capture", "syrian opposition supply", "illicit trade",
                "improvised", "unknown")
COUNT_BASES = ("item", "published", "derived")
CONFIDENCES = ("R", "PR", "N", "own")
INT_COLUMNS = ("year_from", "year_to", "quantity")
FLOAT_COLUMNS = ("share_published",)
YEAR_MIN = 1850
YEAR_MAX = max(2026, date.today().year)
MAX_QUANTITY = 10**9
"""The largest accepted ``quantity`` (one billion items); a larger one is rejected by row."""
MAX_TOTAL = 2**53
"""The largest total of a file's counts (beyond it float64 is no longer exact): refused."""
MAX_DIGITS = 18
"""Whole numbers of more digits are never converted (int64 holds every 18-digit number)."""
MAX_CELL_CHARS = 32_767
"""The longest accepted cell, in characters (a spreadsheet cell's limit); longer: row rejected."""
WHOLE_NUMBER_RE = r"-?[0-9]+"
DECIMAL_RE = r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
PLAIN_DIGITS = "write it in plain digits, such as 1985"
PLAIN_DECIMAL = "write it in plain decimal notation, such as 43.5"
_SOURCE_IDS_RE = r"^[^;\s]+(\s*;\s*[^;\s]+)*$"


@functools.lru_cache(maxsize=1)
def catalogue_schema():
    """The catalogue schema on typed columns (text as ``str``, whole numbers as nullable
    ``Int64``), a pandera ``DataFrameSchema``, built once on first use.

    pandera is imported here, not at the top of the module (a measured cost): it and pydantic
    under it take ~0.17 s to import on a quiet machine (0.5-1 s on two busy cores), and only
    step 01 validates; the notebooks that read the processed catalogue never need them, nor
    does the pipeline's fork server before its first kernels.
    """
    import pandera.pandas as pa  # lazy: ~0.17 s to import, only step 01 validates

    return pa.DataFrameSchema(
        {
            "record_id": pa.Column(str, pa.Check.str_length(min_value=1)),
            "category": pa.Column(str, pa.Check.isin(list(CATEGORIES))),
            "designation": pa.Column(str, pa.Check.str_length(min_value=1)),
            "country_of_design": pa.Column(str),
            "country_of_manufacture": pa.Column(str),
            "year_from": pa.Column("Int64", pa.Check.in_range(YEAR_MIN, YEAR_MAX), nullable=True),
            "year_to": pa.Column("Int64", pa.Check.in_range(YEAR_MIN, YEAR_MAX), nullable=True),
            "acquisition": pa.Column(str, pa.Check.isin([*ACQUISITIONS, ""])),
            "quantity": pa.Column("Int64", pa.Check.in_range(0, MAX_QUANTITY), nullable=True),
            "count_basis": pa.Column(str, pa.Check.isin(list(COUNT_BASES))),
            "share_published": pa.Column("Float64", pa.Check.in_range(0, 100), nullable=True),
            "confidence": pa.Column(str, pa.Check.isin(list(CONFIDENCES))),
            "source_ids": pa.Column(str, pa.Check.str_matches(_SOURCE_IDS_RE)),
            "notes": pa.Column(str),
        },
        strict=False,
        coerce=False,
        name="catalogue",
    )


# One plain-language reason per checked column (each column carries one check).
SCHEMA_REASONS = {
    "record_id": "required value is empty",
    "category": f"category is not one of: {', '.join(CATEGORIES)}",
    "designation": "required value is empty",
    "year_from": f"year outside {YEAR_MIN}..{YEAR_MAX}",
    "year_to": f"year outside {YEAR_MIN}..{YEAR_MAX}",
    "acquisition": f"acquisition is not one of: {', '.join(ACQUISITIONS)} (or empty)",
    "quantity": f"quantity outside 0..{MAX_QUANTITY:,} (the largest accepted)",
    "count_basis": f"count_basis is not one of: {', '.join(COUNT_BASES)}",
    "share_published": "share_published outside 0..100",
    "confidence": f"confidence is not one of: {', '.join(CONFIDENCES)}",
    "source_ids": "source_ids must be one or more ids separated by ';'",
}


def _number_problem(text: pd.Series, allowed: str, rules: list[tuple[str, str]], fallback: str) -> pd.Series:
    """Why each cell does not fully match ``allowed`` ("" = it does): the reason of the first
    ``(pattern, reason)`` rule the cell matches, else ``fallback``."""
    bad = ~text.str.fullmatch(allowed)
    reason = pd.Series("", index=text.index, dtype=object)
    if not bad.any():
        return reason
    t = text[bad]
    reason[bad] = np.select([t.str.fullmatch(pattern) for pattern, _ in rules], [why for _, why in rules], fallback)
    return reason


_EXPONENT = r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+"


def _whole_number_problem(text: pd.Series) -> pd.Series:
    """Why each cell is not a whole number as :data:`WHOLE_NUMBER_RE` wants it ("" = it is)."""
    return _number_problem(text, WHOLE_NUMBER_RE, [
        (_EXPONENT, f"not a whole number: {PLAIN_DIGITS}; exponent notation (such as 1e3) is not accepted"),
        (r"[+-]?(\d+\.\d*|\.\d+)", f"not a whole number: {PLAIN_DIGITS}; a decimal point (even .0) is not accepted"),
        (r"[+-]?\d{1,3}([,. '_\u00a0]\d{3})+", f"not a whole number: {PLAIN_DIGITS}; thousands separators are not accepted"),
    ], f"not a whole number: {PLAIN_DIGITS}")


def _decimal_problem(text: pd.Series) -> pd.Series:
    """Why each cell is not a decimal number as :data:`DECIMAL_RE` wants it ("" = it is)."""
    return _number_problem(text, DECIMAL_RE, [
        (_EXPONENT, f"not a number: {PLAIN_DECIMAL}; exponent notation (such as 1e1) is not accepted"),
        (r"[+-]?\d*,\d+", f"not a number: {PLAIN_DECIMAL}; a decimal comma is not accepted (write 12.5, not 12,5)"),
    ], f"not a number: {PLAIN_DECIMAL}")


def parse_whole_numbers(text: pd.Series, column: str) -> tuple[pd.Series, pd.Series]:
    """Text cells -> nullable ``Int64`` values and a reason per cell ("" = fine).

    A cell is a whole number only as plain ASCII digits, optionally after a minus sign
    (:data:`WHOLE_NUMBER_RE`): ``1e3``, ``1985.0``, ``1.99e3``, ``1,730`` and ``1 730`` are
    rejected with a reason saying why, never read as 1000, 1985, 1990 or 1730. A number of
    more than :data:`MAX_DIGITS` digits (leading zeros aside) is never converted (it could
    overflow 64-bit integers); it fails the column's range rule with that rule's reason. The
    conversion itself is exact (text -> int64, no float on the way). Empty cells are ``<NA>``.
    """
    filled = text != ""
    reason = _whole_number_problem(text.where(filled, "0"))
    digits = text.str.lstrip("-").str.lstrip("0")
    huge = filled & (reason == "") & (digits.str.len() > MAX_DIGITS)
    reason[huge] = SCHEMA_REASONS[column]
    ok = filled & (reason == "")
    values = pd.Series(pd.NA, index=text.index, dtype="Int64")
    if ok.any():
        values[ok] = text[ok].astype("int64")
    return values, reason.where(filled, "")


def parse_decimals(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text cells -> nullable ``Float64`` values and a reason per cell ("" = fine).

    Plain decimal notation only (:data:`DECIMAL_RE`: ``43.5``, ``12``, ``.5``, ``-1``): no
    exponent, no decimal comma, no ``nan``/``inf``. Empty cells are ``<NA>``.
    """
    filled = text != ""
    reason = _decimal_problem(text.where(filled, "0"))
    ok = filled & (reason == "")
    values = pd.Series(pd.NA, index=text.index, dtype="Float64")
    if ok.any():
        values[ok] = text[ok].astype("float64")
    return values, reason.where(filled, "")


def distinct_values(column: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """``(codes, distinct)``: each cell's position in ``distinct``, the column's distinct values
    (missing values among them, in order of first appearance); None when the column has nearly
    as many distinct values as rows (a rule is then as quick on the rows themselves), which the
    first 4,096 rows usually show (``record_id``, ``notes``) without factorising the rest."""
    head = column.iloc[:4096]
    if len(head) >= 64 and len(pd.unique(head)) > len(head) // 2:
        return None
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    if len(uniques) > len(column) // 2:
        return None
    return np.asarray(codes, dtype=np.int64), pd.Series(uniques, dtype=column.dtype)


def by_distinct_value(column: pd.Series, rule) -> tuple[pd.Series, ...]:
    """``rule(column)`` (a function returning Series on the column's index) worked out once per
    distinct value and broadcast to the rows; the same result as on the rows themselves, since
    every rule here reads one cell at a time. A catalogue of 10^6 rows has some 80 distinct years
    and 500 quantities."""
    found = distinct_values(column)
    if found is None:
        return rule(column)
    codes, distinct = found
    return tuple(pd.Series(result.array.take(codes), index=column.index, name=result.name)
                 for result in rule(distinct))


def coerce_types(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert number columns; return ``(typed, problems[row, column, value, reason])``.

    Whole-number columns (:data:`INT_COLUMNS`) go through :func:`parse_whole_numbers`,
    ``share_published`` through :func:`parse_decimals`; a cell that fails is ``<NA>`` in
    ``typed`` and one problem of its row. Each distinct text is parsed once
    (:func:`by_distinct_value`).
    """
    typed = raw.copy()
    problems = []
    for col in INT_COLUMNS + FLOAT_COLUMNS:
        text = raw[col]
        if col in INT_COLUMNS:
            typed[col], reason = by_distinct_value(text, lambda t: parse_whole_numbers(t, col))
        else:
            typed[col], reason = by_distinct_value(text, parse_decimals)
        bad = (reason != "").to_numpy(dtype=bool)
        if bad.any():
            problems.append(pd.DataFrame({"row": np.flatnonzero(bad), "column": col,
                                          "value": text[bad].to_numpy(),
                                          "reason": reason[bad].to_numpy()}))
    return typed, concat_problems(problems)


def cell_size_problems(raw: pd.DataFrame) -> pd.DataFrame:
    """Cells longer than :data:`MAX_CELL_CHARS` characters: one problem each.

    The problem's value is the cell's first 60 characters and its length (the rejected row
    keeps the whole cell).
    """
    parts = []
    for col in raw.columns:
        lengths = raw[col].str.len().to_numpy()
        bad = lengths > MAX_CELL_CHARS
        if bad.any():
            cells = raw[col].to_numpy(dtype=object)[bad]
            parts.append(pd.DataFrame({
                "row": np.flatnonzero(bad), "column": col,
                "value": [f"{c[:60]}... ({len(c):,} characters)" for c in cells],
                "reason": [f"cell of {n:,} characters, more than the {MAX_CELL_CHARS:,} accepted "
                           "(a spreadsheet cell's limit; a quote left open?)" for n in lengths[bad]]}))
    return concat_problems(parts)


def check_total(counts: pd.Series, path: str | Path) -> int:
    """The exact total of a file's ``count`` column; raise if it exceeds :data:`MAX_TOTAL`.

    Each count is at most :data:`MAX_QUANTITY` (10^9), so an int64 sum of fewer than 9.2 x
    10^9 rows (far more than fit in memory) cannot overflow; the total is then also kept
    at most 2^53, so that it stays exact when a calculation turns it into a float.
    """
    total = int(counts.sum())
    if total > MAX_TOTAL:
        raise CatalogueFileError(
            f"{path}: the quantities of the clean rows add up to {total:,}, more than "
            f"{MAX_TOTAL:,} (the largest total that stays exact in floating point); split the "
            "catalogue")
    return total


def concat_problems(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Problem frames (``row, column, value, reason``) as one, values as text; an empty frame
    with those columns when there is none."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "column": pd.Series(dtype=str),
                             "value": pd.Series(dtype=str), "reason": pd.Series(dtype=str)})
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype(str)
    return out


def schema_problems(typed: pd.DataFrame) -> pd.DataFrame:
    """Run :func:`catalogue_schema` lazily and return every failure as ``row, column, value, reason``.

    Each column's checks read one cell at a time, so each column is validated on its distinct
    values (:func:`distinct_values`), one schema of that column alone, and a failing value is a
    problem of every row holding it: the same problems as validating the rows.
    """
    parts = []
    for name in catalogue_schema().columns:
        found = distinct_values(typed[name])
        codes, distinct = found if found is not None else (None, typed[name].reset_index(drop=True))
        failed = _column_failures(name, distinct)
        if not len(failed):
            continue
        if codes is None:
            rows, values = failed.index.to_numpy(dtype="int64"), failed.to_numpy()
        else:
            bad = np.zeros(len(distinct), dtype=bool)
            bad[failed.index.to_numpy(dtype="int64")] = True
            rows = np.flatnonzero(bad[codes])
            values = failed.reindex(codes[rows]).to_numpy()
        parts.append(pd.DataFrame({"row": rows, "column": name, "value": values,
                                   "reason": SCHEMA_REASONS[name]}))
    return concat_problems(parts)


def _column_failures(name: str, values: pd.Series) -> pd.Series:
    """The values (by position) failing :func:`catalogue_schema`'s checks of column ``name``,
    as text."""
    import pandera.pandas as pa  # lazy: imported on first use, see catalogue_schema

    whole = catalogue_schema()
    schema = pa.DataFrameSchema({name: whole.columns[name]}, strict=False, coerce=False, name=whole.name)
    try:
        schema.validate(pd.DataFrame({name: values}), lazy=True)
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases
        fc = fc[fc["index"].notna() & fc["column"].notna()]
        unknown = fc[~fc["column"].isin(list(SCHEMA_REASONS))]
        if len(unknown):  # a dtype problem we did not foresee: say so, do not hide it
            raise RuntimeError(f"unexpected schema failure: {unknown.head().to_dict('records')}")
        return pd.Series(fc["failure_case"].astype(str).to_numpy(),
                         index=fc["index"].astype("int64").to_numpy()).sort_index()
    return pd.Series([], dtype=object)


def cross_field_problems(typed: pd.DataFrame) -> pd.DataFrame:
    """``year_to`` before ``year_from``, and duplicate ``record_id`` (all copies flagged)."""
    parts = []
    yf, yt = typed["year_from"], typed["year_to"]
    bad = (yf.notna() & yt.notna() & (yt < yf)).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        parts.append(pd.DataFrame({"row": np.flatnonzero(bad), "column": "year_to",
                                   "value": typed["year_to"][bad].astype(str).to_numpy(),
                                   "reason": "year_to is before year_from ("
                                   + typed["year_from"][bad].astype(str).to_numpy() + ")"}))
    ids = typed["record_id"]
    dup = (ids != "") & ids.duplicated(keep=False)
    if dup.any():
        rows = pd.Series(np.arange(len(ids)) + 1, index=ids.index)[dup]
        where = rows.groupby(ids[dup]).agg(lambda r: ", ".join(map(str, r)))
        parts.append(pd.DataFrame({"row": np.flatnonzero(dup.to_numpy()), "column": "record_id",
                                   "value": ids[dup].to_numpy(),
                                   "reason": "record_id is not unique (rows "
                                   + ids[dup].map(where).to_numpy() + ")"}))
    return concat_problems(parts)


def country_problems(typed: pd.DataFrame, crosswalk: _countries.Crosswalk,
                     fold_successors: bool = False) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Resolve both country columns; return ``(problems, {column: lookup frame})``.

    Each distinct name is looked up once (:meth:`Crosswalk.lookup` on the distinct names) and
    the answers are taken to the rows with pyarrow, never through Python objects.
    """
    parts, lookups = [], {}
    for col in ("country_of_design", "country_of_manufacture"):
        codes, names = pd.factorize(typed[col], use_na_sentinel=False)
        table = crosswalk.lookup(pd.Series(names, dtype=object), fold_successors=fold_successors,
                                 errors="mark")
        looked = pd.DataFrame({c: table[c].array.take(codes) for c in table.columns}, index=typed.index)
        lookups[col] = looked
        bad = (looked["error"] != "").to_numpy(dtype=bool)
        if bad.any():
            parts.append(pd.DataFrame({"row": np.flatnonzero(bad), "column": col,
                                       "value": typed[col][bad].to_numpy(),
                                       "reason": looked["error"][bad].to_numpy()}))
    return concat_problems(parts), lookups


def source_problems(typed: pd.DataFrame, known_ids: set[str]) -> pd.DataFrame:
    """Source ids that are not in ``known_ids`` (``sources.csv``).

    Each distinct ``source_ids`` cell is split (at ``;``, each part trimmed) once.
    """
    text = typed["source_ids"]
    codes, cells = pd.factorize(text, use_na_sentinel=False)
    unknown = {}
    for i, cell in enumerate(cells):
        ids = [part.strip() for part in str(cell).split(";")]
        missing = [x for x in ids if x != "" and x not in known_ids]
        if missing:
            unknown[i] = ", ".join(missing)
    if not unknown:
        return concat_problems([])
    bad = np.zeros(len(cells), dtype=bool)
    bad[list(unknown)] = True
    rows = np.flatnonzero(bad[codes])
    reasons = np.array([unknown.get(i, "") for i in range(len(cells))], dtype=object)
    return pd.DataFrame({"row": rows.astype("int64"), "column": "source_ids",
                         "value": text.to_numpy(dtype=object)[rows],
                         "reason": "source id(s) not in sources.csv: " + reasons[codes[rows]]})


def load_source_ids(path: str | Path) -> set[str]:
    """The ``source_id`` values of a ``sources.csv``."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if "source_id" not in table.columns:
        raise CatalogueFileError(f"{path}: no source_id column")
    return set(table["source_id"].str.strip())


def known_source_ids(given: set[str] | None, catalogue_path: str | Path,
                     read: dict[Path, set[str]] | None = None) -> set[str] | None:
    """The source ids a catalogue file may cite: ``given`` (the run's ``sources.csv``) and those
    of a ``sources.csv`` beside the file; None (not checked) when there is neither.

    ``read`` memoises the tables already read (several catalogues share a folder).
    """
    beside = paths.sources_beside(catalogue_path)
    if not beside.is_file():
        return given
    read = {} if read is None else read
    if beside not in read:
        read[beside] = load_source_ids(beside)
    return (given or set()) | read[beside]
