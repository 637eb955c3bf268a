"""Media2 (ver20/media) against the virtual camera: profiles, URIs, H.264/H.265 encoders and options, Media1 as
the fallback, an NVR with mixed H.264/H.265 channels decoded from its RTSP server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from kedirivms import Camera
from kedirivms.errors import InvalidArgument
from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig

H265 = EncoderSpec(width=640, height=360, fps=10, bitrate_kbps=512, gop=10, encoding="H265")
SUB = EncoderSpec(width=320, height=240, fps=10, bitrate_kbps=256, gop=10)


@pytest.fixture
def media2_cam(vcam_password: str) -> Iterator[VirtualCamera]:
    cfg = VirtualCameraConfig(password=vcam_password, media2=True, main=H265, sub=SUB)
    with VirtualCamera(cfg, rtsp=True) as cam:
        yield cam


def _services(vcam: VirtualCamera) -> set[str]:
    return {r.service for r in vcam.request_log}


def test_profiles_uris_and_encoders_come_from_media2(media2_cam: VirtualCamera, connect: Any) -> None:
    cam: Camera = connect(media2_cam)
    assert cam.media.uses_media2
    media2_cam.clear_request_log()
    main, sub = cam.profiles(with_stream_uris=True)
    assert (main.encoding, main.encoder_profile, main.width, main.gop) == ("H265", "Main", 640, 10)
    assert (sub.encoding, sub.encoder_profile, sub.width) == ("H264", "Main", 320)
    assert main.stream_uri is not None and main.stream_uri.endswith("/Profile_1_main")
    assert cam.stream_uri(main, "udp").uri == main.stream_uri
    assert cam.snapshot(main)[:2] == b"\xff\xd8"
    configs = {c.token: c for c in cam.media.video_encoder_configurations()}
    assert configs["VideoEncoder_1_main"].encoding == "H265"
    options = {o.encoding: o for o in cam.media.video_encoder_options(config_token="VideoEncoder_1_main")}
    assert options["H265"].profiles == ["Main", "Main10"] and options["H264"].h264_profiles == [
        "Baseline",
        "Main",
        "High",
    ]
    assert options["H265"].gop is not None and (options["H265"].gop.min, options["H265"].gop.max) == (1, 300)
    assert _services(media2_cam) - {"snapshot"} == {"media2"}  # nothing asked of Media1


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"profile": "Main10", "gop": 20, "bitrate_kbps": 768}, None),
        ({"encoding": "H264", "profile": "High"}, None),
        ({"profile": "Main12"}, "valid profiles: Main, Main10"),
        ({"fps": 31}, "valid fps"),
        ({"gop": 301}, "valid gop: 1..300"),
    ],
)
def test_set_h265_encoder_checked_against_media2_options(
    media2_cam: VirtualCamera, connect: Any, changes: dict[str, Any], error: str | None
) -> None:
    cam: Camera = connect(media2_cam)
    if error is not None:
        with pytest.raises(InvalidArgument, match=error):
            cam.media.set_video_encoder("VideoEncoder_1_main", **changes)
        assert media2_cam.state.encoders["VideoEncoder_1_main"] == H265
        return
    after = cam.media.set_video_encoder("VideoEncoder_1_main", **changes)
    for key, value in changes.items():
        assert getattr(after, key) == value
    spec = media2_cam.state.encoders["VideoEncoder_1_main"]
    assert spec.encoding == after.encoding and spec.gop == after.gop


def test_media1_is_the_fallback(vcam_password: str, connect: Any) -> None:
    cfg = VirtualCameraConfig(password=vcam_password, main=EncoderSpec(width=640, height=360, fps=10, gop=10))
    with VirtualCamera(cfg) as vcam:
        cam: Camera = connect(vcam)
        assert not cam.media.uses_media2
        main = cam.profiles()[0]
        assert (main.encoding, main.encoder_profile) == ("H264", "Main")
        assert cam.media.video_encoder_options(config_token=main.encoder_token)[0].profiles
        assert "media2" not in _services(vcam)


def test_nvr_with_mixed_h264_and_h265_channels_streams_what_it_advertises(vcam_password: str, connect: Any) -> None:
    main10 = H265.model_copy(update={"h265_profile": "Main10"})
    h264_high = H265.model_copy(update={"encoding": "H264", "h264_profile": "High"})
    cfg = VirtualCameraConfig(
        password=vcam_password,
        channels=3,
        media2=True,
        main=h264_high,
        sub=SUB,
        channel_main={2: H265, 3: main10},
    )
    expected = {1: ("H264", "High", "h264", "yuv420p"), 2: ("H265", "Main", "hevc", "yuv420p"),
                3: ("H265", "Main10", "hevc", "yuv420p10le")}  # fmt: skip
    with VirtualCamera(cfg, rtsp=True) as vcam:
        cam: Camera = connect(vcam)
        mains = [p for p in cam.profiles() if p.token.endswith("_main")]
        assert [(p.channel, p.encoding, p.encoder_profile) for p in mains] == [
            (ch, e[0], e[1]) for ch, e in expected.items()
        ]
        for profile in mains:
            _, _, codec, pix_fmt = expected[profile.channel]
            with cam.open_stream(profile, timeout=(10.0, 10.0)) as stream:
                frame = next(iter(stream))
                assert (frame.width, frame.height, frame.format) == (640, 360, pix_fmt)
                assert frame.y.dtype == (np.uint16 if pix_fmt.endswith("10le") else np.uint8)
                assert stream.stats.codec == codec
