"""The guard: ``python pipeline.py check-claims`` fails when a verdict or a computed value moved.

:func:`check_main` *recomputes* the ledger from the processed catalogue and the primary SIPRI
export at hand (it does not trust a ledger CSV that may be stale), compares each verdict *and
each computed value* (as the ledger shows it, e.g. ``7.3%``) *and each robustness label*
with ``data/raw/claims_accepted.csv`` and exits 1 listing every claim whose verdict changed (or
that was added or removed), every value that moved, old -> new, even within tolerance, and
every robustness label that changed. Its report gives the counts per verdict class and names
each fragile verdict with the reading that flips it.
``--accept`` rewrites the accepted file from the current ledger: a deliberate maintainer act,
committed with a message that says why. The accepted verdicts are those of one release (the
sidecar's ``accepted_against`` names it); other releases are compared in the ledger itself.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import pandas as pd

from takingstock.core import paths
from takingstock.core import atomic
from takingstock.data.sipri_format import SipriFormatError

from takingstock.data.runcontext import RunContext

from .context import build_context
from .spec import CLAIMS_FILE, ClaimsError, load_claims
from .verdicts import VERDICTS, class_counts_text, evaluate, verdict_counts
from takingstock.data import provenance

__all__ = ["ACCEPTED_FILE", "ACCEPTED_COLUMNS", "read_accepted", "read_accepted_rows", "accepted_text",
           "accept_ledger", "compare_verdicts", "compare_computed", "check_main", "ledger_report"]

ACCEPTED_FILE = paths.RAW / "claims_accepted.csv"
ACCEPTED_COLUMNS = ["id", "verdict", "computed", "robustness"]


def read_accepted(path: str | Path = ACCEPTED_FILE) -> dict[str, str]:
    """Read ``claims_accepted.csv`` into ``{id: verdict}``; raise naming the row on bad input."""
    return {cid: verdict for cid, (verdict, _computed) in read_accepted_rows(path).items()}


def read_accepted_rows(path: str | Path = ACCEPTED_FILE, column: str = "computed") -> dict[str, tuple[str, str | None]]:
    """Read ``claims_accepted.csv`` into ``{id: (verdict, computed)}`` (or ``column``'s value).

    ``computed`` is the value as the ledger showed it when accepted (``None`` when the file has
    no such column). Raises :class:`ClaimsError` naming the row on bad input.
    """
    path = Path(path)
    out: dict[str, tuple[str, str | None]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"id", "verdict"} <= set(reader.fieldnames):
            raise ClaimsError(f"{path}: needs columns 'id' and 'verdict'")
        for n, row in enumerate(reader, start=1):
            if row["verdict"] not in VERDICTS:
                raise ClaimsError(f"{path}: row {n}, column 'verdict': {row['verdict']!r} "
                                  f"is not one of {VERDICTS}")
            if row["id"] in out:
                raise ClaimsError(f"{path}: row {n}, column 'id': duplicate {row['id']!r}")
            out[row["id"]] = (row["verdict"], row.get(column))
    return out


def accepted_text(ledger: pd.DataFrame) -> str:
    """The CSV text of an accepted-verdicts file for ``ledger``."""
    buf = io.StringIO()
    ledger[[c for c in ACCEPTED_COLUMNS if c in ledger]].to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def accept_ledger(ledger: pd.DataFrame, accepted_path: str | Path, register_label: str = "") -> Path:
    """Write the accepted-verdicts file from ``ledger`` and refresh its provenance, if it has one.

    When the file's folder has a ``datapackage.json`` (``data/raw/`` does), its resource's
    ``hash``, ``bytes`` and ``rows`` are refreshed (``takingstock.data.provenance``) and its
    ``accepted_against`` property records which SIPRI release the verdicts came from.
    """

    path = atomic.write_text(accepted_path, accepted_text(ledger))
    if provenance.package_path(Path(path).parent).is_file():
        provenance.refresh_resource(path, accepted_against=register_label)
    return path


def compare_verdicts(ledger: pd.DataFrame, accepted: dict[str, str]) -> list[str]:
    """One line per claim whose verdict differs from ``accepted`` (or is new, or was removed)."""
    changes = []
    now = dict(zip(ledger["id"], ledger["verdict"]))
    for cid, verdict in now.items():
        if cid not in accepted:
            changes.append(f"{cid}: new claim, verdict {verdict!r} (not yet accepted)")
        elif accepted[cid] != verdict:
            row = ledger[ledger["id"] == cid].iloc[0]
            changes.append(f"{cid}: accepted {accepted[cid]!r}, now {verdict!r} "
                           f"(computed {row['computed']}; {row['reason']})")
    for cid in accepted:
        if cid not in now:
            changes.append(f"{cid}: accepted but no longer in the claims file")
    return changes


def compare_computed(ledger: pd.DataFrame, accepted: dict[str, tuple[str, str | None]],
                     column: str = "computed") -> list[str]:
    """One line per claim whose verdict is as accepted but whose computed value moved.

    Values are compared as the ledger shows them (``format_value``: e.g. ``7.3%``,
    ``28,358 TIV (millions)``), so a move shows as soon as it changes a shown digit, even
    within tolerance. Claims with a changed verdict are left to :func:`compare_verdicts`.
    """
    moved = []
    what = "computed value" if column == "computed" else column
    if column not in ledger:
        return moved
    for cid, verdict, computed in zip(ledger["id"], ledger["verdict"], ledger[column].fillna("")):
        if cid not in accepted:
            continue
        old_verdict, old = accepted[cid]
        if old is None or old_verdict != verdict:
            continue
        if str(old) != str(computed):
            moved.append(f"{cid}: {what} moved {old or '(none)'} -> {computed or '(none)'} (verdict still {verdict!r})")
    return moved


def check_main(argv: list[str] | None = None) -> int:
    """The guard: recompute the ledger, compare verdicts and computed values with the accepted
    file, return an exit code.

    0 = every verdict and value as accepted; 1 = at least one verdict changed or value moved
    (each listed on stderr, old -> new); 2 = a claims, accepted or register file is malformed
    or missing. ``--accept`` rewrites the accepted file (recording the moved values too).
    """
    parser = argparse.ArgumentParser(prog="pipeline.py check-claims",
                                     description="Fail when a claim's verdict changed from the accepted ledger.")
    parser.add_argument("--claims", default=str(CLAIMS_FILE))
    parser.add_argument("--accepted", default=str(ACCEPTED_FILE))
    parser.add_argument("--processed-dir", default=str(paths.PROCESSED))
    parser.add_argument("--sipri-register", default="",
                        help="register CSV ('' = the newest release in RAW_DIR/sipri; 'none' = without)")
    parser.add_argument("--raw-dir", default=str(paths.RAW),
                        help="the raw folder whose sipri/ holds the exports (default data/raw/)")
    parser.add_argument("--ledger", default="",
                        help="read verdicts from this ledger CSV instead of recomputing")
    parser.add_argument("--accept", action="store_true",
                        help="rewrite the accepted file from the current ledger (a deliberate act)")
    args = parser.parse_args(argv)
    try:
        context_label = f"ledger file {Path(args.ledger).name}" if args.ledger else ""
        if args.ledger:
            ledger = pd.read_csv(args.ledger, dtype=str, keep_default_na=False)
        else:
            none = args.sipri_register.lower() == "none"
            run = RunContext(raw_dir=Path(args.raw_dir), processed_dir=Path(args.processed_dir),
                             sipri_register=None if none else (args.sipri_register or None))
            context = build_context(run, use_register=not none)
            ledger = evaluate(load_claims(args.claims), context)
            context_label = context.label
        if args.accept:
            accept_ledger(ledger, args.accepted, context_label)
            counts = verdict_counts(ledger)
            print(f"accepted {len(ledger)} verdicts into {args.accepted}: {class_counts_text(counts)}")
            return 0
        accepted = read_accepted_rows(args.accepted)
    except (ClaimsError, FileNotFoundError, SipriFormatError) as exc:
        print(f"check-claims: {exc}", file=sys.stderr)
        return 2
    changes = compare_verdicts(ledger, {cid: v for cid, (v, _c) in accepted.items()})
    moved = compare_computed(ledger, accepted)
    with open(args.accepted, newline="", encoding="utf-8") as handle:
        has_labels = "robustness" in (csv.DictReader(handle).fieldnames or [])
    if has_labels:
        moved += compare_computed(ledger, read_accepted_rows(args.accepted, "robustness"), "robustness")
    print(ledger_report(ledger))
    if changes or moved:
        if changes:
            print(f"check-claims: {len(changes)} claim verdict(s) changed from {args.accepted}:",
                  file=sys.stderr)
            for line in changes:
                print(f"  - {line}", file=sys.stderr)
        if moved:
            print(f"check-claims: {len(moved)} computed value(s) moved from {args.accepted}:",
                  file=sys.stderr)
            for line in moved:
                print(f"  - {line}", file=sys.stderr)
        print("If the change is intended, run `python pipeline.py check-claims --accept` and "
              "commit data/raw/claims_accepted.csv with the reason.", file=sys.stderr)
        return 1
    print(f"check-claims: all {len(ledger)} verdicts, values and robustness labels as accepted")
    return 0


def ledger_report(ledger: pd.DataFrame) -> str:
    """The ledger in a few lines: counts per verdict class, and each fragile verdict."""
    lines = [f"check-claims: {len(ledger)} claims: {class_counts_text(verdict_counts(ledger))}"]
    if "robustness" in ledger:
        labels = ledger["robustness"].fillna("").astype(str)
        fragile = ledger[labels.str.startswith("fragile")]
        robust = int(labels.str.startswith("robust").sum())
        lines.append(f"  robustness: {robust} robust, {len(fragile)} fragile under another reasonable reading")
        lines += [f"  - {r.id} ({r.verdict}, {r.computed}): {r.robustness}" for r in fragile.itertuples()]
    return "\n".join(lines)


