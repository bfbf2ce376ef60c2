"""Tests of takingstock.report.labels and of the reader's formatting of tables (issue 21)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from takingstock.data.catalogue_names import catalogue_titles
from takingstock.data.runcontext import RunContext
from takingstock.report import labels, tables


def test_headers_are_words_not_ids():
    assert labels.header("period_id") == "Period"
    assert labels.header("tiv_share") == "Share of TIV"
    assert labels.header("tiv") == "TIV (millions)"
    assert labels.header("tiv_per_year") == "TIV per year (millions)"
    assert labels.header("tiv [2025-03-13]") == "TIV (millions) [2025-03-13]"
    assert labels.header("source_ids") == "Sources"
    assert labels.header("n_items") == "Number of items"
    assert labels.header("unknown_share") == "Share of unknown"
    assert labels.header("design_state") == "Design state"  # the readable fallback
    assert labels.header("Soviet Union") == "Soviet Union"  # words stay words
    assert labels.header("allowed to differ") == "Allowed to differ"
    assert labels.header("2025-03-13") == "2025-03-13"
    assert labels.headers(["period_id", "period", "tiv"]) == ["Period code", "Period", "TIV (millions)"]


def test_catalogue_ids_read_as_titles(tmp_path):
    assert labels.catalogue_title("amnesty_2015") == "Amnesty International, Taking Stock (2015)"
    assert labels.catalogue_title("car_2014_ammunition") == "Conflict Armament Research (2014)"
    assert labels.catalogue_title("car_2017_weapons") == "Conflict Armament Research (2017)"
    assert labels.catalogue_title("my_own_items") == "My own items"  # not in the data package
    pkg = tmp_path / "datapackage.json"
    pkg.write_text('{"resources": [{"name": "catalogue_a_2020", "title": "Us (2020), one: x"},'
                   '{"name": "catalogue_b_2020", "title": "Us (2020), two: y"}]}')
    # two titles that would shorten to the same words keep their longer form
    assert labels.catalogue_title("a_2020", pkg) == "Us (2020), one"


def test_one_reader_of_catalogue_titles_sees_a_changed_package(tmp_path):
    """Labels and the run context read titles through catalogue_titles, once per version of the
    package file: a package rewritten in the same process gives its new titles to both."""
    pkg = tmp_path / "datapackage.json"
    pkg.write_text('{"resources": [{"name": "catalogue_a_2020", "title": "Us (2020), one: x"}]}')
    assert labels.catalogue_title("a_2020", pkg) == "Us (2020)"
    pkg.write_text('{"resources": [{"name": "catalogue_a_2020", "title": "Them all (2021), two: yz"},'
                   '{"name": "sources", "title": "not a catalogue"}]}')
    assert catalogue_titles(pkg) == {"a_2020": "Them all (2021), two"}
    assert labels.catalogue_title("a_2020", pkg) == "Them all (2021)"
    run = RunContext(raw_dir=tmp_path)  # the committed package first, then the raw folder's
    assert run.catalogue_title("a_2020") == "Them all (2021), two"
    assert run.catalogue_title("a_2020", short=True) == "Them all (2021)"
    assert run.catalogue_title("amnesty_2015") == "Amnesty International, Taking Stock (2015)"
    assert catalogue_titles(tmp_path / "missing.json") == {}


def test_lists_and_years_read_as_text():
    assert labels.list_text(["A", "B", "C"]) == "A, B and C"
    assert labels.list_text(["A"]) == "A" and labels.list_text([]) == ""
    assert labels.year_ranges([2014, 2015, 2016, 2017, 2018]) == "2014\u20132018"
    assert labels.year_ranges([2016, 1991, 1980, 1981, 1982, 2015]) == "1980\u20131982, 1991, 2015\u20132016"
    assert labels.cell_text([2014, 2015, 2016]) == "2014\u20132016"
    assert labels.cell_text(np.array([2005])) == "2005"
    assert labels.cell_text(("Iraq", "Syria", "Yemen")) == "Iraq, Syria and Yemen"
    assert labels.cell_text({"a": 1, "b": None}) == "a: 1; b: \u2013"
    assert labels.year_list_text("1998; 1999; 2001") == "1998\u20131999, 2001"
    assert labels.year_list_text("[2005]") == "2005"
    assert labels.year_list_text("Second-hand; aid") is None
    for missing in (None, float("nan"), pd.NA, pd.NaT):
        assert labels.cell_text(missing) == "\u2013"


def test_one_precision_per_column_and_no_small_value_printed_as_zero():
    assert labels.column_decimals([4270.0, 4700.03, 12.0]) == 0
    assert labels.column_decimals([528.48, 2.35]) == 1
    assert labels.column_decimals([0.4, 3150.89]) == 1
    assert labels.column_decimals([0.04, 1.0]) == 2
    assert labels.format_number(3150.888847486363) == "3,151"
    assert labels.format_number(0.004, 2) == "<0.01" and labels.format_number(-0.3, 0) == ">-1"
    assert labels.format_number(-0.0001, 0) != "-0"
    assert labels.format_number(2.35 - 2.3500000000000227, 2) == "0.00"  # float noise is zero
    assert labels.format_number(-1e-13, 1) == "0.0"
    assert labels.tiv_text(3150.888847486363) == "3,151 million TIV"
    assert labels.tiv_text(0.4) == "0.4 million TIV"
    assert labels.tiv_text(0) == "0 TIV"


def test_tables_show_numbers_for_readers():
    df = pd.DataFrame({
        "period_id": ["a", "b", "c"],
        "items": [20634.88, 4270.0, None],
        "tiv": [3150.888847486363, 4700.03, 0.3],
        "tiv_per_year": [3150.888847486363, 521.7, 12.0],
        "tiv_share": [51.757817701760246, 26.66, 0.0],
        "delivery_years": [[2014, 2015, 2016, 2017, 2018], [2005], None],
        "suppliers": [["Russia", "Iran", "China"], [], ["Iran"]],
        "catalogue": ["amnesty_2015", "car_2014_ammunition", None],
        "note": [None, float("nan"), "x"],
    })
    shown = tables.format_frame(df)
    assert list(shown["items"]) == ["20,635", "4,270", "\u2013"]  # whole items
    assert list(shown["tiv"]) == ["3,150.9", "4,700.0", "0.3"]  # one precision for the column
    assert list(shown["tiv_per_year"]) == ["3,151", "522", "12"]  # not a year column
    one_row = tables.format_frame(pd.DataFrame({"tiv_a_year": [1950.3], "first_year": [2016]}))
    assert list(one_row.iloc[0]) == ["1,950", "2016"]  # an amount a year that looks like a year
    assert list(shown["tiv_share"]) == ["51.8%", "26.7%", "0.0%"]
    assert list(shown["delivery_years"]) == ["2014\u20132018", "2005", "\u2013"]
    assert list(shown["suppliers"]) == ["Russia, Iran and China", "\u2013", "Iran"]
    assert list(shown["catalogue"]) == ["Amnesty International, Taking Stock (2015)",
                                        "Conflict Armament Research (2014)", "\u2013"]
    assert list(shown["note"]) == ["\u2013", "\u2013", "x"]
    html_ = tables.to_html(df, "Deliveries")
    md = tables.to_markdown(df, "Deliveries")
    for text in (html_, md):
        assert "nan" not in text and "None" not in text and "[" not in text
        assert "period_id" not in text and "tiv_share" not in text and "period\\_id" not in text
    assert '<th scope="col">Share of TIV</th>' in html_ and '<th scope="col">Period</th>' in html_
    assert "| Period | Items | TIV \\(millions\\) |" in md
