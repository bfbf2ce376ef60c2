"""The committed raw data: its data package, sources, and the figures the catalogues carry."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from takingstock.core import atomic, paths
from takingstock.data import provenance

CATALOGUES = (
    "catalogue_amnesty_2015.csv",
    "catalogue_car_2014_ammunition.csv",
    "catalogue_car_2017_weapons.csv",
)
OWN_FILES = CATALOGUES + ("sources.csv", "periods.csv")
SCHEMA = [
    "record_id", "category", "designation", "country_of_design", "country_of_manufacture",
    "year_from", "year_to", "acquisition", "quantity", "count_basis", "share_published",
    "confidence", "source_ids", "notes",
]
CATEGORIES = {
    "pistol", "rifle", "machine gun", "sniper/anti-materiel rifle", "RPG/recoilless",
    "guided anti-tank missile", "MANPADS", "mortar", "artillery", "rocket", "armoured vehicle",
    "ammunition", "improvised", "other",
}
ACQUISITION = {"", "iraqi capture", "syrian capture", "syrian opposition supply", "illicit trade",
               "improvised", "unknown"}


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(paths.RAW / name, dtype=str, keep_default_na=False, encoding="utf-8")


def numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.replace("", None), errors="raise")


# --- provenance -----------------------------------------------------------------------------

RESOURCES = {r["path"]: r for r in provenance.load_package(paths.RAW)["resources"]}


@pytest.mark.parametrize("name", OWN_FILES)
def test_own_raw_file_is_completely_described_in_the_package(name):
    path = paths.RAW / name
    res = RESOURCES[name]
    assert res["hash"] == "sha256:" + atomic.sha256_file(path)
    assert res["rows"] == len(read(name))
    assert provenance.resource_problems(res) == []
    assert res["compiled"] == "2026-11-27"
    assert [f["name"] for f in res["schema"]["fields"]] == list(read(name).columns)
    assert all(f["type"] and f["description"] for f in res["schema"]["fields"])
    assert all(s["path"].startswith("https://") for s in res["sources"])


@pytest.mark.parametrize("path", provenance.raw_files(paths.RAW), ids=lambda p: p.name)
def test_every_raw_file_is_a_complete_resource(path):
    """Every committed raw file (whoever owns it) is described and pinned by datapackage.json."""
    assert path.name in RESOURCES, (
        f"`python -m takingstock.data.provenance --add data/raw/{path.name}` adds it (docs/CONTRACTS.md)")
    assert provenance.resource_problems(RESOURCES[path.name]) == []


def test_raw_data_versions_lists_own_files_verified():
    versions = {v["file"]: v for v in provenance.raw_data_versions(paths.RAW)}
    for name in OWN_FILES:
        assert versions[name]["verified"] is True
        assert versions[name]["sha256"] == atomic.sha256_file(paths.RAW / name)
    assert versions["catalogue_amnesty_2015.csv"]["rows"] == 48
    assert versions["catalogue_car_2017_weapons.csv"]["title"].startswith("Conflict Armament Research (2017)")


# --- schema and vocabularies ------------------------------------------------------------------

@pytest.mark.parametrize("name", CATALOGUES)
def test_catalogue_follows_schema(name):
    df = read(name)
    assert list(df.columns) == SCHEMA
    assert df["record_id"].is_unique
    assert (df["record_id"] != "").all()
    assert set(df["category"]) <= CATEGORIES
    assert set(df["acquisition"]) <= ACQUISITION
    assert set(df["count_basis"]) <= {"item", "published", "derived"}
    assert set(df["confidence"]) <= {"R", "PR", "N"}
    assert (df["designation"] != "").all()
    y0, y1 = numbers(df["year_from"]), numbers(df["year_to"])
    assert y0.dropna().between(1850, 2026).all() and y1.dropna().between(1850, 2026).all()
    both = y0.notna() & y1.notna()
    assert (y1[both] >= y0[both]).all()
    assert (y0.isna() == y1.isna()).all()
    assert (numbers(df["quantity"]).dropna() > 0).all()
    # No markup anywhere: text goes into HTML briefings.
    assert not df.apply(lambda col: col.str.contains(r"[<>]", regex=True)).any().any()


def test_every_source_id_is_in_sources_with_a_url():
    sources = read("sources.csv")
    assert list(sources.columns) == ["source_id", "title", "publisher", "date", "url", "notes", "tier",
                                     "tier_reason", "read"]
    assert sources["source_id"].is_unique
    assert sources["url"].str.match(r"^https://[^ ]+$").all()
    assert sources["date"].str.match(r"^(\d{4}-\d{2}(-\d{2})?)?$").all()
    used = set()
    for name in CATALOGUES:
        for ids in read(name)["source_ids"]:
            parts = ids.split(";")
            assert all(parts), f"{name}: empty source id in {ids!r}"
            used.update(parts)
    known = set(sources["source_id"])
    assert used - known == set()
    from takingstock.analysis import claims
    used.update(i for c in claims.load_claims() for i in c.source_ids)   # the claims' sources too
    assert known - used == set(), "sources.csv lists ids that no catalogue or claim uses"
    assert len(known) == 56   # 41 behind the catalogues, 15 more behind the claims only


# --- the Amnesty catalogue ------------------------------------------------------------------

def test_amnesty_catalogue_countries_and_counts():
    df = read("catalogue_amnesty_2015.csv")
    assert len(df) == 48
    made = set(df["country_of_manufacture"]) - {""}
    assert made == {"Austria", "Belgium", "China", "Croatia", "Germany", "Iran", "Iraq",
                    "Islamic State", "Russia", "UK", "USA", "Yugoslavia"}
    # The report publishes no counts: every row is an item type with unknown quantity.
    assert (df["count_basis"] == "item").all() and (df["quantity"] == "").all()
    by_country = df.loc[df["country_of_manufacture"] != "", "country_of_manufacture"].value_counts()
    assert by_country["Russia"] == 8 and by_country["China"] == 7 and by_country["USA"] == 7
    assert by_country["Islamic State"] == 5
    assert (df["country_of_manufacture"] == "").sum() == 9


def test_amnesty_catalogue_design_states_follow_the_era_of_design():
    df = read("catalogue_amnesty_2015.csv").set_index("record_id")
    for rid in ("ai15-ak-russia", "ai15-ak-china", "ai15-svd", "ai15-metis"):
        assert df.loc[rid, "country_of_design"] == "Soviet Union"
    assert df.loc["ai15-kornet", "country_of_design"] == "Russia"
    assert df.loc["ai15-g3", "country_of_design"] == "West Germany"


def test_amnesty_catalogue_years_only_where_a_source_gives_them():
    df = read("catalogue_amnesty_2015.csv").set_index("record_id")
    dated = df[df["year_from"] != ""]
    assert set(dated.index) == {"ai15-uk-1914", "ai15-pistols", "ai15-mortar-iraq",
                                "ai15-mortar-russia", "ai15-mortar-china", "ai15-impro-rockets"}
    assert df.loc["ai15-uk-1914", ["year_from", "year_to"]].tolist() == ["1914", "1914"]
    assert df.loc["ai15-fal", "year_from"] == ""  # 1979 is a sale, not a manufacture year
    assert min(int(y) for y in dated["year_from"]) == 1914


def test_amnesty_catalogue_leaves_out_unverified_glosses():
    text = " ".join(read("catalogue_amnesty_2015.csv")["designation"])
    for gloss in ("Type 56", "Lee-Enfield", "HS50", "M79", "Osa", "PKM", "DShK", "VHS", "F-16",
                  "MBDA", "Minimi"):
        assert gloss not in text


# --- CAR 2014 -------------------------------------------------------------------------------

def test_car_2014_counts_sum_to_the_documented_total():
    df = read("catalogue_car_2014_ammunition.csv")
    qty = numbers(df["quantity"])
    assert qty.notna().all() and qty.sum() == 1730
    by = dict(zip(df["country_of_manufacture"], qty))
    assert by["Soviet Union/Russia"] == 492 and by["China"] == 445 and by["USA"] == 323
    remainder = df[df["country_of_manufacture"] == ""]
    assert len(remainder) == 1
    assert remainder["count_basis"].item() == "derived"
    assert int(remainder["quantity"].item()) == 349
    assert "remainder" in remainder["designation"].item()
    assert set(df.loc[df["country_of_manufacture"] != "", "count_basis"]) == {"published"}
    # Share of the combined Soviet/Russian figure, computed: 28.4%.
    assert round(100 * by["Soviet Union/Russia"] / 1730, 1) == 28.4


# --- CAR 2017 -------------------------------------------------------------------------------

def test_car_2017_quantities_sum_to_the_documented_total():
    df = read("catalogue_car_2017_weapons.csv").set_index("record_id")
    qty = numbers(df["quantity"])
    share = numbers(df["share_published"])
    assert qty.sum() == 1832
    assert share.loc["car17-china"] == 43.5 and qty.loc["car17-china"] == 797
    assert df.loc["car17-china", "count_basis"] == "published"
    assert df.loc["car17-hungary", "count_basis"] == "published" and qty.loc["car17-hungary"] == 132
    assert round(share.sum(), 1) == 95.5
    derived = df[(df["count_basis"] == "derived") & share.notna()]
    assert len(derived) == 10
    assert (qty[derived.index] == (share[derived.index] / 100 * 1832).round()).all()
    assert qty.loc["car17-remainder"] == 83 and pd.isna(share.loc["car17-remainder"])
    # Published totals agree: EU member states about a third, China plus Russia over half.
    eu = ["car17-romania", "car17-hungary", "car17-bulgaria", "car17-germany", "car17-poland",
          "car17-czech"]
    assert round(share[eu].sum(), 1) == 32.5
    assert round(share[["car17-china", "car17-russia"]].sum(), 1) == 53.1


# --- periods --------------------------------------------------------------------------------

def test_periods_are_contiguous_and_do_not_overlap():
    df = read("periods.csv")
    assert list(df.columns) == ["period_id", "label", "start", "end", "recipients"]
    assert (df["recipients"] == "Iraq").all()   # Iraq's history (takingstock.analysis.eras.periods_for)
    assert df["period_id"].is_unique
    assert df["start"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    start = pd.to_datetime(df["start"], format="%Y-%m-%d")
    end = pd.to_datetime(df["end"], format="%Y-%m-%d")
    assert (start <= end).all()
    assert ((start.iloc[1:].reset_index(drop=True) - end.iloc[:-1].reset_index(drop=True))
            == pd.Timedelta(days=1)).all()
    assert df["start"].iloc[0] == "1800-01-01" and df["end"].iloc[-1] == "2100-12-31"
    assert len(df) == 7
    by_id = df.set_index("period_id")
    assert by_id.loc["after-mosul", "start"] == "2014-06-10"
    assert by_id.loc["iran-iraq-war", ["start", "end"]].tolist() == ["1980-01-01", "1988-12-31"]
    assert by_id.loc["un-embargo", ["start", "end"]].tolist() == ["1991-01-01", "2002-12-31"]
    assert re.search("Mosul", by_id.loc["after-mosul", "label"])


def test_package_sources_are_titled_from_sources_csv():
    titles = {s["path"]: s["title"] for s in RESOURCES["catalogue_car_2017_weapons.csv"]["sources"]}
    assert titles["https://www.conflictarm.com/reports/weapons-of-the-islamic-state/"] == (
        "Conflict Armament Research: Weapons of the Islamic State: A three-year investigation in "
        "Iraq and Syria")
    assert {"title": "SIPRI Arms Transfers Database", "path": "https://www.sipri.org/databases/armstransfers"} \
        in RESOURCES["claims_accepted.csv"]["sources"]
