"""What the terminal says: set-up announces each install and its time; a test run counts the
tests skipped for want of real SIPRI data; the real-export tests use a user's own exports in
``data/raw/sipri/`` when ``../shared/data/sipri`` is absent."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from takingstock.core import paths

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
