"""The file format of a SIPRI trade-register export: its encoding, header and preamble.

:class:`SipriFormatError` is raised by every part of the SIPRI reader (this module and the
other ``sipri_*`` modules) for a file that is not a SIPRI export or is damaged; its message
names the file, the line and what is wrong.

Format accepted
---------------
The export SIPRI's web application produces (Latin-1, an ~11-line preamble, then a header
starting ``Recipient,Supplier,Year of order``, 16 comma-separated columns, no quoting, ``;``
inside fields, each recipient's deals together and recipients in alphabetical order), and the
variants met in the wild: no preamble, UTF-8 with or without a byte order mark, CRLF line
ends, lines padded with trailing ``;;;;``, deals broken over lines by a line break inside
Comments (joined back by :mod:`takingstock.data.sipri_records`; the 2025 release has four), a
register laid out by supplier (grouped and sorted by supplier instead), and the derived-subset
layout whose header names the flag columns (``Year of order uncertain`` ...). The header is
searched for, never assumed to be on a given line.

What is refused here
--------------------
* **Other encodings.** Text in UTF-16 or UTF-32 (a spreadsheet's "Unicode text") is refused
  naming the encoding.
* **No header** within the first lines: not a SIPRI export.
* **Quoted fields.** A file whose fields a spreadsheet put in double quotes is refused with a
  message to use the original export: SIPRI writes no quotes, and a spreadsheet that re-saved
  the file may also have changed numbers, years and the encoding, which reading the quotes
  correctly would not reveal.
* **A last line without line break**: the file was cut inside that line (an export always ends
  with one).

The preamble. Its first line declares the export's scope (:func:`declared_scope`), its
``Data generated:`` line the day SIPRI generated the export (:func:`read_release_date` reads
that date alone, without the deals).
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "SipriFormatError",
    "HEADER_START",
    "N_COLUMNS",
    "RAW_COLUMNS",
    "declared_scope",
    "read_release_date",
    "release_date_in",
]


class SipriFormatError(ValueError):
    """The file is not a SIPRI trade-register export, or is damaged (says where)."""


def value_error(path: Path, lineno: int, column: str, value: str, what: str) -> SipriFormatError:
    """The error for a bad value in a reference table of the reader (file, line, column named)."""
    return SipriFormatError(f"{path}, line {lineno}, column {column!r}: {value!r} is not {what}")


#: The first fields of SIPRI's header line (how the header is found).
HEADER_START = "Recipient,Supplier,Year of order"
#: The number of columns of a SIPRI trade-register export.
N_COLUMNS = 16
#: The internal names of the 16 columns, by position.
RAW_COLUMNS = [
    "recipient", "supplier", "order_year", "order_year_flag", "number_ordered",
    "number_ordered_flag", "designation", "description", "number_delivered",
    "number_delivered_flag", "delivery_years", "status", "comments", "tiv_per_unit",
    "tiv_order", "tiv_delivered",
]
# Accepted header names per position: SIPRI's own, then the derived-subset names.
_HEADER_NAMES = [
    {"recipient"}, {"supplier"}, {"year of order"}, {"", "year of order uncertain"},
    {"number ordered"}, {"", "number ordered uncertain"}, {"weapon designation"},
    {"weapon description"}, {"number delivered"}, {"", "number delivered uncertain"},
    {"year(s) of delivery"}, {"status"}, {"comments"},
    {"sipri tiv per unit", "tiv per unit"},
    {"sipri tiv for total order", "tiv for total order"},
    {"sipri tiv of delivered weapons", "tiv of delivered weapons"},
]
_HEADER_SEARCH_LINES = 60
_DATE_RE = re.compile(r"^\s*Data generated:\s*(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})")
#: What a file whose fields a spreadsheet put in double quotes is told.
QUOTED_MESSAGE = (
    "every field is in double quotes: the export was re-saved by a spreadsheet program, which "
    "may also have changed numbers, years and the encoding; use the original CSV as SIPRI "
    "exported it (SIPRI's exports contain no quotes)"
)


def _wide_encoding(raw: bytes) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` (with the byte order) when ``raw`` is text in two or four
    bytes per letter (a byte order mark, or NUL bytes among the first kilobyte), else None."""
    boms = ((b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"), (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
            (b"\xff\xfe", "UTF-16 (little-endian)"), (b"\xfe\xff", "UTF-16 (big-endian)"))
    for bom, name in boms:
        if raw.startswith(bom):
            return name
    head = raw[:1024]
    if b"\x00" in head:
        if head[1:2] == b"\x00":
            return "UTF-16 (little-endian)"
        return "UTF-16 (big-endian)" if head[:1] == b"\x00" else "UTF-16 or UTF-32"
    return None


def decode(raw: bytes, where: str | Path = "the file") -> tuple[str, str]:
    """Return (text, encoding): UTF-8 with BOM, else UTF-8 if valid, else Latin-1.

    Text in UTF-16 or UTF-32 (a spreadsheet's "Unicode text") is refused naming the encoding:
    read as Latin-1 it would be a NUL between every two letters, and no header would be found.
    """
    wide = _wide_encoding(raw)
    if wide:
        raise SipriFormatError(
            f"{where}: the file is {wide} text; SIPRI's exports are UTF-8 or Latin-1. Save it "
            f"again as UTF-8 (or use the export as SIPRI made it)")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def strip_padding(line: str) -> str:
    """Remove trailing ``;`` padding and blanks at the end of a line (never inside fields)."""
    return line.rstrip(" \t;\r")


def find_header(lines: list[str], path: str | Path) -> int:
    """Index of the header line; :class:`SipriFormatError` when there is none."""
    for i, line in enumerate(lines[:_HEADER_SEARCH_LINES]):
        stripped = strip_padding(line)
        if stripped.startswith(HEADER_START):
            return i
        if stripped.replace('"', "").startswith(HEADER_START):
            raise SipriFormatError(f"{path}, line {i + 1}: {QUOTED_MESSAGE}")
    first = lines[0][:80] if lines else "(empty file)"
    raise SipriFormatError(
        f"{path}: not a SIPRI trade-register export: expected a header line starting "
        f"'{HEADER_START}' within the first {_HEADER_SEARCH_LINES} lines; the file begins "
        f"with {first!r}"
    )


def split_lines(text: str, path: Path) -> list[str]:
    """The file's lines (``\\n`` or ``\\r\\n`` ends); refuse a last line without line break.

    An export always ends with a line break, so a last line without one was cut. (Only
    ``\\n`` splits lines: Latin-1 bytes such as 0x85 are text, not line ends.)
    """
    lines = text.split("\n")
    last = lines.pop()
    if last.strip(" \t;\r\ufeff"):
        raise SipriFormatError(
            f"{path}, line {len(lines) + 1}: the file does not end with a line break, so its "
            f"last line is cut (truncated file): {last[-60:]!r}. Use a complete copy of the "
            f"export"
        )
    return lines


def check_header(fields: list[str], path: Path, lineno: int) -> None:
    """Check the header has SIPRI's 16 columns (either naming)."""
    while len(fields) > N_COLUMNS and fields[-1].strip() == "":
        fields = fields[:-1]
    if len(fields) != N_COLUMNS:
        raise SipriFormatError(
            f"{path}, line {lineno}: the header has {len(fields)} columns; a SIPRI "
            f"trade-register export has {N_COLUMNS}"
        )
    for pos, (name, allowed) in enumerate(zip(fields, _HEADER_NAMES), start=1):
        if name.strip().lower() not in allowed:
            raise SipriFormatError(
                f"{path}, line {lineno}: header column {pos} is {name!r}; expected one of "
                f"{sorted(allowed)} (SIPRI trade-register layout)"
            )


def parse_release_date(lines: list[str]) -> _dt.date | None:
    """The date on the preamble's `Data generated:` line, if any."""
    for line in lines:
        m = _DATE_RE.match(line)
        if m:
            text = " ".join(m.groups())
            for fmt in ("%d %B %Y", "%d %b %Y"):
                try:
                    return _dt.datetime.strptime(text, fmt).date()
                except ValueError:
                    continue
    return None


_SCOPE_RE = re.compile(
    r"^\s*Transfers of major conventional arms from\s+(?P<src>.*?)\s+to\s+(?P<dst>.*?)\s*\.\s*"
    r"(?:Deals with deliveries made for the year range\s+'(?P<y1>[^']*)'\s+to\s+'(?P<y2>[^']*)')?"
)


def declared_scope(preamble: list[str]) -> tuple[str | None, str | None, tuple[int, int] | None]:
    """The scope an export's preamble declares: (from, to, delivery year range).

    SIPRI's first preamble line reads e.g. ``Transfers of major conventional arms from All
    countries  to Iraq . Deals with deliveries made for the year range 'Not specified' to
    'Not specified'``. The suppliers (``from``) and recipients (``to``) are returned with
    their spaces tidied (``All countries``, ``Iraq``); the year range is ``(first, last)``
    when both ends are years, None when SIPRI wrote ``Not specified`` (or anything that is
    not a year) for either end.

    Args:
        preamble: the lines before the header (:attr:`Register.preamble`).

    Returns:
        ``(None, None, None)`` when no line of the preamble is such a title (a file without
        preamble, or one we do not recognise).
    """
    for line in preamble:
        m = _SCOPE_RE.match(line)
        if not m:
            continue
        src = " ".join(m.group("src").split()) or None
        dst = " ".join(m.group("dst").split()) or None
        y1, y2 = (m.group("y1") or "").strip(), (m.group("y2") or "").strip()
        years = (int(y1), int(y2)) if y1.isdigit() and y2.isdigit() else None
        return src, dst, years
    return None, None, None


def read_release_date(path: str | Path) -> _dt.date | None:
    """SIPRI's `Data generated:` date of an export, read from its preamble only.

    Reads the file line by line up to the header (at most the first
    ``_HEADER_SEARCH_LINES`` lines) and never reads or parses the deals, so it is cheap on
    the whole register and works on a file whose deals are damaged.

    Args:
        path: the CSV file.

    Returns:
        The release date, or None when the file has no preamble or the preamble has no
        `Data generated:` line.

    Raises:
        FileNotFoundError: the file does not exist.
        SipriFormatError: no SIPRI header within the first lines (not a SIPRI export).
    """
    path = Path(path)
    with path.open("rb") as fh:
        return release_date_in(fh, path)


def release_date_in(stream: BinaryIO, where: str | Path) -> _dt.date | None:
    """The `Data generated:` date from a binary stream, read line by line up to the header.

    ``where`` names the source in the error raised when no header is found. Used by
    :func:`read_release_date` and by the fetcher (on the downloaded bytes, to name the file).
    """
    marker = HEADER_START.encode("ascii")
    head: list[bytes] = []
    for _ in range(_HEADER_SEARCH_LINES):
        line = stream.readline()
        if not line:
            break
        head.append(line)
        if line.removeprefix(b"\xef\xbb\xbf").startswith(marker):
            break
    text, _ = decode(b"".join(head), where)
    lines = text.splitlines()
    h = find_header(lines, where)
    return parse_release_date(lines[:h])
