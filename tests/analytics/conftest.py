"""Fixtures for analytics tests: a virtual camera's RTSP server on loopback, and thread-leak checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from kedirivms.sim.rtsp import RtspServer, StreamSpec

# threads the runner, its sinks and its streams start; none may survive a stop()
OUR_THREADS = ("kedirivms-plugin-", "kedirivms-reader-", "kedirivms-sink-", "kedirivms-demux", "kedirivms-frames")


@pytest.fixture(scope="package")
def rtsp_url() -> Iterator[str]:
    """A small live H.264 stream (320x180 @ 10 fps) from the virtual camera's RTSP server."""
    with RtspServer() as server:
        server.add_stream("sub", StreamSpec(width=320, height=180, fps=10, bitrate=150_000, gop=10))
        yield server.url("sub")


def _wait_until(predicate: Callable[[], bool], timeout: float = 20.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.fixture
def wait_until() -> Callable[..., bool]:
    """``wait_until(predicate, timeout=20)``: poll until true (a bound, never a speed assertion)."""
    return _wait_until


@pytest.fixture
def no_thread_left() -> Iterator[None]:
    """Fail the test if a runner, sink or stream thread outlives it."""
    yield
    _wait_until(lambda: not _leftover(), timeout=5.0)
    assert not _leftover()


def _leftover() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(OUR_THREADS) and t.is_alive()]
