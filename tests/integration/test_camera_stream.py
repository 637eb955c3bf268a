"""A virtual camera with its RTSP server and WS-Discovery responder: found, read, streamed, re-encoded."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kedirivms.discovery import discover
from kedirivms.errors import InvalidArgument
from kedirivms.sim import VirtualCamera, VirtualCameraConfig, VirtualFleet


def test_discover_connect_stream_and_reencode(connect: Any, vcam_password: str) -> None:
    config = VirtualCameraConfig(host="127.0.1.201", password=vcam_password, name="Loket 7", location="Pesantren")
    with VirtualCamera(config, rtsp=True, discovery=True) as vcam:
        found = discover(ranges=["127.0.1.201"], timeout=2.0)
        assert len(found) == 1 and found[0].name == "Loket 7" and found[0].xaddrs == [vcam.device_url]
        with connect(vcam) as cam:
            uri = cam.stream_uri("Profile_1_sub")
            assert uri.uri.startswith(f"rtsp://127.0.1.201:{vcam.rtsp_server.port}/")
            with cam.open_stream("Profile_1_sub", timeout=(5.0, 5.0)) as stream:
                frame = stream.read(timeout=10.0)
                assert (frame.width, frame.height) == (640, 360)
                assert not frame.y.flags.writeable and frame.y.dtype == np.uint8
                assert vcam_password not in repr(stream)
            token = cam.profiles()[1].encoder_token
            assert token
            cam.media.set_video_encoder(token, width=320, height=240, fps=5)
            with cam.open_stream("Profile_1_sub", timeout=(5.0, 5.0)) as stream:
                frame = stream.read(timeout=10.0)
                assert (frame.width, frame.height) == (320, 240)
            with pytest.raises(InvalidArgument, match="valid bitrate_kbps: 64..16384"):
                cam.media.set_video_encoder(token, bitrate_kbps=10**6)
    assert vcam.rtsp_server is None and vcam.discovery_responder is None


def test_fleet_sweep_finds_each_camera_once(vcam_password: str) -> None:
    with VirtualFleet.start(5, base=VirtualCameraConfig(password=vcam_password), discovery=True) as fleet:
        found = discover(ranges=["127.0.1.0/29"], timeout=2.0)
        assert sorted(d.address for d in found) == sorted(cam.host for cam in fleet)
        assert len({d.endpoint for d in found}) == 5
