"""Fixtures for recorder tests: the sim RTSP server (in-process and killable), GStreamer's, ffprobe, tmpfs mounts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kedirivms.record import Recorder, SegmentIndex
from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.stream import open_stream

HERE = Path(__file__).parent
GOP = 1.0  # seconds: every test stream has gop == fps
SEGMENT = 3.0
RECORD = 32.0  # the issue asks for 30-60 s of recording from each peer
SPEC = StreamSpec(width=320, height=180, fps=10, bitrate=250_000, gop=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ffprobe(path: Path) -> dict[str, Any]:
    """ffprobe's view of a file: exit status, packet count, duration, codec, errors printed."""
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_entries",
         "stream=codec_name,width,height,nb_read_packets:format=duration", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    info = json.loads(proc.stdout or "{}")
    stream = (info.get("streams") or [{}])[0]
    return {
        "ok": proc.returncode == 0 and not proc.stderr.strip(),
        "stderr": proc.stderr.strip(),
        "packets": int(stream.get("nb_read_packets", 0)),
        "duration": float(info.get("format", {}).get("duration", 0) or 0),
        "codec": stream.get("codec_name"),
        "width": stream.get("width"),
    }


class ServerProcess:
    """``python -m kedirivms.sim.rtsp`` in a subprocess, killable and restartable on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self) -> ServerProcess:
        argv = [sys.executable, "-m", "kedirivms.sim.rtsp", "--port", str(self.port), "--stream", "cam=320x180@10"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the process either prints READY or exits
        if not line.startswith("READY"):
            self.stop()
            raise RuntimeError("sim RTSP server did not start")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def rtsp() -> Iterator[RtspServer]:
    """In-process virtual camera serving ``cam`` (320x180 @ 10 fps, one keyframe per second) and ``cam2``."""
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe not installed")
    with RtspServer("127.0.0.1", 0) as srv:
        srv.add_stream("cam", SPEC)
        srv.add_stream("cam2", SPEC)
        yield srv


@pytest.fixture
def server_process() -> Iterator[Callable[[int | None], ServerProcess]]:
    started: list[ServerProcess] = []

    def make(port: int | None = None) -> ServerProcess:
        proc = ServerProcess(port or free_port()).start()
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop()


@pytest.fixture(scope="session")
def gst_url() -> Iterator[str]:
    """GStreamer's RTSP server (third-party peer), run by the system python; skips if unavailable."""
    script = HERE.parent / "stream" / "gst_rtsp_server.py"
    if not Path("/usr/bin/python3").exists() or not script.exists():
        pytest.skip("no GStreamer RTSP server script / system python")
    port = free_port()
    proc = subprocess.Popen(
        ["/usr/bin/python3", str(script), str(port), "320", "180", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    if not proc.stdout.readline().startswith("READY"):
        proc.kill()
        pytest.skip("GStreamer RTSP server not available")
    yield f"rtsp://127.0.0.1:{port}/test"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Factory: ``tmpfs(size="200k", ro=False)`` mounts a small tmpfs (a real disk-full); needs root."""
    mounts: list[Path] = []

    def make(size: str = "200k", ro: bool = False) -> Path:
        target = tmp_path / f"mnt-{uuid.uuid4().hex[:6]}"
        target.mkdir()
        opts = f"size={size}" + (",ro" if ro else "")
        if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(target)]).returncode:
            pytest.skip("cannot mount tmpfs (needs root)")
        mounts.append(target)
        return target

    yield make
    for m in mounts:
        subprocess.run(["umount", "-l", str(m)], check=False)


@pytest.fixture(scope="session")
def recorded(rtsp: RtspServer, gst_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Record the virtual camera and GStreamer's server at once, one reader connection each."""
    root = tmp_path_factory.mktemp("rec")
    sim = open_stream(rtsp.url("cam"), decode=False)
    gst = open_stream(gst_url, decode=False)
    with SegmentIndex(root) as ix:
        sessions_before = rtsp.session_count
        with sim, gst:
            a = Recorder(sim, root, "sim", segment_seconds=SEGMENT, index=ix)
            b = Recorder(gst, root, "gst", segment_seconds=SEGMENT, index=ix)
            with a, b:
                time.sleep(RECORD)
                one_connection = rtsp.session_count - sessions_before
                stopped = time.time()
            stats = {"sim": a.stats, "gst": b.stats}
    return {"root": root, "stopped": stopped, "stats": stats, "connections": one_connection}
