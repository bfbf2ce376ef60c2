"""Historical periods apply to the recipients they are defined for; another recipient gets
calendar decades (or periods a user defines for it), and the page says which."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest

from takingstock.analysis import eras
from takingstock.data.periods import load_periods, period_of_year, periods_from_frame
from takingstock.core import paths


@pytest.fixture(scope="module")
def committed():
    return load_periods(paths.RAW / "periods.csv")


def test_iraq_gets_the_committed_periods_and_the_page_says_whose(committed):
    got = eras.periods_for(["Iraq"], committed)
    assert list(got["period_id"]) == list(committed["period_id"])
    assert eras.periods_note(got) == "Historical periods: those of periods.csv defined for Iraq."


def test_another_recipient_gets_calendar_decades(committed):
    got = eras.periods_for(["Yemen"], committed, last_year=2026)
    assert list(got["label"]) == ["Before 1950", "1950s", "1960s", "1970s", "1980s", "1990s",
                                  "2000s", "2010s", "2020s"]
    assert not set(got["label"]) & set(committed["label"])
    note = eras.periods_note(got)
    assert "defined for Iraq only" in note and "this run is for Yemen" in note and "calendar decades" in note
    # Every year falls in one decade: 1949 before, 1984 in the 1980s, 2031 in the open last one.
    per = period_of_year(pd.Series([1949, 1984, 2031]), got)
    assert list(per["period"]) == ["Before 1950", "1980s", "2020s"]


def test_periods_a_user_defines_for_a_recipient_are_used(committed):
    mine = pd.DataFrame([
        {"period_id": "war", "label": "War (2015-2022)", "start": "2015-01-01", "end": "2022-12-31",
         "recipients": "Yemen;Saudi Arabia"},
        {"period_id": "truce", "label": "Truce (2023-)", "start": "2023-01-01", "end": "", "recipients": "Yemen"},
    ])
    table = periods_from_frame(pd.concat([committed[list(mine.columns)], mine], ignore_index=True))
    got = eras.periods_for("Saudi Arabia", table)
    assert list(got["period_id"]) == ["war"]
    assert list(eras.periods_for("Yemen", table)["period_id"]) == ["war", "truce"]
    # A table without the recipients column applies to every recipient, with nothing to say.
    plain = committed.drop(columns="recipients")
    assert eras.periods_for("Yemen", plain) is plain and eras.periods_note(plain) == ""


def test_the_catalogue_periods_are_worked_out_again(committed):
    frame = pd.DataFrame({"year_mid": [1975.0, 1985.0, None], "period_id": ["pre-1980", "iran-iraq-war", "unknown"],
                          "period": ["Before 1980", "Iran-Iraq war (1980-1988)", "unknown"],
                          "design_era_year": [1949.0, 1980.0, None],
                          "design_era_precision": ["year", "decade", None],
                          "design_era_period_id": ["pre-1980", "iran-iraq-war", "unknown"],
                          "design_era_period": ["Before 1980", "Iran-Iraq war (1980-1988)", "unknown"]})
    decades = eras.periods_for("Yemen", committed, last_year=2026)
    got = eras.assign_periods(frame, decades, committed)
    assert list(got["period"]) == ["1970s", "1980s", "unknown"]
    assert list(got["design_era_period"]) == ["Before 1950", "1980s", "unknown"]
    # Under the committed periods the frame is returned untouched.
    assert eras.assign_periods(frame, eras.periods_for("Iraq", committed), committed) is frame


@pytest.mark.slow
@pytest.mark.sipri
def test_a_run_for_yemen_writes_no_iraq_period_name(tmp_path, committed, shared_sipri_dir):
    out, proc = tmp_path / "out", tmp_path / "proc"
    proc_run = subprocess.run(
        [sys.executable, str(paths.ROOT / "pipeline.py"), "-p", "recipients", "[Yemen]", "-p", "comparison", "",
         "-p", "output_dir", str(out), "-p", "processed_dir", str(proc)],
        cwd=str(paths.ROOT), capture_output=True, text=True, timeout=1200)
    assert proc_run.returncode == 0, proc_run.stderr[-3000:]
    iraq = [p.label for p in committed.itertuples() if "Iraq" in str(p.recipients)]
    assert "UN embargo (1991-2002)" in iraq and "Occupation (2003-2011)" in iraq
    files = [f for f in out.rglob("*") if f.is_file() and f.suffix in (".csv", ".md", ".html", ".json")]
    assert any(f.name.startswith("03_") and f.suffix == ".csv" for f in files)
    found = {f"{f.relative_to(out)}: {label}" for f in files
             for label in iraq if label in f.read_text(encoding="utf-8", errors="replace")}
    assert found == set()
    pdf = out / "briefings" / "taking-stock.pdf"
    if pdf.is_file() and shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert [label for label in iraq if label in text] == []
    # The pages say which periods they use instead.
    page = (out / "briefings" / "03_eras__yemen.html").read_text(encoding="utf-8")  # named after its recipient
    assert "defined for Iraq only; this run is for Yemen, so its periods here are calendar decades" in page
