"""Tests of the SIPRI register reader on invented fixtures (every format variant, bad inputs)
and, when ../shared/data/sipri is present, on the real releases: damaged copies of them (cut,
split, pasted together, quoted, altered) are built in tmp_path and must be refused naming the
file and line; CRLF, padded and preamble-less copies must read to the same deals."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest

from takingstock.data import countries, sipri_columns, sipri_format, sipri_releases, sipri_terms, sipri_weapons
from takingstock.data.sipri import deal_years, read_register
from takingstock.data.sipri_format import SipriFormatError

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
    assert sipri_columns.name_kind("United Nations**") == "organisation"
    assert sipri_columns.name_kind("Soviet Union") == "state"


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
    assert sipri_format.read_release_date(FIXTURE) == dt.date(2024, 2, 2)
    # no preamble: no date
    bare = _write(tmp_path, "bare.csv", _body(_text()).encode("latin-1"))
    assert sipri_format.read_release_date(bare) is None
    # UTF-8 with BOM and CRLF line ends
    bom = _write(tmp_path, "bom.csv",
                 b"\xef\xbb\xbf" + _text().replace("\n", "\r\n").encode("utf-8"))
    assert sipri_format.read_release_date(bom) == dt.date(2024, 2, 2)
    # the deals are never read: damaged deals do not matter (read_register refuses them)
    damaged = _write(tmp_path, "damaged.csv",
                     _text().replace("Iraq,France,1983,", "Iraq,France,19x3,").encode("latin-1"))
    with pytest.raises(SipriFormatError):
        read_register(damaged)
    assert sipri_format.read_release_date(damaged) == dt.date(2024, 2, 2)
    # a `Data generated:` text inside a deal is not a release date
    late = _write(tmp_path, "late.csv",
                  (_body(_text()) + "Data generated: 1 Jan 2030\n").encode("latin-1"))
    assert sipri_format.read_release_date(late) is None
    # not a SIPRI export
    other = _write(tmp_path, "other.csv", b"name,value\nfoo,1\n")
    with pytest.raises(SipriFormatError, match="Recipient,Supplier,Year of order"):
        sipri_format.read_release_date(other)


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


def test_the_missing_register_message_says_how_to_get_one(tmp_path):
    # which export a run uses is the run context's choice (tests/test_house.py); without one
    # the notebooks print this
    assert "pipeline.py fetch-sipri" in sipri_terms.missing_register_message(tmp_path)
    assert str(tmp_path) in sipri_terms.missing_register_message(tmp_path)


# ------------------------------------------------------------------ scope, releases, sidecars


def test_declared_scope_parses_the_first_preamble_line():
    line = ("Transfers of major conventional arms from All countries  to Iraq . Deals with "
            "deliveries made for the year range 'Not specified' to 'Not specified' ")
    assert sipri_format.declared_scope([line, "Data generated: 1 Jan 2026"]) == (
        "All countries", "Iraq", None)
    ranged = line.replace("'Not specified' to 'Not specified'", "'2003' to '2013'")
    assert sipri_format.declared_scope([ranged]) == ("All countries", "Iraq", (2003, 2013))
    both = ("Transfers of major conventional arms from United States  to All countries . "
            "Deals with deliveries made for the year range '1980' to 'Not specified'")
    assert sipri_format.declared_scope([both]) == ("United States", "All countries", None)
    assert sipri_format.declared_scope([]) == (None, None, None)
    assert sipri_format.declared_scope(["Some other title", ""]) == (None, None, None)
    reg = read_register(FIXTURE)
    assert reg.preamble[0].startswith("Transfers of major conventional arms from All countries")
    assert len(reg.preamble) == 11 and reg.preamble[8] == ""
    assert sipri_format.declared_scope(reg.preamble)[:2] == ("All countries", "All countries")
    # an invented release older than every known one: read, not a known release
    assert reg.known_release is None


def test_content_checksum_ignores_preamble_encoding_line_ends_padding_and_order(tmp_path):
    base = read_register(FIXTURE).content_sha256
    lines = _text().splitlines()
    variants = {
        "bare.csv": _body(_text()).encode("latin-1"),
        "utf8_crlf.csv": "".join(l + "\r\n" for l in lines).encode("utf-8"),
        "padded.csv": "".join(l + ";;;;\n" for l in lines).encode("latin-1"),
        # Iran's two deals swapped: same deals, another order
        "swapped.csv": "\n".join(lines[:12] + [lines[13], lines[12]] + lines[14:]).encode("latin-1")
        + b"\n",
    }
    for name, data in variants.items():
        assert read_register(_write(tmp_path, name, data)).content_sha256 == base, name
    changed = _text().replace("Invented numbers for tests,4,480,480", "Invented numbers,4,480,480")
    assert read_register(_write(tmp_path, "changed.csv", changed.encode("latin-1"))).content_sha256 != base


def test_known_releases_table():
    known = sipri_releases.load_known_releases()
    assert [k.release_date for k in known] == [dt.date(2025, 3, 13), dt.date(2026, 5, 18)]
    k26 = known[-1]
    assert (k26.n_deals, k26.n_recipients, k26.n_suppliers, k26.last_recipient) == (
        29916, 255, 138, "Zimbabwe")
    assert (k26.scope_from, k26.scope_to) == ("All countries", "All countries")
    with pytest.raises(Exception):
        k26.n_deals = 1  # frozen


def test_a_bad_known_releases_table_names_line_and_column(tmp_path):
    good = sipri_releases.RELEASES_PATH.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "releases.csv"
    bad.write_text("\n".join([good[0], good[1].replace(",29515,", ",many,")]) + "\n",
                   encoding="utf-8")
    with pytest.raises(SipriFormatError, match=r"releases.csv, line 2, column 'n_deals': 'many'"):
        sipri_releases.load_known_releases(bad)
    bad.write_text("release_date,n_deals\n", encoding="utf-8")
    with pytest.raises(SipriFormatError, match=r"line 1: missing column\(s\)"):
        sipri_releases.load_known_releases(bad)


def _sidecar(path: Path, **meta) -> None:
    import yaml
    path.with_name(path.name + ".meta.yml").write_text(yaml.safe_dump(meta), encoding="utf-8")


def test_a_fetch_sidecar_is_verified_when_present(tmp_path):
    import hashlib
    p = _write(tmp_path, "sipri_trade_register_2024-02-02.csv", FIXTURE.read_bytes())
    sha = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    _sidecar(p, sha256=sha, deals=8)
    assert len(read_register(p).deals) == 8
    # the file changed after the fetch (here: its last deal lost)
    cut = b"".join(FIXTURE.read_bytes().splitlines(keepends=True)[:-1])
    p.write_bytes(cut)
    with pytest.raises(SipriFormatError, match=r"sidecar .*records sha256 .* the file changed "
                       r"after it was fetched \(cut or altered\)"):
        read_register(p)
    # the checksum is right but the count is not
    _sidecar(p, sha256=hashlib.sha256(cut).hexdigest(), deals=8)
    with pytest.raises(SipriFormatError, match=r"records 8 deals but the file holds 7"):
        read_register(p)
    p.with_name(p.name + ".meta.yml").write_text("sha256: [unclosed\n", encoding="utf-8")
    with pytest.raises(SipriFormatError, match=r"meta.yml: the sidecar of .* is not valid YAML"):
        read_register(p)


# ------------------------------------------------------------------ damaged fixtures


def test_pasted_exports_are_refused(tmp_path):
    text = _text()
    # a second export (preamble and header) after the first
    p = _write(tmp_path, "twice.csv", (text + text).encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"twice.csv, line 21: a line of a SIPRI preamble "
                       r"after the header on line 12 .*two exports pasted together"):
        read_register(p)
    # a second header only
    p = _write(tmp_path, "header.csv", (text + _body(text)).encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"line 21: a second header line \(the first is "
                       r"on line 12\): two exports pasted together"):
        read_register(p)
    # the deals only, pasted again: recipients restart
    deals = "".join(text.splitlines(keepends=True)[12:])
    p = _write(tmp_path, "deals.csv", (text + deals).encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"line 21: the deals of 'Iran' start again \(they "
                       r"were on lines 13-14, then came 'Syria rebels\*'\)"):
        read_register(p)
    # recipients out of alphabetical order
    lines = text.splitlines(keepends=True)
    p = _write(tmp_path, "order.csv", "".join(lines[:12] + lines[14:19] + lines[12:14] + lines[19:])
               .encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"line 18: 'Iran' comes after 'Iraq', out of "
                       r"alphabetical order"):
        read_register(p)
    # a block of two deals repeated inside one recipient's rows
    p = _write(tmp_path, "block.csv", "".join(lines[:19] + lines[15:17] + lines[19:]).encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"lines 20-21: these deals repeat lines 16-17 "
                       r"exactly"):
        read_register(p)
    # one repeated deal is legitimate (SIPRI has a few)
    p = _write(tmp_path, "one.csv", "".join(lines[:16] + lines[15:]).encode("latin-1"))
    assert len(read_register(p).deals) == 9


def test_a_register_laid_out_by_supplier_is_accepted(tmp_path):
    lines = _text().splitlines(keepends=True)
    by_supplier = sorted(lines[12:], key=lambda l: l.split(",")[1].casefold())
    p = _write(tmp_path, "by_supplier.csv", "".join(lines[:12] + by_supplier).encode("latin-1"))
    assert read_register(p).content_sha256 == read_register(FIXTURE).content_sha256


def test_a_quoted_export_is_refused(tmp_path):
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for line in _text().splitlines():
        writer.writerow(line.split(","))
    p = _write(tmp_path, "quoted.csv", out.getvalue().encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"quoted.csv, line 12: every field is in double "
                       r"quotes: the export was re-saved by a spreadsheet"):
        read_register(p)
    # quoted deals under a plain header
    lines = out.getvalue().splitlines(keepends=True)
    plain = _text().splitlines(keepends=True)[:12] + lines[12:]
    p = _write(tmp_path, "quoted_deals.csv", "".join(plain).encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"line 13: every field is in double quotes"):
        read_register(p)


def test_a_split_outside_comments_is_refused_naming_both_lines(tmp_path):
    # the Abrams deal (line 17) split inside its status, then inside its last field
    text = _text().replace("Second hand but modernized,Invented numbers",
                           "Second hand\nbut modernized,Invented numbers")
    with pytest.raises(SipriFormatError, match=r"line 17: 12 of 16 fields, and line 18 has 5: a "
                       r"deal split across lines 17 and 18 inside column 12 \('status'\)"):
        read_register(_write(tmp_path, "status.csv", text.encode("latin-1")))
    text = _text().replace("for tests,4,480,480", "for tests,4,480,48\n0")
    with pytest.raises(SipriFormatError, match=r"line 18: 1 of 16 fields \(no comma\), between "
                       r"line 17 \(16 fields\) and line 19 \(16 fields\)"):
        read_register(_write(tmp_path, "last.csv", text.encode("latin-1")))


def test_an_unknown_description_is_listed_not_guessed(tmp_path):
    text = _text().replace(",towed gun,", ",plasma cannon,")
    reg = read_register(_write(tmp_path, "plasma.csv", text.encode("latin-1")))
    assert reg.unmapped_descriptions == ["plasma cannon"]
    row = reg.deals[reg.deals["designation"] == "Hammer-2"].iloc[0]
    assert row["category"] == sipri_weapons.UNMAPPED
    assert read_register(FIXTURE).unmapped_descriptions == []
    assert dict(zip(read_register(FIXTURE).deals["designation"], read_register(FIXTURE).deals["category"])) == {
        "Lancer-3": "missiles", "Hammer-2": "artillery", "Testhawk-7": "aircraft",
        "M-1A1 Abrams": "armoured vehicles", "F-16C Block-50": "aircraft",
        "Shield-9": "air defence systems"}


def test_weapon_category_mapping_is_validated(tmp_path):
    bad = tmp_path / "cats.csv"
    bad.write_text("description,category,note\ntank,armoured vehicles,x\nTank,tanks,x\n",
                   encoding="utf-8")
    with pytest.raises(SipriFormatError, match=r"cats.csv, line 3, column 'category': 'tanks'"):
        sipri_weapons.load_weapon_categories(bad)
    bad.write_text("description,category,note\ntank,armoured vehicles,x\nTank,artillery,x\n",
                   encoding="utf-8")
    with pytest.raises(SipriFormatError, match=r"line 3, column 'category': 'Tank' is 'artillery' "
                       r"here but 'armoured vehicles' on line 2"):
        sipri_weapons.load_weapon_categories(bad)
    cats = sipri_weapons.load_weapon_categories()
    assert set(cats.values()) == set(sipri_weapons.WEAPON_CATEGORIES)
    assert cats["fga aircraft"] == cats["fighter/ground-attack aircraft"] == "aircraft"
    assert cats["portable sam"] == cats["portable surface-to-air missile"] == "missiles"


@pytest.mark.parametrize("text, key", [
    ("F-16C Block-50/52", "f16c"), ("F-16C Block-50", "f16c"), ("F-16C", "f16c"),
    ("F\u201316C  block 50", "f16c"), ("ESSM Block-1", "essm"), ("EC145", "ec145"),
    ("EC-145", "ec145"), ("BOV M-11", "bov m11"), ("S-300PMU-1", "s300pmu1"),
    ("F-16D Block-52", "f16d"), ("Mi-24D/Mi-25", "mi24d/mi25"), ("M-1A1 Abrams", "m1a1 abrams"),
    ("M-777 155mm", "m777 155mm"),
])
def test_normalise_designation(text, key):
    assert sipri_weapons.normalise_designation(text) == key


# ------------------------------------------------------------------ damaged real releases

RELEASES = {REAL_2026: ("2026-05-18", 29916), REAL_2025: ("2025-03-13", 29515)}


@pytest.fixture(scope="module")
def real(shared_sipri_dir):
    """Per release: (raw lines with their ends, the register read from the original)."""
    out = {}
    for name in RELEASES:
        raw = (shared_sipri_dir / name).read_bytes()
        out[name] = (raw.splitlines(keepends=True), read_register(shared_sipri_dir / name))
    return out


def _cut_points(deals) -> dict[str, int]:
    """Numbers of deals to keep: inside Iraq's rows, between recipients, spread, the last."""
    n = len(deals)
    rec = list(deals["recipient"])
    iraq = [i for i, r in enumerate(rec) if r == "Iraq"]
    changes = [i for i in range(1, n) if rec[i] != rec[i - 1]]
    points = {
        "first Iraq deal only": iraq[0] + 1,
        "inside Iraq's rows (half)": iraq[0] + len(iraq) // 2,
        "all of Iraq but its last deal": iraq[-1],
        "between Iraq and the next recipient": iraq[-1] + 1,
        "between the first two recipients": changes[0],
        "between recipients at a third": min(c for c in changes if c >= n // 3),
        "between recipients before Zimbabwe": changes[-1],
        "all but the last deal": n - 1,
        "one deal": 1,
    }
    for pct in (2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98, 99):
        points[f"{pct}% of the deals"] = n * pct // 100
    return points


@pytest.mark.sipri
@pytest.mark.slow
@pytest.mark.parametrize("name", list(RELEASES))
def test_real_release_cut_at_a_line_end_is_refused(name, real, tmp_path):
    lines, reg = real[name]
    date, n = RELEASES[name]
    starts = list(reg.deals["source_line"])  # file line of each deal (1-based)
    points = _cut_points(reg.deals)
    assert len(points) >= 20
    for what, keep in points.items():
        # keep the first `keep` deals: every line before the next deal's first line
        p = _write(tmp_path, f"cut_{keep}.csv", b"".join(lines[: starts[keep] - 1]))
        with pytest.raises(SipriFormatError) as err:
            read_register(p)
        assert str(err.value) == (
            f"{p}: the file holds {keep:,} deals, SIPRI's release of {date} holds {n:,}: it is "
            f"cut or altered; last deal read on line {starts[keep - 1]}. Use a complete copy of "
            f"the export"), what
        p.unlink()


@pytest.mark.sipri
@pytest.mark.slow
def test_real_release_of_an_unknown_date_is_checked_for_plausibility(real, tmp_path):
    lines, reg = real[REAL_2026]
    redated = b"".join(lines).replace(b"Data generated: 18 May 2026", b"Data generated: 16 Mar 2027")
    assert redated != b"".join(lines)
    # the same deals exported on another day (`Data generated:` is the day of the export):
    # recognised as the release by their content
    same = read_register(_write(tmp_path, "redated.csv", redated))
    assert same.known_release == reg.known_release and same.release_date == dt.date(2027, 3, 16)
    # a stand-in for next spring's release: one deal re-valued (SIPRI revises every year)
    first = int(reg.deals["source_line"].iloc[0])
    new = redated.splitlines(keepends=True)
    new[first - 1] = new[first - 1].replace(b",17.4,17.4", b",17.5,17.5")
    assert new[first - 1] != lines[first - 1]
    text = b"".join(new)
    # the whole file: plausible, read as an unknown release
    p = _write(tmp_path, "next_spring.csv", text)
    nxt = read_register(p)
    assert nxt.release_date == dt.date(2027, 3, 16) and nxt.known_release is None
    assert len(nxt.deals) == 29916
    starts = list(reg.deals["source_line"])
    points = _cut_points(reg.deals)
    expected = {
        "first Iraq deal only": "deals",
        "inside Iraq's rows (half)": "deals",
        "90% of the deals": "deals",
        "98% of the deals": "ends with",
        "between recipients before Zimbabwe": "ends with",
    }
    for what, how in expected.items():
        keep = points[what]
        p = _write(tmp_path, f"cut_{keep}.csv", b"".join(new[: starts[keep] - 1]))
        with pytest.raises(SipriFormatError) as err:
            read_register(p)
        msg = str(err.value)
        assert f"last deal read on line {starts[keep - 1]}" in msg, what
        if how == "deals":
            assert re.search(rf"with {keep:,} deals, where SIPRI's release of 2026-05-18 has "
                             r"29,916 \(fewer than 97% of it\): it is probably cut", msg), msg
        else:
            assert "where SIPRI's release of 2026-05-18 ends with 'Zimbabwe'" in msg, msg
    # an export of the 2025 release made on another day, cut: checked against that release
    lines25, reg25 = real[REAL_2025]
    other_day = b"".join(lines25).replace(b"Data generated: 13 Mar 2025", b"Data generated: 2 Apr 2025")
    s25 = list(reg25.deals["source_line"])
    p = _write(tmp_path, "cut_2025.csv", b"".join(other_day.splitlines(keepends=True)[: s25[20000] - 1]))
    with pytest.raises(SipriFormatError, match=r"\(generated 2025-04-02\) with 20,000 deals, where "
                       r"SIPRI's release of 2025-03-13 has 29,515"):
        read_register(p)
    # the documented limit: a cut inside the last recipient's rows is not detectable this way
    p = _write(tmp_path, "cut_last.csv", b"".join(new[: starts[-1] - 1]))
    assert len(read_register(p).deals) == 29915


@pytest.mark.sipri
def test_real_release_cut_inside_a_line_is_refused(real, tmp_path):
    lines, reg = real[REAL_2026]
    iraq = reg.deals[reg.deals["recipient"] == "Iraq"].iloc[100]
    ln = int(iraq["source_line"])
    data = b"".join(lines[: ln - 1]) + lines[ln - 1][:40]
    p = _write(tmp_path, "cut_inside.csv", data)
    with pytest.raises(SipriFormatError, match=rf"cut_inside.csv, line {ln}: the file does not "
                       r"end with a line break, so its last line is cut \(truncated file\)"):
        read_register(p)


@pytest.mark.sipri
def test_real_release_altered_deal_is_refused(real, tmp_path):
    lines, reg = real[REAL_2026]
    iraq = reg.deals[reg.deals["recipient"] == "Iraq"].iloc[0]
    ln = int(iraq["source_line"])
    altered = list(lines)
    altered[ln - 1] = altered[ln - 1].replace(b",Iraq,", b",Iraq,", 1).replace(
        f",{iraq['order_year']},".encode(), f",{iraq['order_year'] + 1},".encode(), 1)
    assert altered[ln - 1] != lines[ln - 1]
    p = _write(tmp_path, "altered.csv", b"".join(altered))
    with pytest.raises(SipriFormatError, match=r"holds 29,916 deals like SIPRI's release of "
                       r"2026-05-18, but they differ from it .*: the file was altered"):
        read_register(p)


def _split_inside(line: bytes, k: int) -> bytes:
    """The deal line with a line break inside (or, for a 1-character or empty field, at the
    start of) its field k (1-based)."""
    text = line.rstrip(b"\r\n")
    fields = text.split(b",")
    pos = sum(len(f) + 1 for f in fields[: k - 1])
    field_ = fields[k - 1]
    if k == 13:  # inside Comments: at a blank, so the joined deal is the original one
        pos += field_.index(b" ")
        return text[:pos] + b"\n" + text[pos + 1:] + b"\n"
    pos += 1 if len(field_) >= 2 else 0
    return text[:pos] + b"\n" + text[pos:] + b"\n"


@pytest.mark.sipri
def test_real_release_split_inside_each_field(real, tmp_path):
    lines, reg = real[REAL_2026]
    d = reg.deals
    # an Iraq deal whose Comments has a blank and whose 16 fields are as full as they come
    iraq = d[(d["recipient"] == "Iraq") & d["comments"].str.contains(" ") & d["order_year_uncertain"]
             & d["number_ordered_uncertain"] & d["number_delivered_uncertain"]]
    ln = int(iraq.iloc[0]["source_line"])
    for k in range(1, 17):
        data = b"".join(lines[: ln - 1]) + _split_inside(lines[ln - 1], k) + b"".join(lines[ln:])
        p = _write(tmp_path, f"split_{k}.csv", data)
        if k == 13:  # a line break inside Comments: SIPRI's own artefact, joined back
            got = read_register(p)
            assert got.joined_lines == [ln + 1]
            assert got.content_sha256 == reg.content_sha256
            assert got.known_release == reg.known_release
            continue
        with pytest.raises(SipriFormatError) as err:
            read_register(p)
        msg = str(err.value)
        if k == 1:  # the first piece has no comma
            assert msg.startswith(f"{p}, line {ln}: 1 of 16 fields (no comma), between line "
                                  f"{ln - 1} (16 fields) and line {ln + 1} (16 fields)"), msg
        elif k == 16:  # the deal looks whole; its last digits are a line of their own
            assert msg.startswith(f"{p}, line {ln + 1}: 1 of 16 fields (no comma), between "
                                  f"line {ln} (16 fields) and line {ln + 2}"), msg
        else:
            assert msg.startswith(
                f"{p}, line {ln}: {k} of 16 fields, and line {ln + 1} has {17 - k}: a deal split "
                f"across lines {ln} and {ln + 1} inside column {k}"), msg
        p.unlink()


@pytest.mark.sipri
def test_real_exports_pasted_together_are_refused(real, shared_sipri_dir, tmp_path):
    lines, reg = real[REAL_2026]
    full = b"".join(lines)
    n_lines = len(lines)
    iraq = (shared_sipri_dir / "sipri_trade_register_iraq.csv").read_bytes()
    iran = (shared_sipri_dir / "sipri_trade_register_iran.csv").read_bytes()
    cases = {
        # the Iraq subset (its own header) after the full release
        "full_iraq.csv": (full + iraq, rf"line {n_lines + 1}: a second header line \(the first "
                          r"is on line 12\): two exports pasted together"),
        # the release twice, preamble and all
        "full_full.csv": (full + full, rf"line {n_lines + 1}: a line of a SIPRI preamble after "
                          r"the header on line 12"),
        # the Iraq subset's deals without their header: Iraq's deals start again
        "full_iraq_deals.csv": (full + iraq.split(b"\n", 1)[1],
                                rf"line {n_lines + 1}: the deals of 'Iraq' start again"),
        # two subsets, the second after the first without its header
        "iraq_iran.csv": (iraq + iran.split(b"\n", 1)[1],
                          r"line 483: 'Iran' comes after 'Kurdistan Regional Government "
                          r"\(Iraq\)\*', out of alphabetical order"),
    }
    for name, (data, pattern) in cases.items():
        p = _write(tmp_path, name, data)
        with pytest.raises(SipriFormatError, match=pattern):
            read_register(p)
        p.unlink()
    # a block of Iraq's deals pasted twice inside Iraq's rows
    first = int(reg.deals.loc[reg.deals["recipient"] == "Iraq", "source_line"].iloc[0])
    block = lines[: first + 9] + lines[first - 1: first + 4] + lines[first + 9:]
    p = _write(tmp_path, "block.csv", b"".join(block))
    with pytest.raises(SipriFormatError, match=rf"lines {first + 10}-{first + 11}: these deals "
                       rf"repeat lines {first}-{first + 1} exactly"):
        read_register(p)


@pytest.mark.sipri
def test_real_release_re_saved_with_quotes_is_refused(real, tmp_path):
    lines, _ = real[REAL_2026]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for line in lines:
        writer.writerow(line.decode("latin-1").rstrip("\r\n").split(","))
    p = _write(tmp_path, "quoted.csv", out.getvalue().encode("latin-1"))
    with pytest.raises(SipriFormatError, match=r"quoted.csv, line 12: every field is in double "
                       r"quotes: the export was re-saved by a spreadsheet program"):
        read_register(p)


@pytest.mark.sipri
@pytest.mark.parametrize("name", list(RELEASES))
def test_real_release_variants_read_to_the_same_deals(name, real, tmp_path):
    lines, reg = real[name]
    date, n = RELEASES[name]
    assert reg.known_release is not None and reg.known_release.release_date.isoformat() == date
    assert reg.known_release.content_sha256 == reg.content_sha256
    header = next(i for i, l in enumerate(lines) if l.startswith(b"Recipient,Supplier"))
    text = [l.rstrip(b"\r\n") for l in lines]
    variants = {
        "crlf.csv": b"".join(l + b"\r\n" for l in text),
        "padded.csv": b"".join(l + b";;;;\n" for l in text),
        "bare.csv": b"".join(l + b"\n" for l in text[header:]),
        "utf8_bom.csv": b"\xef\xbb\xbf" + b"".join(lines).decode("latin-1").encode("utf-8"),
    }
    for vname, data in variants.items():
        got = read_register(_write(tmp_path, vname, data))
        assert len(got.deals) == n, vname
        assert list(got.deals["deal_id"]) == list(reg.deals["deal_id"]), vname
        assert got.content_sha256 == reg.content_sha256, vname
        assert got.known_release == reg.known_release, vname
        # a release without its preamble is recognised by its content
        assert got.release_date == dt.date.fromisoformat(date), vname
    assert read_register(tmp_path / "bare.csv").preamble == []


@pytest.mark.sipri
def test_real_subsets_read_and_are_no_known_release(shared_sipri_dir):
    for name, n in [("sipri_trade_register_iraq.csv", 481), ("sipri_trade_register_iran.csv", 321),
                    ("sipri_trade_register_syria.csv", 303)]:
        reg = read_register(shared_sipri_dir / name)
        assert len(reg.deals) == n and reg.known_release is None and reg.release_date is None
        assert reg.unmapped_descriptions == [] and reg.preamble == []


@pytest.mark.sipri
def test_real_releases_every_description_maps_and_wordings_agree(real):
    r26, r25 = real[REAL_2026][1], real[REAL_2025][1]
    for reg in (r26, r25):
        assert reg.unmapped_descriptions == []
        assert (reg.deals["category"] == sipri_weapons.UNMAPPED).sum() == 0
    d26, d25 = r26.deals, r25.deals

    def iraq(d, designation):
        rows = d[(d["recipient"] == "Iraq") & (d["designation"].str.startswith(designation))]
        return rows.sort_values("order_year")[["designation", "description", "category",
                                               "designation_key", "order_year"]]

    f26, f25 = iraq(d26, "F-16C"), iraq(d25, "F-16C")
    assert list(f26["designation"]) == ["F-16C Block-50"] * 2
    assert list(f25["designation"]) == ["F-16C Block-50/52"] * 2
    assert set(f26["description"]) == {"fighter/ground-attack aircraft"}
    assert set(f25["description"]) == {"FGA aircraft"}
    assert list(f26["category"]) == list(f25["category"]) == ["aircraft"] * 2
    assert list(f26["designation_key"]) == list(f25["designation_key"]) == ["f16c"] * 2
    assert list(f26["order_year"]) == list(f25["order_year"]) == [2011, 2013]
    s26, s25 = iraq(d26, "Stinger"), iraq(d25, "Stinger")
    assert (s26["description"].tolist(), s25["description"].tolist()) == (
        ["portable surface-to-air missile"], ["portable SAM"])
    assert s26["category"].tolist() == s25["category"].tolist() == ["missiles"]
    # every category's deal count in both releases (SIPRI's database grows a little)
    c26, c25 = d26["category"].value_counts(), d25["category"].value_counts()
    assert (c26["aircraft"], c25["aircraft"]) == (10118, 10100)
    assert (c26["missiles"], c25["missiles"]) == (5057, 4917)
