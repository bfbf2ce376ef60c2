"""Tests of the SIPRI register reader on invented fixtures (every format variant, bad inputs)
and, when ../shared/data/sipri is present, on the real releases."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from takingstock import countries, sipri
from takingstock.sipri import SipriFormatError, deal_years, find_register, read_register

FIXTURE = Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv"


def _text() -> str:
    return FIXTURE.read_bytes().decode("latin-1")


def _body(text: str) -> str:
    """The header line and the deals, without the preamble."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, l in enumerate(lines) if l.startswith("Recipient,Supplier"))
    return "".join(lines[start:])


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


# ------------------------------------------------------------------ the base fixture


def test_reads_invented_export_with_preamble():
    reg = read_register(FIXTURE)
    d = reg.deals
    assert len(d) == 8
    assert reg.release_date == dt.date(2024, 2, 2)
    assert reg.encoding == "latin-1"
    first = d[d["designation"] == "Testhawk-7"].iloc[0]
    assert first["recipient"] == "Iraq" and first["supplier"] == "Soviet Union"
    assert first["order_year"] == 1981 and bool(first["order_year_uncertain"]) is True
    assert bool(first["number_ordered_uncertain"]) is False
    assert bool(first["number_delivered_uncertain"]) is True
    assert first["delivery_years"] == [1982, 1983, 1984, 1985]
    assert first["comments"] == "Invented; Café version for tests"
    assert first["tiv_delivered"] == 400.0
    assert first["source_line"] == 15  # line 12 is the header, then Iran's two deals
    # an order not yet delivered: empty delivery years, missing TIV delivered
    f16 = d[d["designation"] == "F-16C Block-50"].iloc[0]
    assert f16["delivery_years"] == [] and f16["number_delivered"] == 0
    assert f16["tiv_delivered"] != f16["tiv_delivered"]  # NaN
    # number ordered unknown -> NA, not 0
    rebels = d[d["recipient"] == "Syria rebels*"].iloc[0]
    assert rebels["number_ordered"] is not None and str(rebels["number_ordered"]) == "<NA>"


def test_name_conventions_map_to_kind():
    d = read_register(FIXTURE).deals
    rebels = d[d["recipient"] == "Syria rebels*"].iloc[0]
    assert rebels["recipient_kind"] == "non-state"
    assert rebels["supplier_kind"] == "unknown"
    assert sipri.name_kind("United Nations**") == "organisation"
    assert sipri.name_kind("Soviet Union") == "state"


def test_names_go_through_the_crosswalk():
    reg = read_register(FIXTURE)
    d = reg.deals
    assert not hasattr(reg, "unmatched_names")
    first = d[d["designation"] == "Testhawk-7"].iloc[0]
    assert first["supplier"] == "Soviet Union"
    assert (first["supplier_state"], first["supplier_iso"], first["supplier_bloc"]) == (
        "Soviet Union", "SUN", "Warsaw Pact")  # kept apart from Russia
    assert first["recipient_state"] == "Iraq" and first["recipient_bloc"] == "non-aligned/other"
    russia = d[d["supplier"] == "Russia"].iloc[0]
    assert (russia["supplier_iso"], russia["supplier_bloc"]) == ("RUS", "Warsaw Pact")
    us = d[d["supplier"] == "United States"].iloc[0]
    assert (us["supplier_state"], us["supplier_iso"], us["supplier_bloc"]) == (
        "United States", "USA", "NATO")
    rebels = d[d["recipient"] == "Syria rebels*"].iloc[0]
    assert (rebels["recipient_state"], rebels["recipient_kind"]) == ("Syria rebels", "non-state")
    assert (rebels["supplier_state"], rebels["supplier_iso"], rebels["supplier_kind"]) == (
        "unknown", "XUN", "unknown")
    assert set(d["supplier_bloc"]) == {"Warsaw Pact", "NATO", "non-aligned/other"}


def test_a_name_unknown_to_the_crosswalk_stops_the_read(tmp_path):
    # recipients stay in alphabetical order (Iran < Iraq < Syria rebels*), so only the names fail
    text = _text().replace("Iraq,Russia,", "Iraq,Freedonia,").replace(
        "Syria rebels*,", "Zembla rebels*,")
    p = _write(tmp_path, "freedonia.csv", text.encode("latin-1"))
    with pytest.raises(SipriFormatError) as err:
        read_register(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}, line 19, column 'supplier': 'Freedonia' is not in the country "
                          "crosswalk")
    assert "'Zembla rebels*' (line 20, recipient)" in msg
    # the first line of a name is named, not a later one
    text = _text().replace("Iraq,Soviet Union,", "Iraq,Ruritania,").replace(
        "Iraq,Russia,", "Iraq,Ruritania,")
    with pytest.raises(SipriFormatError, match=r"line 15, column 'supplier': 'Ruritania'"):
        read_register(_write(tmp_path, "ruritania.csv", text.encode("latin-1")))


def test_a_broken_crosswalk_raises(tmp_path, monkeypatch):
    broken = tmp_path / "country_crosswalk.csv"
    broken.write_text("name,state,iso,successor,bloc,kind\n"
                      "Iraq,Iraq,IRQ,Iraq,Axis of Nowhere,state\n", encoding="utf-8")
    monkeypatch.setattr(countries, "CROSSWALK_PATH", broken)
    with pytest.raises(countries.CrosswalkError, match="Axis of Nowhere"):
        read_register(FIXTURE)
    monkeypatch.setattr(countries, "CROSSWALK_PATH", tmp_path / "missing.csv")
    with pytest.raises(countries.CrosswalkError, match="not found"):
        read_register(FIXTURE)


def test_the_crosswalk_is_loaded_once_per_read(monkeypatch):
    calls = []
    real = countries.load_crosswalk

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(countries, "load_crosswalk", counting)
    read_register(FIXTURE)
    assert len(calls) == 1


def test_deal_ids_are_stable_and_unique():
    a = read_register(FIXTURE).deals["deal_id"]
    b = read_register(FIXTURE).deals["deal_id"]
    assert a.is_unique and list(a) == list(b)


def test_read_release_date_from_the_preamble_only(tmp_path):
    assert sipri.read_release_date(FIXTURE) == dt.date(2024, 2, 2)
    # no preamble: no date
    bare = _write(tmp_path, "bare.csv", _body(_text()).encode("latin-1"))
    assert sipri.read_release_date(bare) is None
    # UTF-8 with BOM and CRLF line ends
    bom = _write(tmp_path, "bom.csv",
                 b"\xef\xbb\xbf" + _text().replace("\n", "\r\n").encode("utf-8"))
    assert sipri.read_release_date(bom) == dt.date(2024, 2, 2)
    # the deals are never read: damaged deals do not matter (read_register refuses them)
    damaged = _write(tmp_path, "damaged.csv",
                     _text().replace("Iraq,France,1983,", "Iraq,France,19x3,").encode("latin-1"))
    with pytest.raises(SipriFormatError):
        read_register(damaged)
    assert sipri.read_release_date(damaged) == dt.date(2024, 2, 2)
    # a `Data generated:` text inside a deal is not a release date
    late = _write(tmp_path, "late.csv",
                  (_body(_text()) + "Data generated: 1 Jan 2030\n").encode("latin-1"))
    assert sipri.read_release_date(late) is None
    # not a SIPRI export
    other = _write(tmp_path, "other.csv", b"name,value\nfoo,1\n")
    with pytest.raises(SipriFormatError, match="Recipient,Supplier,Year of order"):
        sipri.read_release_date(other)


# ------------------------------------------------------------------ format variants


def test_no_preamble(tmp_path):
    p = _write(tmp_path, "bare.csv", _body(_text()).encode("latin-1"))
    reg = read_register(p)
    assert len(reg.deals) == 8 and reg.release_date is None
    assert reg.deals.iloc[0]["source_line"] == 2 and reg.preamble == []
    assert reg.known_release is None
    # same deals, same ids as with the preamble
    assert list(reg.deals["deal_id"]) == list(read_register(FIXTURE).deals["deal_id"])


def test_utf8_with_and_without_bom(tmp_path):
    for name, data in [
        ("bom.csv", b"\xef\xbb\xbf" + _text().encode("utf-8")),
        ("utf8.csv", _text().encode("utf-8")),
        ("bom_bare.csv", b"\xef\xbb\xbf" + _body(_text()).encode("utf-8")),
    ]:
        reg = read_register(_write(tmp_path, name, data))
        assert len(reg.deals) == 8, name
        assert reg.deals.iloc[2]["comments"] == "Invented; Café version for tests", name
    assert read_register(tmp_path / "bom.csv").encoding == "utf-8-sig"


def test_crlf_and_semicolon_padding(tmp_path):
    padded = "".join(l + ";;;;\r\n" for l in _text().splitlines())
    reg = read_register(_write(tmp_path, "padded.csv", padded.encode("latin-1")))
    d = reg.deals
    assert len(d) == 8 and reg.release_date == dt.date(2024, 2, 2)
    # the ';' inside fields survive; the padding does not
    assert d.iloc[2]["delivery_years"] == [1982, 1983, 1984, 1985]
    assert d.iloc[2]["comments"] == "Invented; Café version for tests"
    assert d.iloc[2]["tiv_delivered"] == 400.0
    f16 = d[d["designation"] == "F-16C Block-50"].iloc[0]
    assert f16["tiv_order"] == 900.0


def test_deal_split_over_two_lines_is_joined(tmp_path):
    text = _text().replace(
        "Invented numbers for tests,4,480,480", "Invented numbers\nfor tests,4,480,480"
    )
    reg = read_register(_write(tmp_path, "split.csv", text.encode("latin-1")))
    d = reg.deals
    assert len(d) == 8
    abrams = d[d["designation"] == "M-1A1 Abrams"].iloc[0]
    assert abrams["comments"] == "Invented numbers for tests"
    assert abrams["tiv_delivered"] == 480.0
    assert reg.joined_lines == [18]
    # the deal after the split keeps its own file line
    assert d[d["designation"] == "F-16C Block-50"].iloc[0]["source_line"] == 19


def test_derived_subset_header(tmp_path):
    body = _body(_text()).splitlines(keepends=True)
    renamed = (
        "Recipient,Supplier,Year of order,Year of order uncertain,Number ordered,"
        "Number ordered uncertain,Weapon designation,Weapon description,Number delivered,"
        "Number delivered uncertain,Year(s) of delivery,Status,Comments,TIV per unit,"
        "TIV for total order,TIV of delivered weapons\n"
    )
    p = _write(tmp_path, "subset.csv", (renamed + "".join(body[1:])).encode("utf-8"))
    reg = read_register(p)
    assert len(reg.deals) == 8
    assert reg.deals["order_year_uncertain"].sum() == 3


# ------------------------------------------------------------------ bad inputs


def test_not_a_sipri_file(tmp_path):
    p = _write(tmp_path, "other.csv", b"name,value\nfoo,1\n")
    with pytest.raises(SipriFormatError, match="Recipient,Supplier,Year of order"):
        read_register(p)


def test_truncated_file_names_the_line(tmp_path):
    text = _text().rstrip("\n")
    cut = text[: text.rfind(",Second hand,")]  # last deal loses its last fields
    p = _write(tmp_path, "cut.csv", cut.encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"line 20: the file does not end with a line "
                       r"break, so its last line is cut \(truncated"):
        read_register(p)
    # the same cut followed by a line break: the deal is short of fields
    p = _write(tmp_path, "cut_nl.csv", (cut + "\n").encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"line 20: the last deal has 11 of 16 fields; "
                       r"the file looks truncated"):
        read_register(p)


def test_empty_register(tmp_path):
    lines = _text().splitlines(keepends=True)
    head = "".join(lines[:12])
    p = _write(tmp_path, "empty.csv", head.encode("latin-1"))
    with pytest.raises(SipriFormatError, match="empty register"):
        read_register(p)


def test_bad_value_names_line_and_column(tmp_path):
    text = _text().replace("Iraq,France,1983,", "Iraq,France,19x3,")
    p = _write(tmp_path, "bad.csv", text.encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"line 16, column 'order_year'"):
        read_register(p)


def test_too_many_fields_is_refused(tmp_path):
    text = _text().replace("Invented; second-hand", "Invented, second-hand")
    p = _write(tmp_path, "comma.csv", text.encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"line 14: 17 fields"):
        read_register(p)


# ------------------------------------------------------------------ helpers


def test_deal_years_spreads_evenly():
    d = read_register(FIXTURE).deals
    y = deal_years(d)
    mig = y[y["designation"] == "Testhawk-7"]
    assert list(mig["year"]) == [1982, 1983, 1984, 1985]
    assert list(mig["items"]) == [10.0] * 4 and list(mig["tiv"]) == [100.0] * 4
    # undelivered deal has no year rows; totals are preserved
    assert "F-16C Block-50" not in set(y["designation"])
    assert y["tiv"].sum() == pytest.approx(d["tiv_delivered"].sum())
    assert len(y) == 4 + 2 + 1 + 2 + 3 + 1 + 2


def test_find_register_prefers_newest_release(tmp_path):
    assert find_register(tmp_path) is None
    assert find_register(tmp_path / "missing") is None
    (tmp_path / "sipri_trade_register_2024-03-01.csv").write_text("x")
    (tmp_path / "sipri_trade_register_2025-03-13.csv").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    assert find_register(tmp_path).name == "sipri_trade_register_2025-03-13.csv"


# ------------------------------------------------------------------ real releases


REAL_2026 = "sipri_trade_register_all_2026-05-18_alexarui.csv"
REAL_2025 = "sipri_trade_register_all_2025-03-13_colasdroin.csv"


@pytest.mark.sipri
def test_real_releases_deal_counts(shared_sipri_dir):
    r26 = read_register(shared_sipri_dir / REAL_2026)
    r25 = read_register(shared_sipri_dir / REAL_2025)
    assert len(r26.deals) == 29916
    assert len(r25.deals) == 29515
    assert r26.release_date == dt.date(2026, 5, 18)
    assert r25.release_date == dt.date(2025, 3, 13)
    # the four deals split by a line break in Comments (2025 release) are joined back
    assert len(r25.joined_lines) == 4 and r26.joined_lines == []
    assert (r25.deals["recipient"] == "").sum() == 0
    assert (r26.deals["recipient"] == "Iraq").sum() == 480
    assert (r25.deals["recipient"] == "Iraq").sum() == 481
    # deals with no delivery yet are kept
    assert (r26.deals["n_delivery_years"] == 0).sum() == 1220


@pytest.mark.sipri
def test_real_subset_matches_full_file(shared_sipri_dir):
    full = read_register(shared_sipri_dir / REAL_2026).deals
    sub = read_register(shared_sipri_dir / "sipri_trade_register_iraq.csv").deals
    assert len(sub) == 481
    iraq = full[full["recipient"].isin(["Iraq", "Kurdistan Regional Government (Iraq)*"])]
    assert set(sub["deal_id"]) == set(iraq["deal_id"])


@pytest.mark.sipri
def test_real_file_reads_in_about_a_second(shared_sipri_dir):
    t0 = time.perf_counter()
    read_register(shared_sipri_dir / REAL_2026)
    assert time.perf_counter() - t0 < 3.0


def test_open_register_uses_the_given_file_the_newest_one_or_none(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert sipri.open_register("", empty) is None
    assert "pipeline.py fetch-sipri" in sipri.missing_register_message(empty)
    folder = tmp_path / "sipri"
    folder.mkdir()
    (folder / "sipri_trade_register_2020-01-01.csv").write_bytes(FIXTURE.read_bytes())
    (folder / "sipri_trade_register_2024-03-01.csv").write_bytes(FIXTURE.read_bytes())
    newest = sipri.open_register("", folder)
    assert newest.path.name == "sipri_trade_register_2024-03-01.csv"
    given = sipri.open_register(folder / "sipri_trade_register_2020-01-01.csv", empty)
    assert given.path.name == "sipri_trade_register_2020-01-01.csv"
    assert len(given.deals) == len(newest.deals) > 0


def test_open_register_refuses_a_given_path_that_does_not_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file at"):
        sipri.open_register(tmp_path / "typo.csv")
