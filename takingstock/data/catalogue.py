"""Load, validate and clean arms catalogues; every raw row ends up clean or rejected.

Methodology
-----------
A *catalogue* is a CSV in the catalogue schema (``docs/CONTRACTS.md``, ``docs/cleaning.md``):
one row per documented item or item type (``count_basis=item``), or per count a source
publishes (``published``) or that we derive from a published share (``derived``). The three
committed catalogues and a user's own file go through the same steps:

1. **Read the file.** UTF-8 (a byte-order mark is detected and dropped), else Latin-1 as a
   fall-back when the bytes are not UTF-8 but look like Latin-1 text (no control bytes
   0x00-0x08, 0x0E-0x1F, 0x7F-0x9F; a Windows-1252 file with "smart quotes" must be re-saved
   as UTF-8). Line ends may be LF, CRLF or an old Mac's lone CR (all read as LF). The field
   separator is the one of ``,``, ``;`` and tab that splits the header line into the most
   fields (:func:`detect_delimiter`; ties go to the comma): spreadsheets set to a European
   locale write ``;``, and such a file is read as it is (a ``;`` inside a cell, as in
   ``source_ids``, must then be quoted, or the row has too many fields and is named). The
   encoding and the separator used are stated in the cleaning report. A file that cannot be
   used at all (missing, empty, not decodable, not parseable as CSV, missing a required
   column, or a header with no data rows) raises :class:`CatalogueFileError` naming the file
   and the problem: the run stops rather than silently lose a catalogue, or pass on an empty
   one. Missing *optional* columns are added empty. A cell may be of any length when reading
   (Python's csv module alone refuses cells over 131,072 characters); a cell longer than
   :data:`MAX_CELL_CHARS` (32,767, what a spreadsheet cell holds) is a problem of its row,
   since no catalogue field needs more and it is most often a quote left open.
   How: the file is worked on as bytes, decoded only where text is needed (the header, a
   non-ASCII file's check). The number of fields of every record comes from Python's csv
   module (the reading that defines what a file means), and the cells from pyarrow's CSV reader
   when every record is as wide as the header, from pandas' otherwise (blank lines, short
   rows). Both are checked to give what the csv module and pandas give on the decoded text.
2. **Types.** Every cell is read as text and trimmed. Whole-number columns (``year_from``,
   ``year_to``, ``quantity``) accept plain ASCII digits only, optionally after a minus sign
   (:func:`parse_whole_numbers`): ``1e3``, ``1985.0``, ``1.99e3``, ``1,730`` are rows
   rejected with the reason, never read as 1000, 1985, 1990, 1730. The text is converted to
   int64 exactly (never through a float); a number of more than 18 digits is not converted
   and fails its column's range. ``share_published`` accepts plain decimal notation
   (``43.5``; no exponent, no decimal comma, no ``nan``). A cell that fails is a row problem.
3. **Schema checks** with pandera (:data:`SCHEMA`), run lazily so that every problem of every
   row is found in one pass: controlled vocabularies (category, acquisition, count_basis,
   confidence), required text present, years in ``YEAR_MIN..YEAR_MAX``, quantity in
   ``0..MAX_QUANTITY`` (10^9), share in 0..100, source ids a ``;``-separated list. Each of
   these checks reads one cell, so each column is validated on its distinct values and a
   failing value is a problem of every row holding it (:func:`schema_problems`).
4. **Cross-field and reference checks**, vectorised in pandas: ``year_to >= year_from``;
   ``record_id`` unique within the file (every row sharing an id is rejected, since we cannot
   know which one is right); both country columns resolve in the country crosswalk (an
   unknown name is rejected with the closest known names, never guessed); optionally, every
   source id exists in ``sources.csv``: the one given (the committed ``data/raw/sources.csv``)
   together with a ``sources.csv`` beside the catalogue file, where a user lists their own
   sources (:func:`takingstock.core.paths.sources_beside`).
5. **Split.** A row with any problem goes to ``rejected`` (one line per row; the ``column``,
   ``value`` and ``reason`` fields list every problem of the row, separated by `` | ``) with
   its raw cells unchanged; the problem-level table (one line per problem) is kept too.
   ``raw rows = clean rows + rejected rows`` is asserted for every file.
6. **Enrich** clean rows: canonical design and manufacture states with ISO code and bloc
   (``takingstock.data.countries``; former states kept apart unless ``fold_successors``), ``count``
   (quantity where known, else 1), ``year_mid``, ``decade``, ``period_id``, ``period``
   (``takingstock.analysis.eras``), and the era of design of the weapon type each designation names,
   with the state of design filled from that reference where the row leaves it empty
   (``takingstock.analysis.designs``).

Speed: every rule that reads one cell at a time (numbers, the schema, country names, source
ids, decades and periods, the era of design) is worked out once per distinct value and
broadcast to the rows (:func:`by_distinct_value`): a catalogue of 10^6 rows holds some 80
distinct years, 250 country names and 500 quantities. Measured on two shared cores, a
synthetic catalogue of 10^6 rows (``bench/make_catalogue.py``) cleans and is written in about
4.3 s, against about 13 s before, with its outputs byte for byte the same; the memory it needs
is mostly the processed catalogue itself (about 630 MB of text at 10^6 rows).

Exact arithmetic: every count is at most :data:`MAX_QUANTITY` (10^9 items in one row), so an
int64 sum of counts cannot overflow for fewer than 9.2 x 10^9 rows (far more than fit in
memory), and a file whose clean counts add up to more than :data:`MAX_TOTAL` (2^53, some 9
million rows at the largest quantity) is refused (:func:`check_total`): below it a total is
exact in float64 too. So every total computed from a catalogue is exact, and every share (a
count over its total, x 100) lies between 0 and 100, correct to float precision.

Text is kept exactly as written: HTML or script tags in a designation are *not* a reason to
reject a row and are not altered here; they are escaped where text reaches HTML or Markdown
(tables, briefings). ``source_row`` is the 1-based data row number (the header is not counted; a
quoted cell spanning lines still counts as one row; a blank line counts as a row). A row whose
cells are all empty (a blank line, or only commas) is rejected as ``empty row``, so
``raw = clean + rejected`` still holds. A header naming a column twice, or a data row with more
fields than the header (say a trailing comma), raises :class:`CatalogueFileError` naming the
column or the rows: pandas would otherwise rename the second column (``quantity.1``) or shift
every column of the file by one.
"""

from __future__ import annotations

import csv as _csv
import functools
import glob as _glob
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from takingstock.data import countries as _countries
from takingstock.analysis import designs as _designs
from takingstock.analysis import eras as _eras
from takingstock.core import atomic
from takingstock.core import paths

CATEGORIES = ("pistol", "rifle", "machine gun", "sniper/anti-materiel rifle", "RPG/recoilless",
              "guided anti-tank missile", "MANPADS", "mortar", "artillery", "rocket",
              "armoured vehicle", "ammunition", "improvised", "other")
ACQUISITIONS = ("iraqi capture", "syrian capture", "syrian opposition supply", "illicit trade",
                "improvised", "unknown")
COUNT_BASES = ("item", "published", "derived")
CONFIDENCES = ("R", "PR", "N", "own")
REQUIRED_COLUMNS = ("record_id", "category", "designation", "count_basis", "confidence",
                    "source_ids")
OPTIONAL_COLUMNS = ("country_of_design", "country_of_manufacture", "year_from", "year_to",
                    "acquisition", "quantity", "share_published", "notes")
RAW_COLUMNS = ("record_id", "category", "designation", "country_of_design",
               "country_of_manufacture", "year_from", "year_to", "acquisition", "quantity",
               "count_basis", "share_published", "confidence", "source_ids", "notes")
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
DELIMITERS = (",", ";", "\t")
WHOLE_NUMBER_RE = r"-?[0-9]+"
DECIMAL_RE = r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
PLAIN_DIGITS = "write it in plain digits, such as 1985"
PLAIN_DECIMAL = "write it in plain decimal notation, such as 43.5"
PROBLEM_COLUMNS = ["source_file", "source_row", "column", "value", "reason"]
REPORT_COLUMNS = ["source_file", "catalogue", "encoding", "delimiter", "raw_rows", "clean_rows",
                  "rejected_rows"]
_SOURCE_IDS_RE = r"^[^;\s]+(\s*;\s*[^;\s]+)*$"
_LATIN1_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


class CatalogueFileError(ValueError):
    """A catalogue file that cannot be used at all; the message names the file and why."""


def _vocab(values: Iterable[str], allow_empty: bool = False):
    import pandera.pandas as pa

    allowed = list(values) + ([""] if allow_empty else [])
    return pa.Check.isin(allowed)


@functools.lru_cache(maxsize=1)
def _schema():
    """:data:`SCHEMA`, built on first use: pandera (and pydantic under it) take ~0.17 s to
    import, and only step 01 validates; the notebooks that read the processed catalogue never
    need them, nor does the pipeline's fork server before its first kernels."""
    import pandera.pandas as pa

    return pa.DataFrameSchema(
        {
            "record_id": pa.Column(str, pa.Check.str_length(min_value=1)),
            "category": pa.Column(str, _vocab(CATEGORIES)),
            "designation": pa.Column(str, pa.Check.str_length(min_value=1)),
            "country_of_design": pa.Column(str),
            "country_of_manufacture": pa.Column(str),
            "year_from": pa.Column("Int64", pa.Check.in_range(YEAR_MIN, YEAR_MAX), nullable=True),
            "year_to": pa.Column("Int64", pa.Check.in_range(YEAR_MIN, YEAR_MAX), nullable=True),
            "acquisition": pa.Column(str, _vocab(ACQUISITIONS, allow_empty=True)),
            "quantity": pa.Column("Int64", pa.Check.in_range(0, MAX_QUANTITY), nullable=True),
            "count_basis": pa.Column(str, _vocab(COUNT_BASES)),
            "share_published": pa.Column("Float64", pa.Check.in_range(0, 100), nullable=True),
            "confidence": pa.Column(str, _vocab(CONFIDENCES)),
            "source_ids": pa.Column(str, pa.Check.str_matches(_SOURCE_IDS_RE)),
            "notes": pa.Column(str),
        },
        strict=False,
        coerce=False,
        name="catalogue",
    )


def __getattr__(name: str):
    """``SCHEMA``: the catalogue schema on typed columns (text as ``str``, whole numbers as
    nullable ``Int64``), a pandera ``DataFrameSchema`` built on first use (:func:`_schema`)."""
    if name == "SCHEMA":
        return _schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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


def catalogue_id(path: str | Path) -> str:
    """``catalogue_amnesty_2015.csv`` -> ``amnesty_2015``; any other file -> its stem."""
    stem = Path(path).stem
    return stem[len("catalogue_"):] if stem.startswith("catalogue_") and len(stem) > 10 else stem


def resolve_paths(catalogues: str | Path | Iterable[str | Path]) -> list[Path]:
    """A glob string, one path, or a list of paths/globs -> sorted distinct paths.

    A glob that matches nothing raises :class:`CatalogueFileError` (nothing to clean is an
    error, not an empty result); a plain path is returned even if missing, so that reading it
    names the missing file.
    """
    items = [catalogues] if isinstance(catalogues, (str, Path)) else list(catalogues)
    out: list[Path] = []
    for item in items:
        text = str(item)
        if any(ch in text for ch in "*?["):
            hits = sorted(_glob.glob(text))
            if not hits:
                raise CatalogueFileError(f"{text}: no catalogue file matches this pattern")
            out.extend(Path(h) for h in hits)
        else:
            out.append(Path(text))
    seen: dict[str, Path] = {}
    for p in out:
        seen.setdefault(str(p.resolve()), p)
    if not seen:
        raise CatalogueFileError("no catalogue files given")
    return list(seen.values())


def decode(data: bytes, path: str | Path) -> tuple[str, str]:
    """Decode a catalogue's bytes; return ``(text, encoding)`` or raise CatalogueFileError."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise CatalogueFileError(f"{path}: starts with a UTF-8 byte-order mark but is not "
                                     f"valid UTF-8 ({exc.reason} at byte {exc.start + 3})") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        bad = _LATIN1_CONTROL.search(data)
        if bad:
            raise CatalogueFileError(
                f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}) and not plausible Latin-1 "
                f"(control byte 0x{data[bad.start()]:02x} at byte {bad.start()}); re-save the "
                "file as UTF-8") from None
        return data.decode("latin-1"), "latin-1"


def normalise_line_ends(text: str) -> str:
    """Every line end (``\r\n``, ``\n`` or an old-Mac lone ``\r``) -> ``\n``.

    Python's csv reader refuses a lone ``\r`` outside quotes ("new-line character seen in
    unquoted field"), so a file saved with CR-only line ends is read as if it had ``\n``. A
    line break inside a quoted cell becomes ``\n`` too.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def detect_delimiter(header_line: str) -> str:
    """The field separator of a catalogue, from its header line: ``,``, ``;`` or tab.

    The separator that splits the header into the most fields wins (a tie goes to the comma,
    the catalogue format's own separator). Many European spreadsheets save "CSV" with ``;``,
    and some exports use tabs; such files are read as they are and the separator used is
    stated in the cleaning report.
    """
    counts = {d: len(next(_csv.reader([header_line], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


def _record_widths(text: str, path: Path, delimiter: str) -> tuple[list[str], np.ndarray]:
    """The header fields and the number of fields of every data record (blank line: 0).

    A cell may be of any size (the file is in memory already): Python's csv reader, which
    otherwise refuses a file with a cell over 131,072 characters, is allowed the length of the
    text (the limit is process-wide; it is only ever raised). Over-long cells are rejected row
    by row later (:func:`cell_size_problems`).
    """
    if _csv.field_size_limit() < len(text) + 1:
        _csv.field_size_limit(len(text) + 1)
    try:
        records = _csv.reader(io.StringIO(text), delimiter=delimiter)
        header = next(records)
        widths = np.fromiter((len(r) for r in records), dtype="int64")
    except _csv.Error as exc:
        raise CatalogueFileError(f"{path}: not a readable CSV file ({exc})") from None
    return header, widths


def _delimiter_name(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else delimiter


def checked_bytes(data: bytes, path: str | Path) -> tuple[bytes, str, str]:
    """A catalogue's bytes checked as text, without decoding all of it when it is ASCII.

    Returns ``(body, codec, encoding)``: the bytes without a UTF-8 byte-order mark, the codec
    that decodes them (``utf-8`` or ``latin-1``) and the encoding the cleaning report states
    (``utf-8-sig`` for a file with the mark). The rules are :func:`decode`'s; a pure-ASCII
    file (the common case) is UTF-8 at once. Raises CatalogueFileError as :func:`decode` does.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
        if not body.isascii():
            decode(data, path)  # raises if not valid UTF-8
        return body, "utf-8", "utf-8-sig"
    if data.isascii():
        return data, "utf-8", "utf-8"
    encoding = decode(data, path)[1]
    return data, encoding, encoding


def _is_blank(body: bytes, codec: str) -> bool:
    """Whether the text holds only white space (as ``str.strip`` sees it)."""
    rest = body.lstrip(b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")
    if not rest:
        return True
    return rest[0] >= 0x80 and not rest.decode(codec).strip()


def normalise_line_end_bytes(data: bytes) -> bytes:
    """:func:`normalise_line_ends` on the bytes of a UTF-8 or Latin-1 file (CR and LF are
    single bytes in both, never part of another character)."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in data else data


def _parse_with_arrow(body: bytes, codec: str, delimiter: str, n_columns: int) -> pd.DataFrame:
    """The data records of a CSV whose every record is as wide as the header, as text columns.

    pyarrow's CSV reader reads such a file as pandas' would (the same quoting rules; every cell
    text, an empty cell ``""``) in a fraction of the time (10^6 rows: ~1 s against ~9 s).
    Columns are named ``0..n-1`` (the caller names them).
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = [str(i) for i in range(n_columns)]
    table = pa_csv.read_csv(
        pa.BufferReader(body),
        read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, encoding=codec.replace("-", "")),
        parse_options=pa_csv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                          escape_char=False, ignore_empty_lines=False,
                                          newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                              strings_can_be_null=False,
                                              quoted_strings_can_be_null=False))
    return table.to_pandas()


def read_catalogue(path: str | Path) -> tuple[pd.DataFrame, str]:
    """Read one catalogue CSV as trimmed text cells.

    Returns:
        ``(frame, encoding)``: every column as ``str`` (empty string for an empty cell), index
        0..n-1, all :data:`RAW_COLUMNS` present (missing optional ones added empty). The
        separator used (``,``, ``;`` or ``tab``, see :func:`detect_delimiter`) is in
        ``frame.attrs["delimiter"]``.

    Raises:
        CatalogueFileError naming the file: missing, a folder, empty, undecodable, not CSV,
        missing required column(s), a header with no data rows.

    The file is worked on as bytes (:func:`checked_bytes`, :func:`normalise_line_end_bytes`):
    the field count of every record comes from the csv module and the cells from pyarrow's CSV
    reader when every record is as wide as the header (pandas' otherwise, for short rows and
    blank lines). Both give what the csv module and pandas give on the decoded text.
    """
    path = Path(path)
    if not path.exists():
        raise CatalogueFileError(f"{path}: catalogue file not found")
    if not path.is_file():
        raise CatalogueFileError(f"{path}: is not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogueFileError(f"{path}: cannot be read ({exc.strerror})") from None
    body, codec, encoding = checked_bytes(data, path)
    del data
    if _is_blank(body, codec):
        raise CatalogueFileError(f"{path}: the file is empty (no header line)")
    body = normalise_line_end_bytes(body)
    first = body.find(b"\n")
    delimiter = detect_delimiter(body[:first if first >= 0 else len(body)].decode(codec))
    header, widths = _record_widths(body.decode(codec), path, delimiter)
    names = [c.strip() for c in header]
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise CatalogueFileError(f"{path}: column(s) appear twice in the header: {', '.join(dupes)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        sep = "" if delimiter == "," else f", read as {_delimiter_name(delimiter)}-separated"
        raise CatalogueFileError(f"{path}: missing required column(s): {', '.join(missing)} "
                                 f"(found: {', '.join(names)}{sep})")
    blank = int((widths == 0).sum())
    if blank == len(widths):
        only = f" (only {blank} blank line(s) after it)" if blank else ""
        raise CatalogueFileError(f"{path}: the file has a header but no data rows{only}")
    wide = np.flatnonzero(widths > len(header))
    if len(wide):
        rows = ", ".join(str(r + 1) for r in wide[:5]) + (" ..." if len(wide) > 5 else "")
        sep = "a trailing comma?" if delimiter == "," else (
            f"the file is {_delimiter_name(delimiter)}-separated: a cell holding "
            f"'{delimiter}' (such as source_ids 'a;b') must be quoted" if delimiter == ";"
            else "a trailing tab?")
        raise CatalogueFileError(
            f"{path}: {len(wide)} data row(s) have more fields than the header's {len(header)} "
            f"(row {wide[0] + 1} has {widths[wide[0]]}; rows {rows}); {sep} "
            "Every row must have at most one field per header column")
    try:
        if bool((widths == len(header)).all()):
            frame = _parse_with_arrow(body, codec, delimiter, len(header))
        else:
            # index_col=False: a row with a trailing comma must not turn the first column into
            # the index; skip_blank_lines=False: blank lines are rows (rejected as empty), so
            # row numbers match the file and raw = clean + rejected holds.
            frame = pd.read_csv(io.BytesIO(body), sep=delimiter, dtype=str, keep_default_na=False,
                                skipinitialspace=False, index_col=False, skip_blank_lines=False,
                                encoding=codec)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise CatalogueFileError(f"{path}: not a readable CSV file ({exc})") from None
    del body
    if len(frame) != len(widths):
        raise CatalogueFileError(f"{path}: read {len(frame)} data rows but the file has "
                                 f"{len(widths)} records; check its quoting")
    frame.columns = names
    for col in OPTIONAL_COLUMNS:
        if col not in frame.columns:
            frame[col] = ""
    frame = pd.DataFrame({col: trimmed_text(frame[col]) for col in frame.columns})
    frame.attrs["delimiter"] = _delimiter_name(delimiter)
    release_memory()
    return frame, encoding


ROW_CHUNK = 65_536
"""Rows per chunk of every text column read (what pandas' reader of a text buffer gives)."""


def trimmed_text(column: pd.Series) -> pd.Series:
    """A column as ``str`` text with white space trimmed at both ends (``Series.str.strip``),
    held in chunks of :data:`ROW_CHUNK` rows, index 0..n-1.

    The chunks matter for one thing: the bytes of the parquet file written from the column.
    The parquet writer works through the chunks it is handed, and a column of many distinct
    values (``record_id``, whose dictionary overflows, so the writer falls back to plain
    pages) came out differently when cut in pyarrow's reading blocks (about 29,000 rows at
    10^6 rows) than in the 65,536-row chunks pandas' reader of a text buffer gives. Text is
    always cut in those, whichever reader read it, so the processed catalogue is the same file
    byte for byte as before this reader.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    whole = pc.utf8_trim_whitespace(pa.array(column.astype(str).array))
    if isinstance(whole, pa.ChunkedArray):
        whole = whole.combine_chunks()
    chunks = [whole.slice(i, ROW_CHUNK) for i in range(0, len(whole), ROW_CHUNK)] or [whole]
    return pa.chunked_array(chunks).to_pandas()


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
    return typed, _concat_problems(problems)


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
    return _concat_problems(parts)


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


def _concat_problems(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "column": pd.Series(dtype=str),
                             "value": pd.Series(dtype=str), "reason": pd.Series(dtype=str)})
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype(str)
    return out


def schema_problems(typed: pd.DataFrame) -> pd.DataFrame:
    """Run :data:`SCHEMA` lazily and return every failure as ``row, column, value, reason``.

    Each column's checks read one cell at a time, so each column is validated on its distinct
    values (:func:`distinct_values`), one schema of that column alone, and a failing value is a
    problem of every row holding it: the same problems as validating the rows.
    """
    parts = []
    for name in _schema().columns:
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
    return _concat_problems(parts)


def _column_failures(name: str, values: pd.Series) -> pd.Series:
    """The values (by position) failing :data:`SCHEMA`'s checks of column ``name``, as text."""
    import pandera.pandas as pa

    whole = _schema()
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
    return _concat_problems(parts)


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
    return _concat_problems(parts), lookups


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
        return _concat_problems([])
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
    problems = _concat_problems(parts)
    problems["value"] = _raw_values(raw, problems)
    # after _raw_values: an over-long cell's problem shows its start and length, not all of it
    problems = _concat_problems([problems, cell_size_problems(raw)])
    # An all-empty row (a blank line, or only commas) is one problem, not one per column.
    empty = np.flatnonzero((raw == "").all(axis=1).to_numpy(dtype=bool))
    if len(empty):
        problems = _concat_problems([
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
    import pyarrow as pa

    values = pa.array(column.array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pa.chunked_array([values]).to_pandas().array


def add_eras_by_distinct_years(frame: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """:func:`takingstock.analysis.eras.add_eras` worked out once per distinct ``(year_from, year_to)``
    pair and broadcast to the rows (the same columns, values and types)."""
    years = frame[["year_from", "year_to"]].reset_index(drop=True)
    start = pd.factorize(years["year_from"], use_na_sentinel=False)[0].astype(np.int64)
    end, ends = pd.factorize(years["year_to"], use_na_sentinel=False)
    inverse = np.asarray(pd.factorize(start * max(len(ends), 1) + end)[0], dtype=np.int64)
    first_rows = np.unique(inverse, return_index=True)[1]  # the first row of each pair
    distinct = _eras.add_eras(years.iloc[first_rows].reset_index(drop=True), periods)
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
        periods: a periods DataFrame (:func:`takingstock.analysis.eras.load_periods`), a path, or None.
        fold_successors: count former states as their successors (Soviet Union -> Russia).
        sources: optional ``sources.csv`` path or set of ids; unknown source ids are rejected.
            A ``sources.csv`` beside a catalogue file adds its ids for that file
            (:func:`known_source_ids`).
        weapon_types: the weapon-type reference (a path, a frame from
            :func:`takingstock.analysis.designs.load_weapon_types`, or None for the committed one) that
            gives the era of design and fills empty states of design (``takingstock.analysis.designs``).

    Returns:
        :class:`CleaningResult` with all files together; raw = clean + rejected per file
        (asserted by :func:`clean_file` for each file).
    """
    if not isinstance(crosswalk, _countries.Crosswalk):
        crosswalk = _countries.load_crosswalk(crosswalk)
    if not isinstance(periods, pd.DataFrame):
        periods = _eras.load_periods(periods)
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
    clean = _designs.add_design_columns(clean, weapon_types, crosswalk, periods, fold_successors)
    release_memory()
    return CleaningResult(clean, rejected, report, problems)


def write_outputs(result: CleaningResult, processed_dir: str | Path | None = None) -> dict[str, Path]:
    """Write catalogue.parquet, rejected.csv, cleaning_report.csv (and problems.csv) atomically."""
    out = Path(processed_dir) if processed_dir is not None else paths.PROCESSED
    written = {}
    with atomic.atomic_path(out / "catalogue.parquet") as tmp:
        result.clean.to_parquet(tmp, index=False)
    written["catalogue"] = out / "catalogue.parquet"
    for key, frame in (("rejected", result.rejected), ("cleaning_report", result.report),
                       ("problems", result.problems)):
        written[key] = atomic.write_text(out / f"{key}.csv", frame.to_csv(index=False))
    release_memory()
    return written


def release_memory() -> None:
    """Give the memory pyarrow's allocator keeps after freeing (its pages) back to the system.

    The cleaning step makes and frees large text arrays (the file's cells, their trimmed
    copies, look-up columns); the allocator keeps the freed pages for later use, so the
    kernel's resident memory stays at its highest point. Measured at 10^6 rows: about 100 MB
    returned after the clean, and about 260 MB after reading the processed catalogue
    (:func:`read_processed`), in a few milliseconds.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


#: Text columns of the processed catalogue that hold one value per row (read as plain text).
UNIQUE_TEXT_COLUMNS = ("record_id",)


def read_processed(parquet: str | Path) -> pd.DataFrame:
    """The processed catalogue from its parquet file, text columns as categoricals.

    A text column of the processed catalogue holds few distinct values (countries, categories,
    designations, reasons), so each is read as a pandas ``Categorical`` straight from the
    parquet dictionary: at 10^6 rows about 120 MB in memory instead of about 700 MB as strings,
    and read faster. ``record_id`` (:data:`UNIQUE_TEXT_COLUMNS`) stays plain text. Values,
    missing values and order of rows are those of the file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(parquet)
    text = [f.name for f in schema if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
            and f.name not in UNIQUE_TEXT_COLUMNS]
    stored_index = [c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)]
    if stored_index:  # a file written with its index: read whole, so the index comes back as one
        frame = pq.read_table(parquet, read_dictionary=text).to_pandas(self_destruct=True)
        release_memory()
        return frame
    # One column at a time, its read buffers handed back before the next: at 10^6 rows the
    # whole-table read peaked at ~430 MB above the kernel's start for a frame of ~160 MB; a
    # column at a time peaks at the frame itself. The columns are kept as read (no copy).
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
    parquet = Path(processed_dir if processed_dir is not None else paths.PROCESSED) / "catalogue.parquet"
    if parquet.exists():
        return read_processed(parquet)
    raw = Path(raw_dir if raw_dir is not None else paths.RAW)
    print(f"{parquet} not found: cleaning {raw}/catalogue_*.csv in memory "
          "(run 01_clean_catalogue to save it)")
    sources, types = raw / "sources.csv", raw / "weapon_types.csv"
    return clean_catalogues(str(raw / "catalogue_*.csv"), raw / "country_crosswalk.csv",
                            raw / "periods.csv", sources=sources if sources.exists() else None,
                            weapon_types=types if types.exists() else None).clean
