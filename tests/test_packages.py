"""takingstock.data.packages: the output tables' Frictionless Data Package.

Invented tables in tmp_path for the rules; the real package of a pipeline run (slow)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from takingstock.core import atomic, summaries
from takingstock.data import packages
from takingstock.report import tables
from takingstock.data.sipri_terms import SIPRI_SOURCE_LINE, SIPRI_URL

RUN = {"built_at": "2026-11-27T12:00:00+00:00", "git_commit": "abc123", "sipri_release": "2026-05-18",
       "raw_data": [{"file": "periods.csv", "sha256": "0" * 64}], "parameters": {}}


@pytest.fixture
def run_dir(tmp_path):
    """Three notebooks' summaries and tables, as save_table and write_summary leave them."""
    summaries.forget_outputs()
    tdir, sdir = tmp_path / "tables", tmp_path / "summaries"
    # 150 rows, a text cell only in the last row: a 100-row sample would call it an integer
    mixed = pd.DataFrame({"year": range(1900, 2050), "code": [str(i) for i in range(149)] + ["n/a"]})
    tables.save_table(mixed, "02_cat_codes", tables_dir=tdir, caption="Codes <b>by</b> year",
                      source="Source: catalogue 'cat'; calculations by taking-stock")
    summaries.write_summary(sdir, "02_origin", title="t", summary="s", headlines=[])
    summaries.forget_outputs()
    tiv = pd.DataFrame({"decade": ["1970s", "1980s"], "tiv": [1234.5, 2345.25], "share": [34.5, 65.5]})
    tables.save_table(tiv, "03_sipri_iraq_by_decade", tables_dir=tdir, caption="TIV by decade",
                      source=SIPRI_SOURCE_LINE)
    summaries.write_summary(sdir, "03_eras", title="t", summary="s", headlines=[],
                            parameters={"sipri_register": "/x/register.csv"})
    summaries.forget_outputs()
    ledger = pd.DataFrame({"id": ["a", "b"], "verdict": ["reproduced", "differs"]})
    tables.save_table(ledger, "05_claims_ledger", tables_dir=tdir, caption="Claims ledger")
    summaries.write_summary(sdir, "05_claims", title="t", summary="s", headlines=[],
                            parameters={"register": "SIPRI release of 2026-05-18"})
    summaries.forget_outputs()
    return tmp_path


def test_records_follow_the_sipri_rule(run_dir):
    recs = packages.table_records(run_dir / "summaries", ["05_claims", "02_origin", "03_eras"])
    by_name = {r["name"]: r for r in recs}
    assert [r["name"] for r in recs] == ["05_claims_ledger", "02_cat_codes", "03_sipri_iraq_by_decade"]
    assert by_name["02_cat_codes"]["sipri_derived"] is False
    assert by_name["03_sipri_iraq_by_decade"]["sipri_derived"] is True  # its source names SIPRI
    # no source line, but its notebook used a register: SIPRI-derived, with the default source
    assert by_name["05_claims_ledger"]["sipri_derived"] is True
    assert by_name["05_claims_ledger"]["source"] == packages.DEFAULT_SOURCE
    assert packages.is_sipri_derived(None, False) is False


def test_package_validates_and_describes_each_table(run_dir):
    recs = packages.table_records(run_dir / "summaries", ["02_origin", "03_eras", "05_claims"])
    path = packages.write_tables_package(recs, run_dir / "tables", run=RUN)
    assert packages.validate(path) == []
    pkg = json.loads(path.read_text(encoding="utf-8"))
    assert pkg["licenses"][0]["name"] == "CC-BY-4.0" and pkg["run"]["git_commit"] == "abc123"
    res = {r["path"]: r for r in pkg["resources"]}
    codes = res["02_cat_codes.csv"]
    assert codes["title"] == "Codes <b>by</b> year" and codes["rows"] == 150
    assert codes["markdown"] == "02_cat_codes.md" and "credit" not in codes
    assert [(f["name"], f["type"]) for f in codes["schema"]["fields"]] == [
        ("year", "integer"), ("code", "string")]
    assert codes["hash"] == "sha256:" + atomic.sha256_file(run_dir / "tables" / "02_cat_codes.csv")
    tiv = res["03_sipri_iraq_by_decade.csv"]
    assert [f["type"] for f in tiv["schema"]["fields"]] == ["string", "number", "number"]
    assert tiv["credit"].startswith("Information from the SIPRI Arms Transfers Database")
    assert "calculations by taking-stock, not SIPRI" in tiv["credit"] and "not money" in tiv["credit"]
    assert {"title": "SIPRI Arms Transfers Database", "path": SIPRI_URL} in tiv["sources"]
    # pandas reads the package's tables back with the same numbers
    back = pd.read_csv(run_dir / "tables" / tiv["path"])
    assert back["tiv"].sum() == pytest.approx(3579.75)


def test_edited_table_fails_validation(run_dir):
    recs = packages.table_records(run_dir / "summaries", ["03_eras"])
    path = packages.write_tables_package(recs, run_dir / "tables", run=RUN)
    csv = run_dir / "tables" / "03_sipri_iraq_by_decade.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("1234.5", "lots"), encoding="utf-8")
    problems = packages.validate(path)
    assert "03_sipri_iraq_by_decade.csv, row 2, column 'tiv': type-error" in problems[0]
    assert any("hash-count" in p for p in problems)


def test_recorded_table_without_csv_is_named(run_dir):
    (run_dir / "tables" / "05_claims_ledger.csv").unlink()
    recs = packages.table_records(run_dir / "summaries", ["05_claims"])
    with pytest.raises(packages.PackageError, match="05_claims_ledger.csv: table '05_claims_ledger' "
                                                    "is recorded in 05_claims's summary"):
        packages.write_tables_package(recs, run_dir / "tables", run=RUN)


def test_bad_recorded_name_is_refused(tmp_path):
    summaries.write_summary(tmp_path, "02_x", title="t", summary="s", headlines=[],
                            outputs={"tables": [{"name": "../etc/passwd", "caption": "c"}]})
    with pytest.raises(packages.PackageError, match=r"02_x.json: table name '../etc/passwd'"):
        packages.table_records(tmp_path, ["02_x"])


@pytest.mark.slow
def test_schema_types_are_frictionless_own_on_every_row(tmp_path):
    """The cheap inference gives frictionless's answer (every row read), also for the cell that
    only the last row holds, and reads a 200,000-row table without frictionless reading it."""
    n = 150
    frame = pd.DataFrame({
        "int": range(n), "late_text": [str(i) for i in range(n - 1)] + ["n/a"],
        "number": [i / 4 for i in range(n)], "int_as_float": [float(i) for i in range(n)],
        "with_gaps": [None if i % 3 else i for i in range(n)], "empty": [None] * n,
        "flag": [i % 2 == 0 for i in range(n)], "day": ["2026-05-18", "2025-03-13"] * (n // 2),
        "years": [[1980, 1981 + i % 3] for i in range(n)], "spaced": [f" {i} " for i in range(n)],
        "exponent": ["1e3", "2.5E-2"] * (n // 2), "text": ["a; b", "c"] * (n // 2)})
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    fields = packages.infer_fields(path)
    assert fields == packages._frictionless_fields(path)
    assert [f["type"] for f in fields] == ["integer", "string", "number", "number", "number", "any", "boolean",
                                           "date", "array", "integer", "number", "string"]
    big = tmp_path / "big.csv"
    pd.DataFrame({"record_id": [f"syn-{i:07d}" for i in range(200_000)], "rows": range(200_000),
                  "share": 0.5}).to_csv(big, index=False)
    assert [f["type"] for f in packages.infer_fields(big)] == ["string", "integer", "number"]


def test_inferred_fields_are_remembered_per_file_version(tmp_path):
    # the pipeline infers a notebook's tables when it ends and publish asks again at the end:
    # the same file gives the same answer (a copy), a rewritten one is read again
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,x\n2,y\n", encoding="utf-8")
    first = packages.table_fields(path)
    first[0]["type"] = "changed by a caller"
    assert [f["type"] for f in packages.table_fields(path)] == ["integer", "string"]
    path.write_text("a,b\n1.5,4\n2,3\n", encoding="utf-8")
    assert [f["type"] for f in packages.table_fields(path)] == ["number", "integer"]


def test_an_unchanged_table_keeps_the_fields_of_the_package_already_there(run_dir, monkeypatch):
    # a later run (a grid over new recipients) rewrites the package: the tables it did not
    # rewrite are not inferred again; a rewritten one, and one whose recorded fields do not
    # name its header, are
    recs = packages.table_records(run_dir / "summaries", ["02_origin", "03_eras", "05_claims"])
    first = json.loads(packages.write_tables_package(recs, run_dir / "tables", run=RUN).read_text(encoding="utf-8"))
    inferred = []
    real = packages.table_fields
    monkeypatch.setattr(packages, "table_fields", lambda path: inferred.append(path.name) or real(path))
    second = json.loads(packages.write_tables_package(recs, run_dir / "tables", run=RUN).read_text(encoding="utf-8"))
    assert inferred == [] and second["resources"] == first["resources"]

    tdir = run_dir / "tables"
    (tdir / "05_claims_ledger.csv").write_text("id,verdict\na,12\n", encoding="utf-8")
    package = json.loads((tdir / packages.PACKAGE_FILE).read_text(encoding="utf-8"))
    codes = next(r for r in package["resources"] if r["path"] == "02_cat_codes.csv")
    codes["schema"]["fields"] = [{"name": "planted", "type": "integer"}]
    (tdir / packages.PACKAGE_FILE).write_text(json.dumps(package), encoding="utf-8")
    third = json.loads(packages.write_tables_package(recs, tdir, run=RUN).read_text(encoding="utf-8"))
    assert sorted(inferred) == ["02_cat_codes.csv", "05_claims_ledger.csv"]
    res = {r["path"]: r for r in third["resources"]}
    assert [(f["name"], f["type"]) for f in res["05_claims_ledger.csv"]["schema"]["fields"]] == [
        ("id", "string"), ("verdict", "integer")]
    assert [f["name"] for f in res["02_cat_codes.csv"]["schema"]["fields"]] == ["year", "code"]
    assert packages.validate(tdir / packages.PACKAGE_FILE) == []


def test_real_tables_package_validates(built_report):
    folder = built_report / "tables"
    path = folder / packages.PACKAGE_FILE
    assert packages.validate(path) == []
    pkg = json.loads(path.read_text(encoding="utf-8"))
    res = {r["name"]: r for r in pkg["resources"]}
    stems = sorted(p.stem for p in (built_report / "summaries").glob("*.json"))
    recorded = {t["name"] for stem in stems
                for t in (summaries.read_summary(built_report / "summaries", stem) or {}).get("tables", [])}
    assert {r["path"][:-4] for r in pkg["resources"]} == recorded
    for r in pkg["resources"]:  # each schema is what frictionless infers reading every row
        assert r["schema"]["fields"] == packages._frictionless_fields(folder / r["path"]), r["name"]
    assert res["02_amnesty_2015_manufacture"]["sipri_derived"] is False
    assert res["02_amnesty_2015_manufacture"]["source"].startswith("Source: calculations by taking-stock from Amnesty International, Taking Stock (2015)")
    if "03_sipri_iraq_by_decade" in res:  # a SIPRI register was available to the run
        dec = res["03_sipri_iraq_by_decade"]
        assert dec["sipri_derived"] is True and "calculations by taking-stock, not SIPRI" in dec["credit"]
        assert res["05_claims_ledger"]["sipri_derived"] is True
    # the copy in the published downloads folder is the same valid package
    copy = built_report / "briefings" / "downloads" / "tables" / packages.PACKAGE_FILE
    assert copy.read_bytes() == path.read_bytes()
    assert packages.validate(copy) == []


def test_citation_file_is_complete_cff():
    import tomllib

    import yaml

    from takingstock.core import paths

    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors", "type", "license", "version"} <= set(cff)
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["version"] == project["version"]
    assert cff["license"] == ["MIT", "CC-BY-4.0"]
    titles = [ref["title"] for ref in cff["references"]]
    assert "Taking Stock: The arming of Islamic State" in titles
    assert "SIPRI Arms Transfers Database" in titles
    assert "calculations are ours, not SIPRI's" in " ".join(cff["message"].split())
