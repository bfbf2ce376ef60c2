"""takingstock.csv_records: field counts from byte positions, checked against the csv module."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from takingstock import catalogue, csv_records


def _csv_widths(text: str, delimiter: str = ",") -> list[int]:
    return [len(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _scan_widths(text: str, delimiter: str = ",") -> list[int] | None:
    scan = csv_records.scan_records(text.encode("utf-8"), delimiter)
    if scan is None:
        return None
    header = text.encode("utf-8")[:scan.header_end].decode("utf-8")
    return [len(next(csv.reader(io.StringIO(header), delimiter=delimiter), []))] + list(scan.widths)


@pytest.mark.parametrize("text, widths", [
    ("a,b,c\n1,2,3\n", [3, 3]),
    ("a,b,c\n1,2,3", [3, 3]),                      # no final line feed
    ("a,b\n\n1,2\n\n", [2, 0, 2, 0]),              # blank lines are records of no field
    ('a,b\n"x, y",2\n', [2, 2]),                   # a separator inside quotes
    ('a,b\n"line\nbreak",2\n3,4\n', [2, 2, 2]),    # a line feed inside quotes
    ('a,b\n"say ""hi""",2\n', [2, 2]),             # escaped quotes
    ('a,b\n"",""\n', [2, 2]),                      # empty quoted cells
    ('"a,1",b\n1,2,3\n', [2, 3]),                  # a quoted header; a row wider than it
    ("a,b\n  \n", [2, 1]),                         # white space is one field
])
def test_regular_files_give_the_csv_modules_field_counts(text, widths):
    assert _csv_widths(text) == widths
    assert _scan_widths(text) == widths


@pytest.mark.parametrize("text", [
    'a,b\nx"y,2\n',        # a quote inside an unquoted cell
    'a,b\n"x"y,2\n',       # text after a closing quote
    'a,b\n"open,2\n',      # a quote left open
    'a,b\n "x",2\n',       # a space before an opening quote (csv keeps the quote as text)
    "a,b\r\n1,2\r\n",      # carriage returns are normalised before a scan
    "a,b\n1,\x002\n",      # a NUL byte
])
def test_irregular_files_are_left_to_the_csv_module(text):
    assert _scan_widths(text) is None


def test_random_files_agree_with_the_csv_module_whenever_scanned():
    rng = np.random.default_rng(14)
    alphabet = np.array(list('ab ,;"\n"'))
    scanned = quoted = 0
    for _ in range(3000):
        text = "".join(rng.choice(alphabet, rng.integers(1, 40)))
        for delimiter in (",", ";"):
            got = _scan_widths(text, delimiter)
            try:
                expected = _csv_widths(text, delimiter)
            except csv.Error:
                assert got is None, text
                continue
            if got is not None:
                scanned += 1
                quoted += '"' in text
                assert got == expected, (text, delimiter)
    assert scanned > 500 and quoted > 100  # regular texts with quotes take the fast path too


def test_positions_are_found_across_chunks():
    data = np.frombuffer(b"x,y\n" * 10, dtype=np.uint8)
    assert list(csv_records.positions(data, ord("\n"), chunk=7)) == list(range(3, 40, 4))
    ends = csv_records.record_ends(csv_records.positions(data, ord("\n")), len(data))
    counts = csv_records.separators_per_record(data, ends, np.empty(0, np.int64), ord(","), chunk=5)
    assert list(counts) == [1] * 10


def test_both_readers_give_the_same_cells(tmp_path, monkeypatch):
    """The pyarrow path (regular file, every row full) and the pandas path give one frame."""
    f = tmp_path / "catalogue_q.csv"
    header = ",".join(catalogue.RAW_COLUMNS)
    rows = ['q-1,rifle,"AK-47, ""Kalashnikov""",Soviet Union,,1970,1980,,1,item,,R,src-a,"two\nlines"',
            'q-2,pistol, padded ,,China,,,,,item,,R,"src-a;src-b",',
            "q-3,rifle,é accented,,,,,,,item,,R,src-a,<b>html</b>"]
    f.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    fast, _ = catalogue.read_catalogue(f)
    monkeypatch.setattr(catalogue._csv_records, "scan_records", lambda data, delimiter: None)
    slow, _ = catalogue.read_catalogue(f)
    assert fast.equals(slow) and fast.dtypes.equals(slow.dtypes)
    assert fast.at[0, "designation"] == 'AK-47, "Kalashnikov"' and fast.at[0, "notes"] == "two\nlines"
    assert fast.at[1, "designation"] == "padded" and fast.at[1, "source_ids"] == "src-a;src-b"
