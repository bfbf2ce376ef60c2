"""What the terminal says: set-up announces each install and its time; a test run counts the
tests skipped for want of real SIPRI data; the real-export tests use a user's own exports in
``data/raw/sipri/`` when ``../shared/data/sipri`` is absent; a pipeline run ends with one line
per thing the user must know, read from what the steps recorded (the real notebooks' records
are checked by the slow runs of tests/test_pipeline.py and tests/test_end_to_end_own_catalogue.py)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from takingstock import pipeline_steps, runner
from takingstock.core import paths
from takingstock.core.summaries import write_summary
from takingstock.data import sipri_terms
from takingstock.runner import Step

CONFTEST = Path(__file__).with_name("conftest.py")


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_setup_says_what_it_installs_before_it_does(tmp_path):
    """``make setup``'s virtual-environment step, with a stand-in Python that only records calls."""
    log = tmp_path / "calls.log"
    venv = tmp_path / "venv"
    stand_in = f'#!/bin/sh\necho "$0 $*" >> {log}\n'
    fake = _executable(tmp_path / "python3", stand_in + (
        'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin"; '
        f"cp {tmp_path / 'venv-python'} \"$3/bin/python\"; fi\n"))
    _executable(tmp_path / "venv-python", stand_in)
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(paths.ROOT), f"PYTHON={fake}", f"VENV={venv}",
                           str(venv / ".installed")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    said = [line for line in lines if line.endswith("...") or line.startswith("Set-up done")]
    assert said == [
        f"Creating the virtual environment {venv} (a few seconds)...",
        f"Installing the pinned packages into {venv} (first time: about 5 minutes)...",
        "Installing the takingstock package (editable) and its taking-stock command...",
        f"Set-up done: {venv} is ready (make setup only reinstalls when the requirements change).",
    ]
    # each announcement comes before the command it announces
    pins = next(i for i, line in enumerate(lines) if "-r requirements.txt" in line)
    assert lines[pins - 1] == said[1]
    calls = log.read_text().splitlines()
    assert [c.split(" ", 1)[1] for c in calls] == [
        f"-m venv {venv}",
        "-m pip install --quiet --disable-pip-version-check -r requirements.txt",
        "-m pip install --quiet --disable-pip-version-check --no-deps -e .",
    ]


def _pytest_in(project: Path, tmp_path: Path, tests: str) -> subprocess.CompletedProcess:
    """Run pytest on ``tests`` with this conftest, in a project folder of its own (no ../shared)."""
    folder = tmp_path / "suite"
    folder.mkdir()
    shutil.copy(CONFTEST, folder / "conftest.py")
    (folder / "test_needs_sipri.py").write_text(tests)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", paths.PROJECT_ENV)}
    env.update(PYTHONPATH=str(paths.PACKAGE_DIR.parent), TAKINGSTOCK_PROJECT=str(project))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                           str(folder)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


TESTS = '''
def test_one(shared_sipri_dir):
    assert (shared_sipri_dir / "mine.csv").read_text() == "x\\n"

def test_two(shared_sipri_dir):
    (shared_sipri_dir / "sipri_trade_register_iraq.csv").read_text()

def test_three():
    pass
'''


def test_the_summary_counts_the_tests_skipped_for_want_of_sipri_data(tmp_path):
    project = tmp_path / "work" / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "data" / "raw" / "sipri").mkdir(parents=True)
    proc = _pytest_in(project, tmp_path, TESTS)
    assert proc.returncode == 0, proc.stdout
    assert "1 passed, 2 skipped" in proc.stdout
    assert ("2 tests skipped: no real SIPRI export at ../shared/data/sipri or data/raw/sipri "
            "(get one with: python pipeline.py fetch-sipri)") in proc.stdout.splitlines()


def test_without_shared_exports_the_users_own_are_used(tmp_path):
    project = tmp_path / "work" / "project"
    (project / "notebooks").mkdir(parents=True)
    (project / "data" / "raw" / "sipri").mkdir(parents=True)
    (project / "data" / "raw" / "sipri" / "mine.csv").write_text("x\n")
    proc = _pytest_in(project, tmp_path, TESTS)
    assert proc.returncode == 0, proc.stdout
    assert "2 passed, 1 skipped" in proc.stdout  # test_one read the user's own export
    assert ("1 test skipped: the real SIPRI export it names is not in data/raw/sipri (they were written on "
            "the releases in ../shared/data/sipri)") in proc.stdout.splitlines()
    assert "no real SIPRI export" not in proc.stdout


# ------------------------------------------------------------- the lines that end a run

CLEANING_REPORT = ("source_file,catalogue,encoding,delimiter,raw_rows,clean_rows,rejected_rows\n"
                   "catalogue_mine.csv,mine,utf-8,\",\",5,3,2\n"
                   "catalogue_other.csv,other,utf-8,\",\",10,10,0\n")
LEDGER = ("id,verdict,reason\n"
          "a,not checkable,no SIPRI register in this run.\n"
          "b,not checkable,no dataset at hand covers this claim.\n"
          "c,reproduced,within tolerance\n"
          "d,not checkable,no SIPRI register in this run.\n")
SKIPPED = ("Fewer than two SIPRI releases at hand in sipri (releases found: none): there is nothing to compare, "
           "so this step is skipped.")


def _recorder(write):
    """A function step that records what a notebook would (``write(run)``), for the notices to read."""
    return lambda ctx: write(ctx.context)


def _write_cleaning(run, rejected: bool = True):
    run.processed_dir.mkdir(parents=True, exist_ok=True)
    report = CLEANING_REPORT if rejected else CLEANING_REPORT.replace("5,3,2", "5,5,0")
    (run.processed_dir / "cleaning_report.csv").write_text(report, encoding="utf-8")


def _write_ledger(run):
    run.ledger_file.write_text(LEDGER, encoding="utf-8")


def _write_releases(run, skipped: bool = True):
    value = "fewer than two" if skipped else 12
    label = "SIPRI releases at hand" if skipped else "Deals to Iraq matched between 2025-03-13 and 2026-05-18"
    write_summary(run.summaries_dir, "06_release_changes", title="What changed",
                  summary=SKIPPED if skipped else "12 deals matched.", headlines=[{"label": label, "value": value}],
                  outputs={"tables": [], "figures": []})


def _steps(**records) -> list[Step]:
    """The steps the notices hang on, as function steps writing the records their notebooks write."""
    write = {"clean": _write_cleaning, "supply": lambda run: None, "claims": _write_ledger,
             "releases": _write_releases, **records}
    real = {s.name: s for s in pipeline_steps.STEPS}
    return [Step("clean", None, func=_recorder(write["clean"]), notice=real["clean"].notice),
            Step("supply", None, needs=("clean",), func=_recorder(write["supply"]), notice=real["supply"].notice),
            Step("claims", None, needs=("clean",), func=_recorder(write["claims"]), notice=real["claims"].notice),
            Step("releases", None, func=_recorder(write["releases"]), notice=real["releases"].notice)]


@pytest.fixture()
def small_project(tmp_path, monkeypatch):
    """A project folder with no SIPRI export; the working folder is the project."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data" / "raw" / "sipri").mkdir(parents=True)
    shutil.copy(paths.SIPRI_RAW / "README.md", tmp_path / "data" / "raw" / "sipri" / "README.md")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _notes(root: Path, steps: list[Step], capsys, *argv: str, command: str = "python pipeline.py") -> list[str]:
    assert runner.main(["--no-progress", *argv], steps, root=root, command=command) == runner.EXIT_OK
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("note: ")]


NO_SIPRI = ("note: no SIPRI export in data/raw/sipri/: 2 of 4 claims are not checkable and the supply-chain pages "
            "leave out SIPRI's deals; get one with `python pipeline.py fetch-sipri`, or put a trade register "
            "downloaded from SIPRI in data/raw/sipri/ (see data/raw/sipri/README.md)")
REJECTED = "note: 2 of 15 catalogue rows rejected: the reason for each is in data/processed/rejected.csv"
RELEASES = ("note: release comparison skipped (step releases): fewer than two SIPRI releases at hand in sipri "
            "(releases found: none): there is nothing to compare, so this step is skipped.")


def test_a_run_ends_with_a_line_per_thing_to_know_after_its_step_table(small_project, capsys):
    assert runner.main(["--no-progress"], _steps(), root=small_project) == runner.EXIT_OK
    lines = capsys.readouterr().out.rstrip().splitlines()
    rule = max(i for i, line in enumerate(lines) if line and set(line) == {"-"})
    # the step table, a blank line, then the notes (the no-SIPRI line once, though two steps say it)
    assert lines[rule + 5:] == ["", REJECTED, NO_SIPRI, RELEASES]


def test_the_lines_are_said_again_when_every_step_is_up_to_date(small_project, capsys):
    _notes(small_project, _steps(), capsys)
    assert _notes(small_project, _steps(), capsys) == [REJECTED, NO_SIPRI, RELEASES]


def test_the_rejected_rows_line_names_the_page_once_it_is_published(small_project, capsys):
    page = small_project / "output" / "briefings" / "01_clean_catalogue.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html></html>")
    assert _notes(small_project, _steps(), capsys)[0] == REJECTED + " and on the page output/briefings/01_clean_catalogue.html"


def test_nothing_to_say_prints_no_line(small_project, capsys):
    shutil.copy(Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv",
                small_project / "data" / "raw" / "sipri" / "invented_register.csv")
    steps = _steps(clean=lambda run: _write_cleaning(run, rejected=False),
                   releases=lambda run: _write_releases(run, skipped=False))
    assert runner.main(["--no-progress"], steps, root=small_project) == runner.EXIT_OK
    out = capsys.readouterr().out
    assert "note:" not in out and out.rstrip().splitlines()[-1].startswith("releases ")  # the table ends it


def test_without_a_ledger_the_sipri_line_says_only_what_is_known(small_project, capsys):
    steps = [s for s in _steps() if s.name == "supply" or s.name == "clean"]
    assert _notes(small_project, steps, capsys)[1] == NO_SIPRI.replace("2 of 4 claims are not checkable and ", "")


def test_the_lines_name_the_command_the_user_runs_and_a_folder_of_their_own(small_project, capsys, tmp_path_factory):
    from takingstock.data.runcontext import RunContext

    assert _notes(small_project, _steps(), capsys, command="taking-stock")[1] == NO_SIPRI.replace(
        "python pipeline.py", "taking-stock")
    raw = tmp_path_factory.mktemp("elsewhere") / "raw"
    (raw / "sipri").mkdir(parents=True)
    run = RunContext(raw_dir=raw, processed_dir=raw / "processed", output_dir=raw / "output")
    ctx = runner.StepContext(_steps()[1], {}, run.output_dir, [], run, root=small_project, command="taking-stock")
    assert pipeline_steps.no_sipri_export(ctx) == (
        f"no SIPRI export in {raw / 'sipri'}/: the supply-chain pages leave out SIPRI's deals; get one with "
        f"`taking-stock fetch-sipri --dest {raw / 'sipri'}`, or put a trade register downloaded from SIPRI in "
        f"{raw / 'sipri'}/ (see data/raw/sipri/README.md)")


def test_the_taking_stock_command_names_itself(small_project, capsys):
    from takingstock import command

    assert command.run(["-p", "top_m", "3"]) == runner.EXIT_USAGE
    assert capsys.readouterr().err.splitlines()[-1] == "every step's parameters: taking-stock list"


def test_the_ledger_reason_for_a_missing_export_is_the_one_the_notice_counts():
    from takingstock.analysis.claims.computations import Spec, missing_data
    from takingstock.analysis.claims.context import ClaimContext

    spec = Spec(lambda ctx, params: None, (), ("register",))
    assert missing_data(spec, ClaimContext(), {}) == sipri_terms.NO_REGISTER
