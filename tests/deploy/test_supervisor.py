"""Cameras are never given up: one unreachable at start is retried with capped back-off (visible in its status)
and streams once it comes up; connects run concurrently."""

from __future__ import annotations

import time
from pathlib import Path

from clitools import free_port
from clustertools import wait_for, write_fleet
from kedirivms.deploy import CameraState, Deployment
from kedirivms.fleet import load_fleet
from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig

PASSWORD = "Late-s3cret-pw"
ENV = "KEDIRIVMS_TEST_LATE_PW"


def test_camera_unreachable_at_start_streams_once_it_is_up(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(ENV, PASSWORD)
    port = free_port()
    small = EncoderSpec(width=320, height=240, fps=5, bitrate_kbps=128, gop=5)
    early = VirtualCamera(VirtualCameraConfig(password=PASSWORD, main=small, sub=small), rtsp=True).start()
    cams = [("early", early.device_url), ("late", f"http://127.0.0.1:{port}/onvif/device_service")]
    fleet = load_fleet(write_fleet(tmp_path / "fleet.yaml", "kota", cams, ENV))
    late: VirtualCamera | None = None
    dep = Deployment(fleet, extra_sinks=[], backoff=(0.2, 1.0)).start()
    try:
        assert wait_for(lambda: dep.statuses["late"].attempts >= 3, 30), dep.statuses
        status = dep.statuses["late"]
        assert status.state in (CameraState.RETRYING, CameraState.CONNECTING, CameraState.WAITING)
        assert status.error and PASSWORD not in status.error
        assert wait_for(lambda: dep.statuses["early"].frames > 0, 30), dep.statuses
        config = VirtualCameraConfig(password=PASSWORD, main=small, sub=small, port=port)
        late = VirtualCamera(config, rtsp=True).start()
        up = time.monotonic()
        assert wait_for(lambda: dep.statuses["late"].frames > 0, 30), dep.statuses
        print(f"late camera streaming {time.monotonic() - up:.1f} s after it came up")
        assert dep.statuses["late"].attempts == 0 and dep.statuses["late"].error is None
    finally:
        dep.close()
        early.stop()
        if late is not None:
            late.stop()
