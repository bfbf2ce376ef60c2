"""bench/compare_outputs.py: what it forgives between two runs, and what it does not."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import compare_outputs  # noqa: E402


def _project(root: Path, stamp: str, uid: str, svg_id: str, attrs: str, value: str) -> Path:
    (root / "output" / "figures").mkdir(parents=True)
    (root / "output" / "tables").mkdir(parents=True)
    (root / "output" / "tables" / "t.csv").write_text(f"a,b\n1,{value}\n", encoding="utf-8")
    (root / "output" / "tables" / "datapackage.json").write_text(
        f'{{"created": "{stamp}", "path": "{root.resolve()}/x"}}', encoding="utf-8")
    (root / "output" / "figures" / "f.html").write_text(f'<div id="{uid}"></div>', encoding="utf-8")
    (root / "output" / "figures" / "f.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg"><defs id="defs-{svg_id}"/><rect {attrs}/></svg>', encoding="utf-8")
    return root


def test_runs_that_differ_only_by_design_compare_equal_and_a_value_does_not(tmp_path):
    old = _project(tmp_path / "old", "2026-12-01T10:00:00+00:00", "efbc63b2-ffce-4e33-90a4-c4d7ee16e61f",
                   "43ea4a", 'width="1" x="0"', "2")
    new = _project(tmp_path / "new", "2026-12-01T11:30:05+00:00", "6f02ae87-46b0-4d26-a830-384e56415992",
                   "37628e", 'x="0" width="1"', "2")
    assert compare_outputs.compare(old, new) == (4, [])
    (new / "output" / "tables" / "t.csv").write_text("a,b\n1,3\n", encoding="utf-8")
    (new / "output" / "tables" / "extra.csv").write_text("a\n", encoding="utf-8")
    same, problems = compare_outputs.compare(old, new)
    assert same == 3
    assert problems == ["only in new: output/tables/extra.csv", "differs: output/tables/t.csv"]
    assert compare_outputs.main([str(old), str(new)]) == 1
