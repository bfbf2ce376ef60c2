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
