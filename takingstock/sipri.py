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
(``takingstock.countries``, loaded once per read) for a canonical state name, ISO code and
bloc. A name the crosswalk does not know keeps its SIPRI spelling, gets bloc ``unknown``, and
is listed in ``Register.unmatched_names`` (nothing is dropped). A crosswalk file that is
itself broken raises :class:`takingstock.countries.CrosswalkError`: it is never silently
replaced by SIPRI's names.

**Spreading deliveries over years.** SIPRI lists the years in which items of a deal were
delivered but not how many came in each year. :func:`deal_years` therefore spreads the number
delivered and the TIV delivered *evenly* over the listed years. Consequence: yearly series are
smoothed; a deal whose items mostly arrived in its first year shows up partly in later years,
so single-year figures are approximate (sums over a whole deal or a long period are exact),
and fractional item counts can appear in a year.

**Releases differ.** SIPRI revises the whole database every spring: deals are added, re-dated
and re-valued, and descriptions are reworded (e.g. `portable SAM` became `portable
surface-to-air missile`). Always state which release (``Register.release_date``, read from the
preamble's `Data generated:` line) a figure comes from.

**Terms.** Credit "SIPRI Arms Transfers Database" (https://www.sipri.org/databases/armstransfers).
Every calculation here (spreading, sums, shares, matches) is ours and must not be attributed
to SIPRI. No commercial use without SIPRI's agreement.

Format accepted
---------------
The export SIPRI's web application produces (Latin-1, an ~11-line preamble, then a header
starting ``Recipient,Supplier,Year of order``, 16 comma-separated columns, no quoting, ``;``
inside fields), and the variants met in the wild: no preamble, UTF-8 with or without a byte
order mark, lines padded with trailing ``;;;;``, deals split over two lines by a line break
inside Comments (joined back), and the derived-subset layout whose header names the flag
columns (``Year of order uncertain`` ...). The header is searched for, never assumed to be on
a given line.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from . import countries, paths

__all__ = [
    "SipriFormatError",
    "Register",
    "read_register",
    "read_release_date",
    "deal_years",
    "find_register",
    "open_register",
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
_DATE_RE = re.compile(r"^\s*Data generated:\s*(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})")


class SipriFormatError(ValueError):
    """The file is not a SIPRI trade-register export, or is damaged (says where)."""


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
        unmatched_names: SIPRI names (recipients and suppliers) the country crosswalk did not
            know (kept as is, bloc ``unknown``).
    """

    deals: pd.DataFrame
    release_date: _dt.date | None
    path: Path
    sha256: str
    encoding: str = "latin-1"
    joined_lines: list[int] = field(default_factory=list)
    unmatched_names: list[str] = field(default_factory=list)

    @property
    def release_label(self) -> str:
        """The release as text, e.g. ``SIPRI release of 2026-05-18`` (or the file name)."""
        if self.release_date is not None:
            return f"SIPRI release of {self.release_date.isoformat()}"
        return f"SIPRI export {self.path.name} (release date not stated in the file)"


# ----------------------------------------------------------------------------- decoding


def _decode(raw: bytes) -> tuple[str, str]:
    """Return (text, encoding): UTF-8 with BOM, else UTF-8 if valid, else Latin-1."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _strip_padding(line: str) -> str:
    """Remove trailing ``;`` padding and blanks at the end of a line (never inside fields)."""
    return line.rstrip(" \t;\r")


def _find_header(lines: list[str], path: str | Path) -> int:
    """Index of the header line; :class:`SipriFormatError` when there is none."""
    for i, line in enumerate(lines[:_HEADER_SEARCH_LINES]):
        if _strip_padding(line).startswith(HEADER_START):
            return i
    first = lines[0][:80] if lines else "(empty file)"
    raise SipriFormatError(
        f"{path}: not a SIPRI trade-register export: expected a header line starting "
        f"'{HEADER_START}' within the first {_HEADER_SEARCH_LINES} lines; the file begins "
        f"with {first!r}"
    )


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


def _split_records(lines: list[str], start: int, path: Path) -> tuple[list[list[str]], list[int], list[int]]:
    """Split data lines into 16-field records, joining lines broken inside Comments.

    A line with fewer than 16 fields is the start of a broken deal when the following
    line(s) complete it to exactly 16 fields (the break falls inside Comments, so the pieces
    are joined with a space). Returns (records, file line number of each record, joined lines).
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
        fields = line.split(",")
        first = i
        while len(fields) < N_COLUMNS:
            # try to complete with continuation lines
            j = i + 1
            while j < n and not _strip_padding(lines[j]).strip():
                j += 1
            if j >= n:
                raise SipriFormatError(
                    f"{path}, line {first + 1}: the last deal has {len(fields)} of "
                    f"{N_COLUMNS} fields; the file looks truncated"
                )
            nxt = _strip_padding(lines[j]).split(",")
            if len(fields) + len(nxt) - 1 > N_COLUMNS:
                raise SipriFormatError(
                    f"{path}, line {first + 1}: {len(fields)} of {N_COLUMNS} fields, and "
                    f"line {j + 1} does not continue it (it has {len(nxt)} fields); the line "
                    f"is damaged or truncated"
                )
            fields = fields[:-1] + [fields[-1].rstrip() + " " + nxt[0].lstrip()] + nxt[1:]
            joined.append(j + 1)
            i = j
        if len(fields) > N_COLUMNS:
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
    return pd.Series(
        [[int(y) for y in v.split(";")] if v else [] for v in s], index=frame.index, dtype=object
    )


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


def _resolve_names(names: pd.Series, crosswalk: countries.Crosswalk) -> tuple[pd.DataFrame, list[str]]:
    """Map SIPRI names to state / iso / bloc / kind through the country crosswalk.

    SIPRI's own markers (``*``, ``**``, ``unknown ...``) decide the kind; for a plain state
    name the crosswalk's kind is used. A name the crosswalk does not know keeps its SIPRI
    spelling, no ISO code and bloc ``unknown``.

    Returns:
        (frame indexed like ``names`` with columns state, iso, bloc, kind; the sorted names
        the crosswalk did not know).
    """
    names = names.astype("str")
    got = crosswalk.lookup(names, errors="mark")
    unknown = got["error"] != ""
    marked = names.map(name_kind)
    out = pd.DataFrame(index=names.index)
    out["state"] = got["state"].where(~unknown, names).astype("str")
    out["iso"] = got["iso"].where(~unknown, pd.NA).astype("string")
    out["bloc"] = got["bloc"].where(~unknown, "unknown").astype("str")
    out["kind"] = marked.where((marked != "state") | unknown, got["kind"]).astype("str")
    return out, sorted(set(names[unknown]))


def _deal_ids(records: list[list[str]]) -> list[str]:
    """Stable ids from the deal's own cell values (same id in a full file and a subset of it);
    a repeated identical row gets ``-2``, ``-3``..."""
    seen: dict[str, int] = {}
    ids = []
    for rec in records:
        key = hashlib.sha1("\x1f".join(f.strip() for f in rec).encode("utf-8")).hexdigest()[:12]
        seen[key] = seen.get(key, 0) + 1
        ids.append(key if seen[key] == 1 else f"{key}-{seen[key]}")
    return ids


# ----------------------------------------------------------------------------- public API


def read_register(path: str | Path) -> Register:
    """Read a SIPRI trade-register export (any variant listed in the module docstring).

    Args:
        path: the CSV file.

    Returns:
        A :class:`Register` with one row per deal in ``.deals``.

    Raises:
        FileNotFoundError: the file does not exist.
        SipriFormatError: not a SIPRI export, a damaged/truncated line (the message names the
            line and column), or an export with a header but no deals.
        takingstock.countries.CrosswalkError: the country crosswalk file is missing or broken.
    """
    path = Path(path)
    raw = path.read_bytes()
    text, encoding = _decode(raw)
    lines = text.splitlines()
    h = _find_header(lines, path)
    _check_header(_strip_padding(lines[h]).split(","), path, h + 1)
    release = _parse_release_date(lines[:h])
    records, linenos, joined = _split_records(lines, h + 1, path)
    if not records:
        raise SipriFormatError(
            f"{path}: the SIPRI header is on line {h + 1} but no deal follows it (empty register)"
        )
    frame = pd.DataFrame(records, columns=_RAW_COLUMNS, dtype="str")
    frame.insert(0, "source_line", linenos)
    for col in ("recipient", "supplier", "designation", "description", "status", "comments"):
        frame[col] = frame[col].str.strip()
    _bad(path, frame, frame["recipient"] == "", "recipient", "a recipient name (empty)")
    _bad(path, frame, frame["supplier"] == "", "supplier", "a supplier name (empty)")

    deals = pd.DataFrame(index=frame.index)
    deals["deal_id"] = _deal_ids(records)
    deals["recipient"] = frame["recipient"]
    deals["supplier"] = frame["supplier"]
    crosswalk = countries.load_crosswalk()
    both, unmatched = _resolve_names(
        pd.concat([frame["recipient"], frame["supplier"]], ignore_index=True), crosswalk
    )
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
    deals["description"] = frame["description"]
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
    return Register(
        deals=deals,
        release_date=release,
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        encoding=encoding,
        joined_lines=joined,
        unmatched_names=unmatched,
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
    text, _ = _decode(b"".join(head))
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


_NAME_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def find_register(sipri_dir: str | Path = paths.SIPRI_RAW) -> Path | None:
    """The newest ``*.csv`` in ``sipri_dir``, or None.

    Newest = the latest ``YYYY-MM-DD`` date in the file name (the fetcher names files by
    SIPRI's release date); files without a date in the name rank by modification date.
    """
    folder = Path(sipri_dir)
    if not folder.is_dir():
        return None
    files = [p for p in folder.glob("*.csv") if p.is_file() and not p.name.startswith(".")]
    if not files:
        return None

    def key(p: Path) -> tuple[str, str]:
        m = _NAME_DATE_RE.findall(p.name)
        stamp = m[-1] if m else _dt.date.fromtimestamp(p.stat().st_mtime).isoformat()
        return (stamp, p.name)

    return max(files, key=key)


def open_register(sipri_register: str | Path = "", sipri_dir: str | Path = paths.SIPRI_RAW) -> Register | None:
    """The register a step should use, read; None when there is none.

    Args:
        sipri_register: a path to an export, or ``""`` for the newest export in ``sipri_dir``.
        sipri_dir: where downloaded or supplied exports live (default ``data/raw/sipri/``).

    Raises:
        FileNotFoundError: a path was given and no file is there (a typo must not silently
            turn the SIPRI analysis off).
        SipriFormatError: the file is not a usable SIPRI export.
    """
    if str(sipri_register):
        path = Path(sipri_register)
        if not path.is_file():
            raise FileNotFoundError(f"sipri_register: no file at {path}")
    else:
        path = find_register(sipri_dir)
        if path is None:
            return None
    return read_register(path)


def missing_register_message(sipri_dir: str | Path = paths.SIPRI_RAW) -> str:
    """What a notebook prints when no register is at hand: what is missing and how to get it."""
    return (f"No SIPRI trade register in {sipri_dir}: the SIPRI sections are skipped; the rest of "
            "the pipeline does not need them. Get the register with `python pipeline.py "
            f"fetch-sipri`, or download the trade register (CSV) from {SIPRI_URL} and place it "
            "in data/raw/sipri/ (or pass -p sipri_register PATH).")
