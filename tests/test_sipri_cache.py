"""Tests of the parsed-register cache (``takingstock.data.sipri_cache``): a cached read is the
read itself, its key follows everything the read depends on, a damaged or planted cache file is
read again from the export and never executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from takingstock.data import countries, sipri_cache
from takingstock.data.sipri import read_register
from takingstock.data.sipri_format import SipriFormatError

REAL_2026 = "sipri_trade_register_all_2026-05-18_alexarui.csv"


def test_a_cached_read_is_the_read_itself_and_needs_no_parse_the_second_time(shared_sipri_dir, tmp_path, monkeypatch):
    import dataclasses

    import pandas as pd

    export = tmp_path / "raw" / REAL_2026
    export.parent.mkdir()
    export.write_bytes((shared_sipri_dir / REAL_2026).read_bytes())
    cache = tmp_path / "cache"
    first = sipri_cache.read_register_cached(export, cache)
    assert len(list(cache.glob("sipri-*.arrow"))) == len(list(cache.glob("sipri-*.json"))) == 1
    direct = read_register(export)

    def no_parse(path):
        raise AssertionError("parsed again")

    monkeypatch.setattr(sipri_cache, "read_register", no_parse)
    again = sipri_cache.read_register_cached(export, cache)
    assert again is not first  # a new object each call: a caller may change its frame
    pd.testing.assert_frame_equal(again.deals, direct.deals)
    for f in dataclasses.fields(direct):
        if f.name != "deals":
            assert getattr(again, f.name) == getattr(direct, f.name), f.name
    assert len(again.deals) == 29916 and str(again.release_date) == "2026-05-18"
    # the same bytes under another name: the cached read, with the path asked for
    other = tmp_path / "raw" / "renamed.csv"
    other.write_bytes(export.read_bytes())
    assert sipri_cache.read_register_cached(other, cache).path == other


def test_the_cache_key_follows_the_export_the_reference_files_and_the_code(tmp_path, monkeypatch):
    export = tmp_path / "invented.csv"
    export.write_bytes((Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv").read_bytes())
    key = sipri_cache.register_cache_key(export)
    assert sipri_cache.register_cache_key(export) == key
    crosswalk = tmp_path / "country_crosswalk.csv"
    crosswalk.write_bytes(countries.CROSSWALK_PATH.read_bytes() + b"Narnia,Narnia,NRN,Narnia,non-aligned/other,state\n")
    monkeypatch.setattr(countries, "CROSSWALK_PATH", crosswalk)
    assert sipri_cache.register_cache_key(export) != key
    monkeypatch.undo()
    (tmp_path / "invented.csv.meta.yml").write_text("sha256: x\n")  # a fetch sidecar is read too
    assert sipri_cache.register_cache_key(export) != key
    (tmp_path / "invented.csv.meta.yml").unlink()
    monkeypatch.setattr(sipri_cache, "REGISTER_CACHE_VERSION", "test")  # a change of the reader's format
    assert sipri_cache.register_cache_key(export) != key
    monkeypatch.undo()
    export.write_bytes(export.read_bytes().replace(b"Iraq", b"Iran", 1))
    assert sipri_cache.register_cache_key(export) != key


def test_a_broken_cache_file_is_read_again_and_a_bad_export_is_not_cached(tmp_path):
    export = tmp_path / "invented.csv"
    export.write_bytes((Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv").read_bytes())
    cache = tmp_path / "cache"
    good = sipri_cache.read_register_cached(export, cache)
    for damage in ("sipri-*.arrow", "sipri-*.json"):
        (cached,) = cache.glob(damage)
        cached.write_bytes(b"not ours")
        again = sipri_cache.read_register_cached(export, cache)
        assert len(again.deals) == len(good.deals) and cached.read_bytes() != b"not ours"
    (fields,) = cache.glob("sipri-*.json")
    fields.write_text('{"sha256": 1}')  # valid JSON, not a register's fields
    assert sipri_cache.read_register_cached(export, cache).sha256 == good.sha256
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"not,a,register\n1,2,3\n")
    with pytest.raises(SipriFormatError, match="bad.csv"):
        sipri_cache.read_register_cached(bad, cache)
    assert len(list(cache.glob("sipri-*.arrow"))) == 1


class _WritesAFile:
    """Unpickling this writes the file named: what a planted pickle could do."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (Path(self.target).write_text, ("executed",))


def test_a_pickle_planted_in_the_cache_is_neither_loaded_nor_executed(tmp_path):
    """A pickle that writes a file when loaded, planted under every name a cached read of the
    export could be looked up by (the pickle the cache used to write, and the data files it
    writes now): the read ignores it, parses the export, and gives the export's register."""
    import dataclasses
    import pickle

    import pandas as pd

    export = tmp_path / "invented.csv"
    export.write_bytes((Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv").read_bytes())
    cache = tmp_path / "cache"
    cache.mkdir()
    marker = tmp_path / "pwned.txt"
    planted = pickle.dumps(_WritesAFile(marker))
    pickle.loads(planted)  # the bait works: loading it writes the marker
    assert marker.read_text() == "executed"
    marker.unlink()
    stem = f"sipri-{sipri_cache.register_cache_key(export)[:40]}"
    for suffix in (".pickle", ".arrow", ".json"):
        (cache / f"{stem}{suffix}").write_bytes(planted)
    got = sipri_cache.read_register_cached(export, cache)
    assert not marker.exists()
    direct = read_register(export)
    pd.testing.assert_frame_equal(got.deals, direct.deals)
    for f in dataclasses.fields(direct):
        if f.name != "deals":
            assert getattr(got, f.name) == getattr(direct, f.name), f.name
    assert (cache / f"{stem}.arrow").read_bytes()[:6] == b"ARROW1"  # rewritten as data
    assert (cache / f"{stem}.pickle").read_bytes() == planted  # left alone, never opened
    assert sipri_cache.read_register_cached(export, cache).sha256 == direct.sha256 and not marker.exists()
