"""Chart labels never collide (issue 21): the layout rules of takingstock.report.figures, then the
charts drawn in headless Chromium with every text's box measured (tests/chart_text.py).

The charts are built the way the notebooks build them: the year charts with the historical
period bands of data/raw/periods.csv (the Iran-Iraq war and the UN embargo are two years
apart), the category-by-country heat map of page 02 with its long country names, and the
stacked bars by period with a legend. Each old layout is rebuilt here too (the band labels
plotly puts inside the bands, the source line at a fixed 75 px under any tick labels) to show
the check catches what the pages used to print.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from takingstock.report import charts, style
from takingstock.core import paths
from test_briefings_browser import browser  # noqa: F401  (the module's headless Chromium)

SOURCE = "Source: SIPRI Arms Transfers Database; calculations by taking-stock, not SIPRI."
COUNTRIES = ["Russia", "China", "United States", "Islamic State", "Iraq", "Belgium", "Germany",
             "Austria", "Croatia", "Iran", "other (2 countries)", "unknown"]
CATEGORIES = ["rifle", "guided anti-tank missile", "armoured vehicle", "artillery", "improvised",
              "machine gun", "mortar", "other", "sniper/anti-materiel rifle", "MANPADS"]
TIV_TITLE = "SIPRI trend-indicator value (TIV), millions — a volume measure, not money"


def _periods() -> pd.DataFrame:
    p = pd.read_csv(paths.RAW / "periods.csv")
    p["start_year"] = p["start"].str[:4].astype(int)
    p["end_year"] = p["end"].str[:4].astype(int)
    return p


def _bands(first: int, last: int) -> list[tuple[float, float, str]]:
    """The period bands the year charts shade (a bar centred on its year), as notebook 03 has them."""
    p = _periods()
    wanted = p[p["period_id"].isin(["iran-iraq-war", "un-embargo", "occupation"])]
    return [(max(r.start_year - 0.5, first - 0.5), min(r.end_year + 0.5, last + 0.5), r.label)
            for r in wanted.itertuples()]


def _yearly() -> pd.DataFrame:
    years = np.arange(1950, 2026)
    return pd.DataFrame({"year": years, "tiv": 1000 + 800 * np.sin(years / 7.0)})


def year_chart() -> go.Figure:
    return charts.time_series(_yearly(), x="year", y="tiv", title="Arms delivered per year (SIPRI TIV)",
                              source=SOURCE, x_title="Year of delivery", y_title=TIV_TITLE,
                              bands=_bands(1950, 2025))


def old_year_chart() -> go.Figure:
    """The layout the pages had: each band's label inside its band, top left."""
    d = _yearly()
    fig = go.Figure(go.Bar(x=d["year"].tolist(), y=d["tiv"].tolist()))
    for start, end, label in _bands(1950, 2025):
        fig.add_vrect(x0=start, x1=end, fillcolor="#999999", opacity=0.12, line_width=0,
                      annotation_text=label, annotation_position="top left", annotation_font_size=11)
    style.register_template()
    fig.update_layout(template=style.TEMPLATE_NAME, title_text="Arms delivered per year (SIPRI TIV)")
    fig.update_xaxes(title_text="Year of delivery")
    fig.update_yaxes(title_text=TIV_TITLE)
    return style.add_source(fig, SOURCE)


def _matrix() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    return pd.DataFrame(rng.integers(0, 5, (len(CATEGORIES), len(COUNTRIES))), index=CATEGORIES, columns=COUNTRIES)


def heat_map() -> go.Figure:
    return charts.heatmap(_matrix(), title="Item types by category and country of manufacture", source=SOURCE * 2,
                          x_title="Country of manufacture", y_title="Category", colorbar_title="Item types")


def old_heat_map() -> go.Figure:
    """The layout the pages had: plotly turns the names itself; the source 75 px under the plot."""
    m = _matrix()
    fig = go.Figure(go.Heatmap(z=m.to_numpy(), x=COUNTRIES, y=CATEGORIES, colorscale="Cividis",
                               text=m.to_numpy(), texttemplate="%{text:,}",
                               colorbar=dict(title=dict(text="Item types"))))
    style.register_template()
    fig.update_layout(template=style.TEMPLATE_NAME, title_text="Item types by category and country",
                      height=max(400, 30 * len(CATEGORIES) + 220))
    fig.update_yaxes(autorange="reversed", title_text="Category")
    fig.update_xaxes(title_text="Country of manufacture")
    return style.add_source(fig, SOURCE * 2)


def period_bars() -> go.Figure:
    labels = list(_periods()["label"])
    suppliers = ["Soviet Union", "France", "China", "United States", "Russia", "other", "unknown"]
    rows = [(p, s, 100.0 * (i + 1) * (j + 1)) for i, p in enumerate(labels) for j, s in enumerate(suppliers)]
    df = pd.DataFrame(rows, columns=["period", "supplier", "tiv"])
    return charts.stacked_bars(df, x="period", y="tiv", colour="supplier", x_order=labels,
                               title="Arms delivered by period and supplier (SIPRI TIV)", source=SOURCE,
                               x_title="Period of delivery", y_title=TIV_TITLE)


# --- the layout rules, without a browser -------------------------------------------------------


def test_close_period_bands_get_their_labels_on_separate_rows():
    fig = year_chart()
    labels = [a for a in fig.layout.annotations if a.name == charts.BAND_ANNOTATION_NAME]
    assert [a.text for a in labels] == ["Iran-Iraq war (1980-1988)", "UN embargo (1991-2002)",
                                        "Occupation (2003-2011)"]
    rows = {a.text: a.yshift for a in labels}
    assert rows["Iran-Iraq war (1980-1988)"] != rows["UN embargo (1991-2002)"]
    assert all(a.yref == "paper" and a.y == 1.0 and a.yanchor == "bottom" for a in labels)  # above the bars
    assert fig.layout.margin.t > 80  # room for the rows
    assert len(fig.layout.shapes) == 3


def test_band_labels_are_escaped_text():
    fig = charts.time_series(_yearly(), x="year", y="tiv", title="t", source=SOURCE, x_title="x", y_title="y",
                             bands=[(1980, 1988, "<b>war</b>")])
    assert [a.text for a in fig.layout.annotations if a.name == charts.BAND_ANNOTATION_NAME] == ["&lt;b&gt;war&lt;/b&gt;"]


def test_long_category_labels_are_wrapped_or_turned_and_the_source_moves_below_them():
    bars = period_bars()
    assert bars.layout.xaxis.tickangle == 0
    assert "Rearmament<br>(2012 to<br>the fall<br>of Mosul)" in bars.layout.xaxis.ticktext
    hm = heat_map()
    assert hm.layout.xaxis.tickangle == -45  # twelve names do not fit level
    assert list(hm.layout.xaxis.tickvals) == COUNTRIES  # the data keep their names
    source = next(a for a in hm.layout.annotations if a.name == style.SOURCE_ANNOTATION_NAME)
    longest = charts.text_width("other (2 countries)")
    assert -source.yshift >= 0.7 * longest + charts.X_TITLE_PX
    assert hm.layout.margin.b >= -source.yshift + 2 * style.SOURCE_LINE_PX


def test_many_categories_turn_upright():
    names = [f"Country number {i}" for i in range(40)]
    fig = charts.heatmap(pd.DataFrame([range(40)], columns=names, index=["rifle"]), title="t", source=SOURCE,
                         x_title="Country", y_title="Category")
    assert fig.layout.xaxis.tickangle == -90


def test_numeric_axes_and_short_labels_keep_the_old_layout():
    fig = charts.time_series(_yearly(), x="year", y="tiv", title="t", source=SOURCE, x_title="x", y_title="y")
    source = next(a for a in fig.layout.annotations if a.name == style.SOURCE_ANNOTATION_NAME)
    assert source.yshift == -style.SOURCE_BELOW_PX and fig.layout.xaxis.tickangle is None
    assert fig.layout.height is None


def test_long_titles_wrap():
    fig = charts.time_series(_yearly(), x="year", y="tiv", title="What moved between two releases " * 3,
                             source=SOURCE, x_title="x", y_title=TIV_TITLE + " " + TIV_TITLE)
    assert fig.layout.title.text.count("<br>") >= 1
    assert fig.layout.yaxis.title.text.count("<br>") >= 1


# --- drawn in Chromium ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page(browser):
    import chart_text

    tab = chart_text.open_page(browser)
    yield tab
    tab.close()


@pytest.mark.slow
@pytest.mark.parametrize("build", [year_chart, heat_map, period_bars])
def test_no_two_labels_overlap_when_drawn(page, build):
    import chart_text

    assert chart_text.problems(page, build()) == ""


@pytest.mark.slow
def test_the_check_catches_the_old_layouts(page):
    import chart_text

    old = chart_text.problems(page, old_year_chart())
    assert "annotation 'Iran-Iraq war (1980-1988)' over annotation 'UN embargo (1991-2002)'" in old
    old = chart_text.problems(page, old_heat_map())
    assert "x-title 'Country of manufacture' over annotation 'Source:" in old


@pytest.mark.slow
def test_no_chart_of_the_report_has_colliding_labels(page, built_report):
    """Every chart the default report draws, from its saved spec, at a page's size and the images'."""
    import json

    import chart_text

    specs = sorted((built_report / "figures").glob("*.json"))
    assert specs, "the report drew no chart"
    found = {s.stem: chart_text.problems(page, json.loads(s.read_text(encoding="utf-8"))) for s in specs}
    assert {k: v for k, v in found.items() if v} == {}
