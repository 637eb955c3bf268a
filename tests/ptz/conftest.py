"""Fixtures: the shared virtual-camera fixtures of tests/conftest.py, with a fast PTZ head."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def vcam(vcam_factory: Any) -> Any:
    # fast head: the whole pan range in 0.2 s, so moves finish quickly
    return vcam_factory(ptz_node={"pan_tilt_speed": 10.0, "zoom_speed": 5.0})
