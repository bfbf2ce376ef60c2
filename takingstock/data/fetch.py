"""Download SIPRI's whole trade register from its public API into ``data/raw/sipri/``.

Method
------
SIPRI's web application talks to an undocumented JSON API. We POST one filter body asking for
every deal with a delivery year from 1950 to the current year, plus the open deals (ordered,
nothing delivered yet), with no recipient or supplier filter: the answer is the whole register
(about 30,000 deals, a few MB) as a trade-register CSV export, base64-encoded in the ``bytes``
field of a JSON object. Filtering happens locally, afterwards.

Caveats
-------
* The download is bounded: each read waits at most ``--timeout`` seconds, the whole answer
  must come within ``--deadline`` seconds and weigh at most ``--max-mb``; an answer shorter
  than its ``Content-Length``, or JSON that ends before it is closed (no ``Content-Length``
  to compare with), is reported as "cut short".
* The API has no published contract and may change. So nothing is trusted: the answer must be
  JSON, must have ``bytes``, must decode from base64, must parse with
  :func:`takingstock.data.sipri.read_register`, and must hold a plausible number of deals
  (``min_deals``; the real register has ~30,000). Any failure raises :class:`FetchError` with a
  message that says which of these went wrong.
* The download is written once, to a temporary file beside the target
  (:func:`takingstock.core.atomic.atomic_path`); the checks read that file, and it is moved into place
  only after they all pass, so a failed or partial download never replaces a good file.
* The file is named after SIPRI's release date from the export's preamble
  (``sipri_trade_register_<YYYY-MM-DD>.csv``), or today's date when the preamble lacks one;
  a sidecar ``.meta.yml`` records URL, request body, fetch time, release date, sha256 of the
  bytes, :func:`takingstock.data.sipri_releases.content_sha256` of the deals, deal count and SIPRI's terms.
  :func:`takingstock.data.sipri.read_register` verifies the sha256 and the deal count of a file
  against this sidecar whenever it is present, so a fetched file cut or edited afterwards is
  refused.
* Terms: the data is SIPRI's. Credit "SIPRI Arms Transfers Database"; calculations are ours,
  not SIPRI's; no commercial use without SIPRI's agreement. The file is git-ignored and must
  never be committed.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as _dt
import http.client
import io
import json
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from takingstock.core import paths
from takingstock.core.atomic import atomic_path, write_text
from takingstock.data.sipri import read_register
from takingstock.data.sipri_format import SipriFormatError, release_date_in
from takingstock.data.sipri_terms import SIPRI_TERMS, SIPRI_URL

__all__ = ["DEFAULT_API", "FetchError", "request_body", "fetch_register", "main"]

DEFAULT_API = "https://atbackend.sipri.org/api/p/trades/trade-register-csv/"
DEFAULT_MIN_DEALS = 20000
#: The whole answer must come within this many seconds (each read also has its own timeout).
DEFAULT_DEADLINE = 600.0
#: The largest answer accepted: the whole register is ~4 MB of CSV, ~5.5 MB as base64 in JSON.
DEFAULT_MAX_BYTES = 64_000_000


class FetchError(RuntimeError):
    """The download failed or the answer was not a usable SIPRI register (says why)."""


def _filter(field: str, value1="", value2="", list_data=None) -> dict:
    return {
        "field": field, "oldField": "", "condition": "contains",
        "value1": value1, "value2": value2, "listData": list_data or [],
    }


def request_body(year_from: int = 1950, year_to: int | None = None) -> dict:
    """The JSON filter body: all deals delivered in ``year_from..year_to`` plus open deals.

    No recipient filter, so the answer is the whole register.
    """
    year_to = year_to or _dt.date.today().year
    return {
        "filters": [
            _filter("Delivery year", year_from, year_to),
            _filter("opendeals"),
        ],
        "logic": "AND",
    }


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def _download(url: str, body: dict, timeout: float, progress: bool, *,
              deadline: float = DEFAULT_DEADLINE, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """POST ``body`` and return the raw answer, reporting progress in 256 KiB steps.

    Bounded three ways: each read waits at most ``timeout`` seconds; the whole answer must
    have come within ``deadline`` seconds of the request (checked after every read, so a
    server that sends a byte every few seconds is given up at the deadline plus at most one
    read's wait); it may not exceed ``max_bytes`` (refused from its ``Content-Length`` before
    reading, or as soon as more has come). An answer shorter than its ``Content-Length``, or
    whose chunked encoding ends early, is "cut short".
    """
    data = json.dumps(body).encode("utf-8")
    req = urllib.request.Request(
        url, data=data, method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json",
                 "User-Agent": "taking-stock (research pipeline)"},
    )
    started = time.monotonic()
    got = 0
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            total = resp.headers.get("Content-Length")
            total = int(total) if total and total.strip().isdigit() else None
            if total is not None and total > max_bytes:
                raise FetchError(f"{url}: the answer is {total / 1e6:.1f} MB; at most {max_bytes / 1e6:g} MB "
                                 "is accepted (--max-mb). Nothing was read")
            chunks, step = [], 0
            while True:
                block = resp.read1(1 << 18)
                if not block:
                    break
                chunks.append(block)
                got += len(block)
                if got > max_bytes:
                    raise FetchError(f"{url}: the answer passed {max_bytes / 1e6:g} MB (--max-mb) and was "
                                     "given up. Nothing was written")
                if time.monotonic() - started > deadline:
                    raise FetchError(f"{url}: the answer was not complete within {deadline:g} s (--deadline); "
                                     f"cut short after {got:,} bytes. Nothing was written")
                if got // (1 << 18) > step:
                    step = got // (1 << 18)
                    of = f" of {total / 1e6:.1f} MB" if total else ""
                    _say(progress, f"  received {got / 1e6:.1f} MB{of}")
            if total is not None and got < total:
                raise FetchError(f"{url}: answer cut short ({got} of {total} bytes)")
            return b"".join(chunks)
    except http.client.IncompleteRead as exc:
        raise FetchError(f"{url}: answer cut short (the connection ended after {got + len(exc.partial):,} "
                         "bytes, inside a chunk)") from exc
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from exc
    except (socket.timeout, TimeoutError) as exc:
        raise FetchError(f"{url}: no complete answer within {timeout:g} s (timeout); cut short after "
                         f"{got:,} bytes") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (socket.timeout, TimeoutError)):
            raise FetchError(f"{url}: no answer within {timeout:g} s (timeout)") from exc
        raise FetchError(f"{url}: network failure: {exc.reason}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"{url}: network failure: {exc}") from exc


def _cut_json(exc: json.JSONDecodeError) -> bool:
    """Whether JSON failed to parse because its text ended too early (an answer cut short
    without a ``Content-Length`` to tell): the error is at the very end of the text."""
    return exc.pos >= len(exc.doc.rstrip()) or exc.msg.startswith("Unterminated string")


def _decode_answer(raw: bytes, url: str) -> bytes:
    """The CSV bytes inside the JSON answer (clear errors for each way it can be wrong)."""
    try:
        answer = json.loads(raw.decode("utf-8"))
    except json.JSONDecodeError as exc:
        if raw.lstrip()[:1] == b"{" and _cut_json(exc):
            raise FetchError(f"{url}: answer cut short: its JSON ends after {len(raw):,} bytes, inside "
                             f"the answer ({exc.msg})") from exc
        start = raw[:60].decode("utf-8", "replace")
        raise FetchError(f"{url}: the answer is not JSON (it begins {start!r})") from exc
    except UnicodeDecodeError as exc:
        start = raw[:60].decode("utf-8", "replace")
        raise FetchError(f"{url}: the answer is not JSON (it begins {start!r})") from exc
    if not isinstance(answer, dict) or "bytes" not in answer:
        keys = sorted(answer) if isinstance(answer, dict) else type(answer).__name__
        raise FetchError(f"{url}: the JSON answer has no 'bytes' field (found: {keys})")
    try:
        return base64.b64decode(answer["bytes"], validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise FetchError(f"{url}: the 'bytes' field is not valid base64 ({exc})") from exc


def fetch_register(
    dest_dir: str | Path = paths.SIPRI_RAW,
    *,
    url: str = DEFAULT_API,
    timeout: float = 60,
    progress: bool = True,
    min_deals: int = DEFAULT_MIN_DEALS,
    body: dict | None = None,
    deadline: float = DEFAULT_DEADLINE,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Path:
    """Download the whole register, check it, and write it with a sidecar into ``dest_dir``.

    Args:
        dest_dir: the folder (created if missing); default ``data/raw/sipri``.
        url: the API endpoint.
        timeout: seconds to wait for the server (connection and each read).
        deadline: seconds the whole answer may take (see :func:`_download`).
        max_bytes: the largest answer accepted.
        progress: print progress lines to stderr.
        min_deals: the fewest deals a plausible register has.
        body: the request body (default :func:`request_body`).

    Returns:
        The path of the CSV written.

    Raises:
        FetchError: network failure or timeout, past the deadline or the size limit, an answer
            cut short, HTTP error, non-JSON answer, no ``bytes``,
            bad base64, not a SIPRI register, empty register, implausibly few deals. Nothing
            in ``dest_dir`` is replaced then.
    """
    dest_dir = Path(dest_dir)
    body = body or request_body()
    _say(progress, f"Fetching the SIPRI trade register from {url} (timeout {timeout:g} s)...")
    raw = _download(url, body, timeout, progress, deadline=deadline, max_bytes=max_bytes)
    csv_bytes = _decode_answer(raw, url)
    try:
        # the file is named after the release date, read from the preamble of the answer
        release = release_date_in(io.BytesIO(csv_bytes), url)
    except SipriFormatError as exc:
        raise FetchError(f"{url}: the answer is not a usable SIPRI register: {exc}") from exc
    stamp = (release or _dt.date.today()).isoformat()
    target = dest_dir / f"sipri_trade_register_{stamp}.csv"
    # written once, beside the target; checked there; moved onto the target only if good
    with atomic_path(target) as tmp:
        tmp.write_bytes(csv_bytes)
        try:
            reg = read_register(tmp)
        except SipriFormatError as exc:
            raise FetchError(
                f"{url}: the answer is not a usable SIPRI register: {exc}"
            ) from exc
        n = len(reg.deals)
        if n < min_deals:
            raise FetchError(
                f"{url}: only {n} deals in the answer; the whole register has about 30,000 "
                f"(minimum accepted: {min_deals}). Nothing was written."
            )
    meta = {
        "file": target.name,
        "source": "SIPRI Arms Transfers Database, trade register (all suppliers, all recipients)",
        "url": url,
        "request_body": body,
        "fetched_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "sipri_release_date": reg.release_date.isoformat() if reg.release_date else None,
        "sha256": reg.sha256,
        "content_sha256": reg.content_sha256,
        "bytes": len(csv_bytes),
        "deals": n,
        "terms": SIPRI_TERMS,
    }
    write_text(target.with_name(target.name + ".meta.yml"),
               yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    reg.path = target  # it was read under its temporary name
    _say(progress, f"Wrote {target} ({n} deals, {reg.release_label}).")
    return target


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python pipeline.py fetch-sipri [--dest DIR] [--url URL] [--timeout S]``.

    Returns 0 on success, 1 (with a one-line message on stderr) when the fetch failed.
    """
    parser = argparse.ArgumentParser(
        prog="fetch-sipri",
        description="Download SIPRI's whole arms-transfers trade register into data/raw/sipri/.",
    )
    parser.add_argument("--dest", default=str(paths.SIPRI_RAW), help="folder to write into")
    parser.add_argument("--url", default=DEFAULT_API, help="API endpoint")
    parser.add_argument("--timeout", type=float, default=60, help="seconds each read may wait (default 60)")
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE,
                        help=f"seconds the whole download may take (default {DEFAULT_DEADLINE:g})")
    parser.add_argument("--max-mb", type=float, default=DEFAULT_MAX_BYTES / 1e6,
                        help=f"largest answer accepted, in MB (default {DEFAULT_MAX_BYTES / 1e6:g})")
    parser.add_argument("--min-deals", type=int, default=DEFAULT_MIN_DEALS,
                        help="fewest deals accepted as a whole register")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    try:
        fetch_register(args.dest, url=args.url, timeout=args.timeout,
                       progress=not args.quiet, min_deals=args.min_deals,
                       deadline=args.deadline, max_bytes=int(args.max_mb * 1e6))
    except FetchError as exc:
        print(f"fetch-sipri failed: {exc}", file=sys.stderr)
        print(f"You can also download the trade register (CSV) by hand from {SIPRI_URL} "
              f"and place it in {args.dest} (or pass -p sipri_register PATH).",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
