"""The README's "What it finds" follows the outputs: every number in it is read here from the
tables a run writes (the ledger, the verdict counts, notebooks 02, 03 and 06) and compared.

Each check builds the README's phrase from the tables; a number of the section that no check
covers fails the test unless it is structural (a window's years, a release date, a figure the
claims file states). So a sentence cannot drift from the ledger unnoticed: change the data and
this test names the phrase that no longer holds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from takingstock.analysis import claims
from takingstock.core import paths

pytestmark = pytest.mark.sipri

WORDS = {1: "one", 2: "two", 3: "Three", 4: "Four", 5: "five"}
RELEASES = ("2026-05-18", "2025-03-13")
NUMBER = r"\d(?:[\d,]*\d)?(?:\.\d+)?"   # 1,730 and 28.4, without a comma that ends a clause


def readme_findings() -> str:
    """The README's findings section, whitespace collapsed."""
    text = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## What it finds"):text.index("## Using it")]
    return " ".join(section.split())


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _ledger(tables: Path) -> pd.DataFrame:
    return pd.read_csv(tables / "05_claims_ledger.csv", dtype=str, keep_default_na=False).set_index("id")


def findings_phrases(tables: Path, iraq_subset_counts: dict[str, int]) -> list[str]:
    """The README's phrases, each built from the outputs in ``tables``."""
    led, col = _ledger(tables), f"computed [{RELEASES[0]}]"
    verdicts = pd.read_csv(tables / "05_claims_verdicts.csv").set_index("verdict")
    assert (verdicts[RELEASES[0]] == verdicts[RELEASES[1]]).all()      # "identically"
    n = verdicts[RELEASES[0]].to_dict()
    value = {cid: led.at[cid, col] for cid in led.index}
    detail = led["detail"].to_dict()
    robust = led["robustness"].to_dict()
    bound = int(((led[f"verdict [{RELEASES[0]}]"] == "not checkable")
                 & led["reason"].str.contains("is only a lower bound")).sum())
    fragile = int(led["robustness"].str.startswith("fragile").sum())
    out = [f"holds {len(led)} claims", f"{n['reproduced']} are **reproduced**", f"{n['transcribed']} are **transcribed**",
           f"{n['differs']} **differ**", f"{n['not comparable']} are **not comparable**",
           f"{n['not checkable']} are **not checkable**", f"{bound} of them because our catalogue holds only part",
           f"{fragile} verdicts are **fragile**"]
    # Origin
    types = int(_num(value["item-types-100"].split()[0]))
    placed = pd.read_csv(tables / "03_design_era_placed.csv").set_index("catalogue").loc["amnesty_2015"].astype(int)
    distinct = pd.read_csv(tables / "02_distinct_countries.csv").set_index(["catalogue", "role"])["countries"]
    out += [f"holds {types} distinct item types ({placed['rows']} rows)",
            f"at most {100 * types / 100:.0f}% of them",
            f"from {distinct[('amnesty_2015', 'design or manufacture')]} states of design or manufacture "
            f"({distinct[('amnesty_2015', 'manufacture')]} of manufacture)",
            f"Soviet Union/Russia (combined in CAR's count) {value['car2014-ussr-russia-28']}",
            f"China {value['car2014-china-26']}, USA {value['car2014-usa-19']} of "
            f"{value['car2014-total-1730'].split()[0]} cartridges",
            f"China {value['car2017-china-43']}, EU member states {value['car2017-eu-third']} of "
            f"{value['car2017-total-1832'].split()[0]} weapons"]
    # Iraq's imports
    dec = pd.read_csv(tables / "03_sipri_iraq_by_decade.csv").set_index("decade")
    year = pd.read_csv(tables / "03_sipri_iraq_by_year.csv")
    embargo = year[year["year"].between(1991, 2002)]
    assert len(embargo) == 12 and (embargo["tiv"] == 0).all()
    top = dict(re.findall(r"(\w+) (\d[\d,]*\d)", detail["iraq-rank-1980s"].split(": ", 1)[1]))
    india, iraq = _num(top["India"]), _num(top["Iraq"])
    assert value["iraq-rank-1980s"] == "2" and "values: 1; 2" in robust["iraq-rank-1980s"]
    us_share = re.search(r"United States: ([\d.]+%)", detail["us-largest-supplier-after-2003"]).group(1)
    out += [f"the 1980s hold {dec.at['1980s', 'tiv_share']:.1f}% of all",
            f"delivered to Iraq since {year['year'].min()}, with a peak in {year.loc[year['tiv'].idxmax(), 'year']}",
            f"ranks second, {100 * (india - iraq) / iraq:.1f}% behind India ({top['Iraq']} against {top['India']} million TIV)",
            "and first under another reading",
            "no delivery to Iraq from 1991 to 2002",
            f"on average {value['flood-after-2003']} of its yearly 1980s volume",
            f"the USA delivered {us_share} of that"]
    # The Iran-Iraq war
    total = _num(value["iraq-tiv-1980-88-total"].split()[0])
    whole = _num(re.search(r"whole-deal TIV \(([\d,]+)", robust["iraq-tiv-1980-88-total"]).group(1))
    out += [f"names {value['iraq-suppliers-1980-88'].split()[0]} states that delivered",
            f"{value['iraq-iran-common-suppliers-1980-88'].split()[0]} of which also delivered to Iran",
            f"in 1980–89 is {value['iraq-world-share-1980s']}",
            f"1980–88 total is {total:,.0f} million TIV", f"{100 * (1 - total / 32047):.1f}% below the 32,047",
            f"but {whole:,.0f} ({100 * (whole / 32047 - 1):.1f}% above it)"]
    assert robust["iraq-tiv-1980-88-total"].startswith("fragile: flips to reproduced under whole-deal TIV")
    # The decade before the report
    p5 = robust["iraq-p5-suppliers-decade"]
    assert all(r in p5 for r in ("window 2004-2013 (5)", "window 2006-2015 (5)", "orders in 2005-2014 (5)"))
    out += [f"In 2005–2014, {value['iraq-suppliers-decade-30'].split()[0]} states delivered",
            "all five did with orders in 2005–2014, or with deliveries in 2004–2013 or 2006–2015",
            f"{WORDS[int(value['iraq-p5-suppliers-decade'])]} of the five permanent Security Council members "
            "delivered in exactly 2005–2014"]
    # Era of design
    periods = pd.read_csv(tables / "03_amnesty_2015_design_periods.csv").set_index("period_id")["rows"]
    decades = pd.read_csv(tables / "03_amnesty_2015_design_decades.csv").set_index("decade")["rows"]
    assert decades["1980s"] == periods["iran-iraq-war"] + 1                # ...and the CQ
    types_ref = pd.read_csv(paths.RAW / "weapon_types.csv", dtype=str).set_index("type_id")
    out += [f"{placed['rows_placed']} of the catalogue's {placed['rows']} rows",
            f"{periods['pre-1980']} are designs from before 1980 (the Kalashnikov of {types_ref.at['ak47', 'service_year']}",
            f"{periods['iran-iraq-war']} of the Iran–Iraq war years, {decades['1990s']} of the 1990s"]
    # The 2011-2013 US contracts
    assert value["us-hawk-2011-13"].startswith("0 ") and "No other" in detail["us-hawk-2011-13"]
    f16 = detail["us-f16-2011-13"]
    assert "ordered 2011" in f16 and "ordered 2013" in f16
    abrams = re.search(r"(\d+) ordered 2008", detail["us-abrams-140-2011-13"]).group(1)
    out += [f"dates the {abrams} M1A1 Abrams order 2008",
            f"records {value['us-stinger-681-2011-13'].split()[0]} Stingers rather than 681",
            f"{value['us-f16-2011-13'].split()[0]} F-16s ordered in 2011 and 2013"]
    # Between the releases
    levels = pd.read_csv(tables / "06_iraq_match_levels.csv").set_index("rule")["deals"]
    dropped_n, added_n = levels.filter(like="dropped").iloc[0], levels.filter(like="added").iloc[0]
    matched = levels.drop(levels.filter(like="unmatched").index).sum()
    added = pd.read_csv(tables / "06_iraq_deals_added.csv")
    dropped = pd.read_csv(tables / "06_iraq_deals_dropped.csv")
    renamed = pd.read_csv(tables / "06_renamed_descriptions.csv")
    moved = pd.read_csv(tables / "06_claims_moved.csv", dtype=str).set_index("id")
    assert (moved[f"verdict [{RELEASES[1]}]"] == moved[f"verdict [{RELEASES[0]}]"]).all()
    tu22 = added[added["designation"] == "Tu-22"].iloc[0]
    boats = added[added["description"] == "missile boat"].iloc[0]
    assert (dropped["designation"] == "ScanEagle").sum() == 2 and (dropped["designation"] == "vehicle engine").sum() == 1
    apc = renamed[renamed["was"] == "APC"].iloc[0]
    tiv_moved = moved.loc["iraq-tiv-1980-88-total"]
    out += [f"of Iraq's {matched + dropped_n} and {matched + added_n} deals, {matched} match, {added_n} are added",
            f"a {tu22['order_year']} order of {tu22['number_ordered']} Tu-22 bombers, "
            f"{boats['number_ordered']} missile boats of {boats['order_year']}",
            f"and {dropped_n} dropped (two ScanEagle orders",
            f"{(renamed['kind'] == 'renamed').sum()} weapon descriptions were renamed",
            f"on {apc['deals']:,} deals", f"{WORDS[len(moved)]} claims moved, none changed verdict",
            f"from {tiv_moved[f'computed [{RELEASES[1]}]'].split()[0]} to {tiv_moved[f'computed [{RELEASES[0]}]'].split()[0]}"]
    # After the report (notebook 07)
    before_after = pd.read_csv(tables / "07_iraq_before_after.csv").set_index("first_year")
    after, before = before_after.iloc[-1], before_after.iloc[0]
    ranked = pd.read_csv(tables / "07_iraq_suppliers_after_report.csv").set_index("supplier")["share"]
    changes = pd.read_csv(tables / "07_iraq_supplier_changes.csv")
    new = " and ".join(changes.loc[changes["change"] == "new", "supplier"])
    origins = pd.read_csv(tables / "07_att_origin_states.csv")
    counts = pd.read_csv(tables / "07_att_origin_states_counts.csv").set_index("status")
    then, now = counts.columns
    named = pd.read_csv(tables / "07_att_named_states.csv", dtype=str).set_index("state")
    by_status = pd.read_csv(tables / "07_iraq_att_status_of_suppliers.csv").set_index("att_status")["share"]
    syria_names = pd.read_csv(tables / "07_syria_suppliers_after_report.csv")["supplier"].tolist()
    syria = ", ".join(syria_names[:-1]) + " and " + syria_names[-1]
    out += [f"{after['tiv']:,.0f} million TIV in {after.name}–{after['last_year']}",
            f"{100 * after['tiv_a_year'] / before['tiv_a_year']:.0f}% of its {before.name}–{before['last_year']} yearly rate",
            f"from the USA ({ranked['United States']:.0f}%), Russia ({ranked['Russia']:.0f}%) and South Korea "
            f"({ranked['South Korea']:.0f}%)",
            f"{new} began supplying, {(changes['change'] == 'stopped').sum()} states stopped",
            f"Of the {len(origins)} states whose weapons the catalogues place",
            f"{counts.at['party', then]} were Arms Trade Treaty parties when the report appeared and "
            f"{counts.at['party', now]} at the end of {after['last_year']}",
            f"China acceded in {named.at['China', 'ratification or accession'][:4]}",
            f"the USA withdrew its signature in {named.at['United States', 'signature withdrawn'][:4]}",
            f"{by_status['party']:.0f}% of the TIV delivered to Iraq after the report came from states that were parties",
            f"{syria} delivered to Syria after the report"]
    # Sources and the Iraq subset
    c = iraq_subset_counts
    out += [f"{int((led['tier_flag'] != '').sum())} rest only on the lowest tier",
            f"({c['reproduced']} reproduced, {c['transcribed']} transcribed, {c['differs']} differ, "
            f"{c['not comparable']} not comparable, {c['not checkable']} not checkable)"]
    return out


def _structural() -> set[str]:
    """Numbers the section may hold without a check: window years (full and two-digit), the
    release dates, the figures the claims file states, decades the claims name."""
    allowed = {"18", "13", "2025", "2026", "2017", "1970", "1980", "1990"}
    windows = pd.read_csv(paths.RAW / "windows.csv", dtype=str)
    for y in pd.concat([windows["first"], windows["last"]]):
        allowed |= {y, y[-2:]}
    allowed |= {f"{v:g}" for c in claims.load_claims() if (v := c.stated_value) is not None}
    allowed |= {f"{v:,.0f}" for c in claims.load_claims() if (v := c.stated_value) is not None}
    return allowed


def unchecked_numbers(section: str, phrases: list[str]) -> set[str]:
    """Numbers of ``section`` (code spans and link targets left out) found in no phrase."""
    text = re.sub(r"`[^`]*`|\]\([^)]*\)", " ", section)
    covered = {n for p in phrases for n in re.findall(NUMBER, p)}
    return {n for n in re.findall(NUMBER, text)} - covered - _structural()


def _iraq_subset_counts() -> dict[str, int]:
    from takingstock.data.runcontext import RunContext

    run = RunContext(raw_dir=paths.SHARED_SIPRI / "none", processed_dir=paths.PROCESSED,
                     sipri_register=paths.SHARED_SIPRI / "sipri_trade_register_iraq.csv")
    return claims.verdict_counts(claims.evaluate(claims.load_claims(), claims.build_context(run)))


@pytest.mark.slow
def test_every_number_in_the_findings_comes_from_the_outputs(built_report, shared_sipri_dir):
    section = readme_findings()
    phrases = findings_phrases(built_report / "tables", _iraq_subset_counts())
    missing = [p for p in phrases if p not in section]
    assert missing == []
    assert unchecked_numbers(section, phrases) == set()


def test_a_drifted_number_is_caught():
    section = readme_findings()
    # A number no check covers is reported (the old README's "48 item types" had none).
    assert unchecked_numbers(section + " 16 of the report's 47 item types", ["16 of"]) >= {"47"}
    # The phrases the checks look for are in the section as committed.
    for phrase in ("are **not comparable**", "verdicts are **fragile**", "Soviet Union/Russia (combined in CAR's count)",
                   "rest only on the lowest tier"):
        assert phrase in section
