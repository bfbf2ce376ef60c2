"""Read a SIPRI Arms Transfers Database trade-register export into one tidy row per deal.

Methodology note
----------------
**What SIPRI records.** The SIPRI Arms Transfers Database lists deals in *major conventional
weapons*: aircraft, armoured vehicles, artillery of 100 mm or more, missiles (including guided
anti-tank missiles and portable surface-to-air missiles), ships, sensors, air-defence systems,
engines and a few other items. It does **not** cover small arms, light weapons, ordinary
ammunition, trucks or most spare parts. Most of the items Amnesty documented in the hands of
the armed group (rifles, machine guns, cartridges) are therefore outside SIPRI's scope: a
missing SIPRI deal says nothing about whether such an item was transferred.

**One row per deal.** A row is one order: recipient, supplier, year of order, number ordered,
weapon designation and description, number delivered so far, the years in which deliveries
were made, status (new, second hand...), free-text comments and three trend-indicator values.
Deals with no delivery yet (number delivered 0, no delivery years) are kept.

**TIV is not money.** The SIPRI trend-indicator value measures the military capability
transferred, in SIPRI's own constant unit (millions of TIV). It is comparable across years
and suppliers, but it is not a price and must never be labelled as US dollars.

**The `?` flags.** Three unnamed columns hold `?` when the value before them (year of order,
number ordered, number delivered) is uncertain. They become the boolean columns
``order_year_uncertain``, ``number_ordered_uncertain`` and ``number_delivered_uncertain``.

**Names.** SIPRI keeps former states apart from their successors (`Soviet Union` vs `Russia`,
`Czechoslovakia` vs `Czechia`, `Yugoslavia` vs `Serbia`, `East Germany (GDR)` vs `Germany`,
where `Germany` covers West Germany before 1990). We keep them apart too. A name ending in
`*` is a non-state actor, `**` an international organisation; `unknown supplier(s)` and
`unknown recipient(s)` mean SIPRI could not identify the party. Those conventions decide the
``*_kind`` columns; every name goes through the project's country crosswalk
(``takingstock.data.countries``, loaded once per read) for a canonical state name, ISO code and
bloc. A name the crosswalk does not know **stops the read** (:class:`SipriFormatError` naming
the name, its first line and column, and the other unknown names): it is never guessed, and
no deal is quietly left without a state; add a row to the crosswalk. A crosswalk file that
is itself broken raises :class:`takingstock.data.countries.CrosswalkError`.

**Spreading deliveries over years.** SIPRI lists the years in which items of a deal were
delivered but not how many came in each year. :func:`deal_years` therefore spreads the number
delivered and the TIV delivered *evenly* over the listed years. Consequence: yearly series are
smoothed; a deal whose items mostly arrived in its first year shows up partly in later years,
so single-year figures are approximate (sums over a whole deal or a long period are exact),
and fractional item counts can appear in a year.

**Releases differ.** SIPRI revises the whole database every spring: deals are added, re-dated
and re-valued, and descriptions are reworded (e.g. `portable SAM` became `portable
surface-to-air missile`). Always state which export (``Register.release_date``, read from the
preamble's `Data generated:` line, the day SIPRI generated the export) a figure comes from.
``data/raw/sipri_releases.csv`` records the whole exports we know (generation date, declared
scope, numbers of deals, recipients and suppliers, last recipient, :func:`content_sha256`);
``Register.known_release`` says which of them a file is a complete copy of, recognised by its
content, so a copy without its preamble still gets its release date.

**Weapon categories.** Because descriptions are reworded, matching weapons on them breaks from
one release to the next. ``data/raw/sipri_weapon_categories.csv`` maps every description of
both releases at hand (263 spellings) to one of SIPRI's eleven categories
(:data:`WEAPON_CATEGORIES`); the reader adds it as the ``category`` column (descriptions
matched case-insensitively, blanks collapsed). A description the mapping lacks is **not
guessed and does not stop the read**: its deals get category ``unmapped`` and it is listed in
``Register.unmapped_descriptions``, so an analysis can say "not checkable" for those deals
rather than lose the whole register over one new wording; add it to the mapping.

**Designation keys.** SIPRI also respells designations (``F-16C Block-50/52`` in 2025,
``F-16C Block-50`` in 2026; ``EC145`` / ``EC-145``). ``designation_key`` is
:func:`normalise_designation` of the designation (its docstring states the rule and what it
deliberately keeps apart).

**Terms.** Credit "SIPRI Arms Transfers Database" (https://www.sipri.org/databases/armstransfers).
Every calculation here (spreading, sums, shares, matches, checksums) is ours and must not be
attributed to SIPRI. No commercial use without SIPRI's agreement.

Format accepted
---------------
The export SIPRI's web application produces (Latin-1, an ~11-line preamble, then a header
starting ``Recipient,Supplier,Year of order``, 16 comma-separated columns, no quoting, ``;``
inside fields, each recipient's deals together and recipients in alphabetical order), and the
variants met in the wild: no preamble, UTF-8 with or without a byte order mark, CRLF line
ends, lines padded with trailing ``;;;;``, deals broken over lines by a line break inside
Comments (joined back; the 2025 release has four), a register laid out by supplier (grouped
and sorted by supplier instead), and the derived-subset layout whose header names the flag
columns (``Year of order uncertain`` ...). The header is searched for, never assumed to be on
a given line.

What is refused
---------------
A damaged or incomplete export is caught, not analysed: each case raises
:class:`SipriFormatError` naming the file, the line and what is wrong.

* **Cut at a line end.** An export has no trailer, so what can be known is used:
  (a) a file whose preamble names the `Data generated:` date and scope of a known export but
  whose deals differ is refused ("the file holds N deals, SIPRI's release of D holds M: it is
  cut or altered; last deal read on line L"; same count, other content: altered);
  (b) any other export declaring ``All countries`` to ``All countries`` with no year range is
  compared with the latest known release generated on or before its date: fewer than 97% of
  its deals, 95% of its recipients or 90% of its suppliers (:data:`PLAUSIBLE_FRACTION`; the
  database grew by 1.4% from 2025 to 2026), or a last recipient that sorts before that
  release's (``Zimbabwe``), means it is probably cut. *Limits:* a cut inside the last
  recipient's rows of an unknown export, or one that keeps 97% or more of the deals and ends
  inside the last recipient, passes; so do cut exports without preamble (nothing says they
  should be whole: their coverage is what their rows show) and exports older than every
  known release. The rows themselves cannot tell: within a recipient SIPRI's deals follow no
  order (in both real releases only 69% of consecutive deals of a recipient have suppliers
  in alphabetical order and 58% have order years not decreasing; an ordered column would
  give 100%), so a cut at a line break inside the last recipient leaves rows that look
  whole.
  (c) a file whose last line has no line break was cut inside that line.
  (d) a file with a ``<file>.meta.yml`` sidecar (written by :mod:`takingstock.data.fetch`) must
  have the SHA-256 and deal count it records.
* **Split deals.** Only a break inside Comments is a known SIPRI artefact, and only its shape
  is joined: a first piece of 13 fields (it ends inside Comments), middle lines without a
  comma, a last piece of 4 fields. Any other short line is a deal split inside another field
  (or cut) and is refused naming both lines (so a deal split inside its last field no longer
  swallows the next deal's recipient).
* **Pasted exports.** A second header or a preamble line among the deals; a recipient whose
  deals start again after another's, or recipients out of alphabetical order (checked
  ignoring case and accents, :func:`order_key`: both real releases and the subsets are in that
  order); two consecutive
  deals that repeat two earlier consecutive deals exactly (a block pasted twice; a single
  repeated deal is legitimate, SIPRI has a few).
* **Quoted fields.** A file whose fields a spreadsheet put in double quotes is refused with a
  message to use the original export: SIPRI writes no quotes, and a spreadsheet that re-saved
  the file may also have changed numbers, years and the encoding, which reading the quotes
  correctly would not reveal.
* **Names** the crosswalk lacks, **bad values** (line and column named), lines with too many
  fields, an empty register.

Parsed-register cache
---------------------
Reading an export takes about 0.6 s (decoding, the checks above, the crosswalk lookups); a run
reads each export in several kernels (notebooks 03, 04, 05, 06, each run of a grid).
:func:`read_register_cached` keeps the :class:`Register` read from a file in a
cache folder (the run's ``output_dir/.cache/registers``, named by the run context), under a key
that covers everything the read depends on: the file's bytes (SHA-256), its fetch sidecar, the
three reference files the reader uses (crosswalk, known releases, weapon categories), the
source of this module and of the modules it imports, and the Python, pandas, pyarrow and numpy
versions. Any change to one of them gives a new key, so a cached read is never stale; loading
one takes milliseconds. The cache holds data only: the deals as an Arrow IPC file
(``sipri-<key>.arrow``, read by pyarrow) and the other fields as JSON (``sipri-<key>.json``,
each field's type checked); nothing in either is ever executed, so an output folder copied
from someone else is safe to run in (no pickle is written or loaded). Only successful reads
are cached (a bad file raises every time); a cache file that is missing, damaged or not ours
is ignored, the export read again and the cache rewritten (atomically). Kernels that ask for
the same export at once take turns on a lock file beside the cache (``filelock``): the first
parses, the others then load what it wrote. Deleting the cache is always safe.
"""

from __future__ import annotations

import csv as _csv
import datetime as _dt
import hashlib
import json
import platform
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
from filelock import FileLock

from takingstock.core import atomic, paths
from takingstock.data import countries

__all__ = [
    "SipriFormatError",
    "Register",
    "KnownRelease",
    "RELEASES_PATH",
    "load_known_releases",
    "declared_scope",
    "content_sha256",
    "read_register",
    "read_register_cached",
    "register_cache_key",
    "read_release_date",
    "WEAPON_CATEGORIES",
    "UNMAPPED",
    "CATEGORIES_PATH",
    "load_weapon_categories",
    "weapon_category",
    "normalise_designation",
    "deal_years",
    "missing_register_message",
    "name_kind",
    "SIPRI_CREDIT",
    "SIPRI_SOURCE_LINE",
    "SIPRI_TERMS",
    "SIPRI_URL",
    "N_COLUMNS",
]

#: SIPRI's landing page for the database (every credit below points here).
SIPRI_URL = "https://www.sipri.org/databases/armstransfers"
#: How to credit SIPRI where the register was used (SIPRI's own wording, with our disclaimer).
SIPRI_CREDIT = (
    f"Information from the SIPRI Arms Transfers Database, {SIPRI_URL}; "
    "calculations by taking-stock, not SIPRI."
)
#: A source line for figures and tables: credit, disclaimer, and what TIV is.
SIPRI_SOURCE_LINE = (
    f"Source: SIPRI Arms Transfers Database ({SIPRI_URL}); "
    "calculations by taking-stock, not SIPRI. TIV is SIPRI's volume measure, not money."
)
#: SIPRI's terms of use in short, stored beside every downloaded export.
SIPRI_TERMS = (
    f"Data: SIPRI Arms Transfers Database ({SIPRI_URL}). "
    "Credit SIPRI; calculations made from the data are not SIPRI's; no commercial use "
    "without SIPRI's agreement. Do not commit this file."
)

HEADER_START = "Recipient,Supplier,Year of order"
N_COLUMNS = 16
# Internal names of the 16 columns, by position.
_RAW_COLUMNS = [
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
#: The committed table of the SIPRI releases we know (facts about the files, no SIPRI data).
RELEASES_PATH = paths.RAW / "sipri_releases.csv"
_RELEASE_COLUMNS = ["release_date", "scope_from", "scope_to", "n_deals", "n_recipients",
                    "n_suppliers", "content_sha256", "last_recipient", "notes"]
_DATE_RE = re.compile(r"^\s*Data generated:\s*(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})")


class SipriFormatError(ValueError):
    """The file is not a SIPRI trade-register export, or is damaged (says where)."""


@dataclass(frozen=True)
class KnownRelease:
    """One SIPRI release we know, as recorded in ``data/raw/sipri_releases.csv``.

    Attributes:
        release_date: SIPRI's `Data generated:` date of the release.
        scope_from, scope_to: the scope its export declares (``All countries`` both ways for
            the whole register).
        n_deals, n_recipients, n_suppliers: what the whole export holds.
        content_sha256: :func:`content_sha256` of its deals.
        last_recipient: the recipient of its last deal (recipients come in alphabetical
            order, so a cut export of a later release usually ends before it).
    """

    release_date: _dt.date
    scope_from: str
    scope_to: str
    n_deals: int
    n_recipients: int
    n_suppliers: int
    content_sha256: str
    last_recipient: str = ""

    @property
    def label(self) -> str:
        """E.g. ``SIPRI's release of 2026-05-18``."""
        return f"SIPRI's release of {self.release_date.isoformat()}"


@dataclass
class Register:
    """One SIPRI export, read.

    Attributes:
        deals: one row per deal (columns in ``docs/CONTRACTS.md``, plus ``source_line``,
            ``recipient_kind``, ``recipient_bloc``, ``supplier_iso``, ``n_delivery_years``).
        release_date: SIPRI's `Data generated:` date, or None when the file has no preamble.
        path: the file read.
        sha256: checksum of the file's bytes.
        encoding: the text encoding detected (``utf-8-sig``, ``utf-8`` or ``latin-1``).
        joined_lines: file line numbers of continuation lines joined back onto a deal.
        preamble: the lines before the header, trailing ``;`` padding and blanks stripped
            (empty when the file has no preamble).
        content_sha256: :func:`content_sha256` of the deals (independent of preamble,
            encoding, line ends, padding and deal order).
        known_release: the :class:`KnownRelease` this file is a whole copy of, or None (a
            subset, an unknown release, or a file we cannot place).
        unmapped_descriptions: the weapon descriptions the category mapping
            (``data/raw/sipri_weapon_categories.csv``) lacks, sorted; their deals have
            ``category`` ``unmapped`` (never guessed).
    """

    deals: pd.DataFrame
    release_date: _dt.date | None
    path: Path
    sha256: str
    encoding: str = "latin-1"
    joined_lines: list[int] = field(default_factory=list)
    preamble: list[str] = field(default_factory=list)
    content_sha256: str = ""
    known_release: KnownRelease | None = None
    unmapped_descriptions: list[str] = field(default_factory=list)

    @property
    def release_label(self) -> str:
        """The release as text, e.g. ``SIPRI release of 2026-05-18`` (or the file name)."""
        if self.release_date is not None:
            return f"SIPRI release of {self.release_date.isoformat()}"
        return f"SIPRI export {self.path.name} (release date not stated in the file)"


# ----------------------------------------------------------------------------- decoding


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


def _decode(raw: bytes, where: str | Path = "the file") -> tuple[str, str]:
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


def _strip_padding(line: str) -> str:
    """Remove trailing ``;`` padding and blanks at the end of a line (never inside fields)."""
    return line.rstrip(" \t;\r")


_PIECE_PADDING_RE = re.compile(r";{2,}[ \t\r]*$")


def _strip_piece_padding(line: str) -> str:
    """Like :func:`_strip_padding` for a piece of a deal broken inside Comments, whose text
    may itself end with one ``;`` (SIPRI separates remarks with ``; ``): only a run of two or
    more ``;`` is padding there."""
    return _PIECE_PADDING_RE.sub("", line.rstrip(" \t\r")).rstrip(" \t\r")


def _find_header(lines: list[str], path: str | Path) -> int:
    """Index of the header line; :class:`SipriFormatError` when there is none."""
    for i, line in enumerate(lines[:_HEADER_SEARCH_LINES]):
        stripped = _strip_padding(line)
        if stripped.startswith(HEADER_START):
            return i
        if stripped.replace('"', "").startswith(HEADER_START):
            raise SipriFormatError(f"{path}, line {i + 1}: {_QUOTED_MESSAGE}")
    first = lines[0][:80] if lines else "(empty file)"
    raise SipriFormatError(
        f"{path}: not a SIPRI trade-register export: expected a header line starting "
        f"'{HEADER_START}' within the first {_HEADER_SEARCH_LINES} lines; the file begins "
        f"with {first!r}"
    )


def _split_lines(text: str, path: Path) -> list[str]:
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


def _check_header(fields: list[str], path: Path, lineno: int) -> None:
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


def _parse_release_date(lines: list[str]) -> _dt.date | None:
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


def content_sha256(records: list[list[str]]) -> str:
    """SHA-256 of the deals themselves, the same for every copy of one export.

    Each deal's 16 fields are trimmed and joined with the unit separator (U+001F); the deals
    are sorted and joined with line feeds, and the UTF-8 bytes are hashed. So the checksum
    does not depend on the preamble, the header naming, the encoding, CRLF or ``\\n`` line
    ends, ``;;;;`` padding, Comments broken over lines (joined first) or the order of the
    deals; it changes when any deal is added, lost or altered.
    """
    return _content_sha256_of_keys(_record_keys(records))


def _record_keys(records: list[list[str]]) -> list[str]:
    """Each deal as one string: its trimmed fields joined with U+001F (computed once per read
    for the content checksum, the repeated-block check and the deal ids)."""
    return ["\x1f".join([f.strip() for f in rec]) for rec in records]


def _content_sha256_of_keys(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()


def _release_problem(path: Path, lineno: int, column: str, value: str, what: str) -> SipriFormatError:
    return SipriFormatError(f"{path}, line {lineno}, column {column!r}: {value!r} is not {what}")


def load_known_releases(path: str | Path | None = None) -> tuple[KnownRelease, ...]:
    """The SIPRI releases we know (``data/raw/sipri_releases.csv``), oldest first.

    Raises:
        SipriFormatError: the table is missing, lacks a column, or has a bad value (the
            message names the file, line and column).
    """
    path = Path(path) if path is not None else RELEASES_PATH
    return _load_known_releases(str(path), path.stat().st_mtime_ns if path.is_file() else -1)


@lru_cache(maxsize=8)
def _load_known_releases(path_text: str, _stamp: int) -> tuple[KnownRelease, ...]:
    path = Path(path_text)
    if not path.is_file():
        raise SipriFormatError(f"{path}: the table of known SIPRI releases is missing")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = _csv.reader(fh)
        header = next(reader, [])
        missing = [c for c in _RELEASE_COLUMNS if c not in header]
        if missing:
            raise SipriFormatError(f"{path}, line 1: missing column(s) {missing}")
        pos = {c: header.index(c) for c in _RELEASE_COLUMNS}
        out = []
        for lineno, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) != len(header):
                raise SipriFormatError(
                    f"{path}, line {lineno}: {len(row)} fields where the header has {len(header)}")
            get = {c: row[i].strip() for c, i in pos.items()}
            try:
                date = _dt.date.fromisoformat(get["release_date"])
            except ValueError:
                raise _release_problem(path, lineno, "release_date", get["release_date"],
                                       "a date YYYY-MM-DD") from None
            counts = {}
            for c in ("n_deals", "n_recipients", "n_suppliers"):
                if not get[c].isdigit() or int(get[c]) == 0:
                    raise _release_problem(path, lineno, c, get[c], "a positive whole number")
                counts[c] = int(get[c])
            if not re.fullmatch(r"[0-9a-f]{64}", get["content_sha256"]):
                raise _release_problem(path, lineno, "content_sha256", get["content_sha256"],
                                       "a SHA-256 in lower-case hex")
            for c in ("scope_from", "scope_to"):
                if not get[c]:
                    raise _release_problem(path, lineno, c, get[c], "a scope (empty)")
            out.append(KnownRelease(date, get["scope_from"], get["scope_to"], counts["n_deals"],
                                    counts["n_recipients"], counts["n_suppliers"],
                                    get["content_sha256"], get["last_recipient"]))
    return tuple(sorted(out, key=lambda r: r.release_date))


# SIPRI's Comments is column 13: a line broken inside it has 13 fields, its last piece 4.
_COMMENTS_POS = 13
_COMMENT_TAIL = N_COLUMNS - _COMMENTS_POS + 1
_PREAMBLE_RE = re.compile(
    r"^\s*(Transfers of major conventional arms from |Data generated:|Source: SIPRI Arms "
    r"Transfers Database|A '\?' in a column indicates)"
)
_QUOTED_MESSAGE = (
    "every field is in double quotes: the export was re-saved by a spreadsheet program, which "
    "may also have changed numbers, years and the encoding; use the original CSV as SIPRI "
    "exported it (SIPRI's exports contain no quotes)"
)


def _is_quoted(line: str) -> bool:
    """A deal line whose fields a spreadsheet put in double quotes: its first field (a
    recipient name, never quoted by SIPRI) starts with one. A quote inside Comments is text."""
    return line.lstrip("\ufeff").startswith('"')


def _check_not_pasted(line: str, lineno: int, header_lineno: int, path: Path) -> None:
    """Refuse a second header, a preamble line or a quoted line among the deals."""
    if line.startswith(HEADER_START):
        raise SipriFormatError(
            f"{path}, line {lineno}: a second header line (the first is on line "
            f"{header_lineno}): two exports pasted together; use one export"
        )
    if _PREAMBLE_RE.match(line):
        raise SipriFormatError(
            f"{path}, line {lineno}: a line of a SIPRI preamble after the header on line "
            f"{header_lineno} ({line[:60]!r}): two exports pasted together; use one export"
        )
    if _is_quoted(line):
        raise SipriFormatError(f"{path}, line {lineno}: {_QUOTED_MESSAGE}")


def _n_fields(lines: list[str], i: int) -> int:
    """Number of fields of line ``i`` (0 for a blank line or past the end)."""
    if i < 0 or i >= len(lines):
        return 0
    line = _strip_padding(lines[i])
    return len(line.split(",")) if line.strip() else 0


def _split_refused(lines: list[str], i: int, k: int, path: Path) -> SipriFormatError:
    """The error for a short line at index ``i`` (``k`` fields) that is no Comments break."""
    nxt = _n_fields(lines, i + 1)
    if k == 1:
        prev = _n_fields(lines, i - 1)
        return SipriFormatError(
            f"{path}, line {i + 1}: 1 of {N_COLUMNS} fields (no comma), between line {i} "
            f"({prev} fields) and line {i + 2} ({nxt} fields): a deal split across lines "
            f"{i}-{i + 1} or {i + 1}-{i + 2} inside a field; only a line break inside "
            f"Comments is a known SIPRI artefact. The export is damaged: use a complete copy"
        )
    column = _RAW_COLUMNS[k - 1]
    return SipriFormatError(
        f"{path}, line {i + 1}: {k} of {N_COLUMNS} fields, and line {i + 2} has {nxt}: a deal "
        f"split across lines {i + 1} and {i + 2} inside column {k} ({column!r}); only a line "
        f"break inside Comments (column {_COMMENTS_POS}: pieces of {_COMMENTS_POS} and "
        f"{_COMMENT_TAIL} fields) is a known SIPRI artefact. The export is damaged: use a "
        f"complete copy"
    )


def _join_comment_break(lines: list[str], i: int, fields: list[str], path: Path) -> tuple[list[str], list[int]]:
    """Join a deal broken inside Comments: its first piece (line ``i``) has 13 fields,
    zero or more middle lines have no comma, the last piece has 4 fields.

    Returns (the 16 fields, the file line numbers of the continuation lines). Raises
    :class:`SipriFormatError` naming both lines for any other shape (a split inside
    another field, or a cut).
    """
    n = len(lines)
    if len(fields) != _COMMENTS_POS:
        if i + 1 >= n or all(not _strip_padding(l).strip() for l in lines[i + 1:]):
            raise SipriFormatError(
                f"{path}, line {i + 1}: the last deal has {len(fields)} of {N_COLUMNS} "
                f"fields; the file looks truncated"
            )
        raise _split_refused(lines, i, len(fields), path)
    fields = _strip_piece_padding(lines[i]).split(",")  # keeps a ';' ending the piece
    parts, cont = [fields[-1].rstrip()], []
    j = i + 1
    while j < n:
        piece = _strip_padding(lines[j])
        k = len(piece.split(",")) if piece.strip() else 0
        if k == 1 and not _PREAMBLE_RE.match(piece) and not piece.startswith(HEADER_START):
            parts.append(_strip_piece_padding(lines[j]).strip())
            cont.append(j + 1)
            j += 1
            continue
        if k == _COMMENT_TAIL:
            tail = piece.split(",")
            parts.append(tail[0].strip())
            cont.append(j + 1)
            comment = " ".join(p for p in parts if p)
            return fields[:-1] + [comment] + tail[1:], cont
        break
    if j >= n:
        raise SipriFormatError(
            f"{path}, line {i + 1}: the last deal has {len(fields)} of {N_COLUMNS} fields; "
            f"the file looks truncated"
        )
    raise SipriFormatError(
        f"{path}, line {i + 1}: {len(fields)} of {N_COLUMNS} fields (it ends inside Comments), "
        f"and line {j + 1} does not end that deal (it has {_n_fields(lines, j)} fields, "
        f"a line continuing Comments has {_COMMENT_TAIL}, or 1 in the middle): the deal is "
        f"cut or split inside another field. The export is damaged: use a complete copy"
    )


def _split_records(lines: list[str], start: int, path: Path) -> tuple[list[list[str]], list[int], list[int]]:
    """Split data lines into 16-field records, joining deals broken inside Comments.

    ``start`` is the index of the first line after the header. Only one kind of line break
    inside a deal is accepted, the one SIPRI's exports really have: inside Comments
    (:func:`_join_comment_break`; the pieces are joined with a space). Any other short line,
    a second header or preamble, or a quoted line raises :class:`SipriFormatError`.

    Returns:
        (records, file line number of each record, file line numbers of joined lines).
    """
    records: list[list[str]] = []
    linenos: list[int] = []
    joined: list[int] = []
    i, n = start, len(lines)
    while i < n:
        line = _strip_padding(lines[i])
        if not line.strip():
            i += 1
            continue
        _check_not_pasted(line, i + 1, start, path)
        fields = line.split(",")
        first = i
        if len(fields) < N_COLUMNS:
            fields, cont = _join_comment_break(lines, i, fields, path)
            joined.extend(cont)
            i = cont[-1] - 1
        elif len(fields) > N_COLUMNS:
            extra = fields[N_COLUMNS:]
            if all(not f.strip(" ;") for f in extra):
                fields = fields[:N_COLUMNS]
            else:
                raise SipriFormatError(
                    f"{path}, line {first + 1}: {len(fields)} fields where a SIPRI deal has "
                    f"{N_COLUMNS} (an unexpected comma inside a field?)"
                )
        records.append(fields)
        linenos.append(first + 1)
        i += 1
    return records, linenos, joined


def order_key(name: str) -> str:
    """The key recipients are in alphabetical order by: case and accents ignored (``Côte
    d'Ivoire`` sorts as ``Cote d'Ivoire``, where SIPRI puts it, between Congo and Croatia)."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


def _order_problem(records: list[list[str]], linenos: list[int], col: int) -> str | None:
    """Why the deals are not grouped by column ``col`` in alphabetical order (None if they are).

    SIPRI's exports list each recipient's deals together, recipients in alphabetical order
    (case-insensitive); checked on both real releases and the subsets.
    """
    spans: dict[str, tuple[int, int]] = {}
    prev_key, prev_name = None, ""
    for rec, ln in zip(records, linenos):
        name = rec[col].strip()
        key = order_key(name)
        if key == prev_key:
            spans[key] = (spans[key][0], ln)
            continue
        if key in spans:
            a, b = spans[key]
            return (f"line {ln}: the deals of {name!r} start again (they were on lines {a}-{b}, "
                    f"then came {prev_name!r})")
        if prev_key is not None and key < prev_key:
            return (f"line {ln}: {name!r} comes after {prev_name!r}, out of alphabetical "
                    f"order")
        spans[key] = (ln, ln)
        prev_key, prev_name = key, name
    return None


def _check_order(records: list[list[str]], linenos: list[int], path: Path) -> None:
    """Refuse deals whose recipients restart or leave alphabetical order (a register laid
    out by supplier, grouped and sorted by supplier instead, is accepted)."""
    problem = _order_problem(records, linenos, 0)
    if problem is None or _order_problem(records, linenos, 1) is None:
        return
    raise SipriFormatError(
        f"{path}, {problem}: a SIPRI export lists each recipient's deals together, recipients "
        f"in alphabetical order; two exports were pasted together or the rows re-ordered. "
        f"Use one export as SIPRI made it"
    )


def _check_duplicate_blocks(keys: list[str], linenos: list[int], path: Path) -> None:
    """Refuse two consecutive deals that repeat two consecutive earlier deals exactly.

    A single repeated deal is legitimate (SIPRI has a few identical rows); a repeated run
    of two or more is a block pasted twice (none in either real release).
    """
    seen: dict[tuple[str, str], int] = {}
    for i in range(len(keys) - 1):
        pair = (keys[i], keys[i + 1])
        j = seen.get(pair)
        if j is not None and j + 1 < i:
            raise SipriFormatError(
                f"{path}, lines {linenos[i]}-{linenos[i + 1]}: these deals repeat lines "
                f"{linenos[j]}-{linenos[j + 1]} exactly: a block of deals appears twice "
                f"(pasted twice?). Use one export as SIPRI made it"
            )
        seen.setdefault(pair, i)


# ----------------------------------------------------------------------------- columns


def _bad(path: Path, frame: pd.DataFrame, mask: pd.Series, column: str, what: str) -> None:
    """Raise naming the first bad row (file line), column and value."""
    if mask.any():
        row = frame.loc[mask].iloc[0]
        raise SipriFormatError(
            f"{path}, line {row['source_line']}, column {column!r}: {row[column]!r} is not "
            f"{what} ({int(mask.sum())} such row(s))"
        )


def _to_int(frame: pd.DataFrame, col: str, path: Path) -> pd.Series:
    s = frame[col].str.strip()
    num = pd.to_numeric(s.where(s != ""), errors="coerce")
    _bad(path, frame, (s != "") & (num.isna() | (num % 1 != 0)), col, "a whole number")
    return num.astype("Int64")


def _to_float(frame: pd.DataFrame, col: str, path: Path) -> pd.Series:
    s = frame[col].str.strip()
    num = pd.to_numeric(s.where(s != ""), errors="coerce")
    _bad(path, frame, (s != "") & num.isna(), col, "a number")
    return num.astype("float64")


def _to_flag(frame: pd.DataFrame, col: str, path: Path) -> pd.Series:
    s = frame[col].str.strip()
    _bad(path, frame, ~s.isin(["", "?"]), col, "empty or '?'")
    return s == "?"


_YEARS_RE = re.compile(r"^\d{4}(\s*;\s*\d{4})*$")


def _to_years(frame: pd.DataFrame, col: str, path: Path) -> pd.Series:
    s = frame[col].str.strip().str.rstrip(";").str.strip()
    ok = (s == "") | s.str.match(_YEARS_RE)
    _bad(path, frame, ~ok, col, "a list of years separated by ';'")
    years = _per_distinct(s, lambda v: [int(y) for y in v.split(";")] if v else [])
    return pd.Series([list(v) for v in years], index=frame.index, dtype=object)  # a list of its own per deal


def _per_distinct(text: pd.Series, fn) -> pd.Series:
    """``text.map(fn)``, with ``fn`` called once per distinct value (an export of 30,000 deals
    names some 250 recipients, 140 suppliers and 260 descriptions)."""
    return text.map({v: fn(v) for v in pd.unique(text.to_numpy(dtype=object))})


def name_kind(name: str) -> str:
    """SIPRI's naming convention: ``organisation`` (``**``), ``non-state`` (``*``),
    ``unknown`` (``unknown supplier(s)`` / ``unknown recipient(s)``), else ``state``."""
    n = str(name).strip()
    if n.endswith("**"):
        return "organisation"
    if n.endswith("*"):
        return "non-state"
    if n.lower().startswith("unknown"):
        return "unknown"
    return "state"


def _resolve_names(names: pd.Series, crosswalk: countries.Crosswalk) -> tuple[pd.DataFrame, pd.Series]:
    """Map SIPRI names to state / iso / bloc / kind through the country crosswalk.

    SIPRI's own markers (``*``, ``**``, ``unknown ...``) decide the kind; for a plain state
    name the crosswalk's kind is used.

    Returns:
        (frame indexed like ``names`` with columns state, iso, bloc, kind; a boolean mask of
        the names the crosswalk does not know).
    """
    names = names.astype("str")
    got = crosswalk.lookup(names, errors="mark")
    unknown = got["error"] != ""
    marked = _per_distinct(names, name_kind)
    out = pd.DataFrame(index=names.index)
    out["state"] = got["state"].where(~unknown, names).astype("str")
    out["iso"] = got["iso"].where(~unknown, pd.NA).astype("string")
    out["bloc"] = got["bloc"].where(~unknown, "unknown").astype("str")
    out["kind"] = marked.where((marked != "state") | unknown, got["kind"]).astype("str")
    return out, unknown.astype(bool)


def _unknown_names_error(path: Path, frame: pd.DataFrame, unknown: pd.Series,
                         crosswalk: countries.Crosswalk) -> SipriFormatError:
    """The error naming each name the crosswalk lacks, with its first line and column."""
    n = len(frame)
    firsts: dict[str, tuple[int, str]] = {}
    for pos in unknown.to_numpy().nonzero()[0]:
        column = "recipient" if pos < n else "supplier"
        row = frame.iloc[pos % n]
        name = row[column]
        line = int(row["source_line"])
        if name not in firsts or line < firsts[name][0]:
            firsts[name] = (line, column)
    ordered = sorted(firsts.items(), key=lambda kv: kv[1][0])
    (name, (line, column)), rest = ordered[0], ordered[1:]
    hint = crosswalk.suggest(name)
    hint_text = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
    more = ""
    if rest:
        more = "; also unknown: " + ", ".join(
            f"{nm!r} (line {ln}, {col})" for nm, (ln, col) in rest[:10])
        if len(rest) > 10:
            more += f" and {len(rest) - 10} more"
    return SipriFormatError(
        f"{path}, line {line}, column {column!r}: {name!r} is not in the country crosswalk "
        f"({countries.CROSSWALK_PATH.name}){hint_text} Add a row for it to the crosswalk "
        f"(a name is never guessed){more}"
    )


def _check_sidecar(path: Path, file_sha: str, n_deals: int | None) -> None:
    """Check a fetched file against its ``<file>.meta.yml`` (sha256, deal count) if present.

    Called twice: before parsing (``n_deals`` None: checksum only) and after (count).
    """
    side = path.with_name(path.name + ".meta.yml")
    if not side.is_file():
        return
    import yaml  # only needed when a sidecar is there

    try:
        meta = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SipriFormatError(f"{side}: the sidecar of {path.name} is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise SipriFormatError(f"{side}: the sidecar of {path.name} is not a mapping")
    want = str(meta.get("sha256") or "").strip().lower()
    if n_deals is None:
        if want and want != file_sha:
            raise SipriFormatError(
                f"{path}: its sidecar {side.name} records sha256 {want[:16]}... but the file's "
                f"is {file_sha[:16]}...: the file changed after it was fetched (cut or "
                f"altered). Fetch it again (python pipeline.py fetch-sipri)"
            )
        return
    count = meta.get("deals", meta.get("rows"))
    if count is not None and str(count).strip().isdigit() and int(count) != n_deals:
        raise SipriFormatError(
            f"{path}: its sidecar {side.name} records {int(count):,} deals but the file holds "
            f"{n_deals:,}: the file is cut or altered. Fetch it again (python pipeline.py "
            f"fetch-sipri)"
        )


#: An "All countries" export that is no known export is refused when it holds fewer than
#: these fractions of the deals / recipients / suppliers of the latest known release
#: generated on or before its date (the database grows: 29,515 to 29,916 deals, 254 to 255 recipients, 136 to 138
#: suppliers from the 2025 to the 2026 release).
PLAUSIBLE_FRACTION = {"n_deals": 0.97, "n_recipients": 0.95, "n_suppliers": 0.90}


def _place_release(path: Path, preamble: list[str], release_date: _dt.date | None,
                   records: list[list[str]], linenos: list[int], content: str,
                   known: tuple[KnownRelease, ...]) -> KnownRelease | None:
    """The known release the file is a whole copy of, or None; refuse a cut copy.

    * Content checksum of a known release: that release (with or without preamble, and
      whatever `Data generated:` date it carries: that is the day of the export, so one
      release exported on two days has two dates).
    * Preamble names the `Data generated:` date and scope of a known export, content
      differs: refused (fewer or more deals: cut or altered; same count: altered).
    * Any other export whose preamble declares ``All countries`` to ``All countries`` with no
      year range: compared with the latest known release generated on or before its date
      (next spring's export with this spring's release); refused when it is far smaller
      (:data:`PLAUSIBLE_FRACTION`) or ends before that release's last recipient. Not
      checked: an export older than every known release.
    """
    for k in known:
        if k.content_sha256 == content:
            return k  # whatever day it was exported on (`Data generated:` is that day)
    src, dst, years = declared_scope(preamble)
    if release_date is None or src is None or dst is None:
        return None
    n = len(records)
    last = f"last deal read on line {linenos[-1]}"
    for k in known:
        if (k.release_date == release_date and k.scope_from.casefold() == src.casefold()
                and k.scope_to.casefold() == dst.casefold()):
            if n != k.n_deals:
                raise SipriFormatError(
                    f"{path}: the file holds {n:,} deals, {k.label} holds {k.n_deals:,}: it is "
                    f"cut or altered; {last}. Use a complete copy of the export"
                )
            raise SipriFormatError(
                f"{path}: the file holds {n:,} deals like {k.label}, but they differ from it "
                f"(content checksum {content[:12]}..., expected {k.content_sha256[:12]}...): "
                f"the file was altered; {last}. Use a complete copy of the export"
            )
    whole = src.casefold() == dst.casefold() == "all countries" and years is None
    wholes = [k for k in known if k.scope_from.casefold() == k.scope_to.casefold() == "all countries"]
    in_force = [k for k in wholes if k.release_date <= release_date]
    if not whole or not in_force:
        return None
    newest = in_force[-1]  # the latest known release exported on or before that day
    have = {"n_deals": n,
            "n_recipients": len({r[0].strip().casefold() for r in records}),
            "n_suppliers": len({r[1].strip().casefold() for r in records})}
    for key, frac in PLAUSIBLE_FRACTION.items():
        if have[key] < frac * getattr(newest, key):
            what = key.removeprefix("n_")
            raise SipriFormatError(
                f"{path}: an export of the whole register (generated {release_date.isoformat()}) "
                f"with {have[key]:,} {what}, where {newest.label} has {getattr(newest, key):,} "
                f"(fewer than {frac:.0%} of it): it is probably cut; {last}. Use a complete "
                f"copy of the export"
            )
    final = records[-1][0].strip()
    if newest.last_recipient and order_key(final) < order_key(newest.last_recipient):
        raise SipriFormatError(
            f"{path}: an export of the whole register (generated {release_date.isoformat()}) "
            f"whose deals end with {final!r}, where {newest.label} ends with "
            f"{newest.last_recipient!r} (recipients come in alphabetical order): it is "
            f"probably cut; {last}. Use a complete copy of the export"
        )
    return None


def _deal_ids(keys: list[str]) -> list[str]:
    """Stable ids from the deal's own cell values (:func:`_record_keys`; same id in a full
    file and a subset of it); a repeated identical row gets ``-2``, ``-3``..."""
    seen: dict[str, int] = {}
    ids = []
    for rec in keys:
        key = hashlib.sha1(rec.encode("utf-8")).hexdigest()[:12]
        seen[key] = seen.get(key, 0) + 1
        ids.append(key if seen[key] == 1 else f"{key}-{seen[key]}")
    return ids


# ----------------------------------------------------------------------------- weapons

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
                raise _release_problem(path, lineno, "description", desc, "a description (empty)")
            if cat.strip() not in WEAPON_CATEGORIES:
                raise _release_problem(path, lineno, "category", cat,
                                       f"one of SIPRI's categories {list(WEAPON_CATEGORIES)}")
            if key in out and out[key][0] != cat.strip():
                raise SipriFormatError(
                    f"{path}, line {lineno}, column 'category': {desc!r} is {cat.strip()!r} here "
                    f"but {out[key][0]!r} on line {out[key][1]}")
            out.setdefault(key, (cat.strip(), lineno))
    return tuple((k, v[0]) for k, v in out.items())


def _designation_keys(designations: pd.Series) -> pd.Series:
    """:func:`normalise_designation` of each designation (each distinct one computed once)."""
    uniq = pd.unique(designations)
    keys = {d: normalise_designation(d) for d in uniq}
    return designations.map(keys).astype("str")


def weapon_category(descriptions: pd.Series, mapping: dict[str, str] | None = None) -> pd.Series:
    """SIPRI's weapon category of each description; :data:`UNMAPPED` where the mapping lacks it."""
    mapping = load_weapon_categories() if mapping is None else mapping
    return _per_distinct(descriptions.astype("str"), lambda d: mapping.get(_description_key(d), UNMAPPED)).astype("str")


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
    import unicodedata

    s = unicodedata.normalize("NFKC", str(text))
    s = _DASHES_RE.sub("-", s).casefold()
    s = " ".join(s.split())
    s = re.sub(r"\s*([-/])\s*", r"\1", s)
    s = re.sub(r"\bblock (?=\d)", "block-", s)
    s = " ".join(t for t in s.split(" ") if not _BLOCK_TOKEN_RE.match(t))
    return re.sub(r"(?<=[a-z])-(?=\d)", "", s)


# ----------------------------------------------------------------------------- public API


def read_register(path: str | Path) -> Register:
    """Read a SIPRI trade-register export (any variant listed in the module docstring).

    Args:
        path: the CSV file.

    Returns:
        A :class:`Register` with one row per deal in ``.deals``.

    Raises:
        FileNotFoundError: the file does not exist.
        SipriFormatError: not a SIPRI export; a damaged, cut, pasted-together, quoted or
            altered export; a bad value; a name the country crosswalk lacks; an export with
            a header but no deals; a file that does not match its fetch sidecar. The message
            names the file and, where there is one, the line (and column).
        takingstock.data.countries.CrosswalkError: the country crosswalk file is missing or broken.
    """
    path = Path(path)
    raw = path.read_bytes()
    file_sha = hashlib.sha256(raw).hexdigest()
    _check_sidecar(path, file_sha, None)
    text, encoding = _decode(raw, path)
    lines = text.split("\n")
    h = _find_header(lines, path)
    lines = _split_lines(text, path)
    _check_header(_strip_padding(lines[h]).split(","), path, h + 1)
    preamble = [_strip_padding(line) for line in lines[:h]]
    release = _parse_release_date(preamble)
    records, linenos, joined = _split_records(lines, h + 1, path)
    if not records:
        raise SipriFormatError(
            f"{path}: the SIPRI header is on line {h + 1} but no deal follows it (empty register)"
        )
    _check_order(records, linenos, path)
    keys = _record_keys(records)
    _check_duplicate_blocks(keys, linenos, path)
    _check_sidecar(path, file_sha, len(records))
    content = _content_sha256_of_keys(keys)
    known = _place_release(path, preamble, release, records, linenos, content,
                           load_known_releases())
    if known is not None and release is None:
        release = known.release_date  # recognised by its content: a release without preamble

    frame = pd.DataFrame(records, columns=_RAW_COLUMNS, dtype="str")
    frame.insert(0, "source_line", linenos)
    for col in ("recipient", "supplier", "designation", "description", "status", "comments"):
        frame[col] = frame[col].str.strip()
    _bad(path, frame, frame["recipient"] == "", "recipient", "a recipient name (empty)")
    _bad(path, frame, frame["supplier"] == "", "supplier", "a supplier name (empty)")

    deals = pd.DataFrame(index=frame.index)
    deals["deal_id"] = _deal_ids(keys)
    deals["recipient"] = frame["recipient"]
    deals["supplier"] = frame["supplier"]
    crosswalk = countries.load_crosswalk()
    both, unknown = _resolve_names(
        pd.concat([frame["recipient"], frame["supplier"]], ignore_index=True), crosswalk
    )
    if unknown.any():
        raise _unknown_names_error(path, frame, unknown, crosswalk)
    n_deals = len(frame)
    rec = both.iloc[:n_deals].set_axis(frame.index)
    sup = both.iloc[n_deals:].set_axis(frame.index)
    deals["recipient_state"] = rec["state"]
    deals["recipient_bloc"] = rec["bloc"]
    deals["recipient_kind"] = rec["kind"]
    deals["supplier_state"] = sup["state"]
    deals["supplier_iso"] = sup["iso"]
    deals["supplier_bloc"] = sup["bloc"]
    deals["supplier_kind"] = sup["kind"]
    deals["order_year"] = _to_int(frame, "order_year", path)
    deals["order_year_uncertain"] = _to_flag(frame, "order_year_flag", path)
    deals["number_ordered"] = _to_int(frame, "number_ordered", path)
    deals["number_ordered_uncertain"] = _to_flag(frame, "number_ordered_flag", path)
    deals["designation"] = frame["designation"]
    deals["designation_key"] = _designation_keys(frame["designation"])
    deals["description"] = frame["description"]
    deals["category"] = weapon_category(frame["description"])
    deals["number_delivered"] = _to_int(frame, "number_delivered", path)
    deals["number_delivered_uncertain"] = _to_flag(frame, "number_delivered_flag", path)
    deals["delivery_years"] = _to_years(frame, "delivery_years", path)
    deals["n_delivery_years"] = deals["delivery_years"].map(len).astype("int64")
    deals["status"] = frame["status"]
    deals["comments"] = frame["comments"]
    deals["tiv_per_unit"] = _to_float(frame, "tiv_per_unit", path)
    deals["tiv_order"] = _to_float(frame, "tiv_order", path)
    deals["tiv_delivered"] = _to_float(frame, "tiv_delivered", path)
    deals["source_line"] = frame["source_line"].astype("int64")
    unmapped = sorted(set(deals.loc[deals["category"] == UNMAPPED, "description"]))
    return Register(
        deals=deals,
        release_date=release,
        path=path,
        sha256=file_sha,
        encoding=encoding,
        joined_lines=joined,
        preamble=preamble,
        content_sha256=content,
        known_release=known,
        unmapped_descriptions=unmapped,
    )


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
        return _release_date_in(fh, path)


def _release_date_in(stream: BinaryIO, where: str | Path) -> _dt.date | None:
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
    text, _ = _decode(b"".join(head), where)
    lines = text.splitlines()
    h = _find_header(lines, where)
    return _parse_release_date(lines[:h])


def deal_years(deals: pd.DataFrame) -> pd.DataFrame:
    """One row per deal and delivery year, with the deliveries spread evenly over the years.

    ``items`` = number delivered / number of listed years, ``tiv`` = TIV delivered / number
    of listed years (SIPRI does not say how many items came in which year; see the module
    docstring for the consequence). Deals without any delivery year (nothing delivered yet)
    have no row here; they remain in ``deals``.

    Returns:
        The deal columns (without ``delivery_years``) plus ``year`` (int), ``items`` and
        ``tiv`` (float).
    """
    base = deals[deals["delivery_years"].map(len) > 0].copy()
    base["_n_years"] = base["delivery_years"].map(len).astype("float64")
    out = base.explode("delivery_years").rename(columns={"delivery_years": "year"})
    n = out.pop("_n_years")
    out["year"] = out["year"].astype("int64")
    out["items"] = out["number_delivered"].astype("float64") / n
    out["tiv"] = out["tiv_delivered"].astype("float64").fillna(0.0) / n
    return out.reset_index(drop=True)


REGISTER_CACHE_VERSION = "2"


def register_cache_key(path: str | Path) -> str:
    """The key of ``path``'s cached read (see "Parsed-register cache" in the module docstring)."""
    path = Path(path)
    digest = hashlib.sha256(f"register-cache {REGISTER_CACHE_VERSION}\0".encode())
    digest.update(" ".join([platform.python_version(), *_library_versions()]).encode())
    sidecar = path.with_name(path.name + ".meta.yml")
    inputs = [("export", path), ("sidecar", sidecar), ("crosswalk", Path(countries.CROSSWALK_PATH)),
              ("releases", Path(RELEASES_PATH)), ("categories", Path(CATEGORIES_PATH)),
              ("code", Path(__file__)), ("code", Path(countries.__file__)), ("code", Path(paths.__file__))]
    for role, file in inputs:
        data = file.read_bytes() if file.is_file() else b"-"
        digest.update(f"\0{role}\0{len(data)}\0".encode() + hashlib.sha256(data).digest())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _library_versions() -> tuple[str, ...]:
    """The installed pandas, pyarrow and numpy versions (what the cached frames depend on)."""
    out = []
    for name in ("pandas", "pyarrow", "numpy"):
        try:
            out.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name}=-")
    return tuple(out)


#: The fields of a :class:`Register` the JSON sidecar of a cached read holds, with their types.
_CACHED_FIELDS = {"release_date": (str, type(None)), "sha256": str, "encoding": str, "joined_lines": list,
                  "preamble": list, "content_sha256": str, "known_release": (dict, type(None)),
                  "unmapped_descriptions": list}


def _register_to_cache(register: Register, frame_path: Path, fields_path: Path) -> None:
    """Write a read register as data only: its deals as an Arrow IPC file, the rest as JSON."""
    known = register.known_release
    fields = {"release_date": register.release_date.isoformat() if register.release_date else None,
              "sha256": register.sha256, "encoding": register.encoding, "joined_lines": register.joined_lines,
              "preamble": register.preamble, "content_sha256": register.content_sha256,
              "known_release": None if known is None else {**asdict(known), "release_date": known.release_date.isoformat()},
              "unmapped_descriptions": register.unmapped_descriptions}
    sink = pa.BufferOutputStream()
    feather.write_feather(pa.Table.from_pandas(register.deals, preserve_index=False), sink, compression="uncompressed")
    atomic.write_bytes(frame_path, sink.getvalue().to_pybytes())
    atomic.write_text(fields_path, json.dumps(fields))


def _register_from_cache(frame_path: Path, fields_path: Path, path: Path) -> Register | None:
    """The register a cache pair holds, or None when either file is missing, damaged or not ours.

    Only data is read (JSON, and an Arrow IPC file through pyarrow): nothing in them can run."""
    try:
        fields = json.loads(fields_path.read_text(encoding="utf-8"))
        if not isinstance(fields, dict) or set(fields) != set(_CACHED_FIELDS) or not all(
                isinstance(fields[k], t) for k, t in _CACHED_FIELDS.items()):
            return None
        deals = feather.read_table(frame_path).to_pandas()
        deals["delivery_years"] = [list(map(int, years)) for years in deals["delivery_years"]]
        known = fields["known_release"]
        if known is not None:
            known = KnownRelease(**{**known, "release_date": _dt.date.fromisoformat(known["release_date"])})
        date = fields["release_date"]
        return Register(deals=deals, release_date=None if date is None else _dt.date.fromisoformat(date), path=path,
                        sha256=fields["sha256"], encoding=fields["encoding"], joined_lines=fields["joined_lines"],
                        preamble=fields["preamble"], content_sha256=fields["content_sha256"], known_release=known,
                        unmapped_descriptions=fields["unmapped_descriptions"])
    except Exception:  # noqa: BLE001 - a missing, damaged or foreign cache file is read again from the export
        return None


def read_register_cached(path: str | Path, cache_dir: str | Path | None) -> Register:
    """:func:`read_register`, through the parsed-register cache in ``cache_dir`` (None: no cache).

    Returns a new :class:`Register` on every call (callers may change its frame), with
    ``.path`` the file asked for. Raises what :func:`read_register` raises.
    """
    path = Path(path)
    if cache_dir is None:
        return read_register(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such SIPRI export")
    stem = Path(cache_dir) / f"sipri-{register_cache_key(path)[:40]}"
    frame_path, fields_path = stem.with_suffix(".arrow"), stem.with_suffix(".json")
    stem.parent.mkdir(parents=True, exist_ok=True)
    # kernels running side by side wait for the one that parses the export, not parse it twice
    with FileLock(stem.with_suffix(".lock")):
        register = _register_from_cache(frame_path, fields_path, path)
        if register is None:
            register = read_register(path)
            _register_to_cache(register, frame_path, fields_path)
    return register


def missing_register_message(sipri_dir: str | Path = paths.SIPRI_RAW) -> str:
    """What a notebook prints when no register is at hand: what is missing and how to get it."""
    return (f"No SIPRI trade register in {sipri_dir}: the SIPRI sections are skipped; the rest of "
            "the pipeline does not need them. Get the register with `python pipeline.py "
            f"fetch-sipri`, or download the trade register (CSV) from {SIPRI_URL} and place it "
            "in data/raw/sipri/ (the README says how to point a run at another file).")
