"""The README's table of output names stays true: every name it lists is written by a run."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from takingstock.core import paths
from takingstock.analysis import releases
from takingstock.data.runcontext import RunContext

# Written for some catalogues only, so one is enough: published shares exist for CAR 2017 only,
# notebook 03 shows one catalogue (its `catalogue` parameter, default amnesty_2015), and draws
# the era-of-design figures only for a catalogue with a row placed (its tables are for all).
FOR_SOME_CATALOGUES = {"02_<cat>_published_vs_recomputed", "03_<cat>_decades", "03_<cat>_periods",
                       "03_<cat>_design_decades", "03_<cat>_design_periods"}


def readme_output_names() -> dict[str, list[str]]:
    """Names in the README's 'notebook | tables | figures' table, by kind."""
    text = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("| notebook | tables | figures |"):]
    rows = [line for line in block.splitlines()[2:] if line.startswith("|")][:6]
    names: dict[str, list[str]] = {"tables": [], "figures": []}
    for line in rows:
        _, tables_cell, figures_cell = [c.strip() for c in line.strip("|").split("|")]
        names["tables"] += re.findall(r"`(0\d_[^`]+)`", tables_cell)
        names["figures"] += re.findall(r"`(0\d_[^`]+)`", figures_cell)
    return names


def test_readme_lists_names_for_every_analysis_notebook():
    names = readme_output_names()
    assert {n[:2] for n in names["tables"]} == {"02", "03", "04", "05", "06", "07"}
    assert len(names["figures"]) >= 10


@pytest.mark.slow
def test_every_name_in_the_readme_is_written(built_report):
    catalogues = sorted(pd.read_parquet(paths.PROCESSED / "catalogue.parquet", columns=["catalogue"])
                        ["catalogue"].unique())
    run = RunContext()
    has_register = run.primary_register is not None
    two_releases = releases.choose_releases(run.registers).ok
    missing = []
    for kind, suffix in (("tables", ".csv"), ("figures", ".html")):
        folder = built_report / kind
        for name in readme_output_names()[kind]:
            if not has_register and (name.startswith("04_") or "sipri" in name):
                continue  # the SIPRI parts are skipped without a register, by design
            if not two_releases and name.startswith("06_"):
                continue  # notebook 06 compares two releases; with one it is skipped, by design
            expanded = [name.replace("<cat>", c).replace("<r>", "iraq") for c in catalogues]
            found = [n for n in dict.fromkeys(expanded) if (folder / f"{n}{suffix}").is_file()]
            enough = 1 if name in FOR_SOME_CATALOGUES else len(set(expanded))
            if len(found) < enough:
                missing.append(f"{kind}/{name}")
    assert missing == []
