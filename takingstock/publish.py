"""Publish the executed notebooks as HTML briefings a person can read, copy and host.

Method
------
Each analysis notebook, once executed by the pipeline, becomes one HTML page in
``output/briefings/``; ``index.html`` lists the pages with a one-line summary and the headline
numbers that each notebook wrote through :func:`write_summary`.

* **No code.** Pages are rendered with nbconvert's ``HTMLExporter`` (Python API) on the
  ``basic`` template, which emits only the cells, with ``exclude_input`` and both prompt
  switches on. A small tag set is honoured: ``remove-cell`` drops a cell, ``remove-output``
  drops its outputs. The page shell (head, header, provenance box, footer) is our own Jinja
  template in ``takingstock/templates/``, so no CDN ``<script>`` (require.js, MathJax, jQuery)
  can sneak in.
* **Offline.** Figures are plotly divs without plotly.js. One shared ``plotly.min.js`` (from the
  installed plotly package) sits beside the pages and every page loads it from ``<head>`` by a
  relative path: the folder works anywhere, from ``file://`` or a static host, with no network.
* **Safe.** Strings from data files reach a page through table outputs, figure data, printed
  text and our own header. We do not trust the HTML in outputs blindly, and we cannot use
  nbconvert's ``sanitize_html`` (it strips the plotly ``<script>`` and table ``<th>`` cells).
  Instead :func:`sanitize_output_html` (a) recognises each plotly figure script, checks that it
  is exactly a ``Plotly.newPlot(id, data, layout, config)`` call whose arguments parse as JSON,
  and re-emits it from that JSON with ``<``, ``>``, ``&`` and ``/`` escaped, and (b) passes all
  other markup through an allow-list cleaner (bleach) that escapes anything else, so a
  ``<script>`` hidden in a designation shows as text. JavaScript and widget outputs are
  dropped. Text, errors and LaTeX are escaped by nbconvert; our own header and index are
  rendered with Jinja autoescaping.
* **Headings.** The page ``h1`` is the notebook's first level-1 Markdown heading (else the
  summary title, else the file stem); that heading is removed from the body and every other
  Markdown heading moves one level down, so a page has exactly one ``h1``.
* **Atomic.** Everything is written to a temporary folder beside ``briefings_dir`` and swapped
  in at the end; if any page fails, the previous briefings stay as they were.

Caveats: output HTML is not byte-reproducible (plotly div ids); headings inside HTML outputs
are not demoted; images referenced by URL in Markdown would be fetched by the browser, so
notebooks must not use them.
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
