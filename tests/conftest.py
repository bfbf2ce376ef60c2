"""Shared pytest fixtures. Engineers append fixtures here; never remove another's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from takingstock.core import paths


# The reasons a test skips for want of real SIPRI data; pytest_terminal_summary counts them.
NO_EXPORT = "no real SIPRI export"
NOT_NAMED = "the real SIPRI export it names is not in"


def _shown(folder: Path) -> str:
    """``folder`` relative to the project (``../shared/data/sipri``, ``data/raw/sipri``)."""
    return os.path.relpath(folder, paths.ROOT)


def real_sipri_dir() -> Path | None:
    """The folder of real SIPRI exports: ``../shared/data/sipri`` (CI), else a user's own
    exports in ``data/raw/sipri/``; None when neither holds a CSV."""
    for folder in (paths.SHARED_SIPRI, paths.SIPRI_RAW):
        if folder.is_dir() and any(folder.glob("*.csv")):
            return folder
    return None


class OwnExports(type(Path())):
    """A user's ``data/raw/sipri/``: an export a test names that is not there skips the test
    (their files need not be the releases the tests were written on)."""

    def __truediv__(self, name):
        path = super().__truediv__(name)
        if not path.exists() and not any(c in str(name) for c in "*?["):  # a glob pattern is the caller's
            pytest.skip(f"{NOT_NAMED} {_shown(self)}: {name}")
        return path


@pytest.fixture(scope="session")
def shared_sipri_dir():
    """The real SIPRI exports (:func:`real_sipri_dir`); the test skips when there are none."""
    folder = real_sipri_dir()
    if folder is None:
        pytest.skip(f"{NO_EXPORT} at {_shown(paths.SHARED_SIPRI)} or {_shown(paths.SIPRI_RAW)}")
    return folder if folder == paths.SHARED_SIPRI else OwnExports(folder)


def _tests(n: int) -> str:
    return f"{n} test" if n == 1 else f"{n} tests"


def pytest_terminal_summary(terminalreporter):
    """Say how many tests skipped for want of real SIPRI data, and where it would be found."""
    reasons = [str(r.longrepr[2]) for r in terminalreporter.stats.get("skipped", [])
               if isinstance(r.longrepr, tuple) and len(r.longrepr) == 3]
    missing = sum(NO_EXPORT in reason for reason in reasons)
    unnamed = sum(NOT_NAMED in reason for reason in reasons)
    if missing:
        terminalreporter.write_line(
            f"{_tests(missing)} skipped: {NO_EXPORT} at {_shown(paths.SHARED_SIPRI)} or {_shown(paths.SIPRI_RAW)} "
            f"(get one with: python pipeline.py fetch-sipri)", yellow=True)
    if unnamed:
        terminalreporter.write_line(
            f"{_tests(unnamed)} skipped: {NOT_NAMED} {_shown(paths.SIPRI_RAW)} (they were written on the "
            f"releases in {_shown(paths.SHARED_SIPRI)})", yellow=True)


@pytest.fixture(scope="session")
def built_report():
    """Run ``pipeline.py`` once per test session into the real ``output/`` folder.

    Returns ``paths.OUTPUT``. Skips when ``pipeline.py`` is missing; fails with the pipeline's
    own output when it exits non-zero. Shared by the runner and publish tests (reuse it: it
    must not run twice in one session).
    """
    import subprocess
    import sys

    script = paths.ROOT / "pipeline.py"
    if not script.is_file():
        pytest.skip(f"{script} not found")
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=str(paths.ROOT), capture_output=True, text=True,
        timeout=1200,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"pipeline.py exited {proc.returncode}\n--- stdout ---\n{proc.stdout[-4000:]}"
            f"\n--- stderr ---\n{proc.stderr[-4000:]}"
        )
    return paths.OUTPUT


@pytest.fixture(scope="session")
def processed_dir(tmp_path_factory):
    """The committed catalogues cleaned into a temporary processed folder (shared by the claims
    and follow-up tests)."""
    from takingstock.data import cleaning

    result = cleaning.clean_catalogues(str(paths.RAW / "catalogue_*.csv"), sources=paths.RAW / "sources.csv")
    proc = tmp_path_factory.mktemp("processed")
    cleaning.write_outputs(result, proc)
    return proc
