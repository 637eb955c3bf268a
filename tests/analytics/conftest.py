"""Fixtures for analytics tests: a virtual camera's RTSP server on loopback, and thread-leak checks
(``wait_until`` is the shared fixture of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clitools import assert_no_thread_left
from kedirivms.sim.rtsp import RtspServer, StreamSpec

# threads the runner, its sinks and its streams start; none may survive a stop()
OUR_THREADS = ("kedirivms-plugin-", "kedirivms-reader-", "kedirivms-sink-", "kedirivms-demux", "kedirivms-frames")


@pytest.fixture(scope="package")
def rtsp_url() -> Iterator[str]:
    """A small live H.264 stream (320x180 @ 10 fps) from the virtual camera's RTSP server."""
    with RtspServer() as server:
        server.add_stream("sub", StreamSpec(width=320, height=180, fps=10, bitrate=150_000, gop=10))
        yield server.url("sub")


@pytest.fixture
def no_thread_left() -> Iterator[None]:
    """Fail the test if a runner, sink or stream thread outlives it."""
    yield
    assert_no_thread_left(OUR_THREADS)
