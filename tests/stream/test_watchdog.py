"""The read time-out watchdog on a real PyAV container: disarmed after each packet, armed after a packet-less
stretch of the read time-out, and left to PyAV when the container's layout is not the one expected.

The RTSP stall itself (pictures stop, RTCP keeps the session alive) is tests/stream/test_pictureless_session.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.stream import StreamState, open_stream
from kedirivms.stream import _watchdog as wd


def test_disarmed_per_packet_and_armed_after_the_bound(media: dict[str, Path], wait_until: Callable[..., bool]) -> None:
    container = av.open(str(media["h264"]), timeout=(5.0, 0.3))
    try:
        watch = wd.watchdog.watch(container, container.read_timeout)
        assert watch is not None, "PyAV's time-out state was not found in the container"
        packets = container.demux(container.streams.video[0])
        next(packets)
        assert watch._info.timeout == 0.3  # demux() armed PyAV's time-out for the read
        watch.packet()
        assert not watch.armed
        assert watch._info.timeout == -1.0  # "none": the interrupt callback returns without the GIL
        # no packet for longer than the bound: the watchdog arms PyAV's time-out, already expired
        assert wait_until(lambda: watch.armed, timeout=10), "the watchdog did not arm the read time-out"
        assert watch.fired == 1
        assert watch._info.timeout == 0.3
        assert watch._info.start_time < watch.last  # PyAV's start of the read under way, not moved
        next(packets)  # a file read needs no wait: it completes before any interrupt check could abort it
        watch.packet()
        assert not watch.armed
        assert watch._info.timeout == -1.0
        watch.close()
        assert watch not in wd.watchdog._watches
    finally:
        container.close()


def test_unknown_layout_keeps_pyav_time_out(media: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    container = av.open(str(media["h264"]), timeout=(5.0, 0.3))
    try:
        monkeypatch.setitem(wd._offsets, type(container), 24)  # not where PyAV keeps it: the check must refuse
        assert wd.watchdog.watch(container, container.read_timeout) is None
        monkeypatch.setitem(wd._offsets, type(container), None)  # not found at all
        assert wd.watchdog.watch(container, container.read_timeout) is None
    finally:
        container.close()
    without = av.open(str(media["h264"]))  # no time-out asked: nothing to watch
    try:
        assert wd.watchdog.watch(without, without.read_timeout) is None
    finally:
        without.close()


def test_unwatched_stream_reads(media: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(wd._offsets, av.container.InputContainer, None)
    with open_stream(media["h264"]) as stream:
        frame = stream.read(timeout=10)
        assert frame.width == 320
        assert stream._watch is None


def test_a_forked_child_watches_its_own_streams() -> None:
    """Provisioning forks workers (provision/_procs.py): a child must not inherit the parent's watchdog state."""
    with RtspServer("127.0.0.1", 0) as srv:
        srv.add_stream("cam", StreamSpec(width=160, height=120, fps=10, bitrate=100_000, gop=10))
        url = srv.url("cam")
        with open_stream(url, transport="tcp", timeout=(5.0, 2.0), decode=False) as parent:
            assert parent.wait_for(StreamState.STREAMING, timeout=10) and parent._watch is not None
            pid = os.fork()
            if pid == 0:  # the child: its own watchdog (thread and lock), its own stream
                code = 1
                try:
                    fresh = wd.watchdog._thread is None and not wd.watchdog._watches
                    with open_stream(url, transport="tcp", timeout=(5.0, 2.0), decode=False) as child:
                        if fresh and child.wait_for(StreamState.STREAMING, timeout=10) and child._watch is not None:
                            code = 0
                finally:
                    os._exit(code)
            deadline = time.monotonic() + 60  # a hang bound: a deadlocked child fails here
            while time.monotonic() < deadline:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                pytest.fail("the forked child hung")
            assert os.waitstatus_to_exitcode(status) == 0
