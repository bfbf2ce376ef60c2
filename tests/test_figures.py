"""Tests of the house figure machinery (takingstock.report.figures)."""

from __future__ import annotations

import json
import re

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from takingstock.report import browser, charts, figures, images, style

XSS = "<script>alert(1)</script>"
BREAKOUT = "</script><script>alert(2)</script>"


def _shares():
    return pd.DataFrame(
        {"state": ["Soviet Union", "China", "United States", "other", "unknown"],
         "count": [492, 445, 323, 300, 170],
         "share": [28.44, 25.72, 18.67, 17.34, 9.83]}
    )


def _fig(title="Shares", source="Source: test"):
    return charts.bar_shares(_shares(), label_col="state", title=title, source=source)


def test_register_template_is_idempotent():
    assert style.register_template() == style.TEMPLATE_NAME
    first = style.pio.templates[style.TEMPLATE_NAME]
    style.register_template()
    assert style.pio.templates[style.TEMPLATE_NAME] is first
    assert list(first.layout.colorway)[:2] == ["#0072B2", "#E69F00"]


def test_country_colour_is_stable_and_consistent_across_figures():
    assert style.country_colour("Soviet Union") == style.country_colour("USSR") == "#D55E00"
    assert style.country_colour(" china ") == style.country_colour("China")
    assert style.country_colour("unknown") == style.UNKNOWN_COLOUR
    assert style.country_colour("other (12 countries)") == style.OTHER_COLOUR
    # a name outside the fixed table still gets the same colour every time
    assert style.country_colour("Montenegro") == style.country_colour("montenegro")
    a = _fig()
    b = charts.stacked_bars(
        pd.DataFrame({"period": ["1970s", "1970s", "1980s"], "state": ["China", "Soviet Union", "China"],
                      "count": [3, 4, 5]}),
        x="period", y="count", colour="state", title="By period", source="s",
        x_title="Period", y_title="Items")
    colours_a = dict(zip(a.data[0].y, a.data[0].marker.color))
    colours_b = {t.name: t.marker.color for t in b.data}
    assert colours_a["China"] == colours_b["China"] == "#F0E442"
    assert colours_a["Soviet Union"] == colours_b["Soviet Union"]


def test_bar_shares_orders_largest_on_top_and_keeps_unknown():
    fig = _fig()
    labels = list(fig.data[0].y)[::-1]  # top to bottom
    assert labels == ["Soviet Union", "China", "United States", "other", "unknown"]
    assert fig.data[0].text[-1] == "28.4%"


def test_check_figure_requires_title_axes_source_and_alt():
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    with pytest.raises(style.FigureError, match="no title.*no x-axis title.*no y-axis title.*no source"):
        style.check_figure(fig)
    fig = _fig()
    style.check_figure(fig, "alt")
    with pytest.raises(style.FigureError, match="no alt text"):
        style.check_figure(fig, " ")
    fig.update_xaxes(title_text="")
    with pytest.raises(style.FigureError, match="x-axis"):
        style.check_figure(fig)


def test_save_figure_html_uses_shared_plotlyjs(tmp_path):
    out = figures.save_figure(_fig(), "t_one", alt="Alt & text", source="Source: mine",
                              figures_dir=tmp_path, static=False)
    figures.save_figure(_fig(), "t_two", alt="x", source="Source: mine", figures_dir=tmp_path, static=False)
    page = out["html"].read_text()
    assert '<script src="plotly.min.js"' in page
    assert len(page) < 200_000  # no plotly.js inside
    assert (tmp_path / "plotly.min.js").stat().st_size > 3_000_000
    assert sorted(p.name for p in tmp_path.glob("*.js")) == ["plotly.min.js"]
    assert 'aria-label="Alt &amp; text"' in page
    assert "Source: mine" in page and "<title>Shares</title>" in page


def test_escaping_in_figure_html_and_show(tmp_path, monkeypatch):
    df = _shares()
    df.loc[0, "state"] = BREAKOUT
    fig = charts.bar_shares(df, label_col="state", title=XSS, source=XSS)
    html_ = figures.figure_html(fig, alt=XSS)
    assert "<script>alert" not in html_
    assert html_.lower().count("<script") == html_.lower().count("</script") == 1
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    figures.show(fig, alt=XSS)
    bundle = shown[0]
    assert "<script>alert" not in bundle["text/html"]
    assert 'aria-label="&lt;script&gt;' in bundle["text/html"]
    assert "<figcaption" in bundle["text/html"]
    assert bundle["application/vnd.plotly.v1+json"]["data"][0]["type"] == "bar"
    json.dumps(bundle["application/vnd.plotly.v1+json"])  # serialisable for the notebook
    page = figures.save_figure(fig, "xss", alt=XSS, source=XSS, figures_dir=tmp_path, static=False)["html"]
    assert "<script>alert" not in page.read_text()


def test_unsafe_json_is_refused():
    with pytest.raises(style.FigureError):
        figures._safe_json_html('<div><script>var a="</script><script>x</script>";</script></div>')


def test_no_browser_skips_static_with_one_notice(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(browser, "find_browser", lambda: None)
    monkeypatch.setattr(browser, "_session", None)
    monkeypatch.setattr(images, "_static_disabled", False)
    monkeypatch.setattr(images, "_notice_given", False)
    a = figures.save_figure(_fig(), "nb1", alt="a", source="s", figures_dir=tmp_path)
    b = figures.save_figure(_fig(), "nb2", alt="a", source="s", figures_dir=tmp_path)
    assert set(a) == set(b) == {"html", "json"}  # no svg/png without a browser
    err = capsys.readouterr().err
    assert err.count("no Chrome/Chromium found") == 1


@pytest.mark.slow
def test_svg_and_png_export_with_chromium(tmp_path, monkeypatch):
    if browser.find_browser() is None:
        pytest.skip("no Chromium installed")
    monkeypatch.setattr(images, "_static_disabled", False)
    out = figures.save_figure(_fig(title="CAR 2014 shares"), "static", alt="a", source="Source: CAR",
                              figures_dir=tmp_path)
    assert set(out) == {"html", "json", "svg", "png"}
    svg = out["svg"].read_text()
    assert svg.startswith("<svg") and "CAR 2014 shares" in svg and "Source: CAR" in svg
    assert _png_pixels(out["png"].read_bytes())[:2] == (style.WIDTH, style.HEIGHT)
    assert not list(tmp_path.glob(".*tmp*"))


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG: ``(width, height, rows)`` (stdlib only)."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + chunk) == struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 4 if colour == 6 else 3
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pred = {0: 0, 1: a, 2: b, 3: (a + b) // 2,
                    4: a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c}[kind]
            line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


@pytest.mark.slow
def test_images_are_the_figures_stock_kaleido_draws(tmp_path, monkeypatch):
    """Each image is a valid PNG or SVG of the house size, and the same drawing plotly's own
    public export (``plotly.io.write_image``, stock kaleido) makes of the figure: PNG pixels
    differ in under 0.5% of places (fonts, anti-aliasing), the SVG holds the same texts; for
    bars, a heat map and a time series with bands, drawn in one batch."""
    if browser.find_browser() is None:
        pytest.skip("no Chromium installed")
    monkeypatch.setattr(images, "_static_disabled", False)
    m = pd.DataFrame({"China": [1, 2], "Soviet Union": [3, 0]}, index=["rifle", "pistol"])
    figs = [_fig(title="bars"),
            charts.heatmap(m, title="matrix", source="s", x_title="Country", y_title="Category"),
            charts.time_series(pd.DataFrame({"year": [1980, 1981, 1982], "tiv": [1.0, 2.0, 0.5]}), x="year",
                               y="tiv", title="series", source="s", x_title="Year", y_title="TIV",
                               bands=[(1980, 1981, "Iran-Iraq war")])]
    paths = [tmp_path / f"{i}.{kind}" for i in range(len(figs)) for kind in ("svg", "png")]
    assert images.export_static([c for c in figs for _ in (0, 1)], paths) == paths
    for i, fig in enumerate(figs):
        stock = tmp_path / f"stock{i}.png"
        pio.write_image(fig, stock, format="png", width=style.WIDTH, height=style.HEIGHT)
        w, h, ours = _png_pixels((tmp_path / f"{i}.png").read_bytes())
        assert (w, h) == (style.WIDTH, style.HEIGHT)
        _, _, theirs = _png_pixels(stock.read_bytes())
        differ = sum(a != b for row, other in zip(ours, theirs) for a, b in zip(row, other))
        assert differ < 0.005 * w * h * 4, (i, differ)
        svg = (tmp_path / f"{i}.svg").read_text(encoding="utf-8")
        assert svg.startswith("<svg") and f'width="{w}" height="{h}"' in svg
        texts = set(re.findall(r">([^<>]+)</text>", svg))
        stock_svg = pio.to_image(fig, format="svg", width=w, height=h).decode("utf-8")
        assert texts == set(re.findall(r">([^<>]+)</text>", stock_svg)) and fig.layout.title.text in texts


def test_heatmap_and_time_series_have_titles():
    m = pd.DataFrame({"China": [1, 2], "Soviet Union": [3, 0]}, index=["rifle", "pistol"])
    h = charts.heatmap(m, title="Matrix", source="s", x_title="Country", y_title="Category")
    style.check_figure(h, "alt")
    assert list(h.data[0].x) == ["China", "Soviet Union"]
    ts = charts.time_series(pd.DataFrame({"year": [1980, 1981], "tiv": [1.0, 2.0]}), x="year", y="tiv",
                            title="TS", source="s", x_title="Year", y_title="TIV",
                            bands=[(1980, 1988, "Iran-Iraq war")])
    style.check_figure(ts, "alt")
    assert style.source_of(ts) == "s"


def test_long_source_line_wraps_and_makes_room_below_the_plot():
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    long_source = "Source: " + "; ".join(f"outlet-{i}.example (coverage of the report)" for i in range(8))
    style.add_source(fig, long_source)
    ann = [a for a in fig.layout.annotations if a.name == style.SOURCE_ANNOTATION_NAME][0]
    lines = ann.text.split("<br>")
    assert len(lines) == 4  # 8 x ~43 characters at 110 per line
    assert all(len(line) <= style.SOURCE_LINE_WIDTH for line in lines)
    assert fig.layout.margin.b == style.SOURCE_BASE_MARGIN + 3 * style.SOURCE_LINE_PX
    assert style.source_of(fig) == long_source


def test_deferred_static_export_is_drawn_later_in_one_batch(tmp_path, monkeypatch):
    """Under pipeline.py notebooks write HTML + spec; the figures step draws SVG and PNG."""
    if browser.find_browser() is None:
        pytest.skip("no Chromium installed")
    monkeypatch.setattr(images, "_static_disabled", False)
    for name in ("first", "second"):
        out = figures.save_figure(_fig(title=f"{name} chart"), name, alt="a", source="Source: CAR",
                                  figures_dir=tmp_path, static=False)
        assert set(out) == {"html", "json"}
    assert [image.name for _, image in images.pending_static(tmp_path)] == [
        "first.svg", "first.png", "second.svg", "second.png"]
    written = images.export_pending(tmp_path)
    assert sorted(p.name for p in written) == ["first.png", "first.svg", "second.png", "second.svg"]
    assert "second chart" in (tmp_path / "second.svg").read_text()
    assert images.pending_static(tmp_path) == []  # nothing left: a rerun draws nothing


def test_page_embeds_figure_html(tmp_path):
    fig = _fig()
    page = figures.save_figure(fig, "embed", alt="Alt & text", figures_dir=tmp_path, static=False)["html"]
    text = page.read_text()
    # the markup of figure_html (plotly's div id differs per call, so compare around it)
    shared = re.sub(r'id="[^"]+"|"[0-9a-f-]{36}"', "ID", figures.figure_html(fig, "Alt & text"))
    assert shared in re.sub(r'id="[^"]+"|"[0-9a-f-]{36}"', "ID", text)
    assert '<figure class="ts-figure" role="figure" aria-label="Alt &amp; text"' in text
    assert text.count("<figure") == text.count("<figcaption") == 1
    assert "Source: test" in text  # save_figure without source= keeps the builder's line


def test_save_figure_refuses_a_figure_without_any_source(tmp_path):
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    fig.update_layout(title_text="T")
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="y")
    with pytest.raises(style.FigureError, match="no source"):
        figures.save_figure(fig, "nosrc", alt="a", figures_dir=tmp_path, static=False)


def test_plotlyjs_generated_once_per_folder_and_stale_copy_replaced(tmp_path, monkeypatch):
    import plotly.offline

    real = plotly.offline.get_plotlyjs
    calls = []
    monkeypatch.setattr(plotly.offline, "get_plotlyjs", lambda: calls.append(1) or real())
    monkeypatch.setattr(figures, "_plotlyjs_checked", set())
    js = real().encode("utf-8")
    stale = tmp_path / "plotly.min.js"
    stale.write_bytes(b"x" * len(js))  # same size, other content: must be replaced
    for i in range(3):
        figures.save_figure(_fig(), f"f{i}", alt="a", source="s", figures_dir=tmp_path, static=False)
    assert len(calls) == 1
    assert stale.read_bytes() == js
    other = tmp_path / "other"
    figures.ensure_plotlyjs(other)
    assert len(calls) == 2 and (other / "plotly.min.js").read_bytes() == js
