"""``kedirivms.connect_cameras``: many virtual cameras at once, bounded, each a Camera or a typed error."""

from __future__ import annotations

from typing import Any

import pytest

import kedirivms
from clitools import free_port
from kedirivms import Camera, ConnectResult, connect_cameras
from kedirivms.errors import AuthenticationFailed, ConnectionFailed, InvalidArgument
from kedirivms.sim import VirtualCameraConfig, VirtualFleet

DELAY = 0.3


def test_results_in_order_each_a_camera_or_a_typed_error(vcam_password: str) -> None:
    base = VirtualCameraConfig(password=vcam_password, port=0)
    with VirtualFleet.start(4, base=base, distinct_hosts=True) as fleet:
        for cam in fleet:
            cam.inject_fault("delay", "GetSystemDateAndTime", delay_s=DELAY, count=1)
        dead = f"127.0.0.1:{free_port()}"
        wrong = Camera(fleet[0].device_url, username="admin", password="not-the-password", timeout=(2.0, 3.0))
        seen: list[ConnectResult] = []
        targets: list[Any] = [c.device_url for c in fleet] + [dead]
        results = connect_cameras(
            targets, concurrency=2, username="admin", password=vcam_password, timeout=(2.0, 3.0), prepare=("media",),
            on_result=seen.append,
        )  # fmt: skip
        try:
            assert [r.target for r in results] == targets and len(seen) == len(targets)
            assert [r.ok for r in results] == [True, True, True, True, False]
            assert all(r.camera is not None and r.camera.profiles() for r in results[:4])
            assert isinstance(results[4].error, ConnectionFailed) and results[4].camera is None
            # never more than `concurrency` cameras connecting at once (each clock read was held DELAY s)
            spans = sorted(
                (r.time - DELAY, r.time)
                for cam in fleet
                for r in cam.request_log
                if r.operation == "GetSystemDateAndTime" and r.auth == ""
            )
            assert len(spans) >= 4
            assert max(sum(1 for s, e in spans if s < end and e > start) for start, end in spans) <= 2
        finally:
            for r in results:
                if r.camera is not None:
                    r.camera.close()
        (refused,) = connect_cameras([wrong])
        assert isinstance(refused.error, AuthenticationFailed) and not refused.ok
        assert vcam_password not in str(refused.error) and "not-the-password" not in str(refused.error)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(([],), {"concurrency": 0}), (([Camera("127.0.0.1")],), {"username": "admin"})],
)
def test_bad_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        connect_cameras(*args, **kwargs)


def test_exported_from_the_package() -> None:
    assert kedirivms.connect_cameras is connect_cameras
    assert connect_cameras(["bad target with spaces"])[0].error is not None
