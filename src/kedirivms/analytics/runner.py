"""The analytics runner: per camera, a reader thread feeds plugin workers; events go to sinks.

::

    camera stream --reader thread--> [latest-frame slot] -> plugin A thread --+
                                 \\-> [latest-frame slot] -> plugin B thread --+--> sinks (own threads)
    runner.submit_event(e) ------------> on_event queues ----------------------+

Threads: one reader per camera with a ``source`` (cameras without one are fed with :meth:`AnalyticsRunner.feed`),
one worker per plugin per camera, one per sink. None start before :meth:`AnalyticsRunner.start`;
:meth:`AnalyticsRunner.stop` (from any thread, idempotent) stops and joins them all.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kedirivms._redact import redact_url
from kedirivms.analytics._manager import PluginInfo, PluginInstance, PluginRegistry, validate_config
from kedirivms.analytics._worker import PluginMetrics, PluginWorker
from kedirivms.analytics.events import Event
from kedirivms.analytics.hookspecs import CameraInfo
from kedirivms.errors import ConfigError, InvalidArgument, KedirivmsError, StreamClosed
from kedirivms.sinks import Sink, SinkStats

__all__ = [
    "AnalyticsRunner",
    "CameraAnalytics",
    "CameraMetrics",
    "PluginMetrics",
    "PluginSettings",
    "RunnerMetrics",
    "RunnerState",
]

_log = logging.getLogger("kedirivms.analytics")


class PluginSettings(BaseModel):
    """One plugin enabled on one camera.

    Example:
        >>> PluginSettings(name="queue", config={"pile_up_length": 5}, max_fps=5)
        PluginSettings(name='queue', config={'pile_up_length': 5}, max_fps=5.0, enabled=True)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Registered plugin name (entry-point or built-in).")
    config: dict[str, Any] = Field(default_factory=dict, description="Options validated by the plugin's Config.")
    max_fps: float | None = Field(default=None, gt=0, description="Override the plugin's own max_fps.")
    enabled: bool = Field(default=True, description="Set false to keep the entry but not run it.")


class CameraAnalytics(BaseModel):
    """Analytics for one camera: where frames come from and which plugins see them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Camera name (events, MQTT topics).")
    source: str | None = Field(
        default=None,
        repr=False,
        description="Stream URL (rtsp://, file path); None when frames are pushed with AnalyticsRunner.feed().",
    )
    plugins: list[PluginSettings] = Field(default_factory=list, description="Plugins run on this camera.")
    max_fps: float | None = Field(
        default=None,
        gt=0,
        description="Decode at most this many frames/s (default: the fastest plugin's max_fps, when all have one).",
    )
    timeout: tuple[float, float] = Field(default=(5.0, 5.0), description="(open, read) stream time-outs, s.")
    transport: Literal["tcp", "udp"] = Field(default="tcp", description="RTSP lower transport.")
    reconnect: bool = Field(default=True, description="Reconnect a live stream that drops.")


class RunnerState(enum.StrEnum):
    """Life cycle of an :class:`AnalyticsRunner`: ``new -> running -> stopped``."""

    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


class CameraMetrics(BaseModel):
    """Per-camera snapshot: frames fed, the reader's state and each plugin's counters."""

    model_config = ConfigDict(frozen=True)

    camera: str = Field(description="Camera name.")
    reader: str = Field(description="Reader state: idle, opening, running, ended, failed, stopped, external.")
    frames: int = Field(description="Frames fed to the plugins.")
    reader_error: str | None = Field(default=None, description="Why the reader failed, if it did.")
    stream: dict[str, Any] | None = Field(default=None, description="The stream's own stats, when available.")
    plugins: list[PluginMetrics] = Field(description="Per-plugin counters.")


class RunnerMetrics(BaseModel):
    """A snapshot of the whole runner."""

    model_config = ConfigDict(frozen=True)

    state: RunnerState = Field(description="Runner state.")
    events: int = Field(description="Events routed (plugins and submitted camera events).")
    cameras: list[CameraMetrics] = Field(description="Per-camera metrics.")
    sinks: list[SinkStats] = Field(description="Per-sink counters.")


class _Pipeline:
    """One camera: the reader thread and the plugin workers."""

    def __init__(self, config: CameraAnalytics, workers: list[PluginWorker]) -> None:
        self.config = config
        self.workers = workers
        self.frames = 0
        self.reader_state = "idle" if config.source else "external"
        self.reader_error: str | None = None
        self.stream: Any = None
        self.thread: threading.Thread | None = None
        self.ended = threading.Event()
        if not config.source:
            self.ended.set()

    def feed(self, frame: Any) -> None:
        self.frames += 1
        t = getattr(frame, "time", None)
        frame_time = float(t) if t is not None else time.time()
        for worker in self.workers:
            worker.offer_frame(frame, frame_time)


class AnalyticsRunner:
    """Runs analytics plugins on cameras and sends their events to sinks.

    The runner owns the sinks it is given: it starts them in :meth:`start` and closes them in :meth:`stop`.

    Args:
        cameras: per-camera settings (unique names).
        sinks: where events go (see :func:`kedirivms.sinks.build_sink`); none is fine (metrics only).
        registry: the plugins available (default: built-ins plus ``kedirivms`` entry points).
        failure_limit: consecutive hook failures after which a plugin is disabled for that camera.
        event_queue_size: bound of each plugin's ``on_event`` queue.
        open_stream: the stream opener (default :func:`kedirivms.stream.open_stream`), injectable.

    Raises:
        ConfigError: duplicate camera names.
        PluginError: a plugin is not available.
        PluginValidationError: a plugin config does not validate (names camera, plugin and field).

    Example:
        >>> cams = [CameraAnalytics(name="c1", source="rtsp://127.0.0.1:8554/sub",
        ...                         plugins=[PluginSettings(name="queue")])]
        >>> with AnalyticsRunner(cams, sinks=[build_sink(JsonlSinkConfig(path="ev.jsonl"))]) as runner:
        ...     time.sleep(10)
        ...     print(runner.metrics())  # doctest: +SKIP
    """

    def __init__(
        self,
        cameras: Sequence[CameraAnalytics],
        sinks: Sequence[Sink] = (),
        *,
        registry: PluginRegistry | None = None,
        failure_limit: int = 5,
        event_queue_size: int = 256,
        open_stream: Callable[..., Any] | None = None,
    ) -> None:
        if failure_limit < 1 or event_queue_size < 1:
            raise InvalidArgument("failure_limit and event_queue_size must be >= 1", operation="AnalyticsRunner")
        names = [c.name for c in cameras]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ConfigError(f"camera names must be unique, repeated: {', '.join(dupes)}")
        self._cameras = list(cameras)
        self._sinks = list(sinks)
        self._registry = registry if registry is not None else PluginRegistry()
        self._failure_limit = failure_limit
        self._event_queue_size = event_queue_size
        self._open_stream = open_stream
        self._lock = threading.Lock()
        self._state = RunnerState.NEW
        self._pipelines: dict[str, _Pipeline] = {}
        self._events = 0
        # resolve plugins and validate every config now, so a bad deployment file fails before any thread
        self._plan: dict[str, list[tuple[PluginInfo, BaseModel, float | None]]] = {}
        for cam in self._cameras:
            plan = []
            seen: set[str] = set()
            for settings in cam.plugins:
                if not settings.enabled:
                    continue
                if settings.name in seen:
                    raise ConfigError(f"plugin {settings.name!r} listed twice", camera=cam.name)
                seen.add(settings.name)
                info = self._registry.get(settings.name)
                config = validate_config(info, cam.name, settings.config)
                plan.append((info, config, settings.max_fps or info.max_fps))
            self._plan[cam.name] = plan

    # -- life cycle --------------------------------------------------------------------------------------------
    @property
    def state(self) -> RunnerState:
        """The runner's state."""
        return self._state

    def start(self) -> AnalyticsRunner:
        """Start sinks, plugin workers and readers.

        Returns:
            The runner itself.

        Raises:
            InvalidArgument: the runner was already started.
            PluginError: a plugin could not be created (nothing is left running).
            KedirivmsError: a sink could not start, e.g. ``StorageError`` (nothing is left running).
        """
        with self._lock:
            if self._state is not RunnerState.NEW:
                raise InvalidArgument(f"the runner is {self._state.value}", operation="start")
            self._state = RunnerState.RUNNING
        try:
            for sink in self._sinks:
                sink.start()
            for cam in self._cameras:
                info = CameraInfo(name=cam.name, source=redact_url(cam.source or ""))
                workers = [
                    PluginWorker(
                        PluginInstance(plugin, info, config),
                        max_fps=max_fps,
                        failure_limit=self._failure_limit,
                        event_queue_size=self._event_queue_size,
                        emit=self._route,
                    )
                    for plugin, config, max_fps in self._plan[cam.name]
                ]
                self._pipelines[cam.name] = _Pipeline(cam, workers)
        except BaseException:
            self.stop()
            raise
        for pipeline in self._pipelines.values():
            for worker in pipeline.workers:
                worker.start()
            if pipeline.config.source:
                pipeline.thread = threading.Thread(
                    target=self._read, args=(pipeline,), name=f"kedirivms-reader-{pipeline.config.name}", daemon=True
                )
                pipeline.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop readers, let plugins finish (``on_stop``), flush and close the sinks; idempotent, any thread.

        Args:
            timeout: overall seconds to wait; a plugin stuck in a hook longer is logged and abandoned.
        """
        with self._lock:
            if self._state is RunnerState.STOPPED:
                return
            self._state = RunnerState.STOPPED
        me = threading.current_thread()
        deadline = time.monotonic() + timeout
        for pipeline in self._pipelines.values():
            stream = pipeline.stream
            if stream is not None:
                try:
                    stream.close()
                except Exception as exc:  # closing must not stop the rest of the shutdown
                    _log.warning("closing the stream of camera %r failed: %s", pipeline.config.name, exc)
        for pipeline in self._pipelines.values():
            if pipeline.thread is not None and pipeline.thread is not me:
                pipeline.thread.join(max(0.1, deadline - time.monotonic()))
                if pipeline.thread.is_alive():
                    _log.warning("reader of camera %r did not stop in time", pipeline.config.name)
            for worker in pipeline.workers:
                worker.request_stop()
        for pipeline in self._pipelines.values():
            for worker in pipeline.workers:
                if worker._thread is me:
                    continue
                if not worker.join(max(0.1, deadline - time.monotonic())):
                    _log.warning(
                        "analytics plugin %r on camera %r is stuck in a hook; its thread is abandoned",
                        worker.name,
                        worker.camera,
                    )
        for sink in self._sinks:
            sink.close(timeout=max(0.1, deadline - time.monotonic()))

    def __enter__(self) -> AnalyticsRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every reader has ended (file sources run out, or readers failed).

        Returns:
            ``True`` if all readers ended within ``timeout``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for pipeline in self._pipelines.values():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not pipeline.ended.wait(left):
                return False
        return True

    # -- frames and events in ----------------------------------------------------------------------------------
    def feed(self, camera: str, frame: Any) -> None:
        """Push a frame to a camera's plugins (for cameras whose frames come from elsewhere); never blocks.

        Raises:
            InvalidArgument: unknown camera, or the runner is not running.
        """
        self._pipeline(camera).feed(frame)

    def submit_event(self, event: Event) -> None:
        """Route a camera event (e.g. an ONVIF PullPoint message) to the camera's plugins and to the sinks.

        Never blocks. Events for a camera without analytics still reach the sinks.
        """
        pipeline = self._pipelines.get(event.camera)
        if pipeline is not None:
            for worker in pipeline.workers:
                worker.offer_event(event)
        self._to_sinks([event])

    def _pipeline(self, camera: str) -> _Pipeline:
        pipeline = self._pipelines.get(camera)
        if pipeline is None or self._state is not RunnerState.RUNNING:
            raise InvalidArgument(
                f"no running pipeline for camera {camera!r}",
                operation="feed",
                hint=f"cameras: {', '.join(self._pipelines) or 'none'}; call start() first",
            )
        return pipeline

    def _route(self, events: list[Event], origin: PluginWorker, from_event: bool) -> None:
        if not from_event:
            pipeline = self._pipelines.get(origin.camera)
            if pipeline is not None:
                for worker in pipeline.workers:
                    if worker is not origin:
                        for event in events:
                            worker.offer_event(event)
        self._to_sinks(events)

    def _to_sinks(self, events: Iterable[Event]) -> None:
        for event in events:
            with self._lock:
                self._events += 1
            for sink in self._sinks:
                sink.submit(event)

    # -- reader thread -----------------------------------------------------------------------------------------
    def _read(self, pipeline: _Pipeline) -> None:
        cam = pipeline.config
        assert cam.source is not None
        label = f"{cam.name} ({redact_url(cam.source or '')})"
        try:
            opener = self._open_stream
            if opener is None:
                from kedirivms.stream import open_stream

                opener = open_stream
            pipeline.reader_state = "opening"
            stream = opener(
                cam.source,
                timeout=cam.timeout,
                transport=cam.transport,
                max_fps=self._decode_cap(pipeline),
                reconnect=cam.reconnect,
            )
            pipeline.stream = stream
            if self._state is not RunnerState.RUNNING:
                stream.close()
                return
            pipeline.reader_state = "running"
            with stream:
                for frame in stream:
                    pipeline.feed(frame)
            pipeline.reader_state = "ended"
        except StreamClosed:
            pass
        except KedirivmsError as exc:
            if self._state is RunnerState.RUNNING:
                pipeline.reader_state = "failed"
                pipeline.reader_error = str(exc)
                _log.error("analytics reader of camera %s failed: %s", label, exc)
        except Exception as exc:  # never let a reader die silently
            pipeline.reader_state = "failed"
            pipeline.reader_error = f"{type(exc).__name__}: {exc}"
            _log.exception("analytics reader of camera %s crashed", label)
        finally:
            if self._state is not RunnerState.RUNNING and pipeline.reader_state in ("running", "opening"):
                pipeline.reader_state = "stopped"
            pipeline.ended.set()

    @staticmethod
    def _decode_cap(pipeline: _Pipeline) -> float | None:
        """The camera's ``max_fps``, else the fastest plugin's rate when every frame plugin has one."""
        if pipeline.config.max_fps is not None:
            return pipeline.config.max_fps
        rates = [w.max_fps for w in pipeline.workers if w.instance.has_frame]
        if not rates or any(r is None for r in rates):
            return None
        return max(r for r in rates if r is not None)

    # -- metrics -------------------------------------------------------------------------------------------------
    def metrics(self) -> RunnerMetrics:
        """A snapshot of every camera's, plugin's and sink's counters (cheap; safe from any thread)."""
        cameras = []
        for name, pipeline in self._pipelines.items():
            stream_stats = None
            stats = getattr(pipeline.stream, "stats", None)
            if isinstance(stats, BaseModel):
                stream_stats = stats.model_dump(mode="json")
            cameras.append(
                CameraMetrics(
                    camera=name,
                    reader=pipeline.reader_state,
                    frames=pipeline.frames,
                    reader_error=pipeline.reader_error,
                    stream=stream_stats,
                    plugins=[w.metrics() for w in pipeline.workers],
                )
            )
        return RunnerMetrics(
            state=self._state, events=self._events, cameras=cameras, sinks=[s.stats for s in self._sinks]
        )
