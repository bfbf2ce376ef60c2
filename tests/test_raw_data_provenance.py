"""takingstock.data.provenance: the raw data's Frictionless Data Package, on invented files in tmp_path
and on the committed data/raw/ (a copy whose hash is broken must fail)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from takingstock.analysis import claims
from takingstock.core import atomic, paths
from takingstock.data import provenance

SIDECAR = """\
# an old-format sidecar, as other branches may still add them
title: Invented deals
description: two invented rows
publishers: [nobody]
source_urls: [https://example.org/deals]
compiled: 2026-11-27
compiled_by: a test
licence: invented for the test
sha256: whatever
rows: 2
columns:
- name: id
  type: int
  meaning: row id
- name: text
  type: str
  meaning: free text
"""


@pytest.fixture
def raw(tmp_path):
    """A folder with one CSV described by an old sidecar, imported into a new package."""
    data = tmp_path / "deals.csv"
    # A UTF-8 byte-order mark and a quoted line break: still two data rows.
    data.write_bytes('\ufeffid,text\n1,"two\nlines"\n2,plain\n'.encode("utf-8"))
    (tmp_path / "deals.csv.meta.yml").write_text(SIDECAR, encoding="utf-8")
    (tmp_path / "README.md").write_text("docs, not data\n", encoding="utf-8")
    provenance.refresh_resource(data)
    return tmp_path


def _package(folder):
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def test_count_rows_and_header(raw):
    assert provenance.count_rows(raw / "deals.csv") == 2
    assert provenance.csv_header(raw / "deals.csv") == ["id", "text"]


def test_add_imports_the_sidecar_then_deletes_it(raw):
    assert not (raw / "deals.csv.meta.yml").exists()
    [res] = _package(raw)["resources"]
    assert res["path"] == "deals.csv" and res["name"] == "deals"
    assert res["hash"] == "sha256:" + atomic.sha256_file(raw / "deals.csv")
    assert res["bytes"] == (raw / "deals.csv").stat().st_size
    assert res["rows"] == 2
    assert res["title"] == "Invented deals" and res["compiled"] == "2026-11-27"
    assert res["sources"] == [{"title": "example.org", "path": "https://example.org/deals"}]
    assert res["licenses"][0]["name"] == "CC-BY-4.0"
    assert res["schema"]["fields"] == [
        {"name": "id", "type": "integer", "description": "row id"},
        {"name": "text", "type": "string", "description": "free text"},
    ]
    assert provenance.verify_all(raw) == []
    [version] = provenance.raw_data_versions(raw)
    assert version == {"file": "deals.csv", "sha256": atomic.sha256_file(raw / "deals.csv"),
                       "rows": 2, "title": "Invented deals", "verified": True}


def test_edit_is_caught_by_frictionless_then_add_repairs_it(raw):
    data = raw / "deals.csv"
    with open(data, "a", encoding="utf-8") as handle:
        handle.write("3,added\n")
    problems = provenance.verify_all(raw)
    kinds = sorted(p.split(": ")[1] for p in problems)
    assert kinds == ["byte-count", "hash-count", "row-count"]
    assert all(p.startswith("deals.csv: ") and "--add" in p for p in problems)
    assert any('expected is "2" and actual is "3"' in p for p in problems)
    assert provenance.raw_data_versions(raw)[0]["verified"] is False

    (raw / "other.csv").write_text("a\n1\n", encoding="utf-8")  # not described: not deals' problem
    assert provenance.verify(data) == problems
    res = provenance.refresh_resource(data)
    assert res["rows"] == 3 and res["title"] == "Invented deals"
    assert provenance.verify(data) == []
    (raw / "other.csv").unlink()
    assert provenance.verify_all(raw) == []


def test_a_bad_cell_is_named_by_row_and_column(raw):
    data = raw / "deals.csv"
    data.write_text("id,text\n1,x\nthree,y\n", encoding="utf-8")
    provenance.refresh_resource(data)  # pins the new content; the schema still says integer
    [problem] = provenance.verify_all(raw)
    assert problem.startswith("deals.csv, row 3, column 'id': type-error:")


def test_new_column_gets_an_inferred_type_and_must_be_described(raw):
    data = raw / "deals.csv"
    data.write_text("id,text,year\n1,x,1984\n2,y,1990\n", encoding="utf-8")
    res = provenance.refresh_resource(data)
    assert res["schema"]["fields"][2] == {"name": "year", "type": "integer", "description": ""}
    assert provenance.verify_all(raw) == [
        "deals.csv: column 'year' has no description in datapackage.json"]


def test_renamed_column_fails_frictionless(raw):
    data = raw / "deals.csv"
    data.write_text("id,body\n1,x\n2,y\n", encoding="utf-8")
    problems = provenance.validate_package(raw)
    assert any(p.startswith("deals.csv, column 'text': incorrect-label") and '"body"' in p
               for p in problems)


def test_unlisted_files_orphans_and_old_sidecars_are_named(raw):
    (raw / "new.csv").write_text("a\n1\n", encoding="utf-8")
    (raw / "later.csv.meta.yml").write_text("title: x\n", encoding="utf-8")
    problems = provenance.verify_all(raw)
    assert "new.csv: not in datapackage.json; describe it with " in problems[0]
    assert any(p.startswith("later.csv.meta.yml: old-format sidecar") for p in problems)
    (raw / "deals.csv").unlink()
    assert "deals.csv: listed in datapackage.json but the file does not exist" in provenance.verify_all(raw)


def test_import_sidecars_takes_every_old_sidecar(raw, capsys):
    (raw / "later.csv").write_text("id,text\n7,x\n", encoding="utf-8")
    (raw / "later.csv.meta.yml").write_text(SIDECAR.replace("Invented deals", "Later deals"),
                                            encoding="utf-8")
    (raw / "deals.csv.meta.yml").write_text(SIDECAR.replace("two invented rows", "newer words"),
                                            encoding="utf-8")
    assert provenance.main(["--import-sidecars", str(raw)]) == 0
    assert "2 sidecar(s) imported" in capsys.readouterr().out
    assert provenance.legacy_sidecars(raw) == []
    res = provenance.resources_by_path(provenance.load_package(raw))
    assert res["later.csv"]["title"] == "Later deals" and res["later.csv"]["rows"] == 1
    assert res["deals.csv"]["description"] == "newer words"  # the sidecar's words win
    assert provenance.verify_all(raw) == []
    (raw / "gone.csv.meta.yml").write_text("title: x\n", encoding="utf-8")
    assert provenance.main(["--import-sidecars", str(raw)]) == 2


def test_new_file_without_sidecar_lists_what_to_fill_in(raw):
    (raw / "new.csv").write_text("a\n1\n", encoding="utf-8")
    res = provenance.refresh_resource(raw / "new.csv")
    assert res["schema"]["fields"] == [{"name": "a", "type": "integer", "description": ""}]
    problems = provenance.verify_all(raw)
    assert [p for p in problems if p.startswith("new.csv")] == [
        "new.csv: property 'title' is missing or empty in datapackage.json",
        "new.csv: property 'description' is missing or empty in datapackage.json",
        "new.csv: property 'sources' is missing or empty in datapackage.json",
        "new.csv: column 'a' has no description in datapackage.json",
    ]


def test_malformed_package_is_named(raw):
    (raw / "datapackage.json").write_text('{"resources": [\n', encoding="utf-8")
    [problem] = provenance.verify_all(raw)
    assert "datapackage.json: not valid JSON (line 2, column 1" in problem
    assert all(v["verified"] is False for v in provenance.raw_data_versions(raw))
    (raw / "datapackage.json").unlink()
    assert "datapackage.json: not found" in provenance.verify_all(raw)[0]


def test_latin1_file_is_reported_not_crashed(raw):
    data = raw / "deals.csv"
    data.write_bytes("id,text\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(provenance.ProvenanceError, match="not valid UTF-8"):
        provenance.refresh_resource(data)
    [problem] = provenance.verify_all(raw)
    assert problem.startswith("deals.csv: encoding-error: 'utf-8' codec can't decode byte 0xe9")
    [version] = provenance.raw_data_versions(raw)
    assert version["rows"] is None and version["verified"] is False


def test_cli_check_and_add(raw, capsys):
    assert provenance.main(["--check", str(raw)]) == 0
    assert "valid; every raw file is described" in capsys.readouterr().out
    with open(raw / "deals.csv", "a", encoding="utf-8") as handle:
        handle.write("3,added\n")
    assert provenance.main(["--check", str(raw)]) == 1
    assert provenance.main(["--add", str(raw / "deals.csv")]) == 0
    assert "rows 3" in capsys.readouterr().out
    assert provenance.main(["--check", str(raw)]) == 0
    assert provenance.main(["--add", str(raw / "absent.csv")]) == 2


def test_blank_lines_are_not_rows(tmp_path):
    data = tmp_path / "blank.csv"
    data.write_bytes(b'id,text\r\n\r\n1,"a\n\nb"\r\n \r\n2,\r\n,\r\n\r\n\r\n')
    # rows: 1 (a quoted field with a blank line inside), 2, and ",": a row of empty values
    assert provenance.count_rows(data) == 3


def test_accepting_verdicts_refreshes_the_package(raw):
    accepted = raw / "claims_accepted.csv"
    accepted.write_text("id,verdict,computed\n", encoding="utf-8")
    provenance.refresh_resource(accepted)
    ledger = pd.DataFrame({"id": ["a", "b"], "verdict": ["differs", "reproduced"],
                           "computed": ["1", "2"]})
    claims.accept_ledger(ledger, accepted, register_label="SIPRI release 2026-05-18")
    res = provenance.resources_by_path(provenance.load_package(raw))["claims_accepted.csv"]
    assert res["rows"] == 2 and res["accepted_against"] == "SIPRI release 2026-05-18"
    assert provenance.validate_package(raw) == []


# --- the committed data/raw/ ------------------------------------------------------------------


def test_committed_package_validates_with_frictionless():
    assert provenance.verify_all(paths.RAW) == []
    described = {r["path"] for r in provenance.load_package(paths.RAW)["resources"]}
    assert described == {p.name for p in provenance.raw_files(paths.RAW)}
    assert not provenance.legacy_sidecars(paths.RAW)


def test_committed_package_with_a_broken_hash_fails(tmp_path):
    copy = tmp_path / "raw"
    shutil.copytree(paths.RAW, copy, ignore=shutil.ignore_patterns("sipri"))
    package = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    for res in package["resources"]:
        if res["path"] == "periods.csv":
            res["hash"] = "sha256:" + "0" * 64
    (copy / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    [problem] = provenance.verify_all(copy)
    assert problem.startswith('periods.csv: hash-count: expected is "' + "0" * 64)
    assert atomic.sha256_file(paths.RAW / "periods.csv") in problem
    assert provenance.main(["--check", str(copy)]) == 1
