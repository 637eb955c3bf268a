"""One plugin instance on one camera, on its own thread, behind a latest-frame slot (private to the runner).

The feeding side (the camera's reader thread) never waits: it replaces the frame waiting in the slot and counts
a drop. Events for ``on_event`` wait in a bounded deque (oldest dropped). Every hook call of the instance runs on
the worker thread, so a plugin needs no locking; a hook that raises is logged with its context and counted, and
``failure_limit`` consecutive failures disable the plugin for this camera.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kedirivms.analytics._manager import PluginInstance
from kedirivms.analytics.events import Event

__all__ = ["PluginMetrics"]

_log = logging.getLogger("kedirivms.analytics")
_FPS_WINDOW = 5.0  # seconds of completed calls used for the fps figure
_TRACEBACKS = 3  # full tracebacks logged per plugin instance; later failures log one line


class PluginMetrics(BaseModel):
    """Counters of one plugin on one camera (a snapshot).

    Attributes:
        camera: camera name.
        plugin: plugin name.
        version: plugin version.
        max_fps: the rate the plugin receives frames at (``None``: every frame).
        fps: frames processed per second over the last few seconds.
        latency_ms: mean ``on_frame`` time in milliseconds.
        latency_max_ms: longest ``on_frame`` time in milliseconds.
        frames: frames processed by ``on_frame``.
        drops: frames replaced while waiting because the plugin was busy (latest-frame policy).
        skipped: frames not offered because of ``max_fps``.
        events_in: events delivered to ``on_event``.
        event_drops: events dropped because the plugin's event queue was full.
        events: events the plugin emitted.
        errors: hook calls that raised (or returned something other than events).
        consecutive_errors: failures since the last successful call.
        disabled: the plugin was disabled for this camera.
        disabled_reason: why, when disabled.
    """

    model_config = ConfigDict(frozen=True)

    camera: str = Field(description="Camera name.")
    plugin: str = Field(description="Plugin name.")
    version: str = Field(description="Plugin version.")
    max_fps: float | None = Field(description="Frame rate offered to the plugin.")
    fps: float = Field(description="Frames processed per second, recent.")
    latency_ms: float = Field(description="Mean on_frame time, ms.")
    latency_max_ms: float = Field(description="Longest on_frame time, ms.")
    frames: int = Field(description="Frames processed.")
    drops: int = Field(description="Frames dropped because the plugin was busy.")
    skipped: int = Field(description="Frames not offered because of max_fps.")
    events_in: int = Field(description="Events delivered to on_event.")
    event_drops: int = Field(description="Events dropped from a full on_event queue.")
    events: int = Field(description="Events emitted.")
    errors: int = Field(description="Failed hook calls.")
    consecutive_errors: int = Field(description="Failures since the last success.")
    disabled: bool = Field(description="Disabled for this camera.")
    disabled_reason: str | None = Field(default=None, description="Why it was disabled.")


class _NotEvents(TypeError):
    pass


def _as_events(results: list[Any]) -> list[Event]:
    """Flatten pluggy's result list (non-``None`` returns) into events, refusing anything else."""
    out: list[Event] = []
    for result in results:
        if isinstance(result, Event):
            out.append(result)
        elif isinstance(result, Iterable) and not isinstance(result, str | bytes | dict | BaseModel):
            for item in result:
                if not isinstance(item, Event):
                    raise _NotEvents(f"returned {type(item).__name__} in an iterable, expected Event")
                out.append(item)
        else:
            raise _NotEvents(f"returned {type(result).__name__}, expected Event, an iterable of Event or None")
    return out


class PluginWorker:
    """Runs one :class:`PluginInstance` for one camera (private)."""

    def __init__(
        self,
        instance: PluginInstance,
        *,
        max_fps: float | None,
        failure_limit: int,
        event_queue_size: int,
        emit: Callable[[list[Event], PluginWorker, bool], None],
    ) -> None:
        self.instance = instance
        self.name = instance.info.name
        self.camera = instance.ctx.camera.name
        self.max_fps = max_fps
        self._period = 1.0 / max_fps if max_fps else 0.0
        self._next_due: float | None = None
        self._last_time: float | None = None  # time of the last frame offered to the rate gate
        self._failure_limit = failure_limit
        self._emit = emit
        self._cond = threading.Condition()
        self._slot: Any = None
        self._events: collections.deque[Event] = collections.deque(maxlen=event_queue_size)
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start_failed = False
        # counters (written by the worker thread, or by the feeder under the condition's lock)
        self.frames = self.drops = self.skipped = self.events_in = self.event_drops = 0
        self.events_out = self.errors = self.consecutive_errors = 0
        self.disabled = False
        self.disabled_reason: str | None = None
        self._latency_sum = 0.0
        self._latency_max = 0.0
        self._done_times: collections.deque[float] = collections.deque(maxlen=1024)
        self._t_start = 0.0

    # -- feeding side (reader thread / event router): never blocks -----------------------------------------
    def offer_frame(self, frame: Any, frame_time: float) -> None:
        """Offer a frame, subject to ``max_fps`` (by frame time) and the latest-frame slot."""
        if self.disabled or not self.instance.has_frame:
            return
        if self._period:
            due, last = self._next_due, self._last_time
            self._last_time = frame_time
            if due is not None and last is not None and frame_time < last:
                # the clock stepped back: a live stream re-anchors its wall clock once the first packets are in
                # (GStreamer's RTSP server gives the first two pictures the same pts), so the frames right after
                # the start look "early"; start the schedule again instead of skipping them until it catches up
                due = None
            # a 10 % tolerance keeps e.g. 5 fps from a 10 fps stream despite capture-time jitter
            if due is not None and frame_time < due - 0.1 * self._period:
                self.skipped += 1
                return
            # advance on the schedule, but never let a backlog of missed slots accumulate
            base = frame_time if due is None or frame_time - due > self._period else due
            self._next_due = base + self._period
        with self._cond:
            if self._slot is not None:
                self.drops += 1
            self._slot = frame
            self._cond.notify()

    def offer_event(self, event: Event) -> None:
        """Queue an event for ``on_event`` (oldest dropped when the queue is full)."""
        if self.disabled or not self.instance.has_event:
            return
        with self._cond:
            if len(self._events) == self._events.maxlen:
                self.event_drops += 1
            self._events.append(event)
            self._cond.notify()

    # -- life cycle --------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"kedirivms-plugin-{self.camera}-{self.name}", daemon=True
        )
        self._thread.start()

    def request_stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()

    def join(self, timeout: float) -> bool:
        """Wait for the worker thread; ``False`` if it is still stuck in a hook."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- worker thread -----------------------------------------------------------------------------------------
    def _run(self) -> None:
        ctx = self.instance.ctx
        self._t_start = time.monotonic()
        ok = self._call("on_start", self.instance.on_start, {"camera": ctx.camera, "config": ctx.config})
        if not ok:
            self._start_failed = True
            self._disable("on_start raised")
        while True:
            with self._cond:
                while not self._stopping and self._slot is None and not self._events:
                    self._cond.wait()
                if self._stopping:
                    break
                event = self._events.popleft() if self._events else None
                frame = None
                if event is None:
                    frame, self._slot = self._slot, None
            if self.disabled:
                continue
            if event is not None:
                self.events_in += 1
                self._call("on_event", self.instance.on_event, {"event": event}, from_event=True)
            elif frame is not None:
                self._frame(frame)
            frame = event = None  # do not keep the decoder's picture alive while idle
        if not self._start_failed:
            self._call("on_stop", self.instance.on_stop, {}, count=False)
        with self._cond:
            self._slot = None  # release the last frame view
            self._events.clear()

    def _frame(self, frame: Any) -> None:
        ctx = self.instance.ctx
        ctx.seq += 1
        ctx.dropped = self.drops
        ctx.frame_time = getattr(frame, "time", None)
        t0 = time.perf_counter()
        ok = self._call("on_frame", self.instance.on_frame, {"frame": frame}, frame=frame)
        dt = time.perf_counter() - t0
        ctx.frame_time = None
        if ok:
            self.frames += 1
            self._latency_sum += dt
            self._latency_max = max(self._latency_max, dt)
            self._done_times.append(time.monotonic())

    def _call(
        self,
        hook: str,
        caller: Any,
        kwargs: dict[str, Any],
        *,
        frame: Any = None,
        from_event: bool = False,
        count: bool = True,
    ) -> bool:
        ctx = self.instance.ctx
        try:
            events = _as_events(caller(ctx=ctx, **kwargs))
        except Exception as exc:  # a plugin may raise anything; it must not take the pipeline down
            self.errors += 1
            self.consecutive_errors += 1
            where = f" frame #{getattr(frame, 'index', '?')} pts={getattr(frame, 'pts', None)}" if frame else ""
            message = "analytics plugin %r on camera %r: %s failed%s (%d in a row, %d total): %s: %s"
            args = (self.name, self.camera, hook, where, self.consecutive_errors, self.errors)
            if self.errors <= _TRACEBACKS:
                _log.error(message, *args, type(exc).__name__, exc, exc_info=not isinstance(exc, _NotEvents))
            else:
                _log.warning(message, *args, type(exc).__name__, exc)
            if count and self.consecutive_errors >= self._failure_limit and not self.disabled:
                self._disable(f"{self.consecutive_errors} consecutive failures, last in {hook}: {exc}")
            return False
        if count:
            self.consecutive_errors = 0
        if events:
            self.events_out += len(events)
            self._emit(events, self, from_event)
        return True

    def _disable(self, reason: str) -> None:
        self.disabled = True
        self.disabled_reason = reason
        _log.error("analytics plugin %r disabled on camera %r: %s", self.name, self.camera, reason)
        with self._cond:
            self._slot = None
            self._events.clear()

    def metrics(self) -> PluginMetrics:
        now = time.monotonic()
        window = min(_FPS_WINDOW, now - self._t_start) if self._t_start else 0.0
        recent = sum(1 for t in list(self._done_times) if now - t <= window)
        fps = recent / window if window > 0.2 else 0.0
        frames = self.frames
        return PluginMetrics(
            camera=self.camera,
            plugin=self.name,
            version=self.instance.info.version,
            max_fps=self.max_fps,
            fps=round(fps, 3),
            latency_ms=round(1000 * self._latency_sum / frames, 3) if frames else 0.0,
            latency_max_ms=round(1000 * self._latency_max, 3),
            frames=frames,
            drops=self.drops,
            skipped=self.skipped,
            events_in=self.events_in,
            event_drops=self.event_drops,
            events=self.events_out,
            errors=self.errors,
            consecutive_errors=self.consecutive_errors,
            disabled=self.disabled,
            disabled_reason=self.disabled_reason,
        )
