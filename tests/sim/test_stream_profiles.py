"""The virtual camera streams what it advertises: H.264 Baseline/Main/High and H.265 Main/Main10, read back by
ffprobe (a third-party peer) from its RTSP server."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig

BASE = EncoderSpec(width=320, height=240, fps=10, bitrate_kbps=256, gop=10)
CASES = [
    (BASE.model_copy(update={"h264_profile": "Baseline"}), ("h264", {"Baseline", "Constrained Baseline"})),
    (BASE.model_copy(update={"h264_profile": "Main"}), ("h264", {"Main"})),
    (BASE.model_copy(update={"h264_profile": "High"}), ("h264", {"High"})),
    (BASE.model_copy(update={"encoding": "H265", "h265_profile": "Main"}), ("hevc", {"Main"})),
    (BASE.model_copy(update={"encoding": "H265", "h265_profile": "Main10"}), ("hevc", {"Main 10"})),
]


@pytest.mark.parametrize(
    ("spec", "expected"), CASES, ids=[f"{s.encoding}-{s.h264_profile}-{s.h265_profile}" for s, _ in CASES]
)
def test_advertised_profile_is_what_streams(spec: EncoderSpec, expected: tuple[str, set[str]]) -> None:
    if shutil.which("ffprobe") is None:
        pytest.fail("ffprobe is missing: `make test` installs it (Debian package ffmpeg)")
    cfg = VirtualCameraConfig(auth="none", media2=True, main=spec, sub=BASE, encoder_options={})
    with VirtualCamera(cfg, rtsp=True) as cam:
        uri = f"rtsp://{cam.host}:{cam.config.rtsp_port}/Profile_1_main"
        proc = subprocess.run(
            ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name,profile",
             "-of", "json", uri],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    (stream,) = json.loads(proc.stdout)["streams"]
    codec, profiles = expected
    assert stream["codec_name"] == codec and stream["profile"] in profiles, (stream, proc.stderr)
