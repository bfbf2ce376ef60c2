"""The house chart style: one plotly template, the colours, and what every figure must carry.

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
"other" are always greys, so they never look like a state. ``BLOC_COLOURS`` gives the Cold-War
blocs theirs.

Each figure must have a title, axis titles (for charts with axes), a source line, and alt text:
``check_figure`` raises ``FigureError`` when one is missing (``figures.save_figure`` and
``figures.show`` call it). The source line is a plotly annotation under the plot
(``add_source``); the chart builders and their layout rules are in
:mod:`takingstock.report.charts`, writing figures to disk and to notebooks in
:mod:`takingstock.report.figures`.

``warm_up`` builds one small figure of each kind in this template and throws it away: the
pipeline's fork server calls it so that kernels start with plotly's validators built.
"""

from __future__ import annotations

import hashlib
import html
import textwrap

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

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
#: Size (px) of the static images; ``HEIGHT`` is also a figure's height on a page unless it sets one.
WIDTH, HEIGHT = 900, 560

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


# ---------------------------------------------------------------------------------------------
# Checks, source line
# ---------------------------------------------------------------------------------------------


def title_text(title: object) -> str:
    """The text of a plotly title (a figure's or an axis's), stripped; "" when it has none."""
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
    (``figures.save_figure`` and ``figures.show`` always give it).
    """
    problems = []
    if not title_text(fig.layout.title):
        problems.append("no title (layout.title.text)")
    if _has_cartesian_axes(fig):
        if not title_text(fig.layout.xaxis.title):
            problems.append("no x-axis title")
        if not title_text(fig.layout.yaxis.title):
            problems.append("no y-axis title")
    if not source_of(fig):
        problems.append("no source line (style.add_source)")
    if alt is not None and not str(alt).strip():
        problems.append("no alt text")
    if problems:
        title = title_text(fig.layout.title) or "<untitled>"
        raise FigureError(f"figure {title!r}: " + "; ".join(problems))


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
