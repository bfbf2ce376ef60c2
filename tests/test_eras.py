"""Decades and periods: midpoints, ranges, the June 2014 boundary, bad period tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from takingstock.data.periods import (
    PeriodsError, add_eras, decade, load_periods, period_of, period_of_year, year_mid,
)
from takingstock.core import paths

FIX = Path(__file__).parent / "fixtures" / "catalogue"


@pytest.fixture(scope="module")
def periods():
    return load_periods(FIX / "periods.csv")


def test_year_mid_and_decade():
    mid = year_mid(pd.Series([1975, 1970, 1975, 1974, None, 2000]),
                        pd.Series([None, 1979, 1984, 1983, None, 2000]))
    assert mid.tolist()[:4] == [1975.0, 1974.5, 1979.5, 1978.5]
    assert list(decade(mid)) == ["1970s", "1970s", "1980s", "1970s", "unknown", "2000s"]
    assert decade(1989.0) == "1980s" and decade(float("nan")) == "unknown"


def test_periods_by_midpoint(periods):
    years = pd.Series([1979, 1980, 1988, 1989, 1990, 1991, 2002, 2003, 2011, 2012, 2013, 2014, 2015, None])
    got = period_of_year(years, periods)["period_id"].tolist()
    assert got == ["pre1980", "iran_iraq_war", "iran_iraq_war", "interwar", "interwar", "embargo",
                   "embargo", "occupation", "occupation", "rearmament", "rearmament",
                   "after_mosul", "after_mosul", "unknown"]


def test_range_straddling_a_boundary_goes_by_its_midpoint(periods):
    mid = year_mid(pd.Series([2010, 1975]), pd.Series([2014, 1984]))
    assert period_of(mid, periods)["period_id"].tolist() == ["rearmament", "iran_iraq_war"]


def test_gap_in_periods_gives_unknown(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("period_id,label,start,end\na,A,1980-01-01,1985-12-31\nb,B,1990-01-01,1990-12-31\n")
    p = load_periods(f)
    got = period_of_year(pd.Series([1979, 1983, 1987, 1990, 1991]), p)["period"].tolist()
    assert got == ["unknown", "A", "unknown", "B", "unknown"]


@pytest.mark.parametrize("body,match", [
    ("a,A,1980-01-01,1985-12-31\nb,B,1985-06-01,1990-12-31\n", "overlap"),
    ("a,A,1980-13-01,1985-12-31\n", "row 2, column start"),
    ("a,A,1990-01-01,1985-12-31\n", "ends before"),
])
def test_bad_period_tables(tmp_path, body, match):
    f = tmp_path / "p.csv"
    f.write_text("period_id,label,start,end\n" + body)
    with pytest.raises(PeriodsError, match=match):
        load_periods(f)


def test_committed_periods_table_if_present():
    if not (paths.RAW / "periods.csv").exists():
        pytest.skip("data/raw/periods.csv not written yet")
    p = load_periods()
    assert period_of_year(pd.Series([1985]), p)["period"].iloc[0] != "unknown"


def test_a_million_rows_all_get_an_era(periods):
    y = pd.Series(np.random.default_rng(1).integers(1900, 2026, 10**6))
    out = add_eras(pd.DataFrame({"year_from": y, "year_to": y + 2}), periods)
    assert len(out) == 10**6
    assert (out["decade"] != "unknown").all()
