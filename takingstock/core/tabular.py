"""Reading the project's small reference tables (CSV files under ``data/raw/``).

Every such table is read the same way before its own rules are checked: as text (no value is
guessed to be a number or a date; an empty cell is ``""``, never NaN), with a byte-order mark
allowed, and with its required columns present. A missing file or column is reported with the
file's path, through the caller's own error class, so the message names what to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

__all__ = ["read_text_table"]


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
