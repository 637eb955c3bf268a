"""Fixtures for provisioning tests (helpers live in ``_prov_helpers``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _prov_helpers import ENV  # noqa: E402


@pytest.fixture(scope="module")
def secrets_env() -> Iterator[None]:
    """Export the test passwords for the whole module (restored afterwards)."""
    mp = pytest.MonkeyPatch()
    for key, value in ENV.items():
        mp.setenv(key, value)
    yield
    mp.undo()
