"""Rules worked out once per distinct value give what they give on the rows; both readers of a
catalogue give the same cells and the same processed parquet, byte for byte."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from takingstock.data import catalogue_checks, catalogue_files, cleaning, countries
from takingstock.data.periods import add_eras, load_periods
from takingstock.core import paths

FIX = paths.ROOT / "tests" / "fixtures" / "catalogue"


@pytest.fixture(scope="module")
def periods():
    return load_periods(FIX / "periods.csv")


def _typed(n: int = 3000, seed: int = 14) -> pd.DataFrame:
    """A typed catalogue of ``n`` rows drawn from small vocabularies, good and bad values mixed."""
    rng = np.random.default_rng(seed)
    pick = lambda values: rng.choice(np.array(values, dtype=object), n)  # noqa: E731
    raw = pd.DataFrame({
        "record_id": [f"r-{i}" for i in range(n)],
        "category": pick(["rifle", "pistol", "rifles", ""]),
        "designation": pick(["AK-47", "", "M16"]),
        "country_of_design": pick(["USSR", "", "Narnia"]),
        "country_of_manufacture": pick(["China", "PRC", "Atlantis", ""]),
        "year_from": pick(["1970", "1700", "", "1e3", "1985.0", "2999"]),
        "year_to": pick(["1980", "", "1,730", "1960"]),
        "acquisition": pick(["", "iraqi capture", "stolen"]),
        "quantity": pick(["1", "", "-1", "2000000000", "5.5"]),
        "count_basis": pick(["item", "derived", "x"]),
        "share_published": pick(["", "43.5", "101", "12,5", "1e1"]),
        "confidence": pick(["R", "PR", "X"]),
        "source_ids": pick(["src-a", "src-a; src-b", "", "a;;b", "src-a;nope"]),
        "notes": pick(["", "n"]),
    }).astype(str)
    return raw


def _sorted(problems: pd.DataFrame) -> list[tuple]:
    return sorted(zip(problems["row"].astype(int), problems["column"], problems["reason"]))


def test_schema_checks_on_distinct_values_find_what_pandera_finds_on_the_rows():
    typed, _ = catalogue_checks.coerce_types(_typed())
    got = catalogue_checks.schema_problems(typed)
    import pandera.errors

    with pytest.raises(pandera.errors.SchemaErrors) as err:
        catalogue_checks.catalogue_schema().validate(typed[list(catalogue_files.RAW_COLUMNS)], lazy=True)
    fc = err.value.failure_cases
    fc = fc[fc["index"].notna()]
    expected = sorted(zip(fc["index"].astype(int), fc["column"], fc["column"].map(catalogue_checks.SCHEMA_REASONS)))
    assert _sorted(got) == expected
    # e.g. the category column: every row holding "rifles" or "" fails, and no other
    bad_category = int(typed["category"].isin(["rifles", ""]).sum())
    assert (got["column"] == "category").sum() == bad_category > 0


def test_numbers_parsed_once_per_distinct_text_as_on_the_rows():
    text = _typed()["year_from"]
    values, reason = catalogue_checks.by_distinct_value(text, lambda t: catalogue_checks.parse_whole_numbers(t, "year_from"))
    row_values, row_reason = catalogue_checks.parse_whole_numbers(text, "year_from")
    assert values.dtype == row_values.dtype == "Int64"
    assert values.equals(row_values) and (reason.to_numpy() == row_reason.to_numpy()).all()
    assert int(values.sum()) == int((text == "1970").sum()) * 1970 + int((text == "1700").sum()) * 1700 \
        + int((text == "2999").sum()) * 2999


def test_distinct_values_declines_a_column_of_mostly_distinct_values():
    assert catalogue_checks.distinct_values(pd.Series([f"r-{i}" for i in range(10)], dtype="str")) is None
    codes, distinct = catalogue_checks.distinct_values(pd.Series(["a", "b", "a", "a"], dtype="str"))
    assert list(codes) == [0, 1, 0, 0] and list(distinct) == ["a", "b"]


def test_source_ids_checked_once_per_distinct_cell():
    typed = _typed()
    got = catalogue_checks.source_problems(typed, {"src-a", "src-b"})
    ids = typed["source_ids"].str.split(";").explode().str.strip()  # the same rule on the rows
    unknown = ids[(ids != "") & ~ids.isin({"src-a", "src-b"})].groupby(level=0).agg(", ".join)
    assert list(got["row"]) == list(unknown.index)
    assert list(got["reason"]) == list("source id(s) not in sources.csv: " + unknown)
    assert set(got["reason"]) == {"source id(s) not in sources.csv: nope", "source id(s) not in sources.csv: a, b"}


def test_country_lookups_per_distinct_name_match_the_crosswalk_on_the_rows():
    typed = _typed()
    crosswalk = countries.load_crosswalk()
    problems, lookups = catalogue_checks.country_problems(typed, crosswalk)
    on_rows = crosswalk.lookup(typed["country_of_manufacture"], errors="mark")
    assert lookups["country_of_manufacture"].equals(on_rows)
    unknown = typed["country_of_manufacture"] == "Atlantis"
    assert (problems["column"] == "country_of_manufacture").sum() == int(unknown.sum()) > 0


def test_eras_per_distinct_pair_of_years_are_add_eras_on_the_rows(periods):
    rng = np.random.default_rng(3)
    years = pd.DataFrame({"year_from": pd.array(rng.choice([1970, 1985, 2014, None], 500), dtype="Int64"),
                          "year_to": pd.array(rng.choice([1980, 1990, None], 500), dtype="Int64")},
                         index=np.arange(500) * 2)  # an index other than 0..n-1, as clean rows have
    got = cleaning.add_eras_by_distinct_years(years, periods)
    expected = add_eras(years, periods)
    assert got.equals(expected) and got.dtypes.equals(expected.dtypes)
    assert (got["period_id"] == "iran_iraq_war").sum() == expected["period_id"].eq("iran_iraq_war").sum() > 0


@pytest.mark.parametrize("name", ["catalogue_amnesty_2015.csv", "catalogue_car_2014_ammunition.csv",
                                  "catalogue_car_2017_weapons.csv"])
def test_committed_catalogues_take_the_fast_reader_and_read_as_pandas_does(name, monkeypatch):
    path = paths.RAW / name
    fast, _ = catalogue_files.read_catalogue(path)
    monkeypatch.setattr(catalogue_files, "_parse_with_arrow", _pandas_on_bytes)
    slow, _ = catalogue_files.read_catalogue(path)
    assert fast.equals(slow) and fast.dtypes.equals(slow.dtypes) and len(fast) > 0


def _pandas_on_bytes(body, codec, delimiter, n_columns):
    """What read_catalogue does for a file with short rows or blank lines, as a stand-in for pyarrow."""
    return pd.read_csv(io.BytesIO(body), sep=delimiter, dtype=str, keep_default_na=False, index_col=False,
                       skip_blank_lines=False, encoding=codec, header=0, names=[str(i) for i in range(n_columns)])


def _read_as_pandas_reads_text(path):
    """The plain way: pandas on the decoded text, every cell trimmed (a regular comma file)."""
    frame = pd.read_csv(io.StringIO(path.read_text(encoding="utf-8")), dtype=str, keep_default_na=False,
                        index_col=False, skip_blank_lines=False)
    frame = frame.astype(str).apply(lambda col: col.str.strip())
    frame.attrs["delimiter"] = ","
    return frame, "utf-8"


@pytest.mark.slow
def test_processed_parquet_is_the_same_file_whichever_reader_read_the_catalogue(tmp_path, monkeypatch, periods):
    """150,000 rows (more than two 65,536-row chunks; ids too many for a parquet dictionary), read
    by pyarrow, by pandas on the bytes and by pandas on the decoded text."""
    n = 150_000
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({
        "record_id": [f"syn-{i:07d}" for i in range(n)],
        "category": rng.choice(["rifle", "pistol", "rifles"], n, p=[0.5, 0.5 - 1e-4, 1e-4]), "designation": "AK-47",
        "country_of_design": rng.choice(["USSR", "", "Korea, North"], n),
        "country_of_manufacture": rng.choice(["China", "Atlantis"], n, p=[1 - 1e-4, 1e-4]),
        "year_from": rng.integers(1950, 2010, n), "year_to": "", "acquisition": "", "quantity": "1",
        "count_basis": "item", "share_published": "", "confidence": "R", "source_ids": "src-a",
        "notes": rng.choice(["", 'said "new"', "two\nlines"], n)})
    f = tmp_path / "catalogue_big.csv"
    frame.to_csv(f, index=False)
    fast = cleaning.clean_catalogues(f, periods=periods)
    cleaning.write_outputs(fast, tmp_path / "fast")
    monkeypatch.setattr(catalogue_files, "_parse_with_arrow", _pandas_on_bytes)
    cleaning.write_outputs(cleaning.clean_catalogues(f, periods=periods), tmp_path / "slow")
    monkeypatch.setattr(cleaning, "read_catalogue", _read_as_pandas_reads_text)
    cleaning.write_outputs(cleaning.clean_catalogues(f, periods=periods), tmp_path / "text")
    for name in ("catalogue.parquet", "rejected.csv", "problems.csv", "cleaning_report.csv"):
        assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "slow" / name).read_bytes(), name
        assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "text" / name).read_bytes(), name
    expected_clean = int(((frame["category"] != "rifles") & (frame["country_of_manufacture"] != "Atlantis")).sum())
    assert len(fast.clean) == expected_clean and len(fast.rejected) == n - expected_clean
