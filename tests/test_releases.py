"""What changed between two SIPRI releases (takingstock.analysis.releases, notebook 06).

Invented fixture: ``tests/fixtures/sipri/invented_register.csv`` and an altered copy built in
tmp_path (one deal re-dated and re-valued, one re-designated within its key, one description
reworded, one deal dropped, one added). Real data: the two full releases in
``../shared/data/sipri/`` (2025-03-13 and 2026-05-18), through ``shared_sipri_dir``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from takingstock.data.runcontext import RunContext
from takingstock.analysis import claims, release_changes, releases
from takingstock.data.periods import load_periods
from takingstock.core import paths
from takingstock.data import sipri_terms
from takingstock.report import charts

FIXTURE = Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv"
OLD_2025 = "sipri_trade_register_all_2025-03-13_colasdroin.csv"
NEW_2026 = "sipri_trade_register_all_2026-05-18_alexarui.csv"
NOTEBOOK = paths.NOTEBOOKS / "06_release_changes.ipynb"

# The edits that make the invented "next release" (bytes: the fixture is Latin-1).
EDITS = [
    (b"Data generated: 2 Feb 2024", b"Data generated: 2 Feb 2025"),
    # re-dated (1981 -> 1980) and re-valued (10 -> 11 a unit, 400 -> 440)
    (b"Iraq,Soviet Union,1981,?,40,,Testhawk-7", b"Iraq,Soviet Union,1980,?,40,,Testhawk-7"),
    (b"for tests,10,400,400", b"for tests,11,440,440"),
    # same designation key (the block is dropped), new spelling
    (b"F-16C Block-50,fighter aircraft", b"F-16C Block-52,fighter aircraft"),
    # a reworded description of the same SIPRI category
    (b"Shield-9,SAM system", b"Shield-9,surface-to-air missile system"),
    # one deal dropped, one added
    (b"Iraq,United States,2009,,120,,M-1A1 Abrams,tank,120,,2010; 2011; 2012,Second hand but modernized,"
     b"Invented numbers for tests,4,480,480\n", b""),
    (b"Syria rebels*", b"Iraq,United States,2013,,10,,Testdrone-1,fighter aircraft,10,,2014,New,Invented,"
     b"1,10,10\nSyria rebels*"),
]


def altered_copy(folder: Path) -> Path:
    """The invented register as a 'next release' with the :data:`EDITS` applied."""
    raw = FIXTURE.read_bytes()
    for old, new in EDITS:
        assert raw.count(old) == 1, old
        raw = raw.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "invented_2025-02-02.csv"
    out.write_bytes(raw.replace(b"\r\n", b"\n"))
    return out


@pytest.fixture()
def fixture_pair(tmp_path):
    folder = tmp_path / "sipri"
    folder.mkdir()
    old = folder / "invented_2024-02-02.csv"
    shutil.copy(FIXTURE, old)
    return old, altered_copy(folder)


# ----------------------------------------------------------------------------- invented fixture


def test_matching_levels_on_the_invented_pair(fixture_pair):
    comp = releases.compare(*fixture_pair)
    assert comp.labels == ("2024-02-02", "2025-02-02")
    counts = dict(zip(comp.matching.level_counts()["rule"], comp.matching.level_counts()["deals"]))
    assert counts == {"identical": 4, "same key": 2, "number revised": 0, "re-dated": 1, "re-designated": 0,
                      "unmatched in 2024-02-02 (dropped)": 1, "unmatched in 2025-02-02 (added)": 1}
    assert comp.matching.dropped["designation"].tolist() == ["M-1A1 Abrams"]
    assert comp.matching.added["designation"].tolist() == ["Testdrone-1"]


def test_a_redated_revalued_deal_is_revised_in_exactly_those_fields(fixture_pair):
    comp = releases.compare(*fixture_pair)
    revs = comp.revs
    hawk = revs[comp.matching.new.loc[revs["new"], "designation"].to_numpy() == "Testhawk-7"]
    assert set(hawk["level"]) == {"re-dated"}
    got = {r.field: (r.was, r.now) for r in hawk.itertuples()}
    assert got == {"order year": ("1981", "1980"), "TIV per unit": ("10", "11"),
                   "TIV of the order": ("400", "440"), "TIV delivered": ("400", "440")}
    table = releases.revised_deals(comp.matching, revs, releases.SUBSTANTIVE_FIELDS)
    row = table[table["designation"] == "Testhawk-7"].iloc[0]
    assert row["changes"] == ("order year: 1981 -> 1980 | TIV per unit: 10 -> 11 | "
                              "TIV of the order: 400 -> 440 | TIV delivered: 400 -> 440")
    f16 = table[table["designation"] == "F-16C Block-52"].iloc[0]
    assert f16["changes"] == "designation: F-16C Block-50 -> F-16C Block-52"
    counts = dict(zip(*releases.revision_counts(comp.matching, revs)[["field", "deals"]].T.values))
    assert counts["order year"] == 1 and counts["TIV delivered"] == 1 and counts["description"] == 1
    assert counts["any field"] == 3 and counts["unchanged"] == 4


def test_reworded_description_and_tiv_change_by_period(fixture_pair):
    comp = releases.compare(*fixture_pair)
    renamed = release_changes.renamed_descriptions(comp.matching)
    assert renamed[["was", "now", "category", "deals", "kind"]].values.tolist() == [
        ["SAM system", "surface-to-air missile system", "air defence systems", 1, "renamed"]]
    periods = load_periods()
    sub, _ = comp.for_recipients(["Iraq"])
    table = release_changes.tiv_by_period_supplier(sub, ["Iraq"], periods)
    totals = release_changes.period_totals(table, periods).set_index("period_id")
    # Testhawk-7: 400 -> 440 TIV over 1982-85 (Iran-Iraq war period); M-1A1 dropped: 480 TIV spread
    # over 2010-12, so -320 in the occupation and -160 in the rearmament (2012); Testdrone-1 added:
    # +10 in 2014, whose midpoint (2 July) is after the fall of Mosul (10 June 2014)
    assert totals.loc["iran-iraq-war", "change"] == pytest.approx(40.0)
    assert totals.loc["occupation", "change"] == pytest.approx(-320.0)
    assert totals.loc["rearmament", "change"] == pytest.approx(-160.0)
    assert totals.loc["after-mosul", "change"] == pytest.approx(10.0)
    assert totals.loc["un-embargo", "change"] == 0.0
    fig = charts.release_changes(table, "Iraq", sipri_terms.SIPRI_SOURCE_LINE, tolerance=releases.TIV_TOLERANCE)
    assert fig.layout.barmode == "relative"
    # only the suppliers whose TIV moved get a bar; period names from the data file are inert
    assert sorted(t.name for t in fig.data) == ["Soviet Union", "United States"]
    marked = table.assign(period=table["period"].str.replace("Iran-Iraq war", "<b>Iran-Iraq</b> war"))
    ticks = charts.release_changes(marked, "Iraq", sipri_terms.SIPRI_SOURCE_LINE, tolerance=releases.TIV_TOLERANCE).data[0].x
    assert ticks[0] == "&lt;b&gt;Iran-Iraq&lt;/b&gt;<br>war (1980-1988)"
    assert "Occupation (2003-2011): -320.0 (largest: United States -320.0)" in release_changes.change_alt(table, "Iraq")


def test_choose_releases_takes_the_two_newest_by_preamble_date(fixture_pair, tmp_path):
    old, new = fixture_pair
    folder = old.parent
    # a file without a preamble has no release date and is not chosen
    (folder / "zzz_no_preamble_2030-01-01.csv").write_bytes(b"\n".join(FIXTURE.read_bytes().splitlines()[11:]) + b"\n")
    choice = releases.choose_releases(RunContext(raw_dir=folder.parent).registers) if folder.name == "sipri" \
        else releases.choose_releases(sorted(folder.glob("*.csv")))
    assert choice.ok and (choice.old, choice.new) == (old, new)
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(new, alone / new.name)
    one = releases.choose_releases(sorted(alone.glob("*.csv")))
    assert not one.ok
    assert "Fewer than two SIPRI releases" in one.reason and "2025-02-02" in one.reason
    assert "skipped" in one.reason
    with pytest.raises(FileNotFoundError, match="no SIPRI export at"):
        releases.choose_releases(sorted(folder.glob("*.csv")), old_file=folder / "missing.csv")
    assert releases.choose_releases(sorted(alone.glob("*.csv")), old_file=old).old == old


def test_designations_alike():
    assert releases.designations_alike("sa316b alouette3", "sa316 alouette3")
    assert releases.designations_alike("96k9 pantsyr-s1", "pantsyr-s1")
    assert releases.designations_alike("swiftships35", "swiftships35m")
    assert not releases.designations_alike("mig21", "su25")
    assert not releases.designations_alike("t72", "t55")


# ----------------------------------------------------------------------------- real releases


@pytest.fixture(scope="module")
def real(shared_sipri_dir):
    return releases.compare(shared_sipri_dir / OLD_2025, shared_sipri_dir / NEW_2026)


def test_real_releases_iraq_matched_added_dropped(real):
    assert real.labels == ("2025-03-13", "2026-05-18")
    sub, revs = real.for_recipients(["Iraq"])
    counts = dict(zip(sub.level_counts()["rule"], sub.level_counts()["deals"]))
    assert counts == {"identical": 109, "same key": 356, "number revised": 3, "re-dated": 1, "re-designated": 9,
                      "unmatched in 2025-03-13 (dropped)": 3, "unmatched in 2026-05-18 (added)": 2}
    assert len(sub.pairs) == 478 and len(sub.old) == 481 and len(sub.new) == 480
    assert sorted(sub.added["designation"]) == ["Project-183R", "Tu-22"]
    assert sorted(sub.dropped["designation"]) == ["ScanEagle", "ScanEagle", "vehicle engine"]
    # the re-dated deal: an M-115 203mm howitzer order moved from 1955 to 1956
    redated = sub.pairs[sub.pairs["level"] == "re-dated"]
    assert sub.new.loc[redated["new"], "designation"].tolist() == ["M-115 203mm"]
    fields = set(revs.loc[revs["new"].isin(redated["new"]), "field"])
    assert {"order year", "delivery years"} <= fields


def test_real_releases_whole_register_and_vocabulary(real):
    counts = dict(zip(real.matching.level_counts()["rule"], real.matching.level_counts()["deals"]))
    assert counts["identical"] == 9788 and counts["same key"] == 17469
    assert counts["unmatched in 2025-03-13 (dropped)"] == 740
    assert counts["unmatched in 2026-05-18 (added)"] == 1141
    assert sum(v for k, v in counts.items() if not k.startswith("unmatched")) + 740 == 29515
    renamed = release_changes.renamed_descriptions(real.matching)
    # 53 wordings of 2025 are used by no deal of 2026; 50 of them live on in matched deals
    assert (renamed["kind"] == "renamed").sum() == 50 and len(renamed) == 79
    top = renamed.iloc[0]
    assert (top["was"], top["now"], top["deals"], top["kind"]) == ("APC", "armoured personnel carrier", 2112, "renamed")
    kept = renamed[renamed["was"] == "trainer aircraft"].iloc[0]  # still used in 2026: not a renaming
    assert (kept["now"], kept["kind"]) == ("(armed) trainer aircraft", "re-described")
    names = release_changes.name_changes(real.matching)
    uae = names[(names["name"] == "UAE") & (names["role"] == "recipient")].iloc[0]
    assert (uae["change"], uae["other spelling"]) == ("re-spelt", "United Arab Emirates")
    facts = release_changes.register_facts(real.matching).set_index("fact")
    assert facts.loc["deals"].tolist() == ["29,515", "29,916", "+401"]
    decades = release_changes.tiv_by_decade(real.matching).set_index("decade")
    assert decades.loc["2020s", "change"] == pytest.approx(35695.3, abs=0.1)


def test_real_releases_an_altered_deal_is_reported_as_revised(real):
    """One Iraq deal of the 2026 release re-dated and re-valued in memory: matched at the
    re-dated level, revised in exactly the fields altered."""
    new = real.new.deals.copy()
    i = new.index[(new["recipient"] == "Iraq") & (new["designation"] == "Tu-22") & (new["order_year"] == 1983)][0]
    new.loc[i, "order_year"] = new.loc[i, "order_year"] - 2
    new.loc[i, "tiv_delivered"] = new.loc[i, "tiv_delivered"] + 12.5
    m = releases.match_deals(real.new.deals, new, "2026-05-18", "altered")
    assert len(m.added) == len(m.dropped) == 0
    revs = releases.revisions(m)
    assert revs[["level", "field", "was", "now"]].values.tolist() == [
        ["re-dated", "order year", "1983", "1981"], ["re-dated", "TIV delivered", "40", "52.5"]]


def test_real_releases_claims_that_moved(real):
    claim_list = claims.load_claims()
    ledger = claims.evaluate_releases(claim_list, real.claim_contexts())
    moved = release_changes.claims_that_moved(ledger, claim_list, real.matching, real.revs).set_index("id")
    # (the two claims after the report move because the newer release counts one more year, 2025)
    assert sorted(moved.index) == ["flood-after-2003", "iraq-arms-kept-flowing", "iraq-tiv-1980-88-total",
                                   "iraq-ussr-share-1980-88", "syria-deliveries-after-report"]
    row = moved.loc["iraq-tiv-1980-88-total"]
    assert (row["computed [2025-03-13]"], row["computed [2026-05-18]"]) == (
        "28,312 TIV (millions)", "28,358 TIV (millions)")
    assert row["parts"].startswith("Moved by: Soviet Union 16,661 -> 16,701")
    assert "added: 4 Tu-22 from Soviet Union to Iraq (ordered 1983), +40.0 TIV delivered" in row["deals"]


# ----------------------------------------------------------------------------- the notebook


def _run_notebook(tmp_path, **params):
    import papermill as pm

    out = tmp_path / "out"
    pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "06.ipynb"), kernel_name="python3", cwd=str(paths.ROOT),
                        parameters={"output_dir": str(out), **params}, progress_bar=False)
    return out, json.loads((out / "summaries" / "06_release_changes.json").read_text())


@pytest.mark.slow
def test_notebook_on_the_two_real_releases(tmp_path, shared_sipri_dir):
    out, summary = _run_notebook(tmp_path, old_release_file=str(shared_sipri_dir / OLD_2025),
                                 new_release_file=str(shared_sipri_dir / NEW_2026))
    heads = {h["label"]: h["value"] for h in summary["headlines"]}
    assert heads["Deals to Iraq matched between 2025-03-13 and 2026-05-18"] == "478"
    assert heads["Deals to Iraq added in 2026-05-18"] == "2"
    assert heads["Weapon descriptions renamed (wording retired in 2026-05-18)"] == "50"
    assert heads["Claims whose verdict or value moved, 2025-03-13 -> 2026-05-18"] == "5"  # 2 after the report
    added = pd.read_csv(out / "tables" / "06_iraq_deals_added.csv")
    assert sorted(added["designation"]) == ["Project-183R", "Tu-22"]
    assert (out / "figures" / "06_iraq_tiv_change_by_period.html").is_file()


@pytest.mark.slow
def test_notebook_with_one_release_says_why_and_writes_its_summary(tmp_path):
    raw = tmp_path / "raw"
    altered_copy(raw / "sipri")
    out, summary = _run_notebook(tmp_path, raw_dir=str(raw))
    assert summary["summary"].startswith("Fewer than two SIPRI releases at hand")
    assert summary["headlines"] == [{"label": "SIPRI releases at hand", "value": "fewer than two"}]
    assert not (out / "tables").exists() or not list((out / "tables").glob("06_*"))
