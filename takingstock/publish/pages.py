"""Publish the executed notebooks as HTML briefings a person can read, copy and host.

Method
------
Each analysis notebook, once executed by the pipeline, becomes one HTML page in
``output/briefings/``; ``index.html`` opens with the lead of the whole set (:func:`set_lead`)
and lists the pages with their leads and the headline numbers that each notebook wrote through
its :class:`takingstock.report.findings.Briefing` (:func:`write_summary`).

* **Only what was declared.** A page shows the notebook's Markdown cells and the outputs its
  Briefing marked as a table, figure or note (:data:`BODY_FINDINGS`, the output metadata
  ``takingstock.finding``); every other output (stdout, stderr, warnings, tracebacks, return
  values, a kernel's error log) is dropped, whatever it says. The lead (3-5 sentences from the
  data) and the headline tiles open the page, from the summary.
* **Every run's pages.** A run for another recipient, or one run of a grid, has its own stem
  (``04_supply_chains__yemen``); :func:`other_runs` keeps the pages earlier runs left beside
  this run's notebooks, so no run removes another recipient's page.

* **No code.** Pages are rendered with nbconvert's ``HTMLExporter`` (Python API) on the
  ``basic`` template, which emits only the cells, with ``exclude_input`` and both prompt
  switches on. A small tag set is honoured: ``remove-cell`` drops a cell, ``remove-output``
  drops its outputs. The page shell (head, header, provenance box, footer) is our own Jinja
  template in ``takingstock/publish/templates/``, so no CDN ``<script>`` (require.js, MathJax, jQuery)
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
* **Headings.** The page ``h1`` is the title in the notebook's summary (the Briefing's, which
  names the run's recipient: every run of a notebook shares its Markdown heading), else the
  notebook's first level-1 Markdown heading, else the file stem; the first level-1 heading is
  removed from the body and any later one becomes level 2, so a page has exactly one ``h1``.
  Notebooks write ``# Title`` once, then one ``## Finding`` per finding.
* **Downloads.** Given ``tables_dir`` and ``figures_dir``, the tables and figures each
  notebook's summary records (what it saved in this run) are copied into ``downloads/``
  inside the folder, with the tables' data package (:mod:`takingstock.data.packages`). A shown
  table carrying ``data-table="<name>"`` (``tables.show`` of a saved frame) and a figure whose
  plotly ``layout.meta.name`` names a saved figure get their links right under them
  (:class:`Downloads`); each page ends with a Downloads section. Links are relative.
* **PDF edition.** With ``pdf=True`` the index and the pages are printed into one PDF by
  :mod:`takingstock.publish.pdf_edition` (static figures, build stamp); the index links it.
* **Atomic.** Everything is written to a temporary folder beside ``briefings_dir`` and swapped
  in at the end; if any page fails, the previous briefings stay as they were.

Caveats: output HTML is not byte-reproducible (plotly div ids); headings inside HTML outputs
are not demoted; images referenced by URL in Markdown would be fetched by the browser, so
notebooks must not use them.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
import html as _html
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping

from takingstock.core import atomic
from takingstock.data.sipri_terms import SIPRI_CREDIT
# Notebooks call publish.write_summary: these come from a light module, and nbconvert is only
# imported when a page is rendered, so a kernel that writes its summary never loads it.
from takingstock.core.summaries import (  # noqa: F401 - re-exported, see docs/CONTRACTS.md
    SUMMARY_KEYS,
    _jsonable,
    read_summary,
    write_summary,
)


# --------------------------------------------------------------------------------------------
# Sanitising outputs
# --------------------------------------------------------------------------------------------


PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"

#: Tags an output's HTML may keep (everything else is escaped and shows as text).
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
        "details", "div", "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img", "li", "ol", "p", "pre", "small", "span", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "*": ["class", "id", "role", "title", "lang", "style", "aria-label", "aria-describedby",
          "aria-labelledby", "aria-hidden", "data-alt"],
    "a": ["href", "class", "id", "title"],
    "img": ["src", "alt", "width", "height", "class"],
    "th": ["scope", "colspan", "rowspan", "class", "id", "style"],
    "td": ["colspan", "rowspan", "class", "id", "style", "headers"],
    "table": ["class", "id", "summary", "style", "data-table"],
}
ALLOWED_PROTOCOLS = ["http", "https", "mailto", "data"]

_PLOTLY_HEAD_RE = re.compile(
    r"^\s*(?:window\.PLOTLYENV\s*=\s*window\.PLOTLYENV\s*\|\|\s*\{\};\s*)?"
    r"if\s*\(\s*document\.getElementById\(\s*\"(?P<id>[A-Za-z0-9_-]+)\"\s*\)\s*\)\s*\{\s*"
    r"Plotly\.newPlot\(\s*\"(?P<id2>[A-Za-z0-9_-]+)\"\s*,",
    re.DOTALL,
)
_PLACEHOLDER = "TAKINGSTOCKPLOTLYSCRIPT{}X"


class UnsafeOutputError(ValueError):
    """An output carried a script that is not a plain plotly figure call."""


class UnsafeOutputWarning(UserWarning):
    """A script in an output was escaped instead of run."""


def _json_for_script(value: Any) -> str:
    """JSON text that cannot end a ``<script>`` element or open a comment."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("/", "\\/"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def parse_plotly_script(script: str) -> tuple[str, list, dict, dict]:
    """Parse plotly's own figure script into ``(div_id, data, layout, config)``.

    Only the exact shape plotly's ``to_html`` writes (or :func:`plotly_script`, which leaves out
    the ``PLOTLYENV`` line) is accepted: the ``PLOTLYENV`` line, a ``getElementById`` guard and one ``Plotly.newPlot(id, data, layout[, config])`` call whose
    arguments are JSON literals. Anything else (an extra statement, a function, a variable)
    raises :class:`UnsafeOutputError`.
    """
    match = _PLOTLY_HEAD_RE.match(script)
    if not match or match["id"] != match["id2"]:
        raise UnsafeOutputError("script is not a plotly figure call")
    decoder = json.JSONDecoder()
    pos = match.end()
    args = []
    while True:
        while pos < len(script) and script[pos] in " \t\r\n":
            pos += 1
        try:
            value, pos = decoder.raw_decode(script, pos)
        except json.JSONDecodeError as exc:
            raise UnsafeOutputError(f"plotly call argument {len(args) + 2} is not JSON") from exc
        args.append(value)
        while pos < len(script) and script[pos] in " \t\r\n":
            pos += 1
        if pos < len(script) and script[pos] == ",":
            pos += 1
            continue
        break
    rest = script[pos:]
    if not re.fullmatch(r"\)\s*;?\s*\}\s*;?\s*", rest):
        raise UnsafeOutputError("unexpected code after the plotly call")
    if len(args) not in (2, 3) or not isinstance(args[0], list):
        raise UnsafeOutputError("plotly call must have data, layout and optional config")
    data, layout = args[0], args[1]
    config = args[2] if len(args) == 3 else {}
    if not isinstance(layout, dict) or not isinstance(config, dict):
        raise UnsafeOutputError("plotly layout and config must be JSON objects")
    return match["id"], data, layout, config


def plotly_script(div_id: str, data: list, layout: dict, config: dict) -> str:
    """Our own, canonical figure script (JSON escaped so it cannot break out)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", div_id):
        raise UnsafeOutputError(f"bad plotly div id {div_id!r}")
    return (
        "<script>\n"
        f'if (document.getElementById("{div_id}")) {{\n'
        f'  Plotly.newPlot("{div_id}", {_json_for_script(data)}, {_json_for_script(layout)}, '
        f"{_json_for_script(config)});\n"
        "}\n</script>"
    )


def clean_markup(markup: str) -> str:
    """Allow-list clean of HTML (bleach): disallowed tags are escaped (shown as text), not
    executed; each table is made a scrolling region on the way (:func:`_table_scroll_filter`)."""
    from bleach.css_sanitizer import CSSSanitizer
    from bleach.sanitizer import Cleaner

    return Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
                   css_sanitizer=CSSSanitizer(), strip=False, strip_comments=True,
                   filters=[_table_scroll_filter()]).clean(markup)


@functools.lru_cache(maxsize=1)
def _table_scroll_filter():
    """A bleach filter (html5lib's token stream, after the allow-list) that wraps each
    outermost table in a keyboard-focusable scrolling region named after its caption.

    Wide tables scroll sideways instead of breaking the page; a scrolling region must be
    reachable by keyboard (axe rule ``scrollable-region-focusable``), hence ``tabindex="0"``
    and a label. The tokens of a table are held until its caption (its first child, if any)
    has been read, so the label is known when the region opens.
    """
    from bleach.html5lib_shim import Filter

    def region(label: str) -> dict:
        attrs = {"class": "table-scroll", "role": "region", "tabindex": "0", "aria-label": label.strip() or "Table"}
        return {"type": "StartTag", "name": "div", "namespace": None, "data": {(None, k): v for k, v in attrs.items()}}

    class TableScroll(Filter):
        def __iter__(self):
            depth, held, caption, in_caption = 0, None, [], False
            for token in super().__iter__():
                kind, name = token["type"], token.get("name")
                opens, closes = kind == "StartTag" and name == "table", kind == "EndTag" and name == "table"
                depth += opens - closes
                if held is None and not (opens and depth == 1):
                    yield token
                elif held is None:  # an outermost table: hold it until its label is known
                    held, caption, in_caption = [token], [], False
                    continue
                else:
                    held.append(token)
                    if in_caption:
                        if kind in ("Characters", "SpaceCharacters"):
                            caption.append(token["data"])
                        elif kind == "Entity":  # bleach hands &lt; and the like on as entities
                            caption.append(_html.unescape(f"&{name};"))
                        in_caption = not (kind == "EndTag" and name == "caption")
                        if in_caption:
                            continue
                    elif kind == "SpaceCharacters" or (kind == "StartTag" and name == "caption" and all(
                            t["type"] == "SpaceCharacters" for t in held[1:-1])):
                        in_caption = kind == "StartTag"
                        continue
                    yield region("".join(caption))
                    yield from held
                    held = None
                if closes and depth == 0:
                    yield {"type": "EndTag", "name": "div", "namespace": None}

    return TableScroll


def _is_plotly_library(script: str) -> bool:
    """True for plotly.js itself or plotly's notebook set-up snippet (both dropped)."""
    head = script.lstrip()[:400]
    return (
        head.startswith("window.PlotlyConfig")
        or ("plotly.js v" in head and len(script) > 100_000)
    )


def sanitize_output_html(markup: str) -> str:
    """Make one ``text/html`` output safe to publish, keeping plotly figures working.

    The markup is read with an HTML parser (BeautifulSoup, Python's ``html.parser``). Each
    ``<script>`` must be a plotly figure call (see :func:`parse_plotly_script`); it is replaced
    by our own script rebuilt from the parsed JSON. Everything else goes through
    :func:`clean_markup` (bleach's allow-list, which also makes each table a scrolling region).

    A script that is not a plotly figure call is escaped (it shows as text and never runs)
    and an :class:`UnsafeOutputWarning` is issued.
    """
    from bs4 import BeautifulSoup

    scripts: list[str] = []
    rejected: list[str] = []
    if "<script" not in markup.lower():  # nothing to take out: the allow-list alone
        return clean_markup(markup)
    soup = BeautifulSoup(markup, "html.parser")
    for script in soup.find_all("script"):
        text = script.string or ""
        try:
            if script.attrs not in ({}, {"type": "text/javascript"}):
                raise UnsafeOutputError(f"script with attributes {script.attrs!r} is not allowed")
            scripts.append(plotly_script(*parse_plotly_script(text)))
        except UnsafeOutputError as exc:
            if _is_plotly_library(text):
                script.decompose()  # the page loads the one shared plotly.min.js instead
                continue
            rejected.append(str(exc))
            script.replace_with(str(script))  # a text node: escaped when written, never run
            continue
        script.replace_with(_PLACEHOLDER.format(len(scripts) - 1))
    cleaned = clean_markup(str(soup))
    for i, script in enumerate(scripts):
        token = _PLACEHOLDER.format(i)
        if cleaned.count(token) != 1:
            raise UnsafeOutputError("a plotly script sat where it cannot be restored")
        cleaned = cleaned.replace(token, script)
    for reason in rejected:
        warnings.warn(f"an output script was escaped, not run: {reason}", UnsafeOutputWarning,
                      stacklevel=2)
    return cleaned


def _figure_from_json(fig_json: Mapping) -> str:
    """A plotly div for an output that carries only the plotly mimetype (no HTML)."""
    layout = dict(fig_json.get("layout") or {})
    title = layout.get("title")
    if isinstance(title, Mapping):
        title = title.get("text")
    alt = str(title or "Chart (no text alternative was given)")
    div_id = str(uuid.uuid4())
    return (
        f'<figure class="ts-figure" role="group" aria-label="{_html.escape(alt)}">'
        f'<div id="{div_id}" class="plotly-graph-div" style="height:100%; width:100%;"></div>'
        + plotly_script(div_id, list(fig_json.get("data") or []), layout,
                        {"responsive": True})
        + f"<figcaption>{_html.escape(alt)}</figcaption></figure>"
    )


# --------------------------------------------------------------------------------------------
# Notebook -> page body
# --------------------------------------------------------------------------------------------


#: The declared findings (:data:`takingstock.report.findings.KINDS`) a page body shows, in the notebook's
#: order; the lead and the headlines are shown in the masthead instead.
BODY_FINDINGS = ("table", "figure", "note")
REMOVE_CELL_TAG = "remove-cell"
REMOVE_OUTPUT_TAG = "remove-output"
_DROPPED_MIMETYPES = (
    "application/javascript",
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
)
_HEADING_RE = re.compile(r"^(#{1,6})(\s+.*)$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")


def _markdown_headings(source: str) -> list[tuple[int, int, str]]:
    """``(line number, level, text)`` of every ATX heading outside code fences."""
    found, fenced = [], False
    for i, line in enumerate(source.splitlines()):
        if _FENCE_RE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING_RE.match(line)
        if match:
            found.append((i, len(match.group(1)), match.group(2).strip().rstrip("#").strip()))
    return found


def notebook_title(nb) -> str | None:
    """The text of the notebook's first level-1 Markdown heading, or ``None``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown" or REMOVE_CELL_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        for _, level, text in _markdown_headings(cell.source):
            if level == 1:
                return text
    return None


def demote_headings(source: str, *, drop_first_h1: bool) -> tuple[str, bool]:
    """Turn level-1 Markdown headings into level-2 ones; other levels stay as written.

    With ``drop_first_h1`` the first level-1 heading is removed instead (it becomes the page
    ``h1``). Returns the new source and whether a heading was dropped.
    """
    lines = source.splitlines()
    dropped = False
    remove = None
    for number, level, _ in _markdown_headings(source):
        if level != 1:
            continue
        if drop_first_h1 and not dropped:
            remove, dropped = number, True
        else:
            lines[number] = "#" + lines[number]
    if remove is not None:
        del lines[remove]
    return "\n".join(lines), dropped


class _BriefingCells:
    """Prepare an executed notebook for publication (see the module docstring).

    The logic of :class:`BriefingPreprocessor`, which is this class mixed with nbconvert's
    ``Preprocessor`` when first used (so importing this module does not import nbconvert).
    """

    #: The page's :class:`Downloads` (links under each saved table and figure), or None.
    downloads: "Downloads | None" = None

    def preprocess(self, nb, resources):
        drop_h1 = True
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source, dropped = demote_headings(cell.source, drop_first_h1=drop_h1)
                drop_h1 = drop_h1 and not dropped
            elif cell.cell_type == "code":
                cell.source = ""  # belt and braces: no code can reach the page
                cell.outputs = [o for o in (self._clean(o, i) for i, o in enumerate(cell.outputs)) if o]
            elif cell.cell_type == "raw":
                cell.source = ""
        return nb, resources

    def _clean(self, output, index):
        # only the findings a notebook declared (takingstock.report.findings: tables, figures, notes)
        # reach the page; streams, errors, warnings, return values, kernel logs never do. The
        # lead and the headlines are the page's masthead, from the summary.
        from takingstock.report.findings import finding_kind

        if output.get("output_type") != "display_data" or finding_kind(output) not in BODY_FINDINGS:
            return None
        data = output.get("data", {})
        for mime in _DROPPED_MIMETYPES:
            data.pop(mime, None)
        figure = figure_name(data.get(PLOTLY_MIMETYPE))
        if "text/html" in data:
            data["text/html"] = sanitize_output_html("".join(data["text/html"]))
        elif PLOTLY_MIMETYPE in data:
            data["text/html"] = _figure_from_json(data[PLOTLY_MIMETYPE])
        if "text/html" in data and self.downloads is not None:
            data["text/html"] += self.downloads.links_after(data["text/html"], figure)
        data.pop(PLOTLY_MIMETYPE, None)
        if "text/markdown" in data:
            data["text/markdown"] = clean_markup("".join(data["text/markdown"]))
        if not data:
            return None
        return output


_PREPROCESSOR_CLASS = None


def _briefing_preprocessor_class():
    global _PREPROCESSOR_CLASS
    if _PREPROCESSOR_CLASS is None:
        from nbconvert.preprocessors import Preprocessor

        _PREPROCESSOR_CLASS = type("BriefingPreprocessor", (_BriefingCells, Preprocessor),
                                   {"__module__": __name__, "__doc__": _BriefingCells.__doc__})
    return _PREPROCESSOR_CLASS


def __getattr__(name: str):
    """``publish.BriefingPreprocessor`` is built (and nbconvert imported) on first access."""
    if name == "BriefingPreprocessor":
        return _briefing_preprocessor_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_EXPORTER_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _new_exporter():
    """The process's HTMLExporter on the ``basic`` template (cells only, no code, no prompts)
    and its :class:`BriefingPreprocessor`. Made once: making one compiles nbconvert's templates
    (~0.25 s). Neither is thread-safe: :func:`render_body` holds ``_EXPORTER_LOCK`` while it
    uses them."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {REMOVE_CELL_TAG}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {REMOVE_OUTPUT_TAG}
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.sanitize_html = False  # we sanitise ourselves, see the docstring
    exporter = HTMLExporter(config=config, template_name="basic")
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    cells = _briefing_preprocessor_class()()
    exporter.register_preprocessor(cells, enabled=True)
    return exporter, cells


def render_body(nb, downloads: "Downloads | None" = None) -> str:
    """The HTML of a notebook's cells, ready to sit inside our page template.

    With ``downloads``, each saved table and figure is followed by its download links.
    """
    exporter, cells = _new_exporter()
    with _EXPORTER_LOCK:
        cells.downloads = downloads
        body, _ = exporter.from_notebook_node(nb)
    return body


# --------------------------------------------------------------------------------------------
# Downloads beside what people read
# --------------------------------------------------------------------------------------------


DOWNLOADS_DIR = "downloads"
#: Files each kind of output offers, in link order: (suffix, link text).
TABLE_FORMATS = (("csv", "CSV"), ("md", "Markdown"))
FIGURE_FORMATS = (("svg", "SVG"), ("png", "PNG"))
_FILE_STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def figure_name(plotly_json: Any) -> str | None:
    """The name ``figures.save_figure`` gave a figure (its ``layout.meta.name``), or None."""
    if not isinstance(plotly_json, Mapping):
        return None
    meta = (plotly_json.get("layout") or {}).get("meta")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    return name if isinstance(name, str) and _FILE_STEM_RE.match(name) else None


def _saved_tables(output_html: str) -> list[str]:
    """The names of the saved tables in one output (each ``<table data-table="name">``), read
    with an HTML parser."""
    if "data-table" not in output_html:
        return []
    from bs4 import BeautifulSoup

    tables = BeautifulSoup(output_html, "html.parser").find_all("table", attrs={"data-table": True})
    return [t["data-table"] for t in tables if _FILE_STEM_RE.match(t["data-table"])]


class Downloads:
    """The files of the published ``downloads/`` folder, and the links to them.

    ``tables`` / ``figures`` map a table or figure name to the formats present (``csv``,
    ``md`` / ``svg``, ``png``). Links are relative to the briefings folder
    (``downloads/tables/<name>.csv``), so the folder works from disk or any host.
    """

    def __init__(self, tables: Mapping[str, list[str]], figures: Mapping[str, list[str]],
                 records: Mapping[str, Mapping[str, list[dict]]] | None = None):
        self.tables = {k: list(v) for k, v in tables.items()}
        self.figures = {k: list(v) for k, v in figures.items()}
        self.records = dict(records or {})

    @staticmethod
    def href(kind: str, name: str, suffix: str) -> str:
        return f"{DOWNLOADS_DIR}/{kind}/{name}.{suffix}"

    def links(self, kind: str, name: str) -> list[dict[str, str]]:
        """``[{href, label}]`` for the formats of one table or figure (empty when none)."""
        present = (self.tables if kind == "tables" else self.figures).get(name, [])
        formats = TABLE_FORMATS if kind == "tables" else FIGURE_FORMATS
        return [{"href": self.href(kind, name, suffix), "label": label}
                for suffix, label in formats if suffix in present]

    def links_html(self, kind: str, name: str) -> str:
        """A ``<p class="downloads">`` with the links of one table or figure ("" when none)."""
        links = self.links(kind, name)
        if not links:
            return ""
        what = "table" if kind == "tables" else "figure"
        anchors = " · ".join(f'<a href="{_html.escape(link["href"], quote=True)}">'
                             f'{link["label"]}</a>' for link in links)
        return f'<p class="downloads">Download this {what}: {anchors}</p>'

    def links_after(self, output_html: str, figure: str | None) -> str:
        """The links to put after one output: its figure's, then each saved table's in it."""
        parts = [self.links_html("figures", figure)] if figure else []
        parts += [self.links_html("tables", name) for name in _saved_tables(output_html)]
        return "".join(parts)

    def page_items(self, stem: str) -> dict[str, list[dict[str, Any]]]:
        """What a page lists in its Downloads section: its notebook's tables and figures."""
        recs = self.records.get(stem) or {}
        tables = [{"title": r.get("caption") or r["name"], "name": r["name"],
                   "links": self.links("tables", r["name"])} for r in recs.get("tables") or []]
        figures = [{"title": r.get("alt") or r["name"], "name": r["name"],
                    "links": self.links("figures", r["name"])} for r in recs.get("figures") or []]
        return {"tables": [t for t in tables if t["links"]],
                "figures": [f for f in figures if f["links"]]}


def recorded_outputs(summaries_dir: str | os.PathLike, stems: Iterable[str]) -> dict[str, dict]:
    """``{stem: {"tables": [...], "figures": [...]}}`` as each notebook's summary recorded them."""
    out = {}
    for stem in stems:
        summary = read_summary(summaries_dir, stem) or {}
        out[stem] = {kind: [r for r in summary.get(kind) or []
                            if isinstance(r, Mapping) and _FILE_STEM_RE.match(str(r.get("name", "")))]
                     for kind in ("tables", "figures")}
    return out


def collect_downloads(
    records: Mapping[str, Mapping[str, list[dict]]],
    *,
    tables_dir: str | os.PathLike | None,
    figures_dir: str | os.PathLike | None,
) -> Downloads:
    """The recorded tables and figures whose files exist in ``tables_dir`` / ``figures_dir``.

    A figure's SVG and PNG are missing when no browser could draw them: the figure then has no
    download link (the page still shows the interactive figure).
    """
    found: dict[str, dict[str, list[str]]] = {"tables": {}, "figures": {}}
    for kind, folder, formats in (("tables", tables_dir, TABLE_FORMATS),
                                  ("figures", figures_dir, FIGURE_FORMATS)):
        if folder is None:
            continue
        for recs in records.values():
            for rec in recs.get(kind) or []:
                present = [suffix for suffix, _ in formats
                           if (Path(folder) / f"{rec['name']}.{suffix}").is_file()]
                if present:
                    found[kind][rec["name"]] = present
    return Downloads(found["tables"], found["figures"], records)


def copy_downloads(downloads: Downloads, target: Path, *, tables_dir, figures_dir,
                   package: bool = True) -> list[Path]:
    """Copy every file ``downloads`` links into ``target/downloads/``; return what was copied.

    With ``package``, the tables' ``datapackage.json`` goes along when ``tables_dir`` has one
    (:func:`copy_package`), so the tables folder of the downloads is itself a valid data package.
    """
    copied = []
    for kind, folder, files in (("tables", tables_dir, downloads.tables),
                                ("figures", figures_dir, downloads.figures)):
        for name, suffixes in files.items():
            for suffix in suffixes:
                dest = target / downloads.href(kind, name, suffix)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(folder) / f"{name}.{suffix}", dest)
                copied.append(dest)
    if package and tables_dir is not None and downloads.tables:
        copied += copy_package(target, tables_dir)
    return copied


def copy_package(target: Path, tables_dir) -> list[Path]:
    """Copy ``tables_dir``'s ``datapackage.json`` (if any) into ``target/downloads/tables/``."""
    from takingstock.data.packages import PACKAGE_FILE

    package = Path(tables_dir) / PACKAGE_FILE
    if not package.is_file():
        return []
    dest = target / DOWNLOADS_DIR / "tables" / PACKAGE_FILE
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(package, dest)
    return [dest]


class _Consulted(Downloads):
    """The same links as ``downloads`` (none for ``None``), recording every lookup a render makes."""

    def __init__(self, downloads: "Downloads | None"):
        if downloads is None:
            super().__init__({}, {})
        else:
            super().__init__(downloads.tables, downloads.figures, downloads.records)
        self.seen: dict[tuple[str, str], tuple[str, ...]] = {}

    def links(self, kind: str, name: str) -> list[dict[str, str]]:
        got = super().links(kind, name)
        self.seen[(kind, name)] = tuple(link["href"] for link in got)
        return got


#: Bodies rendered ahead (:func:`prerender_body`), by notebook file: (size, mtime_ns, the
#: download links the render consulted, the body).
_BODIES: dict[str, tuple[int, int, dict, str]] = {}


def _file_version(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def prerender_body(nb_path: str | os.PathLike, summaries_dir, tables_dir=None, figures_dir=None) -> None:
    """Render an executed notebook's body now (while the run goes on) for :func:`render_page`.

    The links it would carry are taken from the files present now; :func:`render_page` uses
    the body only if the notebook file is unchanged and every link the render consulted is
    the same in the final :class:`Downloads`, otherwise it renders again. Nothing is written.
    """
    import nbformat

    nb_path = Path(nb_path)
    version = _file_version(nb_path)
    records = recorded_outputs(summaries_dir, [nb_path.stem])
    consulted = _Consulted(collect_downloads(records, tables_dir=tables_dir, figures_dir=figures_dir))
    body = render_body(nbformat.read(nb_path, as_version=4), consulted)
    _BODIES[str(nb_path.resolve())] = (*version, consulted.seen, body)


def _prerendered(nb_path: Path, downloads: "Downloads | None") -> str | None:
    """The body :func:`prerender_body` made for ``nb_path``, if it still holds (else None)."""
    memo = _BODIES.pop(str(nb_path.resolve()), None)
    if memo is None or memo[:2] != _file_version(nb_path):
        return None
    final = _Consulted(downloads)
    for (kind, name), hrefs in memo[2].items():
        final.links(kind, name)
        if final.seen[(kind, name)] != hrefs:
            return None
    return memo[3]


# --------------------------------------------------------------------------------------------
# Pages, index and the atomic swap
# --------------------------------------------------------------------------------------------


TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PLOTLYJS_NAME = "plotly.min.js"
INDEX_NAME = "index.html"
#: Notebooks listed first in the index, in this order; the rest follow by file name.
INDEX_FIRST = ("05_claims",)
#: Pages whose lead says how the data was prepared, not what it shows: left out of the index's lead.
INDEX_LEAD_SKIP = ("01_clean_catalogue",)
GRID_STEM_SEP = "__"  # RunContext.stem: "04_supply_chains__yemen" is the Yemen run of a grid
LICENCE_NOTE = (
    "Code: MIT licence. Our tables, texts and these briefings: CC BY 4.0 (see LICENSE). "
    "Source facts remain their publishers' (each raw file's sidecar names them); SIPRI data "
    "are used under SIPRI's terms and not redistributed."
)
#: Pages bigger than this (without plotly.js) are reported by the tests.
MAX_PAGE_BYTES = 1_000_000


class BriefingError(RuntimeError):
    """A briefing could not be built; the message names the notebook."""


@functools.lru_cache(maxsize=1)
def _template_env():
    """The Jinja environment of every page, built once; what all pages share is a global."""
    import jinja2
    import markupsafe

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )
    env.globals.update(
        sipri_credit=SIPRI_CREDIT,
        licence=LICENCE_NOTE,
        css=markupsafe.Markup((TEMPLATES_DIR / "briefing.css").read_text(encoding="utf-8")),
    )
    return env


def raw_data_versions(raw_dir: str | os.PathLike) -> list[tuple[str, str]]:
    """``(file, sha256)`` for every raw data file, sorted by name.

    The committed raw files as :func:`takingstock.data.provenance.raw_data_versions` lists them
    (none when ``raw_dir`` does not exist), plus the SIPRI exports in ``raw_dir/sipri/*.csv``
    (never committed, but data versions too) as ``sipri/<name>``.
    """
    from takingstock.data import provenance

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
    from takingstock.core import paths

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


def _display_parameters(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Parameters as ``(name in words, text)``, project paths shown relative to the project; the
    notebook's parameters cell has each name as written."""
    from takingstock.report import labels

    rows = []
    for name, value in params.items():
        value = _relative_paths(_jsonable(value))
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


_INLINE_MD = (
    (re.compile(r"\*\*(.+?)\*\*"), "strong"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), "em"),
    (re.compile(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"), "em"),
    (re.compile(r"`(.+?)`"), "code"),
)


def title_markup(title: str):
    """A heading's inline Markdown (``*em*``, ``**strong**``, `` `code` ``) as safe HTML.

    The text is escaped first; only those three forms become tags. Returns ``(html, plain)``.
    """
    import markupsafe

    text = _html.escape(title, quote=True)
    plain = title
    for pattern, tag in _INLINE_MD:
        text = pattern.sub(lambda m, t=tag: f"<{t}>{m.group(1)}</{t}>", text)
        plain = pattern.sub(lambda m: m.group(1), plain)
    return markupsafe.Markup(text), plain


def _stem_title(stem: str) -> str:
    return re.sub(r"^\d+_", "", stem).replace("_", " ").strip().capitalize() or stem


def _page_order(stems: Iterable[str]) -> list[str]:
    stems = list(stems)
    first = [s for s in INDEX_FIRST if s in stems]
    return first + sorted(s for s in stems if s not in first)


def render_page(
    nb_path: str | os.PathLike,
    *,
    summary: Mapping | None,
    data_versions: list[tuple[str, str]],
    sources: list[dict],
    built_at: str,
    git_commit: str,
    sipri_release: str | None,
    downloads: Downloads | None = None,
    package_href: str | None = None,
    pdf_href: str | None = None,
) -> tuple[str, dict]:
    """Render one executed notebook to a full HTML page.

    With ``downloads``, each saved table and figure links its files and the page ends with a
    Downloads section listing its notebook's tables and figures; ``package_href`` and
    ``pdf_href`` (relative links) are offered there too.

    Returns the page HTML and an index entry ``{stem, href, title, summary, headlines}``.
    """
    import markupsafe
    import nbformat

    nb_path = Path(nb_path)
    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception as exc:  # nbformat raises several kinds
        raise BriefingError(f"{nb_path}: cannot read the executed notebook: {exc}") from exc
    stem = nb_path.stem
    summary = dict(summary or {})
    # the summary's title (the Briefing's, naming the run's recipient) tells the runs of one
    # notebook apart; the notebook's own heading is the fallback
    title = summary.get("title") or notebook_title(nb) or _stem_title(stem)
    params = dict(nb.metadata.get("papermill", {}).get("parameters") or {})
    if not params and isinstance(summary.get("parameters"), Mapping):
        params = dict(summary["parameters"])
    try:
        body = _prerendered(nb_path, downloads)
        if body is None:
            body = render_body(nb, downloads)
    except Exception as exc:
        raise BriefingError(f"{nb_path}: rendering failed: {exc}") from exc
    headlines = [
        {"label": str(h.get("label", "")), "value": str(h.get("value", ""))}
        for h in summary.get("headlines") or []
        if isinstance(h, Mapping)
    ]
    uses_sipri = "sipri_register" in params
    title_html, title_plain = title_markup(title)
    page = _template_env().get_template("briefing.html.j2").render(
        title=title_html,
        title_plain=title_plain,
        summary=summary.get("summary", ""),
        lead=" ".join(summary_lead(summary)),
        headlines=headlines,
        built_at=built_at,
        git_commit=git_commit,
        sipri_release=sipri_release if uses_sipri else None,
        parameters=_display_parameters(params),
        data_versions=data_versions,
        sources=sources,
        plotlyjs=PLOTLYJS_NAME,
        body=markupsafe.Markup(body),  # built by nbconvert from sanitised outputs
        downloads=downloads.page_items(stem) if downloads is not None else None,
        package_href=package_href,
        pdf_href=pdf_href,
    )
    entry = {
        "stem": stem,
        "href": f"{stem}.html",
        "title": title_html,
        "title_plain": title_plain,
        "summary": summary.get("summary", ""),
        "lead": summary_lead(summary),
        "headlines": headlines,
    }
    return page, entry


def summary_lead(summary: Mapping) -> list[str]:
    """A page's lead sentences from its summary (``lead``; an older summary's ``summary`` line)."""
    lead = summary.get("lead")
    if isinstance(lead, list) and lead:
        return [str(s) for s in lead if str(s).strip()]
    return [str(summary["summary"])] if summary.get("summary") else []


def set_lead(entries: list[dict], most: int = 5) -> list[str]:
    """The lead of the whole set, for the index: the first sentence of each page's lead, in the
    index's order (the ledger first; a sentence two pages share said once), then the caveat
    every page shares, at most ``most`` sentences in all."""
    firsts = [e["lead"][0] for e in entries if e.get("lead") and e["stem"] not in INDEX_LEAD_SKIP]
    said = list(dict.fromkeys(firsts))[: most - 1]  # two runs of a notebook may open alike: said once
    return said + ["Every number is recomputed from the raw data; SIPRI's register covers major conventional weapons "
                   "only and its trend-indicator values measure military capability, not money."]


def render_index(
    entries: list[dict],
    *,
    data_versions: list[tuple[str, str]],
    sources: list[dict],
    built_at: str,
    git_commit: str,
    sipri_release: str | None,
    downloads: Downloads | None = None,
    package_href: str | None = None,
    pdf_href: str | None = None,
) -> str:
    """The ``index.html`` listing every page (entries already in display order).

    ``package_href`` and ``pdf_href`` (relative links to the tables' data package and the PDF
    edition) are offered in its Downloads section when given.
    """
    return _template_env().get_template("index.html.j2").render(
        pages=entries,
        lead=" ".join(set_lead(entries)) if entries else "",
        built_at=built_at,
        git_commit=git_commit,
        sipri_release=sipri_release,
        data_versions=data_versions,
        sources=sources,
        downloads=None,
        package_href=package_href,
        pdf_href=pdf_href,
    )


def _swap_in(tmp_dir: Path, final: Path) -> None:
    """Replace ``final`` by ``tmp_dir``; put the old folder back if the move fails."""
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(final, old)
    try:
        os.replace(tmp_dir, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _relative_paths(value: Any) -> Any:
    """``value`` with project paths shown relative to the project (as on the pages)."""
    from takingstock.core import paths

    root = str(paths.ROOT) + os.sep
    if isinstance(value, str) and value.startswith(root):
        return value[len(root):]
    if isinstance(value, str) and os.path.isabs(value) and os.sep in value:
        return os.path.basename(value.rstrip(os.sep)) or value  # never a folder of the user's machine
    if isinstance(value, Mapping):
        return {k: _relative_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative_paths(v) for v in value]
    return value


def other_runs(notebooks: list[Path], summaries_dir: str | os.PathLike) -> list[Path]:
    """Executed notebooks beside ``notebooks`` that an earlier run left for another recipient or
    grid value of the same notebooks (stem ``<notebook>`` or ``<notebook>__<run>``), each with
    its summary: the pages of those runs are kept in the briefings."""
    bases = {p.stem.split(GRID_STEM_SEP)[0] for p in notebooks}
    have = {p.stem for p in notebooks}
    found = []
    for folder in sorted({p.parent for p in notebooks}):
        for nb in sorted(folder.glob("*.ipynb")):
            if (nb.stem not in have and nb.stem.split(GRID_STEM_SEP)[0] in bases
                    and read_summary(summaries_dir, nb.stem) is not None):
                found.append(nb)
    return found


def _write_tables_package(tables, tables_dir, summaries_dir, order, common) -> None:
    """Write the tables' data package for the run (``tables``: :func:`packages.table_records`)."""
    from takingstock.data import packages

    parameters = {stem: _relative_paths((read_summary(summaries_dir, stem) or {}).get("parameters") or {})
                  for stem in order}
    run = {"built_at": common["built_at"], "git_commit": common["git_commit"],
           "sipri_release": common["sipri_release"],
           "raw_data": [{"file": f, "sha256": h} for f, h in common["data_versions"]],
           "parameters": parameters}
    packages.write_tables_package(tables, tables_dir, run=run)


def _render_pages(order, by_stem, summaries_dir, common, links, tmp_dir: Path, final: Path):
    """Write every briefing page into ``tmp_dir``; return (index entries, final paths)."""
    entries, written = [], []
    for stem in order:
        page, entry = render_page(by_stem[stem], summary=read_summary(summaries_dir, stem), **common, **links)
        atomic.write_text(tmp_dir / entry["href"], page)
        entries.append(entry)
        written.append(final / entry["href"])
    return entries, written


def build_briefings(
    notebooks: list[Path],
    *,
    summaries_dir: str | os.PathLike,
    briefings_dir: str | os.PathLike,
    raw_dir: str | os.PathLike,
    sipri_release: str | _dt.date | None = None,
    git_commit: str | None = None,
    built_at: str | _dt.datetime | None = None,
    tables_dir: str | os.PathLike | None = None,
    figures_dir: str | os.PathLike | None = None,
    pdf: bool = False,
    keep_other_runs: bool = True,
) -> list[Path]:
    """Render the executed notebooks into ``briefings_dir`` (see the module docstring).

    Args:
        notebooks: executed notebooks (``output/notebooks/*.ipynb``); page ``<stem>.html``.
        summaries_dir: where the notebooks wrote ``<stem>.json`` summaries.
        briefings_dir: the folder to (re)build, e.g. ``output/briefings``.
        raw_dir: the raw data folder, for the checksums and ``sources.csv``.
        sipri_release: release date of the SIPRI export used, shown on SIPRI pages.
        git_commit: commit of the code; found with ``git`` when ``None``.
        built_at: build time; now (UTC) when ``None``.
        tables_dir: where the notebooks saved their tables. When given, the tables recorded
            in the summaries are described in ``<tables_dir>/datapackage.json``
            (:mod:`takingstock.data.packages`) and copied with it into ``downloads/tables/``.
        figures_dir: where the figures' SVG and PNG are; when given they are copied into
            ``downloads/figures/``. Each table and figure on a page links its files.
        pdf: also write the PDF edition ``taking-stock.pdf`` (:mod:`takingstock.publish.pdf_edition`;
            skipped with one notice when no Chromium can be started).
        keep_other_runs: also render the executed notebooks an earlier run left beside these
            for another recipient or grid value of the same notebooks (``04_supply_chains__yemen``
            beside ``04_supply_chains``; :func:`other_runs`), so a run for one recipient never
            removes another's page.

    Returns:
        The pages written, in index order, then ``index.html`` (the PDF is not listed).

    Raises:
        BriefingError: naming the notebook, when one cannot be rendered. The previous
            ``briefings_dir`` is then left untouched.
    """
    from plotly.offline import get_plotlyjs

    final = Path(briefings_dir)
    notebooks = [Path(p) for p in notebooks]
    if keep_other_runs:
        notebooks += other_runs(notebooks, summaries_dir)
    stems = [p.stem for p in notebooks]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise BriefingError(f"two notebooks share the page name(s) {dupes}")
    if built_at is None:
        built_at = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    built = built_at.isoformat() if hasattr(built_at, "isoformat") else str(built_at)
    release = sipri_release.isoformat() if hasattr(sipri_release, "isoformat") else sipri_release
    common = {
        "data_versions": raw_data_versions(raw_dir),
        "sources": read_sources(raw_dir),
        "built_at": built,
        "git_commit": git_commit or current_git_commit(),
        "sipri_release": release or None,
    }
    pdf_href = None
    if pdf:
        from takingstock.report import figures
        from takingstock.publish import pdf_edition

        pdf_href = pdf_edition.PDF_NAME if pdf_edition.find_chromium() else None
        if pdf_href:  # the browser (the static figures' one, if it runs) starts while the pages are written
            figures.start_browser()
    by_stem = dict(zip(stems, notebooks))
    order = _page_order(stems)
    downloads = package_href = None
    tables: list = []
    if tables_dir is not None or figures_dir is not None:
        records = recorded_outputs(summaries_dir, order)
        if tables_dir is not None:
            from takingstock.data import packages

            tables = packages.table_records(summaries_dir, order)
            package_href = f"{DOWNLOADS_DIR}/tables/{packages.PACKAGE_FILE}" if tables else None
        downloads = collect_downloads(records, tables_dir=tables_dir, figures_dir=figures_dir)
    links = {"downloads": downloads, "package_href": package_href}  # the PDF: index only
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        os.chmod(tmp_dir, 0o755)
        entries, written = _render_pages(order, by_stem, summaries_dir, common, links, tmp_dir, final)
        atomic.write_text(tmp_dir / PLOTLYJS_NAME, get_plotlyjs())
        if downloads is not None:
            copy_downloads(downloads, tmp_dir, tables_dir=tables_dir, figures_dir=figures_dir, package=False)
        atomic.write_text(tmp_dir / INDEX_NAME, render_index(entries, **common, **links, pdf_href=pdf_href))
        # Chromium prints the PDF edition while the tables' package is written
        job = None
        if pdf_href:
            pages = [tmp_dir / INDEX_NAME] + [tmp_dir / e["href"] for e in entries]
            job = pdf_edition.start_pdf_edition(pages, tmp_dir / pdf_edition.PDF_NAME, built_at=built,
                                                git_commit=common["git_commit"])
        if tables:
            _write_tables_package(tables, tables_dir, summaries_dir, order, common)
            if downloads is not None and downloads.tables:
                copy_package(tmp_dir, tables_dir)
        if pdf_href and (job is None or job.result() is None):
            # Chromium failed: the index must not offer a missing PDF
            atomic.write_text(tmp_dir / INDEX_NAME, render_index(entries, **common, **links))
        _swap_in(tmp_dir, final)
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return written + [final / INDEX_NAME]
