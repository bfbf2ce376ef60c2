"""The ATT status table (data/raw/att_status.csv) and the status rules of takingstock.data.att.

The facts asserted here are ones no later edit of the table should change (each is in the UN
depositary record or the government's own announcement, see the rows' source URLs)."""

import datetime as dt

import pandas as pd
import pytest

from takingstock.data import att
from takingstock.data.countries import load_crosswalk


@pytest.fixture(scope="module")
def table():
    return att.load_att()


def _row(table, iso):
    return table.set_index("iso").loc[iso]


@pytest.mark.parametrize("iso", ["GBR", "FRA", "DEU"])
def test_uk_france_germany_ratified_on_2_april_2014(table, iso):
    row = _row(table, iso)
    assert row["consent_date"] == "2014-04-02"
    assert row["consent_kind"] == "ratification"
    assert att.status_on(table, iso, "2014-04-01") == "signatory"
    assert att.status_on(table, iso, "2014-04-02") == "party"


def test_china_acceded_in_july_2020(table):
    row = _row(table, "CHN")
    assert row["consent_kind"] == "accession"
    assert row["consent_date"].startswith("2020-07")
    assert row["signature_date"] == ""
    assert att.status_in_year(table, "CHN", 2019) == "outside"
    assert att.status_in_year(table, "CHN", 2020) == "party"


def test_usa_signed_in_2013_never_ratified_and_withdrew_its_signature(table):
    row = _row(table, "USA")
    assert row["signature_date"] == "2013-09-25"
    assert row["consent_date"] == ""
    assert row["signature_withdrawn_date"] == "2019-07-18"
    assert [att.status_in_year(table, "USA", y) for y in (2012, 2013, 2018, 2019, 2025)] == [
        "outside", "signatory", "signatory", "signature withdrawn", "signature withdrawn"]


def test_russia_never_signed(table):
    row = _row(table, "RUS")
    assert row["signature_date"] == "" and row["consent_date"] == ""
    assert {att.status_in_year(table, "RUS", y) for y in range(2013, 2026)} == {"outside"}


def test_every_row_with_a_fact_names_its_source(table):
    sourced = table[table["confidence"] != "none"]
    assert (sourced["source_urls"].str.startswith("http")).all()
    blank = table[table["confidence"] == "none"]
    assert (blank[["signature_date", "consent_date", "party_by"]] == "").all().all()


def test_status_is_computed_for_the_year_of_each_delivery_not_today(table):
    deliveries = pd.DataFrame({"supplier_iso": ["CHN", "CHN", "USA", "USA", "GBR"],
                               "year": [2016, 2021, 2016, 2020, 2014]})
    out = att.with_status(deliveries, table)
    assert list(out["att_status"]) == ["outside", "party", "signatory", "signature withdrawn", "party"]


def test_partial_and_unknown_dates(table, tmp_path):
    # a month-only date counts from the month's last day; '?' and party_by give unknown before
    assert att.status_on(table, "LTU", "2014-12-30") == "unknown"  # signed before, date not found
    assert att.status_on(table, "LTU", "2013-01-01") == "outside"  # before the treaty opened
    assert att.status_on(table, "LTU", "2014-12-31") == "party"
    assert att.status_in_year(table, "GRC", 2020) == "unknown"
    assert att.status_in_year(table, "KOR", 2016) == "unknown"
    assert att.status_in_year(table, "KOR", 2017) == "party"
    assert att.status_in_year(table, "IRQ", 2020) == "unknown"  # no source: never guessed
    assert att.status_in_year(table, "XXX", 2020) == "unknown"  # not in the table


def test_bad_table_names_file_row_and_column(tmp_path):
    bad = tmp_path / "att.csv"
    text = att.ATT_FILE.read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace("2014-04-02", "2 April 2014", 1)
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(att.AttError, match=r"att.csv, row 4, column 'consent_date'"):
        att.load_att(bad)


def test_origin_states_fold_former_states_to_successors():
    cw = load_crosswalk()
    rows = pd.DataFrame({"design_iso": ["SUN", None, "XNS"], "manufacture_iso": ["CHN", "YUG", "IRQ"]})
    got = att.origin_states(rows, cw)
    assert set(zip(got["origin"], got["state"])) == {("Soviet Union", "Russia"), ("China", "China"),
                                                     ("Yugoslavia", "Serbia"), ("Iraq", "Iraq")}


def test_status_table_then_and_now(table):
    got = att.status_table(table, ["RUS", "CHN", "USA", "GBR"],
                           {"then": dt.date(2015, 12, 4), "now": dt.date(2025, 12, 31)})
    assert list(got["then"]) == ["outside", "outside", "signatory", "party"]
    assert list(got["now"]) == ["outside", "party", "signature withdrawn", "party"]


def test_stale_rows_name_non_parties_whose_sources_stop_early(table):
    stale = att.stale_rows(table, ["GBR", "RUS", "IRQ", "CHN", "TUR"], 2025)
    # the UK is a party (not listed); China's accession is recorded; Russia's sources stop in 2019
    assert list(stale["iso"]) == ["RUS", "TUR", "IRQ"]
