"""The shape of the house: findings declared once, thin notebooks, no literals, one run context,
any recipient.

These tests read the committed notebooks (not their outputs) and run notebooks 03 and 04 for
another recipient on the real register.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil

import pandas as pd
import pytest

from takingstock import paths
from takingstock.runcontext import RunContext, WindowError

ANALYSIS = ["02_country_of_origin", "03_eras", "04_supply_chains", "05_claims", "06_release_changes"]
R26 = "sipri_trade_register_all_2026-05-18_alexarui.csv"
R25 = "sipri_trade_register_all_2025-03-13_colasdroin.csv"


def _code_cells(stem: str) -> list[tuple[bool, str]]:
    nb = json.loads((paths.NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return [("parameters" in c.get("metadata", {}).get("tags", []), "".join(c["source"]))
            for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("stem", ANALYSIS)
def test_findings_are_declared_through_the_briefing(stem):
    code = "\n".join(src for is_params, src in _code_cells(stem) if not is_params)
    # nothing saves, shows or summarises by hand: the Briefing does it for every finding
    for call in ("save_table(", "save_figure(", "tables.show(", "figures.show(", "write_summary(", "display("):
        assert call not in code, f"{stem} calls {call} itself"
    assert "Briefing(run," in code and "brief.close(" in code
    assert code.count("brief.show(") >= 4


@pytest.mark.parametrize("stem", ANALYSIS)
def test_code_cells_are_short(stem):
    for is_params, src in _code_cells(stem):
        if not is_params:
            lines = [ln for ln in src.splitlines() if ln.strip()]
            assert len(lines) <= 8, f"{stem}: a cell of {len(lines)} lines:\n{src}"


def _country_names() -> set[str]:
    with open(paths.RAW / "country_crosswalk.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = {r[k] for r in rows for k in ("name", "state") if r.get(k)}
    return {n for n in names if len(n) > 3}


@pytest.mark.parametrize("stem", ANALYSIS + ["07_after_the_report"])
def test_no_year_or_country_literal_outside_the_parameters_cell(stem):
    countries = _country_names()
    assert {"Iraq", "Iran", "United States", "Soviet Union"} <= countries
    for is_params, src in _code_cells(stem):
        if is_params:
            continue
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
                assert not 1800 <= node.value <= 2100, f"{stem}: year literal {node.value} in\n{src}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                hit = [c for c in countries if re.search(rf"\b{re.escape(c)}\b", node.value)]
                assert not hit, f"{stem}: country literal {hit} in\n{src}"
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                assert not re.search(r"\b(1[89]\d\d|20\d\d)\b", text), f"{stem}: a year in {text!r}"


def test_the_library_has_no_module_named_like_the_standard_library():
    import sys

    mine = {p.stem for p in (paths.ROOT / "takingstock").rglob("*.py")}
    assert not mine & set(sys.stdlib_module_names) - {"__init__", "__main__"}


# ----------------------------------------------------------------------------- one run context


def test_run_context_resolves_every_file_from_its_folders(tmp_path, shared_sipri_dir):
    raw = tmp_path / "raw"
    (raw / "sipri").mkdir(parents=True)
    for name in (R25, R26):
        shutil.copy(shared_sipri_dir / name, raw / "sipri" / name)
    (raw / "catalogue_mine.csv").write_text("x\n", encoding="utf-8")
    run = RunContext(raw_dir=raw, processed_dir=tmp_path / "p", output_dir=tmp_path / "o")
    files = run.files()
    # the newest release by the preamble's date, whatever the file names say
    assert files["registers"] == [raw / "sipri" / R26, raw / "sipri" / R25]
    assert files["primary_register"] == raw / "sipri" / R26
    assert str(run.release_date()) == "2026-05-18"
    assert files["catalogues"] == [raw / "catalogue_mine.csv"]
    # reference tables the run's raw folder lacks are the committed ones; the crosswalk is its own
    assert files["crosswalk"] == raw / "country_crosswalk.csv"
    assert files["windows"] == paths.RAW / "windows.csv" and files["periods"] == paths.RAW / "periods.csv"
    for key in ("figures", "tables", "summaries", "notebooks", "briefings"):
        assert files[key] == tmp_path / "o" / key
    assert files["processed_catalogue"] == tmp_path / "p" / "catalogue.parquet"
    # one export named: it alone is at hand
    one = RunContext(raw_dir=raw, sipri_register=raw / "sipri" / R25)
    assert one.registers == (raw / "sipri" / R25,)
    with pytest.raises(FileNotFoundError, match="no file at"):
        RunContext(sipri_register=tmp_path / "typo.csv")


def test_windows_say_whom_they_apply_to():
    run = RunContext(recipients=("Yemen",))
    assert run.window("iran-iraq-war").years == [1980, 1988]
    win, why = run.window_for("un-embargo")
    assert win is None and "defined for Iraq only" in why and "Yemen" in why
    assert run.window_for("decade-before-report")[0] is not None   # defined for any recipient
    with pytest.raises(WindowError, match="unknown window 'no-such'"):
        run.window("no-such")


def test_a_run_outside_a_grid_and_inside_one_names_its_briefing():
    assert RunContext().stem("04_supply_chains") == "04_supply_chains"
    assert RunContext(variant="yemen").stem("04_supply_chains") == "04_supply_chains__yemen"
    assert RunContext(recipients=("Syria rebels*",)).tag() == "syria-rebels"


# ----------------------------------------------------------------------------- any recipient


def _run(stem: str, out, **params):
    import papermill as pm

    pm.execute_notebook(str(paths.NOTEBOOKS / f"{stem}.ipynb"), str(out / f"{stem}.ipynb"), kernel_name="python3",
                        parameters={"output_dir": str(out), "static_figures": False, **params}, progress_bar=False)
    return (out / f"{stem}.ipynb").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.sipri
def test_a_run_for_yemen_writes_nothing_named_after_iraq(tmp_path, shared_sipri_dir):
    from takingstock import sipri, supply

    register = str(shared_sipri_dir / R26)
    text = _run("04_supply_chains", tmp_path, recipients=["Yemen"], comparison="", trail_recipients=["Yemen"],
                sipri_register=register)
    text += _run("03_eras", tmp_path, recipients=["Yemen"], sipri_register=register)
    written = sorted(p.stem for kind in ("tables", "figures") for p in (tmp_path / kind).iterdir())
    assert "04_yemen_imports_by_year" in written and "03_sipri_yemen_by_year_tiv" in written
    assert not [n for n in written if re.search(r"iraq|iran|united-states|us-contracts", n)], written
    # the sections tied to Iraq's history say why they are left out
    assert "is defined for Iraq only" in text
    # the figures come from Yemen's own deals
    deals = sipri.read_register(register).deals
    want = supply.imports_by_year(deals, ["Yemen"], "delivery", 1950, 2025)
    fig = json.loads((tmp_path / "figures" / "04_yemen_imports_by_year.json").read_text())
    assert sum(fig["data"][0]["y"]) == pytest.approx(want["tiv"].sum())
    yearly = pd.read_csv(tmp_path / "tables" / "03_sipri_yemen_by_year.csv")
    assert yearly["tiv"].sum() == pytest.approx(supply.imports_by_year(deals, ["Yemen"], "delivery")["tiv"].sum())
    summary = json.loads((tmp_path / "summaries" / "04_supply_chains.json").read_text())
    assert "Yemen" in summary["summary"] and "Iraq" not in json.dumps(summary["headlines"])
