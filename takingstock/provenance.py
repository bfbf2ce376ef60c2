"""Provenance of the committed raw data: sidecars, checksums and row counts.

Method
------
Every committed data file ``X`` in ``data/raw/`` has a sidecar ``X.meta.yml`` that says what
the file is, who published the facts it restates, where they were found (URLs), when and by
whom it was compiled, under which terms, and what each column means (``columns:``, a data
dictionary of ``name``, ``type``, ``meaning``). The sidecar also pins the file's content with
its SHA-256 checksum and its number of data rows.

This module checks those promises:

* :func:`verify` compares one file with its sidecar: the checksum, the row count, and the
  column names of the data dictionary against the CSV header (same names, same order);
* :func:`missing_sidecars` lists raw data files that have no sidecar, and :func:`orphan_sidecars`
  sidecars whose data file is gone;
* :func:`raw_data_versions` lists, for the briefings' provenance stamp, each raw file with the
  checksum and row count *measured now* and the title from its sidecar;
* :func:`update_sidecar` (also ``python -m takingstock.provenance --update FILE``) rewrites the
  ``sha256:`` and ``rows:`` lines of a sidecar after a deliberate edit of a raw file. It edits
  those two lines only, so comments and the order of the other keys survive.

Caveats
-------
* A "row" is a data row of a CSV file (the header is not counted; a quoted field that spans
  lines is one row; a blank line is not a row, as for pandas' ``read_csv``). For other files (YAML, Markdown) ``rows`` is the number of items in a
  top-level YAML list, or ``null`` when that has no meaning.
* Only the top level of ``raw_dir`` is scanned. ``data/raw/sipri/`` holds downloaded SIPRI
  exports that are never committed; their provenance is recorded by the SIPRI reader instead.
  Hidden files and ``README*`` files are documentation, not data, and need no sidecar.
* A checksum proves the file is the one the sidecar describes, not that its facts are right:
  see ``docs/data-sources.md`` for the sources and their confidence.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path
from typing import Any, Sequence

import yaml

from takingstock import io, paths

SIDECAR_SUFFIX = ".meta.yml"
#: Keys every sidecar must carry (what :func:`verify` needs).
REQUIRED_KEYS = ("title", "sha256", "rows", "columns")
#: Keys a complete sidecar also carries (see docs/CONTRACTS.md, "Raw-file sidecars").
RECOMMENDED_KEYS = (
    "description",
    "publishers",
    "source_urls",
    "compiled",
    "compiled_by",
    "licence",
)


class ProvenanceError(ValueError):
    """A sidecar is missing, unreadable or does not match its data file."""


def sidecar_path(data_path: str | Path) -> Path:
    """Return the sidecar path ``<file>.meta.yml`` for a raw data file."""
    data_path = Path(data_path)
    return data_path.with_name(data_path.name + SIDECAR_SUFFIX)


def _is_data_file(path: Path) -> bool:
    name = path.name
    return (
        path.is_file()
        and not name.startswith(".")
        and not name.endswith(SIDECAR_SUFFIX)
        and not name.upper().startswith("README")
    )


def raw_files(raw_dir: str | Path = paths.RAW) -> list[Path]:
    """List the data files at the top level of ``raw_dir`` (sorted by name), sidecars excluded."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise ProvenanceError(f"raw data folder not found: {raw_dir}")
    return sorted(p for p in raw_dir.iterdir() if _is_data_file(p))


def _is_row(row: list[str]) -> bool:
    """False for what the csv module reads from a blank (or whitespace-only) line."""
    return bool(row) and not (len(row) == 1 and not row[0].strip())


def count_rows(path: str | Path) -> int | None:
    """Count the data rows of a raw file.

    CSV: non-empty rows after the header (read with the csv module, so quoted line breaks
    stay inside one row; blank lines are skipped; a UTF-8 byte-order mark is ignored). YAML: the length of a top-level list, else
    ``None``. Any other kind of file: ``None``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                n = sum(1 for row in csv.reader(handle) if _is_row(row))
        except UnicodeDecodeError as exc:
            raise ProvenanceError(f"{path}: not valid UTF-8 ({exc})") from exc
        return max(n - 1, 0)
    if suffix in (".yml", ".yaml"):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ProvenanceError(f"{path}: invalid YAML ({exc})") from exc
        return len(data) if isinstance(data, list) else None
    return None


def csv_header(path: str | Path) -> list[str] | None:
    """Return the header of a CSV file, or ``None`` for a file that is not CSV."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return None
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle), [])


def _normalise_columns(columns: Any, side: Path) -> list[dict[str, str]] | None:
    """Return the data dictionary as a list of ``{name, type, meaning}`` dicts.

    Accepted forms: a list of mappings with ``name``, ``type`` (optional) and ``meaning``, or a
    mapping ``name: meaning``; ``null`` for a file that has no columns.
    """
    if columns is None:
        return None
    if isinstance(columns, dict):
        return [{"name": str(k), "type": "", "meaning": str(v)} for k, v in columns.items()]
    if not isinstance(columns, list):
        raise ProvenanceError(f"{side}: 'columns' must be a list of name/type/meaning entries")
    out = []
    for i, col in enumerate(columns, start=1):
        if not isinstance(col, dict) or not {"name", "meaning"} <= set(col):
            raise ProvenanceError(
                f"{side}: columns entry {i} must have a name and a meaning (got {col!r})"
            )
        out.append({"name": str(col["name"]), "type": str(col.get("type", "")),
                    "meaning": str(col["meaning"])})
    return out


def missing_recommended(meta: dict[str, Any]) -> list[str]:
    """Return the recommended sidecar keys that ``meta`` lacks or leaves empty."""
    return [k for k in RECOMMENDED_KEYS if not meta.get(k)]


def load_sidecar(path: str | Path) -> dict[str, Any]:
    """Load and check the sidecar of a raw file.

    Args:
        path: the data file or its sidecar.

    Returns:
        The sidecar as a dict.

    Raises:
        ProvenanceError: the sidecar is missing, is not a YAML mapping, lacks a required key,
            or has a malformed ``columns`` entry (the message names the file and the key).
            ``columns`` comes back normalised to a list of ``{name, type, meaning}``.
    """
    path = Path(path)
    side = path if path.name.endswith(SIDECAR_SUFFIX) else sidecar_path(path)
    if not side.is_file():
        raise ProvenanceError(f"{side}: sidecar not found (every raw file needs one)")
    try:
        meta = yaml.safe_load(side.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ProvenanceError(f"{side}: cannot be read as UTF-8 YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise ProvenanceError(f"{side}: expected a YAML mapping at the top level")
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise ProvenanceError(
            f"{side}: missing key(s): {', '.join(missing)} (see docs/CONTRACTS.md, 'Raw-file "
            "sidecars'; `python -m takingstock.provenance --update FILE` fills sha256 and rows)"
        )
    meta["columns"] = _normalise_columns(meta["columns"], side)
    return meta


def verify(data_path: str | Path) -> list[str]:
    """Compare a raw file with its sidecar; return the problems found (empty = all good).

    Checks the SHA-256 checksum, the row count and, for CSV files, that the data dictionary
    names the header's columns in the same order. A missing or malformed sidecar is reported
    as one problem rather than raised.
    """
    data_path = Path(data_path)
    try:
        meta = load_sidecar(data_path)
    except ProvenanceError as exc:
        return [str(exc)]
    try:
        rows: int | None | ProvenanceError = count_rows(data_path)
    except ProvenanceError as exc:
        rows = exc
    return _compare(data_path, meta, io.sha256_file(data_path), rows)


def _compare(
    data_path: Path, meta: dict[str, Any], actual_sha: str, actual_rows: int | None | ProvenanceError
) -> list[str]:
    """The problems :func:`verify` reports, from a sidecar and the file's measured checksum
    and row count (or the error raised while counting)."""
    problems: list[str] = []
    side = sidecar_path(data_path)
    if str(meta["sha256"]) != actual_sha:
        problems.append(
            f"{data_path.name}: checksum {actual_sha} does not match sidecar {side.name} "
            f"({meta['sha256']}); if the edit was deliberate run "
            f"`python -m takingstock.provenance --update {data_path}`"
        )
    if isinstance(actual_rows, ProvenanceError):
        return problems + [str(actual_rows)]
    if meta["rows"] != actual_rows:
        problems.append(
            f"{data_path.name}: {actual_rows} data rows but sidecar {side.name} says {meta['rows']}"
        )
    header = csv_header(data_path)
    if header is not None and meta["columns"] is not None:
        documented = [str(c["name"]) for c in meta["columns"]]
        if documented != header:
            problems.append(
                f"{data_path.name}: columns {header} differ from the data dictionary in "
                f"{side.name} {documented}"
            )
    return problems


def missing_sidecars(raw_dir: str | Path = paths.RAW) -> list[Path]:
    """List raw data files in ``raw_dir`` that have no sidecar."""
    return [p for p in raw_files(raw_dir) if not sidecar_path(p).is_file()]


def orphan_sidecars(raw_dir: str | Path = paths.RAW) -> list[Path]:
    """List sidecars in ``raw_dir`` whose data file does not exist."""
    raw_dir = Path(raw_dir)
    return sorted(
        p
        for p in raw_dir.glob("*" + SIDECAR_SUFFIX)
        if not (raw_dir / p.name[: -len(SIDECAR_SUFFIX)]).is_file()
    )


def verify_all(raw_dir: str | Path = paths.RAW) -> list[str]:
    """Verify every raw file of ``raw_dir``; return all problems (missing sidecars included)."""
    problems: list[str] = []
    for path in raw_files(raw_dir):
        problems.extend(verify(path))
    for side in orphan_sidecars(raw_dir):
        problems.append(f"{side.name}: sidecar without a data file")
    return problems


def raw_data_versions(raw_dir: str | Path = paths.RAW) -> list[dict[str, Any]]:
    """Describe every raw data file for the briefings' provenance stamp.

    Returns:
        One dict per file, sorted by name: ``file`` (name), ``sha256`` and ``rows`` (measured
        now, not copied from the sidecar), ``title`` (from the sidecar, ``None`` if it has
        none) and ``verified`` (True when :func:`verify` finds no problem).
    """
    out = []
    for path in raw_files(raw_dir):  # each file read once for its checksum, once for its rows
        sha, rows = io.sha256_file(path), count_rows(path)
        try:
            meta = load_sidecar(path)
        except ProvenanceError:
            meta = None
        out.append(
            {
                "file": path.name,
                "sha256": sha,
                "rows": rows,
                "title": meta.get("title") if meta else None,
                "verified": meta is not None and not _compare(path, meta, sha, rows),
            }
        )
    return out


def _set_scalar(text: str, key: str, value: str) -> str:
    pattern = re.compile(rf"^{re.escape(key)}:.*$", re.MULTILINE)
    line = f"{key}: {value}"
    if pattern.search(text):
        return pattern.sub(lambda _m: line, text, count=1)
    return text.rstrip("\n") + "\n" + line + "\n"


def update_sidecar(data_path: str | Path) -> dict[str, Any]:
    """Rewrite the ``sha256`` and ``rows`` lines of a file's sidecar from the file itself.

    For maintainers, after a deliberate edit of a raw file. Only those two top-level lines are
    touched (added at the end if absent); the sidecar is written atomically and re-loaded.

    Raises:
        ProvenanceError: the data file or its sidecar does not exist.
    """
    data_path = Path(data_path)
    if not data_path.is_file():
        raise ProvenanceError(f"{data_path}: data file not found")
    side = sidecar_path(data_path)
    if not side.is_file():
        raise ProvenanceError(f"{side}: sidecar not found; write one first (see docs/data-sources.md)")
    rows = count_rows(data_path)
    text = side.read_text(encoding="utf-8")
    text = _set_scalar(text, "sha256", io.sha256_file(data_path))
    text = _set_scalar(text, "rows", "null" if rows is None else str(rows))
    io.write_text(side, text)
    return load_sidecar(side)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--update FILE...`` rewrites checksums; ``--check [DIR]`` verifies."""
    parser = argparse.ArgumentParser(
        prog="python -m takingstock.provenance",
        description="Check or update the provenance sidecars of data/raw/.",
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--update", nargs="+", metavar="FILE",
                       help="rewrite sha256 and rows in the sidecar of each FILE")
    group.add_argument("--check", nargs="?", const=str(paths.RAW), metavar="DIR",
                       help="verify every raw file of DIR (default data/raw); exit 1 on problems")
    args = parser.parse_args(argv)
    if args.update:
        for name in args.update:
            try:
                meta = update_sidecar(name)
            except ProvenanceError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            print(f"{sidecar_path(name)}: sha256 {meta['sha256']}, rows {meta['rows']}")
        return 0
    try:
        problems = verify_all(args.check)
    except ProvenanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if not problems:
        print(f"all raw files in {args.check} match their sidecars")
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
