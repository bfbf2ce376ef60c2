"""Page bodies kept between runs (takingstock.publish.rendered): used when they still hold,
rendered again when the notebook, the renderer or the links changed, and never taken from a
file this user's key did not sign (a planted or foreign body). All data here is invented."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

import briefings_helpers as bh
from takingstock.core.summaries import write_summary
from takingstock.publish import briefings, rendered


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """A fake executed notebook with its summary and a raw folder; this user's key in tmp."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    nb = bh.fake_executed_notebook("Fixture briefing: invented deals")
    path = tmp_path / "notebooks" / "02_fixture.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    write_summary(tmp_path / "summaries", "02_fixture", title="Fixture", summary="Ten invented items.",
                  headlines=[])
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "catalogue_invented.csv").write_text("record_id,designation\n1,x\n", encoding="utf-8")
    return tmp_path


def _build(root: Path, out: str) -> str:
    briefings.build_briefings([root / "notebooks" / "02_fixture.ipynb"], summaries_dir=root / "summaries",
                              briefings_dir=root / out, raw_dir=root / "raw", git_commit="x",
                              built_at="2026-12-07T12:00:00+00:00", body_cache=root / "bodies")
    return (root / out / "02_fixture.html").read_text(encoding="utf-8")


class _Counting:
    """Stands in for render_body and counts the renders."""

    def __init__(self):
        self.calls = 0
        self.real = rendered.render_body

    def __call__(self, nb, downloads=None):
        self.calls += 1
        return self.real(nb, downloads)


def test_a_kept_body_is_used_by_the_next_build_and_gives_the_same_page(project, monkeypatch):
    first = _build(project, "b1")
    kept = json.loads((project / "bodies" / "02_fixture.json").read_text(encoding="utf-8"))
    assert kept["body"] and kept["body"] in first and len(kept["mac"]) == 64
    counting = _Counting()
    monkeypatch.setattr(rendered, "render_body", counting)
    assert _build(project, "b2") == first
    assert counting.calls == 0


def test_an_edited_notebook_is_rendered_again(project, monkeypatch):
    _build(project, "b1")
    path = project / "notebooks" / "02_fixture.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("## A finding added after the first build"))
    nbformat.write(nb, path)
    counting = _Counting()
    monkeypatch.setattr(rendered, "render_body", counting)
    assert "A finding added after the first build" in _build(project, "b2")
    assert counting.calls == 1


def test_a_body_from_another_renderer_is_rendered_again(project, monkeypatch):
    _build(project, "b1")
    monkeypatch.setattr(rendered, "renderer_version", lambda: "another version of the renderer")
    counting = _Counting()
    monkeypatch.setattr(rendered, "render_body", counting)
    _build(project, "b2")
    assert counting.calls == 1


def test_a_planted_body_is_never_published(project, monkeypatch):
    """A body edited in the cache folder (its MAC no longer verifies), one signed under another
    user's key (a copied output folder), and a damaged file: each is rendered again."""
    clean = _build(project, "b1")
    entry_file = project / "bodies" / "02_fixture.json"
    entry = json.loads(entry_file.read_text(encoding="utf-8"))
    planted = "<script>fetch('https://example.org/steal')</script>"

    entry_file.write_text(json.dumps({**entry, "body": entry["body"] + planted}), encoding="utf-8")
    assert planted not in _build(project, "b2")

    monkeypatch.setenv("XDG_CACHE_HOME", str(project / "someone-else"))  # their key signs it
    rendered.keep_body(project / "bodies", project / "notebooks" / "02_fixture.ipynb", {}, entry["body"] + planted)
    monkeypatch.setenv("XDG_CACHE_HOME", str(project / "home-cache"))  # ours reads it
    page = _build(project, "b3")
    assert planted not in page and page == clean

    entry_file.write_text("{not json", encoding="utf-8")
    assert _build(project, "b4") == clean


def test_without_a_key_folder_nothing_is_kept(project, monkeypatch):
    blocked = project / "not-a-folder"
    blocked.write_text("a file where the key folder would go", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    _build(project, "b1")
    assert not (project / "bodies").exists()
