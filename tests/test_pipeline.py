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
    assert names == ["clean", "origin", "eras", "supply", "claims", "releases", "figures", "publish"]
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
    names = [s.name for s in pipeline.STEPS]
    assert _states(proc.stdout) == dict.fromkeys(names, "ran")
    for step in pipeline.STEPS:
        if step.notebook:
            assert (root / "output" / "notebooks" / Path(step.notebook).name).exists()
    assert (root / "data" / "processed" / "catalogue.parquet").exists()
    assert (root / "output" / "briefings" / "index.html").exists()

    proc, seconds = _run(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _states(proc.stdout) == dict.fromkeys(names, "skipped")
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
    assert _states(proc.stdout) == {"clean": "skipped", "origin": "skipped", "eras": "skipped",
                                    "supply": "ran", "claims": "ran", "releases": "skipped",
                                    "figures": "ran", "publish": "ran"}


def _clean_key(root: Path, **params) -> str:
    """The cache key of the real `clean` step under ``root`` with ``params`` given."""
    pipe = runner.Pipeline(pipeline.STEPS, runner.Config(root=root, params=params))
    pipe.hasher = runner.FileHasher(root / "memo.json")
    pipe.lib_hash = "lib"
    clean = next(s for s in pipeline.STEPS if s.name == "clean")
    declared = {"clean": runner.notebook_parameters(paths.ROOT / clean.notebook)}
    resolved = runner.resolve_parameters(pipeline.STEPS, pipe.config, declared)
    return pipe.cache_key(clean, resolved["clean"], None)


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
    claims = next(s for s in pipeline.STEPS if s.name == "claims")
    pipe = runner.Pipeline(pipeline.STEPS, runner.Config(root=tmp_path))
    given = tmp_path / "elsewhere" / "claims.yml"
    fmt = pipe.fmt({"claims_path": str(given)}, claims)
    assert str(given) in [t.format(**fmt) for t in claims.inputs]
    fmt = pipe.fmt({"claims_path": ""}, claims)
    assert str(tmp_path / "data" / "raw" / "claims.yml") in [t.format(**fmt) for t in claims.inputs]


def test_sipri_release_reads_the_newest_export_of_the_runs_raw_dir(tmp_path, monkeypatch):
    from takingstock import sipri

    raw = tmp_path / "raw"
    (raw / "sipri").mkdir(parents=True)
    newest = raw / "sipri" / "trade-register-2026-05-18.csv"
    newest.write_text("x\n")
    (raw / "sipri" / "trade-register-2025-01-01.csv").write_text("x\n")
    seen = []
    monkeypatch.setattr(sipri, "read_release_date", lambda p: seen.append(Path(p)) or "date")
    monkeypatch.setattr(sipri, "read_register", lambda *a, **k: pytest.fail("deals were parsed"))
    assert pipeline._sipri_release("", str(raw)) == "date"
    assert pipeline._sipri_release(str(newest.with_name("trade-register-2025-01-01.csv")),
                                   "/nowhere") == "date"
    assert seen == [newest, raw / "sipri" / "trade-register-2025-01-01.csv"]
    assert pipeline._sipri_release("", str(tmp_path / "empty")) is None
    with pytest.raises(FileNotFoundError):
        pipeline._sipri_release(str(tmp_path / "typo.csv"), str(raw))
