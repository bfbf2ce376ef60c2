"""Reading catalogue files: bytes to trimmed text cells, or a clear error naming the file.

A *catalogue* is a CSV in the catalogue schema (``docs/CONTRACTS.md``, ``docs/cleaning.md``).
This module is the first step of cleaning one (:mod:`takingstock.data.cleaning`); the checks of
the cells are :mod:`takingstock.data.catalogue_checks`.

Method
------
**Encoding.** UTF-8 (a byte-order mark is detected and dropped), else Latin-1 as a fall-back
when the bytes are not UTF-8 but look like Latin-1 text (no control bytes 0x00-0x08,
0x0E-0x1F, 0x7F-0x9F; a Windows-1252 file with "smart quotes" must be re-saved as UTF-8).

**Line ends** may be LF, CRLF or an old Mac's lone CR (all read as LF).

**Separator.** The one of ``,``, ``;`` and tab that splits the header line into the most
fields (:func:`detect_delimiter`; ties go to the comma): spreadsheets set to a European locale
write ``;``, and such a file is read as it is (a ``;`` inside a cell, as in ``source_ids``,
must then be quoted, or the row has too many fields and is named). The encoding and the
separator used are stated in the cleaning report.

**A file that cannot be used at all** (missing, empty, not decodable, not parseable as CSV,
missing a required column, or a header with no data rows) raises :class:`CatalogueFileError`
naming the file and the problem: the run stops rather than silently lose a catalogue, or pass
on an empty one. So does a header naming a column twice, or a data row with more fields than
the header (say a trailing comma), naming the column or the rows: pandas would otherwise
rename the second column (``quantity.1``) or shift every column of the file by one. Missing
*optional* columns are added empty.

**Cells** are read as text and trimmed. A cell may be of any length when reading (Python's csv
module alone refuses cells over 131,072 characters); an over-long cell is a problem of its row
(:func:`takingstock.data.catalogue_checks.cell_size_problems`). Text is kept exactly as written
(HTML in a designation is escaped where text reaches HTML or Markdown, never here). Row ``i``
of the frame is data row ``i + 1`` of the file (the header is not counted; a quoted cell
spanning lines is one row; a blank line is a row, later rejected as ``empty row``).

**How.** The file is worked on as bytes, decoded only where text is needed (the header, a
non-ASCII file's check). The number of fields of every record comes from Python's csv module
(the reading that defines what a file means), and the cells from pyarrow's CSV reader when
every record is as wide as the header, from pandas' otherwise (blank lines, short rows). Both
are checked to give what the csv module and pandas give on the decoded text.
"""

from __future__ import annotations

import csv as _csv
import glob as _glob
import io
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv


REQUIRED_COLUMNS = ("record_id", "category", "designation", "count_basis", "confidence",
                    "source_ids")
OPTIONAL_COLUMNS = ("country_of_design", "country_of_manufacture", "year_from", "year_to",
                    "acquisition", "quantity", "share_published", "notes")
RAW_COLUMNS = ("record_id", "category", "designation", "country_of_design",
               "country_of_manufacture", "year_from", "year_to", "acquisition", "quantity",
               "count_basis", "share_published", "confidence", "source_ids", "notes")
DELIMITERS = (",", ";", "\t")
_LATIN1_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


class CatalogueFileError(ValueError):
    """A catalogue file that cannot be used at all; the message names the file and why."""


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
    by row later (:func:`takingstock.data.catalogue_checks.cell_size_problems`).
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
    whole = pc.utf8_trim_whitespace(pa.array(column.astype(str).array))
    if isinstance(whole, pa.ChunkedArray):
        whole = whole.combine_chunks()
    chunks = [whole.slice(i, ROW_CHUNK) for i in range(0, len(whole), ROW_CHUNK)] or [whole]
    return pa.chunked_array(chunks).to_pandas()


def release_memory() -> None:
    """Give the memory pyarrow's allocator keeps after freeing (its pages) back to the system.

    The cleaning step makes and frees large text arrays (the file's cells, their trimmed
    copies, look-up columns); the allocator keeps the freed pages for later use, so the
    kernel's resident memory stays at its highest point. Measured at 10^6 rows: about 100 MB
    returned after the clean, and about 260 MB after reading the processed catalogue
    (:func:`takingstock.data.cleaning.read_processed`), in a few milliseconds.
    """
    pa.default_memory_pool().release_unused()
