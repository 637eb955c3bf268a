"""Media service against virtual cameras and NVRs."""

from __future__ import annotations

from typing import Any

import pytest

from kedirivms import Camera
from kedirivms.errors import InvalidArgument
from kedirivms.sim import VirtualCamera


def test_profiles_and_uris(camera: Camera, vcam: VirtualCamera, vcam_password: str) -> None:
    profiles = camera.profiles(with_stream_uris=True)
    assert [p.token for p in profiles] == vcam.profile_tokens
    main = profiles[0]
    assert (main.encoding, main.width, main.height, main.fps, main.gop) == ("H264", 1920, 1080, 30, 30)
    assert main.ptz_configured and main.channel == 1
    assert main.stream_uri and main.stream_uri.startswith("rtsp://") and vcam_password not in main.stream_uri
    tcp = camera.stream_uri(main)
    udp = camera.stream_uri(main.token, transport="udp")
    assert tcp.transport == "tcp" and udp.transport == "udp"
    assert vcam_password not in str(tcp) and vcam_password not in repr(tcp)
    assert vcam_password not in tcp.model_dump_json()
    assert "admin:" in tcp.with_credentials() and tcp.with_credentials().startswith("rtsp://admin:")
    with pytest.raises(InvalidArgument):
        camera.stream_uri(main, transport="sctp")  # type: ignore[arg-type]


def test_snapshot(camera: Camera, vcam_password: str) -> None:
    uri = camera.media.snapshot_uri("Profile_1_sub")
    assert uri.startswith("http://") and vcam_password not in uri
    jpeg = camera.snapshot("Profile_1_sub")
    assert jpeg[:2] == b"\xff\xd8" and len(jpeg) > 500


def test_nvr_channels(vcam_factory: Any, connect: Any) -> None:
    nvr = vcam_factory(channels=16)
    with connect(nvr) as cam:
        channels = cam.channels()
        assert len(channels) == 16
        assert all(len(ch.profiles) == 2 for ch in channels)
        assert [ch.index for ch in channels] == list(range(1, 17))
        assert {p.channel for p in cam.profiles()} == set(range(1, 17))


def test_encoder_set_persists(camera: Camera) -> None:
    token = camera.profiles()[0].encoder_token
    assert token
    options = camera.media.video_encoder_options(config_token=token)
    h264 = next(o for o in options if o.encoding == "H264")
    assert (1280, 720) in h264.resolutions and h264.fps is not None
    updated = camera.media.set_video_encoder(token, width=1280, height=720, fps=15, gop=30, bitrate_kbps=2048)
    assert (updated.width, updated.height, updated.fps, updated.bitrate_kbps) == (1280, 720, 15, 2048)
    main = camera.profiles()[0]
    assert (main.width, main.height, main.fps) == (1280, 720, 15)
    assert any(c.token == token and c.width == 1280 for c in camera.media.video_encoder_configurations())


@pytest.mark.parametrize(
    ("changes", "hint"),
    [
        ({"width": 1000, "height": 1000}, "valid resolutions: 1920x1080"),
        ({"fps": 120}, "valid fps: 1..30"),
        ({"gop": 100000}, "valid gop"),
        ({"encoding": "H265"}, "valid encodings"),
    ],
)
def test_encoder_set_invalid_lists_valid_values(camera: Camera, changes: dict[str, object], hint: str) -> None:
    token = camera.profiles()[0].encoder_token
    assert token
    with pytest.raises(InvalidArgument) as info:
        camera.media.set_video_encoder(token, **changes)  # type: ignore[arg-type]
    assert hint in str(info.value)
    assert camera.profiles()[0].width == 1920  # nothing changed
