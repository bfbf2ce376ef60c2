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

**Spreading deliveries over years.** SIPRI lists the years in which items of a deal were
delivered but not how many came in each year. :func:`deal_years` therefore spreads the number
delivered and the TIV delivered *evenly* over the listed years. Consequence: yearly series are
smoothed; a deal whose items mostly arrived in its first year shows up partly in later years,
so single-year figures are approximate (sums over a whole deal or a long period are exact),
and fractional item counts can appear in a year.

**Releases differ**, so every figure names its export (``Register.release_date``; see
:mod:`takingstock.data.sipri_releases`). Credit SIPRI; the calculations are ours; no commercial
use (:mod:`takingstock.data.sipri_terms`).

How the reader is built
-----------------------
:func:`read_register` reads the file in these steps, each in its own module with its method
and caveats in its docstring; a damaged or incomplete export is caught, not analysed: each
check raises :class:`takingstock.data.sipri_format.SipriFormatError` naming the file, the line
and what is wrong.

* :mod:`takingstock.data.sipri_format` - the encoding, the header, the preamble (release date,
  declared scope); which variants of the export are accepted; quoted and cut files refused.
* :mod:`takingstock.data.sipri_records` - the lines after the header split into deals (a deal
  broken inside Comments joined back); split deals and pasted exports refused.
* :mod:`takingstock.data.sipri_releases` - the content checksum, the known releases, the fetch
  sidecar; cut or altered copies of a whole export refused.
* :mod:`takingstock.data.sipri_columns` - the values typed and checked, the `?` flags, the
  names resolved through the country crosswalk (an unknown name stops the read), deal ids.
* :mod:`takingstock.data.sipri_weapons` - the weapon category and the designation key.

:mod:`takingstock.data.sipri_cache` keeps what :func:`read_register` returns, for the kernels of
a run, as data only.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from takingstock.data import countries
from takingstock.data.sipri_columns import (
    deal_ids,
    refuse_rows,
    resolve_names,
    to_flag,
    to_float,
    to_int,
    to_years,
    unknown_names_error,
)
from takingstock.data.sipri_format import (
    RAW_COLUMNS,
    SipriFormatError,
    check_header,
    decode,
    find_header,
    parse_release_date,
    split_lines,
    strip_padding,
)
from takingstock.data.sipri_records import check_duplicate_blocks, check_order, record_keys, split_records
from takingstock.data.sipri_releases import (
    KnownRelease,
    check_sidecar,
    content_sha256_of_keys,
    load_known_releases,
    place_release,
)
from takingstock.data.sipri_weapons import UNMAPPED, designation_keys, weapon_category

__all__ = ["Register", "read_register", "deal_years"]

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
        content_sha256: :func:`takingstock.data.sipri_releases.content_sha256` of the deals
            (independent of preamble, encoding, line ends, padding and deal order).
        known_release: the :class:`takingstock.data.sipri_releases.KnownRelease` this file is a whole copy of, or None (a
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


def read_register(path: str | Path) -> Register:
    """Read a SIPRI trade-register export (any variant :mod:`takingstock.data.sipri_format` accepts).

    Args:
        path: the CSV file.

    Returns:
        A :class:`Register` with one row per deal in ``.deals``.

    Raises:
        FileNotFoundError: the file does not exist.
        takingstock.data.sipri_format.SipriFormatError: not a SIPRI export; a damaged, cut, pasted-together, quoted or
            altered export; a bad value; a name the country crosswalk lacks; an export with
            a header but no deals; a file that does not match its fetch sidecar. The message
            names the file and, where there is one, the line (and column).
        takingstock.data.countries.CrosswalkError: the country crosswalk file is missing or broken.
    """
    path = Path(path)
    raw = path.read_bytes()
    file_sha = hashlib.sha256(raw).hexdigest()
    check_sidecar(path, file_sha, None)
    text, encoding = decode(raw, path)
    lines = text.split("\n")
    h = find_header(lines, path)
    lines = split_lines(text, path)
    check_header(strip_padding(lines[h]).split(","), path, h + 1)
    preamble = [strip_padding(line) for line in lines[:h]]
    release = parse_release_date(preamble)
    records, linenos, joined = split_records(lines, h + 1, path)
    if not records:
        raise SipriFormatError(
            f"{path}: the SIPRI header is on line {h + 1} but no deal follows it (empty register)"
        )
    check_order(records, linenos, path)
    keys = record_keys(records)
    check_duplicate_blocks(keys, linenos, path)
    check_sidecar(path, file_sha, len(records))
    content = content_sha256_of_keys(keys)
    known = place_release(path, preamble, release, records, linenos, content,
                           load_known_releases())
    if known is not None and release is None:
        release = known.release_date  # recognised by its content: a release without preamble

    frame = pd.DataFrame(records, columns=RAW_COLUMNS, dtype="str")
    frame.insert(0, "source_line", linenos)
    for col in ("recipient", "supplier", "designation", "description", "status", "comments"):
        frame[col] = frame[col].str.strip()
    refuse_rows(path, frame, frame["recipient"] == "", "recipient", "a recipient name (empty)")
    refuse_rows(path, frame, frame["supplier"] == "", "supplier", "a supplier name (empty)")

    deals = pd.DataFrame(index=frame.index)
    deals["deal_id"] = deal_ids(keys)
    deals["recipient"] = frame["recipient"]
    deals["supplier"] = frame["supplier"]
    crosswalk = countries.load_crosswalk()
    both, unknown = resolve_names(
        pd.concat([frame["recipient"], frame["supplier"]], ignore_index=True), crosswalk
    )
    if unknown.any():
        raise unknown_names_error(path, frame, unknown, crosswalk)
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
    deals["order_year"] = to_int(frame, "order_year", path)
    deals["order_year_uncertain"] = to_flag(frame, "order_year_flag", path)
    deals["number_ordered"] = to_int(frame, "number_ordered", path)
    deals["number_ordered_uncertain"] = to_flag(frame, "number_ordered_flag", path)
    deals["designation"] = frame["designation"]
    deals["designation_key"] = designation_keys(frame["designation"])
    deals["description"] = frame["description"]
    deals["category"] = weapon_category(frame["description"])
    deals["number_delivered"] = to_int(frame, "number_delivered", path)
    deals["number_delivered_uncertain"] = to_flag(frame, "number_delivered_flag", path)
    deals["delivery_years"] = to_years(frame, "delivery_years", path)
    deals["n_delivery_years"] = deals["delivery_years"].map(len).astype("int64")
    deals["status"] = frame["status"]
    deals["comments"] = frame["comments"]
    deals["tiv_per_unit"] = to_float(frame, "tiv_per_unit", path)
    deals["tiv_order"] = to_float(frame, "tiv_order", path)
    deals["tiv_delivered"] = to_float(frame, "tiv_delivered", path)
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
