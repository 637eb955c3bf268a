"""A running deployment: ONVIF cameras, their streams, the analytics runner, recorders and camera events.

Per camera: one stream of the analytics profile feeds the plugins, one stream of the recording profile feeds the
recorder (no decoding); when both are the same profile, a single RTSP connection feeds both. Camera events from a
managed PullPoint go to the plugins' ``on_event`` and to the sinks. A camera that cannot be reached at start is
reported and skipped; the others run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kedirivms.analytics import AnalyticsRunner, CameraAnalytics, Event, PluginSettings
from kedirivms.analytics.runner import RunnerMetrics
from kedirivms.analytics.zones import Zones
from kedirivms.deploy.config import DeployCamera, DeploymentConfig
from kedirivms.errors import ConfigError, KedirivmsError
from kedirivms.onvif import Camera, Profile, Timeouts
from kedirivms.provision.inventory import resolve_secret
from kedirivms.record import Recorder, SegmentIndex
from kedirivms.sinks import Sink, build_sink
from kedirivms.stream import open_stream

__all__ = ["CameraStatus", "Deployment"]

log = logging.getLogger("kedirivms.deploy")


@dataclass
class CameraStatus:
    """What happened to one camera of a deployment."""

    name: str
    connected: bool = False
    error: str | None = None
    analytics_uri: str | None = None
    recording_uri: str | None = None
    recorder: Recorder | None = None
    camera: Camera | None = None
    subscription: Any = None
    streams: list[Any] = field(default_factory=list)


class Deployment:
    """Run a :class:`DeploymentConfig`: ``start()``, then ``metrics()`` / ``statuses`` while it runs, ``stop()``.

    Args:
        config: the validated deployment.
        extra_sinks: sinks added in code (e.g. a callback feeding a live table); the runner owns and closes them.
        base_dir: folder that relative password files are relative to (default: the current folder).

    Example:
        >>> with Deployment(load_deployment("site.yaml")) as dep:  # doctest: +SKIP
        ...     time.sleep(60); print(dep.metrics())
    """

    def __init__(
        self, config: DeploymentConfig, *, extra_sinks: Sequence[Sink] = (), base_dir: Path | None = None
    ) -> None:
        self.config = config
        self._extra_sinks = list(extra_sinks)
        self._base = base_dir or Path.cwd()
        self.statuses: dict[str, CameraStatus] = {c.name: CameraStatus(c.name) for c in config.cameras}
        self.runner: AnalyticsRunner | None = None
        self.index: SegmentIndex | None = None

    # ------------------------------------------------------------------------------------------- life cycle
    def start(self, on_progress: Callable[[CameraStatus], None] | None = None) -> Deployment:
        """Connect every camera, then start recorders, the analytics runner and event subscriptions.

        Raises:
            ConfigError: the sinks or plugins are misconfigured (nothing is left running).
        """
        sinks = [build_sink(s) for s in self.config.sinks] + self._extra_sinks
        analytics: list[CameraAnalytics] = []
        feeders: list[tuple[str, Any]] = []
        for cam_cfg in self.config.cameras:
            status = self.statuses[cam_cfg.name]
            try:
                plan = self._connect(cam_cfg, status)
            except KedirivmsError as exc:
                status.error = str(exc)
                log.warning("camera %s skipped: %s", cam_cfg.name, exc)
            else:
                if plan is not None:
                    analytics.append(plan[0])
                    if plan[1] is not None:
                        feeders.append((cam_cfg.name, plan[1]))
            if on_progress is not None:
                on_progress(status)
        self.runner = AnalyticsRunner(analytics, sinks)
        self.runner.start()
        for name, stream in feeders:  # one RTSP connection feeds both the recorder and the plugins
            runner = self.runner
            stream.on_frame(lambda frame, name=name, runner=runner: runner.feed(name, frame))
        for status in self.statuses.values():
            for stream in status.streams:
                stream.start()
            if status.recorder is not None:
                status.recorder.start()
            self._subscribe(status)
        return self

    def stop(self) -> None:
        """Stop subscriptions, the runner (and its sinks), recorders, streams and camera sessions. Idempotent."""
        for status in self.statuses.values():
            if status.subscription is not None:
                status.subscription.close()
                status.subscription = None
        if self.runner is not None:
            self.runner.stop()
        for status in self.statuses.values():
            if status.recorder is not None:
                status.recorder.stop()
            for stream in status.streams:
                stream.close()
            status.streams.clear()
            if status.camera is not None:
                status.camera.close()
        if self.index is not None:
            self.index.close()
            self.index = None

    def __enter__(self) -> Deployment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def metrics(self) -> RunnerMetrics | None:
        """The analytics runner's metrics (plugins, streams, sinks)."""
        return self.runner.metrics() if self.runner is not None else None

    # ---------------------------------------------------------------------------------------------- cameras
    def _connect(self, cfg: DeployCamera, status: CameraStatus) -> tuple[CameraAnalytics, Any] | None:
        password = resolve_secret(cfg.credentials, self._base, camera=cfg.name) if cfg.credentials else None
        camera = Camera(
            cfg.address,
            username=cfg.credentials.username if cfg.credentials else None,
            password=password,
            timeout=Timeouts(connect=min(3.0, cfg.timeout), read=cfg.timeout),
            auth=cfg.auth,  # type: ignore[arg-type]
            name=cfg.name,
        )
        camera.connect()
        status.camera, status.connected = camera, True
        profiles = [p for p in camera.profiles() if p.channel == cfg.channel]
        if not profiles:
            raise ConfigError(f"no profile on channel {cfg.channel}", camera=cfg.name, hint="check 'channel'")
        analytics_profile = _pick(profiles, cfg.analytics_profile, smallest=True, camera=cfg.name)
        recording_profile = _pick(profiles, cfg.recording_profile, smallest=False, camera=cfg.name)
        transport: Literal["tcp", "udp"] = "udp" if cfg.transport == "udp" else "tcp"
        plugins = [_with_zones(p, cfg) for p in cfg.plugins]
        record = cfg.record and self.config.recording is not None
        shared = record and plugins and analytics_profile.token == recording_profile.token
        analytics_uri = camera.stream_uri(analytics_profile, transport)
        status.analytics_uri = analytics_uri.uri
        feeder = None
        if record:
            rec_uri = camera.stream_uri(recording_profile, transport)
            status.recording_uri = rec_uri.uri
            stream = open_stream(rec_uri.with_credentials(), transport=transport, decode=bool(shared))
            status.streams.append(stream)
            status.recorder = self._recorder(cfg.name, stream)
            if shared:
                feeder = stream
        if not plugins:
            return None
        source = None if shared else analytics_uri.with_credentials()
        return CameraAnalytics(name=cfg.name, source=source, plugins=plugins, transport=transport), feeder

    def _recorder(self, name: str, stream: Any) -> Recorder:
        rec = self.config.recording
        assert rec is not None
        if self.index is None:
            Path(rec.root).mkdir(parents=True, exist_ok=True)
            self.index = SegmentIndex(rec.root)
        return Recorder(
            stream, rec.root, name, segment_seconds=rec.segment_seconds, retention=rec.retention, index=self.index
        )

    def _subscribe(self, status: CameraStatus) -> None:
        cfg = next(c for c in self.config.cameras if c.name == status.name)
        if not cfg.events or status.camera is None or self.runner is None:
            return
        if not status.camera.has_service("events"):
            return
        runner, name = self.runner, status.name
        try:
            status.subscription = status.camera.events.subscribe(
                lambda ev: runner.submit_event(Event.from_camera_event(name, ev)), termination=60.0
            )
        except KedirivmsError as exc:
            log.warning("camera %s: no event subscription: %s", name, exc)


def _pick(profiles: list[Profile], token: str | None, *, smallest: bool, camera: str) -> Profile:
    if token is not None:
        for p in profiles:
            if p.token == token:
                return p
        valid = ", ".join(p.token for p in profiles)
        raise ConfigError(f"no profile {token!r}", camera=camera, hint=f"valid profiles: {valid}")
    ranked = sorted(profiles, key=lambda p: (p.width or 0) * (p.height or 0))
    return ranked[0] if smallest else ranked[-1]


def _with_zones(settings: PluginSettings, cfg: DeployCamera) -> PluginSettings:
    """Give zone-aware plugins (the queue plugin) the camera's zones unless their config has its own."""
    if settings.name != "queue" or "zones" in settings.config or not cfg.zones:
        return settings
    zones = Zones(zones=tuple(cfg.zones)).model_dump(mode="json")
    return settings.model_copy(update={"config": {**settings.config, "zones": zones}})
