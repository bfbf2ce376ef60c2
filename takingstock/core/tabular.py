"""Reading the project's small reference files: CSV tables under ``data/raw/`` and YAML sidecars.

Every such table is read the same way before its own rules are checked: as text (no value is
guessed to be a number or a date; an empty cell is ``""``, never NaN), with a byte-order mark
allowed, and with its required columns present. A missing file or column is reported with the
file's path, through the caller's own error class, so the message names what to fix. A YAML
sidecar (a fetch's ``.meta.yml``, an old provenance sidecar) is read with ``yaml.safe_load``
(never a loader that builds Python objects) and must be a mapping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd
import yaml

__all__ = ["read_text_table", "read_yaml_mapping"]


def read_text_table(path: str | Path, columns: Iterable[str], error: type[Exception]) -> pd.DataFrame:
    """The CSV at ``path`` as text, checked to hold ``columns``; ``error(message)`` otherwise."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise error(f"{path}: file not found") from exc
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise error(f"{path}: missing column(s) {', '.join(missing)}")
    return table


def read_yaml_mapping(path: str | Path, error: type[Exception], what: str = "") -> dict:
    """The YAML file at ``path`` as a mapping (``{}`` when empty); ``error(message)`` naming the
    file (and ``what`` it is, e.g. "the sidecar of x.csv ") when it is not UTF-8 YAML or not a
    mapping."""
    path = Path(path)
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise error(f"{path}: {what}is not valid YAML in UTF-8 ({exc})") from exc
    if not isinstance(meta, dict):
        raise error(f"{path}: {what}is not a YAML mapping")
    return meta
