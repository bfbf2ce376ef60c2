"""Cleaning arms catalogues: every raw row ends up clean or rejected, and the processed catalogue.

A *catalogue* is a CSV in the catalogue schema (``docs/CONTRACTS.md``, ``docs/cleaning.md``):
one row per documented item or item type (``count_basis=item``), or per count a source
publishes (``published``) or that we derive from a published share (``derived``). The three
committed catalogues and a user's own file go through the same steps (:func:`clean_file`):

1. **Read the file** as trimmed text cells (:mod:`takingstock.data.catalogue_files`: encoding,
   line ends, separator; a file that cannot be used at all stops the run with an error naming
   it).
2. **Check the rows** (:mod:`takingstock.data.catalogue_checks`): number types, the schema's
   vocabularies and ranges, cross-field rules, country names against the crosswalk, source
   ids against ``sources.csv``, cell sizes. A row whose cells are all empty (a blank line, or
   only commas) is one problem, ``empty row``.
3. **Split.** A row with any problem goes to ``rejected`` (one line per row; the ``column``,
   ``value`` and ``reason`` fields list every problem of the row, separated by `` | ``) with
   its raw cells unchanged; the problem-level table (one line per problem) is kept too.
   ``raw rows = clean rows + rejected rows`` is asserted for every file
   (:func:`check_accounting`).
4. **Enrich** clean rows: canonical design and manufacture states with ISO code and bloc
   (:mod:`takingstock.data.countries`; former states kept apart unless ``fold_successors``),
   ``count`` (quantity where known, else 1; its total checked to stay exact), ``year_mid``,
   ``decade``, ``period_id``, ``period`` (:mod:`takingstock.data.periods`, once per distinct
   pair of years), and, over all files together, the era of design of the weapon type each
   designation names, with the state of design filled from that reference where the row
   leaves it empty (:mod:`takingstock.data.design_era`).

:func:`write_outputs` writes the processed catalogue (parquet), the rejected rows, the
problems and the cleaning report atomically; :func:`read_processed` and
:func:`load_processed` read the processed catalogue back for the analysis notebooks.

Text is kept exactly as written: HTML or script tags in a designation are *not* a reason to
reject a row and are not altered here; they are escaped where text reaches HTML or Markdown
(tables, briefings). ``source_row`` is the 1-based data row number (the header is not counted; a
quoted cell spanning lines still counts as one row; a blank line counts as a row).

Speed: every rule that reads one cell at a time is worked out once per distinct value and
broadcast to the rows. Measured on two shared cores, a synthetic catalogue of 10^6 rows
(``bench/make_catalogue.py``) cleans and is written in about 4.3 s, against about 13 s before,
with its outputs byte for byte the same; the memory it needs is mostly the processed catalogue
itself (about 630 MB of text at 10^6 rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from takingstock.core import atomic
from takingstock.core import paths
from takingstock.data import countries as _countries
from takingstock.data.catalogue_checks import (
    check_total, coerce_types, concat_problems, country_problems, cell_size_problems,
    cross_field_problems, known_source_ids, load_source_ids, schema_problems, source_problems,
)
from takingstock.data.catalogue_files import (
    CatalogueFileError, read_catalogue, release_memory, resolve_paths,
)
from takingstock.data.catalogue_names import catalogue_id
from takingstock.data.design_era import add_design_columns
from takingstock.data.periods import add_eras, load_periods

PROBLEM_COLUMNS = ["source_file", "source_row", "column", "value", "reason"]
REPORT_COLUMNS = ["source_file", "catalogue", "encoding", "delimiter", "raw_rows", "clean_rows",
                  "rejected_rows"]


@dataclass
class CleaningResult:
    """What :func:`clean_catalogues` returns.

    Attributes:
        clean: the processed catalogue (every raw column plus the processed columns).
        rejected: one line per rejected raw row (``PROBLEM_COLUMNS`` + raw columns).
        report: per file raw/clean/rejected counts (``REPORT_COLUMNS``).
        problems: one line per problem found (``PROBLEM_COLUMNS`` + ``catalogue``).
    """

    clean: pd.DataFrame
    rejected: pd.DataFrame
    report: pd.DataFrame
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))


def _raw_values(raw: pd.DataFrame, problems: pd.DataFrame) -> np.ndarray:
    """The raw text of each problem's cell (so reports show what the file says)."""
    values = problems["value"].to_numpy(dtype=object).copy()
    for col, idx in problems.groupby("column").indices.items():
        values[idx] = raw[col].to_numpy(dtype=object)[problems["row"].to_numpy()[idx]]
    return values


def _join_per_row(problems: pd.DataFrame) -> pd.DataFrame:
    """One line per row: column/value/reason of all its problems joined with `` | ``.

    Vectorised (a loop over the *rank* of a problem within its row, not over rows): a python
    groupby-join took about a minute for 10^6 rejected rows.
    """
    rows = problems["row"].to_numpy(dtype="int64")
    rank = problems.groupby("row", sort=False).cumcount().to_numpy()
    first = rank == 0
    keys = rows[first]
    cols = {c: problems[c].to_numpy(dtype=object)[first].astype(str).astype(object)
            for c in ("column", "value", "reason")}
    order = np.argsort(keys, kind="stable")
    for k in range(1, int(rank.max()) + 1 if len(rank) else 0):
        sel = rank == k
        pos = order[np.searchsorted(keys[order], rows[sel])]
        for c in cols:
            extra = problems[c].to_numpy(dtype=object)[sel].astype(str)
            cols[c][pos] = cols[c][pos] + " | " + extra
    return pd.DataFrame(cols, index=pd.Index(keys, name="row"))


def clean_file(path: str | Path, crosswalk: _countries.Crosswalk, periods: pd.DataFrame,
               fold_successors: bool = False, source_ids: set[str] | None = None) -> CleaningResult:
    """Clean one catalogue file (see the module docstring for every step)."""
    path = Path(path)
    raw, encoding = read_catalogue(path)
    name, cat_id = path.name, catalogue_id(path)
    delimiter = raw.attrs.get("delimiter", ",")
    typed, p_types = coerce_types(raw)
    parts = [p_types, schema_problems(typed), cross_field_problems(typed)]
    p_countries, lookups = country_problems(typed, crosswalk, fold_successors)
    parts.append(p_countries)
    if source_ids is not None:
        parts.append(source_problems(typed, source_ids))
    problems = concat_problems(parts)
    problems["value"] = _raw_values(raw, problems)
    # after _raw_values: an over-long cell's problem shows its start and length, not all of it
    problems = concat_problems([problems, cell_size_problems(raw)])
    # An all-empty row (a blank line, or only commas) is one problem, not one per column.
    empty = np.flatnonzero((raw == "").all(axis=1).to_numpy(dtype=bool))
    if len(empty):
        problems = concat_problems([
            problems[~problems["row"].isin(empty)],
            pd.DataFrame({"row": empty, "column": "", "value": "", "reason": "empty row"})])
    problems = problems.sort_values(["row", "column"], kind="stable")
    bad_rows = np.zeros(len(raw), dtype=bool)
    bad_rows[problems["row"].to_numpy(dtype="int64")] = True

    # Rejected: raw cells unchanged, with every problem of the row.
    joined = _join_per_row(problems)
    rejected = raw[bad_rows].copy()
    rejected.insert(0, "reason", joined["reason"].reindex(rejected.index).to_numpy())
    rejected.insert(0, "value", joined["value"].reindex(rejected.index).to_numpy())
    rejected.insert(0, "column", joined["column"].reindex(rejected.index).to_numpy())
    rejected.insert(0, "source_row", rejected.index + 1)
    rejected.insert(0, "source_file", name)
    rejected.insert(1, "catalogue", cat_id)

    # Clean: typed columns + processed columns.
    good = ~bad_rows
    clean = typed[good].copy()
    clean.insert(0, "source_row", clean.index + 1)
    clean.insert(0, "source_file", name)
    clean.insert(0, "catalogue", cat_id)
    d, m = lookups["country_of_design"][good], lookups["country_of_manufacture"][good]
    clean["design_state"] = plain_text(d["state"])
    clean["design_iso"] = plain_text(d["iso"])
    clean["design_bloc"] = plain_text(d["bloc"])
    clean["manufacture_state"] = plain_text(m["state"])
    clean["manufacture_iso"] = plain_text(m["iso"])
    clean["manufacture_bloc"] = plain_text(m["bloc"])
    clean["manufacture_successor"] = plain_text(m["successor"])
    clean["manufacture_kind"] = plain_text(m["kind"])
    del d, m, lookups
    clean["count"] = clean["quantity"].fillna(1).astype("int64")
    check_total(clean["count"], path)
    clean = add_eras_by_distinct_years(clean, periods)
    clean = clean.reset_index(drop=True)

    report = pd.DataFrame([{"source_file": name, "catalogue": cat_id, "encoding": encoding,
                            "delimiter": delimiter, "raw_rows": len(raw), "clean_rows": len(clean),
                            "rejected_rows": len(rejected)}], columns=REPORT_COLUMNS)
    check_accounting(report)
    problems = problems.assign(source_file=name, catalogue=cat_id, source_row=problems["row"] + 1)
    problems = problems[PROBLEM_COLUMNS + ["catalogue"]].reset_index(drop=True)
    del raw, typed
    release_memory()
    return CleaningResult(clean, rejected.reset_index(drop=True), report, problems)


def plain_text(column: pd.Series):
    """A text column as pandas' default ``str`` text (missing -> NaN) in one chunk, ready to be
    assigned to a frame by position: what ``column.to_numpy()`` gives, without making a
    Python string per cell."""
    values = pa.array(column.array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pa.chunked_array([values]).to_pandas().array


def add_eras_by_distinct_years(frame: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """:func:`takingstock.data.periods.add_eras` worked out once per distinct ``(year_from,
    year_to)`` pair and broadcast to the rows (the same columns, values and types)."""
    years = frame[["year_from", "year_to"]].reset_index(drop=True)
    start = pd.factorize(years["year_from"], use_na_sentinel=False)[0].astype(np.int64)
    end, ends = pd.factorize(years["year_to"], use_na_sentinel=False)
    inverse = np.asarray(pd.factorize(start * max(len(ends), 1) + end)[0], dtype=np.int64)
    first_rows = np.unique(inverse, return_index=True)[1]  # the first row of each pair
    distinct = add_eras(years.iloc[first_rows].reset_index(drop=True), periods)
    return frame.assign(**{col: pd.Series(distinct[col].array.take(inverse), index=frame.index)
                           for col in ("year_mid", "decade", "period_id", "period")})


def check_accounting(report: pd.DataFrame) -> None:
    """Raise AssertionError unless raw = clean + rejected for every file of ``report``."""
    off = report[report["raw_rows"] != report["clean_rows"] + report["rejected_rows"]]
    if len(off):
        raise AssertionError(f"rows lost while cleaning: {off.to_dict('records')}")


def clean_catalogues(catalogue_paths, crosswalk=None, periods=None, fold_successors: bool = False,
                     sources=None, weapon_types=None) -> CleaningResult:
    """Clean several catalogues into one processed catalogue.

    Args:
        catalogue_paths: a glob string, a path, or a list of paths/globs.
        crosswalk: a :class:`~takingstock.data.countries.Crosswalk`, a path, or None (committed one).
        periods: a periods DataFrame (:func:`takingstock.data.periods.load_periods`), a path, or None.
        fold_successors: count former states as their successors (Soviet Union -> Russia).
        sources: optional ``sources.csv`` path or set of ids; unknown source ids are rejected.
            A ``sources.csv`` beside a catalogue file adds its ids for that file
            (:func:`~takingstock.data.catalogue_checks.known_source_ids`).
        weapon_types: the weapon-type reference (a path, a frame from
            :func:`takingstock.data.weapon_types.load_weapon_types`, or None for the committed
            one) that gives the era of design and fills empty states of design
            (:mod:`takingstock.data.design_era`).

    Returns:
        :class:`CleaningResult` with all files together; raw = clean + rejected per file
        (asserted by :func:`clean_file` for each file).
    """
    if not isinstance(crosswalk, _countries.Crosswalk):
        crosswalk = _countries.load_crosswalk(crosswalk)
    if not isinstance(periods, pd.DataFrame):
        periods = load_periods(periods)
    source_ids = None
    if sources is not None:
        source_ids = set(sources) if isinstance(sources, (set, frozenset)) else load_source_ids(sources)
    read: dict[Path, set[str]] = {}
    results = [clean_file(p, crosswalk, periods, fold_successors, known_source_ids(source_ids, p, read))
               for p in resolve_paths(catalogue_paths)]
    names = [r.report["source_file"].iloc[0] for r in results]
    if len(set(names)) != len(names):
        raise CatalogueFileError(f"two catalogue files share a file name: {names}")
    clean = pd.concat([r.clean for r in results], ignore_index=True)
    rejected = pd.concat([r.rejected for r in results], ignore_index=True)
    report = pd.concat([r.report for r in results], ignore_index=True)
    problems = pd.concat([r.problems for r in results], ignore_index=True)
    del results  # the files' own frames, before the design columns are added to the whole
    clean = add_design_columns(clean, weapon_types, crosswalk, periods, fold_successors)
    release_memory()
    return CleaningResult(clean, rejected, report, problems)


def write_outputs(result: CleaningResult, processed_dir: str | Path | None = None) -> dict[str, Path]:
    """Write catalogue.parquet, rejected.csv, cleaning_report.csv (and problems.csv) atomically."""
    out = Path(processed_dir) if processed_dir is not None else paths.PROCESSED
    written = {}
    written["catalogue"] = paths.processed_file(out, "catalogue")
    with atomic.atomic_path(written["catalogue"]) as tmp:
        result.clean.to_parquet(tmp, index=False)
    for key, frame in (("rejected", result.rejected), ("cleaning_report", result.report),
                       ("problems", result.problems)):
        written[key] = atomic.write_text(paths.processed_file(out, key), frame.to_csv(index=False))
    release_memory()
    return written


#: Text columns of the processed catalogue that hold one value per row (read as plain text).
UNIQUE_TEXT_COLUMNS = ("record_id",)


#: A processed catalogue file at least this big is read a column at a time (memory; see
#: :func:`read_processed`), a smaller one in one read.
COLUMNWISE_BYTES = 8_000_000


def read_processed(parquet: str | Path) -> pd.DataFrame:
    """The processed catalogue from its parquet file, text columns as categoricals.

    A text column of the processed catalogue holds few distinct values (countries, categories,
    designations, reasons), so each is read as a pandas ``Categorical`` straight from the
    parquet dictionary: at 10^6 rows about 120 MB in memory instead of about 700 MB as strings,
    and read faster. ``record_id`` (:data:`UNIQUE_TEXT_COLUMNS`) stays plain text. Values,
    missing values and order of rows are those of the file.
    """
    schema = pq.read_schema(parquet)
    text = [f.name for f in schema if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
            and f.name not in UNIQUE_TEXT_COLUMNS]
    stored_index = [c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)]
    if stored_index or Path(parquet).stat().st_size < COLUMNWISE_BYTES:
        # a small file (every catalogue but a synthetic one), or one written with its index
        # (read whole, so the index comes back as one): the whole table in one read
        frame = pq.read_table(parquet, read_dictionary=text).to_pandas(self_destruct=True)
        release_memory()
        return frame
    # A large file one column at a time, its read buffers handed back before the next: at 10^6
    # rows the whole-table read peaked at ~430 MB above the kernel's start for a frame of
    # ~160 MB; a column at a time peaks at the frame itself. The columns are kept as read (no
    # copy). On the committed catalogue (68 rows, 42 columns) it took 55 ms against 6.5 ms.
    source = pq.ParquetFile(parquet, read_dictionary=text)
    columns = {}
    for name in schema.names:
        columns[name] = source.read(columns=[name]).to_pandas(self_destruct=True)[name]
        release_memory()
    return pd.DataFrame(columns, copy=False)


def load_processed(processed_dir: str | Path | None = None, raw_dir: str | Path | None = None) -> pd.DataFrame:
    """The processed catalogue, for the analysis notebooks.

    Reads ``processed_dir/catalogue.parquet`` (step 01's output). When step 01 has not run
    yet (a notebook opened by hand on a fresh checkout), cleans ``raw_dir/catalogue_*.csv`` in
    memory instead and says so, so every notebook runs on its own. The fallback uses
    ``raw_dir``'s own ``country_crosswalk.csv``, ``periods.csv`` and (when present)
    ``sources.csv`` and ``weapon_types.csv``, as step 01 does by default.
    """
    parquet = paths.processed_file(processed_dir if processed_dir is not None else paths.PROCESSED, "catalogue")
    if parquet.exists():
        return read_processed(parquet)
    raw = Path(raw_dir if raw_dir is not None else paths.RAW)
    print(f"{parquet} not found: cleaning {raw}/catalogue_*.csv in memory "
          "(run 01_clean_catalogue to save it)")
    sources, types = raw / "sources.csv", raw / "weapon_types.csv"
    return clean_catalogues(str(raw / "catalogue_*.csv"), raw / "country_crosswalk.csv",
                            raw / "periods.csv", sources=sources if sources.exists() else None,
                            weapon_types=types if types.exists() else None).clean
