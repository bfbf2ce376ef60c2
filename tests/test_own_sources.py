"""A user's own sources live in a ``sources.csv`` beside their catalogue, not in the committed one.

A catalogue row citing a source id that only the user's ``sources.csv`` lists is clean; the same
catalogue without that file has the row rejected, with the reason naming the id. The committed
``data/raw/sources.csv`` is never edited.
"""

from __future__ import annotations

import csv
import shutil

import pandas as pd

from takingstock.data import cleaning
from takingstock.core import paths
from takingstock.data.runcontext import RunContext

OWN_ID = "my-field-notes-2024"


def _own_catalogue(folder):
    """A copy of the first two committed rows, the second citing a source of the user's own."""
    with (paths.RAW / "catalogue_amnesty_2015.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))[:2]
    rows[0]["record_id"], rows[1]["record_id"] = "mine-1", "mine-2"
    rows[1]["source_ids"] = f"ai-pr-2015;{OWN_ID}"
    path = folder / "catalogue_mine.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _own_sources(folder):
    pd.DataFrame([{"source_id": OWN_ID, "title": "My field notes", "publisher": "me", "date": "2024",
                   "url": "https://example.org/notes", "notes": ""}]).to_csv(folder / "sources.csv", index=False)


def test_a_source_listed_only_beside_the_catalogue_is_known(tmp_path):
    path = _own_catalogue(tmp_path)
    _own_sources(tmp_path)
    committed = (paths.RAW / "sources.csv").read_bytes()
    result = cleaning.clean_catalogues(str(path), sources=paths.RAW / "sources.csv")
    assert list(result.clean["record_id"]) == ["mine-1", "mine-2"]
    assert result.rejected.empty
    assert (paths.RAW / "sources.csv").read_bytes() == committed


def test_without_its_sources_file_the_row_is_rejected_with_the_reason(tmp_path):
    path = _own_catalogue(tmp_path)
    result = cleaning.clean_catalogues(str(path), sources=paths.RAW / "sources.csv")
    assert list(result.clean["record_id"]) == ["mine-1"]
    rejected = result.rejected.set_index("record_id")
    assert list(rejected.index) == ["mine-2"]
    assert rejected.loc["mine-2", "column"] == "source_ids"
    assert rejected.loc["mine-2", "reason"] == f"source id(s) not in sources.csv: {OWN_ID}"


def test_own_sources_apply_to_the_catalogues_of_their_folder_only(tmp_path):
    mine, other = tmp_path / "mine", tmp_path / "other"
    mine.mkdir(), other.mkdir()
    _own_sources(mine)
    _own_catalogue(mine)
    shutil.copy(_own_catalogue(other), other / "catalogue_theirs.csv")
    (other / "catalogue_mine.csv").unlink()
    result = cleaning.clean_catalogues([str(mine / "catalogue_*.csv"), str(other / "catalogue_*.csv")], sources=paths.RAW / "sources.csv")
    assert sorted(result.clean["record_id"]) == ["mine-1", "mine-1", "mine-2"]
    assert list(result.rejected["source_file"]) == ["catalogue_theirs.csv"]


def test_the_clean_step_reads_the_own_sources_file(tmp_path):
    """The run context names it, so the pipeline's cache reruns step 01 when it changes."""
    path = _own_catalogue(tmp_path)
    context = RunContext(catalogues=(str(path),))
    assert context.own_sources_files() == []
    _own_sources(tmp_path)
    assert context.own_sources_files() == [tmp_path / "sources.csv"]
    from takingstock.pipeline_steps import STEPS

    clean = next(s for s in STEPS if s.name == "clean")
    assert "{own_sources}" in clean.inputs
