"""No plumbing where a reader looks (issue 21): the scanner of tests/reader_text.py, then every
page and the PDF of four real builds scanned with it.

The unit tests plant each kind of problem in an otherwise clean page and check the scanner
names it, and that the clean page passes. The end-to-end tests (slow) build the default report,
a grid over three recipients, a run with no SIPRI export and a run on a small catalogue of the
user's own, each once per session or module, and scan the text of every HTML page, every page
of the PDF and the words every chart draws.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import reader_text as rt
from takingstock.core import paths

IDS = ["amnesty_2015", "car_2014_ammunition", "car_2017_weapons"]
CHECKOUT = "/home/analyst/taking-stock"

CLEAN = """<!DOCTYPE html><html lang="en"><head><title>Supply chains: Iraq</title>
<style>.ts-table td { text-align: right } .dataframe { color: red }</style>
<script>var fig = {"data": [{"x": [2014, 2015, 2016], "y": [3150.888847486363, null]}],
 "name": "amnesty_2015", "tiv_per_year": NaN, "path": "/home/analyst/taking-stock/output"};</script>
</head><body><main><h1>Supply chains: Iraq</h1>
<p>Iraq received 3,151 million TIV a year in 1980–1988, 51.8% of the total since 1950; None of
the catalogues names a supplier for 32 item types. Source: SIPRI (https://www.sipri.org/data_bases/x).</p>
<table class="ts-table"><caption>Arms delivered to Iraq by period</caption>
<thead><tr><th scope="col">Period</th><th scope="col">TIV (millions)</th><th scope="col">Share of TIV</th>
<th scope="col">Years of delivery</th></tr></thead>
<tbody><tr><td>Iran-Iraq war (1980-1988)</td><td>28,358</td><td>51.8%</td><td>2014–2018</td></tr>
<tr><td>Occupation</td><td>0.4</td><td>–</td><td>2005</td></tr></tbody></table>
<p>Download <a href="tables/03_amnesty_2015_periods.csv">03_amnesty_2015_periods.csv</a>.</p>
<p>Catalogues: Amnesty International, Taking Stock (2015) and Conflict Armament Research (2014).</p>
</main></body></html>"""

#: One planted text per kind of problem, where a reader sees it (kind -> what is planted).
PLANTED = {
    "Traceback": "<pre>Traceback (most recent call last): File x</pre>",
    "Error": "<p>ERROR:tornado.general: Uncaught exception in ZMQStream callback</p>",
    "PosixPath": "<p>PosixPath('output/summaries/01_clean_catalogue.json')</p>",
    "<style": "<pre>&lt;style scoped&gt; .dataframe tbody tr th:only-of-type</pre>",
    "DataFrame": "<p>&lt;pandas.DataFrame object at 0x7f&gt;</p>",
    "absolute path": f"<p>wrote 3 files to {CHECKOUT}/data/processed</p>",
    "nan": "<table><tr><td>nan</td></tr></table>",
    "None": "<table><tr><td>None</td></tr></table>",
    "long float": "<p>tiv per year 3150.888847486363</p>",
    "list or dict repr": "<table><tr><td>[2014, 2015, 2016, 2017, 2018]</td></tr></table>",
    "snake_case header": '<table><tr><th scope="col">period_id</th></tr></table>',
    "snake_case": "<p>see the column tiv_per_year</p>",
    "catalogue id": "<h2>amnesty_2015: item types by decade</h2>",
}


def _scan(html: str) -> list[rt.Problem]:
    return rt.scan_html(html, "page.html", catalogue_ids=IDS, paths=[CHECKOUT])


def test_a_clean_page_passes():
    assert _scan(CLEAN) == []


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_each_problem_planted_in_a_clean_page_is_caught(kind):
    page = CLEAN.replace("</main>", PLANTED[kind] + "</main>")
    kinds = {p.kind for p in _scan(page)}
    assert kind in kinds, kinds


def test_more_reprs_and_words_it_knows_apart():
    found = lambda text: {p.kind for p in rt.scan(text, "t", catalogue_ids=IDS, paths=[CHECKOUT])}  # noqa: E731
    assert found("['Russia', 'China']") == {"list or dict repr"}
    assert found("{'a': 1}") == {"list or dict repr"}
    assert found("ValueError: DELIM not in msg_list") >= {"Error"}
    assert found("NaN and <NA>") == {"nan"}
    assert found("wrote it to /tmp/pytest-of-x/out") == {"absolute path"}
    assert found("car_2017_weapons holds counts") == {"catalogue id"}
    # words a reader may well read
    for fine in ("None of the suppliers", "Error margins are SIPRI's", "28.4%", "1,234.56",
                 "version 1.5.0", "TIV (millions) [2025-03-13]", "Iran-Iraq war (1980-1988)",
                 "https://example.org/a_b_c", "02_car_2017_weapons_blocs.csv", "[1]"):
        assert found(fine) == set(), fine


def test_hidden_text_and_headers_of_a_page():
    text, headers = rt.parse(CLEAN)
    assert "var fig" not in text and ".ts-table" not in text
    assert headers == ["Period", "TIV (millions)", "Share of TIV", "Years of delivery"]


def test_figure_text_holds_what_a_chart_draws():
    spec = {"layout": {"title": {"text": "amnesty_2015: items"}, "xaxis": {"title": {"text": "Year"},
            "ticktext": ["Iran-Iraq<br>war"]}, "annotations": [{"text": "Source: x"}]},
            "data": [{"type": "bar", "name": "tiv_share", "x": ["a", "b"], "y": [1, 2]}]}
    text = rt.figure_text(spec)
    assert text.splitlines() == ["amnesty_2015: items", "Year", "Iran-Iraq", "war", "Source: x", "tiv_share", "a", "b"]


# ------------------------------------------------------------------ end to end (slow)

OWN_CATALOGUE = """\
record_id,category,designation,country_of_design,country_of_manufacture,year_from,year_to,acquisition,quantity,count_basis,share_published,confidence,source_ids,notes
f1,rifle,AKM,Soviet Union,Soviet Union,1968,1968,iraqi capture,3,item,,own,ai-pr-2015,
f2,machine gun,PKM,Soviet Union,Bulgaria,1985,1985,unknown,2,item,,own,ai-pr-2015,
f3,rifle,Type 56,Soviet Union,China,1975,1975,iraqi capture,4,item,,own,ai-pr-2015,
f4,mortar,M-1938,Soviet Union,Iraq,2090,2090,iraqi capture,1,item,,own,ai-pr-2015,
"""
OWN_ID = "field_notes_2024"
SIPRI_FREE = "no SIPRI export"

def _pipeline(cwd: Path, *args: str) -> None:
    proc = subprocess.run([sys.executable, str(paths.ROOT / "pipeline.py"), "--no-progress", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _in_tmp(work: Path, *args: str) -> Path:
    _pipeline(work, "-p", "output_dir", str(work / "output"), "-p", "processed_dir", str(work / "processed"), *args)
    return work / "output"


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory):
    return _in_tmp(tmp_path_factory.mktemp("grid"), "--grid", "supply.recipients=Iraq,Syria,Yemen")


@pytest.fixture(scope="module")
def sipri_free_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("nosipri")
    shutil.copytree(paths.RAW, work / "raw", ignore=shutil.ignore_patterns("sipri"))
    (work / "raw" / "sipri").mkdir()
    return _in_tmp(work, "-p", "raw_dir", str(work / "raw"))


@pytest.fixture(scope="module")
def own_catalogue_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("owncat")
    (work / "mine").mkdir()
    (work / "mine" / f"catalogue_{OWN_ID}.csv").write_text(OWN_CATALOGUE, encoding="utf-8")
    return _in_tmp(work, "-p", "catalogues", str(work / "mine" / f"catalogue_{OWN_ID}.csv"), "-p", "catalogue", OWN_ID)


def scan_output(output: Path, catalogue_ids: list[str]) -> list[rt.Problem]:
    """Every problem in the briefings, the PDF and the charts of one build's output folder."""
    kw = dict(catalogue_ids=catalogue_ids,
              paths=[paths.ROOT, Path.home(), output.parent, os.path.realpath(output.parent)])
    found: list[rt.Problem] = []
    pages = sorted((output / "briefings").glob("*.html"))
    assert pages, f"no briefing in {output}"
    for page in pages:
        found += rt.scan_html(page.read_text(encoding="utf-8"), page.name, **kw)
    pdf = output / "briefings" / "taking-stock.pdf"
    if pdf.is_file():
        for i, text in enumerate(rt.pdf_pages(pdf), 1):
            found += rt.scan(text, f"{pdf.name} page {i}", **kw)
    for spec in sorted((output / "figures").glob("*.json")):
        found += rt.scan(rt.figure_text(json.loads(spec.read_text(encoding="utf-8"))), f"chart {spec.stem}", **kw)
    return found


#: The builds scanned: name -> (the fixture that builds it, the catalogue ids it holds).
RUNS = {
    "the default report": ("built_report", IDS),
    "a grid over three recipients": ("grid_run", IDS),
    "a run without a SIPRI export": ("sipri_free_run", IDS),
    "a run on the user's own catalogue": ("own_catalogue_run", IDS + [OWN_ID]),
}


@pytest.mark.slow
@pytest.mark.parametrize("run", list(RUNS))
def test_what_a_reader_sees_is_clean(request, run):
    fixture, catalogue_ids = RUNS[run]
    output = request.getfixturevalue(fixture)
    if fixture == "grid_run":
        assert len(list((output / "briefings").glob("04_supply_chains*.html"))) >= 3
    found = scan_output(output, catalogue_ids)
    assert not found, f"{len(found)} problems where a reader looks in {run}:\n{rt.summary(found)}"
