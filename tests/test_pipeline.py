"""pipeline.py on the real notebooks, and the hygiene of the committed notebooks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from takingstock.core import paths
from takingstock import pipeline_steps, runner

sys.path.insert(0, str(paths.ROOT))
import pipeline  # noqa: E402

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(nb_path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    with_outputs = [i for i, c in enumerate(nb["cells"]) if c.get("outputs")]
    counted = [i for i, c in enumerate(nb["cells"]) if c.get("execution_count") is not None]
    assert not with_outputs, f"{nb_path.name}: cells {with_outputs} have outputs; strip them"
    assert not counted, f"{nb_path.name}: cells {counted} have execution counts; strip them"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{nb_path.name}: needs exactly one cell tagged 'parameters'"
    assert "papermill" not in nb["metadata"], f"{nb_path.name}: stale papermill metadata"
    params = runner.notebook_parameters(nb_path)
    for shared in ("raw_dir", "processed_dir", "output_dir"):
        assert params.get(shared) is None or params[shared].type in ("str", None)


def test_every_notebook_is_a_step_and_steps_are_consistent():
    declared = {s.notebook for s in pipeline.STEPS if s.notebook}
    on_disk = {f"notebooks/{p.name}" for p in NOTEBOOKS}
    assert on_disk <= declared, f"notebooks no step runs: {sorted(on_disk - declared)}"
    names = [s.name for s in pipeline.STEPS]
    assert len(names) == len(set(names))
    assert names == ["clean", "origin", "eras", "supply", "claims", "releases", "followup", "figures", "publish"]
    order = {n: i for i, n in enumerate(names)}
    for step in pipeline.STEPS:
        assert all(order[n] < order[step.name] for n in step.needs), step.name


def test_wrong_type_for_a_real_notebook_parameter_stops_before_running(capsys):
    origin = next(s for s in pipeline.STEPS if s.name == "origin")
    params = runner.notebook_parameters(paths.ROOT / origin.notebook)
    int_param = next((p.name for p in params.values() if p.type == "int"), None)
    if int_param is None:
        pytest.skip("02_country_of_origin declares no int parameter")
    before = {p: p.stat().st_mtime_ns for p in paths.OUTPUT_NOTEBOOKS.glob("*.ipynb")}
    assert runner.main(["-p", f"origin.{int_param}", "ten"], pipeline.STEPS) == 2
    err = capsys.readouterr().err
    assert f"parameter '{int_param}' of step 'origin': expected int" in err
    # then the parameters of that one step, in words; no other step's
    listed = [line for line in err.splitlines() if line.startswith("parameters of step")]
    assert listed == ["parameters of step origin (notebooks/02_country_of_origin.ipynb):"]
    assert "    top_n (a whole number, at least 1; default 10) - countries shown before" in err
    assert "supply" not in err and "paths.RAW" not in err
    assert {p: p.stat().st_mtime_ns for p in paths.OUTPUT_NOTEBOOKS.glob("*.ipynb")} == before


def _copy_project(dest: Path) -> Path:
    """A clean copy of the project (code, notebooks, raw data; no outputs) to run in."""
    for name in ("pipeline.py", "requirements.txt"):
        shutil.copy(paths.ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    shutil.copytree(paths.ROOT / "takingstock", dest / "takingstock", ignore=ignore)
    shutil.copytree(paths.NOTEBOOKS, dest / "notebooks", ignore=ignore)
    # the committed raw data only: the SIPRI exports a machine keeps in data/raw/sipri/ are not copied
    shutil.copytree(paths.RAW, dest / "data" / "raw", ignore=shutil.ignore_patterns("__pycache__", "sipri"))
    (dest / "data" / "raw" / "sipri").mkdir()
    (dest / "data" / "processed").mkdir()
    return dest


def _run(root: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["CI"] = "1"
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "pipeline.py", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    return proc, time.perf_counter() - started


def _states(stdout: str) -> dict[str, str]:
    """Task -> state, from the summary table under its line of dashes (wider for a grid's names),
    down to the blank line before the run's notes, if any."""
    lines = stdout.strip().splitlines() + [""]
    rule = max(i for i, line in enumerate(lines) if line and set(line) == {"-"})
    return dict(line.split()[:2] for line in lines[rule + 1:lines.index("", rule)])


@pytest.mark.slow
def test_real_pipeline_cold_then_warm_then_one_raw_change(tmp_path):
    root = _copy_project(tmp_path)
    proc, _ = _run(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = [s.name for s in pipeline.STEPS]
    assert _states(proc.stdout) == dict.fromkeys(names, "ran")
    # no SIPRI export in the copy: the run ends saying so, with what it leaves unchecked (from the
    # ledger the claims step wrote) and the comparison notebook 06 skipped (from its summary)
    notes = _notes(proc.stdout, root)
    assert notes == [line for line in notes if "rejected" not in line]  # the committed catalogues: none
    for step in pipeline.STEPS:
        if step.notebook:
            assert (root / "output" / "notebooks" / Path(step.notebook).name).exists()
    assert (root / "data" / "processed" / "catalogue.parquet").exists()
    assert (root / "output" / "briefings" / "index.html").exists()

    proc, _ = _run(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _states(proc.stdout) == dict.fromkeys(names, "skipped")
    assert _notes(proc.stdout, root) == notes  # said again when nothing ran

    # the no-op path loads none of the heavy libraries
    # (the script's own exit skips the interpreter's teardown with os._exit, so the probe
    # calls the same main() the script does and then looks)
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['pipeline.py']\n"
        "script = runpy.run_path('pipeline.py', run_name='pipeline')\n"
        "assert script['main'](sys.argv[1:], script['STEPS']) == 0\n"
        "print(sorted(m for m in ('papermill', 'pandas', 'nbconvert', 'plotly') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", probe], cwd=root, env={**env, "CI": "1"},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"

    # a raw file only the supply step reads: supply and what needs it rerun, nothing else (the
    # ledger computes its claims itself: it does not need supply)
    aliases = root / "data" / "raw" / "sipri_aliases.csv"
    aliases.write_text(aliases.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    proc, _ = _run(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _states(proc.stdout) == {"clean": "skipped", "origin": "skipped", "eras": "skipped",
                                    "supply": "ran", "claims": "skipped", "releases": "skipped",
                                    "followup": "skipped", "figures": "ran", "publish": "ran"}


def _notes(stdout: str, root: Path) -> list[str]:
    """The lines that end a run of the real pipeline in a copy without SIPRI exports, checked
    against the ledger and the summary the real notebooks wrote."""
    import pandas as pd

    notes = [line for line in stdout.splitlines() if line.startswith("note: ")]
    ledger = pd.read_csv(root / "data" / "processed" / "claims_ledger.csv", dtype=str)
    lacking = (ledger["verdict"].eq("not checkable") & ledger["reason"].str.startswith("no SIPRI register")).sum()
    assert 0 < lacking < len(ledger)
    assert (f"note: no SIPRI export in data/raw/sipri/: {lacking} of {len(ledger)} claims are not checkable and the "
            "supply-chain pages leave out SIPRI's deals; get one with `python pipeline.py fetch-sipri`, or put a "
            "trade register downloaded from SIPRI in data/raw/sipri/") in notes
    summary = json.loads((root / "output" / "summaries" / "06_release_changes.json").read_text(encoding="utf-8"))
    assert summary["summary"].startswith("Fewer than two SIPRI releases at hand")
    assert f"note: release comparison skipped (step releases): f{summary['summary'][1:]}" in notes
    return notes


@pytest.mark.slow
def test_a_single_release_skips_the_comparison_and_the_run_says_why(tmp_path):
    root = _copy_project(tmp_path)
    shutil.copy(Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv",
                root / "data" / "raw" / "sipri" / "invented_register.csv")
    proc, _ = _run(root, "--only", "releases")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    notes = [line for line in proc.stdout.splitlines() if line.startswith("note: ")]
    assert notes == ["note: release comparison skipped (step releases): fewer than two SIPRI releases at hand in "
                     "sipri (releases found: 2024-02-02 (invented_register.csv)): "
                     "there is nothing to compare, so this step is skipped. Place a second release's export in that "
                     "folder, or pass -p releases.old_release_file PATH."]


def _with_notebooks(root: Path) -> Path:
    """``root`` with a copy of the real notebooks (a plan reads every step's notebook)."""
    if not (root / "notebooks").is_dir():
        shutil.copytree(paths.NOTEBOOKS, root / "notebooks")
    return root


def _clean_key(root: Path, **params) -> str:
    """The cache key of the real `clean` step under ``root`` with ``params`` given."""
    pipe = runner.Pipeline(pipeline.STEPS, runner.Config(root=_with_notebooks(root), params=params))
    return pipe.cache_key(pipe.plan.task_named("clean"))


@pytest.mark.parametrize("name", ["crosswalk", "periods", "sources"])
def test_editing_a_file_given_by_a_path_parameter_reruns_clean(tmp_path, name):
    given = tmp_path / f"my_{name}.csv"
    given.write_text("a,b\n1,2\n", encoding="utf-8")
    before = _clean_key(tmp_path, **{name: str(given)})
    assert _clean_key(tmp_path, **{name: str(given)}) == before
    given.write_text("a,b\n1,3\n", encoding="utf-8")
    assert _clean_key(tmp_path, **{name: str(given)}) != before
    # without the parameter, the committed file in raw_dir is the input
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    default = raw / {"crosswalk": "country_crosswalk.csv"}.get(name, f"{name}.csv")
    default.write_text("x\n", encoding="utf-8")
    unset = _clean_key(tmp_path)
    default.write_text("y\n", encoding="utf-8")
    assert _clean_key(tmp_path) != unset


def test_claims_hashes_the_claims_file_it_is_given(tmp_path):
    from takingstock.runner.cache import expand

    given = tmp_path / "elsewhere" / "claims.yml"
    given.parent.mkdir()
    given.write_text("claims: []\n")
    pipe = runner.Pipeline(pipeline.STEPS, runner.Config(root=_with_notebooks(tmp_path), params={"claims_path": str(given)}))
    claims = pipe.plan.task_named("claims")
    assert claims.fmt["claims_path"] == str(given) and given in expand(claims.step.inputs, claims.fmt)
    default = runner.Pipeline(pipeline.STEPS, runner.Config(root=tmp_path)).plan.task_named("claims")
    assert default.fmt["claims_path"] == str(tmp_path / "data" / "raw" / "claims.yml")


def test_publish_takes_the_release_of_the_run_contexts_primary_register(tmp_path, monkeypatch):
    from takingstock.publish import briefings
    from takingstock.data import sipri, sipri_cache, sipri_format
    from takingstock.data.runcontext import RunContext

    raw = tmp_path / "raw"
    (raw / "sipri").mkdir(parents=True)
    for name, date in (("older.csv", "13 Mar 2025"), ("newer.csv", "18 May 2026")):
        (raw / "sipri" / name).write_text(f"Data generated: {date} 2:29:20 PM\n{sipri_format.HEADER_START},Rest\n")
    seen = {}
    monkeypatch.setattr(briefings, "build_briefings", lambda notebooks, **kw: seen.update(kw))
    for reader in (sipri, sipri_cache):
        monkeypatch.setattr(reader, "read_register", lambda *a, **k: pytest.fail("deals were parsed"))
    run = RunContext(raw_dir=raw, output_dir=tmp_path / "out")
    step = next(s for s in pipeline.STEPS if s.name == "publish")
    pipeline_steps.publish(runner.StepContext(step, {}, run.output_dir, [], run))
    assert str(seen["sipri_release"]) == "2026-05-18"
    assert seen["briefings_dir"] == tmp_path / "out" / "briefings" and seen["raw_dir"] == raw
    pipeline_steps.publish(runner.StepContext(step, {}, run.output_dir, [], RunContext(raw_dir=tmp_path / "none")))
    assert seen["sipri_release"] is None


def test_every_file_a_step_reads_or_writes_is_named_by_its_run_context(tmp_path):
    from takingstock.runner.cache import fill_template

    root = _copy_project(tmp_path)
    (root / "data" / "raw" / "sipri").mkdir(exist_ok=True)
    shutil.copy(paths.ROOT / "tests" / "fixtures" / "sipri" / "invented_register.csv", root / "data" / "raw" / "sipri")
    pipe = runner.Pipeline(pipeline.STEPS, runner.Config(root=root))
    code = paths.PACKAGE_DIR / "publish" / "templates"  # the page templates are the publisher's code (this process's)
    for task in pipe.plan.tasks:
        named = task.context.files()
        files = {str(v) for v in named.values() if isinstance(v, Path)}
        files |= {str(p) for v in named.values() if isinstance(v, list) for p in v} | set(task.context.catalogues)
        folders = {Path(v) for v in named.values() if isinstance(v, Path)}
        for template in task.step.inputs + task.step.outputs:
            for pattern in fill_template(template, task.fmt):
                where = Path(pattern.split("*")[0].rstrip("/")) if "*" in pattern else Path(pattern)
                assert (pattern in files or where in folders or where.parent in folders
                        or code in [where, *where.parents]), (task.name, template, pattern)
    supply = pipe.plan.task_named("supply")
    assert supply.fmt["sipri"] == [str(root / "data" / "raw" / "sipri" / "invented_register.csv")]
    assert supply.context.primary_register == root / "data" / "raw" / "sipri" / "invented_register.csv"


def test_planning_a_run_with_several_exports_reads_none_of_them(tmp_path):
    """The no-change path: the plan lists the exports at hand, never orders them by release."""
    root = _copy_project(tmp_path)
    sipri_dir = root / "data" / "raw" / "sipri"
    sipri_dir.mkdir(exist_ok=True)
    for name, date in (("a.csv", "18 May 2026"), ("b.csv", "13 Mar 2025")):
        (sipri_dir / name).write_text(f"Data generated: {date} 2:29:20 PM\nRecipient,Supplier,Year of order\n")
    probe = ("import sys\nfrom pathlib import Path\nsys.path.insert(0, '.')\nimport pipeline\n"
             "from takingstock.runner import Config, Plan\n"
             "plan = Plan(pipeline.STEPS, Config(root=Path('.').resolve()))\n"
             "print([Path(p).name for p in plan.task_named('eras').fmt['sipri']], 'pandas' in sys.modules)\n"
             "print(plan.task_named('eras').context.primary_register.name)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", probe], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["['a.csv', 'b.csv'] False", "a.csv"]  # the newest, once asked


def _keys(root: Path) -> dict[str, str]:
    pipe = runner.Pipeline(pipeline.STEPS, runner.Config(root=root))
    return {t.name: pipe.cache_key(t) for t in pipe.plan.tasks}


def test_a_library_edit_reruns_only_the_steps_that_import_that_module(tmp_path):
    root = _copy_project(tmp_path)
    before = _keys(root)

    def edit(name: str) -> set[str]:
        with open(root / "takingstock" / name, "a", encoding="utf-8") as handle:
            handle.write("\n# an edit\n")
        nonlocal before
        after = _keys(root)
        changed = {n for n in after if after[n] != before[n]}
        before = after
        return changed

    # the chart builders: the notebooks that draw charts, not clean or claims, nor the function steps
    assert edit("report/charts.py") == {"origin", "eras", "supply", "releases", "followup"}
    # saving and showing figures: every notebook (each publishes through a Briefing, whose figure
    # method saves them) and publish (which reads the findings' marker), not the figures step
    assert edit("report/figures.py") == {"clean", "origin", "eras", "supply", "claims", "releases", "followup",
                                         "publish"}
    # the SIPRI reader: every step, through the run context (notebook 01 publishes through a
    # Briefing made from the run context too, whose register methods import the reader; the
    # cache reads imports, not which methods a notebook calls, so it reruns to be safe)
    every_step = {"clean", "origin", "eras", "supply", "claims", "releases", "followup", "figures", "publish"}
    assert edit("data/sipri.py") == every_step
    # and so is each part of it (the weapon categories, reached through the parsed-register cache)
    assert edit("data/sipri_weapons.py") == every_step
    # a module no step imports (the fetcher), and a new module: nothing reruns
    assert edit("data/fetch.py") == set()
    (root / "takingstock" / "scratch.py").write_text("x = 1\n", encoding="utf-8")
    assert edit("scratch.py") == set()


def _used_by(root: Path, step: str) -> set[str]:
    pipe = runner.Pipeline(pipeline.STEPS, runner.Config(root=root))
    task = pipe.plan.task_named(step)
    files = pipe.cache.library_files(task, pipe.plan.notebooks.get(step))
    return {str(p.relative_to(root)) for p in files if root in p.parents}


def test_which_library_modules_each_step_uses(tmp_path):
    root = _copy_project(tmp_path)
    charts = {n for n in ("clean", "origin", "eras", "supply", "claims", "releases", "followup", "figures", "publish")
              if "takingstock/report/charts.py" in _used_by(root, n)}
    assert charts == {"origin", "eras", "supply", "releases", "followup"}
    assert "takingstock/report/images.py" in _used_by(root, "figures")
    assert "takingstock/publish/templates/briefing.html.j2" not in _used_by(root, "publish")  # an input, not code
    assert {"takingstock/publish/pages.py", "takingstock/data/runcontext.py", "takingstock/__init__.py"} <= _used_by(root, "publish")
    assert not any(p.startswith("takingstock/runner/") for p in _used_by(root, "clean"))


def test_a_notebook_import_added_after_a_run_is_seen_through_the_memo(tmp_path):
    """What each notebook imports is memoised in the output folder by the notebook file: an
    import added to a code cell after a run must still make the step depend on that module."""
    root = _copy_project(tmp_path)
    pipe = runner.Pipeline(pipeline.STEPS, runner.Config(root=root))
    for task in pipe.plan.tasks:
        pipe.cache_key(task)
    pipe.cache.save_memos()
    memo = json.loads((root / "output" / ".cache" / "imports.json").read_text(encoding="utf-8"))
    assert any(k.startswith("cells ") and k.endswith("02_country_of_origin.ipynb") for k in memo)
    assert any(k.startswith("function ") for k in memo)  # the function steps' imports too
    assert "takingstock/data/fetch.py" not in _used_by(root, "origin")

    path = root / "notebooks" / "02_country_of_origin.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = next(c for c in nb["cells"] if c["cell_type"] == "code" and "import" in "".join(c["source"]))
    code["source"] = "from takingstock.data import fetch\n" + "".join(code["source"])
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert "takingstock/data/fetch.py" in _used_by(root, "origin")


# ------------------------------------------------------------------------ a real grid


@pytest.fixture(scope="module")
def real_grid_output(tmp_path_factory, shared_sipri_dir):
    """pipeline.py --grid supply.recipients=Iraq,Syria,Yemen on the 2026 register, in a copy of
    the project; returns its output folder (extend the tests below with content checks)."""
    declared = runner.notebook_parameters(paths.NOTEBOOKS / "04_supply_chains.ipynb")
    if "variant" not in declared:
        pytest.skip("notebooks/04_supply_chains.ipynb declares no 'variant' parameter: it cannot run as a grid")
    root = _copy_project(tmp_path_factory.mktemp("grid"))
    (root / "data" / "raw" / "sipri").mkdir(exist_ok=True)
    for old in (root / "data" / "raw" / "sipri").glob("*.csv"):
        old.unlink()
    shutil.copy(shared_sipri_dir / "sipri_trade_register_all_2026-05-18_alexarui.csv", root / "data" / "raw" / "sipri")
    proc, _ = _run(root, "--grid", "supply.recipients=Iraq,Syria,Yemen")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert {k: v for k, v in _states(proc.stdout).items() if k.startswith("supply")} == {
        "supply[iraq]": "ran", "supply[syria]": "ran", "supply[yemen]": "ran"}
    return root / "output"


@pytest.mark.slow
@pytest.mark.parametrize("slug", ["iraq", "syria", "yemen"])
def test_the_real_grid_writes_a_notebook_summary_and_briefing_per_recipient(real_grid_output, slug):
    stem = f"04_supply_chains__{slug}"
    executed = json.loads((real_grid_output / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    assert executed["metadata"]["papermill"]["parameters"]["recipients"] == [slug.capitalize()]
    assert (real_grid_output / "summaries" / f"{stem}.json").is_file()
    assert (real_grid_output / "briefings" / f"{stem}.html").is_file()
    assert f'href="{stem}.html"' in (real_grid_output / "briefings" / "index.html").read_text(encoding="utf-8")


def _digests(root: Path) -> dict[str, str]:
    """SHA-256 of every processed file, table, summary and PNG of a run (the root's path made neutral)."""
    import hashlib

    out = {}
    for pattern in ("data/processed/*", "output/tables/*.csv", "output/tables/*.md", "output/summaries/*.json",
                    "output/figures/*.png", "output/figures/*.json"):
        for path in sorted(root.glob(pattern)):
            data = path.read_bytes().replace(str(root).encode(), b"<root>")
            out[str(path.relative_to(root))] = hashlib.sha256(data).hexdigest()
    return out


@pytest.mark.slow
def test_a_rebuild_from_cached_registers_and_early_images_gives_the_same_outputs(tmp_path, shared_sipri_dir):
    """Both real releases: a cold run, then --force with every export loaded from the parsed-register
    cache and the images drawn again: the same processed files, tables, summaries and PNGs."""
    root = _copy_project(tmp_path)
    for name in ("sipri_trade_register_all_2026-05-18_alexarui.csv", "sipri_trade_register_all_2025-03-13_colasdroin.csv"):
        shutil.copy(shared_sipri_dir / name, root / "data" / "raw" / "sipri" / name)
    proc, _ = _run(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cached = sorted((root / "output" / ".cache" / "registers").glob("sipri-*.arrow"))
    assert len(cached) == 2  # one per export, whatever the number of kernels that read it
    first = _digests(root)
    assert len([k for k in first if k.endswith(".png")]) == len([k for k in first if k.startswith("output/figures")]) / 2
    assert any(k.endswith("05_claims_ledger.csv") for k in first)
    for png in (root / "output" / "figures").glob("*.png"):
        png.unlink()
    proc, _ = _run(root, "--force")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _digests(root) == first
    assert sorted((root / "output" / ".cache" / "registers").glob("sipri-*.arrow")) == cached


@pytest.mark.slow
def test_a_catalogue_whose_rows_are_all_rejected_stops_the_run(tmp_path, capsys):
    """Every row refused (an unknown category): exit 1 naming the count and rejected.csv, not
    pages reading "Counts and shares ... for ;"; --accept clean goes on."""
    source = (paths.RAW / "catalogue_car_2014_ammunition.csv").read_text(encoding="utf-8").splitlines()
    header, rows = source[0], source[1:]
    column = header.split(",").index("category")
    bad = tmp_path / "catalogue_bad.csv"
    bad.write_text("\n".join([header] + [",".join(
        "no-such-category" if i == column else cell for i, cell in enumerate(row.split(",", column + 1)))
        for row in rows]) + "\n", encoding="utf-8")
    out, processed = tmp_path / "out", tmp_path / "processed"
    argv = ["--no-progress", "-p", "catalogues", str(bad), "-p", "output_dir", str(out),
            "-p", "processed_dir", str(processed), "--only", "origin"]
    assert runner.main(argv, pipeline.STEPS) == runner.EXIT_FAILED
    text = capsys.readouterr().out
    assert (f"FAILED: step 'clean': none of the {len(rows)} catalogue rows is clean (all rejected); the reason "
            f"for each is in {processed / 'rejected.csv'}") in text
    assert "origin    not run" in text
    assert not (out / "summaries").exists() or not list((out / "summaries").glob("02_*"))
    assert runner.main([*argv[:-2], "--only", "clean", "--accept", "clean"], pipeline.STEPS) == runner.EXIT_OK
    assert "(accepted: --accept clean)" in capsys.readouterr().out
