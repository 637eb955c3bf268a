"""Fixtures for stream tests: our RTSP server in-process and as a killable subprocess, GStreamer's, media files."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kedirivms.sim.rtsp import RtspServer, StreamSpec

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A server in a subprocess that tests may kill, freeze and restart on the same port."""

    def __init__(self, argv: list[str], port: int) -> None:
        self.argv = argv
        self.port = port
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> ServerProcess:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # bounded: the process either prints READY or exits
        if not line.startswith("READY"):
            self.stop()
            raise RuntimeError(f"server did not start: {self.argv}")
        return self

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def unused_port() -> int:
    """A loopback TCP port nobody listens on (yet)."""
    return free_port()


@pytest.fixture(scope="module")
def rtsp_server() -> Iterator[RtspServer]:
    """In-process virtual camera: ``cam`` 320x240@15 and ``wide`` 1366x240@10 (stride padding)."""
    with RtspServer("127.0.0.1", 0) as srv:
        srv.add_stream("cam", StreamSpec(width=320, height=240, fps=15, bitrate=300_000, gop=15))
        srv.add_stream("wide", StreamSpec(width=1366, height=240, fps=10, bitrate=400_000, gop=10))
        yield srv


@pytest.fixture
def server_process() -> Iterator[Callable[..., ServerProcess]]:
    """Factory: ``server_process(port=None)`` starts ``python -m kedirivms.sim.rtsp`` serving ``cam``."""
    started: list[ServerProcess] = []

    def make(port: int | None = None) -> ServerProcess:
        port = port or free_port()
        argv = [sys.executable, "-m", "kedirivms.sim.rtsp", "--port", str(port), "--stream", "cam=320x240@15"]
        proc = ServerProcess(argv, port).start()
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop()


@pytest.fixture(scope="module")
def gst_server() -> Iterator[str]:
    """GStreamer's RTSP server (gir1.2-gst-rtsp-server-1.0) run by the system python; yields its URL."""
    if not Path("/usr/bin/python3").exists():
        pytest.skip("no system python3 for GStreamer")
    port = free_port()
    proc = ServerProcess(["/usr/bin/python3", str(HERE / "gst_rtsp_server.py"), str(port)], port)
    try:
        proc.start()
    except RuntimeError:
        pytest.skip("GStreamer RTSP server not available (install gir1.2-gst-rtsp-server-1.0 python3-gi)")
    yield f"rtsp://127.0.0.1:{port}/test"
    proc.stop()


def _ffmpeg(out: Path, *args: str) -> Path:
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]
    subprocess.run([*cmd, *args, str(out)], check=True, timeout=60)
    return out


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small clips made by ffmpeg: pixel formats and a 1366-wide picture."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
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
