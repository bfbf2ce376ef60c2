"""Slow tests: run notebooks 02 and 03 with papermill and check their products."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from takingstock.core import paths

pytestmark = pytest.mark.slow


def _run(nb, out_dir, **params):
    pm = pytest.importorskip("papermill")
    os.environ.setdefault("PLOTLY_RENDERER", "notebook")
    pm.execute_notebook(
        str(paths.NOTEBOOKS / f"{nb}.ipynb"), str(out_dir / f"{nb}.ipynb"), kernel_name="python3",
        parameters=dict(output_dir=str(out_dir), processed_dir=str(out_dir / "no-processed"), **params),
        progress_bar=False, request_save_on_cell_execute=False,
    )
    return json.loads((out_dir / f"{nb}.ipynb").read_text(encoding="utf-8"))


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
    assert values["Conflict Armament Research (2017): share made in the EU member states in 2017"] == "32.5%"


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


def _newest_all_register(sipri_dir):
    """The newest whole-database export (``sipri_trade_register_all_<date>_*.csv``) in ``sipri_dir``."""
    found = sorted(sipri_dir.glob("sipri_trade_register_all_*.csv"))
    if not found:
        pytest.skip(f"no sipri_trade_register_all_*.csv in {sipri_dir}")
    return found[-1]  # names start with the release date (YYYY-MM-DD), so the last is the newest


def _raw_without_sipri(tmp_path):
    """A copy of data/raw (periods, crosswalk, catalogues...) with no sipri/ folder in it."""
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(paths.RAW, raw, ignore=shutil.ignore_patterns("sipri"))
    assert not (raw / "sipri").exists()
    return raw


def test_03_with_and_without_sipri(tmp_path, shared_sipri_dir):
    register = _newest_all_register(shared_sipri_dir)
    assert register.name == "sipri_trade_register_all_2026-05-18_alexarui.csv"
    _run("03_eras", tmp_path, catalogue="amnesty_2015", sipri_register=str(register))
    by_year = pd.read_csv(tmp_path / "tables" / "03_sipri_iraq_by_year.csv").set_index("year")
    assert by_year.loc[1991:2002, "tiv"].sum() == 0  # the embargo years
    assert by_year.loc[1980:1988, "tiv"].sum() > 5 * by_year.loc[2003:2011, "tiv"].sum()
    page = (tmp_path / "figures" / "03_sipri_iraq_by_year_tiv.html").read_text()
    assert "SIPRI Arms Transfers Database" in page and "not money" in page
    spec = json.loads((tmp_path / "figures" / "03_sipri_iraq_by_year_tiv.json").read_text())
    # bars are centred on their years: each period band runs from half a year before its first
    # year to half a year after its last (the war 1980-88, the embargo 1991-2002, 2003-2011)
    bands = sorted((round(sh["x0"], 2), round(sh["x1"], 2)) for sh in spec["layout"]["shapes"])
    assert bands == [(1979.5, 1988.5), (1990.5, 2002.5), (2002.5, 2011.5)]
    # the embargo sentence and headline come from the periods table and the computed TIV
    assert "No deliveries recorded during the 1991-2002 embargo." in spec["layout"]["meta"]["alt"]
    summary = json.loads((tmp_path / "summaries" / "03_eras.json").read_text())
    values = {h["label"]: h["value"] for h in summary["headlines"]}
    assert values["SIPRI: TIV delivered to Iraq in the embargo years 1991-2002"] == "0 TIV"  # never "0 million TIV" (labels.tiv_text)
    dec = pd.read_csv(tmp_path / "tables" / "03_amnesty_2015_decades.csv")
    assert dec.iloc[-1]["decade"] == "unknown" and dec.iloc[-1]["count"] == 42
    # without a register: a raw_dir with no sipri/ folder; says so and still does the catalogue part
    empty = tmp_path / "nosipri"
    raw = _raw_without_sipri(tmp_path)
    _run("03_eras", empty, catalogue="amnesty_2015", raw_dir=str(raw), sipri_register="")
    assert not list((empty / "tables").glob("03_sipri_*"))
    assert not list((empty / "figures").glob("03_sipri_*"))
    text = (empty / "03_eras.ipynb").read_text()
    # said without the folder's absolute path (a page never shows a path of the user's machine)
    assert "No SIPRI trade register in the sipri folder of the raw data: the SIPRI sections are skipped" in text
    declared = [o for c in json.loads(text)["cells"] for o in c.get("outputs", []) if "takingstock" in o.get("metadata", {})]
    assert declared and str(raw) not in json.dumps(declared)
    assert (empty / "tables" / "03_amnesty_2015_periods.csv").exists()


def test_03_says_a_recipient_without_deliveries_is_not_shown(tmp_path, shared_sipri_dir):
    # The pipeline refuses an unknown recipient before any kernel starts; by hand the notebook
    # says so, suggests the closest name and writes no SIPRI table.
    nb = _run("03_eras", tmp_path, catalogue="amnesty_2015", recipients=["Irak"],
              sipri_register=str(_newest_all_register(shared_sipri_dir)))
    text = json.dumps(nb)
    assert "SIPRI records no deals to Irak in this export" in text and "did you mean 'Iraq'" in text
    assert not list((tmp_path / "tables").glob("03_sipri_*"))
