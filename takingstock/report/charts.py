"""The chart builders the notebooks share, and the layout rules that keep their labels apart.

Method
------
Each builder (:func:`bar_shares`, :func:`stacked_bars`, :func:`heatmap`, :func:`time_series`,
:func:`release_changes`) takes a tidy frame the package hands over and returns a plotly figure
in the house style (:mod:`takingstock.report.style`), finished by :func:`finish`: template,
title, axis titles and the source line. Colours come from ``style.country_colour`` (one colour
per state in every figure) unless the caller passes its own.

Labels never collide (``finish`` and the builders apply the rules of "Chart layout" below):
category labels on the x axis are wrapped level or turned 45 degrees (``fit_x_labels``) and the
source line moves below the room they take; a long title or y-axis title wraps onto lines
(``fit_title``, ``fit_y_title``); the labels of shaded period bands sit above the plot, on as many
rows as keep them apart (``add_bands``). A chart grows taller by the room these take, so its plot
keeps its size on a page. Text widths are estimated from the number of characters, on the wide
side; ``tests/test_chart_labels.py`` draws the charts in Chromium and checks that no two texts
overlap and none runs off the figure.

Caveats: text from the data (designations, country names, period labels) is escaped wherever
a builder turns it into plotly markup (tick texts, legend titles, band labels); plotly escapes
the rest when it writes the figure's JSON.
"""

from __future__ import annotations

import html
import re
import textwrap
from typing import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from takingstock.report.labels import header
from takingstock.report.style import (
    HEIGHT,
    OKABE_ITO,
    OTHER_COLOUR,
    SOURCE_BASE_MARGIN,
    SOURCE_BELOW_PX,
    TEMPLATE_NAME,
    add_source,
    country_colour,
    register_template,
    title_text,
)


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
        fig.update_layout(height=round((fig.layout.height or HEIGHT) + grow))
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
    title = title_text(fig.layout.title)
    if not title or "<br>" in title or text_width(title, TITLE_FONT_PX) <= width_px:
        return 1 if title else 0
    lines = textwrap.wrap(title, max(20, int(width_px // (LABEL_CHAR_EM * TITLE_FONT_PX))))
    top = fig.layout.margin.t if fig.layout.margin.t is not None else 80
    extra = (len(lines) - 1) * TITLE_FONT_PX * LINE_EM
    fig.update_layout(title=dict(text="<br>".join(lines), yref="container", y=1.0, yanchor="top", pad=dict(t=20)),
                      margin_t=round(top + extra), height=round((fig.layout.height or HEIGHT) + extra))
    return len(lines)


def fit_y_title(fig: go.Figure) -> int:
    """Wrap a y-axis title onto as many lines as it needs to stay inside the figure; return them.

    Plotly centres the title on the plot area, one line, turned; a title longer than the plot
    is tall plus the smaller of the top and bottom margins on each side runs off the figure.
    The height checked is the smaller of the figure's own and the static images' (560 px).
    """
    title = title_text(fig.layout.yaxis.title)
    if not title or "<br>" in title:
        return 1 if title else 0
    height = min(fig.layout.height or HEIGHT, HEIGHT)
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
    fig.update_layout(margin_t=round(top + extra), height=round((fig.layout.height or HEIGHT) + extra),
                      title=dict(yref="container", y=1.0, yanchor="top", pad=dict(t=20)))
    fit_y_title(fig)
    return len(rows)

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
    ``style.country_colour``; pass ``style.BLOC_COLOURS`` for blocs).
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


def _tick_label(label: str, width: int = 16) -> str:
    """A period label as a short multi-line tick (escaped: labels come from a data file)."""
    return "<br>".join(html.escape(part, quote=False) for part in textwrap.wrap(str(label), width) or [""])


def release_changes(table: pd.DataFrame, who: str, source: str, *, tolerance: float) -> go.Figure:
    """Bars of the change of delivered TIV (new minus old) per period, one colour per
    supplier, gains above zero and losses below
    (:func:`takingstock.analysis.release_changes.tiv_by_period_supplier`'s table).

    Suppliers whose TIV did not change by at least ``tolerance`` in any period
    (``releases.TIV_TOLERANCE``) are left out of the bars and the legend; period names are
    written on horizontal lines under each bar.
    """
    cols = [c for c in table.columns if c.startswith("tiv [")]
    old, new = (c[len("tiv ["):-1] for c in cols)
    moved = table.groupby("supplier")["change"].transform(lambda c: (c.abs() >= tolerance).any())
    data = table[moved].assign(period=table["period"].map(_tick_label))
    order = [_tick_label(p) for p in dict.fromkeys(table["period"])]
    fig = stacked_bars(data, x="period", y="change", colour="supplier", x_order=order,
                       title=f"What moved between SIPRI's releases of {old} and {new}: TIV delivered to {who}",
                       source=source, x_title="Period of delivery",
                       y_title=f"Change of TIV ({new} minus {old}), millions; not money")
    fig.update_layout(barmode="relative")  # the tick labels' layout: fit_x_labels
    return fig
