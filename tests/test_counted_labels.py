"""Labels say what was counted: combined counts and Cold War blocs spelled out (issue 24)."""

from __future__ import annotations

import pandas as pd

from takingstock.analysis import breakdowns, supply
from takingstock.core import paths


def test_cars_combined_soviet_russian_count_is_labelled_as_combined():
    from takingstock.data import cleaning

    result = cleaning.clean_catalogues(str(paths.RAW / "catalogue_car_2014_ammunition.csv"),
                                  sources=paths.RAW / "sources.csv")
    rows = result.clean
    assert breakdowns.by_country(rows).iloc[0]["state"] == "Soviet Union"   # the crosswalk's filing
    assert breakdowns.counted_as(rows) == {"Soviet Union": "Soviet Union/Russia (combined in the source's count)"}


def test_a_state_counted_partly_combined_says_so():
    rows = pd.DataFrame({"manufacture_state": ["Soviet Union", "Soviet Union", "China"],
                         "country_of_manufacture": ["Soviet Union", "Soviet Union/Russia", "China"]})
    assert breakdowns.counted_as(rows) == {
        "Soviet Union": "Soviet Union (with Soviet Union/Russia, combined in the source's count)"}


def test_bloc_groups_name_the_alliance_of_1990():
    assert supply.bloc_group("Warsaw Pact") == "Warsaw Pact states of 1990 and Soviet successors"
    assert supply.bloc_group("NATO") == "NATO members of 1990"
    # Poland, NATO's since 1999, is counted with the Warsaw Pact, and the label says why.
    crosswalk = pd.read_csv(paths.RAW / "country_crosswalk.csv", dtype=str)
    poland = crosswalk.loc[crosswalk["state"] == "Poland", "bloc"].iloc[0]
    assert supply.bloc_group(poland) == "Warsaw Pact states of 1990 and Soviet successors"
