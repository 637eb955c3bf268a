"""Fixtures: a virtual camera on loopback and a connected client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kedirivms import Camera
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

PASSWORD = "Ev3nts-s3cret-pw"


@pytest.fixture
def vcam_factory() -> Iterator[Any]:
    started: list[VirtualCamera] = []

    def factory(**overrides: Any) -> VirtualCamera:
        overrides.setdefault("password", PASSWORD)
        cam = VirtualCamera(VirtualCameraConfig(**overrides)).start()
        started.append(cam)
        return cam

    yield factory
    for cam in started:
        cam.stop()


@pytest.fixture
def connect() -> Iterator[Any]:
    opened: list[Camera] = []

    def factory(vcam: VirtualCamera, **kwargs: Any) -> Camera:
        cam = Camera(vcam.device_url, username="admin", password=PASSWORD, timeout=(2.0, 3.0), **kwargs)
        opened.append(cam)
        return cam.connect()

    yield factory
    for cam in opened:
        cam.close()


@pytest.fixture
def vcam(vcam_factory: Any) -> VirtualCamera:
    return vcam_factory()


@pytest.fixture
def camera(vcam: VirtualCamera, connect: Any) -> Camera:
    return connect(vcam)
