"""Fixtures: virtual cameras on loopback (real HTTP/SOAP servers in this process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kedirivms import Camera
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

PASSWORD = "Sup3r-secret!pw"


def make_camera(vcam: VirtualCamera, **kwargs: Any) -> Camera:
    kwargs.setdefault("username", "admin")
    kwargs.setdefault("password", PASSWORD)
    kwargs.setdefault("timeout", (2.0, 3.0))
    return Camera(vcam.device_url, **kwargs)


@pytest.fixture
def connect() -> Any:
    """``connect(vcam, **kwargs)`` builds a Camera for a virtual camera with the test credentials."""
    return make_camera


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
def vcam(vcam_factory: Any) -> VirtualCamera:
    return vcam_factory()


@pytest.fixture
def camera(vcam: VirtualCamera) -> Iterator[Camera]:
    with make_camera(vcam) as cam:
        yield cam
