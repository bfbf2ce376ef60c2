"""Which SIPRI release an export is, and whether it is whole.

Releases differ
---------------
SIPRI revises the whole database every spring: deals are added, re-dated and re-valued, and
descriptions are reworded (e.g. `portable SAM` became `portable surface-to-air missile`).
Always state which export (``Register.release_date``, read from the preamble's `Data
generated:` line, the day SIPRI generated the export) a figure comes from.
``data/raw/sipri_releases.csv`` records the whole exports we know (generation date, declared
scope, numbers of deals, recipients and suppliers, last recipient, :func:`content_sha256`);
``Register.known_release`` says which of them a file is a complete copy of, recognised by its
content (:func:`place_release`), so a copy without its preamble still gets its release date.

Cut exports
-----------
An export has no trailer, so what can be known is used; each case raises
:class:`takingstock.data.sipri_format.SipriFormatError` naming the file and the last deal read:

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
(c) a file whose last line has no line break was cut inside that line
(:func:`takingstock.data.sipri_format.split_lines`).
(d) a file with a ``<file>.meta.yml`` sidecar (written by :mod:`takingstock.data.fetch`) must
have the SHA-256 and deal count it records (:func:`check_sidecar`).
"""

from __future__ import annotations

import csv as _csv
import datetime as _dt
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from takingstock.core import paths
from takingstock.core.tabular import read_yaml_mapping
from takingstock.data.sipri_format import SipriFormatError, declared_scope, value_error
from takingstock.data.sipri_records import order_key, record_keys

__all__ = [
    "KnownRelease",
    "RELEASES_PATH",
    "load_known_releases",
    "content_sha256",
    "PLAUSIBLE_FRACTION",
    "place_release",
    "check_sidecar",
]

#: The committed table of the SIPRI releases we know (facts about the files, no SIPRI data).
RELEASES_PATH = paths.RAW / "sipri_releases.csv"
_RELEASE_COLUMNS = ["release_date", "scope_from", "scope_to", "n_deals", "n_recipients",
                    "n_suppliers", "content_sha256", "last_recipient", "notes"]

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


def content_sha256(records: list[list[str]]) -> str:
    """SHA-256 of the deals themselves, the same for every copy of one export.

    Each deal's 16 fields are trimmed and joined with the unit separator (U+001F); the deals
    are sorted and joined with line feeds, and the UTF-8 bytes are hashed. So the checksum
    does not depend on the preamble, the header naming, the encoding, CRLF or ``\\n`` line
    ends, ``;;;;`` padding, Comments broken over lines (joined first) or the order of the
    deals; it changes when any deal is added, lost or altered.
    """
    return content_sha256_of_keys(record_keys(records))


def content_sha256_of_keys(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()


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
                raise value_error(path, lineno, "release_date", get["release_date"],
                                       "a date YYYY-MM-DD") from None
            counts = {}
            for c in ("n_deals", "n_recipients", "n_suppliers"):
                if not get[c].isdigit() or int(get[c]) == 0:
                    raise value_error(path, lineno, c, get[c], "a positive whole number")
                counts[c] = int(get[c])
            if not re.fullmatch(r"[0-9a-f]{64}", get["content_sha256"]):
                raise value_error(path, lineno, "content_sha256", get["content_sha256"],
                                       "a SHA-256 in lower-case hex")
            for c in ("scope_from", "scope_to"):
                if not get[c]:
                    raise value_error(path, lineno, c, get[c], "a scope (empty)")
            out.append(KnownRelease(date, get["scope_from"], get["scope_to"], counts["n_deals"],
                                    counts["n_recipients"], counts["n_suppliers"],
                                    get["content_sha256"], get["last_recipient"]))
    return tuple(sorted(out, key=lambda r: r.release_date))


def check_sidecar(path: Path, file_sha: str, n_deals: int | None) -> None:
    """Check a fetched file against its ``<file>.meta.yml`` (sha256, deal count) if present.

    Called twice: before parsing (``n_deals`` None: checksum only) and after (count).
    """
    side = path.with_name(path.name + ".meta.yml")
    if not side.is_file():
        return
    meta = read_yaml_mapping(side, SipriFormatError, what=f"the sidecar of {path.name} ")
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


def place_release(path: Path, preamble: list[str], release_date: _dt.date | None,
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
