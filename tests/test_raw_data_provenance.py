"""takingstock.provenance on small invented files in a temporary folder."""

from __future__ import annotations

import pytest

from takingstock import io, provenance

SIDECAR = """\
# kept comment
title: Invented deals
description: two invented rows
publishers: [nobody]
source_urls: [https://example.org/]
compiled: 2026-11-27
compiled_by: a test
licence: invented for the test
sha256: {sha}
rows: {rows}
columns:
- name: id
  type: str
  meaning: row id
- name: text
  type: str
  meaning: free text
"""


@pytest.fixture
def raw(tmp_path):
    data = tmp_path / "deals.csv"
    # A UTF-8 byte-order mark and a quoted line break: still two data rows.
    data.write_bytes('\ufeffid,text\n1,"two\nlines"\n2,plain\n'.encode("utf-8"))
    (tmp_path / "deals.csv.meta.yml").write_text(
        SIDECAR.format(sha=io.sha256_file(data), rows=2), encoding="utf-8")
    (tmp_path / "README.md").write_text("docs, not data\n", encoding="utf-8")
    return tmp_path


def test_count_rows_and_header(raw):
    assert provenance.count_rows(raw / "deals.csv") == 2
    assert provenance.csv_header(raw / "deals.csv") == ["id", "text"]


def test_clean_folder_verifies(raw):
    assert provenance.raw_files(raw) == [raw / "deals.csv"]
    assert provenance.verify_all(raw) == []
    assert provenance.missing_sidecars(raw) == []
    [version] = provenance.raw_data_versions(raw)
    assert version == {"file": "deals.csv", "sha256": io.sha256_file(raw / "deals.csv"),
                       "rows": 2, "title": "Invented deals", "verified": True}


def test_edit_is_caught_then_update_repairs_only_two_lines(raw):
    data = raw / "deals.csv"
    with open(data, "a", encoding="utf-8") as handle:
        handle.write("3,added\n")
    problems = provenance.verify(data)
    assert len(problems) == 2
    assert "checksum" in problems[0] and "--update" in problems[0]
    assert "3 data rows but sidecar deals.csv.meta.yml says 2" in problems[1]
    assert provenance.raw_data_versions(raw)[0]["verified"] is False

    before = (raw / "deals.csv.meta.yml").read_text(encoding="utf-8")
    meta = provenance.update_sidecar(data)
    after = (raw / "deals.csv.meta.yml").read_text(encoding="utf-8")
    assert meta["rows"] == 3 and meta["sha256"] == io.sha256_file(data)
    assert provenance.verify(data) == []
    assert after.startswith("# kept comment\n")
    changed = [a for a, b in zip(after.splitlines(), before.splitlines()) if a != b]
    assert [line.split(":")[0] for line in changed] == ["sha256", "rows"]


def test_header_must_match_data_dictionary(raw):
    data = raw / "deals.csv"
    data.write_text("id,body\n1,x\n", encoding="utf-8")
    provenance.update_sidecar(data)
    [problem] = provenance.verify(data)
    assert "differ from the data dictionary" in problem and "'body'" in problem


def test_missing_and_orphan_sidecars(raw):
    (raw / "new.csv").write_text("a\n1\n", encoding="utf-8")
    (raw / "gone.csv.meta.yml").write_text("title: x\n", encoding="utf-8")
    assert provenance.missing_sidecars(raw) == [raw / "new.csv"]
    assert provenance.orphan_sidecars(raw) == [raw / "gone.csv.meta.yml"]
    problems = provenance.verify_all(raw)
    assert any("new.csv.meta.yml: sidecar not found" in p for p in problems)
    assert any("gone.csv.meta.yml: sidecar without a data file" in p for p in problems)
    with pytest.raises(provenance.ProvenanceError, match="new.csv.meta.yml: sidecar not found"):
        provenance.update_sidecar(raw / "new.csv")


def test_malformed_sidecars_are_named(raw):
    side = raw / "deals.csv.meta.yml"
    side.write_text("title: only a title\n", encoding="utf-8")
    with pytest.raises(provenance.ProvenanceError, match=r"deals.csv.meta.yml: missing key\(s\): sha256, rows, columns"):
        provenance.load_sidecar(raw / "deals.csv")
    side.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(provenance.ProvenanceError, match="YAML mapping"):
        provenance.load_sidecar(side)
    side.write_text("title: t\nsha256: x\nrows: 1\ncolumns: [{name: id}]\n", encoding="utf-8")
    with pytest.raises(provenance.ProvenanceError, match="columns entry 1 must have a name and a meaning"):
        provenance.load_sidecar(side)


def test_mapping_form_of_columns_is_accepted(raw):
    side = raw / "deals.csv.meta.yml"
    sha = io.sha256_file(raw / "deals.csv")
    side.write_text(f"title: t\nsha256: {sha}\nrows: 2\ncolumns:\n  id: row id\n  text: free\n",
                    encoding="utf-8")
    assert provenance.verify(raw / "deals.csv") == []
    meta = provenance.load_sidecar(side)
    assert meta["columns"][1] == {"name": "text", "type": "", "meaning": "free"}
    assert provenance.missing_recommended(meta) == list(provenance.RECOMMENDED_KEYS)


def test_latin1_file_is_reported_not_crashed(raw):
    data = raw / "deals.csv"
    data.write_bytes("id,text\n1,caf\xe9\n".encode("latin-1"))
    problems = provenance.verify(data)
    assert any("not valid UTF-8" in p for p in problems)


def test_cli_check_and_update(raw, capsys):
    assert provenance.main(["--check", str(raw)]) == 0
    assert "match their sidecars" in capsys.readouterr().out
    with open(raw / "deals.csv", "a", encoding="utf-8") as handle:
        handle.write("3,added\n")
    assert provenance.main(["--check", str(raw)]) == 1
    assert provenance.main(["--update", str(raw / "deals.csv")]) == 0
    assert "rows 3" in capsys.readouterr().out
    assert provenance.main(["--check", str(raw)]) == 0
    assert provenance.main(["--update", str(raw / "absent.csv")]) == 2


def test_blank_lines_are_not_rows(tmp_path):
    data = tmp_path / "blank.csv"
    data.write_bytes(b'id,text\r\n\r\n1,"a\n\nb"\r\n \r\n2,\r\n,\r\n\r\n\r\n')
    # rows: 1 (a quoted field with a blank line inside), 2, and ",": a row of empty values
    assert provenance.count_rows(data) == 3


def test_raw_data_versions_reads_each_file_once(raw, monkeypatch):
    calls = {"sha": 0, "rows": 0}
    sha, rows = io.sha256_file, provenance.count_rows

    def counted_sha(path, *args):
        calls["sha"] += 1
        return sha(path, *args)

    def counted_rows(path):
        calls["rows"] += 1
        return rows(path)

    monkeypatch.setattr(provenance.io, "sha256_file", counted_sha)
    monkeypatch.setattr(provenance, "count_rows", counted_rows)
    [version] = provenance.raw_data_versions(raw)
    assert version["verified"] is True and version["rows"] == 2
    assert calls == {"sha": 1, "rows": 1}
    (raw / "deals.csv").write_text("id,text\n1,x\n", encoding="utf-8")
    [version] = provenance.raw_data_versions(raw)
    assert version["verified"] is False and version["rows"] == 1
    assert version["title"] == "Invented deals"
