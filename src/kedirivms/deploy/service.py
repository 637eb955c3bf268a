"""A running fleet file on one host (``kedirivms run``): every camera's pipeline kept running by a
:class:`~kedirivms.deploy.CameraSupervisor`, events to the fleet's sinks.

At start the whole fleet is connected by :func:`kedirivms.connect_cameras` (at most ``max_connects`` at once, in
the background), each camera handed to the supervisor as soon as its connect ends. A camera that cannot be reached
at start, or is lost later, is retried with capped, jittered back-off for as long as the deployment runs (its
status says so); the others run meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from kedirivms.analytics import AnalyticsRunner, CameraAnalytics, Event
from kedirivms.analytics.runner import RunnerMetrics, RunnerState
from kedirivms.deploy.pipeline import CameraPipeline, _with_zones
from kedirivms.deploy.supervisor import CameraStatus, CameraSupervisor
from kedirivms.errors import KedirivmsError
from kedirivms.fleet import CameraTarget, LoadedFleet
from kedirivms.fleet._camera import camera_for
from kedirivms.onvif import connect_cameras
from kedirivms.record import SegmentIndex
from kedirivms.sinks import Sink, build_sink

__all__ = ["Deployment", "validate_plugins"]

log = logging.getLogger("kedirivms.deploy")


def validate_plugins(targets: Sequence[CameraTarget]) -> None:
    """Check every camera's plugin list and configs before anything starts.

    Raises:
        ConfigError: a plugin is listed twice.
        PluginError: a plugin is not installed.
        PluginValidationError: a plugin config does not validate (names camera, plugin and field).
    """
    AnalyticsRunner(
        [CameraAnalytics(name=t.name, plugins=[_with_zones(p, t) for p in t.plugins]) for t in targets if t.plugins]
    )


class SharedIndex:
    """The host's one :class:`SegmentIndex` under the recording root, opened on first use (thread-safe)."""

    def __init__(self, root: str | None) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._index: SegmentIndex | None = None

    def __call__(self) -> SegmentIndex:
        with self._lock:
            if self._index is None:
                assert self._root is not None
                Path(self._root).mkdir(parents=True, exist_ok=True)
                self._index = SegmentIndex(self._root)
            return self._index

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None


class Deployment:
    """Run the cameras of a fleet file: :meth:`start`, then :attr:`statuses` / :meth:`metrics`, then :meth:`close`.

    Args:
        fleet: the loaded fleet file.
        only: camera names or site ids to run (default: all).
        extra_sinks: sinks added in code (e.g. a callback feeding a live table); the deployment closes them.
        max_connects: cameras connecting at once.
        backoff: (first, cap) retry delay for unreachable or lost cameras, seconds.

    Example:
        >>> with Deployment(load_fleet("fleet.yaml")) as dep:  # doctest: +SKIP
        ...     time.sleep(60); print(dep.metrics())
    """

    def __init__(
        self,
        fleet: LoadedFleet,
        *,
        only: Sequence[str] | None = None,
        extra_sinks: Sequence[Sink] = (),
        max_connects: int = 8,
        backoff: tuple[float, float] = (1.0, 30.0),
    ) -> None:
        self.fleet = fleet
        self.targets = fleet.cameras(only)
        self._extra_sinks = list(extra_sinks)
        self._sinks: list[Sink] = []
        self._index = SharedIndex(fleet.recording.root if fleet.recording else None)
        self._events = 0
        self._lock = threading.Lock()
        self._state = RunnerState.NEW
        self._max_connects = max_connects
        self._connecting: threading.Thread | None = None
        self.supervisor = CameraSupervisor(self._pipeline, max_connects=max_connects, backoff=backoff)

    @property
    def statuses(self) -> dict[str, CameraStatus]:
        """Every camera's status now (state, attempts, last error, retry_in, frames)."""
        out = {t.name: CameraStatus(t.name) for t in self.targets}
        out.update(self.supervisor.statuses())
        return out

    def start(self) -> Deployment:
        """Validate plugins, start the sinks, then supervise every camera (connects run concurrently).

        Raises:
            ConfigError: the sinks or plugins are misconfigured (nothing is left running).
        """
        validate_plugins(self.targets)
        try:
            self._sinks = [build_sink(s) for s in self.fleet.sinks] + self._extra_sinks
            for sink in self._sinks:
                sink.start()
        except BaseException:
            self.close()
            raise
        self._state = RunnerState.RUNNING
        self._connecting = threading.Thread(target=self._connect_all, name="kedirivms-fleet-connect", daemon=True)
        self._connecting.start()
        return self

    def wait_tried(self, timeout: float) -> bool:
        """Wait until every camera has run or failed at least once; True if so within ``timeout`` seconds."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(s.connected or s.attempts for s in self.statuses.values()):
                return True
            time.sleep(0.1)
        return False

    def close(self) -> None:
        """Stop every camera, then the sinks (delivering what they hold) and the index. Idempotent."""
        self.supervisor.close()  # from now on it refuses (and closes) cameras the first connects still hand over
        if self._connecting is not None:
            self._connecting.join(max((t.timeout for t in self.targets), default=0.0) + 5.0)
        for sink in self._sinks or self._extra_sinks:
            sink.close()
        self._index.close()
        self._state = RunnerState.STOPPED

    def __enter__(self) -> Deployment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def metrics(self) -> RunnerMetrics:
        """Per-camera analytics metrics and the sinks' counters."""
        cameras = []
        for name in self.supervisor.names():
            pipeline = self.supervisor.pipeline(name)
            m = pipeline.metrics() if pipeline is not None else None
            if m is not None:
                cameras.append(m)
        sinks = [s.stats for s in self._sinks]
        return RunnerMetrics(state=self._state, events=self._events, cameras=cameras, sinks=sinks)

    # ---------------------------------------------------------------------------------------------- internals
    def _connect_all(self) -> None:
        """Connect every camera at once (bounded) and hand each to the supervisor as its connect ends."""
        targets = {t.name: t for t in self.targets}
        cameras = []
        for target in self.targets:
            try:
                cameras.append(camera_for(target, self.fleet.base_dir)[0])
            except KedirivmsError:  # e.g. a password file missing: the supervisor retries and reports it
                self.supervisor.add(target)
        try:
            connect_cameras(
                cameras,
                concurrency=self._max_connects,
                on_result=lambda r: self.supervisor.add(targets[r.target], r),
            )
        except Exception:  # noqa: BLE001 - never leave a camera unsupervised
            log.exception("connecting the fleet failed; the supervisor connects the cameras one by one")
        for target in self.targets:
            self.supervisor.add(target)  # no-op for those handed over already

    def _emit(self, event: Event) -> None:
        with self._lock:
            self._events += 1
        for sink in self._sinks:
            sink.submit(event)

    def _pipeline(self, target: CameraTarget) -> CameraPipeline:
        return CameraPipeline(
            target,
            self._emit,
            recording=self.fleet.recording,
            index=self._index if self.fleet.recording else None,
            base_dir=self.fleet.base_dir,
        )
