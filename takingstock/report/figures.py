"""The house chart style, figure checks, and writing figures to disk and to notebooks.

Method
------
Every figure of the project is a plotly figure drawn with one template, ``TEMPLATE_NAME``,
registered here and nowhere else (``register_template()``; calling it twice is harmless).
The template fixes readable type (sans-serif, 14 px body, 18 px titles), white backgrounds with
light grid lines, and the Okabe–Ito palette, which stays distinguishable for the common forms
of colour blindness.

Countries keep one colour in every figure: ``country_colour(name)`` looks the canonical state
name up in a fixed table for the states that recur in this subject (Soviet Union, Russia,
China, United States, ...), and gives any other name a colour chosen by a hash of the name, so
the same name always gets the same colour, in every figure, notebook and run. "unknown" and
"other" are always greys, so they never look like a state.

Each figure must have a title, axis titles (for charts with axes), a source line, and alt text:
``check_figure`` raises ``FigureError`` when one is missing, and ``save_figure`` / ``show``
call it. The source line is a plotly annotation under the plot (``add_source``).

Labels never collide (``finish`` and the chart builders apply the rules of "Chart layout"):
category labels on the x axis are wrapped level or turned 45 degrees (``fit_x_labels``) and the
source line moves below the room they take; a long title or y-axis title wraps onto lines
(``fit_title``, ``fit_y_title``); the labels of shaded period bands sit above the plot, on as many
rows as keep them apart (``add_bands``). A chart grows taller by the room these take, so its plot
keeps its size on a page. Text widths are estimated from the number of characters, on the wide
side; ``tests/test_chart_labels.py`` draws the charts in Chromium and checks that no two texts
overlap and none runs off the figure.

Outputs
-------
``save_figure(fig, name, alt=..., source=..., figures_dir=...)`` writes

* ``<name>.html``: a small page holding the interactive figure; it loads the single shared
  ``plotly.min.js`` in the same folder (written once), never a copy of its own;
* ``<name>.svg`` and ``<name>.png``: static images drawn by plotly.js in a headless Chromium;
* ``<name>.json``: the figure's plotly spec (what a later export draws).

It also sets ``fig.layout.meta = {"alt": ..., "name": name}`` (a figure shown afterwards carries
its name, so the briefing links its SVG and PNG) and records the figure for the notebook's
summary (``summaries.record_output``).

Caveats
-------
* Static images need a Chrome or Chromium (:func:`takingstock.report.browser.find_browser`:
  ``BROWSER_PATH``, then ``/usr/bin/chromium`` and the usual names on ``PATH``). Without one
  (or when the export fails or passes ``EXPORT_TIMEOUT_S``), the static files are skipped, a
  single notice is printed per process, and the HTML is still written: a run never fails for
  want of a browser.
* The images are drawn by plotly.js's public ``Plotly.toImage`` (the call kaleido's own page
  makes) in one page of the process's browser (:func:`takingstock.report.browser.session`, driven by
  playwright's public API), plotly.js loaded once from a ``file:`` page: the PNGs are byte for byte those stock
  kaleido (``plotly.io.write_image``) draws of the same figure, the SVGs the same but for the
  random ids plotly puts in every SVG (checked on the 24 figures of a run; the tests check
  size and pixels). Stock kaleido, through its public API, reloads its page after every
  image: ~0.2 s an image, 9.4 s for a run's 46 against 1.8 s here (``bench/README.md``).
* ``<name>.json`` keeps each figure's plotly spec. Under ``pipeline.py`` (which passes the
  notebook parameter ``static_figures=False``, carried by the run context to
  ``save_figure(..., static=False)``) notebooks write only the HTML and the spec, and the
  runner draws the SVG and PNG of a notebook's figures (:func:`export_pending` with the names
  its summary lists) in its one browser as soon as that notebook is done, on a background
  thread, while the next notebooks run; the ``figures`` step then only waits for that and draws
  whatever is still pending. A notebook run by hand exports its images at once.
* Text from the data (designations, country names) reaches the figure's JSON. plotly escapes
  ``<``, ``>`` and ``/`` in that JSON; ``_safe_json_html`` checks the embedded script anyway
  and escapes ``</`` itself if a future plotly stops doing so, so a label such as
  ``</script><script>...`` cannot end the script block. Alt text is HTML-escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from dataclasses import dataclass
import sys
import tempfile
import textwrap
import threading
import warnings
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import pandas as pd
import plotly
import plotly.offline
import plotly.graph_objects as go
import plotly.io as pio

from takingstock.core import atomic
from takingstock.report import browser
from takingstock.report.labels import header
from takingstock.core.summaries import record_output

TEMPLATE_NAME = "takingstock"

# Okabe & Ito (2008), "Color Universal Design": eight colours safe for colour-blind readers.
OKABE_ITO = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
]
# Extra colours for states beyond the fixed table (Paul Tol's "muted" scheme, also
# colour-blind safe); a name's hash picks one, so it never changes between figures.
EXTRA_COLOURS = [
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933",
    "#DDCC77", "#CC6677", "#882255", "#AA4499",
]
UNKNOWN_COLOUR = "#BBBBBB"
OTHER_COLOUR = "#7F7F7F"

# Fixed colours for the states that recur in this subject (canonical crosswalk names, lower
# case, plus a few spellings met in sources).
_FIXED_COUNTRY_COLOURS = {
    "soviet union": OKABE_ITO[3],  # vermillion
    "russia": OKABE_ITO[5],  # reddish purple
    "china": OKABE_ITO[6],  # yellow
    "united states": OKABE_ITO[0],  # blue
    "iraq": OKABE_ITO[2],  # bluish green
    "yugoslavia": OKABE_ITO[1],  # orange
    "serbia": "#F5C266",  # light orange (Yugoslavia's successor)
    "romania": OKABE_ITO[4],  # sky blue
    "iran": OKABE_ITO[7],  # black
    "belgium": EXTRA_COLOURS[0],
    "germany": EXTRA_COLOURS[2],
    "east germany": EXTRA_COLOURS[3],
    "hungary": EXTRA_COLOURS[4],
    "bulgaria": EXTRA_COLOURS[6],
    "czechoslovakia": EXTRA_COLOURS[7],
    "france": EXTRA_COLOURS[1],
    "united kingdom": EXTRA_COLOURS[8],
}
_COUNTRY_ALIASES = {
    "ussr": "soviet union",
    "usa": "united states",
    "us": "united states",
    "united states of america": "united states",
    "uk": "united kingdom",
    "prc": "china",
    "people's republic of china": "china",
    "russian federation": "russia",
}
BLOC_COLOURS = {
    "Warsaw Pact": OKABE_ITO[3],
    "NATO": OKABE_ITO[0],
    "China": OKABE_ITO[6],
    "non-aligned/other": OKABE_ITO[2],
    "unknown": UNKNOWN_COLOUR,
    "other": OTHER_COLOUR,
}

SOURCE_ANNOTATION_NAME = "source-line"
EXPORT_TIMEOUT_S = 120.0
STATIC_FORMATS = ("svg", "png")
PLOTLYJS_NAME = "plotly.min.js"
_WIDTH, _HEIGHT = 900, 560


class FigureError(ValueError):
    """A figure lacks something every figure must have (title, axis title, source, alt)."""


# ---------------------------------------------------------------------------------------------
# Template and colours
# ---------------------------------------------------------------------------------------------


def register_template(make_default: bool = True) -> str:
    """Register the house template as ``TEMPLATE_NAME`` (idempotent) and return its name.

    Args:
        make_default: also make it plotly's default template for this process.
    """
    if TEMPLATE_NAME not in pio.templates:
        font = "Source Sans Pro, Arial, Helvetica, sans-serif"
        axis = dict(
            gridcolor="#E5E5E5",
            linecolor="#555555",
            zerolinecolor="#BBBBBB",
            ticks="outside",
            tickcolor="#555555",
            title=dict(font=dict(size=14), standoff=10),
            automargin=True,
        )
        pio.templates[TEMPLATE_NAME] = go.layout.Template(
            layout=dict(
                font=dict(family=font, size=14, color="#222222"),
                title=dict(font=dict(size=18), x=0.0, xanchor="left", xref="container", pad=dict(l=12)),
                colorway=OKABE_ITO,
                paper_bgcolor="white",
                plot_bgcolor="white",
                xaxis=axis,
                yaxis=axis,
                legend=dict(font=dict(size=13), bgcolor="rgba(255,255,255,0.8)"),
                margin=dict(l=70, r=30, t=80, b=110),
                hoverlabel=dict(font=dict(family=font, size=13)),
                colorscale=dict(sequential="Cividis"),
                bargap=0.2,
            )
        )
    if make_default:
        pio.templates.default = TEMPLATE_NAME
    return TEMPLATE_NAME


def _country_key(name: object) -> str:
    key = " ".join(str(name).strip().lower().split())
    return _COUNTRY_ALIASES.get(key, key)


def country_colour(name: object) -> str:
    """Return the house colour of a country (same name -> same colour, in every figure).

    "unknown"/empty names are light grey and "other" is mid grey. Names not in the fixed
    table get a colour picked by an MD5 hash of the normalised name (stable across runs,
    unlike Python's ``hash``).
    """
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return UNKNOWN_COLOUR
    key = _country_key(name)
    if key in ("", "unknown", "n/a"):
        return UNKNOWN_COLOUR
    if key.startswith("other"):
        return OTHER_COLOUR
    if key in _FIXED_COUNTRY_COLOURS:
        return _FIXED_COUNTRY_COLOURS[key]
    digest = int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16)
    return EXTRA_COLOURS[digest % len(EXTRA_COLOURS)]


def colour_map(names: Iterable[object]) -> dict[str, str]:
    """Map every name to its ``country_colour`` (for plotly's ``color_discrete_map``)."""
    return {str(n): country_colour(n) for n in names}


def bloc_colour(bloc: object) -> str:
    """Return the house colour of a Cold-War bloc (grey when not one of the four blocs)."""
    return BLOC_COLOURS.get(str(bloc), OTHER_COLOUR)


# ---------------------------------------------------------------------------------------------
# Checks, source line
# ---------------------------------------------------------------------------------------------


def _text(title: object) -> str:
    if title is None:
        return ""
    text = getattr(title, "text", title)
    return "" if text is None else str(text).strip()


def _has_cartesian_axes(fig: go.Figure) -> bool:
    return any(
        getattr(t, "type", None) not in ("pie", "sunburst", "treemap", "table", "sankey")
        and hasattr(t, "xaxis")
        for t in fig.data
    )


#: Characters per line of a source line before it wraps (fits the default 700 px width).
SOURCE_LINE_WIDTH = 110
#: Room (px) under the plot area for one line of tick labels and the x-axis title: the source
#: line starts this far below the plot.
SOURCE_BELOW_PX = 75
#: Bottom margin (px) that holds the x-axis title and one line of source.
SOURCE_BASE_MARGIN = 110
#: Extra bottom margin (px) for every further line of source.
SOURCE_LINE_PX = 15


def add_source(fig: go.Figure, source: str, below: float = SOURCE_BELOW_PX) -> go.Figure:
    """Put (or replace) the source line under the plot area and return the figure.

    ``below``: px between the bottom of the plot area and the source line, the room the tick
    labels and the x-axis title take (:func:`fit_x_labels` works it out for long labels). The
    bottom margin grows to hold it and every line of the source.
    """
    source = (source or "").strip()
    if not source:
        raise FigureError("a figure needs a source line (source=...)")
    others = [a for a in fig.layout.annotations if a.name != SOURCE_ANNOTATION_NAME]
    fig.layout.annotations = others
    lines = textwrap.wrap(source, SOURCE_LINE_WIDTH) or [source]
    # Each extra line of the source (and extra room for the ticks) needs margin.
    bottom = fig.layout.margin.b if fig.layout.margin.b is not None else SOURCE_BASE_MARGIN
    needed = SOURCE_BASE_MARGIN + (below - SOURCE_BELOW_PX) + SOURCE_LINE_PX * (len(lines) - 1)
    fig.update_layout(margin_b=max(bottom, round(needed)))
    fig.add_annotation(
        name=SOURCE_ANNOTATION_NAME,
        text="<br>".join(html.escape(line, quote=False) for line in lines),
        xref="paper",
        yref="paper",
        x=0.0,
        y=0.0,
        yshift=-round(below),
        xanchor="left",
        yanchor="top",
        showarrow=False,
        align="left",
        font=dict(size=11, color="#555555"),
    )
    return fig


def source_of(fig: go.Figure) -> str:
    """Return the figure's source line text ("" when it has none)."""
    for ann in fig.layout.annotations:
        if ann.name == SOURCE_ANNOTATION_NAME:
            return html.unescape((ann.text or "").replace("<br>", " "))
    return ""


def check_figure(fig: go.Figure, alt: str | None = None) -> None:
    """Raise ``FigureError`` unless the figure has a title, axis titles, a source and alt text.

    Axis titles are required on the first x and y axes of charts that have axes (bars, lines,
    heatmaps); a colour bar or a pie has none to check. ``alt`` is checked only when given
    (``save_figure`` and ``show`` always give it).
    """
    problems = []
    if not _text(fig.layout.title):
        problems.append("no title (layout.title.text)")
    if _has_cartesian_axes(fig):
        if not _text(fig.layout.xaxis.title):
            problems.append("no x-axis title")
        if not _text(fig.layout.yaxis.title):
            problems.append("no y-axis title")
    if not source_of(fig):
        problems.append("no source line (figures.add_source)")
    if alt is not None and not str(alt).strip():
        problems.append("no alt text")
    if problems:
        title = _text(fig.layout.title) or "<untitled>"
        raise FigureError(f"figure {title!r}: " + "; ".join(problems))


def finish(
    fig: go.Figure, *, title: str, x_title: str | None, y_title: str | None, source: str
) -> go.Figure:
    """Apply the house template, title, axis titles and source line; return the figure.

    Category labels on the x axis are laid out by :func:`fit_x_labels` (wrapped or turned, with
    the room they take under the plot), so they never run into the axis title or the source.
    """
    register_template()
    fig.update_layout(template=TEMPLATE_NAME, title=dict(text=title))
    fit_title(fig)
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    below = max(SOURCE_BELOW_PX, fit_x_labels(fig) + X_TITLE_PX)
    grow = max(0.0, below - SOURCE_BELOW_PX)
    if grow:  # the plot keeps its height on a page; a static image (fixed size) shrinks it
        fig.update_layout(height=round((fig.layout.height or _HEIGHT) + grow))
    add_source(fig, source, below=below)
    fit_y_title(fig)
    return fig


# ---------------------------------------------------------------------------------------------
# Chart layout: labels that never collide
# ---------------------------------------------------------------------------------------------
#
# Plotly lays out tick labels, titles and annotations without knowing about one another: a
# turned tick label can push the axis title onto the source line, and two annotations set close
# together print over each other. The rules below estimate the width of a text from its length
# (LABEL_CHAR_EM of the font size per character, a little wider than the house sans-serif's
# average so the estimate errs on the roomy side) and lay the labels out for a plot area of
# LAYOUT_PLOT_PX (narrower than any plot the briefings, the PDF or the images draw), so what
# fits there fits on every page. tests/test_chart_labels.py draws the charts in Chromium and
# checks that no two texts overlap.

#: Width (px) of a plot area the labels are laid out for (about the narrowest the pages and
#: the 900 px images draw, beside a legend or a colour bar).
LAYOUT_PLOT_PX = 560
#: Estimated width of one character, as a share of the font size.
LABEL_CHAR_EM = 0.58
#: Height of one line of text, as a multiple of the font size.
LINE_EM = 1.3
#: Font size (px) of tick labels and axis titles (the template's body size).
TICK_FONT_PX = 14
#: Room (px) under the tick labels for the ticks and the x-axis title.
X_TITLE_PX = 49
#: Most lines a category label is wrapped onto before it is turned instead.
MAX_LABEL_LINES = 5
#: Font size (px) and name of the labels of shaded period bands.
BAND_FONT_PX = 11
BAND_ANNOTATION_NAME = "band-label"


def _plain(label: object) -> str:
    """A label as the text a reader sees (a caller's ``<br>`` line breaks and entities undone)."""
    parts = re.split(r"<br\s*/?>", str(label))
    return " ".join(html.unescape(p).strip() for p in parts if p.strip())


def text_width(text: object, font_px: float = TICK_FONT_PX) -> float:
    """Estimated width (px) of a text's longest line at ``font_px`` (see the section comment)."""
    lines = re.split(r"<br\s*/?>", str(text))
    return max(len(html.unescape(line)) for line in lines) * LABEL_CHAR_EM * font_px


def _categories(fig: go.Figure) -> list[str]:
    """The x-axis categories in drawing order ([] when the x axis holds numbers)."""
    array = fig.layout.xaxis.categoryarray
    if array:
        return [str(c) for c in array]
    cats: list[str] = []
    for trace in fig.data:
        xs = getattr(trace, "x", None)
        if xs is None or getattr(trace, "orientation", None) == "h":
            continue
        if not all(isinstance(v, str) for v in xs):
            return []
        cats += [v for v in xs if v not in cats]
    return cats


def fit_x_labels(fig: go.Figure, plot_px: float = LAYOUT_PLOT_PX) -> float:
    """Lay out the x-axis category labels and return the height (px) they take under the plot.

    Each label gets its share of a ``plot_px`` wide plot. When every label fits its share on
    at most :data:`MAX_LABEL_LINES` lines (wrapped at spaces), the labels stay level, wrapped;
    otherwise every label is turned 45 degrees on one line, or 90 when the labels stand so close
    that turned ones would touch. Labels are set as ``ticktext``
    (escaped: they come from data), the categories themselves are unchanged. An x axis of
    numbers (years) is left to plotly: one line of labels.
    """
    cats = _categories(fig)
    if not cats:
        return TICK_FONT_PX * LINE_EM
    slot = plot_px / len(cats)
    per_line = max(1, int(slot // (LABEL_CHAR_EM * TICK_FONT_PX)))
    wrapped = [textwrap.wrap(_plain(c), per_line, break_long_words=False) or [""] for c in cats]
    # a single word may pass the estimate by a quarter: the estimate errs on the wide side
    if all(len(w) <= MAX_LABEL_LINES and max(map(len, w)) <= per_line * 1.25 for w in wrapped):
        text = ["<br>".join(html.escape(line, quote=False) for line in w) for w in wrapped]
        fig.update_xaxes(tickangle=0, tickmode="array", tickvals=cats, ticktext=text)
        return max(len(w) for w in wrapped) * TICK_FONT_PX * LINE_EM
    # turned 45 degrees, neighbours stand slot x sin(45) apart: below a line's height, turn 90
    line = TICK_FONT_PX * LINE_EM
    upright = slot * 0.7071 < line
    fig.update_xaxes(tickangle=-90 if upright else -45, tickmode="array", tickvals=cats,
                     ticktext=[html.escape(_plain(c), quote=False) for c in cats])
    widest = max(text_width(_plain(c)) for c in cats)
    return widest + 4 if upright else 0.7072 * (widest + line)


#: Font size (px) of the title (the template's).
TITLE_FONT_PX = 18
#: Width (px) a title may take: the figure's width on a page (856 px) less its side margins.
TITLE_PX = 800


def fit_title(fig: go.Figure, width_px: float = TITLE_PX) -> int:
    """Wrap a title longer than ``width_px`` onto lines, with a top margin to hold them; return
    the number of lines (plotly never wraps a title: a long one runs off the figure)."""
    title = _text(fig.layout.title)
    if not title or "<br>" in title or text_width(title, TITLE_FONT_PX) <= width_px:
        return 1 if title else 0
    lines = textwrap.wrap(title, max(20, int(width_px // (LABEL_CHAR_EM * TITLE_FONT_PX))))
    top = fig.layout.margin.t if fig.layout.margin.t is not None else 80
    extra = (len(lines) - 1) * TITLE_FONT_PX * LINE_EM
    fig.update_layout(title=dict(text="<br>".join(lines), yref="container", y=1.0, yanchor="top", pad=dict(t=20)),
                      margin_t=round(top + extra), height=round((fig.layout.height or _HEIGHT) + extra))
    return len(lines)


def fit_y_title(fig: go.Figure) -> int:
    """Wrap a y-axis title onto as many lines as it needs to stay inside the figure; return them.

    Plotly centres the title on the plot area, one line, turned; a title longer than the plot
    is tall plus the smaller of the top and bottom margins on each side runs off the figure.
    The height checked is the smaller of the figure's own and the static images' (560 px).
    """
    title = _text(fig.layout.yaxis.title)
    if not title or "<br>" in title:
        return 1 if title else 0
    height = min(fig.layout.height or _HEIGHT, _HEIGHT)
    top = fig.layout.margin.t if fig.layout.margin.t is not None else 80
    bottom = fig.layout.margin.b if fig.layout.margin.b is not None else SOURCE_BASE_MARGIN
    plot = max(height - top - bottom, 100)
    room = plot + 2 * min(top, bottom) - 20
    width = text_width(title)
    if width <= room:
        return 1
    per_line = max(10, int(min(room, plot + 40) // (LABEL_CHAR_EM * TICK_FONT_PX)))
    lines = textwrap.wrap(title, per_line)
    fig.update_yaxes(title_text="<br>".join(lines))
    return len(lines)


def _x_extent(fig: go.Figure, bands: Sequence[tuple[float, float, str]]) -> tuple[float, float]:
    """The span of a numeric x axis: the bars' or points' values (half a step beyond) and the bands."""
    xs = [float(v) for t in fig.data for v in (getattr(t, "x", None) or ()) if isinstance(v, (int, float))]
    ends = [float(b[0]) for b in bands] + [float(b[1]) for b in bands]
    lo, hi = min(xs + ends), max(xs + ends)
    if xs:
        lo, hi = min(lo, min(xs) - 0.5), max(hi, max(xs) + 0.5)
    return lo, (hi if hi > lo else lo + 1)


def add_bands(fig: go.Figure, bands: Sequence[tuple[float, float, str]], plot_px: float = LAYOUT_PLOT_PX) -> int:
    """Shade spans of a numeric x axis (start, end, label) and label them above the plot.

    Each label starts at its band's left edge (or ends at its right edge when it would run past
    the plot); labels that would overlap at ``plot_px`` go on further rows, one above the
    other; the top margin grows by a row each and the title stays above them all. Returns the
    number of rows. Labels are escaped (they come from a data file).
    """
    if not bands:
        return 0
    lo, hi = _x_extent(fig, bands)
    px = plot_px / (hi - lo)
    rows: list[float] = []  # right end (px) of the last label in each row
    for start, end, label in sorted(bands, key=lambda b: float(b[0])):
        fig.add_vrect(x0=start, x1=end, fillcolor="#999999", opacity=0.12, line_width=0)
        width = text_width(label, BAND_FONT_PX) + 4
        left = (float(start) - lo) * px
        anchor, x = "left", start
        if left + width > plot_px:
            anchor, x, left = "right", end, (float(end) - lo) * px - width
        row = next((i for i, right in enumerate(rows) if left >= right + 4), len(rows))
        rows[row:row + 1] = [left + width]
        fig.add_annotation(
            name=BAND_ANNOTATION_NAME, text=html.escape(str(label), quote=False), x=x, xref="x",
            y=1.0, yref="paper", yanchor="bottom", xanchor=anchor, yshift=2 + row * BAND_FONT_PX * LINE_EM,
            showarrow=False, font=dict(size=BAND_FONT_PX, color="#444444"),
        )
    top = fig.layout.margin.t if fig.layout.margin.t is not None else 80
    extra = len(rows) * BAND_FONT_PX * LINE_EM
    fig.update_layout(margin_t=round(top + extra), height=round((fig.layout.height or _HEIGHT) + extra),
                      title=dict(yref="container", y=1.0, yanchor="top", pad=dict(t=20)))
    fit_y_title(fig)
    return len(rows)


# ---------------------------------------------------------------------------------------------
# HTML (files and notebook display)
# ---------------------------------------------------------------------------------------------

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
        default_height=f"{_HEIGHT}px",
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
    title = html.escape(_text(fig.layout.title))
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
    from IPython.display import display

    check_figure(fig, alt)
    bundle = {
        "application/vnd.plotly.v1+json": fig.to_plotly_json(),
        "text/html": figure_html(fig, alt),
        "text/plain": f"[figure] {alt}",
    }
    display(bundle, raw=True)


# ---------------------------------------------------------------------------------------------
# Static export (plotly.js in the process's browser)
# ---------------------------------------------------------------------------------------------

_notice_given = False
_static_disabled = False
_lock = threading.Lock()


def _notice(message: str) -> None:
    """Print the static-export notice once per process."""
    global _notice_given
    if not _notice_given:
        _notice_given = True
        print(f"[figures] {message}", file=sys.stderr)


def warm_up() -> None:
    """Build and serialise one small figure of each kind the notebooks draw (bars, lines,
    heat map; titles, annotation, shaded span), in the house template, and throw it away.

    plotly builds a validator the first time a figure sets each property, and keeps it for the
    process: ~0.1 s of every notebook's first figures. The pipeline's fork server calls this
    once (``takingstock.runner.forkserver.WARM_UPS``), so kernels forked from it start with
    those validators built. It writes nothing and leaves plotly's default template as it was.
    """
    register_template(make_default=False)
    fig = go.Figure([go.Bar(x=[1], y=["a"], orientation="h", text=["1"], marker_color=["#000000"]),
                     go.Scatter(x=[1], y=[1], mode="lines+markers"),
                     go.Heatmap(z=[[1]], x=["a"], y=["b"])])
    fig.update_layout(template=TEMPLATE_NAME, title="t", xaxis_title="x", yaxis_title="y",
                      legend_title_text="l", barmode="stack")
    fig.add_annotation(text="s", xref="paper", yref="paper", x=0, y=0, showarrow=False)
    fig.add_vrect(x0=0, x1=1)
    fig.to_json()


_pages: dict = {}  # the browser's image page, made on first use (touched only in the browser's thread)
_page_dir: tempfile.TemporaryDirectory | None = None


def _image_page(chromium):
    """The one page of ``chromium`` (a playwright ``Browser``) that draws images, local
    requests only: a blank page that loads plotly.js (``plotly.offline.get_plotlyjs()``, written
    once into a temporary folder) from disk (from a ``file:`` page Chromium reads it itself: ~1/3
    quicker than handing it over as text)."""
    global _page_dir
    page = _pages.get(id(chromium))
    if page is None or page.is_closed():
        if _page_dir is None:
            _page_dir = tempfile.TemporaryDirectory(prefix="takingstock-images-")
        plotlyjs = Path(_page_dir.name) / PLOTLYJS_NAME
        plotlyjs.write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
        blank = plotlyjs.with_name("images.html")
        blank.write_text('<!DOCTYPE html><html><head><meta charset="utf-8">'
                         f'<script src="{plotlyjs.as_uri()}"></script></head>'
                         '<body style="margin:0;padding:0"></body></html>', encoding="utf-8")
        page = chromium.new_page()
        page.route("**/*", browser.local_only)
        page.goto(blank.as_uri())
        _pages[id(chromium)] = page
    return page


_TO_IMAGE_JS = "([fig, opts]) => Plotly.toImage(fig, opts)"


def _draw(chromium, jobs: list[tuple[dict, Path, str]]) -> None:
    """In the browser's thread: draw each ``(spec, path, format)`` with plotly.js's public
    ``Plotly.toImage`` (what kaleido's page calls too) and write it to ``path``."""
    page = _image_page(chromium)
    for spec, path, fmt in jobs:
        opts = {"format": fmt, "width": _WIDTH, "height": _HEIGHT, "scale": pio.defaults.default_scale or 1,
                "imageDataOnly": True}
        fig = {"data": spec.get("data", []), "layout": spec.get("layout", {}), "config": {}}
        data = page.evaluate(_TO_IMAGE_JS, [fig, opts])
        path.write_bytes(data.encode("utf-8") if fmt == "svg" else base64.b64decode(data))


def start_browser() -> bool:
    """Start the process's browser now, without waiting for it; ``False`` when there is none
    (the pipeline's figures step calls this while notebooks run)."""
    if _static_disabled:
        return False
    return browser.session() is not None


def export_static(
    figs: "Sequence[go.Figure | dict]", paths: Sequence[Path], *, timeout: float | None = None
) -> list[Path]:
    """Write static images (format from each path's suffix) in one batch, in the process's browser.

    ``figs`` are figures, or their plotly specs as dicts (what ``<name>.json`` holds).

    Returns the paths written; returns [] (with one notice per process) when no browser is
    found, the export raises, or it takes longer than ``timeout`` seconds (default
    ``EXPORT_TIMEOUT_S``); after a failure static export stays off for the process.
    Each image is written to a temporary name and moved into place (atomic).
    """
    global _static_disabled
    if not figs or _static_disabled:
        return []
    session = browser.session()
    if session is None:
        _static_disabled = True
        _notice(
            "no Chrome/Chromium found: static SVG/PNG figures are skipped (the HTML figures "
            "are written). Install one with `apt-get install chromium` or set BROWSER_PATH."
        )
        return []
    timeout = EXPORT_TIMEOUT_S if timeout is None else timeout
    tmp_paths = [p.with_name(f".{p.stem}.tmp{os.getpid()}{p.suffix}") for p in paths]
    jobs = [(f if isinstance(f, dict) else json.loads(pio.to_json(f)), t, Path(p).suffix.lstrip("."))
            for f, t, p in zip(figs, tmp_paths, paths)]
    with _lock:
        failed = None
        future = session.submit(_draw, jobs)
        try:
            future.result(timeout)
        except TimeoutError:
            future.cancel()
            failed = f"static export took longer than {timeout:.0f} s"
        except Exception as exc:  # noqa: BLE001 - reported below
            failed = f"static export failed ({type(exc).__name__}: {exc})"
        if failed:
            _static_disabled = True
            for t in tmp_paths:
                t.unlink(missing_ok=True)
            _notice(f"{failed}; static SVG/PNG figures are skipped for this run.")
            return []
        for t, p in zip(tmp_paths, paths):
            os.replace(t, p)
    return list(paths)


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
        ``{"html": path, "svg": path, "png": path}`` for the files actually written.
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


@dataclass(frozen=True)
class Figure:
    """A figure declared once (``takingstock.report.findings``): ``name`` (file stem without the
    notebook prefix), the plotly figure, its alt text. :meth:`publish` saves and shows it."""

    name: str
    fig: go.Figure
    alt: str

    def publish(self, name: str, figures_dir: str | os.PathLike, static: bool) -> dict[str, Path]:
        """:func:`save_figure` under ``name``, then :func:`show`; return what was written."""
        written = save_figure(self.fig, name, alt=self.alt, figures_dir=figures_dir, static=static)
        show(self.fig, self.alt)
        return written


def pending_static(figures_dir: str | os.PathLike, names: Iterable[str] | None = None) -> list[tuple[Path, Path]]:
    """``(spec, image)`` pairs whose image is missing or older than the figure's ``.json`` spec.

    ``names`` (figure file stems) limits the search to those figures; None means every figure
    of the folder.
    """
    folder = Path(figures_dir)
    specs = (sorted(folder.glob("*.json")) if names is None
             else [folder / f"{n}.json" for n in sorted(set(names)) if (folder / f"{n}.json").is_file()])
    todo = []
    for spec in specs:
        for fmt in STATIC_FORMATS:
            image = spec.with_suffix(f".{fmt}")
            if not image.exists() or image.stat().st_mtime_ns < spec.stat().st_mtime_ns:
                todo.append((spec, image))
    return todo


def export_pending(figures_dir: str | os.PathLike, names: Iterable[str] | None = None) -> list[Path]:
    """Draw every pending SVG and PNG of ``figures_dir`` (or of the figures ``names``) in one batch.

    Returns the images written ([] with one notice when no browser can be had: the run still
    succeeds, as with :func:`export_static`).
    """
    todo = pending_static(figures_dir, names)
    # the spec as it was saved (a figure's own JSON), handed to plotly.js as it is: building a
    # plotly Figure from it first would only validate every property again (~10 ms a figure)
    specs = {spec: json.loads(spec.read_text(encoding="utf-8")) for spec in dict.fromkeys(s for s, _ in todo)}
    return export_static([specs[spec] for spec, _ in todo], [image for _, image in todo])


# ---------------------------------------------------------------------------------------------
# Chart builders shared by the notebooks
# ---------------------------------------------------------------------------------------------


def bar_shares(
    df: pd.DataFrame,
    *,
    label_col: str,
    share_col: str = "share",
    count_col: str | None = "count",
    title: str,
    source: str,
    x_title: str = "Share of the catalogue (%)",
    y_title: str = "Country",
    colours: Mapping[str, str] | None = None,
) -> go.Figure:
    """Horizontal bars of percentage shares, largest on top, one house colour per label.

    ``df`` is a breakdown table (e.g. ``breakdowns.top_n``), with "other" and "unknown" rows
    kept; they are drawn last, in grey. ``colours`` overrides the colours (default:
    ``country_colour``; pass ``BLOC_COLOURS`` for blocs).
    """
    d = df.copy()
    d[label_col] = d[label_col].astype(str)
    tail = d[label_col].str.lower().isin(["other", "unknown"]) | d[label_col].str.lower().str.startswith("other ")
    d = pd.concat([d[~tail].sort_values(share_col, ascending=False), d[tail]])
    d = d.iloc[::-1]  # plotly draws the first bar at the bottom
    labels = d[label_col].tolist()
    colour_of = (lambda n: colours.get(n, OTHER_COLOUR)) if colours else country_colour
    text = [f"{s:.1f}%" for s in d[share_col]]
    custom = d[count_col].tolist() if count_col and count_col in d else None
    fig = go.Figure(
        go.Bar(
            x=d[share_col].tolist(),
            y=labels,
            orientation="h",
            marker_color=[colour_of(n) for n in labels],
            text=text,
            textposition="outside",
            cliponaxis=False,
            customdata=custom,
            hovertemplate="%{y}: %{x:.1f}%" + (" (%{customdata:,})" if custom else "") + "<extra></extra>",
        )
    )
    fig.update_layout(showlegend=False, height=max(360, 32 * len(labels) + 200))
    # Room right of the longest bar for its "28.4%" label.
    fig.update_xaxes(range=[0, max(d[share_col].max(), 1) * 1.15])
    return finish(fig, title=title, x_title=x_title, y_title=y_title, source=source)


def stacked_bars(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    colour: str,
    title: str,
    source: str,
    x_title: str,
    y_title: str,
    x_order: Sequence[str] | None = None,
    colours: Mapping[str, str] | None = None,
) -> go.Figure:
    """Bars of ``y`` by ``x``, stacked by ``colour`` (e.g. items by period, stacked by country).

    ``df`` is long: one row per (x, colour). Colours come from ``colours`` or
    ``country_colour``; ``x_order`` fixes the order of the bars.
    """
    fig = go.Figure()
    order = list(x_order) if x_order is not None else list(dict.fromkeys(df[x].astype(str)))
    for key, part in df.groupby(colour, sort=False):
        part = part.set_index(part[x].astype(str)).reindex(order)
        name = str(key)
        c = colours.get(name, OTHER_COLOUR) if colours else country_colour(name)
        fig.add_trace(go.Bar(x=order, y=part[y].fillna(0).tolist(), name=name, marker_color=c))
    fig.update_layout(barmode="stack", legend_title_text=html.escape(header(colour), quote=False))
    fig.update_xaxes(categoryorder="array", categoryarray=order)
    return finish(fig, title=title, x_title=x_title, y_title=y_title, source=source)


def heatmap(
    matrix: pd.DataFrame,
    *,
    title: str,
    source: str,
    x_title: str,
    y_title: str,
    colorbar_title: str = "Items",
) -> go.Figure:
    """A heatmap of a matrix (rows on y, columns on x) with the values written in the cells."""
    z = matrix.to_numpy()
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(c) for c in matrix.columns],
            y=[str(i) for i in matrix.index],
            colorscale="Cividis",
            text=z,
            texttemplate="%{text:,}",
            colorbar=dict(title=dict(text=html.escape(colorbar_title, quote=False), side="right")),
            hovertemplate="%{y} / %{x}: %{z:,}<extra></extra>",
        )
    )
    fig.update_layout(height=max(400, 30 * len(matrix.index) + 220))
    fig.update_yaxes(autorange="reversed")
    return finish(fig, title=title, x_title=x_title, y_title=y_title, source=source)


def time_series(
    df: pd.DataFrame,
    *,
    x: str,
    y: str | Sequence[str],
    title: str,
    source: str,
    x_title: str,
    y_title: str,
    names: Mapping[str, str] | None = None,
    bands: Sequence[tuple[float, float, str]] = (),
    kind: str = "bar",
) -> go.Figure:
    """Series of one or more columns against ``x`` (years), as bars or lines.

    ``bands`` shades spans of ``x`` (start, end, label), e.g. historical periods; ``names``
    gives legend names for the columns.
    """
    ys = [y] if isinstance(y, str) else list(y)
    fig = go.Figure()
    for i, col in enumerate(ys):
        label = (names or {}).get(col, col)
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        if kind == "bar":
            fig.add_trace(go.Bar(x=df[x].tolist(), y=df[col].tolist(), name=label, marker_color=colour))
        else:
            fig.add_trace(
                go.Scatter(x=df[x].tolist(), y=df[col].tolist(), name=label, mode="lines+markers",
                           line=dict(color=colour))
            )
    fig.update_layout(showlegend=len(ys) > 1)
    finish(fig, title=title, x_title=x_title, y_title=y_title, source=source)
    add_bands(fig, bands)
    return fig
