"""The country crosswalk: spellings, former states, folding, unknown names, SIPRI coverage."""

from __future__ import annotations

import glob

import pandas as pd
import pytest

from takingstock.data import countries
from takingstock.core import paths
from takingstock.data.countries import UnknownCountryError, load_crosswalk


@pytest.fixture(scope="module")
def cw():
    return load_crosswalk()


@pytest.mark.parametrize("name,state,iso,successor,bloc", [
    ("USSR", "Soviet Union", "SUN", "Russia", "Warsaw Pact"),
    ("soviet union", "Soviet Union", "SUN", "Russia", "Warsaw Pact"),
    ("Soviet Union/Russia", "Soviet Union", "SUN", "Russia", "Warsaw Pact"),
    ("Russian Federation", "Russia", "RUS", "Russia", "Warsaw Pact"),
    ("Former Yugoslavia", "Yugoslavia", "YUG", "Serbia", "non-aligned/other"),
    ("Czechoslovakia", "Czechoslovakia", "CSK", "Czechia", "Warsaw Pact"),
    ("Czech Rep.", "Czechia", "CZE", "Czechia", "Warsaw Pact"),
    ("GDR", "East Germany", "DDR", "Germany", "Warsaw Pact"),
    ("FRG", "Germany", "DEU", "Germany", "NATO"),
    ("West Germany", "Germany", "DEU", "Germany", "NATO"),
    ("PRC", "China", "CHN", "China", "China"),
    ("UK", "United Kingdom", "GBR", "United Kingdom", "NATO"),
    ("US", "United States", "USA", "United States", "NATO"),
    ("  USA ", "United States", "USA", "United States", "NATO"),
    ("Turkey", "Turkiye", "TUR", "Turkiye", "NATO"),
    ("Romania", "Romania", "ROU", "Romania", "Warsaw Pact"),
    ("Albania", "Albania", "ALB", "Albania", "non-aligned/other"),
    ("Croatia", "Croatia", "HRV", "Croatia", "non-aligned/other"),
])
def test_spellings_resolve(cw, name, state, iso, successor, bloc):
    rec = cw.resolve(name)
    assert (rec.state, rec.iso, rec.successor, rec.bloc) == (state, iso, successor, bloc)


def test_kinds(cw):
    assert cw.resolve("IS").kind == "non-state"
    assert cw.resolve("Islamic State").state == "Islamic State"
    assert cw.resolve("Syria rebels*").kind == "non-state"
    assert cw.resolve("NATO**").kind == "organisation"
    assert cw.resolve("unknown supplier(s)").kind == "unknown"
    assert cw.resolve("European").state == "France/Germany (joint)"


def test_unknown_name_is_not_guessed(cw):
    with pytest.raises(UnknownCountryError) as info:
        cw.resolve("Sovjet Union")
    assert info.value.suggestions[0] == "Soviet Union"
    assert "Sovjet Union" in str(info.value)


def test_lookup_folds_former_states_only_when_asked(cw):
    s = pd.Series(["USSR", "Yugoslavia", "Czechoslovakia", "GDR", "China", ""])
    kept = cw.lookup(s)
    folded = cw.lookup(s, fold_successors=True)
    assert list(kept["state"]) == ["Soviet Union", "Yugoslavia", "Czechoslovakia",
                                   "East Germany", "China", "unknown"]
    assert list(kept["iso"][:4]) == ["SUN", "YUG", "CSK", "DDR"]
    assert list(folded["state"]) == ["Russia", "Serbia", "Czechia", "Germany", "China", "unknown"]
    assert list(folded["iso"][:4]) == ["RUS", "SRB", "CZE", "DEU"]
    with pytest.raises(UnknownCountryError):
        cw.lookup(pd.Series(["China", "Narnia"]))
    marked = cw.lookup(pd.Series(["China", "Narnia"]), errors="mark")
    assert marked["error"].iloc[0] == "" and "Narnia" in marked["error"].iloc[1]


def test_crosswalk_integrity_checks(tmp_path):
    bad = tmp_path / "cw.csv"
    bad.write_text("name,state,iso,successor,bloc,kind\nA,A,AAA,A,Mars,state\na,A,AAA,A,NATO,state\n")
    with pytest.raises(countries.CrosswalkError, match="bloc 'Mars'"):
        load_crosswalk(bad)


def test_every_spelling_in_the_raw_catalogues_resolves(cw):
    files = sorted(paths.RAW.glob("catalogue_*.csv"))
    if not files:
        pytest.skip("raw catalogues not written yet")
    names = set()
    for f in files:
        t = pd.read_csv(f, dtype=str, keep_default_na=False)
        names |= set(t["country_of_design"]) | set(t["country_of_manufacture"])
    names.discard("")
    assert len(names) >= 10
    for n in sorted(names):
        cw.resolve(n)


@pytest.mark.sipri
def test_every_sipri_name_resolves(cw, shared_sipri_dir):
    files = sorted(glob.glob(str(shared_sipri_dir / "sipri_trade_register_all_*.csv")))
    assert len(files) == 2
    names = set()
    for f in files:
        t = pd.read_csv(f, skiprows=11, header=0, encoding="latin-1", dtype=str,
                        keep_default_na=False, usecols=[0, 1])
        t = t[t.iloc[:, 0].str.strip() != ""]  # continuation fragments of split lines
        names |= set(t.iloc[:, 0].str.strip()) | set(t.iloc[:, 1].str.strip())
    assert len(names) > 250
    missing = [n for n in sorted(names) if n.casefold() not in
               {k.casefold() for k in cw.names}]
    assert missing == []
    assert cw.resolve("Soviet Union").iso == "SUN"
    assert cw.resolve("East Germany (GDR)").iso == "DDR"
    assert cw.resolve("Kurdistan Regional Government (Iraq)*").kind == "non-state"


def test_every_iso_code_checks_out_against_pycountry():
    """Current states carry ISO 3166-1 codes, former states ISO 3166-3 codes (pycountry)."""
    cw = load_crosswalk()
    assert countries.iso_problems(cw) == []
    soviet = cw.resolve("USSR")
    assert (soviet.iso, soviet.successor) == ("SUN", "Russia")


def test_iso_check_catches_a_wrong_code():
    table = load_crosswalk().table.copy()
    table.loc[table["state"] == "Belgium", "iso"] = "BLG"  # not an ISO code
    table.loc[table["state"] == "Czechoslovakia", "iso"] = "CZX"  # not ISO 3166-3 either
    problems = countries.iso_problems(countries.Crosswalk(table))
    assert any(p.startswith("Belgium: BLG") for p in problems)
    assert any(p.startswith("Czechoslovakia: former state with CZX") for p in problems)
