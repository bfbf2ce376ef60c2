"""The runner on tiny fixture notebooks (tests/fixtures/notebooks), in a throw-away project.

Steps: a (numbers.csv -> processed/total.txt), b (needs a), c (other.txt, independent),
d (needs a, divides by zero in its fourth cell). The fixture notebooks name a kernel that does
not exist, so every run here also shows the runner ignores notebook kernel metadata.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from takingstock import runner
from takingstock.runner import Config, ParameterError, Pipeline, Step

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"

A = Step("a", "notebooks/a_total.ipynb", inputs=("{raw_dir}/numbers.csv",),
         outputs=("{processed_dir}/total.txt",))
B = Step("b", "notebooks/b_report.ipynb", needs=("a",), inputs=("{processed_dir}/total.txt",),
         outputs=("{output_dir}/b.txt",))
C = Step("c", "notebooks/c_other.ipynb", inputs=("{raw_dir}/other.txt",), outputs=("{output_dir}/c.txt",))
D = Step("d", "notebooks/d_fails.ipynb", needs=("a",), inputs=("{processed_dir}/total.txt",))


@pytest.fixture()
def project(tmp_path):
    """A throw-away project root with the fixture notebooks and two raw files."""
    (tmp_path / "notebooks").mkdir()
    for nb in FIXTURES.glob("*.ipynb"):
        shutil.copy(nb, tmp_path / "notebooks" / nb.name)
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "numbers.csv").write_text("1 2 3 4\n")
    (raw / "other.txt").write_text("hello\n")
    return tmp_path


def run(root, steps, **kwargs):
    """Run ``steps`` under ``root``; return ({step: state}, printed text)."""
    out = io.StringIO()
    config = Config(root=root, progress=False, **kwargs)
    results = Pipeline(steps, config, out=out).run()
    return {r.step: r.state for r in results}, out.getvalue()


# ------------------------------------------------------------- parameter checks (fast)


def test_parameters_cell_is_read_with_types_and_help():
    params = runner.notebook_parameters(FIXTURES / "a_total.ipynb")
    assert list(params) == ["raw_dir", "processed_dir", "factor", "ratio", "label", "columns", "note"]
    assert {n: p.type for n, p in params.items()} == {
        "raw_dir": "str", "processed_dir": "str", "factor": "int", "ratio": "float",
        "label": "str", "columns": "list", "note": None,
    }
    assert params["raw_dir"].help == "folder with numbers.csv"
    assert params["factor"].default == "2"


def test_our_reader_agrees_with_papermill_inspect_notebook():
    import papermill as pm

    for nb in sorted(FIXTURES.glob("*.ipynb")):
        ours = runner.notebook_parameters(nb)
        theirs = pm.inspect_notebook(str(nb))
        assert list(ours) == list(theirs), nb.name
        assert [p.default for p in ours.values()] == [p["default"] for p in theirs.values()], nb.name


def test_unknown_parameter_is_refused_before_any_notebook_runs(project):
    with pytest.raises(ParameterError) as err:
        run(project, [A, B, C], params={"factr": 3})
    text = str(err.value)
    assert "unknown parameter 'factr'" in text
    assert "factor (int) = 2" in text  # the valid parameters are listed
    assert "fold_successors (bool) = False" in text
    assert not (project / "output" / "notebooks").exists()
    assert not (project / "data" / "processed" / "total.txt").exists()


def test_step_parameter_must_be_declared_by_that_step(project):
    with pytest.raises(ParameterError, match=r"unknown parameter b\.factor"):
        run(project, [A, B], step_params={"b": {"factor": 3}})
    assert not (project / "output" / "notebooks").exists()


@pytest.mark.parametrize(
    "name, value, expected",
    [("factor", "three", "expected int"), ("factor", True, "expected int"),
     ("fold_successors", 1, "expected bool"), ("columns", "n", "expected list"),
     ("ratio", "half", "expected float")],
)
def test_wrong_type_is_refused(project, name, value, expected):
    with pytest.raises(ParameterError, match=expected):
        run(project, [A, B, C], params={name: value})
    assert not (project / "output" / "notebooks").exists()


def test_accepted_values_are_converted_and_paths_made_absolute(project, monkeypatch):
    monkeypatch.chdir(project)
    config = runner.parse_run_args(
        ["-p", "ratio", "1", "-p", "label", "2015", "-p", "raw_dir", "data/raw", "-p", "a.note", "[1, 2]"],
        [A, B, C], root=project,
    )
    declared = {s.name: runner.notebook_parameters(project / s.notebook) for s in (A, B, C)}
    resolved = runner.resolve_parameters([A, B, C], config, declared)
    assert resolved["a"]["ratio"] == 1.0 and isinstance(resolved["a"]["ratio"], float)
    assert resolved["a"]["label"] == "2015"  # CLI text kept for a str parameter
    assert resolved["a"]["raw_dir"] == str(project / "data" / "raw")
    assert resolved["a"]["note"] == [1, 2]  # None default takes any type
    assert "note" not in resolved["c"] and "label" not in resolved["c"]
    assert resolved["b"]["output_dir"] == str(project / "output")


def test_params_file_paths_are_relative_to_the_file(project, tmp_path_factory):
    other = tmp_path_factory.mktemp("conf")
    (other / "run.yaml").write_text("raw_dir: mine/raw\na:\n  factor: 5\nc.fold_successors: true\n")
    config = runner.parse_run_args(["--params", str(other / "run.yaml")], [A, C], root=project)
    assert config.params == {"raw_dir": str(other / "mine" / "raw")}
    assert config.step_params == {"a": {"factor": 5}, "c": {"fold_successors": True}}


def test_source_cell_number_accounts_for_the_injected_cell():
    nb = FIXTURES / "d_fails.ipynb"  # md, parameters, code, code
    assert runner.source_cell_number(nb, 4, injected=True) == 4
    assert runner.source_cell_number(nb, 2, injected=True) == 0
    assert runner.source_cell_number(nb, 3, injected=False) == 4


def test_main_exits_2_on_a_bad_parameter(project, capsys):
    code = runner.main(["-p", "nope", "1"], [A], root=project)
    assert code == 2
    assert "unknown parameter 'nope'" in capsys.readouterr().err


def test_missing_subcommand_module_is_reported(capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "takingstock.claims", None)  # import fails like a missing module
    assert runner.main(["check-claims", "--strict"], [A]) == 2
    assert "takingstock.claims is not available yet" in capsys.readouterr().err
    assert runner._delegate("takingstock.runner", "no_such_function", []) == 2
    assert "takingstock.runner.no_such_function does not exist yet" in capsys.readouterr().err


# ------------------------------------------------------------------ runs (slow)


@pytest.mark.slow
def test_incremental_runs_rerun_only_what_changed(project):
    states, _ = run(project, [A, B, C])
    assert states == {"a": "ran", "b": "ran", "c": "ran"}
    assert (project / "data" / "processed" / "total.txt").read_text() == "20"
    assert (project / "output" / "b.txt").read_text() == "report 20"
    for stem in ("a_total", "b_report", "c_other"):
        executed = json.loads((project / "output" / "notebooks" / f"{stem}.ipynb").read_text())
        assert executed["metadata"]["papermill"]["parameters"]["output_dir" if stem != "a_total" else "raw_dir"]

    states, text = run(project, [A, B, C])
    assert states == {"a": "skipped", "b": "skipped", "c": "skipped"}
    assert "[ run ]" not in text

    (project / "data" / "raw" / "other.txt").write_text("changed\n")
    states, _ = run(project, [A, B, C])
    assert states == {"a": "skipped", "b": "skipped", "c": "ran"}
    assert (project / "output" / "c.txt").read_text() == "changed\n"

    (project / "data" / "raw" / "numbers.csv").write_text("10 20\n")
    states, _ = run(project, [A, B, C])
    assert states == {"a": "ran", "b": "ran", "c": "skipped"}
    assert (project / "output" / "b.txt").read_text() == "report 60"

    # a parameter is part of the key: changing it reruns a and its dependant
    states, _ = run(project, [A, B, C], step_params={"a": {"factor": 3}})
    assert states == {"a": "ran", "b": "ran", "c": "skipped"}
    assert (project / "output" / "b.txt").read_text() == "report 90"

    # a deleted output makes its step stale
    (project / "output" / "c.txt").unlink()
    states, _ = run(project, [A, B, C], step_params={"a": {"factor": 3}})
    assert states == {"a": "skipped", "b": "skipped", "c": "ran"}

    # --only b runs b (and nothing stale upstream); --force runs everything
    states, _ = run(project, [A, B, C], step_params={"a": {"factor": 3}}, only=("b",))
    assert states == {"a": "skipped", "b": "ran"}
    states, _ = run(project, [A, B, C], step_params={"a": {"factor": 3}}, force=True, jobs=1)
    assert states == {"a": "ran", "b": "ran", "c": "ran"}


@pytest.mark.slow
def test_failure_is_reported_and_earlier_outputs_stay(project):
    states, _ = run(project, [A, B])
    assert states == {"a": "ran", "b": "ran"}
    good_b = (project / "output" / "notebooks" / "b_report.ipynb").read_bytes()

    out = io.StringIO()
    config = Config(root=project, progress=False, force=True, jobs=1,
                    step_params={"a": {"factor": 3}})
    failing_b = Step("b", "notebooks/d_fails.ipynb", needs=("a",))  # b's slot, d's notebook
    results = Pipeline([A, failing_b, C], config, out=out).run()
    text = out.getvalue()
    assert {r.step: r.state for r in results} == {"a": "ran", "b": "failed", "c": "not run"}
    assert "step 'b' failed in notebook notebooks/d_fails.ipynb" in text
    assert "cell 4 of notebooks/d_fails.ipynb" in text
    assert "| share = total / divisor" in text
    assert "ZeroDivisionError: division by zero" in text
    kept = project / "output" / "notebooks" / "failed" / "d_fails.ipynb"
    assert f"partial executed notebook kept at: {kept}" in text
    assert kept.exists()
    # the earlier good executed notebook of another step is untouched, none was half-written
    assert (project / "output" / "notebooks" / "b_report.ipynb").read_bytes() == good_b
    assert not list((project / "output" / "notebooks").glob(".*running*"))
    assert not (project / "output" / "notebooks" / "d_fails.ipynb").exists()
    # exit code through main
    code = runner.main(["--no-progress", "-j", "1"], [A, failing_b], root=project)
    assert code == 1


@pytest.mark.slow
def test_keep_going_runs_what_does_not_need_the_failed_step(project):
    states, text = run(project, [A, D, B, C], keep_going=True)
    assert states == {"a": "ran", "d": "failed", "b": "ran", "c": "ran"}
    table = text.split("-" * 28)[-1].split()
    assert table == ["a", "ran", table[2], "d", "failed", table[5], "b", "ran", table[8], "c", "ran", table[11]]
    after = Step("e", "notebooks/b_report.ipynb", needs=("d",))
    states, _ = run(project, [A, D, after], keep_going=True)
    assert states == {"a": "skipped", "d": "failed", "e": "blocked"}
    # a failed step is never cached: it is tried again next time
    states, _ = run(project, [A, D], keep_going=True)
    assert states["d"] == "failed"


@pytest.mark.slow
def test_missing_notebook_is_reported_and_others_still_run(project):
    ghost = Step("ghost", "notebooks/not_there.ipynb")
    states, text = run(project, [ghost, C])
    assert states == {"ghost": "missing", "c": "ran"}
    assert "no notebook notebooks/not_there.ipynb" in text


# ------------------------------------------------------------------------------ Ctrl-C


@pytest.mark.slow
def test_ctrl_c_stops_the_kernels_and_exits_130(tmp_path):
    """SIGINT during a long cell: kernels end, nothing half-published, exit code 130."""
    import signal
    import subprocess
    import sys
    import time

    import nbformat
    import psutil

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("seconds = 120", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import time\ntime.sleep(seconds)"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "slow.ipynb")
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\nfrom pathlib import Path\nfrom takingstock.runner import Step, main\n"
        "sys.exit(main(['--no-progress'], [Step('slow', 'notebooks/slow.ipynb')], root=Path(sys.argv[1])))\n"
    )
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        kernels: list = []
        deadline = time.monotonic() + 60
        while not kernels and time.monotonic() < deadline:
            time.sleep(0.3)
            kernels = [c for c in psutil.Process(proc.pid).children(recursive=True)
                       if "ipykernel" in " ".join(c.cmdline())]
        assert kernels, "the kernel never started"
        time.sleep(2)  # let it reach the sleeping cell
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == runner.EXIT_INTERRUPTED, out
    assert time.monotonic() - started < 20  # not the 120 s the cell would have slept
    assert "slow      interrupted" in out and "Interrupted: stopping the kernels" in out
    assert not any(k.is_running() and k.status() != psutil.STATUS_ZOMBIE for k in kernels)
    executed = tmp_path / "output" / "notebooks"
    assert not (executed / "slow.ipynb").exists()  # never published
    assert not list(executed.glob(".*.running.ipynb"))  # no hidden leftovers


# ------------------------------------------------------------- review fixes (fast)


def _notebook(source: str) -> dict:
    return {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": source,
                       "outputs": [], "execution_count": None}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_help_text_ignores_a_hash_inside_the_value():
    params = runner.notebook_parameters(_notebook(
        'colour = "#0b4f8a"  # bar colour\n'
        'plain = "#fff"\n'
        'label = "é #1"  # the é label\n'
        'n: int = 3\n'
    ))
    assert {n: p.help for n, p in params.items()} == {
        "colour": "bar colour", "plain": "", "label": "the é label", "n": ""}
    assert params["colour"].default == '"#0b4f8a"'


def test_notebook_parameters_reuses_a_parsed_notebook(tmp_path):
    nb = json.loads((FIXTURES / "a_total.ipynb").read_text(encoding="utf-8"))
    assert runner.notebook_parameters(tmp_path / "not-read.ipynb", nb) == runner.notebook_parameters(
        FIXTURES / "a_total.ipynb")


def test_a_step_value_beats_a_global_command_line_value(project, tmp_path_factory):
    conf = tmp_path_factory.mktemp("conf")
    declared = {s.name: runner.notebook_parameters(project / s.notebook) for s in (A, C)}
    (conf / "run.yaml").write_text("a:\n  label: 7\n")
    config = runner.parse_run_args(["--params", str(conf / "run.yaml"), "-p", "label", "2015"],
                                   [A, C], root=project)
    # step a's own value (an int from YAML, wrong for a str) is used, not the global "2015"
    with pytest.raises(ParameterError, match=r"parameter 'label' of step 'a': expected str.*int 7"):
        runner.resolve_parameters([A, C], config, declared)
    (conf / "run.yaml").write_text("a:\n  label: mine\n")
    config = runner.parse_run_args(["--params", str(conf / "run.yaml"), "-p", "label", "2015"],
                                   [A, C], root=project)
    resolved = runner.resolve_parameters([A, C], config, declared)
    assert resolved["a"]["label"] == "mine"
    (conf / "run.yaml").write_text("label: global\n")
    config = runner.parse_run_args(["--params", str(conf / "run.yaml"), "-p", "a.label", "2016"],
                                   [A, C], root=project)
    assert runner.resolve_parameters([A, C], config, declared)["a"]["label"] == "2016"


def test_default_dirs_follow_the_paths_module(tmp_path):
    assert runner.default_dirs(tmp_path) == {
        "raw_dir": str(tmp_path / "data" / "raw"),
        "processed_dir": str(tmp_path / "data" / "processed"),
        "output_dir": str(tmp_path / "output"),
    }
    pipe = Pipeline([A], Config(root=tmp_path))
    fmt = pipe.fmt({"raw_dir": str(tmp_path / "elsewhere")}, A)
    assert fmt["sipri"] == str(tmp_path / "elsewhere" / "sipri" / "*.csv")
    assert pipe.output_dir() == tmp_path / "output"


def test_file_hasher_matches_sha256_file_and_memoises(tmp_path):
    from takingstock.io import sha256_file

    target = tmp_path / "f.txt"
    target.write_text("hello\n")
    hasher = runner.FileHasher(tmp_path / "memo.json")
    assert hasher.hash(target) == sha256_file(target)
    hasher.save()
    again = runner.FileHasher(tmp_path / "memo.json")
    assert again.memo[str(target)][2] == sha256_file(target) and not again.dirty


def test_a_stale_failed_copy_is_removed_before_a_run(project, monkeypatch):
    import papermill

    def no_kernel(*args, **kwargs):
        raise RuntimeError("kernel died before writing anything")

    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    stale = project / "output" / "notebooks" / "failed" / "c_other.ipynb"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    states, text = run(project, [C])
    assert states == {"c": "failed"}
    assert "no partial notebook was written" in text
    assert not stale.exists()
