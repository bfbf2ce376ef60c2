"""A user's own catalogue through the whole pipeline, by parameters only (no code change).

The catalogue holds markup in its text fields and two bad rows. The run must keep every row
(clean or rejected with its reason), compute the breakdowns from the user's counts, write
nothing into the project's own output folders, and publish briefings where the markup from the
data shows as inert text.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from takingstock.core import paths

OWN_CATALOGUE = """\
record_id,category,designation,country_of_design,country_of_manufacture,year_from,year_to,acquisition,quantity,count_basis,share_published,confidence,source_ids,notes
m1,rifle,<script>alert(1)</script>,USSR,China,1975,1975,iraqi capture,1,item,,own,ai-pr-2015,
m2,rifle,AKM,Soviet Union,Soviet Union,1968,1968,iraqi capture,1,item,,own,ai-pr-2015,
m3,machine gun,PKM,Soviet Union,Bulgaria,1985,1985,unknown,2,item,,own,ai-pr-2015,
m4,rifle,<img src=x onerror=alert(2)>,Sovjet Union,<script>alert(3)</script>,1975,1975,iraqi capture,1,item,,own,ai-pr-2015,
m5,mortar,M-1938,Soviet Union,Iraq,2090,2090,iraqi capture,1,item,,own,ai-pr-2015,
"""

RUN_YAML = """\
catalogues: my-data/catalogue_mine.csv
processed_dir: my-run/processed
output_dir: my-run/output
catalogue: mine
"""


@pytest.fixture(scope="module")
def own_run(tmp_path_factory):
    """Run pipeline.py once on the user's catalogue, everything under a temporary folder."""
    work = tmp_path_factory.mktemp("own")
    (work / "my-data").mkdir()
    (work / "my-data" / "catalogue_mine.csv").write_text(OWN_CATALOGUE, encoding="utf-8")
    (work / "run.yaml").write_text(RUN_YAML, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(paths.ROOT / "pipeline.py"), "--params", "run.yaml", "--no-progress"],
        cwd=work, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (work / "stdout.txt").write_text(proc.stdout, encoding="utf-8")
    return work / "my-run"


@pytest.mark.slow
def test_every_row_is_clean_or_rejected_with_its_reason(own_run):
    report = pd.read_csv(own_run / "processed" / "cleaning_report.csv")
    row = report.set_index("source_file").loc["catalogue_mine.csv"]
    assert (row["raw_rows"], row["clean_rows"], row["rejected_rows"]) == (5, 3, 2)
    problems = pd.read_csv(own_run / "processed" / "problems.csv", dtype=str)
    by_row = problems.groupby("source_row")["reason"].apply(" | ".join)
    assert "Soviet Union" in by_row["4"]  # 'Sovjet Union' is refused with the closest name
    assert "2090" in " ".join(problems.loc[problems["source_row"] == "5", "value"])


@pytest.mark.slow
def test_the_run_ends_saying_how_many_rows_were_rejected_and_where_the_reasons_are(own_run):
    notes = [line for line in (own_run.parent / "stdout.txt").read_text(encoding="utf-8").splitlines()
             if line.startswith("note: ")]
    assert ("note: 2 of 5 catalogue rows rejected: the reason for each is in my-run/processed/rejected.csv and on "
            "the page my-run/output/briefings/01_clean_catalogue.html") in notes
    assert len(pd.read_csv(own_run / "processed" / "rejected.csv")) == 2


@pytest.mark.slow
def test_breakdowns_use_the_users_counts(own_run):
    made = pd.read_csv(own_run / "output" / "tables" / "02_mine_manufacture.csv")
    shares = dict(zip(made["state"], made["share"].round(1)))
    assert shares == {"Bulgaria": 50.0, "China": 25.0, "Soviet Union": 25.0}  # PKM x2 of 4 items


@pytest.mark.slow
def test_markup_from_the_data_is_inert_in_the_briefings(own_run):
    briefings = own_run / "output" / "briefings"
    pages = {p.name: p.read_text(encoding="utf-8") for p in briefings.glob("*.html")}
    assert {"index.html", "01_clean_catalogue.html", "02_country_of_origin.html"} <= set(pages)
    for name, html in pages.items():
        for raw in ("<script>alert(", "<img src=x onerror"):
            assert raw not in html, name
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in pages["01_clean_catalogue.html"]


@pytest.mark.slow
def test_the_projects_own_outputs_are_not_touched(own_run):
    assert (own_run / "output" / "notebooks" / "01_clean_catalogue.ipynb").is_file()
    assert not list(paths.OUTPUT.rglob("*_mine_*"))
    parquet = paths.PROCESSED / "catalogue.parquet"
    if parquet.exists():
        assert "mine" not in set(pd.read_parquet(parquet, columns=["catalogue"])["catalogue"])
