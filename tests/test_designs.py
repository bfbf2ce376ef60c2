"""takingstock.analysis.designs and data/raw/weapon_types.csv: the era of design and the state-of-design fill.

Real values come from the committed reference and catalogues; broken inputs are altered copies
written to tmp_path.
"""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest

from takingstock.data import catalogue_files, cleaning, countries, design_era, weapon_types
from takingstock.data.periods import load_periods
from takingstock.analysis import designs
from takingstock.core import paths


@pytest.fixture(scope="module")
def crosswalk():
    return countries.load_crosswalk(paths.RAW / "country_crosswalk.csv")


@pytest.fixture(scope="module")
def periods():
    return load_periods(paths.RAW / "periods.csv")


@pytest.fixture(scope="module")
def types(crosswalk):
    return weapon_types.load_weapon_types(paths.RAW / "weapon_types.csv", crosswalk)


@pytest.fixture(scope="module")
def processed():
    """The committed catalogues cleaned as step 01 cleans them (with the design columns)."""
    return cleaning.clean_catalogues(str(paths.RAW / "catalogue_*.csv"),
                                      sources=paths.RAW / "sources.csv").clean


def _by_id(frame):
    return frame.set_index("record_id")


# --- the reference: real facts, and every fact sourced -------------------------------------------

@pytest.mark.parametrize("type_id, state, year", [
    ("ak47", "Soviet Union", 1949), ("fal", "Belgium", 1954), ("svd", "Soviet Union", 1963),
    ("g3", "West Germany", 1959), ("m1", "USA", 1980)])
def test_reference_gives_the_state_and_year_of_well_known_types(types, type_id, state, year):
    row = types.set_index("type_id").loc[type_id]
    assert row["design_state"] == state
    assert int(row["service_year"]) == year
    assert row["service_year_precision"] == "year"
    assert row["service_year_basis"] == "entered service"


def test_no_fact_of_the_reference_lacks_a_source(types):
    checked = 0
    for _, row in types.iterrows():
        for fact, (values, url_col, conf_col) in weapon_types.FACTS.items():
            given = any(pd.notna(row[v]) and str(row[v]) != "" for v in values)
            if given:
                urls = weapon_types.split_urls(row[url_col])
                assert urls and all(re.match(r"https?://\S+$", u) for u in urls), (row["type_id"], fact)
                assert row[conf_col] in weapon_types.CONFIDENCES, (row["type_id"], fact)
                checked += 1
            else:
                assert row[url_col] == "" and row[conf_col] == "", (row["type_id"], fact)
    # 19 states of design, 16 years (none for the HOT, Metis, AR-15), 5 production ranges
    assert checked == 19 + 16 + 5


def test_reference_leaves_unknown_years_empty_and_says_so(types):
    ref = types.set_index("type_id")
    for tid in ("hot", "metis", "ar15"):
        assert pd.isna(ref.at[tid, "service_year"])
        assert "not found" in ref.at[tid, "notes"]


def test_every_state_of_design_is_a_crosswalk_name(types, crosswalk):
    names = [n for cell in types["design_state"] for n in weapon_types.split_list(cell)]
    assert {crosswalk.resolve(n).state for n in names} == {
        "Soviet Union", "Yugoslavia", "United States", "Germany", "Belgium", "Russia", "China", "France"}


def test_every_catalogue_designation_is_placed_or_has_a_reason(processed):
    unplaced = designs.unplaced_rows(processed)
    assert len(processed) == 68 and len(unplaced) == 68 - 16
    assert (unplaced["reason"].str.len() > 10).all()
    placed = set(processed.loc[processed["design_era_placed"], "record_id"])
    assert placed == {"ai15-ak-russia", "ai15-ak-china", "ai15-tabuk", "ai15-m16", "ai15-cq", "ai15-g3",
                      "ai15-g36", "ai15-fal", "ai15-svd", "ai15-kornet", "ai15-hj8", "ai15-milan-france",
                      "ai15-milan-germany", "ai15-tow", "ai15-humvee", "ai15-abrams"}
    reasons = _by_id(unplaced)["reason"]
    assert reasons["ai15-bushmaster"].startswith("names more than one weapon type (M4 carbine, ArmaLite AR-15")
    assert reasons["ai15-hot-france"].endswith("no page read gives the year it entered service")
    assert reasons["ai15-metis"].startswith("9K115 Metis")
    assert reasons["ai15-mg-russia"] == "model not given in the sources"
    assert reasons["ai15-impro-rockets"].startswith("improvised weapon")
    assert reasons["ai15-cluster"].startswith("improvised weapon")  # repurposed by IS (acquisition)
    counts = unplaced[unplaced["catalogue"] == "amnesty_2015"]["reason"].str[:18].value_counts().to_dict()
    assert counts == {"model not given in": 12, "no weapon type of ": 11, "improvised weapon:": 5,
                      "HOT anti-tank guid": 2, "names more than on": 1, "9K115 Metis anti-t": 1}
    car = unplaced[unplaced["catalogue"] != "amnesty_2015"]
    assert len(car) == 20 and set(car["reason"]) == {"a count over many weapon types (no model named)"}


def test_amnesty_catalogue_by_decade_and_period_of_design(processed, periods):
    ai = processed[processed["catalogue"] == "amnesty_2015"]
    dec = designs.by_design_decade(ai).set_index("decade")["count"].to_dict()
    assert dec == {"1940s": 2, "1950s": 2, "1960s": 2, "1970s": 4, "1980s": 4, "1990s": 2, "unknown": 32}
    per = designs.by_design_period(ai, periods).set_index("period_id")["count"]
    assert (per["pre-1980"], per["iran-iraq-war"], per["un-embargo"], per["unknown"]) == (10, 3, 2, 33)
    # the CQ is known only to the decade (1980s), which spans the war and 1989-1990
    cq = _by_id(ai).loc["ai15-cq"]
    assert (cq["design_era_decade"], cq["design_era_period"]) == ("1980s", "unknown")
    assert "spans more than one period" in cq["design_era_note"]
    summary = designs.placement_summary(processed).set_index("catalogue")
    assert summary.loc["amnesty_2015", "share_rows_placed"] == 33.3
    assert summary.loc["amnesty_2015", "rows_with_period"] == 15
    assert summary.loc["car_2014_ammunition", "share_count_placed"] == 0.0


def test_soviet_era_designs_among_the_placed_item_types(processed, types, periods):
    ai = processed[processed["catalogue"] == "amnesty_2015"]
    got = designs.designs_of_state_before(ai, ["Soviet Union"], 1991)
    assert (got["placed"], got["matching"]) == (16, 3)
    assert got["share"] == pytest.approx(18.75)
    assert got["rows"] == ["Kalashnikov (AK series) assault rifle", "Dragunov SVD sniper rifle"]
    # Cold-War designs (by 1991) among the placed types: all but the G36 (1997) and Kornet (1998)
    cold = designs.designs_of_state_before(ai, None, 1991)
    assert (cold["matching"], cold["share"]) == (14, 87.5)
    ak = designs.type_summary(types, "ak47", periods)
    assert (ak["design_states"], ak["service_year"], ak["decade"], ak["period"]) == (
        ["Soviet Union"], 1949, "1940s", "Before 1980")
    with pytest.raises(KeyError, match="not in the reference"):
        designs.type_summary(types, "pkm", periods)


# --- the state of design: filled where empty, never overwritten -----------------------------------

def test_empty_state_of_design_is_filled_and_marked(processed):
    tabuk = _by_id(processed).loc["ai15-tabuk"]
    assert tabuk["country_of_design"] == ""  # the raw value is kept as written
    assert (tabuk["design_state"], tabuk["design_iso"], tabuk["design_state_from"]) == (
        "Yugoslavia", "YUG", "weapon_types.csv")
    assert list(designs.design_state_fills(processed)["record_id"]) == ["ai15-tabuk"]
    froms = processed.groupby("design_state_from").size().to_dict()
    # 14 report rows and all 20 CAR rows give no state of design; only the Tabuk names a type
    assert froms == {"catalogue": 34, "weapon_types.csv": 1, "unknown": 33}
    assert designs.design_state_disagreements(processed).empty
    milan = _by_id(processed).loc["ai15-milan-germany"]
    assert (milan["design_state"], milan["design_state_agrees"]) == ("Germany", "yes")


def _catalogue(tmp_path, rows):
    header = ",".join(catalogue_files.RAW_COLUMNS)
    lines = [header] + [",".join(r) for r in rows]
    path = tmp_path / "catalogue_mine.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _row(rid, designation, design="", category="rifle"):
    return [rid, category, designation, design, "", "", "", "", "", "item", "", "own", "x", ""]


def test_a_state_the_row_gives_is_kept_and_a_disagreement_listed(tmp_path):
    path = _catalogue(tmp_path, [_row("a", "AK-47", "China"), _row("b", "MILAN", "", "guided anti-tank missile"),
                                 _row("c", "Tabuk"), _row("d", "ak47 rifle", "USSR")])
    clean = cleaning.clean_catalogues(path).clean.set_index("record_id")
    assert (clean.at["a", "design_state"], clean.at["a", "design_state_agrees"]) == ("China", "no")
    dis = designs.design_state_disagreements(clean.reset_index())
    assert list(dis["record_id"]) == ["a"] and dis.at[0, "design_state_reference"] == "Soviet Union"
    assert clean.at["d", "design_state_agrees"] == "yes"  # USSR is the Soviet Union
    # a joint design fills with the crosswalk's joint entry
    assert (clean.at["b", "design_state"], clean.at["b", "design_iso"]) == ("France/Germany (joint)", "XFG")
    folded = cleaning.clean_catalogues(path, fold_successors=True).clean.set_index("record_id")
    assert (folded.at["c", "design_state"], folded.at["c", "design_iso"]) == ("Serbia", "SRB")


def test_unplaced_rows_are_published_one_line_per_designation_and_reason(processed):
    lines = designs.unplaced_summary(processed)
    assert list(lines.columns) == ["catalogue", "designation", "reason", "rows", "count", "record_ids"]
    per = lines.groupby("catalogue")[["rows", "count"]].sum()
    assert per.loc["amnesty_2015"].tolist() == [32, 32]
    assert per.loc["car_2014_ammunition"].tolist() == [7, 1730]
    assert per.loc["car_2017_weapons"].tolist() == [13, 1832]
    # HOT's two partner-state rows share a designation and a reason: one line of two rows
    assert (lines["catalogue"] == "amnesty_2015").sum() == 31
    hot = lines.set_index("designation").loc["HOT anti-tank guided missile"]
    assert (hot["rows"], hot["record_ids"]) == (2, "ai15-hot-france; ai15-hot-germany")
    assert hot["reason"].endswith("no page read gives the year it entered service")
    # every unplaced row is named in exactly one line, with the reason it had row by row
    named = lines.assign(record_id=lines["record_ids"].str.split("; ")).explode("record_id")
    rows = designs.unplaced_rows(processed)
    assert sorted(named["record_id"]) == sorted(rows["record_id"])
    assert (named.set_index("record_id")["reason"].sort_index()
            == rows.set_index("record_id")["reason"].sort_index()).all()


def test_many_unplaced_rows_of_one_designation_make_one_line(tmp_path):
    mg = "Russian machine guns (models not given)"
    rows = [_row(f"mg-{i}", mg, "Russia", "machine gun") for i in range(1, 1201)]
    rows += [_row("ak", "AK-47", "Soviet Union"), _row("x", "Chinese machine guns", "", "machine gun")]
    clean = cleaning.clean_catalogues(_catalogue(tmp_path, rows)).clean
    lines = designs.unplaced_summary(clean).set_index("designation")
    assert list(lines.index) == [mg, "Chinese machine guns"]  # the AK-47 is placed
    line = lines.loc[mg]
    assert (line["rows"], line["count"], line["reason"]) == (1200, 1200, "model not given in the sources")
    assert line["record_ids"] == "; ".join(f"mg-{i}" for i in range(1, 11)) + "; and 1,190 more"
    assert lines.loc["Chinese machine guns", "record_ids"] == "x"


# --- matching ----------------------------------------------------------------------------------

def test_normalise_splits_letters_from_digits_and_drops_accents_and_punctuation():
    assert weapon_types.normalise("AK-47") == weapon_types.normalise("ak47") == weapon_types.normalise("AK 47") == ("ak", "47")
    assert weapon_types.normalise("M-1A1 Abrams") == ("m", "1", "a", "1", "abrams")
    assert weapon_types.normalise("Fusil Automatique Léger") == ("fusil", "automatique", "leger")
    assert weapon_types.normalise("Heckler & Koch") == ("heckler", "koch")
    assert weapon_types.normalise(None) == ()


def test_matching_is_on_whole_tokens_and_prefers_the_longer_name(types):
    got = weapon_types.match_designations(pd.Series([
        "HOT anti-tank missile", "a shot in the dark", "G36 rifle", "HK G3", "M1A1 Abrams tank",
        "Abrams", "Red Arrow-8E", "Bushmaster M4 or AR-15", "<script>alert(1)</script>", ""]), types)
    assert list(got["weapon_type"]) == ["hot", "", "g36", "g3", "m1a1", "m1", "hj8", "", "", ""]
    assert list(got["weapon_type_match"]) == ["matched", "none", "matched", "matched", "matched",
                                              "matched", "matched", "ambiguous", "none", "none"]
    assert got.at[7, "candidates"] == "m4;ar15"


def test_unmatched_reasons():
    assert design_era.unmatched_reason("pistols (generic)", "item", "pistol") == "model not given in the sources"
    assert design_era.unmatched_reason("weapons made in Iraq", "derived", "other").startswith("a count over many")
    assert design_era.unmatched_reason("IEDs", "item", "improvised").startswith("improvised weapon")
    assert design_era.unmatched_reason("cluster munitions", "item", "other", "improvised").startswith("improvised")
    assert design_era.unmatched_reason("PKM machine gun", "item", "machine gun").startswith(
        "no weapon type of weapon_types.csv")


def test_a_decade_inside_one_period_gets_that_period(periods):
    got = design_era.design_eras(pd.Series([1970, 1980, 1985, None], dtype="Int64"),
                              pd.Series(["decade", "decade", "year", ""]), periods)
    assert list(got["design_era_decade"]) == ["1970s", "1980s", "1980s", "unknown"]
    assert list(got["design_era_period_id"]) == ["pre-1980", "unknown", "iran-iraq-war", "unknown"]


def test_many_rows_with_few_designations(types, crosswalk, periods):
    frame = pd.DataFrame({"designation": ["AK-47", "Tabuk", "PKM"] * 50_000,
                          "country_of_design": ["Soviet Union", "", ""] * 50_000,
                          "count_basis": "item", "category": "rifle", "count": 1,
                          "design_state": ["Soviet Union", "unknown", "unknown"] * 50_000,
                          "design_iso": ["SUN", "XUN", "XUN"] * 50_000, "design_bloc": "x"})
    before = frame.copy()
    out = design_era.add_design_columns(frame, types, crosswalk, periods)
    assert int(out["design_era_placed"].sum()) == 100_000
    assert (out.loc[1::3, "design_state"] == "Yugoslavia").all()
    assert (out.loc[2::3, "design_state_from"] == "unknown").all()
    assert frame.equals(before)  # the filled states and new columns went to the copy only


def test_an_empty_catalogue_gets_the_columns(processed, types, crosswalk, periods):
    empty = design_era.add_design_columns(processed.iloc[:0].drop(columns=list(design_era.ADDED_COLUMNS)),
                                       types, crosswalk, periods)
    assert len(empty) == 0 and all(c in empty.columns for c in design_era.ADDED_COLUMNS)
    assert designs.placement_summary(empty).empty


def test_processed_catalogue_written_by_step_01_has_the_columns(tmp_path, processed):
    written = cleaning.write_outputs(cleaning.CleaningResult(processed, pd.DataFrame(), pd.DataFrame(),
                                                               pd.DataFrame()), tmp_path)
    back = pd.read_parquet(written["catalogue"])
    assert all(c in back.columns for c in design_era.ADDED_COLUMNS)
    assert back["design_era_year"].dtype == "Int64"
    assert design_era.with_design_columns(back) is back
    older = back.drop(columns=list(design_era.ADDED_COLUMNS))
    again = design_era.with_design_columns(older)
    assert list(again["design_era_decade"]) == list(back["design_era_decade"])


# --- bad references: a clear error naming file, line and column -----------------------------------

def _altered(tmp_path, edit):
    text = (paths.RAW / "weapon_types.csv").read_text(encoding="utf-8")
    path = tmp_path / "weapon_types.csv"
    path.write_text(edit(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace(",Soviet Union,https://todayshistory.org/13-november-1947-3/19074/,high,",
                         ",Soviet Union,,high,", 1),
     r"weapon_types.csv: line 2, column design_state_url: design_state is given without a source URL"),
    (lambda t: t.replace("1949,year,entered service", "1949,decade,entered service", 1),
     r"line 2, column service_year: a decade is written as its first year"),
    (lambda t: t.replace(",Yugoslavia,https://sofrep", ",Yugoslavija,https://sofrep", 1),
     r"line 3, column design_state: unknown country 'Yugoslavija'.*Yugoslavia"),
    (lambda t: t.replace("spellings,", "spelling,", 1), r"missing column\(s\) \['spellings'\]"),
    (lambda t: t.replace("Tabuk,rifle", "Tabuk;AK 47,rifle", 1),
     r"line 3, column spellings: 'AK 47' is also a spelling of 'ak47' \(line 2\)"),
    (lambda t: t.replace("1949,year,entered service,https://todayshistory.org/13-november-1947-3/19074/ "
                         "http://www.tactical-life.com/exclusives/assault-rifle-of-the-week-5/,high",
                         "1949,year,entered service,https://todayshistory.org/13-november-1947-3/19074/ "
                         "http://www.tactical-life.com/exclusives/assault-rifle-of-the-week-5/,sure", 1),
     r"line 2, column service_year_confidence: confidence must be one of high, medium, low"),
])
def test_a_broken_reference_is_refused_naming_line_and_column(tmp_path, crosswalk, edit, message):
    path = _altered(tmp_path, edit)
    with pytest.raises(weapon_types.WeaponTypesError, match=message):
        weapon_types.load_weapon_types(path, crosswalk)


def test_a_missing_reference_is_named(tmp_path):
    with pytest.raises(weapon_types.WeaponTypesError, match="weapon-type reference not found"):
        weapon_types.load_weapon_types(tmp_path / "weapon_types.csv")


# --- notebook 03 ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_notebook_03_shows_the_era_of_design_for_every_catalogue(tmp_path):
    pm = pytest.importorskip("papermill")
    raw = tmp_path / "raw"
    shutil.copytree(paths.RAW, raw, ignore=shutil.ignore_patterns("sipri"))
    out = tmp_path / "out"
    pm.execute_notebook(str(paths.NOTEBOOKS / "03_eras.ipynb"), str(tmp_path / "03.ipynb"), kernel_name="python3",
                        parameters={"output_dir": str(out), "processed_dir": str(tmp_path / "none"),
                                    "raw_dir": str(raw), "sipri_register": ""}, progress_bar=False)
    tables = out / "tables"
    placed = pd.read_csv(tables / "03_design_era_placed.csv").set_index("catalogue")
    assert list(placed.index) == ["amnesty_2015", "car_2014_ammunition", "car_2017_weapons"]
    assert placed.loc["amnesty_2015", "rows_placed"] == 16
    for cat, lines, n, units in (("amnesty_2015", 31, 32, 32), ("car_2014_ammunition", 7, 7, 1730),
                                 ("car_2017_weapons", 13, 13, 1832)):
        unplaced = pd.read_csv(tables / f"03_{cat}_design_unplaced.csv", keep_default_na=False)
        assert (len(unplaced), unplaced["rows"].sum(), unplaced["count"].sum()) == (lines, n, units)
        assert (unplaced["reason"] != "").all()
    dec = pd.read_csv(tables / "03_amnesty_2015_design_decades.csv").set_index("decade")
    assert dec.loc["1980s", "count"] == 4
    assert (out / "figures" / "03_amnesty_2015_design_decades.html").exists()
    assert not (out / "figures" / "03_car_2014_ammunition_design_decades.html").exists()
    assert len(pd.read_csv(tables / "03_weapon_types.csv")) == 19
    assert list(pd.read_csv(tables / "03_design_state_filled.csv")["record_id"]) == ["ai15-tabuk"]
    text = (tmp_path / "03.ipynb").read_text(encoding="utf-8")
    assert "made *no earlier than* that year" in text
    heads = {h["label"]: h["value"] for h in json.loads((out / "summaries" / "03_eras.json").read_text())["headlines"]}
    assert heads["Amnesty International (2015): era of design known"] == "33.3% of item types (16 of 48 rows)"
    spec = json.loads((out / "figures" / "03_amnesty_2015_design_decades.json").read_text())
    assert "made no earlier than that" in spec["layout"]["meta"]["alt"]
