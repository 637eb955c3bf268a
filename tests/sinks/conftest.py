"""Fixtures for sink tests: a real mosquitto broker and a local HTTP receiver, both on loopback (``wait_until`` is
the shared fixture of tests/conftest.py)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from clitools import assert_no_thread_left, free_port, wait_until
from kedirivms import Event

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def make_event(n: int, camera: str = "cam-1", kind: str = "pile_up") -> Event:
    return Event(camera=camera, source="queue", kind=kind, time=datetime(2026, 1, 1, tzinfo=UTC), data={"n": n})


@pytest.fixture
def event() -> Callable[..., Event]:
    """``event(n, camera=..., kind=...)`` builds a test event."""
    return make_event


class Broker:
    """A mosquitto process on 127.0.0.1 (config in a temporary folder); stop/start keep the port."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def listening() -> bool:
            with socket.socket() as probe:
                probe.settimeout(0.2)
                return probe.connect_ex(("127.0.0.1", self.port)) == 0

        if not wait_until(listening, timeout=10):
            self.stop()
            pytest.fail("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is missing: `make test` installs it (Debian package mosquitto)")
    b = Broker(tmp_path)
    b.start()
    yield b
    b.stop()


class Receiver:
    """A local HTTP server recording POST bodies; ``plan`` gives the status for each request in turn."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.plan: list[int] = []
        self.delay = 0.0
        self.gate = threading.Event()
        self.gate.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.gate.wait(10)
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.plan.pop(0) if receiver.plan else 200
                receiver.bodies.append(json.loads(body))
                receiver.headers.append(dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="test-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/events"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.gate.set()
    r.server.shutdown()
    r.server.server_close()
    r.thread.join(5)


@pytest.fixture(autouse=True)
def _no_sink_thread_left() -> Iterator[None]:
    yield
    assert_no_thread_left(("kedirivms-sink-", "paho-mqtt-client-"))
