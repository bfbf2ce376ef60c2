"""Tests of takingstock.report.tables: CSV + Markdown output, HTML display, escaping, formatting."""

from __future__ import annotations

import pandas as pd
import pytest

from takingstock.report import tables

XSS = "<script>alert(1)</script>"


def _df():
    return pd.DataFrame(
        {"state": ["Soviet Union", "China", XSS, "A|B"],
         "count": pd.array([492, 445, 323, 1], dtype="Int64"),
         "share": [492 / 1730 * 100, 445 / 1730 * 100, 323 / 1730 * 100, 1 / 1730 * 100],
         "share_published": [28.4, None, 18.7, None]}
    )


def test_formatting_of_shares_and_counts():
    assert tables.format_share(492 / 1730 * 100) == "28.4%"
    assert tables.format_count(1730) == "1,730"
    shown = tables.format_frame(_df())
    assert shown.loc[0, "share"] == "28.4%" and shown.loc[1, "share"] == "25.7%"
    assert shown.loc[1, "share_published"] == "\u2013"  # missing: an en dash, never "nan"
    assert shown.loc[0, "count"] == "492"
    assert tables.is_share_column("unknown_share") and not tables.is_share_column("shares_count")


def test_save_table_writes_csv_and_escaped_markdown(tmp_path):
    out = tables.save_table(_df(), "02_test", tables_dir=tmp_path, caption="Cartridges | by <country>")
    back = pd.read_csv(out["csv"])
    assert back["count"].sum() == 1261
    assert back.loc[2, "state"] == XSS  # CSV keeps the data as is
    md = out["md"].read_text()
    assert md.splitlines()[0] == "**Cartridges \\| by &lt;country&gt;**"
    assert "| A\\|B |" in md
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in md and "<script>" not in md
    assert "| Soviet Union | 492 | 28.4% | 28.4% |" in md
    assert not list(tmp_path.glob(".*"))


def test_save_table_refuses_empty_caption(tmp_path):
    with pytest.raises(tables.TableError):
        tables.save_table(_df(), "x", tables_dir=tmp_path, caption=" ")


def test_show_escapes_every_cell_and_header(monkeypatch):
    df = _df().rename(columns={"state": "<b>state</b>"})
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    tables.show(df, caption=XSS)
    html_ = shown[0]._repr_html_()
    assert "<script>" not in html_ and "<b>" not in html_
    assert "<caption>&lt;script&gt;alert(1)&lt;/script&gt;</caption>" in html_
    assert html_.count('<th scope="col">') == 4
    assert "&lt;b&gt;state&lt;/b&gt;" in html_
    assert "28.4%" in html_ and "<td style=\"text-align:right\">\u2013</td>" in html_


def test_show_caps_long_tables_and_says_so():
    from takingstock.report.tables import shown_part

    big = pd.DataFrame({"state": [f"s{i}" for i in range(250)], "count": range(250)})
    part, caption = shown_part(big, "Items by state", max_rows=100)
    assert len(part) == 100 and part["count"].iloc[-1] == 99
    assert caption == "Items by state (first 100 of 250 rows; all rows in the table's CSV file)"
    small, same = shown_part(big.head(5), "Items by state", max_rows=100)
    assert len(small) == 5 and same == "Items by state"


def test_years_print_without_thousands_separators():
    df = pd.DataFrame({"year": pd.array([1952, None], dtype="Int64"), "order_year": [1987, 2001],
                       "year_from": [1980.0, None], "year_to": [1988, 2014], "year_mid": [1984.0, 2007.5],
                       "count": [1952, 12000]})
    shown = tables.format_frame(df)
    assert list(shown["year"]) == ["1952", "\u2013"]
    assert list(shown["order_year"]) == ["1987", "2001"]
    assert list(shown["year_from"]) == ["1980", "\u2013"]
    assert list(shown["year_to"]) == ["1988", "2014"]
    assert list(shown["year_mid"]) == ["1984.0", "2007.5"]  # one precision for the column
    assert list(shown["count"]) == ["1,952", "12,000"]  # counts keep their separators
    md = tables.to_markdown(df, "Years")
    assert "| 1952 | 1987 | 1980 | 1988 | 1984.0 | 1,952 |" in md and "1,987" not in md
    assert ">1952<" in tables.to_html(df, "Years")


# Text a renderer would turn into a link, an image, emphasis, code, strikethrough, math, a
# highlight, a list item, a heading or HTML if it reached Markdown unescaped.
MARKUP = ["[click](javascript:alert(1))", "**bold**", "_em_ and *em*", "`code`", "~~gone~~",
          "$x^2$", "![img](x.png)", "==mark==", "- item", "+ item", "# heading", "<b>bold</b>",
          "a | b", "back\\slash", "<https://example.org>", "1980-88 & AK-47"]


def _render(md):
    mistune = pytest.importorskip("mistune", minversion="3")  # nbconvert's Markdown renderer
    plugins = ["table", "strikethrough", "url", "math", "mark", "superscript", "subscript"]
    return mistune.create_markdown(escape=False, plugins=plugins)(md)


def test_markdown_tables_keep_markup_from_data_inert(tmp_path):
    import html
    import re
    df = pd.DataFrame({"designation": MARKUP, "count": range(len(MARKUP))})
    md = tables.save_table(df, "02_markup", tables_dir=tmp_path,
                           caption="Items named [x](javascript:alert(1)) **in bold**")["md"].read_text()
    assert "\\[click\\]\\(javascript\\:alert\\(1\\)\\)" in md and "\\*\\*bold\\*\\*" in md
    rendered = _render(md)
    tags = set(re.findall(r"</?([a-z0-9]+)", rendered))
    assert tags <= {"p", "strong", "table", "thead", "tbody", "tr", "th", "td"}, tags
    assert rendered.count("<strong>") == 1  # the caption line's own bold, nothing from data
    cells = [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", rendered)]
    assert cells == MARKUP  # every text shows exactly as written, one cell each
    caption = html.unescape(re.search(r"<strong>(.*?)</strong>", rendered).group(1))
    assert caption == "Items named [x](javascript:alert(1)) **in bold**"


def test_markdown_escaping_leaves_ordinary_text_readable():
    assert tables.md_text("28.4%") == "28.4%"
    assert tables.md_text("1980-88, AK-47") == "1980-88, AK-47"
    assert tables.md_text("-5") == "\\-5" and tables.md_text("+5") == "\\+5"
    assert tables.md_text("line one\nline two") == "line one line two"


def test_markup_in_a_catalogue_reaches_markdown_tables_as_text(tmp_path):
    """From a catalogue file to a saved table: record ids that are Markdown stay text."""
    import html
    import re
    from pathlib import Path

    from takingstock.analysis import breakdowns
    from takingstock.data import cleaning
    fix = Path(__file__).parent / "fixtures" / "catalogue"
    result = cleaning.clean_catalogues(fix / "catalogue_markup.csv", sources=fix / "sources.csv")
    rep = result.report.iloc[0]
    assert (rep.raw_rows, rep.clean_rows, rep.rejected_rows) == (3, 3, 0)
    table = breakdowns.published_vs_recomputed(result.clean)
    assert list(table["share"]) == [60.0, 30.0, 10.0]
    md = tables.save_table(table, "02_markup_published_vs_recomputed", tables_dir=tmp_path,
                           caption="markup: published and recomputed shares")["md"].read_text()
    rendered = _render(md)
    assert "<a" not in rendered and rendered.count("<strong>") == 1 and "<code>" not in rendered
    cells = [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", rendered)]
    assert {"[click](javascript:alert(1))", "**bold**", "`code` <b>x</b> | y"} <= set(cells)
