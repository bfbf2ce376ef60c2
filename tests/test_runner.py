"""The runner on tiny fixture notebooks (tests/fixtures/notebooks), in a throw-away project.

Steps: a (numbers.csv -> processed/total.txt), b (needs a), c (other.txt, independent),
d (needs a, divides by zero in its fourth cell), e (counts the deals of its recipients in the
SIPRI export at hand and writes a summary under its run's stem; declares markers and
``variant``, so it can run as a grid). The fixture notebooks name a kernel that does not
exist, so every run here also shows the runner ignores notebook kernel metadata.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from takingstock import runner
from takingstock.runner import Config, ParameterError, Pipeline, Step
from takingstock.runner.cache import FileHasher

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
REGISTER = Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv"

A = Step("a", "notebooks/a_total.ipynb", inputs=("{raw_dir}/numbers.csv",),
         outputs=("{processed_dir}/total.txt",))
B = Step("b", "notebooks/b_report.ipynb", needs=("a",), inputs=("{processed_dir}/total.txt",),
         outputs=("{output_dir}/b.txt",))
C = Step("c", "notebooks/c_other.ipynb", inputs=("{raw_dir}/other.txt",), outputs=("{output_dir}/c.txt",))
D = Step("d", "notebooks/d_fails.ipynb", needs=("a",), inputs=("{processed_dir}/total.txt",))
E = Step("e", "notebooks/e_recipient.ipynb", inputs=("{sipri}",), outputs=("{output_dir}/summaries/{stem}.json",))


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
    (raw / "sipri").mkdir()
    shutil.copy(REGISTER, raw / "sipri" / REGISTER.name)
    return tmp_path


def run(root, steps, **kwargs):
    """Run ``steps`` under ``root``; return ({step: state}, printed text)."""
    out = io.StringIO()
    config = Config(root=root, progress=False, **kwargs)
    results = Pipeline(steps, config, out=out).run()
    print(out.getvalue())  # shown by pytest when the test fails
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


def test_markers_declare_paths_vocabularies_bounds_and_names():
    params = runner.notebook_parameters(FIXTURES / "e_recipient.ipynb")
    assert params["sipri_register"].kind == "path" and params["sipri_register"].help.startswith("one SIPRI")
    assert params["basis"].choices == ("delivery", "order", "either")
    assert params["top_n"].bounds == (("min", 1.0),)
    assert (params["year_from"].bounds, params["year_from"].exempt) == ((("min", 1900.0),), 0)
    assert params["recipients"].recipient and not params["basis"].recipient
    assert not params["variant"].kind and params["variant"].help == "the run's name in a grid (empty outside one)"


def test_an_unknown_marker_is_refused_naming_notebook_and_line():
    with pytest.raises(ParameterError, match=r"line 2 \(top_n\): unknown marker \(at least 1\)"):
        runner.notebook_parameters(_notebook('a = 1\ntop_n = 10  # (at least 1) shown\n'))
    assert runner.notebook_parameters(_notebook('n = 1  # (min 0, max 9) digit\n'))["n"].bounds == (
        ("min", 0.0), ("max", 9.0))


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
    # the close name, in words, and where every parameter is listed; not every step's parameters
    assert text.splitlines()[2:] == ["close to 'factr':", "    factor (a whole number; default 2; step a)",
                                     "every step's parameters: python pipeline.py list"]
    assert "fold_successors" not in text
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
    assert config.params == {"raw_dir": "mine/raw"}
    assert config.step_params == {"a": {"factor": 5}, "c": {"fold_successors": True}}
    declared = {s.name: runner.notebook_parameters(project / s.notebook) for s in (A, C)}
    resolved = runner.resolve_parameters([A, C], config, declared)
    assert resolved["a"]["raw_dir"] == resolved["c"]["raw_dir"] == str(other / "mine" / "raw")
    assert resolved["a"]["factor"] == 5 and resolved["c"]["fold_successors"] is True


def test_source_cell_number_accounts_for_the_injected_cell():
    nb = FIXTURES / "d_fails.ipynb"  # md, parameters, code, code
    assert runner.source_cell_number(nb, 4, injected=True) == 4
    assert runner.source_cell_number(nb, 2, injected=True) == 0
    assert runner.source_cell_number(nb, 3, injected=False) == 4


def test_main_exits_2_on_a_bad_parameter(project, capsys):
    code = runner.main(["-p", "nope", "1"], [A], root=project)
    assert code == 2
    assert "unknown parameter 'nope'" in capsys.readouterr().err


def test_subcommands_hand_over_to_their_module(monkeypatch):
    import takingstock.analysis.claims
    import takingstock.data.fetch

    seen = []
    monkeypatch.setattr(takingstock.analysis.claims, "check_main", lambda argv: seen.append(("claims", argv)) or 1)
    monkeypatch.setattr(takingstock.data.fetch, "main", lambda argv: seen.append(("fetch", argv)) or 0)
    assert runner.main(["check-claims", "--strict"], [A]) == 1
    assert runner.main(["fetch-sipri", "--out", "x"], [A]) == 0
    assert seen == [("claims", ["--strict"]), ("fetch", ["--out", "x"])]


def test_a_missing_notebook_is_refused_before_anything_runs(project, capsys):
    ghost = Step("ghost", "notebooks/not_there.ipynb")
    assert runner.main(["--no-progress"], [ghost, C], root=project) == 2
    assert "step 'ghost': no notebook notebooks/not_there.ipynb" in capsys.readouterr().err
    assert not (project / "output").exists()


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
            # a kernel started fresh runs ipykernel; a forked one (the default) runs as a child
            # of the fork server, beside its stand-in kernel_proxy.py: all must end
            kernels = [c for c in psutil.Process(proc.pid).children(recursive=True)
                       if any(k in " ".join(c.cmdline()) for k in ("ipykernel", "forkserver", "kernel_proxy"))]
        assert kernels, "the kernel never started"
        time.sleep(2)  # let it reach the sleeping cell
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)  # the cell would sleep 120 s: no answer here fails
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == runner.EXIT_INTERRUPTED, out
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


def test_templates_are_filled_from_the_run_context(project):
    elsewhere = project / "elsewhere"
    (elsewhere / "sipri").mkdir(parents=True)
    (elsewhere / "sipri" / "b.csv").write_text("x\n")
    (elsewhere / "sipri" / "a.csv").write_text("x\n")
    pipe = Pipeline([A, E], Config(root=project, params={"raw_dir": str(elsewhere)}))
    task = pipe.plan.task_named("e")
    assert task.context.raw_dir == elsewhere
    assert task.fmt["sipri"] == [str(elsewhere / "sipri" / "a.csv"), str(elsewhere / "sipri" / "b.csv")]
    assert task.fmt["crosswalk"] == str(elsewhere / "country_crosswalk.csv")
    assert task.fmt["stem"] == "e_recipient" and task.executed == project / "output" / "notebooks" / "e_recipient.ipynb"
    assert pipe.plan.output_dir == project / "output"
    given = Pipeline([E], Config(root=project, params={"sipri_register": str(REGISTER)})).plan.task_named("e")
    assert given.fmt["sipri"] == [str(REGISTER)]


def test_file_hasher_matches_sha256_file_and_memoises(tmp_path):
    from takingstock.core.atomic import sha256_file

    target = tmp_path / "f.txt"
    target.write_text("hello\n")
    hasher = FileHasher(tmp_path / "memo.json")
    assert hasher.hash(target) == sha256_file(target)
    hasher.save()
    again = FileHasher(tmp_path / "memo.json")
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


# ------------------------------------------------- values checked before any kernel (fast)


def _refused(project, argv, steps=(E,)):
    """Run main with ``argv``; return stderr after asserting exit 2 and that nothing ran."""
    import contextlib
    import io as _io

    err = _io.StringIO()
    with contextlib.redirect_stderr(err):
        code = runner.main(["--no-progress", *argv], list(steps), root=project)
    assert code == 2, err.getvalue()
    assert not (project / "output" / "notebooks").exists()
    return err.getvalue()


@pytest.mark.parametrize("argv, expected", [
    (["-p", "e.basis", "deliveries"], "parameter 'basis' of step 'e': 'deliveries' is not one of: delivery, order, either"),
    (["-p", "top_n", "0"], "parameter 'top_n' of step 'e': 0 is below the minimum 1 (allowed: a whole number, at least 1)"),
    (["-p", "year_to", "2200"], "parameter 'year_to' of step 'e': 2200 is above the maximum 2100"),
    (["-p", "e.year_from", "2000", "-p", "e.year_to", "1990"],
     "parameters year_from and year_to of step 'e': year_from 2000 is after year_to 1990"),
    (["-p", "year_from", "2030"], "year_from 2030 is after year_to 2025"),  # against the default
    (["-p", "e.recipients", "[Narnia]"], "parameter 'recipients' of step 'e': 'Narnia' is not a recipient in "
                                         "invented_register.csv; no known name is close"),
    (["-p", "e.recipients", "[Irak, Iran]"], "'Irak' is not a recipient in invented_register.csv; closest: Iraq"),
    (["-p", "e.recipients", "[]"], "parameter 'recipients' of step 'e': expected at least one name"),
    (["-p", "sipri_register", "no/such.csv"], "step 'e': sipri_register: no file at "),
])
def test_bad_values_exit_2_naming_the_parameter_and_what_is_allowed(project, argv, expected):
    assert expected in _refused(project, argv)


def test_good_values_pass_and_the_no_bound_value_skips_the_checks(project):
    config = runner.parse_run_args(["-p", "year_from", "2000", "-p", "year_to", "0", "-p", "e.recipients",
                                    "[Iraq, Syria rebels*]", "-p", "basis", "order"], [E], root=project)
    task = Pipeline([E], config).plan.task_named("e")
    assert (task.params["year_from"], task.params["year_to"], task.params["basis"]) == (2000, 0, "order")
    assert task.params["recipients"] == ["Iraq", "Syria rebels*"]


def test_name_checks_of_a_single_name():
    from takingstock.runner.names import name_problems

    assert name_problems("", REGISTER, None) == []  # left empty: no comparison
    assert name_problems("Iran", REGISTER, None) == []
    assert name_problems("iran", REGISTER, None) == ["'iran' is not a recipient in invented_register.csv; closest: Iran, Iraq"]
    assert name_problems([3], REGISTER, None) == ["3 is not a name"]


def test_recipient_names_also_come_from_the_crosswalk_states(project):
    from takingstock.core import paths

    shutil.copy(paths.RAW / "country_crosswalk.csv", project / "data" / "raw" / "country_crosswalk.csv")
    config = runner.parse_run_args(["-p", "e.recipients", "[Yemen]"], [E], root=project)
    assert Pipeline([E], config).plan.task_named("e").params["recipients"] == ["Yemen"]  # a state, no deal
    text = _refused(project, ["-p", "e.recipients", "[Yemenn]"])
    assert "'Yemenn' is not a recipient in invented_register.csv or a state of country_crosswalk.csv; " \
           "closest: Yemen" in text


def test_checking_names_reads_no_deals_and_imports_no_pandas(project):
    import subprocess
    import sys

    probe = ("import sys\nfrom pathlib import Path\nfrom takingstock.runner import Config, Plan, Step\n"
             f"plan = Plan([Step('e', 'notebooks/e_recipient.ipynb')], Config(root=Path({str(project)!r}), "
             "step_params={'e': {'recipients': ['Iraq']}}))\n"
             "print(plan.tasks[0].params['recipients'], 'pandas' in sys.modules, 'papermill' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["['Iraq']", "False", "False"]


def test_static_figures_is_false_for_notebooks_that_declare_it(project):
    nb = json.loads((project / "notebooks" / "c_other.ipynb").read_text())
    nb["cells"][1]["source"] = ["raw_dir = \"data/raw\"\n", "output_dir = \"output\"\n",
                                "fold_successors = False\n", "static_figures = True  # draw SVG and PNG\n"]
    (project / "notebooks" / "c_other.ipynb").write_text(json.dumps(nb))
    plan = Pipeline([A, C], Config(root=project)).plan
    assert plan.task_named("c").params["static_figures"] is False
    assert "static_figures" not in plan.task_named("a").params
    plan = Pipeline([A, C], Config(root=project, params={"static_figures": True})).plan
    assert plan.task_named("c").params["static_figures"] is True  # the user may still ask for them


def test_a_pipeline_is_whole_before_it_runs(project):
    pipe = Pipeline([A, B], Config(root=project))
    task = pipe.plan.task_named("a")
    key = pipe.cache_key(task)
    assert len(key) == 64 and key == pipe.cache_key(task)
    assert pipe.is_fresh(task) is False  # never ran
    assert [t.name for t in pipe.plan.tasks] == ["a", "b"]


# ---------------------------------------------------------------------- grid (fast)


def test_grid_option_and_slugs():
    from takingstock.runner import grid

    assert grid.parse_grid_option("supply.recipients=Iraq,Syria, Yemen") == ("supply.recipients", ["Iraq", "Syria", "Yemen"])
    assert grid.parse_grid_option("top_n=5,10") == ("top_n", [5, 10])
    assert grid.parse_grid_option("e.recipients=[Korea, South, Syria rebels*]")[1] == ["Korea", "South", "Syria rebels*"]
    assert [grid.slug(v) for v in ("Yemen", "Syria rebels*", "Côte d'Ivoire", "Kurdistan Regional Government (Iraq)*")] \
        == ["yemen", "syria-rebels", "cote-d-ivoire", "kurdistan-regional-government-iraq"]
    with pytest.raises(ParameterError, match="expected STEP.NAME=V1,V2"):
        grid.parse_grid_option("supply.recipients")


def test_a_grid_makes_one_task_per_value_and_dependants_wait_for_all(project):
    after = Step("after", "notebooks/b_report.ipynb", needs=("e",))
    config = runner.parse_run_args(["--grid", "e.recipients=Iraq,Iran"], [E, after], root=project)
    plan = Pipeline([E, after], config).plan
    assert [t.name for t in plan.tasks] == ["e[iraq]", "e[iran]", "after"]
    iran = plan.task_named("e[iran]")
    assert (iran.params["recipients"], iran.params["variant"]) == (["Iran"], "iran")
    assert iran.executed == project / "output" / "notebooks" / "e_recipient__iran.ipynb"
    assert iran.fmt["stem"] == "e_recipient__iran" and iran.context.stem("e_recipient") == "e_recipient__iran"
    assert [t.name for t in plan.by_step["e"]] == ["e[iraq]", "e[iran]"]


def test_a_grid_from_a_params_file(project, tmp_path_factory):
    conf = tmp_path_factory.mktemp("conf")
    (conf / "run.yaml").write_text("grid:\n  e.recipients: [Iraq, Iran]\n  e:\n    basis: [order]\n")
    with pytest.raises(ParameterError, match="step 'e' has more than one grid parameter"):
        Pipeline([E], runner.parse_run_args(["--params", str(conf / "run.yaml")], [E], root=project))
    (conf / "run.yaml").write_text("grid:\n  e:\n    basis: [order, either]\n")
    plan = Pipeline([E], runner.parse_run_args(["--params", str(conf / "run.yaml")], [E], root=project)).plan
    assert [(t.name, t.params["basis"]) for t in plan.tasks] == [("e[order]", "order"), ("e[either]", "either")]


@pytest.mark.parametrize("grid, expected", [
    ("e.recipients=Iraq,Narnia", "'Narnia' is not a recipient in invented_register.csv"),
    ("e.basis=order,sometimes", "'sometimes' is not one of: delivery, order, either"),
    ("e.top_n=3,zero", "--grid e.top_n: expected int like the default 10, got str 'zero'"),
    ("a.factor=2,3", "notebooks/a_total.ipynb declares no 'variant' parameter"),
    ("e.nope=1,2", "notebooks/e_recipient.ipynb declares no parameter 'nope'"),
    ("ghost.x=1", "--grid ghost.x: no step 'ghost'"),
    ("e.recipients=Syria rebels*,Syria rebels", "give the same or an empty run name ['syria-rebels']"),
])
def test_bad_grids_exit_2(project, grid, expected):
    assert expected in _refused(project, ["--grid", grid], steps=(A, E))


# ---------------------------------------------------------------------- grid (slow)


@pytest.fixture()
def grid_report(project, shared_sipri_dir):
    """The fixture notebook e run as a grid over Iraq, Syria and Yemen on the real 2026 register,
    then the real publish step; returns the output folder."""
    import importlib.util

    from takingstock.core import paths

    spec = importlib.util.spec_from_file_location("_pipeline_for_runner_tests", paths.ROOT / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    real = next(s for s in module.STEPS if s.name == "publish")
    publish = Step("publish", None, needs=("e",), inputs=real.inputs, outputs=real.outputs, func=real.func)
    (project / "data" / "raw" / "sipri" / REGISTER.name).unlink()
    shutil.copy(shared_sipri_dir / "sipri_trade_register_all_2026-05-18_alexarui.csv", project / "data" / "raw" / "sipri")
    shutil.copy(paths.RAW / "country_crosswalk.csv", project / "data" / "raw")
    shutil.copy(paths.RAW / "sources.csv", project / "data" / "raw")
    code = runner.main(["--no-progress", "--grid", "e.recipients=Iraq,Syria,Yemen"], [E, publish], root=project)
    assert code == 0
    return project / "output"


@pytest.mark.slow
def test_a_grid_run_writes_a_notebook_summary_and_briefing_per_value(grid_report):
    counts = {}
    for slug, name in (("iraq", "Iraq"), ("syria", "Syria"), ("yemen", "Yemen")):
        executed = json.loads((grid_report / "notebooks" / f"e_recipient__{slug}.ipynb").read_text())
        assert executed["metadata"]["papermill"]["parameters"]["recipients"] == [name]
        summary = json.loads((grid_report / "summaries" / f"e_recipient__{slug}.json").read_text())
        assert summary["title"] == f"Deals to {name}"
        counts[name] = int(summary["headlines"][0]["value"])
        assert (grid_report / "briefings" / f"e_recipient__{slug}.html").is_file()
    assert not (grid_report / "notebooks" / "e_recipient.ipynb").exists()
    index = (grid_report / "briefings" / "index.html").read_text(encoding="utf-8")
    assert [index.index(f'href="e_recipient__{s}.html"') for s in ("iraq", "syria", "yemen")] == sorted(
        index.index(f'href="e_recipient__{s}.html"') for s in ("iraq", "syria", "yemen"))
    assert all(f"Deals to {n}" in index for n in counts)
    # each run counted its own recipient's deals in the 2026 register (Iraq has the most)
    assert counts["Iraq"] > counts["Syria"] > 0 and counts["Yemen"] > 0 and len(set(counts.values())) == 3


def test_the_light_register_reader_agrees_with_the_sipri_module_on_the_header():
    from takingstock.data import sipri_format
    from takingstock.runner import names

    assert names.HEADER_START == sipri_format.HEADER_START
    assert names.register_recipients(REGISTER) == {"Iran", "Iraq", "Syria rebels*"}


@pytest.mark.slow
@pytest.mark.parametrize("export", ["sipri_trade_register_all_2026-05-18_alexarui.csv", "sipri_trade_register_iraq.csv"])
def test_the_light_register_reader_finds_every_recipient_sipri_reads(shared_sipri_dir, export):
    from takingstock.data import sipri
    from takingstock.runner import names

    light = names.register_recipients(shared_sipri_dir / export)
    assert light == set(sipri.read_register(shared_sipri_dir / export).deals["recipient"])
    assert {"Iraq", "Syria", "Yemen"} <= light or export.endswith("iraq.csv")


def test_early_calls_follow_each_needed_task_and_come_before_the_step(project):
    """A function step's ``early`` runs for every needed task that ran, as soon as it is done,
    with that task's context; the step's own function waits for them; skipped tasks get none."""
    calls = []

    def early(ctx):
        calls.append(("early", ctx.step.name, ctx.context.raw_dir == (project / "data" / "raw").resolve()))

    def late(ctx):
        calls.append(("func", ctx.step.name))

    F = Step("f", None, needs=("a", "c"), func=late, early=early)
    states, _ = run(project, [A, C, F])
    assert states == {"a": "ran", "c": "ran", "f": "ran"}
    assert sorted(calls[:2]) == [("early", "a", True), ("early", "c", True)] and calls[2:] == [("func", "f")]

    calls.clear()
    states, _ = run(project, [A, C, F])
    assert states == {"a": "skipped", "c": "skipped", "f": "skipped"} and calls == []

    (project / "data" / "raw" / "other.txt").write_text("changed\n")
    states, _ = run(project, [A, C, F])
    assert states == {"a": "skipped", "c": "ran", "f": "ran"}
    assert calls == [("early", "c", True), ("func", "f")]


def test_a_failing_early_call_is_reported_and_the_step_still_runs(project):
    def early(ctx):
        raise RuntimeError("no browser today")

    calls = []
    F = Step("f", None, needs=("c",), func=lambda ctx: calls.append("func"), early=early)
    states, text = run(project, [C, F])
    assert states == {"c": "ran", "f": "ran"} and calls == ["func"]
    assert "[warn ] step 'f', early call after 'c': RuntimeError: no browser today" in text


def _recorder():
    """``(calls, note)``: ``note(*what)`` appends ``what`` to ``calls``, from any thread."""
    import threading

    lock = threading.Lock()
    calls: list[tuple] = []

    def note(*what):
        with lock:
            calls.append(what)
    return calls, note


def test_prepare_runs_once_early_calls_follow_the_steps_they_need_and_cleanups_run_at_the_end(project):
    """``prepare`` runs once, after the first needed task, with the step's own context; its
    cleanup runs when the run ends. G's early call for a task waits for F's for the same task
    (F is slow), so G always sees F's work; the steps' functions come last."""
    import time

    calls, note = _recorder()

    def prepare_g(ctx):
        note("prepare", ctx.step.name)
        return lambda: note("cleanup", "g")

    def early_f(ctx):
        time.sleep(0.3)
        note("early-f", ctx.step.name)

    def early_g(ctx):
        note("early-g", ctx.step.name, ("early-f", ctx.step.name) in calls,
             [p.name for p in ctx.executed_notebooks])

    F = Step("f", None, needs=("a", "c"), func=lambda ctx: note("func", "f"), early=early_f)
    G = Step("g", None, needs=("a", "c", "f"), func=lambda ctx: note("func", "g"), early=early_g,
             prepare=prepare_g)
    states, _ = run(project, [A, C, F, G])
    assert states == {"a": "ran", "c": "ran", "f": "ran", "g": "ran"}
    assert calls.count(("prepare", "g")) == 1 and calls.index(("prepare", "g")) < calls.index(("func", "g"))
    got = {c[1]: c for c in calls if c[0] == "early-g"}
    assert got["a"] == ("early-g", "a", True, ["a_total.ipynb"])  # after F's early call for a
    assert got["c"] == ("early-g", "c", True, ["c_other.ipynb"])
    assert got["f"] == ("early-g", "f", False, [])  # a function task: no notebook, F has no early for itself
    assert calls[-1] == ("cleanup", "g") and calls.index(("func", "f")) < calls.index(("func", "g"))

    calls.clear()
    states, _ = run(project, [A, C, F, G])  # nothing to do: nothing prepared
    assert set(states.values()) == {"skipped"} and calls == []


@pytest.mark.parametrize("source", [
    'x = "a\x0cb"  # (one of: a) c\ny = [1,\r\n 2]\n',
    'x = {"é": [1,\n  2]}  # ü\ny = "ß"',
    'a = (1,\r 2,\n 3)\n',
])
def test_parameter_defaults_keep_their_exact_source_text(source):
    """Each default's text is what ast.get_source_segment gives (non-ASCII, CR, CRLF, several lines)."""
    import ast

    from takingstock.runner import cells

    lines = cells._CODE_LINE.findall(source)
    nodes = [n for n in ast.walk(ast.parse(source)) if getattr(n, "end_col_offset", None) is not None]
    assert nodes
    assert [cells._segment(lines, n) for n in nodes] == [ast.get_source_segment(source, n) for n in nodes]


def _together(n):
    """``n`` function-step bodies that each record whether all ``n`` ran at the same time."""
    import threading

    barrier = threading.Barrier(n, timeout=3)
    seen = []

    def body(ctx):
        try:
            barrier.wait()
            seen.append((ctx.step.name, "together"))
        except threading.BrokenBarrierError:
            seen.append((ctx.step.name, "alone"))
    return body, seen


def test_steps_holding_a_large_file_run_one_at_a_time_and_small_ones_side_by_side(project):
    """``Step.holds``: two steps that load the same file whole run side by side while it is
    small, and one after the other once it weighs more than ``large_file_mb``."""
    big = project / "data" / "raw" / "catalogue.bin"
    big.write_bytes(b"x" * 200_000)
    body, seen = _together(2)
    H1 = Step("h1", None, inputs=("{raw_dir}/catalogue.bin",), holds=("{raw_dir}/catalogue.bin",), func=body)
    H2 = Step("h2", None, inputs=("{raw_dir}/catalogue.bin",), holds=("{raw_dir}/catalogue.bin",), func=body)
    states, _ = run(project, [H1, H2], large_file_mb=1.0)  # 0.2 MB: small
    assert states == {"h1": "ran", "h2": "ran"} and sorted(seen) == [("h1", "together"), ("h2", "together")]

    seen.clear()
    states, _ = run(project, [H1, H2], large_file_mb=0.1, force=True)  # 0.2 MB: large
    assert states == {"h1": "ran", "h2": "ran"}
    assert sorted(seen) == [("h1", "alone"), ("h2", "alone")]  # the second began after the first ended


def test_a_head_start_waits_while_a_step_upstream_still_runs(project):
    """A function step's early (and prepare) calls for a finished task wait while a step that
    its other needs need is still running (a slow step 01 before a large catalogue's notebooks)."""
    import threading

    calls, note = _recorder()
    early_p_called = threading.Event()

    def slow(ctx):
        # u runs until P's head start for x has happened (or 20 s): no sleep to race a loaded
        # machine; a scheduler that held P's call while u runs makes this wait time out
        early_p_called.wait(timeout=20)
        note("u done")

    def early(ctx):
        note("early", ctx.step.name)

    def prepare(ctx):
        note("prepare")

    U = Step("u", None, func=slow)
    X = Step("x", None, func=lambda ctx: note("x done"))
    Y = Step("y", None, needs=("u",), func=lambda ctx: note("y done"))
    def early_p(ctx):
        note("early p", ctx.step.name)
        early_p_called.set()

    F = Step("f", None, needs=("x", "y"), func=lambda ctx: note("f done"), early=early, prepare=prepare)
    # P needs u itself: u running is no reason to hold P's call for x
    P = Step("p", None, needs=("x", "u"), func=lambda ctx: note("p done"), early=early_p)
    states, _ = run(project, [U, X, Y, F, P])
    assert set(states.values()) == {"ran"}
    assert calls.index(("x done",)) < calls.index(("u done",)) < calls.index(("prepare",))
    assert calls.index(("u done",)) < calls.index(("early", "x")) < calls.index(("f done",))
    assert calls.index(("early p", "x")) < calls.index(("u done",))


# ------------------------------------------------------- faults and hostile input (issue 22)

import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _main(project, argv, capsys):
    code = runner.main(["--no-progress", *argv], [A, B], root=project)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _hold_lock(folder: Path) -> subprocess.Popen:
    """Another process holding ``folder``'s run lock until its stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom takingstock.runner.lock import RunLock\n"
         f"lock = RunLock([{str(folder)!r}]); lock.acquire(); print('held', flush=True)\n"
         "sys.stdin.read(); lock.release()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_on_the_same_output_folder_stops_with_exit_2_naming_the_holder(project, capsys):
    holder = _hold_lock(project / "output")
    try:
        code, out, err = _main(project, [], capsys)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert code == runner.EXIT_USAGE
    assert f"another run is using {project / 'output'}: pid {holder.pid} on " in err
    assert "--wait SECONDS" in err
    assert not (project / "output" / "notebooks").exists()  # nothing ran
    # once it is gone, a run goes ahead; with --wait, a run waits for the holder
    holder = _hold_lock(project / "output")
    threading_timer = __import__("threading").Timer(1.0, holder.stdin.close)
    threading_timer.start()
    try:
        code, out, err = _main(project, ["--wait", "60"], capsys)
    finally:
        threading_timer.join()
        holder.wait(timeout=30)
    assert code == runner.EXIT_OK, err
    assert (project / "output" / "b.txt").read_text() == "report 20"
    assert not (project / "output" / ".run.lock.json").exists()  # the holder note goes with the lock


def test_an_output_changed_by_hand_makes_its_producer_stale_and_the_run_says_so(project):
    states, _ = run(project, [A, B])
    assert states == {"a": "ran", "b": "ran"}
    total = project / "data" / "processed" / "total.txt"
    total.write_text("10492")  # edited outside the runner
    states, text = run(project, [A, B], only=("b",))
    assert states == {"a": "ran", "b": "ran"}
    assert f"[stale] a: its outputs were changed or removed since it ran ({total} (changed))" in text
    assert total.read_text() == "20"
    assert (project / "output" / "b.txt").read_text() == "report 20"
    # and the executed notebook counts too
    executed = project / "output" / "notebooks" / "a_total.ipynb"
    executed.write_text(executed.read_text().replace('"20"', '"21"') + " ")
    states, text = run(project, [A, B])
    assert states == {"a": "ran", "b": "ran"}
    assert f"{executed} (changed)" in text


def test_a_yaml_alias_bomb_is_refused_at_once_with_a_short_message(project, tmp_path_factory, capsys):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi"))
    params = tmp_path_factory.mktemp("p") / "bomb.yml"
    params.write_text(bomb)
    code, out, err = _main(project, ["--params", str(params)], capsys)
    assert code == runner.EXIT_USAGE
    assert "aliases (*name) are not accepted in parameters" in err and str(params) in err
    assert len(err) < 1000
    code, out, err = _main(project, ["-p", "a.factor", "[&a [1, 2], *a, *a]"], capsys)
    assert code == runner.EXIT_USAGE
    assert "aliases (*name) are not accepted" in err and len(err) < 1000


def test_a_bad_value_for_one_step_lists_that_steps_parameters_in_words(project, capsys):
    code, out, err = _main(project, ["-p", "a.factor", "ten"], capsys)
    assert code == runner.EXIT_USAGE and out == ""
    assert err.splitlines() == [
        "error: parameter check failed (nothing was run):",
        "  - parameter 'factor' of step 'a': expected int like the default 2, got str 'ten'",
        "parameters of step a (notebooks/a_total.ipynb):",
        "    raw_dir (text; default data/raw, passed by the runner) - folder with numbers.csv",
        "    processed_dir (text; default data/processed, passed by the runner)",
        "    factor (a whole number; default 2)",
        "    ratio (a number; default 0.5)",
        "    label (text; default total)",
        "    columns (a list; default [n])",
        "    note (any value; default none)",
    ]  # step b's parameters are not listed; defaults are values, not Python source


def test_a_bad_value_for_every_step_lists_that_parameter_only(project, capsys):
    code = runner.main(["--no-progress", "-p", "year_from", "1800"], [A, B, C, E], root=project)
    err = capsys.readouterr().err
    assert code == runner.EXIT_USAGE
    assert err.splitlines()[1:] == [
        "  - parameter 'year_from' of step 'e': 1800 is below the minimum 1900 (allowed: a whole number, at least 1900, or 0)",
        "year_from, as the steps that refused the value declare it:",
        "    year_from (a whole number, at least 1900, or 0; default 1950; step e) - first year of order",
    ]


def test_an_unknown_name_lists_the_close_names_and_the_listing_command(project, capsys):
    code = runner.main(["-p", "facter", "3", "-p", "zzz", "1"], [A, B, C], root=project, command="taking-stock")
    err = capsys.readouterr().err
    assert code == runner.EXIT_USAGE
    assert err.splitlines()[3:] == [
        "close to 'facter':",
        "    factor (a whole number; default 2; step a)",
        "no parameter has a name close to 'zzz'",
        "every step's parameters: taking-stock list",
    ]


def test_an_unknown_step_lists_the_step_names_only(project, capsys):
    code, out, err = _main(project, ["-p", "z.factor", "3"], capsys)
    assert code == runner.EXIT_USAGE
    assert err.splitlines() == ["error: parameter check failed (nothing was run):",
                                "  - unknown step 'z' in 'z.factor' (steps: a, b)"]


def test_parameter_messages_are_cut_to_a_sane_length(project, capsys):
    huge = "[" + ", ".join(["[1, 2, 3, 4, 5, 6, 7, 8]"] * 3000) + "]"
    code, out, err = _main(project, ["-p", "a.factor", huge], capsys)
    assert code == runner.EXIT_USAGE
    assert "parameter 'factor' of step 'a': expected int like the default 2, got list [[1, 2, 3, 4, 5, 6, ...]" in err
    assert len(err) < 3000
    many = "\n".join(f"unknown_{i}: 1" for i in range(2000))
    params = project / "many.yml"
    params.write_text(many)
    code, out, err = _main(project, ["--params", str(params)], capsys)
    assert code == runner.EXIT_USAGE
    assert "... and 1,970 more problems" in err and len(err) < 6000


def test_a_params_file_that_is_not_utf8_is_named_with_exit_2(project, capsys):
    params = project / "latin1.yml"
    params.write_bytes("label: Côte d'Ivoire\n".encode("utf-16"))
    code, out, err = _main(project, ["--params", str(params)], capsys)
    assert code == runner.EXIT_USAGE
    assert err.startswith(f"error: --params {params}, line 1: not UTF-8 text (byte 0xff at offset 0)")
    assert "Traceback" not in err


def test_a_20_mb_params_file_is_refused_unread(project, capsys, monkeypatch):
    params = project / "big.yml"
    params.write_text("x: 1\n" * 4_000_000)  # 20 MB
    reads = []
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or b"")
    code, out, err = _main(project, ["--params", str(params)], capsys)
    assert code == runner.EXIT_USAGE
    assert err.strip() == f"error: --params {params}: 20.0 MB; a parameters file is at most 1 MB (nothing was read)"
    assert reads == []


def test_a_variant_given_directly_is_checked_like_a_grid_value(project, capsys):
    steps = [E]
    for bad in ("../../../../elsewhere/x", "Yemen", "a/b", ""):
        code = runner.main(["--no-progress", "-p", "e.variant", bad], steps, root=project)
        err = capsys.readouterr().err
        assert code == runner.EXIT_USAGE, bad
        assert "parameter 'variant' of step 'e':" in err and "is not a run name" in err
    assert not (project / "output").exists()
    assert not (project.parent / "elsewhere").exists()
    code = runner.main(["--no-progress", "-p", "e.variant", "yemen-2"], steps, root=project)
    assert code == runner.EXIT_OK
    assert (project / "output" / "notebooks" / "e_recipient__yemen-2.ipynb").exists()


def test_temporaries_an_interrupted_run_left_are_removed_at_the_next_start(project):
    run(project, [A, B])
    left = [project / "output" / ".briefings.tmp-abc123", project / "output" / "notebooks" / ".b_report.9.9.running.ipynb",
            project / "output" / ".b.txt.x1y2.tmp", project / "data" / "processed" / ".total.txt.q9.tmp"]
    left[0].mkdir()
    (left[0] / "index.html").write_text("half")
    for f in left[1:]:
        f.write_text("half")
    keep = project / "output" / "keep.tmp.txt"
    keep.write_text("mine")
    states, text = run(project, [A, B])
    assert states == {"a": "skipped", "b": "skipped"}
    assert not any(p.exists() for p in left)
    assert keep.exists()
    assert "[note ] removed 4 temporary file(s) or folder(s) an interrupted run left" in text


def _killable_run(tmp_path: Path, body: str) -> subprocess.Popen:
    """``pipeline``-like script whose one function step runs ``body`` (a child ``sleep``)."""
    script = tmp_path / "run.py"
    script.write_text(
        "import os, shutil, subprocess, sys, tempfile\nfrom pathlib import Path\n"
        "from takingstock.runner import Step, main\n"
        "def publish(ctx):\n" + "".join(f"    {line}\n" for line in body.splitlines()) +
        "sys.exit(main(['--no-progress'], [Step('publish', None, func=publish)], root=Path(sys.argv[1])))\n")
    (tmp_path / "data" / "raw").mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.slow
def test_sigterm_during_publish_is_handled_like_ctrl_c(tmp_path):
    import psutil

    proc = _killable_run(tmp_path, (
        "tmp = Path(tempfile.mkdtemp(prefix='.briefings.tmp-', dir=ctx.output_dir))\n"
        "try:\n"
        "    (tmp / 'page.html').write_text('half')\n"
        "    print('publishing', flush=True)\n"
        "    subprocess.run(['sleep', '120'])\n"
        "finally:\n"
        "    shutil.rmtree(tmp)\n"))
    try:
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list((tmp_path / "output").glob(".briefings.tmp-*")):
            time.sleep(0.1)
        while time.monotonic() < deadline and not seen:
            seen = [c for c in psutil.Process(proc.pid).children(recursive=True) if "sleep" in c.name()]
            time.sleep(0.1)
        assert seen, "the step never started its child"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == runner.EXIT_TERMINATED, out
    assert "Interrupted: stopping the kernels this run started (SIGTERM)" in out
    assert "publish   interrupted" in out
    assert not list((tmp_path / "output").glob(".briefings.tmp-*"))
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in seen)


def test_a_read_only_output_folder_gives_one_line_and_exit_1(project, capsys):
    output = project / "output"
    output.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(output), str(output)], capture_output=True).returncode == 0
    if mounted:
        mounted = subprocess.run(["mount", "-o", "remount,ro,bind", str(output)], capture_output=True).returncode == 0
    if not mounted:
        subprocess.run(["umount", str(output)], capture_output=True)
        pytest.skip("cannot make a read-only folder here (needs mount)")
    try:
        code, out, err = _main(project, [], capsys)
    finally:
        subprocess.run(["umount", str(output)], check=True)
    assert code == runner.EXIT_FAILED
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: cannot write {output / '.run.lock'}: Read-only file system")


def test_a_full_disk_is_one_line_too():
    import errno

    from takingstock.runner.cli import os_error_text

    exc = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/x/out/steps.json")
    assert os_error_text(exc) == "cannot write /x/out/steps.json: No space left on device (the disk is full)"


def test_a_check_that_refuses_a_result_fails_the_step_unless_accepted(project):
    def no_zero(ctx):
        return "step 'a': the total is 20" if (ctx.context.processed_dir / "total.txt").read_text() == "20" else None

    checked = Step("a", A.notebook, inputs=A.inputs, outputs=A.outputs, check=no_zero)
    states, text = run(project, [checked, B])
    assert states == {"a": "failed", "b": "not run"}
    assert "FAILED: step 'a': the total is 20" in text
    states, text = run(project, [checked, B], accept=("a",))
    assert states == {"a": "ran", "b": "ran"}
    assert "[warn ] step 'a': the total is 20 (accepted: --accept a)" in text
