"""PyAV's read time-out, armed only when a stream stalls: one watchdog thread per process.

PyAV bounds each ``av_read_frame`` with an FFmpeg interrupt callback that, while a read time-out is set, takes the
GIL and calls ``time.monotonic()`` on every FFmpeg interrupt check (about a thousand a second for a 4 Mbit/s RTSP
stream over TCP: a fifth of a demux-only stream's CPU). With the time-out set to "none" the callback returns at
once, without the GIL. The bound must stay in effect: it is the only bound on the time between *pictures*
(FFmpeg's socket time-out restarts with every byte, RTCP included; tests/stream/test_pictureless_session.py).

So in steady state the demux thread disarms the time-out after each packet it gets, and one shared watchdog thread
arms it again only for a stream that has produced no packet for its read time-out; FFmpeg's next interrupt check
(at most ~0.1 s later: its network reads poll in 100 ms slices) then aborts the blocked read exactly as PyAV's own
time-out does (``av.error.ExitError``, mapped to :class:`~kedirivms.errors.StreamTimeout`). A packet that arrives
while armed disarms it again.

PyAV 18 exposes no way to change a container's time-out after :func:`av.open` (``set_timeout`` is a C method, the
state a C struct, ``timeout_info {double start_time; double timeout}``, in the container object). Its address is
found once per container type by layout, and checked for every container: the struct follows the
``open_timeout`` and ``read_timeout`` object slots, so the two words before it must be the addresses of those very
objects, and right after :func:`av.open` the time-out reads -1.0 ("none"). When the check fails (another PyAV)
the container is not watched and PyAV's time-out stays armed as before: slower, never unsafe. The watch holds a
reference to the container, so the struct it writes is never freed memory; aligned 8-byte stores are atomic on
the platforms PyAV ships wheels for.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
from typing import Any

__all__ = ["Watch", "watchdog"]

log = logging.getLogger("kedirivms.stream")

_NONE = -1.0  # PyAV's "no time-out"


class _TimeoutInfo(ctypes.Structure):
    _fields_ = [("start_time", ctypes.c_double), ("timeout", ctypes.c_double)]  # noqa: RUF012 - ctypes layout


_offsets: dict[type, int | None] = {}


def _word(address: int) -> int:
    return ctypes.c_size_t.from_address(address).value


def _locate(container: Any) -> _TimeoutInfo | None:
    """The container's ``timeout_info`` struct, or None when its layout is not the one expected."""
    kind = type(container)
    base, size = id(container), kind.__basicsize__
    wanted = (id(container.open_timeout), id(container.read_timeout))
    step = ctypes.sizeof(ctypes.c_void_p)
    if kind not in _offsets:
        found: int | None = None
        for at in range(2 * step, size - ctypes.sizeof(_TimeoutInfo) - 2 * step + 1, step):
            if (_word(base + at), _word(base + at + step)) == wanted:
                found = at + 2 * step
                break
        _offsets[kind] = found
        if found is None:
            log.debug("PyAV's time-out state not found in %s: the read time-out stays armed", kind.__name__)
    offset = _offsets[kind]
    if offset is None or (_word(base + offset - 2 * step), _word(base + offset - step)) != wanted:
        return None
    info = _TimeoutInfo.from_address(base + offset)
    if info.timeout != _NONE:  # av.open() leaves it at "none" until demux() starts
        return None
    return info


class Watch:
    """One stream's read time-out under the watchdog (made by :meth:`_Watchdog.watch`).

    Every packet restarts the bound and disarms PyAV's time-out: :meth:`packet` (``Stream._pump`` does the same
    inline, once per packet).
    """

    __slots__ = ("_container", "_dog", "_info", "armed", "bound", "fired", "last")

    def __init__(self, dog: _Watchdog, container: Any, info: _TimeoutInfo, bound: float) -> None:
        self._dog = dog
        self._container = container  # keeps the struct's memory alive while the watchdog may write it
        self._info = info
        self.bound = bound
        self.last = time.monotonic()  # when the last packet arrived
        self.armed = True  # demux() arms PyAV's time-out itself when it starts
        self.fired = 0  # times the watchdog armed it for a stall

    def packet(self) -> None:
        """A packet arrived: restart the bound and disarm PyAV's time-out if it is armed (demux thread)."""
        self.last = time.monotonic()
        if self.armed:
            self._dog.disarm(self)

    def disarm(self) -> None:
        """Disarm PyAV's time-out now (demux thread; :meth:`packet` does it when it is armed)."""
        self._dog.disarm(self)

    def stalled(self) -> bool:
        """True when the watchdog armed PyAV's time-out for the stall now under way (no packet for ``bound`` s)."""
        return self.armed and self.fired > 0 and time.monotonic() - self.last >= self.bound

    def close(self) -> None:
        """Stop watching (before the container is closed)."""
        self._dog.unwatch(self)


class _Watchdog:
    """Arms a stream's read time-out once it has gone ``bound`` seconds without a packet; one thread for all."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        # also in a forked child: the parent's thread does not exist there and its lock may have been held
        self._cond = threading.Condition(threading.Lock())
        self._watches: set[Watch] = set()
        self._thread: threading.Thread | None = None

    def watch(self, container: Any, bound: Any) -> Watch | None:
        """Watch ``container`` (an input container just opened with a read time-out of ``bound`` s).

        Returns None when the container cannot be watched (PyAV's own time-out then stays armed).
        """
        if bound is None or bound <= 0:
            return None
        try:
            info = _locate(container)
        except (AttributeError, TypeError, ValueError):
            return None
        if info is None or container.read_timeout != bound:
            return None
        w = Watch(self, container, info, float(bound))
        with self._cond:
            self._watches.add(w)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kedirivms-read-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
        return w

    def unwatch(self, w: Watch) -> None:
        with self._cond:
            self._watches.discard(w)

    def disarm(self, w: Watch) -> None:
        with self._cond:
            if w in self._watches:
                w._info.timeout = _NONE
                w.armed = False
                self._cond.notify()  # the earliest deadline may be this stream's

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                due: list[float] = []
                for w in self._watches:
                    if w.armed:
                        continue
                    deadline = w.last + w.bound
                    if deadline <= now:
                        # arm PyAV's time-out; its start is when PyAV began the read now under way (it sets it
                        # before each read), so a read blocked since the last packet ends at FFmpeg's next
                        # interrupt check, and one begun late (a slow consumer, a long decode) keeps its bound
                        w._info.timeout = w.bound
                        w.armed = True
                        w.fired += 1
                    else:
                        due.append(deadline)
                self._cond.wait(min(due) - now if due else None)


watchdog = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=watchdog._reset)
