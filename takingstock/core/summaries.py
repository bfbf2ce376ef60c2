"""The notebooks' titles, leads and headline numbers, for the briefings and their index.

Each notebook ends with :func:`write_summary`, through
:meth:`takingstock.report.findings.Briefing.close` (its title, lead, headlines and parameters);
:mod:`takingstock.publish.briefings` reads the summaries back with :func:`read_summary` when it builds the
pages and the index. This module is kept light (standard library and :mod:`takingstock.core.atomic`
only) because every notebook kernel imports it.

What a notebook wrote
    :func:`record_output` is called by ``tables.save_table`` and ``figures.save_figure`` in the
    notebook's kernel; :func:`write_summary` then lists those tables (name, caption, source)
    and figures (name, alt text, source) under ``tables`` and ``figures``. The publish step uses
    the lists for the briefing's downloads and the tables' data package, so both hold what this
    run of the notebook wrote, not whatever an older run left in ``output/``. A notebook must
    therefore call :func:`write_summary` after its last ``save_table`` / ``save_figure``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from takingstock.core import atomic

SUMMARY_KEYS = ("title", "summary", "lead", "headlines", "parameters", "tables", "figures")
OUTPUT_KINDS = ("tables", "figures")

#: What this process (one notebook kernel) saved: kind -> {name: record}, in saving order.
_OUTPUTS: dict[str, dict[str, dict[str, str]]] = {kind: {} for kind in OUTPUT_KINDS}


def record_output(kind: str, name: str, **fields: Any) -> None:
    """Note that this process wrote table or figure ``name`` (saving it again replaces the note).

    Args:
        kind: ``"tables"`` or ``"figures"``.
        name: the file stem (``02_amnesty_2015_manufacture``).
        fields: what describes it (``caption`` and ``source`` for a table, ``alt`` and
            ``source`` for a figure); ``None`` values are stored as ``None``.
    """
    if kind not in _OUTPUTS:
        raise ValueError(f"record_output: kind must be one of {OUTPUT_KINDS}, not {kind!r}")
    _OUTPUTS[kind].pop(name, None)
    _OUTPUTS[kind][name] = {"name": name, **{k: (None if v is None else str(v))
                                             for k, v in fields.items()}}


def recorded_outputs() -> dict[str, list[dict[str, str]]]:
    """The tables and figures recorded so far in this process, in saving order."""
    return {kind: list(records.values()) for kind, records in _OUTPUTS.items()}


def forget_outputs() -> None:
    """Forget what :func:`record_output` noted (for a process that writes several summaries)."""
    for records in _OUTPUTS.values():
        records.clear()


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
    lead: Iterable[str] = (),
    parameters: Mapping[str, Any] | None = None,
    outputs: Mapping[str, list[Mapping[str, Any]]] | None = None,
) -> Path:
    """Write ``<summaries_dir>/<stem>.json`` for the briefings index, atomically.

    Args:
        summaries_dir: folder of summaries (``output/summaries``), created if missing.
        stem: the notebook's file stem, e.g. ``"02_country_of_origin"``.
        title: the briefing's title (plain text; escaped when rendered).
        summary: one sentence saying what the notebook finds (the index's line for the page).
        lead: the page's opening sentences (:meth:`takingstock.report.findings.Briefing.lead`): three
            to five sentences of its key findings; the page shows them at its top and the index
            builds the lead of the whole set from them. Empty: the summary alone.
        headlines: the headline numbers, each ``{"label": str, "value": str}``; values
            that are not strings are converted with ``str``.
        parameters: the parameters the notebook ran with (paths become strings).

        outputs: ``{"tables": [...], "figures": [...]}`` to list instead of what this
            process recorded (:func:`record_output`), which is the default.

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
        "lead": [str(s).strip() for s in lead if str(s).strip()] or [str(summary).strip()],
        "headlines": rows,
        "parameters": _jsonable(dict(parameters or {})),
        **{kind: [_jsonable(dict(r)) for r in items]
           for kind, items in (outputs if outputs is not None else recorded_outputs()).items()
           if kind in OUTPUT_KINDS},
    }
    path = Path(summaries_dir) / f"{stem}.json"
    return atomic.write_text(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


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
