"""takingstock.analysis.followup: the register after the report, on invented deal-years and, when
present, on the real SIPRI exports (whole releases and the Iraq subset)."""

from __future__ import annotations

import pandas as pd
import pytest

from takingstock.data import att
from takingstock.analysis import followup
from takingstock.data.coverage import Coverage
from takingstock.data.sipri import read_register

REAL_2026 = "sipri_trade_register_all_2026-05-18_alexarui.csv"
REAL_2025 = "sipri_trade_register_all_2025-03-13_colasdroin.csv"
IRAQ = "sipri_trade_register_iraq.csv"


@pytest.fixture()
def years():
    """Deal-years: A (USA) 2010 and 2016, B (Russia) 2012, C (China) 2018 and 2021, D (unknown)."""
    return pd.DataFrame({
        "deal_id": [1, 1, 2, 3, 3, 4],
        "supplier_state": ["United States", "United States", "Russia", "China", "China", "unknown"],
        "supplier_iso": ["USA", "USA", "RUS", "CHN", "CHN", "XUN"],
        "category": ["aircraft", "aircraft", "armoured vehicles", "missiles", "missiles", "ships"],
        "year": [2010, 2016, 2012, 2018, 2021, 2017],
        "tiv": [10.0, 30.0, 20.0, 5.0, 5.0, 2.0],
    })


WINDOWS = {"before": (2003, 2015), "after": (2016, 2025)}


def test_period_totals_compare_yearly_means(years):
    got = followup.period_totals(years, WINDOWS).set_index("period")
    assert got.loc["before", "tiv"] == 30 and got.loc["before", "years"] == 13
    assert got.loc["after", "tiv"] == 42 and got.loc["after", "deals"] == 3
    assert got.loc["after", "tiv_a_year"] == pytest.approx(4.2)


def test_yearly_series_shows_empty_years_as_zero(years):
    got = followup.yearly_series(years, {"after": (2016, 2021)})
    assert list(got["year"]) == list(range(2016, 2022))
    assert list(got["tiv"]) == [30.0, 2.0, 5.0, 0.0, 0.0, 5.0]


def test_suppliers_ranked_and_changes(years):
    after = followup.in_window(years, 2016, 2025)
    ranked = followup.suppliers_ranked(after)
    assert list(ranked["supplier"]) == ["United States", "China", "unknown"]
    assert ranked["share"].sum() == pytest.approx(100)
    ch = followup.supplier_changes(followup.in_window(years, 2003, 2015), after).set_index("supplier")
    assert ch["change"].to_dict() == {"China": "new", "Russia": "stopped", "United States": "continued"}
    assert ch.loc["Russia", "tiv_after"] == 0


def test_by_category(years):
    got = followup.by_category(years, WINDOWS).set_index("category")
    assert got.loc["aircraft", "tiv_after"] == 30 and got.loc["armoured vehicles", "share_before"] == pytest.approx(66.6667, rel=1e-4)


def test_origin_deliveries_and_att_status_in_each_delivery_year(years):
    origins = pd.DataFrame({"origin": ["Soviet Union", "Russia", "China", "United Kingdom"],
                            "origin_iso": ["SUN", "RUS", "CHN", "GBR"],
                            "state": ["Russia", "Russia", "China", "United Kingdom"],
                            "iso": ["RUS", "RUS", "CHN", "GBR"]})
    after = followup.in_window(years, 2016, 2025)
    got = followup.origin_deliveries(after, origins).set_index("state")
    assert got.loc["China", "tiv"] == 10 and got.loc["China", "delivered"]
    assert not got.loc["Russia", "delivered"] and got.loc["Russia", "origins"] == "Russia, Soviet Union"
    split = followup.by_att_status(after, att.load_att()).set_index("att_status")
    # the USA's 2016 delivery: signatory then (its signature was withdrawn in 2019, not before);
    # China's 2018 delivery: outside; its 2021 one: party (acceded July 2020)
    assert split.loc["signatory", "tiv"] == 30
    assert split.loc["outside", "tiv"] == 5 and split.loc["party", "tiv"] == 5
    assert split.loc["unknown", "suppliers"] == "unknown"


def test_clip_and_lacks_without_register():
    assert followup.lacks(None, ["Iraq"], 2016, 2025) == "no SIPRI register in this run"


@pytest.fixture(scope="module")
def real(shared_sipri_dir):
    out = {}
    for name in (REAL_2026, REAL_2025, IRAQ):
        reg = read_register(shared_sipri_dir / name)
        out[name] = (reg.deals, Coverage.from_register(reg))
    return out


def test_after_report_window_ends_with_each_release(real):
    assert followup.clip(2016, 2100, real[REAL_2026][1]) == (2016, 2025)
    assert followup.clip(2016, 2100, real[REAL_2025][1]) == (2016, 2024)


def test_iraq_after_the_report_on_the_2026_release(real):
    deals, cov = real[REAL_2026]
    years = followup.deal_years(deals, ["Iraq"])
    tot = followup.period_totals(years, {"before": (2003, 2015), "after": (2016, 2025)}).set_index("period")
    assert round(tot.loc["before", "tiv"]) == 5883 and round(tot.loc["after", "tiv"]) == 3480
    ranked = followup.suppliers_ranked(followup.in_window(years, 2016, 2025))
    assert list(ranked["supplier"][:3]) == ["United States", "Russia", "South Korea"]
    ch = followup.supplier_changes(followup.in_window(years, 2003, 2015), followup.in_window(years, 2016, 2025))
    assert set(ch.loc[ch["change"] == "new", "supplier"]) == {"Israel", "Slovenia"}
    assert "Ukraine" in set(ch.loc[ch["change"] == "stopped", "supplier"])


def test_syria_after_2015_by_supplier(real):
    deals, cov = real[REAL_2026]
    assert followup.lacks(cov, ["Syria"], 2016, 2025) == ""
    ranked = followup.suppliers_ranked(followup.in_window(followup.deal_years(deals, ["Syria"]), 2016, 2025))
    assert set(ranked["supplier"]) == {"Russia", "Iran", "Turkiye"} and ranked["supplier"].iloc[0] == "Russia"


def test_iraq_subset_covers_iraq_and_says_not_checkable_for_syria(real):
    deals, cov = real[IRAQ]
    assert followup.lacks(cov, ["Iraq"], *followup.clip(2016, 2100, cov)) == ""
    why = followup.lacks(cov, ["Syria"], *followup.clip(2016, 2100, cov))
    assert "Syria is not in it" in why
    # what the subset covers is the same as on the whole register of the same release
    whole = followup.deal_years(real[REAL_2026][0] if cov.last_year == 2025 else real[REAL_2025][0], ["Iraq"])
    sub = followup.deal_years(deals, ["Iraq"])
    last = cov.last_year
    assert followup.in_window(sub, 2016, last)["tiv"].sum() == pytest.approx(
        followup.in_window(whole, 2016, last)["tiv"].sum())


# ----------------------------------------------------------------------------- the follow-up claims


FOLLOWUP_CLAIMS = ("origin-states-outside-att-2015", "iraq-arms-kept-flowing", "syria-deliveries-after-report",
                   "end-use-controls-after-report", "iraq-stockpile-training-after-report",
                   "presumption-of-denial-adopted")


@pytest.fixture(scope="module")
def followup_claims():
    from takingstock.analysis.claims import load_claims

    return [c for c in load_claims() if c.id in FOLLOWUP_CLAIMS]


def _ledger(claims, deals, cov, processed=None):
    from takingstock.data.cleaning import read_processed
    from takingstock.analysis.claims import ClaimContext, evaluate

    catalogue = read_processed(processed / "catalogue.parquet") if processed is not None else None
    return evaluate(claims, ClaimContext(catalogue=catalogue, deals=deals, coverage=cov)).set_index("id")


def test_followup_claims_on_the_2026_release(real, followup_claims):
    led = _ledger(followup_claims, *real[REAL_2026])
    assert led.loc["iraq-arms-kept-flowing", "computed_value"] == pytest.approx(76.9, abs=0.05)
    assert led.loc["iraq-arms-kept-flowing", "verdict"] == "reproduced"
    assert led.loc["syria-deliveries-after-report", "computed_value"] == 3
    for cid in FOLLOWUP_CLAIMS[3:]:
        assert led.loc[cid, "verdict"] == "not checkable"


def test_followup_claims_end_with_the_2025_release(real, followup_claims):
    led = _ledger(followup_claims, *real[REAL_2025])
    assert "2016-2024" in led.loc["iraq-arms-kept-flowing", "detail"]
    assert led.loc["syria-deliveries-after-report", "computed_value"] == 2  # Russia, Iran


def test_followup_claims_on_the_iraq_subset(real, followup_claims):
    led = _ledger(followup_claims, *real[IRAQ])
    assert led.loc["iraq-arms-kept-flowing", "verdict"] == "reproduced"
    assert led.loc["syria-deliveries-after-report", "verdict"] == "not checkable"
    assert "Syria is not in it" in led.loc["syria-deliveries-after-report", "reason"]


def test_att_claim_counts_origin_states_not_parties_in_december_2015(followup_claims, processed_dir):
    led = _ledger(followup_claims, None, None, processed_dir)
    row = led.loc["origin-states-outside-att-2015"]
    # China, Iran, Russia, Syria outside; the USA a signatory; Iraq unknown (no source)
    assert row["computed_value"] == 5 and row["verdict"] == "reproduced"
    assert "unknown: Iraq" in row["detail"]


def test_att_claim_without_a_catalogue_is_not_checkable(followup_claims):
    row = _ledger(followup_claims, None, None).loc["origin-states-outside-att-2015"]
    assert row["verdict"] == "not checkable" and "no processed catalogue" in row["reason"]


# ----------------------------------------------------------------------------- notebook 07


NOTEBOOK = "07_after_the_report"


def _run_notebook(tmp_path, processed_dir, **parameters):
    import json

    import papermill as pm

    from takingstock.core import paths

    pm.execute_notebook(str(paths.NOTEBOOKS / f"{NOTEBOOK}.ipynb"), str(tmp_path / "out.ipynb"),
                        kernel_name="python3", progress_bar=False, cwd=str(paths.NOTEBOOKS),
                        parameters={"output_dir": str(tmp_path), "processed_dir": str(processed_dir),
                                    "static_figures": False, **parameters})
    # a run for another recipient writes its summary under its own stem (RunContext.stem)
    (path,) = (tmp_path / "summaries").glob(f"{NOTEBOOK}*.json")
    summary = json.loads(path.read_text())
    return summary, {h["label"]: h["value"] for h in summary["headlines"]}


def _table(tmp_path, name):
    return pd.read_csv(tmp_path / "tables" / f"07_{name}.csv")


@pytest.mark.slow
def test_notebook_on_the_2026_release(tmp_path, shared_sipri_dir, processed_dir):
    summary, values = _run_notebook(tmp_path, processed_dir, sipri_register=str(shared_sipri_dir / REAL_2026))
    assert summary["summary"].startswith("In 2016-2025, after the report, Iraq received 3,480 million TIV")
    assert values["Mean yearly TIV delivered to Iraq after the report, as % of 2003-2015"] == "77%"
    assert values["States that delivered major arms to Syria after the report"] == "3"
    assert values["States of origin that were ATT parties on 2015-12-04"] == "12 of 18"
    totals = _table(tmp_path, "iraq_before_after")
    assert list(totals["last_year"]) == [2015, 2025] and round(totals["tiv"].iloc[1]) == 3480
    status = _table(tmp_path, "att_named_states").set_index("iso")
    then, now = status.columns[1], status.columns[2]
    assert then.startswith("on 2015-12-04") and now.startswith("at the end of 2025")
    assert (status.loc["USA", then], status.loc["USA", now]) == ("signatory", "signature withdrawn")
    assert (status.loc["CHN", then], status.loc["CHN", now]) == ("outside", "party")
    assert (status.loc["RUS", then], status.loc["RUS", now]) == ("outside", "outside")
    assert (tmp_path / "figures" / "07_iraq_deliveries_by_year.json").is_file()


@pytest.mark.slow
def test_notebook_for_another_recipient_names_nothing_after_iraq(tmp_path, shared_sipri_dir, processed_dir):
    summary, values = _run_notebook(tmp_path, processed_dir, recipients=["Saudi Arabia"],
                                    sipri_register=str(shared_sipri_dir / REAL_2025))
    assert summary["title"] == "After the report: Saudi Arabia"
    assert summary["summary"].startswith("In 2016-2024, after the report, Saudi Arabia received")
    written = [p.name for p in (tmp_path / "tables").iterdir()] + [p.name for p in (tmp_path / "figures").iterdir()]
    assert "07_saudi-arabia_before_after.csv" in written
    assert not [n for n in written if "iraq" in n.lower()]
    assert not [label for label in values if "Iraq" in label] and "Iraq" not in summary["summary"]


@pytest.mark.slow
def test_notebook_on_the_iraq_subset(tmp_path, shared_sipri_dir, processed_dir):
    summary, values = _run_notebook(tmp_path, processed_dir, sipri_register=str(shared_sipri_dir / IRAQ))
    assert (tmp_path / "tables" / "07_iraq_before_after.csv").is_file()
    assert not (tmp_path / "tables" / "07_syria_suppliers_after_report.csv").exists()
    assert "States that delivered major arms to Syria after the report" not in values
    text = (tmp_path / "out.ipynb").read_text()
    assert "Not checkable: this export holds" in text and "Syria is not in it" in text
