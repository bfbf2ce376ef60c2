"""The notebooks' one-line summaries and headline numbers, for the briefings index.

Each analysis notebook ends with :func:`write_summary`; :mod:`takingstock.publish` reads the
summaries back with :func:`read_summary` when it builds the index. This module is kept light
(standard library and :mod:`takingstock.io` only) because every notebook kernel imports it;
``takingstock.publish`` re-exports both functions, which is how notebooks call them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from takingstock import io

SUMMARY_KEYS = ("title", "summary", "headlines", "parameters")


def _jsonable(value: Any) -> Any:
    """Turn paths, dates and numpy/pandas scalars into plain JSON values."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy / pandas scalars
        try:
            return value.item()
        except (TypeError, ValueError):
            pass
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def write_summary(
    summaries_dir: str | os.PathLike,
    stem: str,
    *,
    title: str,
    summary: str,
    headlines: Iterable[Mapping[str, Any]],
    parameters: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``<summaries_dir>/<stem>.json`` for the briefings index, atomically.

    Args:
        summaries_dir: folder of summaries (``output/summaries``), created if missing.
        stem: the notebook's file stem, e.g. ``"02_country_of_origin"``.
        title: the briefing's title (plain text; escaped when rendered).
        summary: one sentence saying what the notebook finds.
        headlines: the headline numbers, each ``{"label": str, "value": str}``; values
            that are not strings are converted with ``str``.
        parameters: the parameters the notebook ran with (paths become strings).

    Returns:
        The path written.

    Raises:
        ValueError: naming the field when the title or summary is empty, or a headline lacks
            a label or value.
    """
    if not isinstance(stem, str) or not stem or "/" in stem or stem.startswith("."):
        raise ValueError(f"write_summary: bad notebook stem {stem!r}")
    if not str(title or "").strip():
        raise ValueError(f"write_summary({stem}): 'title' is empty")
    if not str(summary or "").strip():
        raise ValueError(f"write_summary({stem}): 'summary' is empty")
    rows = []
    for i, item in enumerate(headlines or []):
        if not isinstance(item, Mapping) or "label" not in item or "value" not in item:
            raise ValueError(
                f"write_summary({stem}): headline {i} must be a mapping with 'label' and "
                f"'value', got {item!r}"
            )
        rows.append({"label": str(item["label"]), "value": str(_jsonable(item["value"]))})
    payload = {
        "stem": stem,
        "title": str(title).strip(),
        "summary": str(summary).strip(),
        "headlines": rows,
        "parameters": _jsonable(dict(parameters or {})),
    }
    path = Path(summaries_dir) / f"{stem}.json"
    return io.write_text(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def read_summary(summaries_dir: str | os.PathLike, stem: str) -> dict | None:
    """Return the summary written for ``stem``, or ``None`` when there is none.

    Raises:
        ValueError: naming the file when it is not valid JSON or not an object.
    """
    path = Path(summaries_dir) / f"{stem}.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data
