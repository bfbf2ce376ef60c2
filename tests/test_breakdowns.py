"""Tests of takingstock.analysis.breakdowns on the real committed catalogues and on invented rows."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from takingstock.analysis import breakdowns as b
from takingstock.core import paths


@pytest.fixture(scope="module")
def processed():
    """The processed catalogue built from the committed raw catalogues (as step 01 does)."""
    cleaning = pytest.importorskip("takingstock.data.cleaning")
    return cleaning.clean_catalogues(str(paths.RAW / "catalogue_*.csv")).clean


def _share(table, state):
    return float(table.loc[table["state"] == state, "share"].iloc[0])


def test_car_2014_shares(processed):
    t = b.by_country(b.select_catalogue(processed, "car_2014_ammunition"))
    assert t["count"].sum() == 1730
    assert round(_share(t, "Soviet Union"), 1) == 28.4  # 492/1730 (USSR + Russia, one figure)
    assert round(_share(t, "China"), 1) == 25.7  # 445/1730
    assert round(_share(t, "United States"), 1) == 18.7  # 323/1730
    assert t.iloc[-1]["state"] == "unknown" and t.iloc[-1]["count"] == 349  # kept, last
    assert round(t["share"].sum(), 6) == 100


def test_car_2017_china_and_eu(processed):
    car17 = b.select_catalogue(processed, "car_2017_weapons")
    t = b.by_country(car17)
    assert t["count"].sum() == 1832
    assert round(_share(t, "China"), 1) == 43.5
    eu = b.eu_share(car17)
    assert eu["count"] == 595  # Romania 222, Hungary 132, Bulgaria 97, Germany 66, Poland 40, Czechia 38
    assert round(eu["share"], 1) == 32.5
    assert eu["members_present"] == ["Bulgaria", "Czechia", "Germany", "Hungary", "Poland", "Romania"]


def test_published_vs_recomputed_agree(processed):
    t = b.published_vs_recomputed(processed)
    assert set(t["catalogue"]) == {"car_2017_weapons"}
    assert len(t) == 12
    assert t["difference_pp"].abs().max() < 0.05  # every published share matches to rounding
    china = t[t["state"] == "China"].iloc[0]
    assert china["share_published"] == 43.5 and round(china["share"], 2) == 43.50


def test_distinct_countries_of_the_report_catalogue(processed):
    ai = b.select_catalogue(processed, "amnesty_2015")
    made = b.distinct_countries(ai, "manufacture")
    assert made["n"] == 11
    assert "Islamic State" in made["excluded"] and "unknown" in made["excluded"]
    assert "Islamic State" not in made["countries"]
    anyrole = b.distinct_countries_any(ai)
    assert anyrole["n"] == 13  # adds France and the Soviet Union (design only)
    assert {"France", "Soviet Union"} <= set(anyrole["countries"])


def test_unknown_shown_and_blocs(processed):
    ai = b.select_catalogue(processed, "amnesty_2015")
    t = b.by_country(ai)
    assert t.iloc[-1]["state"] == "unknown" and t.iloc[-1]["count"] == 9
    blocs = b.by_bloc(ai)
    assert blocs.iloc[-1]["bloc"] == "unknown"
    assert blocs["count"].sum() == len(ai) == 48
    assert int(blocs.loc[blocs["bloc"] == "China", "count"].iloc[0]) == 7


def test_top_n_folds_other_keeps_unknown(processed):
    t = b.top_n(b.by_country(b.select_catalogue(processed, "car_2017_weapons")), 3)
    assert list(t["state"]) == ["China", "Romania", "Russia", "other (9 countries)", "unknown"]
    assert t.loc[3, "count"] == 1832 - 797 - 222 - 176 - 83
    assert round(t["share"].sum(), 6) == 100
    with pytest.raises(b.BreakdownError):
        b.top_n(t, 0)


def test_category_matrix_sums_to_counts(processed):
    ai = b.select_catalogue(processed, "amnesty_2015")
    m = b.category_matrix(ai, n=5)
    assert m["total"].sum() == 48
    assert m.loc["improvised", "Islamic State"] == 4
    assert list(m.columns)[-2:] == ["unknown", "total"]


def test_fold_successors_merges_soviet_union_into_russia(processed):
    ai = b.select_catalogue(processed, "amnesty_2015")
    folded = b.fold_successors(ai)
    design = b.by_country(folded, "design")
    assert "Soviet Union" not in set(design["state"])
    before = b.by_country(ai, "design")
    assert int(design.loc[design["state"] == "Russia", "count"].iloc[0]) == int(
        before.loc[before["state"].isin(["Russia", "Soviet Union"]), "count"].sum())


def test_eras_and_year_filter(processed):
    from takingstock.data.periods import load_periods

    ai = b.select_catalogue(processed, "amnesty_2015")
    dec = b.by_decade(ai)
    assert dec.iloc[-1]["decade"] == "unknown"
    assert round(b.unknown_share(dec, "decade"), 1) == round(42 / 48 * 100, 1)
    per = b.by_period(ai, load_periods())
    assert len(per) == 8 and per["count"].sum() == 48 and per["count"].dtype == "int64"
    f = b.filter_years(ai, 1970, 1990)
    assert len(f) == 4 and f.attrs["year_filter"]["rows_unknown_year"] == 42
    assert "42 have no known year" in b.year_filter_note(f)
    assert len(b.filter_years(ai, 0, 0)) == 48 and b.year_filter_note(b.filter_years(ai)) == ""
    with pytest.raises(b.BreakdownError):
        b.filter_years(ai, 2000, 1990)


def _synthetic(n):
    rng = np.random.default_rng(4)
    states = np.array(["China", "Soviet Union", "United States", "unknown", "Romania"])
    isos = np.array(["CHN", "SUN", "USA", "XUN", "ROU"])
    k = rng.integers(0, 5, n)
    return pd.DataFrame({
        "catalogue": "mine", "record_id": np.arange(n).astype(str), "category": "rifle",
        "manufacture_state": states[k], "manufacture_iso": isos[k], "manufacture_bloc": "x",
        "design_state": states[k], "design_iso": isos[k], "design_bloc": "x",
        "count": np.ones(n, dtype="int64"), "decade": "1970s",
    })


def test_missing_column_is_named():
    with pytest.raises(b.BreakdownError, match="manufacture_iso"):
        b.by_country(pd.DataFrame({"manufacture_state": ["China"], "count": [1]}))
    with pytest.raises(b.BreakdownError, match="not in the processed catalogue"):
        b.select_catalogue(_synthetic(3), "nope")


def test_a_million_rows_are_all_counted():
    df = _synthetic(1_000_000)
    t = b.by_country(df)
    b.category_matrix(df)
    b.distinct_countries(df)
    b.by_decade(df)
    assert t["count"].sum() == 1_000_000 and t.iloc[-1]["state"] == "unknown"


def test_catalogues_to_show_selects_folds_and_filters(processed):
    every = b.catalogues_to_show(processed, "all")
    assert list(every) == b.catalogue_ids(processed)
    one = b.catalogues_to_show(processed, "amnesty_2015", fold=True)
    assert list(one) == ["amnesty_2015"]
    assert "Soviet Union" not in set(one["amnesty_2015"]["design_state"])  # folded into Russia
    assert "Soviet Union" in set(every["amnesty_2015"]["design_state"])
    dated = b.catalogues_to_show(processed, "amnesty_2015", year_from=1900, year_to=1920)["amnesty_2015"]
    assert dated["year_mid"].between(1900, 1920).all() and len(dated) >= 1  # the 1914 rifles


def test_by_bloc_counts_only_states_as_countries(processed):
    blocs = b.by_bloc(b.select_catalogue(processed, "amnesty_2015")).set_index("bloc")
    # Iraq, Austria, Croatia, Iran, Yugoslavia; the Islamic State (XNS) adds items, not a country.
    assert int(blocs.at["non-aligned/other", "countries"]) == 5
    assert int(blocs.at["non-aligned/other", "count"]) == 12
    assert int(blocs.at["unknown", "countries"]) == 0
    assert int(blocs["countries"].sum()) == b.distinct_countries(b.select_catalogue(processed, "amnesty_2015"))["n"] == 11


def test_empty_catalogue_after_year_filter_gives_empty_breakdowns(processed):
    shown = b.catalogues_to_show(processed, "all", year_from=2010, year_to=2020)
    car14 = shown["car_2014_ammunition"]  # CAR gives no years: nothing can be placed
    assert car14.empty
    assert b.year_filter_note(car14).endswith("0 rows kept, 7 left out, of which 7 have no known year.")
    top = b.top_n(b.by_country(car14), 10)
    assert top.empty and list(top.columns) == ["state", "iso", "bloc", "rows", "count", "share"]
    m = b.category_matrix(car14, "manufacture", 10)
    assert m.empty and list(m.columns) == ["total"]
    assert b.by_bloc(car14).empty


def test_catalogues_to_show_folds_with_the_given_crosswalk(processed, tmp_path):
    text = (paths.RAW / "country_crosswalk.csv").read_text(encoding="utf-8")
    own = tmp_path / "country_crosswalk.csv"  # a crosswalk whose Soviet Union folds into Ukraine
    own.write_text(text.replace("SUN,Russia,", "SUN,Ukraine,"), encoding="utf-8")
    committed = b.catalogues_to_show(processed, "car_2014_ammunition", fold=True)["car_2014_ammunition"]
    assert int(committed.loc[committed["manufacture_state"] == "Russia", "count"].sum()) == 492
    folded = b.catalogues_to_show(processed, "car_2014_ammunition", fold=True, crosswalk=own)["car_2014_ammunition"]
    assert int(folded.loc[folded["manufacture_state"] == "Ukraine", "count"].sum()) == 492
    assert "Russia" not in set(folded["manufacture_state"])


@pytest.mark.slow
def test_notebook_02_with_a_year_range_skips_catalogues_left_empty(tmp_path, monkeypatch):
    pm = pytest.importorskip("papermill")
    import json

    out = tmp_path / "out"
    pm.execute_notebook(str(paths.NOTEBOOKS / "02_country_of_origin.ipynb"), str(tmp_path / "02.ipynb"),
                        kernel_name="python3", progress_bar=False,
                        parameters={"catalogue": "all", "year_from": 1990, "year_to": 2020, "static_figures": False,
                                    "output_dir": str(out), "processed_dir": str(tmp_path / "none")})
    nb = json.loads((tmp_path / "02.ipynb").read_text())
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "car_2014_ammunition: nothing left in this year range; not shown below." in printed
    assert "0 rows kept, 7 left out, of which 7 have no known year." in printed
    made = sorted(p.name for p in (out / "tables").glob("02_*_manufacture.csv"))
    assert made == ["02_amnesty_2015_manufacture.csv"]
    kept = pd.read_csv(out / "tables" / "02_amnesty_2015_manufacture.csv")
    dated = b.filter_years(b.select_catalogue(
        pytest.importorskip("takingstock.data.cleaning").clean_catalogues(str(paths.RAW / "catalogue_*.csv")).clean,
        "amnesty_2015"), 1990, 2020)
    assert kept["count"].sum() == dated["count"].sum() > 0


def test_announce_selection_names_and_drops_empty_catalogues(processed, capsys):
    data = b.catalogues_to_show(processed, "all", year_from=1990, year_to=2020)
    kept = b.announce_selection(data)
    out = capsys.readouterr().out
    assert list(kept) == ["amnesty_2015"]  # the CAR samples give no years
    assert "car_2014_ammunition: nothing left in this year range; not shown below." in out
    assert "car_2017_weapons: nothing left in this year range" in out


def test_rows_by_counts_rows_and_units_and_names_the_first_ids():
    frame = pd.DataFrame({"record_id": [f"r{i}" for i in range(1, 26)],
                          "designation": ["a", "b"] * 12 + [None], "reason": "why",
                          "count": range(1, 26)})
    lines = b.rows_by(frame, ["designation", "reason"], listed=3)
    assert lines["designation"].tolist()[:2] == ["a", "b"] and pd.isna(lines.at[2, "designation"])
    assert lines["rows"].tolist() == [12, 12, 1]
    assert lines["count"].tolist() == [sum(range(1, 25, 2)), sum(range(2, 25, 2)), 25]
    assert lines["record_ids"].tolist() == ["r1; r3; r5; and 9 more", "r2; r4; r6; and 9 more", "r25"]
    assert b.rows_by(frame.iloc[:0], ["designation"]).empty
    with pytest.raises(b.BreakdownError, match=r"rows_by: .*\['category'\]"):
        b.rows_by(frame, ["category"])


@pytest.mark.parametrize("values", [
    pd.Series(["b", "a", None, "b"], dtype="category"),
    pd.Series(["b", "a", None, "b"]),
    pd.Series(["x", "nan"], dtype="category"),
    pd.Series([1, 2, None], dtype="category"),  # not text: the plain way
])
def test_catalogue_selection_by_category_agrees_with_text_per_row(values):
    frame = pd.DataFrame({"catalogue": values, "n": range(len(values))})
    assert b.catalogue_ids(frame) == [str(c) for c in pd.unique(values.astype(str).to_numpy(dtype=object))]
    for text in ("a", "b", "x", "nan", "1"):
        assert list(b._text_equals(values, text)) == list((values.astype(str) == text).to_numpy(dtype=bool))
