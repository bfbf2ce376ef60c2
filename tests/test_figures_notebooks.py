"""Slow tests: run notebooks 02 and 03 with papermill and check their products."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from takingstock import paths

pytestmark = pytest.mark.slow


def _run(nb, out_dir, **params):
    pm = pytest.importorskip("papermill")
    os.environ.setdefault("PLOTLY_RENDERER", "notebook")
    pm.execute_notebook(
        str(paths.NOTEBOOKS / f"{nb}.ipynb"), str(out_dir / f"{nb}.ipynb"), kernel_name="python3",
        parameters=dict(output_dir=str(out_dir), processed_dir=str(out_dir / "no-processed"), **params),
        progress_bar=False, request_save_on_cell_execute=False,
    )


@pytest.fixture(scope="module")
def origin_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("nb02")
    _run("02_country_of_origin", out, catalogue="all")
    return out


def test_02_tables_hold_the_published_shares(origin_out):
    t = pd.read_csv(origin_out / "tables" / "02_car_2014_ammunition_manufacture.csv")
    share = dict(zip(t["state"], t["share"].round(1)))
    assert share["Soviet Union"] == 28.4 and share["China"] == 25.7 and share["United States"] == 18.7
    t17 = pd.read_csv(origin_out / "tables" / "02_car_2017_weapons_manufacture.csv")
    assert round(float(t17.loc[t17["state"] == "China", "share"].iloc[0]), 1) == 43.5
    n = pd.read_csv(origin_out / "tables" / "02_distinct_countries.csv")
    ai = n[(n["catalogue"] == "amnesty_2015") & (n["role"] == "manufacture")].iloc[0]
    assert ai["countries"] == 11
    summary = json.loads((origin_out / "summaries" / "02_country_of_origin.json").read_text())
    values = {h["label"]: h["value"] for h in summary["headlines"]}
    assert values["car_2017_weapons: share made in EU member states (2017)"] == "32.5%"


def test_02_every_figure_has_files_title_and_source(origin_out):
    figs = origin_out / "figures"
    names = sorted(p.stem for p in figs.glob("*.html"))
    assert len(names) == 12  # 3 catalogues x (manufacture, design, bloc, category matrix)
    assert [p.name for p in figs.glob("*.js")] == ["plotly.min.js"]
    for stem in names:
        page = (figs / f"{stem}.html").read_text()
        assert "<title>" in page and "<title></title>" not in page
        assert "calculations by taking-stock" in page
        if (figs / f"{stem}.svg").exists():  # static files exist where Chromium is installed
            assert "calculations by taking-stock" in (figs / f"{stem}.svg").read_text()


def test_03_with_and_without_sipri(tmp_path, shared_sipri_dir):
    register = shared_sipri_dir / "sipri_trade_register_iraq.csv"
    if not register.exists():
        pytest.skip("no Iraq register in the shared SIPRI exports")
    _run("03_eras", tmp_path, catalogue="amnesty_2015", sipri_register=str(register))
    by_year = pd.read_csv(tmp_path / "tables" / "03_sipri_iraq_by_year.csv").set_index("year")
    assert by_year.loc[1991:2002, "tiv"].sum() == 0  # the embargo years
    assert by_year.loc[1980:1988, "tiv"].sum() > 5 * by_year.loc[2003:2011, "tiv"].sum()
    page = (tmp_path / "figures" / "03_sipri_iraq_by_year_tiv.html").read_text()
    assert "SIPRI Arms Transfers Database" in page and "not money" in page
    dec = pd.read_csv(tmp_path / "tables" / "03_amnesty_2015_decades.csv")
    assert dec.iloc[-1]["decade"] == "unknown" and dec.iloc[-1]["count"] == 42
    # without a register: says so and still does the catalogue part
    empty = tmp_path / "nosipri"
    _run("03_eras", empty, catalogue="amnesty_2015", raw_dir=str(paths.RAW), sipri_register="")
    if not (paths.SIPRI_RAW.is_dir() and list(paths.SIPRI_RAW.glob("*.csv"))):
        assert not list((empty / "tables").glob("03_sipri_*"))
        text = (empty / "03_eras.ipynb").read_text()
        assert "No SIPRI trade register found" in text
    assert (empty / "tables" / "03_amnesty_2015_periods.csv").exists()
