"""takingstock.publish.pdf_edition without a browser: the print document, and the skip without Chromium.

The PDF itself is printed and checked with poppler in tests/test_briefings_browser.py (slow)."""

from __future__ import annotations

import pytest

import briefings_helpers as bh
from takingstock.publish import pdf_edition, sanitise
from takingstock.report import charts, figures


FOOTER = '<footer class="colophon"><h2>Sources, credit and licence</h2></footer>'


def _figure_page(folder, *, name="02_x_shares", alt="Bar chart <of> shares"):
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    charts.finish(fig, title="Shares", x_title="x", y_title="y", source="Source: invented")
    fig.layout.meta = {"alt": alt, "name": name}
    body = sanitise.sanitize_output_html(figures.figure_html(fig, alt))
    page = folder / "02_x.html"
    page.write_text(f"<!DOCTYPE html><html><head><style>p {{}}</style><script src='plotly.min.js'>"
                    f"</script></head><body><h1>Page two</h1>{body}{FOOTER}</body></html>",
                    encoding="utf-8")
    return page


def test_figures_become_their_static_svg_and_scripts_go(tmp_path):
    (tmp_path / "downloads" / "figures").mkdir(parents=True)
    (tmp_path / "downloads" / "figures" / "02_x_shares.svg").write_text("<svg/>", encoding="utf-8")
    index = tmp_path / "index.html"
    index.write_text(f"<html><body><h1>Index</h1>{FOOTER}</body></html>", encoding="utf-8")
    page = _figure_page(tmp_path)
    doc = pdf_edition.print_html([index, page], built_at="2026-11-27T12:00:00+00:00", git_commit="abc")
    assert "<script" not in doc and "plotly-graph-div" not in doc
    assert ('<img alt="Bar chart &lt;of&gt; shares" class="ts-static-figure" '
            'src="downloads/figures/02_x_shares.svg"/>') in doc
    assert doc.index("<h1>Index</h1>") < doc.index("<h1>Page two</h1>")
    assert doc.count('<section class="print-part"') == 3  # index, page, the colophon once
    assert doc.count('<footer class="colophon">') == 1
    assert doc.index("<h1>Page two</h1>") < doc.index('<footer class="colophon">')
    assert "Built 2026-11-27T12:00:00+00:00, code abc" in doc and "<style>p {}</style>" in doc


def test_figure_without_svg_prints_its_alt_text(tmp_path):
    page = _figure_page(tmp_path, alt=f"Chart of {bh.XSS}")
    doc = pdf_edition.print_html([page], built_at="t", git_commit="c")
    assert "Figure (no static image was drawn):</em> Chart of &lt;script&gt;alert(1)" in doc
    assert bh.XSS not in doc


def test_no_chromium_skips_with_one_notice(tmp_path, monkeypatch, capsys):
    page = tmp_path / "index.html"
    page.write_text("<html><body><h1>Index</h1></body></html>", encoding="utf-8")
    monkeypatch.setattr(pdf_edition, "find_chromium", lambda: None)
    monkeypatch.setattr(pdf_edition, "_notice_given", False)
    assert pdf_edition.write_pdf_edition([page], tmp_path / "x.pdf", built_at="t", git_commit="c") is None
    assert pdf_edition.write_pdf_edition([page], tmp_path / "x.pdf", built_at="t", git_commit="c") is None
    err = capsys.readouterr().err
    assert err.count("the PDF edition is skipped") == 1
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / ".print-edition.html").exists()


def test_page_without_body_is_named(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html>no body</html>", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.html: no <body> to print"):
        pdf_edition.print_html([page], built_at="t", git_commit="c")
