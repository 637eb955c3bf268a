"""Keeping cameras running: each camera's pipeline on its own thread, connected concurrently (bounded) and
retried forever with capped, jittered back-off when it cannot be reached at start or is lost later.

::

    add(target[, connected]) --thread--> [connect slot] -> pipeline.start() --ok--> running (watch: lost? -> close,
                                                                                                    retry)
                                                 \\--error--> retrying: wait min(cap, first * 2**n) * U(0.5, 1)
    remove(name) / close()  -> pipeline.close() (before returning: a worker relies on it for fencing)
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kedirivms.deploy.pipeline import CameraPipeline
from kedirivms.errors import InvalidArgument, KedirivmsError
from kedirivms.fleet import CameraTarget
from kedirivms.onvif import ConnectResult

__all__ = ["CameraState", "CameraStatus", "CameraSupervisor"]

log = logging.getLogger("kedirivms.deploy")


class CameraState(enum.StrEnum):
    """Where a supervised camera is: ``waiting`` (for a connect slot), ``connecting``, ``running``,
    ``retrying`` (back-off after a failure), ``stopped``."""

    WAITING = "waiting"
    CONNECTING = "connecting"
    RUNNING = "running"
    RETRYING = "retrying"
    STOPPED = "stopped"


@dataclass
class CameraStatus:
    """A snapshot of one supervised camera (``--json`` and status tables show these fields).

    Attributes:
        name: the camera.
        state: see :class:`CameraState`.
        connected: the pipeline is up now.
        attempts: failed connects since it last ran.
        error: the last failure (credentials never included).
        retry_in: seconds until the next attempt (while retrying).
        frames: frames seen by the running pipeline.
        last_frame_time: wall-clock time the frame count last grew (None: no frame yet).
        analytics_uri: the analytics stream URI (credentials never included).
        recorder: the recorder's state (None when the camera is not recorded).
        segments: segments the recorder closed.
        since: wall-clock time of the last state change.
    """

    name: str
    state: CameraState = CameraState.WAITING
    connected: bool = False
    attempts: int = 0
    error: str | None = None
    retry_in: float | None = None
    frames: int = 0
    last_frame_time: float | None = None
    analytics_uri: str | None = None
    recorder: str | None = None
    segments: int = 0
    since: float = 0.0


class _Slot:
    """One camera's thread and its pipeline."""

    def __init__(self, target: CameraTarget, first: ConnectResult | None) -> None:
        self.target = target
        self.first = first  # the outcome of a connect made before supervision (used by the first attempt)
        self.status = CameraStatus(target.name, since=time.time())
        self.stop = threading.Event()
        self.pipeline: CameraPipeline | None = None
        self.thread: threading.Thread | None = None
        self.retry_at: float | None = None


class CameraSupervisor:
    """Run camera pipelines and keep them running.

    Args:
        make_pipeline: builds a (not started) pipeline for a camera.
        max_connects: cameras connecting at once (connects run concurrently up to this bound).
        backoff: (first, cap) retry delay in seconds; each delay is jittered to 50..100 %.
        check_interval: how often a running pipeline is checked for loss and frames, seconds.
        on_change: called with a camera's status after each state change (on the camera's thread).

    Example:
        >>> sup = CameraSupervisor(lambda t: CameraPipeline(t, print))  # doctest: +SKIP
        >>> sup.add(fleet.camera("loket-1")); time.sleep(10); print(sup.statuses())  # doctest: +SKIP
        >>> sup.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        make_pipeline: Callable[[CameraTarget], CameraPipeline],
        *,
        max_connects: int = 8,
        backoff: tuple[float, float] = (1.0, 30.0),
        check_interval: float = 0.5,
        on_change: Callable[[CameraStatus], None] | None = None,
    ) -> None:
        if max_connects < 1 or backoff[0] <= 0 or backoff[1] < backoff[0] or check_interval <= 0:
            raise InvalidArgument("max_connects >= 1, 0 < backoff first <= cap, check_interval > 0")
        self._make = make_pipeline
        self._connects = threading.BoundedSemaphore(max_connects)
        self._backoff = backoff
        self._check = check_interval
        self._on_change = on_change
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot] = {}
        self._closed = False

    # -- public -------------------------------------------------------------------------------------------------
    def add(self, target: CameraTarget, connected: ConnectResult | None = None) -> None:
        """Start supervising a camera (no-op if it already is).

        Args:
            target: the camera.
            connected: the result of connecting it already (:func:`kedirivms.connect_cameras`): its camera is
                used by the first start (the supervisor then owns it), or its error counts as the first failed
                attempt (retried after back-off).
        """
        with self._lock:
            if self._closed or target.name in self._slots:
                if connected is not None and connected.camera is not None:
                    connected.camera.close()
                return
            slot = _Slot(target, connected)
            self._slots[target.name] = slot
            slot.thread = threading.Thread(target=self._run, args=(slot,), name=f"kedirivms-cam-{target.name}")
            slot.thread.daemon = True
            slot.thread.start()

    def remove(self, name: str, timeout: float = 10.0) -> bool:
        """Stop a camera's pipeline and forget it; returns once the pipeline is closed (or ``timeout`` passed).

        Returns:
            ``True`` if the pipeline is known to be closed.
        """
        with self._lock:
            slot = self._slots.pop(name, None)
        if slot is None:
            return True
        slot.stop.set()
        pipeline = slot.pipeline
        if pipeline is not None:
            pipeline.close()  # closing from here too: a connect in progress must not outlive the stop
        if slot.thread is not None:
            slot.thread.join(timeout)
            return not slot.thread.is_alive()
        return True

    def names(self) -> list[str]:
        """The cameras supervised now."""
        with self._lock:
            return sorted(self._slots)

    def statuses(self) -> dict[str, CameraStatus]:
        """A snapshot of every supervised camera's status."""
        with self._lock:
            slots = list(self._slots.values())
        out = {}
        for slot in slots:
            st = slot.status
            if slot.retry_at is not None and st.state is CameraState.RETRYING:
                st.retry_in = max(0.0, slot.retry_at - time.monotonic())
            out[slot.target.name] = CameraStatus(**vars(st))
        return out

    def pipeline(self, name: str) -> CameraPipeline | None:
        """The running pipeline of a camera (None while it is not running)."""
        with self._lock:
            slot = self._slots.get(name)
        return slot.pipeline if slot is not None else None

    def close(self, timeout: float = 10.0) -> None:
        """Stop every camera (pipelines closed in parallel); idempotent."""
        with self._lock:
            self._closed = True
            names = list(self._slots)
        threads = [threading.Thread(target=self.remove, args=(n, timeout)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout + 1.0)

    def __enter__(self) -> CameraSupervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- camera thread ------------------------------------------------------------------------------------------
    def _set(self, slot: _Slot, state: CameraState, **changes: object) -> None:
        st = slot.status
        st.state, st.since = state, time.time()
        for key, value in changes.items():
            setattr(st, key, value)
        if self._on_change is not None:
            try:
                self._on_change(CameraStatus(**vars(st)))
            except Exception:
                log.exception("camera %s: status callback failed", st.name)

    def _delay(self, attempts: int) -> float:
        first, cap = self._backoff
        return min(cap, first * 2 ** min(attempts - 1, 30)) * random.uniform(0.5, 1.0)

    def _run(self, slot: _Slot) -> None:
        name = slot.target.name
        while not slot.stop.is_set():
            first, slot.first = slot.first, None
            self._set(slot, CameraState.WAITING)
            with self._connects:
                if slot.stop.is_set():
                    if first is not None and first.camera is not None:
                        first.camera.close()
                    break
                self._set(slot, CameraState.CONNECTING)
                pipeline = self._make(slot.target)
                slot.pipeline = pipeline
                try:
                    if first is not None and first.error is not None:
                        raise first.error
                    if first is not None and first.camera is not None:
                        pipeline.start(first.camera)
                    else:
                        pipeline.start()
                except KedirivmsError as exc:
                    error: str | None = str(exc)
                except Exception as exc:  # a bug in one camera's set-up must not end its supervision
                    log.exception("camera %s: unexpected error while starting", name)
                    error = f"{type(exc).__name__}: {exc}"
                else:
                    error = None
            if error is not None:
                slot.pipeline = None
                pipeline.close()
                if slot.stop.is_set():
                    break  # removed while connecting: not a failure
                slot.status.attempts += 1
                delay = self._delay(slot.status.attempts)
                slot.retry_at = time.monotonic() + delay
                self._set(slot, CameraState.RETRYING, connected=False, error=error, retry_in=delay)
                log.warning("camera %s: %s; retry %d in %.1f s", name, error, slot.status.attempts, delay)
                slot.stop.wait(delay)
                continue
            if slot.stop.is_set():
                pipeline.close()
                break
            self._set(
                slot,
                CameraState.RUNNING,
                connected=True,
                attempts=0,
                error=None,
                retry_in=None,
                analytics_uri=pipeline.analytics_uri,
            )
            self._watch(slot, pipeline)
            slot.pipeline = None
            pipeline.close()
            if not slot.stop.is_set():
                slot.status.attempts += 1
                delay = self._delay(slot.status.attempts)
                slot.retry_at = time.monotonic() + delay
                self._set(slot, CameraState.RETRYING, connected=False, error="stream lost", retry_in=delay)
                slot.stop.wait(delay)
        self._set(slot, CameraState.STOPPED, connected=False, retry_in=None)

    def _watch(self, slot: _Slot, pipeline: CameraPipeline) -> None:
        while not slot.stop.wait(self._check):
            frames = pipeline.frames()
            if frames > slot.status.frames:
                slot.status.last_frame_time = time.time()
            slot.status.frames = frames
            recorder = pipeline.recorder
            if recorder is not None:
                stats = recorder.stats
                slot.status.recorder, slot.status.segments = str(stats.state), stats.segments
            if pipeline.lost():
                log.warning("camera %s: stream lost; reconnecting", slot.target.name)
                return
