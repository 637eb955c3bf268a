"""One camera's pipeline: its ONVIF session, streams, analytics runner, recorder and camera-event subscription.

Per camera: one stream of the analytics profile feeds the plugins, one stream of the recording profile feeds the
recorder (no decoding); when both are the same profile, a single RTSP connection feeds both. Camera events from a
managed PullPoint go to the plugins' ``on_event`` and to the sinks. Each pipeline has its own
:class:`~kedirivms.analytics.AnalyticsRunner`, so cameras start and stop independently (``run`` retries the
unreachable ones; a worker starts and stops the cameras it leases).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from kedirivms.analytics import AnalyticsRunner, CameraAnalytics, Event, PluginSettings
from kedirivms.analytics.runner import CameraMetrics
from kedirivms.analytics.zones import Zones
from kedirivms.errors import ConfigError, KedirivmsError
from kedirivms.fleet import CameraTarget, RecordingSettings
from kedirivms.fleet._camera import camera_for
from kedirivms.onvif import Camera, Profile
from kedirivms.record import Recorder, SegmentIndex
from kedirivms.sinks import CallbackSink
from kedirivms.stream import open_stream

__all__ = ["CameraPipeline"]

log = logging.getLogger("kedirivms.deploy")


class CameraPipeline:
    """Run one camera of a fleet file: :meth:`start` connects and starts everything, :meth:`close` ends it.

    Args:
        target: the camera's effective settings (from :meth:`LoadedFleet.cameras`).
        emit: called with every event (plugin events and camera events), on a sink thread.
        recording: where to record (None: no recording).
        index: the segment index shared by the host's recorders (opened by the caller).
        base_dir: folder relative password files are relative to.

    Raises:
        ConfigError: a plugin or profile choice does not fit the camera (from :meth:`start`).
    """

    def __init__(
        self,
        target: CameraTarget,
        emit: Callable[[Event], object],
        *,
        recording: RecordingSettings | None = None,
        index: Callable[[], SegmentIndex] | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.target = target
        self._emit = emit
        self._recording = recording
        self._index = index
        self._base = base_dir or Path.cwd()
        self._lock = threading.Lock()
        self.camera: Camera | None = None
        self.runner: AnalyticsRunner | None = None
        self.recorder: Recorder | None = None
        self.analytics_uri: str | None = None
        self.recording_uri: str | None = None
        self._streams: list[Any] = []
        self._subscription: Any = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<kedirivms.deploy.CameraPipeline {self.target.name}>"

    def start(self, camera: Camera | None = None) -> CameraPipeline:
        """Connect to the camera and start its streams, runner, recorder and event subscription.

        Args:
            camera: the camera already connected (e.g. by :func:`kedirivms.connect_cameras`); the pipeline owns
                and closes it. Default: a new session to ``target``.

        Raises:
            KedirivmsError: the camera could not be reached or set up (nothing is left running).
        """
        try:
            self._start(camera)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop the subscription, runner, recorder, streams and the ONVIF session. Idempotent, any thread."""
        with self._lock:
            self._closed = True
            subscription, self._subscription = self._subscription, None
            runner, self.runner = self.runner, None
            recorder, self.recorder = self.recorder, None
            streams, self._streams = self._streams, []
            camera, self.camera = self.camera, None
        for step in (
            subscription.close if subscription is not None else None,
            runner.stop if runner is not None else None,
            recorder.stop if recorder is not None else None,
            *(s.close for s in streams),
            camera.close if camera is not None else None,
        ):
            if step is None:
                continue
            try:
                step()
            except Exception as exc:  # one failing part must not keep the others running
                log.warning("camera %s: closing failed: %s", self.target.name, exc)

    def metrics(self) -> CameraMetrics | None:
        """The camera's analytics metrics (None without plugins or before start)."""
        runner = self.runner
        if runner is None:
            return None
        cams = runner.metrics().cameras
        return cams[0] if cams else None

    def frames(self) -> int:
        """Frames seen so far: fed to the plugins, else video packets received by the recorder."""
        m = self.metrics()
        if m is not None:
            return m.frames
        rec = self.recorder
        return rec.stats.packets_in if rec is not None else 0

    def lost(self) -> bool:
        """True when the analytics reader gave up (the supervisor then reconnects the whole camera)."""
        m = self.metrics()
        return m is not None and m.reader in ("failed", "ended")

    # ------------------------------------------------------------------------------------------------ internals
    def _start(self, connected: Camera | None) -> None:
        cfg = self.target
        camera = connected if connected is not None else camera_for(cfg, self._base)[0]
        with self._lock:
            if self._closed:
                if connected is not None:
                    connected.close()
                raise KedirivmsError("the pipeline was closed while starting", camera=cfg.name)
            self.camera = camera
        if connected is None:
            camera.connect()
        profiles = [p for p in camera.profiles() if p.channel == cfg.channel]
        if not profiles:
            raise ConfigError(f"no profile on channel {cfg.channel}", camera=cfg.name, hint="check 'channel'")
        analytics_profile = _pick(profiles, cfg.analytics_profile, smallest=True, camera=cfg.name)
        recording_profile = _pick(profiles, cfg.recording_profile, smallest=False, camera=cfg.name)
        transport: Literal["tcp", "udp"] = "udp" if cfg.transport == "udp" else "tcp"
        plugins = [_with_zones(p, cfg) for p in cfg.plugins]
        record = cfg.record and self._recording is not None and self._index is not None
        shared = bool(record and plugins and analytics_profile.token == recording_profile.token)
        self.analytics_uri = camera.stream_uri(analytics_profile, transport).uri
        feeder = None
        if record:
            rec_uri = camera.stream_uri(recording_profile, transport)
            self.recording_uri = rec_uri.uri
            stream = open_stream(rec_uri.with_credentials(), transport=transport, decode=shared)
            self._streams.append(stream)
            self.recorder = self._recorder(stream)
            if shared:
                feeder = stream
        if plugins:
            source = None if shared else camera.stream_uri(analytics_profile, transport).with_credentials()
            analytics = CameraAnalytics(name=cfg.name, source=source, plugins=plugins, transport=transport)
            self.runner = AnalyticsRunner([analytics], [CallbackSink(self._emit, name=f"{cfg.name}-events")])
        elif cfg.events:
            self.runner = AnalyticsRunner([], [CallbackSink(self._emit, name=f"{cfg.name}-events")])
        if self.runner is not None:
            self.runner.start()
            if feeder is not None:
                runner = self.runner
                feeder.on_frame(lambda frame: runner.feed(cfg.name, frame))
        for stream in self._streams:
            stream.start()
        if self.recorder is not None:
            self.recorder.start()
        self._subscribe(camera)

    def _recorder(self, stream: Any) -> Recorder:
        rec = self._recording
        assert rec is not None and self._index is not None
        Path(rec.root).mkdir(parents=True, exist_ok=True)
        return Recorder(
            stream,
            rec.root,
            self.target.name,
            segment_seconds=rec.segment_seconds,
            retention=rec.retention,
            index=self._index(),
        )

    def _subscribe(self, camera: Camera) -> None:
        runner, name = self.runner, self.target.name
        if not self.target.events or runner is None or not camera.has_service("events"):
            return
        try:
            self._subscription = camera.events.subscribe(
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


def _with_zones(settings: PluginSettings, cfg: CameraTarget) -> PluginSettings:
    """Give zone-aware plugins (the queue plugin) the camera's zones unless their config has its own."""
    if settings.name != "queue" or "zones" in settings.config or not cfg.zones:
        return settings
    zones = Zones(zones=tuple(cfg.zones)).model_dump(mode="json")
    return settings.model_copy(update={"config": {**settings.config, "zones": zones}})
