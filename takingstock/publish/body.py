"""A page's body: the cells of an executed notebook, with only what it declared, and no code.

Method
------
* **Only what was declared.** A body shows the notebook's Markdown cells and the outputs its
  Briefing marked as a table, figure or note (:data:`BODY_FINDINGS`, the output metadata
  ``takingstock.finding`` read by :func:`takingstock.report.findings.finding_kind`); every other
  output (stdout, stderr, warnings, tracebacks, return values, a kernel's error log) is dropped,
  whatever it says. The lead and the headline tiles open the page from the summary instead
  (:mod:`takingstock.publish.pages`). Kept HTML goes through
  :func:`takingstock.publish.sanitise.sanitize_output_html`; JavaScript and widget outputs are
  dropped.
* **No code.** Bodies are rendered with nbconvert's ``HTMLExporter`` (Python API) on the
  ``basic`` template, which emits only the cells, with ``exclude_input`` and both prompt
  switches on, and :class:`BriefingPreprocessor` empties every code and raw cell's source
  besides. A small tag set is honoured: ``remove-cell`` drops a cell, ``remove-output`` drops
  its outputs.
* **Headings.** The first level-1 Markdown heading is removed from the body (the page's ``h1``
  is the summary's title, else that heading: :func:`notebook_title`) and any later one becomes
  level 2 (:func:`demote_headings`), so a page has exactly one ``h1``. Notebooks write
  ``# Title`` once, then one ``## Finding`` per finding.
* **Downloads.** Given the page's :class:`takingstock.publish.downloads.Downloads`, each saved
  table and figure is followed by its download links.
* **Rendered once.** Bodies rendered while the run goes on, and kept between runs, are
  :mod:`takingstock.publish.rendered`'s business.

Caveats: output HTML is not byte-reproducible (plotly div ids); images referenced by URL in
Markdown would be fetched by the browser, so notebooks must not use them.
"""

from __future__ import annotations

import functools
import re
import threading

from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor
from traitlets.config import Config

from takingstock.publish.downloads import Downloads, figure_name
from takingstock.publish.sanitise import PLOTLY_MIMETYPE, clean_markup, figure_from_json, sanitize_output_html
from takingstock.report.findings import finding_kind


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


class BriefingPreprocessor(Preprocessor):
    """Prepare an executed notebook for publication (see the module docstring)."""

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
                cell.outputs = [o for o in (self.declared_output(o, i) for i, o in enumerate(cell.outputs)) if o]
            elif cell.cell_type == "raw":
                cell.source = ""
        return nb, resources

    def declared_output(self, output, index):
        """``output`` made safe if it is a finding the page body shows, else None.

        Only the findings a notebook declared (takingstock.report.findings: tables, figures, notes)
        reach the page; streams, errors, warnings, return values, kernel logs never do. The lead
        and the headlines are the page's masthead, from the summary.
        """
        if output.get("output_type") != "display_data" or finding_kind(output) not in BODY_FINDINGS:
            return None
        data = output.get("data", {})
        for mime in _DROPPED_MIMETYPES:
            data.pop(mime, None)
        figure = figure_name(data.get(PLOTLY_MIMETYPE))
        if "text/html" in data:
            data["text/html"] = sanitize_output_html("".join(data["text/html"]))
        elif PLOTLY_MIMETYPE in data:
            data["text/html"] = figure_from_json(data[PLOTLY_MIMETYPE])
        if "text/html" in data and self.downloads is not None:
            data["text/html"] += self.downloads.links_after(data["text/html"], figure)
        data.pop(PLOTLY_MIMETYPE, None)
        if "text/markdown" in data:
            data["text/markdown"] = clean_markup("".join(data["text/markdown"]))
        if not data:
            return None
        return output


_EXPORTER_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _new_exporter():
    """The process's HTMLExporter on the ``basic`` template (cells only, no code, no prompts)
    and its :class:`BriefingPreprocessor`. Made once: making one compiles nbconvert's templates
    (~0.25 s). Neither is thread-safe: :func:`render_body` holds ``_EXPORTER_LOCK`` while it
    uses them."""
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
    cells = BriefingPreprocessor()
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
