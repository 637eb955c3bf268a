"""Fixtures for the virtual-camera tests (helpers live in ``_sim_zeep``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _sim_zeep import MEDIA_BINDING, PASSWORD, zeep_service  # noqa: E402

from kedirivms.sim import VirtualCamera, VirtualCameraConfig  # noqa: E402


@pytest.fixture
def camera() -> Iterator[VirtualCamera]:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD)) as cam:
        yield cam


@pytest.fixture
def device(camera: VirtualCamera) -> Any:
    return zeep_service(camera.device_url)


@pytest.fixture
def media(camera: VirtualCamera) -> Any:
    return zeep_service(camera.media_url, MEDIA_BINDING)
