"""Catalogue cleaning: broken and awkward files, encodings, numbers, separators, line ends,
row accounting, the ``catalogues`` parameter, real figures, notebook 01."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from takingstock.data import catalogue_checks, catalogue_files, cleaning, countries
from takingstock.data.periods import load_periods
from takingstock.core import paths
from takingstock.data.catalogue_files import CatalogueFileError

FIX = Path(__file__).parent / "fixtures" / "catalogue"


@pytest.fixture(scope="module")
def cw():
    return countries.load_crosswalk()


@pytest.fixture(scope="module")
def periods():
    return load_periods(FIX / "periods.csv")


@pytest.fixture(scope="module")
def broken(cw, periods):
    return cleaning.clean_catalogues(FIX / "catalogue_broken.csv", cw, periods,
                                      sources=FIX / "sources.csv")


def _reasons(result, record_id):
    row = result.rejected[result.rejected["record_id"] == record_id]
    assert len(row) == 1, record_id
    return row.iloc[0]


def test_broken_catalogue_accounting(broken):
    rep = broken.report.iloc[0]
    assert (rep.raw_rows, rep.clean_rows, rep.rejected_rows) == (11, 3, 8)
    assert sorted(broken.clean["record_id"]) == ["ok-1", "ok-2", "ok-3"]


@pytest.mark.parametrize("record_id,column,reason", [
    ("bad-type", "quantity | year_from",
     "not a whole number: write it in plain digits, such as 1985; a decimal point (even .0) is not "
     "accepted | not a whole number: write it in plain digits, such as 1985"),
    ("bad-future", "year_from", "year outside 1850"),
    ("bad-old", "year_from", "year outside 1850"),
    ("bad-range", "year_to", "year_to is before year_from (1990)"),
    ("bad-country", "country_of_manufacture", "did you mean: Soviet Union"),
])
def test_row_problems_have_reasons(broken, record_id, column, reason):
    row = _reasons(broken, record_id)
    assert row["column"] == column
    assert reason in row["reason"]


def test_impossible_year_values_reported_verbatim(broken):
    assert _reasons(broken, "bad-future")["value"] == "2090"
    assert _reasons(broken, "bad-old")["value"] == "1700"
    assert _reasons(broken, "bad-type")["value"] == "2.5 | nineteen-eighty"


def test_duplicate_ids_reject_every_copy(broken):
    dups = broken.rejected[broken.rejected["record_id"] == "dup"]
    assert list(dups["source_row"]) == [8, 9]
    assert all("rows 8, 9" in r for r in dups["reason"])


def test_lazy_validation_reports_every_problem_of_a_row(broken):
    p = broken.problems[broken.problems["source_row"] == 10]
    assert sorted(p["column"]) == ["acquisition", "category", "confidence", "count_basis",
                                   "share_published", "source_ids"]
    assert p.set_index("column").at["share_published", "value"] == "150"


def test_html_is_kept_verbatim_as_text(broken):
    row = broken.clean[broken.clean["record_id"] == "ok-2"].iloc[0]
    assert row["designation"] == "<script>alert(1)</script>"
    assert row["notes"] == "HTML kept as text, a comma, too"


def test_processed_columns(broken):
    row = broken.clean.set_index("record_id").loc["ok-3"]
    assert (row["design_state"], row["manufacture_state"], row["manufacture_iso"],
            row["manufacture_successor"], row["manufacture_bloc"]) == (
        "Germany", "East Germany", "DDR", "Germany", "Warsaw Pact")
    assert (row["decade"], row["period_id"], row["source_row"]) == ("1980s", "iran_iraq_war", 11)
    ok1 = broken.clean.set_index("record_id").loc["ok-1"]
    assert (ok1["count"], ok1["manufacture_iso"], ok1["catalogue"]) == (3, "SUN", "broken")
    assert broken.clean.set_index("record_id").at["ok-2", "count"] == 1


def test_folding_successors(cw, periods):
    r = cleaning.clean_catalogues(FIX / "catalogue_broken.csv", cw, periods, fold_successors=True)
    states = r.clean.set_index("record_id")["manufacture_state"]
    assert (states["ok-1"], states["ok-3"]) == ("Russia", "Germany")


def test_unknown_source_ids_rejected(cw, periods, tmp_path):
    f = tmp_path / "catalogue_src.csv"
    f.write_text((FIX / "catalogue_broken.csv").read_text().replace("src-b,folding", "src-zz,folding"))
    r = cleaning.clean_catalogues(f, cw, periods, sources={"src-a", "src-b"})
    assert "src-zz" in _reasons(r, "ok-3")["reason"]


@pytest.mark.parametrize("name,match", [
    ("catalogue_missing_column.csv", "missing required column.*source_ids"),
    ("catalogue_binary.csv", "not UTF-8"),
    ("catalogue_does_not_exist.csv", "not found"),
])
def test_unusable_files_stop_with_the_file_named(cw, periods, name, match):
    with pytest.raises(CatalogueFileError, match=match) as info:
        cleaning.clean_catalogues(FIX / name, cw, periods)
    assert name in str(info.value)


HEADER = ",".join(catalogue_files.RAW_COLUMNS)


def _row(record_id, extra=""):
    return f"{record_id},rifle,Invented rifle,USSR,Soviet Union,1975,1975,,3,item,,own,src-a,note{extra}"


def test_duplicated_column_header_stops_with_file_and_column(cw, periods, tmp_path):
    f = tmp_path / "catalogue_dupe.csv"
    f.write_text(HEADER + ",quantity\n" + _row("r-1", ",5") + "\n")
    with pytest.raises(CatalogueFileError, match="appear twice in the header: quantity") as info:
        cleaning.clean_catalogues(f, cw, periods)
    assert "catalogue_dupe.csv" in str(info.value)


def test_blank_lines_are_rows_rejected_as_empty(cw, periods, tmp_path):
    f = tmp_path / "catalogue_blank.csv"
    lines = [HEADER, _row("r-1"), "", _row("r-3"), ",,,,,,,,,,,,,", _row("r-5").replace("1975,1975", "1975,1900"), ""]
    f.write_text("\n".join(lines) + "\n")
    r = cleaning.clean_catalogues(f, cw, periods)
    rep = r.report.iloc[0]
    assert (rep.raw_rows, rep.clean_rows, rep.rejected_rows) == (6, 2, 4)
    assert dict(zip(r.clean["record_id"], r.clean["source_row"])) == {"r-1": 1, "r-3": 3}
    assert list(r.rejected["source_row"]) == [2, 4, 5, 6]
    assert list(r.rejected["reason"])[:2] == ["empty row", "empty row"]
    assert r.rejected.loc[r.rejected["record_id"] == "r-5", "reason"].item().startswith("year_to is before")
    assert r.rejected["reason"].iloc[3] == "empty row"  # the blank line before the end of file


def test_trailing_comma_on_data_rows_stops_naming_the_rows(cw, periods, tmp_path):
    f = tmp_path / "catalogue_trailing.csv"
    f.write_text("\n".join([HEADER, _row("r-1"), _row("r-2", ","), _row("r-3", ",")]) + "\n")
    with pytest.raises(CatalogueFileError, match=r"2 data row\(s\) have more fields.*row 2 has 15.*rows 2, 3"):
        cleaning.clean_catalogues(f, cw, periods)
    every = tmp_path / "catalogue_every.csv"  # a trailing comma on every data row, not the header
    every.write_text("\n".join([HEADER, _row("r-1", ","), _row("r-2", ",")]) + "\n")
    with pytest.raises(CatalogueFileError, match="catalogue_every.csv: 2 data row"):
        cleaning.clean_catalogues(every, cw, periods)


def test_glob_matching_nothing_is_an_error(cw, periods, tmp_path):
    with pytest.raises(CatalogueFileError, match="no catalogue file matches"):
        cleaning.clean_catalogues(str(tmp_path / "catalogue_*.csv"), cw, periods)


def test_latin1_and_bom_files(cw, periods):
    r = cleaning.clean_catalogues([FIX / "catalogue_latin1.csv", FIX / "catalogue_bom.csv"], cw, periods)
    assert dict(zip(r.report["source_file"], r.report["encoding"])) == {
        "catalogue_latin1.csv": "latin-1", "catalogue_bom.csv": "utf-8-sig"}
    by_id = r.clean.set_index("record_id")
    assert by_id.at["lat-1", "designation"] == "Fusil inventé à Liège"
    assert by_id.at["bom-1", "designation"] == "Gewehr für Tests"
    assert by_id.at["bom-1", "period_id"] == "after_mosul"  # 2014 -> its midpoint, 2 July


def test_write_outputs(broken, tmp_path):
    written = cleaning.write_outputs(broken, tmp_path)
    clean = pd.read_parquet(written["catalogue"])
    rejected = pd.read_csv(written["rejected"], dtype=str, keep_default_na=False)
    report = pd.read_csv(written["cleaning_report"])
    assert len(clean) == 3 and len(rejected) == 8
    assert (report["raw_rows"] == report["clean_rows"] + report["rejected_rows"]).all()
    assert rejected.loc[rejected["record_id"] == "bad-old", "year_from"].item() == "1700"
    assert not list(tmp_path.glob(".*.tmp"))


def test_check_accounting_catches_a_lost_row():
    bad = pd.DataFrame([{"source_file": "x.csv", "raw_rows": 5, "clean_rows": 3, "rejected_rows": 1}])
    with pytest.raises(AssertionError, match="rows lost"):
        cleaning.check_accounting(bad)


@pytest.mark.slow
def test_million_rows_clean_with_every_rejection_counted(cw, periods, tmp_path):
    n = 10**6
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "record_id": np.char.add("r", np.arange(n).astype(str)),
        "category": rng.choice(["rifle", "pistol", "mortar"], n),
        "designation": "invented item",
        "country_of_design": rng.choice(["USSR", "China", "USA", ""], n),
        "country_of_manufacture": rng.choice(["Russia", "PRC", "Yugoslavia", "Narnia"], n),
        "year_from": rng.integers(1700, 2030, n), "year_to": "",
        "acquisition": "", "quantity": "1", "count_basis": "item", "share_published": "",
        "confidence": "own", "source_ids": "src-a", "notes": ""})
    f = tmp_path / "catalogue_big.csv"
    frame.to_csv(f, index=False)
    r = cleaning.clean_catalogues(f, cw, periods)
    rep = r.report.iloc[0]
    assert rep.raw_rows == n == rep.clean_rows + rep.rejected_rows
    narnia = frame["country_of_manufacture"] == "Narnia"
    in_range = frame["year_from"].between(catalogue_checks.YEAR_MIN, catalogue_checks.YEAR_MAX)
    assert rep.clean_rows == (~narnia & in_range).sum()
    assert (r.problems["column"] == "country_of_manufacture").sum() == narnia.sum()
    assert (r.problems["column"] == "year_from").sum() == (~in_range).sum()
    assert set(r.clean["manufacture_state"]) == {"Russia", "China", "Yugoslavia"}


# ---------- awkward files a user may bring (issue: every file gets a clear answer) ----------

def _clean(name, cw, periods, **kw):
    """Clean one fixture file; assert raw = clean + rejected; return the result."""
    r = cleaning.clean_catalogues(FIX / name if isinstance(name, str) else name, cw, periods, **kw)
    rep = r.report.iloc[0]
    assert rep.raw_rows == rep.clean_rows + rep.rejected_rows == len(r.clean) + len(r.rejected)
    return r


def _problem(result, record_id):
    """(source_row, column, value, reason) of a rejected row."""
    row = _reasons(result, record_id)
    return row["source_row"], row["column"], row["value"], row["reason"]


QUANTITY_RANGE = "quantity outside 0..1,000,000,000 (the largest accepted)"
EXPONENT = "not a whole number: write it in plain digits, such as 1985; exponent notation"


@pytest.mark.parametrize("record_id,row,column,value,reason", [
    ("q-exp20", 1, "quantity", "1e20", EXPONENT),
    ("q-digits20", 2, "quantity", "99999999999999999999", QUANTITY_RANGE),
    ("y-exp20", 3, "year_from", "1e20", EXPONENT),
    ("q-5e18-a", 4, "quantity", "5000000000000000000", QUANTITY_RANGE),
    ("q-5e18-b", 5, "quantity", "5000000000000000000", QUANTITY_RANGE),
    ("q-over", 6, "quantity", "1000000001", QUANTITY_RANGE),
])
def test_huge_numbers_are_rejected_by_row_naming_the_column(cw, periods, record_id, row, column,
                                                             value, reason):
    r = _clean("catalogue_huge_numbers.csv", cw, periods)
    got = _problem(r, record_id)
    assert got[:3] == (row, column, value)
    assert got[3].startswith(reason)
    assert r.problems.loc[r.problems["source_row"] == row, "source_file"].item() == "catalogue_huge_numbers.csv"


def test_huge_numbers_file_keeps_its_good_rows_with_exact_counts(cw, periods):
    r = _clean("catalogue_huge_numbers.csv", cw, periods)
    assert (r.report.iloc[0].raw_rows, len(r.clean), len(r.rejected)) == (10, 4, 6)
    by_id = r.clean.set_index("record_id")
    assert by_id.at["q-max", "count"] == catalogue_checks.MAX_QUANTITY == 10**9
    assert by_id.at["q-zero", "count"] == 0
    assert by_id.at["y-digits", "year_to"] == 1975  # leading zeros are not digits of the number
    assert r.clean["count"].sum() == 10**9 + 0 + 1 + 3


def test_two_rows_of_5e18_cannot_make_a_negative_share(cw, periods):
    from takingstock.analysis import breakdowns
    r = _clean("catalogue_huge_numbers.csv", cw, periods)
    made = breakdowns.by_country(r.clean, "manufacture").set_index("state")
    assert made["count"].sum() == 10**9 + 4
    assert made["share"].between(0, 100).all()
    assert made.at["United States", "share"] == pytest.approx(100 * 10**9 / (10**9 + 4))
    assert "China" not in made.index  # both 5e18 rows (and the 1e20 ones) are rejected


def test_largest_quantity_over_many_rows_gives_exact_totals_and_shares(cw, periods, tmp_path):
    """200,000 rows of the largest accepted quantity: totals exact, shares 75% and 25%."""
    from takingstock.analysis import breakdowns
    n = 200_000
    lines = (FIX / "catalogue_huge_numbers.csv").read_text(encoding="utf-8").splitlines()
    header, q_max = lines[0], next(line for line in lines if line.startswith("q-max,"))
    rows = [q_max.replace("q-max,", f"m{i},", 1) if i % 4 else
            q_max.replace("q-max,", f"m{i},", 1).replace("USA,United States", "USSR,Soviet Union")
            for i in range(n)]
    f = tmp_path / "catalogue_max_many.csv"
    f.write_text("\n".join([header] + rows) + "\n", encoding="utf-8")
    r = _clean(f, cw, periods)
    assert len(r.clean) == n and r.clean["count"].dtype == "int64"
    assert int(r.clean["count"].sum()) == sum([catalogue_checks.MAX_QUANTITY] * n) == 2 * 10**14
    made = breakdowns.by_country(r.clean, "manufacture").set_index("state")
    assert made.at["United States", "count"] == 150_000 * 10**9
    assert made.at["Soviet Union", "count"] == 50_000 * 10**9
    assert list(made["share"]) == [75.0, 25.0]
    share = breakdowns.group_share(r.clean, ["Soviet Union"])
    assert (share["count"], share["total"], share["share"]) == (5 * 10**13, 2 * 10**14, 25.0)


def test_the_quantity_bound_keeps_every_sum_exact():
    """The argument of ``check_total``, in numbers: no realistic file can overflow."""
    rows_before_int64_overflow = (2**63 - 1) // catalogue_checks.MAX_QUANTITY
    assert rows_before_int64_overflow > 9 * 10**9  # > 9 billion rows, far beyond memory
    assert catalogue_checks.MAX_TOTAL // catalogue_checks.MAX_QUANTITY > 9 * 10**6  # 9 million rows at 10^9
    assert float(catalogue_checks.MAX_TOTAL) == catalogue_checks.MAX_TOTAL  # 2^53: exact as a float too


def test_a_total_beyond_the_exact_limit_stops_naming_the_file(cw, periods, monkeypatch):
    monkeypatch.setattr(catalogue_checks, "MAX_TOTAL", 10**9)  # the fixture's clean rows hold 10^9 + 4
    with pytest.raises(CatalogueFileError, match=r"catalogue_huge_numbers.csv: the quantities .* "
                       r"add up to 1,000,000,004, more than 1,000,000,000"):
        cleaning.clean_catalogues(FIX / "catalogue_huge_numbers.csv", cw, periods)


@pytest.mark.parametrize("record_id,row,column,value,reason", [
    ("n-1e3", 1, "quantity", "1e3", "exponent notation (such as 1e3) is not accepted"),
    ("n-1985.0", 2, "year_from", "1985.0", "a decimal point (even .0) is not accepted"),
    ("n-1.99e3", 3, "year_to", "1.99e3", "exponent notation (such as 1e3) is not accepted"),
    ("n-thousands", 4, "quantity", "1,730", "thousands separators are not accepted"),
    ("n-space", 5, "quantity", "1 730", "thousands separators are not accepted"),
    ("n-plus", 6, "quantity", "+5", "not a whole number: write it in plain digits, such as 1985"),
    ("n-negative", 7, "quantity", "-3", QUANTITY_RANGE),
    ("n-decimal-comma", 8, "share_published", "12,5", "a decimal comma is not accepted (write 12.5"),
    ("n-share-exp", 9, "share_published", "1e1", "exponent notation (such as 1e1) is not accepted"),
    ("n-share-nan", 10, "share_published", "nan", "not a number: write it in plain decimal notation"),
    ("n-fullwidth", 11, "quantity", "１２", "not a whole number: write it in plain digits"),
])
def test_number_forms_other_than_plain_digits_are_rejected_with_the_reason(
        cw, periods, record_id, row, column, value, reason):
    got = _problem(_clean("catalogue_number_forms.csv", cw, periods), record_id)
    assert got[:3] == (row, column, value)
    assert reason in got[3]


def test_plain_numbers_are_read_exactly(cw, periods):
    r = _clean("catalogue_number_forms.csv", cw, periods)
    assert (len(r.clean), len(r.rejected)) == (4, 11)
    by_id = r.clean.set_index("record_id")
    padded = by_id.loc["ok-padded"]  # " 1985 ", "0001990", "  12  ", " rifle "
    assert (padded["year_from"], padded["year_to"], padded["count"], padded["category"]) == (1985, 1990, 12, "rifle")
    assert list(by_id["share_published"].loc[["ok-share", "ok-share-int", "ok-share-dot"]]) == [43.5, 12.0, 0.5]


def _as_comma_csv(path, tmp_path, delimiter):
    """The same catalogue written with commas (csv module quoting), for comparison."""
    import csv as _csv
    import io as _io
    text = path.read_text(encoding="utf-8")
    records = list(_csv.reader(_io.StringIO(text), delimiter=delimiter))
    out = _io.StringIO()
    _csv.writer(out, lineterminator="\n").writerows(records)
    f = tmp_path / path.name.replace("catalogue_", "catalogue_comma_")
    f.write_text(out.getvalue(), encoding="utf-8")
    return f


@pytest.mark.parametrize("name,delimiter,shown,clean_ids,rejected", [
    ("catalogue_semicolon.csv", ";", ";", ["sc-1", "sc-2", "sc-3"], {"sc-4": "share_published"}),
    ("catalogue_tab.csv", "\t", "tab", ["tb-1", "tb-2"], {"tb-3": "country_of_manufacture"}),
])
def test_semicolon_and_tab_files_are_read_like_comma_files(cw, periods, tmp_path, name, delimiter,
                                                            shown, clean_ids, rejected):
    r = _clean(name, cw, periods)
    assert r.report.iloc[0]["delimiter"] == shown
    assert list(r.clean["record_id"]) == clean_ids
    assert dict(zip(r.rejected["record_id"], r.rejected["column"])) == rejected
    comma = _clean(_as_comma_csv(FIX / name, tmp_path, delimiter), cw, periods)
    assert comma.report.iloc[0]["delimiter"] == ","
    cols = [c for c in r.clean.columns if c not in ("catalogue", "source_file")]
    pd.testing.assert_frame_equal(r.clean[cols], comma.clean[cols])
    assert list(r.rejected["reason"]) == list(comma.rejected["reason"])


def test_semicolon_file_keeps_quoted_source_lists_and_commas_in_text(cw, periods):
    by_id = _clean("catalogue_semicolon.csv", cw, periods).clean.set_index("record_id")
    assert by_id.at["sc-2", "source_ids"] == "src-a;src-b"
    assert by_id.at["sc-1", "notes"] == "fine row, with a comma"
    assert (by_id.at["sc-3", "count"], by_id.at["sc-3", "share_published"]) == (797, 43.5)
    tab = _clean("catalogue_tab.csv", cw, periods).clean.set_index("record_id")
    assert tab.at["tb-2", "source_ids"] == "src-a;src-b"
    assert tab.at["tb-1", "notes"] == "fine row, with a comma; and a semicolon"


def test_semicolon_file_with_an_unquoted_source_list_names_the_row(cw, periods, tmp_path):
    f = tmp_path / "catalogue_semi_unquoted.csv"
    f.write_text((FIX / "catalogue_semicolon.csv").read_text(encoding="utf-8")
                 .replace('"src-a;src-b"', "src-a;src-b"), encoding="utf-8")
    with pytest.raises(CatalogueFileError, match=r"catalogue_semi_unquoted.csv: 1 data row\(s\) have "
                       r"more fields than the header's 14 \(row 2 has 15.*;-separated: a cell holding ';'"):
        cleaning.clean_catalogues(f, cw, periods)


def test_a_semicolon_file_missing_a_column_says_how_it_was_read(cw, periods, tmp_path):
    f = tmp_path / "catalogue_semi_missing.csv"
    f.write_text("record_id;category;designation;count_basis;confidence\nx;rifle;X;item;own\n")
    with pytest.raises(CatalogueFileError, match=r"catalogue_semi_missing.csv: missing required "
                       r"column\(s\): source_ids .*read as ;-separated"):
        cleaning.clean_catalogues(f, cw, periods)


def test_cr_only_line_ends_are_read(cw, periods):
    data = (FIX / "catalogue_cr_line_ends.csv").read_bytes()
    assert b"\r" in data and b"\n" not in data  # the fixture really has old-Mac line ends
    r = _clean("catalogue_cr_line_ends.csv", cw, periods)
    assert (r.report.iloc[0].raw_rows, len(r.clean), len(r.rejected)) == (3, 2, 1)
    by_id = r.clean.set_index("record_id")
    assert by_id.at["cr-1", "count"] == 3 and by_id.at["cr-1", "notes"] == "old Mac line ends"
    assert by_id.at["cr-2", "notes"] == "a note over\ntwo lines"  # a quoted line break: one row
    assert _problem(r, "cr-3")[:3] == (3, "country_of_manufacture", "Sovjet Union")


def test_crlf_and_mixed_line_ends_are_read_alike(cw, periods, tmp_path):
    text = (FIX / "catalogue_cr_line_ends.csv").read_bytes().decode("utf-8")
    lines = text.split("\r")  # header, cr-1, cr-2 (two lines), cr-3, ""
    assert len(lines) == 6
    f = tmp_path / "catalogue_mixed.csv"  # CRLF, then LF, then CR
    f.write_bytes(("\r\n".join(lines[:3]) + "\n" + "\r".join(lines[3:])).encode("utf-8"))
    r = _clean(f, cw, periods)
    assert list(r.clean["record_id"]) == ["cr-1", "cr-2"] and list(r.rejected["source_row"]) == [3]


def test_header_only_file_stops_at_once(cw, periods):
    with pytest.raises(CatalogueFileError, match=r"catalogue_header_only.csv: the file has a header "
                       r"but no data rows$"):
        cleaning.clean_catalogues([FIX / "catalogue_broken.csv", FIX / "catalogue_header_only.csv"],
                                   cw, periods)


def test_header_and_blank_lines_only_stops_saying_so(cw, periods, tmp_path):
    f = tmp_path / "catalogue_blank_only.csv"
    f.write_text((FIX / "catalogue_header_only.csv").read_text() + "\n\n")
    with pytest.raises(CatalogueFileError, match=r"catalogue_blank_only.csv: the file has a header "
                       r"but no data rows \(only 2 blank line\(s\) after it\)"):
        cleaning.clean_catalogues(f, cw, periods)


def test_large_field_rejects_its_row_only(cw, periods):
    import csv as _csv
    r = _clean("catalogue_large_field.csv", cw, periods)
    assert (r.report.iloc[0].raw_rows, list(r.clean["record_id"])) == (4, ["lf-1", "lf-3", "lf-4"])
    row, column, value, reason = _problem(r, "lf-2")
    assert (row, column) == (2, "notes")
    assert reason == ("cell of 209,999 characters, more than the 32,767 accepted "
                      "(a spreadsheet cell's limit; a quote left open?)")
    assert value.startswith("A long field. A long") and value.endswith("... (209,999 characters)")
    assert len(r.rejected.set_index("record_id").at["lf-2", "notes"]) == 209_999  # kept whole
    assert 209_999 > 131_072 >= 32_767  # more than the csv module's default field limit too
    by_id = r.clean.set_index("record_id")
    assert len(by_id.at["lf-3", "notes"]) == 29_999 and by_id.at["lf-4", "source_row"] == 4
    assert _csv.field_size_limit() >= 131_072


# ---------- the catalogues parameter: a path, a glob or a list ----------

def _pipeline_steps():
    import importlib.util
    spec = importlib.util.spec_from_file_location("_pipeline_for_tests", paths.ROOT / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.STEPS


def _clean_params(argv, root=paths.ROOT):
    from takingstock import runner
    steps = _pipeline_steps()
    config = runner.parse_run_args(argv, steps, root=root)
    declared = {"clean": runner.notebook_parameters(paths.NOTEBOOKS / "01_clean_catalogue.ipynb")}
    return steps, config, runner.resolve_parameters(steps, config, declared)["clean"]


def test_catalogues_takes_a_list_of_paths_and_globs(tmp_path, monkeypatch):
    from takingstock import runner
    (tmp_path / "more").mkdir()
    for f in ("catalogue_a.csv", "more/catalogue_b.csv", "more/catalogue_c.csv"):
        (tmp_path / f).write_text("x\n")
    monkeypatch.chdir(tmp_path)
    steps, config, params = _clean_params(["-p", "catalogues", "[catalogue_a.csv, more/*.csv]"])
    assert params["catalogues"] == [str(tmp_path / "catalogue_a.csv"), str(tmp_path / "more" / "*.csv")]
    from takingstock.runner.cache import expand
    clean = runner.Pipeline(steps, config).plan.task_named("clean")
    inputs = expand(clean.step.inputs, clean.fmt)
    cats = sorted(p.name for p in inputs if p.name.startswith("catalogue_"))
    assert cats == ["catalogue_a.csv", "catalogue_b.csv", "catalogue_c.csv"]  # not data/raw's
    assert catalogue_files.resolve_paths(params["catalogues"]) == [
        tmp_path / "catalogue_a.csv", tmp_path / "more" / "catalogue_b.csv", tmp_path / "more" / "catalogue_c.csv"]


@pytest.mark.parametrize("value", ["my/catalogue_x.csv", "my/catalogue_*.csv"])
def test_catalogues_still_takes_one_path_or_glob(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    assert _clean_params(["-p", "catalogues", value])[2]["catalogues"] == str(tmp_path / value)


@pytest.mark.parametrize("value", ["[]", "[a.csv, 3]", "['']"])
def test_catalogues_refuses_an_empty_or_non_text_list(value):
    from takingstock import runner
    with pytest.raises(runner.ParameterError, match="catalogues.*expected a path, a glob or a non-empty list") as info:
        _clean_params(["-p", "catalogues", value])
    assert "catalogues (a path, a glob or a list of them; default data/raw/catalogue_*.csv; step clean)" in str(
        info.value)  # the parameter's valid values listed


def test_catalogues_list_in_a_params_file_is_relative_to_the_file(tmp_path):
    (tmp_path / "run.yaml").write_text("catalogues:\n  - data/catalogue_a.csv\n  - /abs/catalogue_*.csv\n")
    params = _clean_params(["--params", str(tmp_path / "run.yaml")])[2]
    assert params["catalogues"] == [str(tmp_path / "data" / "catalogue_a.csv"), "/abs/catalogue_*.csv"]


@pytest.mark.slow
def test_pipeline_cleans_a_list_of_catalogues(tmp_path):
    import subprocess
    import sys
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "catalogue_semicolon.csv").write_bytes((FIX / "catalogue_semicolon.csv").read_bytes())
    (mine / "catalogue_cr_line_ends.csv").write_bytes((FIX / "catalogue_cr_line_ends.csv").read_bytes())
    proc = subprocess.run(
        [sys.executable, str(paths.ROOT / "pipeline.py"), "--only", "clean", "--no-progress",
         "-p", "catalogues", f"[{mine / 'catalogue_semicolon.csv'}, {mine / 'catalogue_cr_*.csv'}]",
         "-p", "processed_dir", str(tmp_path / "proc"), "-p", "output_dir", str(tmp_path / "out"),
         "-p", "sources", str(FIX / "sources.csv")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = pd.read_csv(tmp_path / "proc" / "cleaning_report.csv").set_index("source_file")
    assert report.loc["catalogue_semicolon.csv", ["raw_rows", "clean_rows", "rejected_rows"]].tolist() == [4, 3, 1]
    assert report.loc["catalogue_cr_line_ends.csv", ["raw_rows", "clean_rows", "rejected_rows"]].tolist() == [3, 2, 1]
    assert report.loc["catalogue_semicolon.csv", "delimiter"] == ";"
    clean = pd.read_parquet(tmp_path / "proc" / "catalogue.parquet")
    assert clean.groupby("catalogue")["count"].sum().to_dict() == {"cr_line_ends": 4, "semicolon": 801}


# ---------- real figures from the committed catalogues ----------

@pytest.fixture(scope="module")
def real(cw):
    files = sorted(paths.RAW.glob("catalogue_*.csv"))
    if len(files) < 3 or not (paths.RAW / "periods.csv").exists():
        pytest.skip("raw catalogues not committed yet")
    return cleaning.clean_catalogues(files, cw, load_periods(),
                                      sources=paths.RAW / "sources.csv")


def test_real_catalogues_nothing_rejected_and_accounted(real):
    assert (real.report["raw_rows"] == real.report["clean_rows"] + real.report["rejected_rows"]).all()
    assert real.rejected.empty, real.problems.to_dict("records")


def test_real_amnesty_countries_of_manufacture(real):
    a = real.clean[(real.clean["catalogue"] == "amnesty_2015") & (real.clean["manufacture_kind"] == "state")]
    assert sorted(a["manufacture_state"].unique()) == [
        "Austria", "Belgium", "China", "Croatia", "Germany", "Iran", "Iraq", "Russia",
        "United Kingdom", "United States", "Yugoslavia"]


def test_real_car_2017_china_share(real):
    c = real.clean[real.clean["catalogue"] == "car_2017_weapons"]
    assert c["count"].sum() == 1832
    china = c.loc[c["manufacture_state"] == "China", "count"].sum()
    assert china == 797
    assert round(100 * china / c["count"].sum(), 1) == 43.5


def test_real_car_2014_soviet_figure_kept_apart_then_folded(real, cw):
    c = real.clean[real.clean["catalogue"] == "car_2014_ammunition"]
    assert c["count"].sum() == 1730
    assert c.loc[c["manufacture_state"] == "Soviet Union", "count"].sum() == 492
    assert c.loc[c["manufacture_successor"] == "Russia", "count"].sum() == 492
    folded = cleaning.clean_catalogues(paths.RAW / "catalogue_car_2014_ammunition.csv", cw,
                                        load_periods(), fold_successors=True).clean
    assert folded["count"].sum() == 1730
    assert folded.loc[folded["manufacture_state"] == "Russia", "count"].sum() == 492
    assert "Soviet Union" not in set(folded["manufacture_state"])


def test_load_processed_fallback_uses_raw_dirs_reference_tables(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    for f in ("catalogue_car_2014_ammunition.csv", "periods.csv", "sources.csv"):
        (raw / f).write_bytes((paths.RAW / f).read_bytes())
    text = (paths.RAW / "country_crosswalk.csv").read_text(encoding="utf-8")
    # raw_dir's own crosswalk puts the Soviet Union in another bloc than the committed one.
    (raw / "country_crosswalk.csv").write_text(text.replace("SUN,Russia,Warsaw Pact", "SUN,Russia,NATO"),
                                               encoding="utf-8")
    got = cleaning.load_processed(tmp_path / "nothing_here", raw)
    assert "not found: cleaning" in capsys.readouterr().out
    assert set(got.loc[got["manufacture_state"] == "Soviet Union", "manufacture_bloc"]) == {"NATO"}


@pytest.mark.slow
def test_notebook_01_runs_under_papermill(tmp_path):
    import papermill as pm
    if not (paths.RAW / "periods.csv").exists():
        pytest.skip("raw data not committed yet")
    out = tmp_path / "out"
    pm.execute_notebook(str(paths.NOTEBOOKS / "01_clean_catalogue.ipynb"), str(tmp_path / "01.ipynb"),
                        kernel_name="python3", progress_bar=False,
                        parameters={"processed_dir": str(tmp_path / "proc"), "output_dir": str(out)})
    report = pd.read_csv(tmp_path / "proc" / "cleaning_report.csv")
    assert report["raw_rows"].sum() == report["clean_rows"].sum() + report["rejected_rows"].sum()
    assert len(pd.read_parquet(tmp_path / "proc" / "catalogue.parquet")) == report["clean_rows"].sum()
    summary = json.loads((out / "summaries" / "01_clean_catalogue.json").read_text())
    heads = {h["label"]: h["value"] for h in summary["headlines"]}
    assert heads["states of manufacture named (Amnesty International (2015))"] == "11"


def test_load_processed_reads_step_01_output_or_cleans_in_memory(tmp_path, capsys):
    from takingstock.data.cleaning import clean_catalogues, load_processed, write_outputs

    in_memory = load_processed(tmp_path, paths.RAW)
    assert "not found: cleaning" in capsys.readouterr().out
    assert len(in_memory) == 68  # 48 + 7 + 13 committed rows, all clean
    write_outputs(clean_catalogues(str(paths.RAW / "catalogue_car_2014_*.csv")), tmp_path)
    saved = load_processed(tmp_path, paths.RAW)
    assert set(saved["catalogue"]) == {"car_2014_ammunition"} and saved["count"].sum() == 1730


@pytest.mark.parametrize("columnwise", [False, True], ids=["in one read", "a column at a time"])
def test_processed_catalogue_is_read_with_categorical_text_and_the_same_values(tmp_path, monkeypatch, columnwise):
    from takingstock.data import cleaning
    from takingstock.data.cleaning import clean_catalogues, read_processed, write_outputs

    if columnwise:  # the way of a large file (10^6 rows), here on the committed catalogue
        monkeypatch.setattr(cleaning, "COLUMNWISE_BYTES", 0)
    write_outputs(clean_catalogues(str(paths.RAW / "catalogue_*.csv")), tmp_path)
    plain = pd.read_parquet(tmp_path / "catalogue.parquet")
    got = read_processed(tmp_path / "catalogue.parquet")
    assert list(got.columns) == list(plain.columns) and len(got) == 68
    assert isinstance(got["designation"].dtype, pd.CategoricalDtype)
    assert isinstance(got["design_era_note"].dtype, pd.CategoricalDtype)
    assert not isinstance(got["record_id"].dtype, pd.CategoricalDtype)
    assert got["count"].dtype == plain["count"].dtype and got["year_from"].dtype == plain["year_from"].dtype
    for column in plain.columns:  # every value, missing value and row order as in the file
        a, b = plain[column].astype(object), got[column].astype(object)
        assert (a.isna() == b.isna()).all() and (a[a.notna()] == b[b.notna()]).all(), column
    assert got.loc[got["record_id"] == "car14-china", "manufacture_state"].iloc[0] == "China"
    assert (got["catalogue"] == "car_2014_ammunition").sum() == 7
