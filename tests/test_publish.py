"""Briefings without a browser: no code, one plotly.js, small pages, inert XSS, index, swap.

The fast tests build briefings from fixture notebooks whose outputs are made in-process by the
same functions ``figures.show``/``tables.show`` use; one slow test executes the fixture with
papermill. All data here is invented.
"""

from __future__ import annotations

import json
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import briefings_helpers as bh
from takingstock.core import atomic
from takingstock.core.summaries import write_summary
from takingstock.publish import body, briefings, pages, sanitise, stamp

XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


class _Outline(HTMLParser):
    """Collect headings, script tags, table header cells and figure labels of a page."""

    def __init__(self):
        super().__init__()
        self.headings, self.scripts, self.th, self.figures, self.tables = [], [], 0, [], 0
        self.head_scripts, self._in_head = [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "head":
            self._in_head = True
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "script":
            self.scripts.append(attrs.get("src"))
            if self._in_head:
                self.head_scripts.append(attrs.get("src"))
        if tag == "th":
            self.th += 1
        if tag == "table":
            self.tables += 1
        if tag == "figure":
            self.figures.append(attrs.get("aria-label"))

    def handle_endtag(self, tag):
        if tag == "head":
            self._in_head = False


def outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


def _raw_dir(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "catalogue_invented.csv").write_text("record_id,designation\n1,<b>x</b>\n")
    (raw / "sources.csv").write_text(
        "source_id,title,publisher,date,url,notes\n"
        f"s1,{bh.XSS} report,Invented publisher,2015-12-08,https://example.org/a,\n"
        "s2,Offline source,Someone,,javascript:alert(1),\n"
    )
    return raw


def _write_fake(tmp_path: Path, stem: str, title: str) -> Path:
    nb = bh.fake_executed_notebook(title)
    path = tmp_path / "notebooks" / f"{stem}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _build(tmp_path: Path):
    """Three fake executed notebooks (05_claims, one SIPRI-style), summaries, build."""
    nbs = [_write_fake(tmp_path, "02_fixture", "Fixture briefing: invented deals"),
           _write_fake(tmp_path, "05_claims", "Claims ledger (fixture)"),
           _write_fake(tmp_path, "04_supply", "Supply (fixture)")]
    sipri_nb = nbformat.read(nbs[2], as_version=4)
    sipri_nb.metadata["papermill"]["parameters"]["sipri_register"] = ""
    nbformat.write(sipri_nb, nbs[2])
    summaries = tmp_path / "summaries"
    write_summary(summaries, "02_fixture", title="Fixture summary",
                  summary="Ten invented items.",
                  headlines=[{"label": "invented items", "value": 10},
                             {"label": "designation", "value": bh.XSS}],
                  parameters={"raw_dir": tmp_path})
    write_summary(summaries, "05_claims", title="Claims", summary="3 of 4 claims hold.",
                  headlines=[{"label": "claims supported", "value": "3 of 4"}])
    raw = _raw_dir(tmp_path)
    out = briefings.build_briefings(nbs, summaries_dir=summaries, briefings_dir=tmp_path / "b",
                                    raw_dir=raw, sipri_release="2026-05-18",
                                    git_commit="abc123def", built_at="2026-11-27T12:00:00+00:00")
    return tmp_path, out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One build shared by the read-only tests."""
    return _build(tmp_path_factory.mktemp("built"))


@pytest.fixture()
def fresh(tmp_path):
    """A build of its own, for tests that change the folder."""
    return _build(tmp_path)


def _pages(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.html"))}


def test_build_returns_pages_in_index_order(built):
    tmp, out = built
    assert [p.name for p in out] == ["05_claims.html", "02_fixture.html", "04_supply.html",
                                     "index.html"]
    assert all(p.is_file() for p in out)
    assert not [p for p in tmp.iterdir() if p.name.startswith(".b.")]  # no temp folders left


def test_no_code_in_any_briefing(built):
    tmp, _ = built
    for name, html in _pages(tmp / "b").items():
        assert bh.CODE_MARKER not in html, name
        assert "In&nbsp;[" not in html and "In [" not in html, name
        assert "import plotly" not in html and "tables.show(" not in html, name
        assert "input_area" not in html and "highlight" not in html, name
        assert bh.REMOVED_CELL_MARKER not in html, name
        assert bh.REMOVED_OUTPUT_MARKER not in html, name


def test_plotlyjs_once_in_folder_and_never_in_a_page(built):
    tmp, _ = built
    folder = tmp / "b"
    from plotly.offline import get_plotlyjs

    js = [p.name for p in folder.iterdir() if p.suffix == ".js"]
    assert js == ["plotly.min.js"]
    assert (folder / "plotly.min.js").stat().st_size == len(get_plotlyjs().encode())
    for name, html in _pages(folder).items():
        assert len(html.encode()) < pages.MAX_PAGE_BYTES, name
        assert "plotly.js v" not in html, name  # the library's banner is never inlined
        o = outline(html)
        srcs = [s for s in o.scripts if s]
        if name == "index.html":
            assert o.scripts == []
        else:
            assert o.head_scripts == ["plotly.min.js"] and srcs == ["plotly.min.js"], name
            assert len(o.scripts) == 1 + bh.FIGURE_COUNT, name  # the library + one per figure
        assert not re.search(r"""(src|href)=["']?(https?:)?//(?!www\.sipri\.org|example\.org)""",
                             html.replace('href="https://', 'href="X')), name


def test_xss_string_is_inert_everywhere(built):
    tmp, _ = built
    for name, html in _pages(tmp / "b").items():
        assert bh.XSS not in html, name
        assert "javascript:" not in html, name
    pages = _pages(tmp / "b")
    fixture = pages["02_fixture.html"]
    # table cell, printed line, headline: all shown as text
    assert fixture.count(XSS_ESCAPED) >= 3
    assert '"x":["\\u003cscript\\u003ealert(1)\\u003c\\/script\\u003e"' in fixture
    assert f"{XSS_ESCAPED} report" in pages["index.html"]  # from sources.csv


def test_accessible_structure(built):
    tmp, _ = built
    for name, html in _pages(tmp / "b").items():
        assert html.startswith("<!DOCTYPE html>\n<html lang=\"en\">"), name
        o = outline(html)
        assert o.headings.count(1) == 1 and o.headings[0] == 1, (name, o.headings)
        for before, after in zip(o.headings, o.headings[1:]):
            assert after <= before + 1, (name, o.headings)
        assert o.th >= 2 * o.tables, name  # every table has header cells
        if name != "index.html":
            assert o.figures == ["Bar chart: 5 invented AK-47 rifles and 3 of a second item.",
                                 "Line chart: items peak at 4 in 1985."]
    fixture = _pages(tmp / "b")["02_fixture.html"]
    # the page is titled as its summary says (the Briefing's title, naming the run's recipient);
    # the notebook's own heading when there is no summary
    assert "<h1>Fixture summary</h1>" in fixture and "<h1>Fixture briefing: invented deals</h1>" not in fixture
    assert "<h1>Supply (fixture)</h1>" in _pages(tmp / "b")["04_supply.html"]
    assert outline(fixture).headings == [1, 2, 2, 2, 2, 3, 2, 2]


def test_provenance_stamp(built):
    tmp, _ = built
    pages = _pages(tmp / "b")
    digest = atomic.sha256_file(tmp / "raw" / "catalogue_invented.csv")
    for name, html in pages.items():
        assert digest in html, name
        assert "abc123def" in html and "2026-11-27T12:00:00+00:00" in html, name
        assert "calculations by taking-stock, not SIPRI" in html, name
        assert "not money" in html and "licence" in html.lower(), name
    # the SIPRI release shows where SIPRI is used (sipri_register parameter), and on the index
    assert "2026-05-18" in pages["04_supply.html"] and "2026-05-18" in pages["index.html"]
    assert "2026-05-18" not in pages["02_fixture.html"]
    # parameters from the papermill metadata, as text, escaped; no folder of the machine
    assert '<th scope="row">Designation</th>' in pages["02_fixture.html"]  # the name in words
    assert f"<td><code>{XSS_ESCAPED}</code></td>" in pages["02_fixture.html"]
    assert "<td><code>x</code></td>" in pages["02_fixture.html"]  # output_dir "/tmp/x": its name only
    assert "/tmp/x" not in pages["02_fixture.html"]


def test_index_lists_every_page_with_headlines(built):
    tmp, _ = built
    index = _pages(tmp / "b")["index.html"]
    hrefs = re.findall(r'<h3><a href="([^"]+)">', index)
    assert hrefs == ["05_claims.html", "02_fixture.html", "04_supply.html"]
    assert '<span class="value">3 of 4</span> claims supported' in index
    assert '<span class="value">10</span> invented items' in index
    assert "Ten invented items." in index and "3 of 4 claims hold." in index
    # the index opens with the lead of the whole set: each page's first sentence, the ledger first
    lede = re.search(r'<p class="lede">(.*?)</p>', index, re.DOTALL).group(1)
    assert lede.startswith("3 of 4 claims hold. Ten invented items.") and "not money" in lede


def test_a_page_shows_only_the_declared_findings_and_opens_with_its_lead(built):
    """Stdout, stderr, warnings, return values and tracebacks never reach a page, whatever they say;
    the declared table, figures and note do, and the lead opens the page."""
    tmp, _ = built
    page = _pages(tmp / "b")["02_fixture.html"]
    for text in (*bh.UNDECLARED, "Traceback", "DELIM not in msg_list", "ValueError", bh.REMOVED_CELL_MARKER,
                 bh.REMOVED_OUTPUT_MARKER, 'class="output_stream', 'class="output_error'):
        assert text not in page, text
    assert f"{bh.NOTE}{XSS_ESCAPED}" in page and bh.TABLE_CAPTION in page
    assert page.count('class="plotly-graph-div"') == bh.FIGURE_COUNT
    masthead = page[page.index("<header"):page.index("</header>")]
    assert '<p class="lede">Ten invented items.</p>' in masthead


def test_a_page_leads_with_every_sentence_of_its_lead(tmp_path):
    nb = _write_fake(tmp_path, "03_lead", "Lead (fixture)")
    write_summary(tmp_path / "summaries", "03_lead", title="Lead: Yemen", summary="One.",
                  lead=["One.", "Two <b>bold</b>.", "Three."], headlines=[])
    briefings.build_briefings([nb], summaries_dir=tmp_path / "summaries", briefings_dir=tmp_path / "b",
                              raw_dir=_raw_dir(tmp_path), git_commit="x")
    page = (tmp_path / "b" / "03_lead.html").read_text()
    assert '<p class="lede">One. Two &lt;b&gt;bold&lt;/b&gt;. Three.</p>' in page
    assert "<h1>Lead: Yemen</h1>" in page and "<title>Lead: Yemen | taking-stock briefing</title>" in page


def test_a_run_for_another_recipient_keeps_the_pages_of_the_others(tmp_path):
    """Pages of an earlier run for another recipient (their executed notebooks and summaries
    beside this run's) stay in the briefings and the index; unrelated notebooks do not join."""
    summaries = tmp_path / "summaries"
    iraq = _write_fake(tmp_path, "04_supply_chains", "Supply")
    yemen = _write_fake(tmp_path, "04_supply_chains__yemen", "Supply")
    stray = _write_fake(tmp_path, "09_unrelated", "Unrelated")
    for stem, title in (("04_supply_chains", "Supply chains: Iraq"), ("04_supply_chains__yemen", "Supply chains: Yemen"),
                        ("09_unrelated", "Unrelated")):
        write_summary(summaries, stem, title=title, summary=f"{title}.", headlines=[])
    raw = _raw_dir(tmp_path)
    written = briefings.build_briefings([yemen], summaries_dir=summaries, briefings_dir=tmp_path / "b",
                                        raw_dir=raw, git_commit="x")
    assert [p.name for p in written] == ["04_supply_chains.html", "04_supply_chains__yemen.html", "index.html"]
    index = (tmp_path / "b" / "index.html").read_text()
    assert "Supply chains: Iraq" in index and "Supply chains: Yemen" in index and "Unrelated" not in index
    assert iraq.exists() and stray.exists()
    # the index's lead says a sentence two runs share once
    lede = re.search(r'<p class="lede">(.*?)</p>', index, re.DOTALL).group(1)
    assert lede.count("Supply chains: Iraq.") == 1 and lede.count("Supply chains: Yemen.") == 1
    only = briefings.build_briefings([yemen], summaries_dir=summaries, briefings_dir=tmp_path / "c",
                                     raw_dir=raw, git_commit="x", keep_other_runs=False)
    assert [p.name for p in only] == ["04_supply_chains__yemen.html", "index.html"]


def test_failed_render_keeps_old_briefings(fresh):
    tmp, _ = fresh
    before = _pages(tmp / "b")
    broken = tmp / "notebooks" / "03_broken.ipynb"
    broken.write_text("{ not json")
    nbs = sorted((tmp / "notebooks").glob("*.ipynb"))
    with pytest.raises(pages.BriefingError, match="03_broken.ipynb"):
        briefings.build_briefings(nbs, summaries_dir=tmp / "summaries", briefings_dir=tmp / "b",
                                  raw_dir=tmp / "raw", git_commit="new")
    assert _pages(tmp / "b") == before
    assert (tmp / "b" / "plotly.min.js").is_file()
    assert not [p for p in tmp.iterdir() if p.name.startswith(".b.")]


def test_rebuild_replaces_folder(fresh):
    tmp, _ = fresh
    (tmp / "b" / "stale.html").write_text("old")
    nbs = [tmp / "notebooks" / "02_fixture.ipynb"]
    out = briefings.build_briefings(nbs, summaries_dir=tmp / "summaries", briefings_dir=tmp / "b",
                                    raw_dir=tmp / "raw", git_commit="new")
    assert sorted(p.name for p in (tmp / "b").iterdir()) == [
        "02_fixture.html", "index.html", "plotly.min.js"]
    assert [p.name for p in out] == ["02_fixture.html", "index.html"]


# ----------------------------------------------------------------------------- sanitiser

def _plotly_div(label: str = "AK-47") -> str:
    fig = go.Figure(go.Bar(x=[label], y=[1]))
    return pio.to_html(fig, include_plotlyjs=False, full_html=False)


def test_sanitiser_keeps_plotly_and_rebuilds_its_script():
    out = sanitise.sanitize_output_html(_plotly_div(bh.XSS))
    assert out.count("<script>") == 1 and "Plotly.newPlot(" in out
    assert "window.PLOTLYENV" not in out  # our own script, not plotly's text
    assert bh.XSS not in out


def test_sanitiser_escapes_foreign_scripts_and_handlers():
    with pytest.warns(sanitise.UnsafeOutputWarning):
        out = sanitise.sanitize_output_html(f"<p>x</p>{bh.XSS}")
    assert XSS_ESCAPED in out and "<script" not in out
    out = sanitise.sanitize_output_html('<img src="x" onerror="alert(1)"><a href="javascript:alert(1)">l</a>')
    assert "onerror" not in out and "javascript:" not in out


def test_sanitiser_rejects_a_plotly_call_with_extra_code():
    div = _plotly_div().replace("Plotly.newPlot(", "alert(1);Plotly.newPlot(", 1)
    with pytest.warns(sanitise.UnsafeOutputWarning):
        out = sanitise.sanitize_output_html(div)
    assert "<script" not in out
    div = _plotly_div()
    tail = div.replace(")                };", "); alert(1)                };")
    assert tail != div  # the same div, so the replacement really happened
    with pytest.raises(sanitise.UnsafeOutputError):
        sanitise.parse_plotly_script(re.search(r"<script>(.*)</script>", tail, re.S).group(1))


def test_sanitiser_drops_inlined_plotlyjs():
    from plotly.offline import get_plotlyjs

    big = f'<script type="text/javascript">{get_plotlyjs()}</script>'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sanitise.sanitize_output_html(big + "<p>ok</p>") == "<p>ok</p>"


def test_headings_first_h1_becomes_title_others_demoted():
    src = "# Title\n\n```\n# not a heading\n```\n## Finding\n# Second"
    out, dropped = body.demote_headings(src, drop_first_h1=True)
    assert dropped
    assert out == "\n```\n# not a heading\n```\n## Finding\n## Second"


def test_write_summary_rejects_bad_headlines(tmp_path):
    with pytest.raises(ValueError, match="headline 1"):
        write_summary(tmp_path, "02_x", title="t", summary="s",
                      headlines=[{"label": "a", "value": 1}, {"label": "b"}])
    with pytest.raises(ValueError, match="'summary' is empty"):
        write_summary(tmp_path, "02_x", title="t", summary=" ", headlines=[])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_executed_fixture_has_no_code_and_inert_xss(tmp_path):
    """The fixture executed for real by papermill gives the same guarantees."""
    nb = bh.execute_fixture(tmp_path, "02_fixture")
    briefings.build_briefings([nb], summaries_dir=tmp_path / "summaries",
                              briefings_dir=tmp_path / "b", raw_dir=_raw_dir(tmp_path),
                              git_commit="x")
    html = (tmp_path / "b" / "02_fixture.html").read_text()
    assert bh.CODE_MARKER not in html and bh.XSS not in html
    assert bh.REMOVED_CELL_MARKER not in html and bh.REMOVED_OUTPUT_MARKER not in html
    assert html.count(XSS_ESCAPED) >= 3
    assert html.count('class="plotly-graph-div"') == bh.FIGURE_COUNT
    for text in (*bh.UNDECLARED, "Traceback", "UserWarning"):
        assert text not in html, text
    assert f"{bh.NOTE}{XSS_ESCAPED}" in html
    assert len(html.encode()) < pages.MAX_PAGE_BYTES
    summary = json.loads((tmp_path / "summaries" / "02_fixture.json").read_text())
    assert summary["headlines"][0] == {"label": "invented items", "value": "10"}


def test_tables_sit_in_focusable_scroll_regions():
    html = sanitise.sanitize_output_html(
        '<table><caption>Items "by" &lt;country&gt;</caption><tr><th>a</th></tr></table>')
    from bs4 import BeautifulSoup

    (box,) = BeautifulSoup(html, "html.parser").contents
    assert (box.name, box.attrs) == ("div", {"class": ["table-scroll"], "role": "region", "tabindex": "0",
                                             "aria-label": 'Items "by" <country>'})
    assert [c.name for c in box.contents] == ["table"] and html.endswith("</table></div>")


def test_title_inline_markdown_is_rendered_and_escaped():
    html, plain = pages.title_markup("The ledger of *Taking Stock* & `<b>` snake_case_name")
    assert str(html) == ("The ledger of <em>Taking Stock</em> &amp; <code>&lt;b&gt;</code> "
                         "snake_case_name")
    assert plain == "The ledger of Taking Stock & <b> snake_case_name"
    html, _ = pages.title_markup(bh.XSS)
    assert str(html) == XSS_ESCAPED


def test_what_a_notebook_imports_loads_no_publisher():
    """A notebook kernel imports the report layer (Briefing, charts, the summaries): neither
    nbconvert nor any module of ``takingstock.publish`` may come with it."""
    import subprocess
    import sys

    probe = ("import sys\nimport takingstock.report.findings, takingstock.report.charts, takingstock.core.summaries\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'nbconvert' or m.startswith('takingstock.publish')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60, check=True, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "[]"
    assert issubclass(body.BriefingPreprocessor, __import__("nbconvert").preprocessors.Preprocessor)


def _git(root, *args):
    import subprocess

    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   cwd=root, check=True, capture_output=True)


def test_code_version_says_dirty_when_tracked_files_changed(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "add", "code.py")
    _git(tmp_path, "commit", "-q", "-m", "one")
    clean = stamp.current_git_commit(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{40}", clean)
    (tmp_path / "new.txt").write_text("untracked\n")
    assert stamp.current_git_commit(tmp_path) == clean
    (tmp_path / "code.py").write_text("x = 2\n")
    assert stamp.current_git_commit(tmp_path) == clean + "+dirty"
    assert stamp.current_git_commit(tmp_path / "no-such-folder") == "unknown"


def test_raw_data_versions_lists_committed_files_and_sipri_exports(tmp_path):
    raw = tmp_path / "raw"
    (raw / "sipri").mkdir(parents=True)
    (raw / "a.csv").write_text("id\n1\n")
    (raw / "a.csv.meta.yml").write_text("title: A\n")
    (raw / "README.md").write_text("docs\n")
    (raw / "sipri" / "trade-register-2026-05-18.csv").write_text("x\n")
    (raw / "sipri" / "notes.txt").write_text("not an export\n")
    assert stamp.data_versions_rows(raw) == [
        ("a.csv", atomic.sha256_file(raw / "a.csv")),
        ("sipri/trade-register-2026-05-18.csv",
         atomic.sha256_file(raw / "sipri" / "trade-register-2026-05-18.csv")),
    ]
    assert stamp.data_versions_rows(tmp_path / "missing") == []


# --- downloads -------------------------------------------------------------------------------


def _build_with_downloads(tmp_path: Path, *, svg: bool = True):
    """The fake notebook as 02_fixture, its table and first figure saved (second figure not)."""
    nb = _write_fake(tmp_path, "02_fixture", "Fixture briefing: invented deals")
    tdir, fdir = tmp_path / "tables", tmp_path / "figures"
    tdir.mkdir()
    fdir.mkdir()
    (tdir / "fixture_items.csv").write_text("designation,items\nPKM,7\n", encoding="utf-8")
    (tdir / "fixture_items.md").write_text("**Invented items**\n", encoding="utf-8")
    (tdir / "stale_old_run.csv").write_text("a\n1\n", encoding="utf-8")  # recorded by no summary
    if svg:
        (fdir / "fixture_designations.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (fdir / "fixture_designations.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    write_summary(
        tmp_path / "summaries", "02_fixture", title="Fixture", summary="Ten invented items.",
        headlines=[], outputs={
            "tables": [{"name": "fixture_items", "caption": f"Items {bh.XSS}", "source": "Source: invented"}],
            "figures": [{"name": "fixture_designations", "alt": bh.FIGURE_ALT, "source": "Source: invented"}]})
    briefings.build_briefings([nb], summaries_dir=tmp_path / "summaries", briefings_dir=tmp_path / "b",
                              raw_dir=_raw_dir(tmp_path), git_commit="x", tables_dir=tdir,
                              figures_dir=fdir)
    return tmp_path / "b"


def test_each_saved_table_and_figure_links_its_downloads(tmp_path):
    folder = _build_with_downloads(tmp_path)
    html = (folder / "02_fixture.html").read_text(encoding="utf-8")
    inline = re.findall(r'<p class="downloads">(.*?)</p>', html)
    assert inline == [
        'Download this figure: <a href="downloads/figures/fixture_designations.svg">SVG</a> · '
        '<a href="downloads/figures/fixture_designations.png">PNG</a>',
        'Download this table: <a href="downloads/tables/fixture_items.csv">CSV</a> · '
        '<a href="downloads/tables/fixture_items.md">Markdown</a>',
    ]  # the second figure was only shown, never saved: no links
    assert html.count('class="plotly-graph-div"') == bh.FIGURE_COUNT
    section = html[html.index('id="downloads-heading"'):html.index("</section>", html.index('id="downloads-heading"'))]
    assert "Items &lt;script&gt;alert(1)&lt;/script&gt;:" in section and bh.XSS not in section
    assert 'href="downloads/tables/datapackage.json"' in section
    files = sorted(str(p.relative_to(folder)) for p in (folder / "downloads").rglob("*") if p.is_file())
    assert files == ["downloads/figures/fixture_designations.png", "downloads/figures/fixture_designations.svg",
                     "downloads/tables/datapackage.json", "downloads/tables/fixture_items.csv",
                     "downloads/tables/fixture_items.md"]
    pkg = json.loads((folder / "downloads/tables/datapackage.json").read_text(encoding="utf-8"))
    assert [r["path"] for r in pkg["resources"]] == ["fixture_items.csv"]
    # every relative link of every page is a file of the folder
    for page in folder.glob("*.html"):
        for href in re.findall(r'href="([^"#:]+)"', page.read_text(encoding="utf-8")):
            assert (folder / href).is_file(), f"{page.name}: {href}"


def test_figure_without_static_image_offers_only_what_exists(tmp_path):
    folder = _build_with_downloads(tmp_path, svg=False)
    html = (folder / "02_fixture.html").read_text(encoding="utf-8")
    assert 'Download this figure: <a href="downloads/figures/fixture_designations.png">PNG</a></p>' in html
    assert "fixture_designations.svg" not in html


def test_summary_lists_what_the_process_saved(tmp_path):
    from takingstock.core import summaries
    from takingstock.report import tables

    summaries.forget_outputs()
    tables.save_table(pd.DataFrame({"a": [1]}), "02_x_first", tables_dir=tmp_path, caption="First",
                      source="Source: invented")
    tables.save_table(pd.DataFrame({"a": [2]}), "02_x_second", tables_dir=tmp_path, caption="Second")
    path = write_summary(tmp_path / "s", "02_x", title="t", summary="s", headlines=[])
    summaries.forget_outputs()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["tables"] == [{"name": "02_x_first", "caption": "First", "source": "Source: invented"},
                              {"name": "02_x_second", "caption": "Second", "source": None}]
    assert data["figures"] == []
    # the source line is escaped like every text cell (a ':' or '[' of data never becomes markup)
    assert (tmp_path / "02_x_first.md").read_text(encoding="utf-8").endswith("\nSource\\: invented\n")
    # a shown table equal to a saved one carries its name (the briefing links it)
    assert 'data-table="02_x_second"' in tables.to_html(pd.DataFrame({"a": [2]}), "c",
                                                        tables.saved_name(pd.DataFrame({"a": [2]})))


def test_pdf_without_chromium_is_skipped_and_not_linked(tmp_path, monkeypatch):
    from takingstock.publish import pdf_edition

    monkeypatch.setattr(pdf_edition, "find_chromium", lambda: None)
    nb = _write_fake(tmp_path, "02_fixture", "Fixture briefing: invented deals")
    briefings.build_briefings([nb], summaries_dir=tmp_path / "s", briefings_dir=tmp_path / "b",
                              raw_dir=_raw_dir(tmp_path), git_commit="x", pdf=True)
    assert not (tmp_path / "b" / pdf_edition.PDF_NAME).exists()
    assert pdf_edition.PDF_NAME not in (tmp_path / "b" / "index.html").read_text(encoding="utf-8")


def test_the_set_lead_takes_each_pages_first_sentence_once_and_ends_with_the_caveat():
    entries = [{"stem": "05_claims", "lead": ["Of 49 claims, 8 reproduced.", "More."]},
               {"stem": "01_clean_catalogue", "lead": ["68 of 68 rows are clean."]},
               {"stem": "03_eras", "lead": ["The year is unknown for 87.5%.", "Iraq."]},
               {"stem": "03_eras__yemen", "lead": ["The year is unknown for 87.5%.", "Yemen."]},
               {"stem": "04_supply_chains", "lead": ["480 deals to Iraq."]},
               {"stem": "06_release_changes", "lead": ["Releases compared."]},
               {"stem": "07_more", "lead": ["Not said: four sentences are the most."]}]
    said = briefings.set_lead(entries)
    assert said[:4] == ["Of 49 claims, 8 reproduced.", "The year is unknown for 87.5%.", "480 deals to Iraq.",
                        "Releases compared."]
    assert len(said) == 5 and "not money" in said[-1]
