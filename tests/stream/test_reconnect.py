"""A camera that dies, freezes or is not there yet: detected within the read time-out, reconnected, no leaks."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from kedirivms.stream import StateChange, StreamState, open_stream
from kedirivms.stream._watchdog import watchdog

READ_TIMEOUT = 1.5
SLACK = 1.0  # scheduling slack on a loaded 2-core machine


def _states(stream_states: list[StateChange], state: StreamState) -> list[StateChange]:
    return [s for s in stream_states if s.state is state]


def _left_behind(before: set[threading.Thread]) -> set[threading.Thread]:
    """Threads started since ``before`` that are still there, but the read watchdog: one thread per process by
    design (started by the process's first stream, kept for the next), which must hold no stream once they are
    closed. Whether this test started it depends on the tests run before it in the same worker."""
    assert not watchdog._watches  # every stream unwatched
    return {t for t in set(threading.enumerate()) - before if t.name != "kedirivms-read-watchdog"}


def test_killed_frozen_and_restarted_server(server_process: Callable[..., Any]) -> None:
    before = set(threading.enumerate())
    server = server_process()
    states: list[StateChange] = []
    stream = open_stream(
        f"rtsp://127.0.0.1:{server.port}/cam", timeout=(3.0, READ_TIMEOUT), backoff=(0.2, 1.0), queue_size=1
    )
    stream.on_state(states.append)
    with stream:
        stream.read(timeout=10)

        # frozen camera: no FIN, no RST, just silence
        server.signal(signal.SIGSTOP)
        assert stream.wait_for(StreamState.DISCONNECTED, timeout=READ_TIMEOUT + SLACK)
        assert "no data within" in (_states(states, StreamState.DISCONNECTED)[0].reason or "")
        server.signal(signal.SIGCONT)
        assert stream.wait_for(StreamState.STREAMING, timeout=10)
        stream.read(timeout=10)
        assert stream.stats.reconnects == 1

        # killed camera: the connection drops; reconnect attempts back off until it is back on the same port
        server.kill()
        assert stream.wait_for(StreamState.DISCONNECTED, timeout=READ_TIMEOUT + SLACK)
        time.sleep(1.0)  # a few refused attempts
        server.start()
        assert stream.wait_for(StreamState.STREAMING, timeout=10)
        frame = stream.read(timeout=10)
        assert frame.width == 320
        stats = stream.stats
    assert stats.reconnects == 2
    refused = [s for s in _states(states, StreamState.DISCONNECTED) if "refused" in (s.reason or "").lower()]
    assert refused and max(s.attempt for s in refused) >= 2
    time.sleep(0.2)
    assert _left_behind(before) == set()  # no thread left behind


def test_first_connect_fails_then_camera_appears(server_process: Callable[..., Any], unused_port: int) -> None:
    port = unused_port
    states: list[StateChange] = []
    stream = open_stream(f"rtsp://127.0.0.1:{port}/cam", timeout=(2.0, 2.0), backoff=(0.2, 0.5))
    stream.on_state(states.append)
    with stream:
        assert stream.wait_for(StreamState.DISCONNECTED, timeout=5)
        server_process(port)
        frame = stream.read(timeout=15)
    assert frame.height == 240
    assert stream.stats.reconnects == 0  # the first successful connect is not a re-connect
    assert _states(states, StreamState.STREAMING)[0].attempt >= 2


def test_close_while_stalled_returns_promptly(server_process: Callable[..., Any]) -> None:
    before = set(threading.enumerate())
    server = server_process()
    stream = open_stream(f"rtsp://127.0.0.1:{server.port}/cam", timeout=(3.0, READ_TIMEOUT)).start()
    stream.read(timeout=10)
    server.signal(signal.SIGSTOP)
    time.sleep(0.3)
    stream.close()  # the demux thread is blocked inside FFmpeg: close waits at most about the read time-out
    server.signal(signal.SIGCONT)
    assert stream.state is StreamState.CLOSED
    assert _left_behind(before) == set()
