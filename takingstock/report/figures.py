"""Writing figures to disk and showing them in notebooks, with their alt text.

Method
------
``save_figure(fig, name, alt=..., source=..., figures_dir=...)`` checks the figure
(``style.check_figure``: title, axis titles, source line, alt text) and writes

* ``<name>.html``: a small page holding the interactive figure; it loads the single shared
  ``plotly.min.js`` in the same folder (written once, :func:`ensure_plotlyjs`), never a copy of
  its own;
* ``<name>.json``: the figure's plotly spec (what a later export draws);
* ``<name>.svg`` and ``<name>.png`` when asked (``static=True``): static images drawn by
  plotly.js in a headless Chromium (:mod:`takingstock.report.images`, which also says how the
  pipeline draws them later, in one batch).

It also sets ``fig.layout.meta = {"alt": ..., "name": name}`` (a figure shown afterwards carries
its name, so the briefing links its SVG and PNG) and records the figure for the notebook's
summary (``summaries.record_output``).

``show(fig, alt)`` displays a figure in a notebook: plotly's JSON for JupyterLab, and an
accessible ``<figure>`` (:func:`figure_html`: ``role="figure"``, the alt text as its label and
as a visually hidden caption) for every other front end and for the briefing pages.

Caveats
-------
Text from the data (designations, country names) reaches the figure's JSON. plotly escapes
``<``, ``>`` and ``/`` in that JSON; ``_safe_json_html`` checks the embedded script anyway and
refuses a div whose ``</script`` count betrays an unescaped label, so a label such as
``</script><script>...`` cannot end the script block. Alt text is HTML-escaped.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import plotly
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline

from takingstock.core import atomic
from takingstock.core.summaries import record_output
from takingstock.report.images import PLOTLYJS_NAME, STATIC_FORMATS, export_static
from takingstock.report.style import HEIGHT, FigureError, add_source, check_figure, source_of, title_text

_VISUALLY_HIDDEN = (
    "position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;"
    "clip:rect(0,0,0,0);white-space:nowrap;border:0;"
)


def _safe_json_html(div: str) -> str:
    """Make sure no ``</`` from data sits inside the figure's inline script.

    plotly writes the figure JSON with ``<`` escaped as ``\\u003c``; the only literal ``</`` in
    the div must then be plotly's own closing tags. If a future plotly stopped escaping, a
    label ``</script>`` would show up as more than one ``</script`` per ``<script``: we then
    raise rather than write an unsafe page.
    """
    opens = div.lower().count("<script")
    closes = div.lower().count("</script")
    if opens != closes:
        raise FigureError("figure JSON contains an unescaped '</script' (unsafe to embed)")
    return div


def figure_div(fig: go.Figure, *, include_plotlyjs: bool | str = False) -> str:
    """Return the figure's ``<div>`` (no plotly.js inside unless asked), checked for safety."""
    div = pio.to_html(
        fig,
        include_plotlyjs=include_plotlyjs,
        full_html=False,
        config={"displaylogo": False, "responsive": True},
        default_width="100%",
        default_height=f"{HEIGHT}px",
    )
    return _safe_json_html(div)


def figure_html(fig: go.Figure, alt: str) -> str:
    """Return a ``<figure>`` holding the figure's div, with the alt text for screen readers.

    The ``<figure>`` carries ``role="figure"`` and ``aria-label`` = alt text; a visually hidden
    ``<figcaption>`` repeats it so it is also read in order. Alt text is HTML-escaped.
    """
    alt_esc = html.escape(str(alt), quote=True)
    return (
        f'<figure class="ts-figure" role="figure" aria-label="{alt_esc}" style="margin:0">'
        f"{figure_div(fig)}"
        f'<figcaption class="visually-hidden" style="{_VISUALLY_HIDDEN}">{alt_esc}</figcaption>'
        "</figure>"
    )


def _page(fig: go.Figure, alt: str) -> str:
    """A standalone page around :func:`figure_html`, loading the folder's shared plotly.js."""
    title = html.escape(title_text(fig.layout.title))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{title}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<script src="{PLOTLYJS_NAME}" charset="utf-8"></script>\n'
        "</head>\n<body>\n<main>\n"
        f"{figure_html(fig, alt)}\n"
        "</main>\n</body>\n</html>\n"
    )


#: Folders (resolved path, plotly version) whose plotly.min.js this process has checked.
_plotlyjs_checked: set[tuple[str, str]] = set()


def ensure_plotlyjs(figures_dir: str | os.PathLike) -> Path:
    """Write the one shared ``plotly.min.js`` into ``figures_dir`` if it is missing or stale.

    Checked once per folder and plotly version in a process (plotly.js is ~3.6 MB): the first
    call compares the file's bytes with this plotly's bundle and rewrites it if they differ;
    later calls only check that the file is still there.
    """
    target = Path(figures_dir) / PLOTLYJS_NAME
    key = (str(target.resolve()), plotly.__version__)
    if key in _plotlyjs_checked and target.exists():
        return target
    js = plotly.offline.get_plotlyjs().encode("utf-8")
    if not target.exists() or target.stat().st_size != len(js) or target.read_bytes() != js:
        atomic.write_bytes(target, js)
    _plotlyjs_checked.add(key)
    return target


def show(fig: go.Figure, alt: str) -> None:
    """Display a figure in a notebook: plotly's own JSON for JupyterLab, HTML for the rest.

    The bundle holds ``application/vnd.plotly.v1+json`` (drawn by JupyterLab's plotly
    renderer), ``text/html`` (the figure div without plotly.js, inside an accessible
    ``<figure>``; the briefing page loads the shared plotly.min.js in its ``<head>``) and
    ``text/plain`` (the alt text).
    """
    # lazy: IPython.display costs ~0.3 s (python -X importtime, 2 cores under load) in
    # a process that is not a kernel (the runner, which imports it through the briefings).
    from IPython.display import display

    check_figure(fig, alt)
    bundle = {
        "application/vnd.plotly.v1+json": fig.to_plotly_json(),
        "text/html": figure_html(fig, alt),
        "text/plain": f"[figure] {alt}",
    }
    display(bundle, raw=True)


def save_figure(
    fig: go.Figure,
    name: str,
    *,
    alt: str,
    source: str | None = None,
    figures_dir: str | os.PathLike,
    static: bool = True,
) -> dict[str, Path]:
    """Write ``<name>.html`` (+ ``.svg`` and ``.png``) into ``figures_dir``; return what was written.

    Args:
        fig: the figure (its title and axis titles must be set).
        name: file stem, e.g. ``02_amnesty_2015_manufacture_shares``.
        alt: alt text for screen readers (one or two sentences saying what the chart shows).
        source: the source line printed under the figure (replaces any earlier one); None
            keeps the one the chart builder set (a figure without any is refused).
        figures_dir: the output folder (``output_dir/figures``).
        static: write SVG and PNG too (skipped with one notice when no browser).

    Returns:
        ``{"html": path, "json": path, "svg": path, "png": path}`` for the files actually written.
    """
    if not name or "/" in name or name.startswith("."):
        raise FigureError(f"bad figure name {name!r}")
    figures_dir = Path(figures_dir)
    if source is not None:
        add_source(fig, source)
    check_figure(fig, alt)
    fig.layout.meta = {"alt": str(alt), "name": name}  # the briefing links downloads by it
    record_output("figures", name, alt=alt, source=source_of(fig))
    ensure_plotlyjs(figures_dir)
    written = {"html": atomic.write_text(figures_dir / f"{name}.html", _page(fig, alt)),
               "json": atomic.write_text(figures_dir / f"{name}.json", fig.to_json())}
    if static:
        targets = [figures_dir / f"{name}.{fmt}" for fmt in STATIC_FORMATS]
        for path in export_static([fig] * len(targets), targets):
            written[path.suffix.lstrip(".")] = path
    return written
