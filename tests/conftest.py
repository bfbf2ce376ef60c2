"""Shared pytest fixtures. Engineers append fixtures here; never remove another's."""

from __future__ import annotations

import pytest

from takingstock import paths


@pytest.fixture(scope="session")
def shared_sipri_dir():
    """The real SIPRI exports beside the project (CI has them); skip the test when absent."""
    if not paths.SHARED_SIPRI.is_dir():
        pytest.skip(f"real SIPRI exports not found at {paths.SHARED_SIPRI}")
    return paths.SHARED_SIPRI


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
    from takingstock import catalogue as cat

    result = cat.clean_catalogues(str(paths.RAW / "catalogue_*.csv"), sources=paths.RAW / "sources.csv")
    proc = tmp_path_factory.mktemp("processed")
    cat.write_outputs(result, proc)
    return proc
