"""Briefings in a real browser: headless Debian Chromium through playwright (no download).

Each page is opened from disk (file://). We assert: no console errors, no request other than
file:// (or data:), every plotly figure div draws its SVG, and axe-core (the copy shipped
inside axe-playwright-python, injected from disk, never from a CDN) reports no serious or
critical violation. A full-page screenshot of each page is written for a person to look at.
Every link of every page is followed: a relative one must resolve to a file inside the
published folder (downloads, the PDF, the other pages), and images and pages open in the
browser. The PDF edition is checked with Debian's poppler-utils: ``pdftoppm`` renders each
page to PNG, ``pdftotext`` finds the index and each briefing's title, in reading order.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import briefings_helpers as bh
from takingstock.core import atomic, paths
from takingstock.publish import briefings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (make chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def fixture_briefings(tmp_path_factory):
    """Two fixture notebooks executed with papermill, then built into briefings."""
    work = tmp_path_factory.mktemp("briefings")
    nbs = [bh.execute_fixture(work, "02_fixture"),
           bh.execute_fixture(work, "05_claims", title="Claims ledger (fixture)")]
    briefings.build_briefings(nbs, summaries_dir=work / "summaries",
                              briefings_dir=work / "briefings", raw_dir=paths.RAW,
                              sipri_release="2026-05-18", git_commit="fixture",
                              tables_dir=work / "tables", figures_dir=work / "figures", pdf=True)
    return work / "briefings"


def follow_links(browser, folder: Path) -> dict[str, list[str]]:
    """Follow every link of every page of ``folder``; return what was checked, by kind.

    Relative links must name a file inside ``folder``; SVG and PNG images and HTML pages are
    then opened in the browser (status OK, no foreign request). External links (the sources)
    are collected, not fetched: the briefings must work offline.
    """
    checked: dict[str, list[str]] = {"files": [], "opened": [], "external": []}
    context = browser.new_context()
    page = context.new_page()
    foreign = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    try:
        for page_path in sorted(folder.glob("*.html")):
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
            for url in hrefs:
                if not url.startswith("file://"):
                    checked["external"].append(url)
                    continue
                target = Path(url[len("file://"):].split("#")[0])
                assert target.is_file(), f"{page_path.name}: link {url} resolves to no file"
                assert folder.resolve() in target.resolve().parents, f"{page_path.name}: {url} leaves the folder"
                checked["files"].append(str(target.relative_to(folder.resolve())))
        for rel in sorted(set(checked["files"])):
            if rel.endswith((".svg", ".png", ".html")):
                response = page.goto((folder / rel).resolve().as_uri(), wait_until="load")
                assert response is not None and response.ok, rel
                checked["opened"].append(rel)
    finally:
        context.close()
    assert foreign == [], f"network requests {foreign}"
    return checked


def pdf_pages_text(pdf: Path, out_dir: Path) -> list[str]:
    """Render every page of ``pdf`` to PNG with pdftoppm; return each page's text (pdftotext)."""
    for tool in ("pdftoppm", "pdftotext", "pdfinfo"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found: install Debian's poppler-utils (make poppler)")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n_pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(out_dir / "page")], check=True)
    pngs = sorted(out_dir.glob("page-*.png"))
    assert len(pngs) == n_pages and all(p.stat().st_size > 1000 for p in pngs)
    return [subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
            for i in range(1, n_pages + 1)]


def part_starts(texts: list[str], titles: list[str]) -> list[int]:
    """The sheet on which each part of the PDF starts: the index, then each briefing.

    The index says "How this set of briefings was built" once; each briefing says "How this
    page was built" once, under its title. The k-th briefing starts on the sheet of the k-th
    such heading, and its title (``titles[k]``, spaces normalised) must be on that sheet.
    """
    flat = [" ".join(t.split()) for t in texts]
    starts = [next(i for i, t in enumerate(flat, 1) if "How this set of briefings was built" in t)]
    for i, text in enumerate(flat, start=1):
        starts += [i] * text.count("How this page was built")
    assert len(starts) == len(titles), (starts, titles)
    for sheet, title in zip(starts, titles):
        assert " ".join(title.split()) in flat[sheet - 1], f"{title!r} not on sheet {sheet}"
    return starts


def check_page(browser, page_path: Path, screenshot: Path) -> dict:
    """Open one page and run every check; return what was measured."""
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    # any alert() a page runs (an XSS string that escaped sanitising) is recorded, not shown
    context.add_init_script("window.__alerted = false; window.alert = () => { window.__alerted = true; };")
    page = context.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(page_path.resolve().as_uri(), wait_until="load")
        n_divs = page.locator(".plotly-graph-div").count()
        if n_divs:
            page.wait_for_function(
                "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
                arg=n_divs, timeout=15000,
            )
        drawn = page.locator(".js-plotly-plot").count()
        with_svg = page.evaluate(
            "Array.from(document.querySelectorAll('.js-plotly-plot'))"
            ".filter(d => d.querySelector('.main-svg')).length"
        )
        atomic.write_bytes(screenshot, page.screenshot(full_page=True))
        axe = Axe().run(page)
        bad = [v for v in axe.response["violations"] if v.get("impact") in ("serious", "critical")]
        h1 = page.locator("h1").count()
        lang = page.evaluate("document.documentElement.lang")
        alert_ran = page.evaluate("window.__alerted === true")
    finally:
        context.close()
    foreign = [u for u in requests if not (u.startswith("file://") or u.startswith("data:"))]
    return {"divs": n_divs, "plots": drawn, "with_svg": with_svg, "errors": errors,
            "foreign": foreign, "axe": bad, "h1": h1, "lang": lang, "alert": alert_ran}


def assert_page_ok(result: dict, name: str) -> None:
    assert result["errors"] == [], f"{name}: console errors {result['errors']}"
    assert result["foreign"] == [], f"{name}: network requests {result['foreign']}"
    assert result["plots"] == result["divs"] == result["with_svg"], f"{name}: {result}"
    assert result["h1"] == 1, name
    assert result["lang"] == "en", name
    assert result["alert"] is False, f"{name}: a script called alert()"
    summary = [(v["id"], v["impact"], v["help"]) for v in result["axe"]]
    assert summary == [], f"{name}: axe serious/critical violations {summary}"


def test_fixture_briefings_in_browser(browser, fixture_briefings, tmp_path):
    shots = tmp_path / "screenshots"
    pages = sorted(fixture_briefings.glob("*.html"))
    assert [p.name for p in pages] == ["02_fixture.html", "05_claims.html", "index.html"]
    for page_path in pages:
        result = check_page(browser, page_path, shots / f"{page_path.stem}.png")
        assert_page_ok(result, page_path.name)
        if page_path.name != "index.html":
            assert result["divs"] == bh.FIGURE_COUNT
        assert (shots / f"{page_path.stem}.png").stat().st_size > 10_000


def test_fixture_folder_works_after_copy(browser, fixture_briefings, tmp_path):
    """The folder is self-contained: copied elsewhere, its figures still draw offline."""
    copy = tmp_path / "published"
    shutil.copytree(fixture_briefings, copy)
    result = check_page(browser, copy / "02_fixture.html", tmp_path / "copy.png")
    assert_page_ok(result, "copied 02_fixture.html")
    assert result["with_svg"] == bh.FIGURE_COUNT


def test_xss_designation_does_not_run(browser, fixture_briefings):
    """The designation <script>alert(1)</script> shows as text and never runs."""
    context = browser.new_context()
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto((fixture_briefings / "02_fixture.html").as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    text = page.inner_text("main")
    context.close()
    assert dialogs == []
    assert bh.XSS in text  # shown as text (the table and the printed line)


def test_real_briefings_in_browser(browser, built_report):
    """Every real briefing from a pipeline run passes the same checks; screenshots kept."""
    folder = built_report / "briefings"
    executed = sorted(p.stem for p in (built_report / "notebooks").glob("*.ipynb"))
    if not executed:
        pytest.skip("the pipeline run left no executed notebooks in output/notebooks/")
    pages = sorted(folder.glob("*.html"))
    assert sorted(p.stem for p in pages) == sorted(executed + ["index"])
    assert len(list(folder.glob("*.js"))) == 1
    for page_path in pages:
        result = check_page(browser, page_path, paths.SCREENSHOTS / f"{page_path.stem}.png")
        assert_page_ok(result, page_path.name)


def test_every_fixture_link_resolves_in_the_folder(browser, fixture_briefings):
    checked = follow_links(browser, fixture_briefings)
    files = set(checked["files"])
    for stem in ("02_fixture", "05_claims"):
        assert {f"downloads/tables/{stem}_items.csv", f"downloads/tables/{stem}_items.md",
                f"downloads/figures/{stem}_designations.svg",
                f"downloads/figures/{stem}_designations.png"} <= files
    assert {"taking-stock.pdf", "downloads/tables/datapackage.json", "index.html"} <= files
    assert "downloads/figures/02_fixture_designations.svg" in checked["opened"]
    assert all(u.startswith("https://") for u in checked["external"])


def test_fixture_pdf_edition(fixture_briefings, tmp_path):
    pdf = fixture_briefings / "taking-stock.pdf"
    texts = pdf_pages_text(pdf, tmp_path / "pages")
    assert not (fixture_briefings / ".print-edition.html").exists()
    # index first, then the briefings in the index's order (05_claims first), each on its own page
    index, claims, fixture = part_starts(texts, [
        "Briefings: the arming of Islamic State, rebuilt from the data",
        "Claims ledger (fixture)", "Fixture briefing: invented deals"])
    assert index == 1 < claims < fixture <= len(texts)
    # the sources, credit and licence every page repeats: once, after the last briefing
    colophon = [i for i, t in enumerate(texts, 1) if "Sources, credit and licence" in t]
    assert len(colophon) == 1 and colophon[0] > fixture
    # measured with Debian's Chromium and fonts: index 1 sheet, each briefing 3 (the lead and
    # tiles, then the first figure, kept whole, on the next sheet), colophon 2
    assert (index, claims, fixture, colophon[0], len(texts)) == (1, 2, 5, 8, 9)
    assert "built 2026" in texts[0] and "code fixture" in texts[-1]  # the stamp on every sheet
    assert f"page {len(texts)} of {len(texts)}" in texts[-1]
    # figures are static images, not empty plotly boxes; no script text leaked
    assert "Plotly.newPlot" not in "".join(texts)


def test_real_briefings_links_and_pdf(browser, built_report, tmp_path):
    folder = built_report / "briefings"
    checked = follow_links(browser, folder)
    figures = {f for f in checked["files"] if f.startswith("downloads/figures/")}
    tables = {f for f in checked["files"] if f.startswith("downloads/tables/") and f.endswith(".csv")}
    assert len(tables) == len(list((folder / "downloads" / "tables").glob("*.csv")))
    assert figures == {str(p.relative_to(folder)) for p in (folder / "downloads" / "figures").iterdir()}
    pdf = folder / "taking-stock.pdf"
    texts = pdf_pages_text(pdf, tmp_path / "pages")
    pages = [folder / "index.html"] + [folder / f"{stem}.html" for stem in
             briefings._page_order(p.stem for p in folder.glob("*.html") if p.stem != "index")]
    titles = []
    for page_path in pages:
        h1 = re.search(r"<h1>(.*?)</h1>", page_path.read_text(encoding="utf-8"), re.DOTALL).group(1)
        titles.append(html.unescape(re.sub(r"<[^>]+>", "", h1)))
    starts = part_starts(texts, titles)
    assert starts[0] == 1 and starts == sorted(set(starts))  # one part per sheet run, in order
