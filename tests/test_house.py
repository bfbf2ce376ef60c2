"""The shape of the house: notebooks that compute in view and publish through the Briefing, no
literals, one run context, any recipient, runs by hand kept out of ``output/``.

These tests read the committed notebooks (not their outputs), run notebook 04 by hand with its
defaults, and run notebooks 03 and 04 for another recipient on the real register.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil

import pandas as pd
import pytest

from takingstock.core import paths
from takingstock.data.runcontext import RunContext, WindowError

ANALYSIS = ["02_country_of_origin", "03_eras", "04_supply_chains", "05_claims", "06_release_changes", "07_after_the_report"]
NOTEBOOKS = ["01_clean_catalogue", *ANALYSIS]
R26 = "sipri_trade_register_all_2026-05-18_alexarui.csv"
R25 = "sipri_trade_register_all_2025-03-13_colasdroin.csv"
#: What a notebook's cells may call on its Briefing to declare a finding.
DECLARE = ("table", "figure", "headline", "note")


def _cells(stem: str) -> list[dict]:
    return json.loads((paths.NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))["cells"]


def _code_cells(stem: str) -> list[tuple[bool, str]]:
    return [("parameters" in c.get("metadata", {}).get("tags", []), "".join(c["source"]))
            for c in _cells(stem) if c["cell_type"] == "code"]


def _sections(stem: str) -> list[tuple[str, list[str]]]:
    """``(level-2 heading, the code of the cells under it)`` for every finding heading."""
    found: list[tuple[str, list[str]]] = []
    for cell in _cells(stem):
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            found += [(h, []) for h in re.findall(r"^##\s+(.+)$", text, re.MULTILINE)]
        elif cell["cell_type"] == "code" and found:
            found[-1][1].append(text)
    return found


def _brief_calls(code: str) -> set[str]:
    """The Briefing methods a piece of code calls (``brief.table(...)`` -> ``table``)."""
    return {n.func.attr for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == "brief"}


def _assigned(code: str) -> set[str]:
    """The notebook variables a piece of code sets."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        targets = (node.targets if isinstance(node, ast.Assign) else [node.target]
                   if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.NamedExpr)) else [])
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_findings_are_declared_through_the_briefing(stem):
    code = "\n".join(src for is_params, src in _code_cells(stem) if not is_params)
    # nothing saves, shows or summarises by hand, and the old section functions are gone
    for call in ("save_table(", "save_figure(", "tables.show(", "figures.show(", "write_summary(", "display(",
                 "brief.show(", "takingstock.sections", "from takingstock import sections"):
        assert call not in code, f"{stem} calls {call} itself"
    assert "Briefing(run," in code and "title=" in code
    # every page opens with a lead computed in the notebook, then the summary is written
    calls = _brief_calls(code)
    assert {"lead", "close"} <= calls, calls
    assert code.index("brief.lead(") < code.index("brief.close(")


@pytest.mark.parametrize("stem", ANALYSIS)
def test_each_heading_computes_its_finding_in_view_and_keeps_it(stem):
    """Under each finding heading, the cell computes and declares the finding (a Briefing call) and
    keeps what it computed as a notebook variable; no cell hides behind a helper of a section module."""
    sections = _sections(stem)
    assert len(sections) >= 3, sections
    for heading, cells in sections:
        if not cells:  # a heading whose text introduces the sub-headings below it
            continue
        code = "\n".join(cells)
        assert _brief_calls(code) & set(DECLARE), f"{stem}: nothing declared under {heading!r}"
        assert _assigned(code), f"{stem}: nothing kept as a variable under {heading!r}"


@pytest.mark.parametrize("stem", ANALYSIS)
def test_declared_tables_and_figures_are_kept_as_variables(stem):
    """Most declared findings are assigned (``made[c] = brief.table(...)``) or built from a variable."""
    code = "\n".join(src for is_params, src in _code_cells(stem) if not is_params)
    assert len(_assigned(code)) >= 8
    assert re.search(r"^\s*[\w\[\]., ]+ = brief\.table\(", code, re.MULTILINE), f"{stem}: no table kept"


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_a_run_by_hand_writes_to_the_scratch_folder_and_draws_no_images(stem):
    params = next(src for is_params, src in _code_cells(stem) if is_params)
    assert re.search(r"^output_dir = str\(paths\.SCRATCH\)", params, re.MULTILINE), params
    if "static_figures" in params:
        assert re.search(r"^static_figures = False\b", params, re.MULTILINE), params
    assert paths.SCRATCH.relative_to(paths.ROOT).as_posix() + "/" in (paths.ROOT / ".gitignore").read_text()


def _country_names() -> set[str]:
    with open(paths.RAW / "country_crosswalk.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = {r[k] for r in rows if r.get("kind") != "unknown" for k in ("name", "state") if r.get(k)}
    return {n for n in names if len(n) > 3}


@pytest.mark.parametrize("stem", ANALYSIS)
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
    from takingstock.data import sipri
    from takingstock.analysis import supply

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
    # the run's pages are Yemen's own: named and titled after it, its headlines its own
    summary = json.loads((tmp_path / "summaries" / "04_supply_chains__yemen.json").read_text())
    assert summary["title"] == "Supply chains: Yemen"
    assert "Yemen" in summary["summary"] and "Iraq" not in json.dumps(summary["headlines"])
    assert "Yemen" in " ".join(summary["lead"]) and 3 <= len(summary["lead"]) <= 5
    assert json.loads((tmp_path / "summaries" / "03_eras__yemen.json").read_text())["title"].endswith("reached Yemen")
    assert not (tmp_path / "summaries" / "04_supply_chains.json").exists()


def _tree(folder):
    """Every file under ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_notebook_04_run_by_hand_with_its_defaults_leaves_output_alone(tmp_path):
    """papermill with the notebook's own defaults (no parameter given): everything goes to the
    scratch folder, no SVG or PNG is drawn, and nothing under output/ is written or touched."""
    import papermill as pm

    import time

    before, started = _tree(paths.OUTPUT), time.time_ns()
    pm.execute_notebook(str(paths.NOTEBOOKS / "04_supply_chains.ipynb"), str(tmp_path / "04.ipynb"),
                        kernel_name="python3", progress_bar=False)
    assert _tree(paths.OUTPUT) == before
    summary = json.loads((paths.SCRATCH / "summaries" / "04_supply_chains.json").read_text())
    assert summary["title"] == "Supply chains: Iraq" and summary["lead"]
    for name in [f["name"] for f in summary["figures"]]:
        assert (paths.SCRATCH / "figures" / f"{name}.json").stat().st_mtime_ns >= started
        for image in (paths.SCRATCH / "figures" / f"{name}.{fmt}" for fmt in ("svg", "png")):
            assert not image.exists() or image.stat().st_mtime_ns < started, image


def test_a_run_for_another_recipient_has_its_own_briefing_stem():
    assert RunContext(recipients=("Yemen",)).stem("04_supply_chains") == "04_supply_chains__yemen"
    assert RunContext(recipients=("Iraq",)).stem("04_supply_chains") == "04_supply_chains"
    assert RunContext(recipients=("Iraq",), variant="iraq").stem("04_supply_chains") == "04_supply_chains__iraq"


def test_catalogue_titles_come_from_the_data_package(tmp_path):
    run = RunContext()
    assert run.catalogue_title("amnesty_2015") == "Amnesty International, Taking Stock (2015)"
    assert run.catalogue_title("car_2017_weapons") == "Conflict Armament Research (2017), Weapons of the Islamic State"
    assert run.catalogue_title("mine") == "the catalogue mine"
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "datapackage.json").write_text(json.dumps({"resources": [
        {"name": "catalogue_mine", "title": "My field notes (2024): weapons seen"}]}))
    assert RunContext(raw_dir=raw).catalogue_title("mine") == "My field notes (2024)"
