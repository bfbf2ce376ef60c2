"""Tests of takingstock.analysis.supply on the invented fixture and, when present, the real registers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from takingstock.analysis import paper_trail, supply
from takingstock.data.periods import periods_from_frame
from takingstock.data.sipri import read_register

FIXTURE = Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv"
REAL_2026 = "sipri_trade_register_all_2026-05-18_alexarui.csv"
REAL_2025 = "sipri_trade_register_all_2025-03-13_colasdroin.csv"


@pytest.fixture(scope="module")
def deals():
    return read_register(FIXTURE).deals


@pytest.fixture(scope="module")
def periods():
    table = pd.DataFrame({
        "period_id": ["early", "war", "late"],
        "label": ["Before 1980", "War (1980-1988)", "After 1988"],
        "start": ["1900-01-01", "1980-01-01", "1989-01-01"],
        "end": ["1979-12-31", "1988-12-31", "2100-12-31"],
    })
    return periods_from_frame(table, "<test periods>")


def test_imports_by_year_bases(deals):
    by_del = supply.imports_by_year(deals, ["Iraq"], basis="delivery")
    y1984 = by_del[by_del["year"] == 1984].iloc[0]
    # Testhawk-7: 40 items over 4 years; Lancer-3: 100 over 2 years
    assert y1984["deals"] == 2 and y1984["items"] == pytest.approx(10 + 50)
    assert y1984["tiv"] == pytest.approx(100 + 1)
    by_ord = supply.imports_by_year(deals, "Iraq", basis="order")
    assert list(by_ord["year"]) == [1981, 1983, 2009, 2012]
    y2012 = by_ord[by_ord["year"] == 2012].iloc[0]
    assert y2012["deals"] == 2 and y2012["items"] == 34 and y2012["tiv"] == 1100
    either = supply.imports_by_year(deals, "Iraq", basis="either")
    # 2012: two orders (F-16, nothing delivered yet; Shield-9) and one Abrams delivery
    assert either[either["year"] == 2012].iloc[0]["deals"] == 3
    assert either["tiv"].sum() == pytest.approx(by_del["tiv"].sum())
    with pytest.raises(ValueError, match="basis"):
        supply.imports_by_year(deals, "Iraq", basis="shipment")


def _either_by_groupby(deals):
    """The former ``yearly_records(basis="either")``: every order row added, then merged with
    a groupby ``first`` (the reference the faster version must match)."""
    from takingstock.data.sipri import deal_years

    orders = deals[deals["order_year"].notna()].drop(columns=["delivery_years"]).copy()
    orders["year"] = orders["order_year"].astype("int64")
    orders["items"] = 0.0
    orders["tiv"] = 0.0
    both = pd.concat([deal_years(deals), orders], ignore_index=True)
    return (both.groupby(["deal_id", "year"], as_index=False, sort=False)
            .agg({**{c: "first" for c in both.columns if c not in ("deal_id", "year", "items", "tiv")},
                  "items": "sum", "tiv": "sum"}))


def _same_records(got, want):
    key = ["deal_id", "year"]
    got = got.sort_values(key).reset_index(drop=True)
    want = want[list(got.columns)].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_either_counts_a_deal_ordered_in_a_delivery_year_once(deals):
    rebels = supply.yearly_records(supply.select_recipients(deals, "Syria rebels*"), "either")
    # ordered and delivered in 2013: one row, with the delivery's items and TIV
    assert list(zip(rebels["year"], rebels["items"], rebels["tiv"])) == [(2013, 10.0, 0.2)]
    _same_records(supply.yearly_records(deals, "either"), _either_by_groupby(deals))


def test_imports_by_decade_and_period(deals, periods):
    dec = supply.imports_by_decade(deals, "Iraq")
    assert list(dec["decade"]) == ["1980s", "2010s"]
    assert list(dec["deals"]) == [2, 2] and list(dec["tiv"]) == pytest.approx([402, 680])
    # the decade labels are takingstock.data.periods.decade's, the same as the catalogue's
    from takingstock.data.periods import decade
    years = supply.yearly_records(deals, "order")["year"]
    labels = supply.imports_by_decade(deals, ["Iraq", "Iran"], "order")["decade"]
    assert set(labels) == set(decade(years)) == {"1980s", "2000s", "2010s"}
    per = supply.imports_by_period(deals, "Iraq", periods)
    assert list(per["period_id"]) == ["early", "war", "late"]
    assert list(per["deals"]) == [0, 2, 2]
    assert per.set_index("period_id").loc["war", "tiv"] == pytest.approx(402)



def test_complete_years_shares_rates_and_supplier_stack(deals, periods):
    # complete=True lists every year 1982-2015, the gap years with 0 (the eras notebook's table)
    full = supply.imports_by_year(deals, "Iraq", complete=True)
    assert list(full["year"]) == list(range(1982, 2016))
    assert full.set_index("year").loc[1986:2009, "tiv"].sum() == 0
    assert full["tiv"].sum() == pytest.approx(402 + 480 + 200)
    dec = supply.with_tiv_share(supply.imports_by_decade(deals, "Iraq")).set_index("decade")
    assert dec.loc["1980s", "tiv_share"] == pytest.approx(100 * 402 / 1082)
    per = supply.imports_by_period(deals, "Iraq", periods, rates=True).set_index("period_id")
    # span 1982-2015: no year before 1980, 7 war years (1982-88), 27 after (1989-2015)
    assert list(per["years"]) == [0, 7, 27]
    assert per.loc["war", "tiv_per_year"] == pytest.approx(402 / 7)
    assert per.loc["early", "tiv_per_year"] == 0
    assert per["tiv_share"].sum() == pytest.approx(100)
    stack = supply.supplier_tiv_by_period(deals, "Iraq", periods, n=1)
    got = list(zip(stack["period_id"], stack["supplier"], stack["tiv"].round(6)))
    assert got == [("war", "other", 402.0), ("late", "United States", 480.0), ("late", "other", 200.0)]


def test_top_suppliers_by_period(deals, periods):
    top = supply.top_suppliers_by_period(deals, "Iraq", periods, n=1)
    assert list(top["supplier"]) == ["Soviet Union", "United States"]
    assert top.iloc[0]["share"] == pytest.approx(100 * 400 / 402)  # percent, as every share column


def test_window_suppliers_rules(deals):
    w = supply.window_suppliers(deals, "Iraq", "Iran", 1980, 1988, basis="either")
    assert w["a"] == ["France", "Soviet Union"]
    assert w["b"] == ["France", "North Korea"]
    assert w["both"] == ["France"]
    assert w["only_a"] == ["Soviet Union"] and w["only_b"] == ["North Korea"]
    # one form only: the lists sit under "a"/"b", not again under the recipients' names
    assert set(w) == {"rule", "basis", "a", "b", "both", "only_a", "only_b"}
    assert "ordered in 1980-1988 or with at least one delivery" in w["rule"]
    # by order year only, a deal ordered in 1979 and delivered in 1980 would not count
    w2 = supply.window_suppliers(deals, "Iraq", "Iran", 1984, 1988, basis="order")
    assert w2["a"] == [] and w2["b"] == ["North Korea"]
    w3 = supply.window_suppliers(deals, "Iraq", "Iran", 1984, 1988, basis="delivery")
    assert w3["a"] == ["France", "Soviet Union"]


def test_window_table_says_whom_each_state_supplied_under_each_rule(deals):
    whole = supply.window_table(deals, "Iraq", "Iran", 1980, 1988)
    assert list(whole.columns) == ["state", *supply.BASES]
    assert dict(zip(whole["state"], whole["either"])) == {
        "France": "both", "North Korea": "Iran", "Soviet Union": "Iraq"}
    late = supply.window_table(deals, "Iraq", "Iran", 1984, 1988).set_index("state")
    assert late.loc["North Korea", "order"] == "Iran"
    assert late.loc["Soviet Union", "order"] == "" and late.loc["Soviet Union", "delivery"] == "Iraq"
    # the caller's window_suppliers results are used as they are (notebook 04 computes them once)
    found = {b: supply.window_suppliers(deals, "Iraq", "Iran", 1984, 1988, b) for b in supply.BASES}
    pd.testing.assert_frame_equal(
        supply.window_table(deals, "Iraq", "Iran", 1984, 1988, found=found).set_index("state"), late)
    found["order"] = {**found["order"], "a": ["Soviet Union"]}
    given = supply.window_table(deals, "Iraq", "Iran", 1984, 1988, found=found).set_index("state")
    assert given.loc["Soviet Union", "order"] == "Iraq"


def test_embargo_gap_and_blocs(deals):
    gap = supply.embargo_gap(deals, "Iraq", 1991, 2002, span=(1980, 2015))
    assert gap["deliveries_in_window"] == 0
    assert (gap["gap_start"], gap["gap_end"], gap["gap_years"]) == (1986, 2009, 24)
    assert gap["last_before"] == 1985 and gap["first_after"] == 2010
    shares = supply.bloc_shares(deals, "Iraq")
    got = {(r.era, r.group): (r.tiv, r.share) for r in shares.itertuples()}
    # before 2003: Testhawk-7 (Soviet Union, 400) and Lancer-3 (France, 2); from 2003:
    # Abrams (United States, 480) and Shield-9 (Russia, 200)
    assert got == {
        ("before 2003", "Warsaw Pact states of 1990 and Soviet successors"): (400.0, pytest.approx(100 * 400 / 402)),
        ("before 2003", "NATO members of 1990"): (2.0, pytest.approx(100 * 2 / 402)),
        ("2003 on", "NATO members of 1990"): (480.0, pytest.approx(100 * 480 / 680)),
        ("2003 on", "Warsaw Pact states of 1990 and Soviet successors"): (200.0, pytest.approx(100 * 200 / 680)),
    }
    assert list(shares["era"]) == ["before 2003", "before 2003", "2003 on", "2003 on"]


def test_embargo_gap_ignores_the_years_before_the_first_delivery(deals):
    # Iraq's first invented delivery is in 1982: 1950-1981 (32 years) is not a gap; the longest
    # run between deliveries is 1986-2009 (24 years)
    gap = supply.embargo_gap(deals, "Iraq", 1991, 2002, span=(1950, 2015))
    assert (gap["gap_start"], gap["gap_end"], gap["gap_years"]) == (1986, 2009, 24)
    assert gap["last_before"] == 1985 and gap["first_after"] == 2010
    # Iran: deliveries in 1983, 1985 and 1986 only; the run after the last one counts
    iran = supply.embargo_gap(deals, "Iran", 1991, 2002, span=(1950, 2015))
    assert (iran["gap_start"], iran["gap_end"], iran["gap_years"]) == (1987, 2015, 29)
    assert iran["last_before"] == 1986 and iran["first_after"] is None
    # no delivery at all (a misspelt recipient): no gap rather than the whole span
    none = supply.embargo_gap(deals, "Irak", 1991, 2002, span=(1950, 2015))
    assert (none["gap_start"], none["gap_end"], none["gap_years"]) == (None, None, 0)
    assert none["last_before"] is None and none["first_after"] is None


def test_us_deals_and_named_orders(deals):
    us = supply.us_deals_from(deals, "Iraq", 2003)
    assert list(us["designation"]) == ["M-1A1 Abrams", "F-16C Block-50"]
    named = supply.named_orders(deals, "Iraq", 2011, 2013)
    assert dict(zip(named["designation"], named["kind"])) == {
        "F-16C Block-50": "fighter aircraft", "Shield-9": "air-defence systems"}


def test_paper_trail_on_fixture(deals):
    catalogue = pd.DataFrame({
        "record_id": ["a", "b", "c", "d"],
        "category": ["armoured vehicle", "rifle", "guided anti-tank missile", "artillery"],
        "designation": ["M1A1 Abrams tank", "AK rifle", "TOW anti-tank guided missile", "Howitzer X"],
    })
    matches, unmatched = paper_trail.paper_trail(catalogue, deals, paper_trail.load_aliases())
    assert list(matches["record_id"]) == ["a"]
    assert matches.iloc[0]["order_year"] == 2009 and matches.iloc[0]["number_ordered"] == 120
    reasons = dict(zip(unmatched["record_id"], unmatched["reason"]))
    assert "outside SIPRI's coverage" in reasons["b"]
    assert reasons["c"].startswith("alias tow: no SIPRI deal")
    assert reasons["d"].startswith("no alias")


def test_paper_trail_summary_has_one_line_per_designation(deals):
    n = 30
    catalogue = pd.DataFrame({
        "record_id": [f"t{i}" for i in range(n)] + [f"k{i}" for i in range(n)] + ["w", "h", "t0"],
        "category": ["armoured vehicle"] * n + ["rifle"] * n + ["guided anti-tank missile", "artillery", "rifle"],
        "designation": ["M1A1 Abrams tank"] * n + ["AK rifle"] * n + ["TOW anti-tank guided missile", "Howitzer X",
                                                                      "repeated id"],
        "count": [1] * n + [5] * n + [2, 3, 9]})
    matches, unmatched = paper_trail.paper_trail_summary(catalogue, deals, paper_trail.load_aliases())
    assert list(matches.columns[:4]) == ["item", "rows", "count", "record_ids"]
    # the fixture's one Abrams deal to Iraq, for the 30 items of that designation (t0 counted once)
    assert len(matches) == 1
    line = matches.iloc[0]
    assert (line["item"], line["rows"], line["count"], line["order_year"], line["number_ordered"]) == (
        "M1A1 Abrams tank", 30, 30, 2009, 120)
    assert line["record_ids"] == "; ".join(f"t{i}" for i in range(10)) + "; and 20 more"
    got = {r.item: (r.rows, r.count, r.reason[:24]) for r in unmatched.itertuples()}
    assert got == {"AK rifle": (30, 150, "small arms are outside S"),
                   "TOW anti-tank guided missile": (1, 2, "alias tow: no SIPRI deal"),
                   "Howitzer X": (1, 3, "no alias in sipri_aliase")}
    # the same items as the item-by-item trail, each in one line
    by_item, left = paper_trail.paper_trail(catalogue, deals, paper_trail.load_aliases())
    assert by_item["record_id"].nunique() == matches["rows"].sum() == 30
    assert len(left) == unmatched["rows"].sum() == 32


def test_alias_table_errors(tmp_path):
    bad = tmp_path / "aliases.csv"
    bad.write_text("alias_id,catalogue_pattern,sipri_designation,sipri_description,notes\n"
                   "x,Abrams,M-1A1 (Abrams,,broken\n")
    with pytest.raises(paper_trail.AliasError, match=r"row 1, column 'sipri_designation'"):
        paper_trail.load_aliases(bad)


# ------------------------------------------------------------------ real releases

IRAN_IRAQ_EITHER_IRAQ = [
    "Austria", "Brazil", "Canada", "China", "Czechoslovakia", "Denmark", "East Germany", "Egypt",
    "France", "Germany", "Hungary", "Italy", "Jordan", "Poland", "Romania", "South Africa",
    "Soviet Union", "Sweden", "Switzerland", "United Kingdom", "United States", "Yugoslavia"]
IRAN_IRAQ_EITHER_IRAN = [
    "Austria", "Brazil", "Canada", "China", "Ethiopia", "France", "Israel", "Italy", "Japan",
    "Libya", "Netherlands", "North Korea", "Pakistan", "South Korea", "Soviet Union", "Sweden",
    "Switzerland", "Syria", "United Kingdom", "United States"]
IRAN_IRAQ_EITHER_BOTH = [
    "Austria", "Brazil", "Canada", "China", "France", "Italy", "Soviet Union", "Sweden",
    "Switzerland", "United Kingdom", "United States"]


@pytest.fixture(scope="module")
def real(shared_sipri_dir):
    return {name: read_register(shared_sipri_dir / name).deals for name in (REAL_2026, REAL_2025)}


@pytest.mark.sipri
@pytest.mark.parametrize("release", [REAL_2026, REAL_2025])
def test_real_iran_iraq_window_is_stable(real, release):
    w = supply.window_suppliers(real[release], "Iraq", "Iran", 1980, 1988, basis="either")
    assert w["a"] == IRAN_IRAQ_EITHER_IRAQ
    assert w["b"] == IRAN_IRAQ_EITHER_IRAN
    assert w["both"] == IRAN_IRAQ_EITHER_BOTH
    order = supply.window_suppliers(real[release], "Iraq", "Iran", 1980, 1988, basis="order")
    assert order["both"] == ["Austria", "Brazil", "Canada", "China", "Soviet Union",
                             "Switzerland", "United States"]
    table = supply.window_table(real[release], "Iraq", "Iran", 1980, 1988)
    assert sorted(table.loc[table["either"] == "both", "state"]) == IRAN_IRAQ_EITHER_BOTH
    assert (table["delivery"] == "both").sum() == 10  # the claims ledger's rule


@pytest.mark.sipri
def test_real_abrams_paper_trail(real):
    catalogue = pd.DataFrame({"record_id": ["ai15-abrams"], "category": ["armoured vehicle"],
                              "designation": ["M1A1 Abrams tank"]})
    matches, unmatched = paper_trail.paper_trail(catalogue, real[REAL_2026], paper_trail.load_aliases())
    assert unmatched.empty
    got = list(zip(matches["recipient"], matches["supplier"], matches["order_year"],
                   matches["number_ordered"], matches["delivery_years"]))
    assert got == [("Iraq", "United States", 2008, 140, "2010; 2011; 2012"),
                   ("Iraq", "United States", 2014, 6, "2015")]


@pytest.mark.sipri
def test_real_either_basis_matches_the_groupby_version(real):
    _same_records(supply.yearly_records(real[REAL_2026], "either"), _either_by_groupby(real[REAL_2026]))


@pytest.mark.sipri
def test_real_embargo_gap_starts_at_the_first_delivery(real):
    deals = real[REAL_2026]
    years = supply.yearly_records(supply.select_recipients(deals, "Ukraine"), "delivery")["year"]
    # SIPRI lists deliveries to Ukraine in every year 2014-2025 and none before: no gap at all
    # (the whole-span search reported 1950-2013, the years before Ukraine's first delivery)
    assert sorted(set(years)) == list(range(2014, 2026))
    gap = supply.embargo_gap(deals, "Ukraine", 1991, 2002)
    assert (gap["gap_start"], gap["gap_end"], gap["gap_years"]) == (None, None, 0)


@pytest.mark.sipri
def test_real_embargo_gap_and_bloc_shift(real):
    deals = real[REAL_2026]
    gap = supply.embargo_gap(deals, "Iraq", 1991, 2002)
    assert gap["deliveries_in_window"] == 0
    assert (gap["gap_start"], gap["gap_end"]) == (1991, 2003)
    shares = supply.bloc_shares(deals, "Iraq").set_index(["era", "group"])["share"]
    assert shares[("before 2003", "Warsaw Pact states of 1990 and Soviet successors")] == pytest.approx(71.76, abs=0.1)
    assert shares[("2003 on", "NATO members of 1990")] == pytest.approx(57.94, abs=0.1)


@pytest.mark.sipri
def test_real_iraq_deliveries_by_year_decade_period(real):
    """The figures notebook 03 shows (delivery basis, TIV spread over the delivery years)."""
    deals = real[REAL_2026]
    by_year = supply.imports_by_year(deals, "Iraq", "delivery", complete=True).set_index("year")
    assert (by_year.index.min(), by_year.index.max(), len(by_year)) == (1952, 2025, 74)
    assert by_year.loc[1991:2002, "tiv"].sum() == 0  # the embargo years
    assert by_year["tiv"].idxmax() == 1984
    assert by_year.loc[1984, "tiv"] == pytest.approx(4554.5, abs=0.1)
    dec = supply.with_tiv_share(supply.imports_by_decade(deals, "Iraq")).set_index("decade")
    assert dec["tiv"].idxmax() == "1980s"
    assert round(dec.loc["1980s", "tiv_share"], 1) == 54.5
    per = supply.imports_by_period(deals, "Iraq", _real_periods(), rates=True).set_index("period_id")
    # the same 28,358 TIV the claims ledger computes for 1980-88 (iraq-tiv-1980-88-total)
    assert per.loc["iran-iraq-war", "tiv"] == pytest.approx(28358, abs=1)
    assert per.loc["iran-iraq-war", "years"] == 9
    assert round(per.loc["iran-iraq-war", "tiv_share"], 1) == 51.8
    assert per.loc["un-embargo", "tiv"] == 0 and per.loc["un-embargo", "years"] == 12
    stack = supply.supplier_tiv_by_period(deals, "Iraq", _real_periods(), n=6)
    assert stack["tiv"].sum() == pytest.approx(by_year["tiv"].sum())
    war = stack[stack["period_id"] == "iran-iraq-war"].set_index("supplier")["tiv"]
    assert war.idxmax() == "Soviet Union"


def _real_periods():
    from takingstock.core import paths
    from takingstock.data.periods import load_periods

    return load_periods(paths.RAW / "periods.csv")


def test_suppliers_in_window_is_the_rule_window_suppliers_uses(deals):
    for basis in supply.BASES:
        w = supply.window_suppliers(deals, "Iraq", "Iran", 1980, 1988, basis=basis)
        assert supply.suppliers_in_window(deals, "Iraq", 1980, 1988, basis) == w["a"]
        assert supply.suppliers_in_window(deals, "Iran", 1980, 1988, basis) == w["b"]
    assert supply.suppliers_in_window(deals, "Iraq", 1980, 1988, "either") == ["France", "Soviet Union"]


@pytest.mark.sipri
def test_named_orders_are_the_same_on_both_releases(shared_sipri_dir):
    # 2025 says "FGA aircraft" and "portable SAM", 2026 "fighter/ground-attack aircraft" and
    # "portable surface-to-air missile": the category and the kind's words find the same orders.
    got = {}
    for name in (REAL_2025, REAL_2026):
        named = supply.named_orders(read_register(shared_sipri_dir / name).deals, "Iraq", 2011, 2013)
        got[name] = sorted(zip(named["kind"], named["supplier"], named["order_year"], named["number_ordered"]))
    assert got[REAL_2025] == got[REAL_2026]
    assert ("portable air-defence missiles", "United States", 2012, 200) in got[REAL_2026]
    assert sum(k == "fighter aircraft" for k, *_ in got[REAL_2026]) == 2
    # A sensor ("SAM system radar") is not an air-defence system order.
    assert {k for k, *_ in got[REAL_2025]} == {"air-defence systems", "fighter aircraft",
                                               "portable air-defence missiles"}
