"""Briefings in a real browser: headless Debian Chromium through playwright (no download).

Each page is opened from disk (file://). We assert: no console errors, no request other than
file:// (or data:), every plotly figure div draws its SVG, and axe-core (the copy shipped
inside axe-playwright-python, injected from disk, never from a CDN) reports no serious or
critical violation. A full-page screenshot of each page is written for a person to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import briefings_helpers as bh
from takingstock import io, paths, publish

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
    publish.build_briefings(nbs, summaries_dir=work / "summaries",
                            briefings_dir=work / "briefings", raw_dir=paths.RAW,
                            sipri_release="2026-05-18", git_commit="fixture")
    return work / "briefings"


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
        io.write_bytes(screenshot, page.screenshot(full_page=True))
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
