"""Test-wide guards: no traffic leaves loopback from the test process.

Multicast tests run their sender/receiver inside a network namespace they create (subprocesses), so the guard
here only has to refuse non-loopback destinations from the pytest process itself.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from clitools import ServerProcess, free_port, sim_rtsp_process, wait_until

# Tests that serve or sweep WS-Discovery (port 3702) on 127.0.1.x: they bind the same addresses and a sweep finds
# the others' cameras, so under pytest-xdist they take turns (see _wsd_turn).
_SHARED_WSD = (
    "discovery/",
    "integration/test_camera_stream.py",
    "integration/test_connect_cameras.py",
    "sim/test_fleet_cli.py",
    "sim/test_sim_api.py",
    "sim/test_simulate_output.py",
    "test_examples.py::test_example_runs[discover_site.py]",
)


@pytest.fixture(autouse=True)
def _wsd_turn(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Under ``pytest -n N`` (``make test``) hold a lock file shared by the workers while a test of ``_SHARED_WSD``
    runs. Autouse, so it is set up before the test's own (function-scoped) responders and fleets."""
    path = request.node.nodeid.removeprefix("tests/")
    if "PYTEST_XDIST_WORKER" not in os.environ or not path.startswith(_SHARED_WSD):
        yield
        return
    lock = tmp_path_factory.getbasetemp().parent / "wsd-127.0.1.lock"
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto


def _check(addr: Any) -> None:
    if not isinstance(addr, tuple) or not addr:
        return  # AF_UNIX and friends
    host = addr[0]
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if host in ("localhost",):
            return
        raise OSError(f"test tried to reach non-loopback host {host!r}") from None
    if not ip.is_loopback:
        raise OSError(f"test tried to reach non-loopback address {host!r}")


def _connect(self: socket.socket, addr: Any) -> None:
    _check(addr)
    return _real_connect(self, addr)


def _connect_ex(self: socket.socket, addr: Any) -> int:
    _check(addr)
    return _real_connect_ex(self, addr)


def _sendto(self: socket.socket, data: Any, *args: Any) -> int:
    _check(args[-1])
    return _real_sendto(self, data, *args)


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Any:
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = _sendto  # type: ignore[method-assign,assignment]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = _real_sendto  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI tables are not cut at 80 columns in captured output."""
    from kedirivms.cli._app import console

    monkeypatch.setattr(console, "_width", 240)


@pytest.fixture(name="wait_until")
def _wait_until() -> Callable[..., bool]:
    """``wait_until(predicate, timeout=20, step=0.05)``: poll until true (a bound, never a speed assertion)."""
    return wait_until


@pytest.fixture
def unused_port() -> int:
    """A loopback TCP port nobody listens on (yet)."""
    return free_port()


# ------------------------------------------------------------------------------- RTSP server in a subprocess
@pytest.fixture
def sim_stream_spec() -> str:
    """The ``--stream`` of the ``server_process`` RTSP server (override per folder)."""
    return "cam=320x240@15"


@pytest.fixture
def server_process(sim_stream_spec: str) -> Iterator[Callable[..., ServerProcess]]:
    """Factory: ``server_process(port=0)`` starts ``python -m kedirivms.sim.rtsp`` serving ``sim_stream_spec`` in a
    subprocess that the test may kill, freeze and restart on the same port; all are stopped after the test."""
    started: list[ServerProcess] = []

    def make(port: int = 0) -> ServerProcess:
        started.append(sim_rtsp_process(sim_stream_spec, port))
        return started[-1]

    yield make
    for proc in started:
        proc.stop()


# --------------------------------------------------------------------------------- virtual-camera fixtures
# Shared by the client, PTZ and events tests: real virtual cameras on loopback and connected clients.
VCAM_PASSWORD = "Sup3r-secret!pw"


@pytest.fixture
def vcam_password() -> str:
    """The admin password of the virtual cameras ``vcam_factory`` starts (override per folder if needed)."""
    return VCAM_PASSWORD


@pytest.fixture
def vcam_factory(vcam_password: str) -> Any:
    """``vcam_factory(**config)`` starts a :class:`VirtualCamera`; all are stopped after the test."""
    from kedirivms.sim import VirtualCamera, VirtualCameraConfig

    started: list[VirtualCamera] = []

    def factory(**overrides: Any) -> VirtualCamera:
        overrides.setdefault("password", vcam_password)
        cam = VirtualCamera(VirtualCameraConfig(**overrides)).start()
        started.append(cam)
        return cam

    yield factory
    for cam in started:
        cam.stop()


@pytest.fixture
def connect(vcam_password: str) -> Any:
    """``connect(vcam, **kwargs)`` returns a connected :class:`Camera` (closed after the test)."""
    from kedirivms import Camera

    opened: list[Camera] = []

    def factory(vcam: Any, **kwargs: Any) -> Camera:
        kwargs.setdefault("username", "admin")
        kwargs.setdefault("password", vcam_password)
        kwargs.setdefault("timeout", (2.0, 3.0))
        cam = Camera(vcam.device_url, **kwargs)
        opened.append(cam)
        return cam.connect()

    yield factory
    for cam in opened:
        cam.close()


@pytest.fixture
def vcam(vcam_factory: Any) -> Any:
    return vcam_factory()


@pytest.fixture
def camera(vcam: Any, connect: Any) -> Any:
    return connect(vcam)
