"""Notebook 04 run with papermill: on the real register, and with no register at all."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from takingstock.core import paths

NOTEBOOK = paths.NOTEBOOKS / "04_supply_chains.ipynb"


def _run(tmp_path, **parameters):
    import papermill as pm

    pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"), kernel_name="python3",
                        progress_bar=False, parameters={"output_dir": str(tmp_path), **parameters})
    from takingstock.data.runcontext import RunContext

    stem = RunContext(recipients=tuple(parameters.get("recipients") or ("Iraq",))).stem("04_supply_chains")
    return json.loads((tmp_path / "summaries" / f"{stem}.json").read_text())


@pytest.mark.slow
@pytest.mark.sipri
def test_notebook_on_real_register(tmp_path, shared_sipri_dir):
    summary = _run(tmp_path, sipri_register=str(
        shared_sipri_dir / "sipri_trade_register_all_2026-05-18_alexarui.csv"))
    values = {h["label"]: h["value"] for h in summary["headlines"]}
    assert values["Longest run of years without SIPRI-recorded deliveries"] == "1991-2003"
    assert values["States that supplied both Iraq and Iran, 1980-1988 (ordered or delivered)"] == "11"
    # the delivery rule: the same function and figure as the claims ledger's 10
    assert values["States that supplied both Iraq and Iran, 1980-1988 (delivered in the window; "
                  "the claims ledger's rule)"] == "10"
    # outputs named after the recipient and the window, never after a fixed country
    assert (tmp_path / "tables" / "04_iraq_iran-iraq-war_suppliers.csv").is_file()
    assert (tmp_path / "tables" / "04_iraq_us-contracts_orders.csv").is_file()
    assert values["Warsaw Pact states of 1990 and Soviet successors share of delivered TIV, before 2003"] == "72%"
    assert (tmp_path / "tables" / "04_paper_trail_matches.csv").is_file()
    assert (tmp_path / "figures" / "04_iraq_imports_by_year.html").is_file()
    # delivery basis: the decade/period tables are notebook 03's, not written again here
    assert not (tmp_path / "tables" / "04_iraq_imports_by_decade.csv").exists()
    assert not (tmp_path / "tables" / "04_iraq_imports_by_period.csv").exists()
    # the charts are the house builders': shares in percent (0-100) on a plain axis, TIV labelled
    blocs = json.loads((tmp_path / "figures" / "04_iraq_bloc_shares.json").read_text())
    yaxis = blocs["layout"]["yaxis"]
    assert "tickformat" not in yaxis and yaxis["title"]["text"].startswith("Share of delivered TIV (%")
    before = {t["name"]: t["y"][0] for t in blocs["data"]}
    assert round(before["Warsaw Pact states of 1990 and Soviet successors"]) == 72 and max(before.values()) <= 100
    by_year = json.loads((tmp_path / "figures" / "04_iraq_imports_by_year.json").read_text())
    from takingstock.analysis.supply import TIV_LABEL
    # (charts.fit_y_title wraps a long axis title; the words are the label's)
    assert by_year["layout"]["yaxis"]["title"]["text"].replace("<br>", " ") == TIV_LABEL


@pytest.mark.slow
@pytest.mark.sipri
def test_the_paper_trail_is_not_checkable_on_an_export_without_its_recipients(tmp_path, shared_sipri_dir):
    # the Iran subset holds no deal to Iraq, Syria or the Syrian rebels: no "0 of 48 items" trail
    summary = _run(tmp_path, sipri_register=str(shared_sipri_dir / "sipri_trade_register_iran.csv"))
    assert not any("paper trail" in h["label"] for h in summary["headlines"])
    assert not any("name a weapon type SIPRI records" in s for s in summary["lead"])
    out = (tmp_path / "out.ipynb").read_text()
    assert "Not checkable: the paper trail looks for deals to Iraq, Syria, Syria rebels*, and this export holds" in out
    assert not (tmp_path / "tables" / "04_paper_trail_matches.csv").exists()


@pytest.mark.slow
def test_notebook_without_register(tmp_path):
    no_exports = tmp_path / "raw"  # a raw folder with no sipri/ exports in it
    no_exports.mkdir()
    summary = _run(tmp_path, raw_dir=str(no_exports), sipri_register="")
    assert summary["headlines"] == [{"label": "SIPRI register", "value": "missing"}]
    out = (tmp_path / "out.ipynb").read_text()
    assert "python pipeline.py fetch-sipri" in out


@pytest.mark.slow
def test_notebook_refuses_a_register_path_that_does_not_exist(tmp_path):
    """A typo in sipri_register stops the notebook instead of silently skipping SIPRI."""
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError, match="no file at"):
        _run(tmp_path, sipri_register=str(tmp_path / "typo.csv"))


@pytest.mark.slow
@pytest.mark.sipri
@pytest.mark.parametrize("recipients, basis, period, supplier, share", [
    (["Syria"], "delivery", "1950s", "Soviet Union", 68.0),
    (["Iran"], "order", "Before 1950", "United States", 100.0),
])
def test_notebook_for_other_recipients(tmp_path, shared_sipri_dir, recipients, basis, period, supplier, share):
    register = shared_sipri_dir / "sipri_trade_register_all_2026-05-18_alexarui.csv"
    summary = _run(tmp_path, recipients=recipients, basis=basis, sipri_register=str(register))
    tag = recipients[0].lower()
    assert (tmp_path / "figures" / f"04_{tag}_imports_by_year.html").is_file()
    # the decade/period tables are written only for a basis notebook 03 does not show
    assert (tmp_path / "tables" / f"04_{tag}_imports_by_decade.csv").is_file() == (basis != "delivery")
    assert (tmp_path / "tables" / f"04_{tag}_imports_by_period.csv").is_file() == (basis != "delivery")
    # the largest supplier of the first period, from this recipient's own deals; the periods are
    # calendar decades, Iraq's history being Iraq's (takingstock.analysis.eras.periods_for)
    top = pd.read_csv(tmp_path / "tables" / f"04_{tag}_top_suppliers_by_period.csv")
    first = top[top["rank"] == 1].iloc[0]
    assert (first["period"], first["supplier"], round(first["share"], 1)) == (period, supplier, share)
    # the windows of Iraq's history (embargo, after the invasion, the US contracts) are not this
    # recipient's: those sections are left out, saying why, and nothing is named after Iraq
    text = (tmp_path / "out.ipynb").read_text()
    assert "is defined for Iraq only" in text
    assert "so its periods here are calendar decades" in text
    written = [p.name for p in (tmp_path / "tables").iterdir()] + [p.name for p in (tmp_path / "figures").iterdir()]
    assert not [n for n in written if "iraq" in n or "united-states" in n or "us-contracts" in n]
    assert "Longest run of years without SIPRI-recorded deliveries" not in {h["label"] for h in summary["headlines"]}
