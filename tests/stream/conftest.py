"""Fixtures for stream tests: our RTSP server in-process, GStreamer's, media files (the killable subprocess server
is ``server_process`` of tests/conftest.py)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import gst_rtsp_process
from kedirivms.sim.rtsp import RtspServer, StreamSpec


@pytest.fixture(scope="module")
def rtsp_server() -> Iterator[RtspServer]:
    """In-process virtual camera: ``cam`` 320x240@15 and ``wide`` 1366x240@10 (stride padding)."""
    with RtspServer("127.0.0.1", 0) as srv:
        srv.add_stream("cam", StreamSpec(width=320, height=240, fps=15, bitrate=300_000, gop=15))
        srv.add_stream("wide", StreamSpec(width=1366, height=240, fps=10, bitrate=400_000, gop=10))
        yield srv


@pytest.fixture(scope="module")
def gst_server() -> Iterator[str]:
    """GStreamer's RTSP server (gir1.2-gst-rtsp-server-1.0) run by the system python; yields its URL."""
    server = gst_rtsp_process()
    yield server.url
    server.stop()


def _ffmpeg(out: Path, *args: str) -> Path:
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]
    subprocess.run([*cmd, *args, str(out)], check=True, timeout=60)
    return out


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small clips made by ffmpeg: pixel formats and a 1366-wide picture."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is missing: `make test` installs it (Debian package ffmpeg)")
    d = tmp_path_factory.mktemp("media")
    src = "testsrc=size=320x240:rate=10:duration=1"
    return {
        "h264": _ffmpeg(d / "h264.mp4", src, "-c:v", "libx264", "-g", "10", "-pix_fmt", "yuv420p"),
        "wide": _ffmpeg(
            d / "wide.mp4", "testsrc=size=1366x240:rate=10:duration=1", "-c:v", "libx264", "-pix_fmt", "yuv420p"
        ),
        "yuvj420p": _ffmpeg(d / "mjpeg.avi", src, "-c:v", "mjpeg", "-pix_fmt", "yuvj420p"),
        "nv12": _ffmpeg(d / "nv12.nut", src, "-c:v", "rawvideo", "-pix_fmt", "nv12"),
        "yuv422p": _ffmpeg(d / "yuv422p.nut", src, "-c:v", "rawvideo", "-pix_fmt", "yuv422p"),
        "yuv420p10le": _ffmpeg(d / "p10.mkv", src, "-c:v", "ffv1", "-pix_fmt", "yuv420p10le"),
    }
