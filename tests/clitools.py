"""Helpers shared by the tests (importable because pyproject adds tests/ to pytest's pythonpath): the in-process
CLI, polling, free ports, thread-leak checks, RTSP servers in subprocesses and analytics plugin registries."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kedirivms.analytics import PluginRegistry
from kedirivms.cli import main

GST_SCRIPT = Path(__file__).parent / "stream" / "gst_rtsp_server.py"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``kedirivms *argv`` in-process; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, step: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass (a bound, never a speed assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` nobody listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def assert_no_thread_left(prefixes: tuple[str, ...], timeout: float = 5.0) -> None:
    """Fail if a thread whose name starts with one of ``prefixes`` is still alive after ``timeout`` seconds."""

    def left() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith(prefixes) and t.is_alive()]

    wait_until(lambda: not left(), timeout=timeout)
    assert not left(), left()


class ServerProcess:
    """An RTSP server in a subprocess that prints ``READY <port>`` once it serves ``rtsp://127.0.0.1:<port>/<path>``.

    Tests may kill, freeze (SIGSTOP) and restart it; a restart keeps the port (0 at first: a free one, learned from
    the READY line).
    """

    def __init__(self, command: Callable[[int], list[str]], port: int = 0, path: str = "cam") -> None:
        self.command = command  # the argv for a port
        self.port = port
        self.path = path
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{self.path}"

    def start(self) -> ServerProcess:
        argv = self.command(self.port)
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # bounded: the process either prints READY or exits
        if not line.startswith("READY"):
            self.stop()
            raise RuntimeError(f"server did not start: {argv}")
        self.port = int(line.split()[1])
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


def sim_rtsp_process(stream: str, port: int = 0) -> ServerProcess:
    """Start ``python -m kedirivms.sim.rtsp --stream <stream>`` (``cam=WxH@fps``) on ``port`` (0: a free one)."""

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "kedirivms.sim.rtsp", "--port", str(port), "--stream", stream]

    return ServerProcess(command, port, stream.split("=", 1)[0]).start()


def gst_rtsp_process(*size: str) -> ServerProcess:
    """Start GStreamer's RTSP server (third-party peer, run by the system python) at ``/test``; ``size`` is
    optional ``WIDTH HEIGHT FPS [CODEC]`` (CODEC: h264, h265 or h265-10 for x265enc's Main10). Fails with an
    install hint when GStreamer is missing."""
    hint = "`make test` installs it (Debian packages gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-*)"
    if not Path("/usr/bin/python3").exists():
        pytest.fail(f"no system python3 for GStreamer's RTSP server: {hint}")
    try:
        return ServerProcess(lambda port: ["/usr/bin/python3", str(GST_SCRIPT), str(port), *size], path="test").start()
    except RuntimeError:
        pytest.fail(f"GStreamer's RTSP server did not start: {hint}")


def plugin_registry(*plugins: type) -> PluginRegistry:
    """An analytics plugin registry holding only ``plugins`` (no entry points, no built-ins)."""
    registry = PluginRegistry(entry_points=False, builtins=False)
    for plugin in plugins:
        registry.register(plugin)
    return registry
