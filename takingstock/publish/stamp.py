"""The provenance block of every page: the data versions, the sources, the code and the parameters.

Method
------
Each page and the index say how they were built, in a box a reader can open:

* the raw data files and their SHA-256 (:func:`data_versions_rows`): the committed raw files,
  as :func:`takingstock.data.provenance.raw_data_versions` lists them, plus the SIPRI exports
  in ``raw_dir/sipri/`` (never committed, but data versions too);
* the sources in ``raw_dir/sources.csv`` (:func:`read_sources`; only ``http(s)`` URLs become
  links);
* the commit of the code (:func:`current_git_commit`, ``+dirty`` when tracked files differ);
* the notebook's parameters in words (:func:`display_parameters`), paths shown relative to the
  project and never a folder of the user's machine (:func:`relative_paths`; the tables' data
  package records the parameters the same way).

Caveats: a ``sources.csv`` row without a title is an error naming the file and the row; the
commit is ``"unknown"`` outside a git checkout or when ``git`` is missing.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Mapping

from takingstock.core import atomic, paths
from takingstock.core.summaries import _jsonable
from takingstock.data import provenance
from takingstock.report import labels

def data_versions_rows(raw_dir: str | os.PathLike) -> list[tuple[str, str]]:
    """``(file, sha256)`` for every raw data file, sorted by name.

    The committed raw files as :func:`takingstock.data.provenance.raw_data_versions` lists them
    (none when ``raw_dir`` does not exist), plus the SIPRI exports in ``raw_dir/sipri/*.csv``
    (never committed, but data versions too) as ``sipri/<name>``.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return []
    rows = [(item["file"], item["sha256"]) for item in provenance.raw_data_versions(raw_dir)]
    for path in sorted((raw_dir / "sipri").glob("*.csv")):
        if path.is_file() and not path.name.startswith("."):
            rows.append((f"sipri/{path.name}", atomic.sha256_file(path)))
    return sorted(rows)


def read_sources(raw_dir: str | os.PathLike) -> list[dict]:
    """The sources listed in ``raw_dir/sources.csv`` (empty when the file is missing).

    Only ``http(s)`` URLs become links. Raises ``ValueError`` naming the file and row when a
    row has no title.
    """
    path = Path(raw_dir) / "sources.csv"
    if not path.is_file():
        return []
    out = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=1):
            title = (row.get("title") or "").strip()
            if not title:
                raise ValueError(f"{path}: row {row_no}, column 'title' is empty")
            url = (row.get("url") or "").strip()
            out.append(
                {
                    "title": title,
                    "publisher": (row.get("publisher") or "").strip(),
                    "date": (row.get("date") or "").strip(),
                    "url": url if re.match(r"^https?://", url, re.IGNORECASE) else "",
                }
            )
    return out


def current_git_commit(root: str | os.PathLike | None = None) -> str:
    """The commit checked out in ``root`` (the project by default), or ``"unknown"``.

    ``+dirty`` is appended when tracked files differ from that commit (the pages were then
    built by code that is in no commit); untracked files are not counted.
    """
    cwd = str(root or paths.ROOT)
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
            text=True, timeout=10, check=True,
        )
        commit = out.stdout.strip()
        if not commit:
            return "unknown"
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
            capture_output=True, text=True, timeout=30, check=True,
        )
        return commit + ("+dirty" if status.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def display_parameters(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Parameters as ``(name in words, text)``, project paths shown relative to the project; the
    notebook's parameters cell has each name as written."""
    rows = []
    for name, value in params.items():
        value = relative_paths(_jsonable(value))
        if isinstance(value, list):
            text = ", ".join(str(v) for v in value) or "(none)"
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        elif value in ("", None):
            text = "(default)"
        elif name == "catalogue" and value != "all":
            text = labels.catalogue_title(value)  # the catalogue's title, not its id
        else:
            text = str(value)
        rows.append((labels.header(str(name)), text))
    return rows


def relative_paths(value: Any) -> Any:
    """``value`` with project paths shown relative to the project (as on the pages)."""
    root = str(paths.ROOT) + os.sep
    if isinstance(value, str) and value.startswith(root):
        return value[len(root):]
    if isinstance(value, str) and os.path.isabs(value) and os.sep in value:
        return os.path.basename(value.rstrip(os.sep)) or value  # never a folder of the user's machine
    if isinstance(value, Mapping):
        return {k: relative_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [relative_paths(v) for v in value]
    return value
