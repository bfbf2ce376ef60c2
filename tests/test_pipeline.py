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

from takingstock import paths, runner

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
    assert names == ["clean", "origin", "eras", "supply", "claims", "figures", "publish"]
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
    assert "valid parameters:" in err and "notebooks/02_country_of_origin.ipynb" in err
    assert {p: p.stat().st_mtime_ns for p in paths.OUTPUT_NOTEBOOKS.glob("*.ipynb")} == before


def _copy_project(dest: Path) -> Path:
    """A clean copy of the project (code, notebooks, raw data; no outputs) to run in."""
    for name in ("pipeline.py", "requirements.txt"):
        shutil.copy(paths.ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    shutil.copytree(paths.ROOT / "takingstock", dest / "takingstock", ignore=ignore)
    shutil.copytree(paths.NOTEBOOKS, dest / "notebooks", ignore=ignore)
    shutil.copytree(paths.RAW, dest / "data" / "raw", ignore=ignore)
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
    table = stdout.split("-" * 28)[-1]
    return dict(line.split()[:2] for line in table.strip().splitlines())


@pytest.mark.slow
def test_real_pipeline_cold_then_warm_then_one_raw_change(tmp_path):
    root = _copy_project(tmp_path)
    proc, _ = _run(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    states = _states(proc.stdout)
    present = {s.name for s in pipeline.STEPS if s.notebook and (root / s.notebook).exists()}
    assert {n for n, st in states.items() if st == "ran"} >= present
    for step in pipeline.STEPS:
        if step.name in present:
            assert (root / "output" / "notebooks" / Path(step.notebook).name).exists()
    assert (root / "data" / "processed" / "catalogue.parquet").exists()
    if states.get("publish") == "ran":
        assert (root / "output" / "briefings" / "index.html").exists()

    proc, seconds = _run(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(_states(proc.stdout).values()) <= {"skipped", "missing"}
    assert seconds < 2.0

    # the no-op path loads none of the heavy libraries
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['pipeline.py']\n"
        "try:\n    runpy.run_path('pipeline.py', run_name='__main__')\n"
        "except SystemExit as done:\n    assert done.code == 0, done.code\n"
        "print(sorted(m for m in ('papermill', 'pandas', 'nbconvert', 'plotly') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", probe], cwd=root, env={**env, "CI": "1"},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"

    # a raw file only the supply step reads: supply and what needs it rerun, nothing else
    aliases = root / "data" / "raw" / "sipri_aliases.csv"
    aliases.write_text(aliases.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    proc, _ = _run(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    states = _states(proc.stdout)
    assert states["clean"] == states["origin"] == states["eras"] == "skipped"
    assert states["supply"] == "ran"
    assert states["claims"] in ("ran", "missing")
    assert states["publish"] in ("ran", "missing")
