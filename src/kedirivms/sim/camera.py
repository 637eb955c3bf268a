"""The virtual ONVIF camera: a real HTTP SOAP server on a loopback address."""

from __future__ import annotations

import collections
import datetime as dt
import fractions
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, SecretStr

from kedirivms.errors import ConfigError, ConnectionFailed
from kedirivms.sim._attachments import SceneFactory, start_discovery, start_rtsp
from kedirivms.sim._camera_extras import CameraExtrasMixin
from kedirivms.sim._context import channel_of, profile_tokens
from kedirivms.sim._models import CameraState, EncoderSpec, FaultKind, UserAccount, VirtualCameraConfig
from kedirivms.sim._soap_auth import DigestAuthority, _NonceCache
from kedirivms.sim._soap_server import FaultRule, SoapHTTPServer

__all__ = ["CameraRunState", "LoggedRequest", "VirtualCamera"]

_FAULT_KINDS = ("delay", "http500", "malformed", "drop", "hostile")


class CameraRunState(StrEnum):
    """Life cycle of a :class:`VirtualCamera`."""

    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


class LoggedRequest(BaseModel):
    """One request the camera received (never holds credentials)."""

    model_config = ConfigDict(frozen=True)

    time: float
    service: str
    operation: str
    auth: Literal["username_token", "digest", "basic", "http", ""] | None
    username: str | None
    status: int
    note: str | None = None


def _initial_state(cfg: VirtualCameraConfig) -> CameraState:
    encoders: dict[str, EncoderSpec] = {}
    for ch in range(1, cfg.channels + 1):
        encoders[f"VideoEncoder_{ch}_main"] = cfg.channel_main.get(ch, cfg.main)
        encoders[f"VideoEncoder_{ch}_sub"] = cfg.sub
    fixed = [
        "onvif://www.onvif.org/type/video_encoder",
        "onvif://www.onvif.org/type/Network_Video_Transmitter",
        "onvif://www.onvif.org/Profile/Streaming",
        f"onvif://www.onvif.org/hardware/{quote(cfg.model)}",
    ]
    if cfg.has_ptz:
        fixed.insert(1, "onvif://www.onvif.org/type/ptz")
    return CameraState(
        hostname=f"kvc-{cfg.serial_number}".lower().replace("_", "-"),
        fixed_scopes=fixed,
        scopes=[
            f"onvif://www.onvif.org/name/{quote(cfg.name)}",
            f"onvif://www.onvif.org/location/{quote(cfg.location)}",
        ],
        users=[UserAccount(username=cfg.username, password=cfg.password, level="Administrator")],
        clock_skew_s=cfg.clock_skew_s,
        date_time_type="Manual" if cfg.clock_skew_s else "NTP",
        encoders=encoders,
    )


class VirtualCamera(CameraExtrasMixin):
    """A virtual ONVIF camera (or NVR) serving Device and Media SOAP services and JPEG snapshots.

    Nothing runs until :meth:`start` (or ``with``); :meth:`stop` closes the listening socket and every open
    connection. Thread-safe: many clients may call it at once.

    Args:
        config: the camera's configuration (defaults: one channel, UsernameToken auth, port picked by the OS).
        rtsp: also serve every profile over RTSP (H.264 encoded on demand); stream URIs name its port.
        scene: ``scene(channel, "main"|"sub") -> Scene | None`` picks each stream's picture (default: moving
            shapes with a clock).
        discovery: answer WS-Discovery Probes on ``host:3702`` (use a distinct 127.0.1.x host): True or
            ``"unicast"`` for unicast Probes, ``"multicast"`` for multicast ones too (with Hello and Bye). The
            port is shared (SO_REUSEADDR) with WS-Discovery clients on the same host.
        **overrides: fields to override on ``config`` (e.g. ``port=8081``).

    Example:
        >>> with VirtualCamera(VirtualCameraConfig(auth="digest")) as cam:
        ...     print(cam.device_url)
    """

    def __init__(
        self,
        config: VirtualCameraConfig | None = None,
        *,
        rtsp: bool = False,
        scene: SceneFactory | None = None,
        discovery: bool | Literal["unicast", "multicast"] = False,
        **overrides: Any,
    ) -> None:
        base = config or VirtualCameraConfig()
        if overrides:
            try:
                base = VirtualCameraConfig.model_validate({**base.model_dump(), **overrides})
            except ValueError as exc:
                raise ConfigError(f"invalid virtual camera override: {exc}") from exc
        self.config: VirtualCameraConfig = base
        self.state: CameraState = _initial_state(base)
        self.digest = DigestAuthority(realm=f"{base.manufacturer} {base.model}")
        self.nonces = _NonceCache()
        self._faults: list[FaultRule] = []
        self._faults_lock = threading.Lock()
        self._log: collections.deque[LoggedRequest] = collections.deque(maxlen=10000)
        self._stopping = threading.Event()
        self._unavailable_until = 0.0
        self._server: SoapHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._jpeg_cache: dict[tuple[int, int, int], bytes] = {}
        self._run_state = CameraRunState.NEW
        self._bound_port = 0
        self._encoder_listeners: list[Callable[[str, EncoderSpec], None]] = []
        # optional companions (rtsp=True, discovery=True): started and stopped with the camera
        self._want_rtsp, self._scene, self._want_discovery = rtsp, scene, discovery
        self.rtsp_server: Any = None
        self.discovery_responder: Any = None

    # ------------------------------------------------------------------------------------ life cycle
    def start(self) -> VirtualCamera:
        """Bind the socket and serve in a background thread; returns ``self``.

        Raises:
            ConnectionFailed: the address/port cannot be bound.
        """
        if self._run_state is CameraRunState.RUNNING:
            return self
        self._stopping.clear()
        if self._want_rtsp and self.rtsp_server is None:
            self.rtsp_server = start_rtsp(self, self._scene)
            # stream URIs name the RTSP server's port
            self.config = self.config.model_copy(update={"rtsp_port": self.rtsp_server.port})
        try:
            self._server = SoapHTTPServer((self.config.host, self.config.port), self)
        except OSError as exc:
            raise ConnectionFailed(
                f"cannot listen: {exc}",
                camera=f"{self.config.host}:{self.config.port}",
                operation="VirtualCamera.start",
                hint="pick another port (0 = any free one) or a loopback address",
            ) from exc
        self._bound_port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"kedirivms-sim-{self.host}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._run_state = CameraRunState.RUNNING
        if self._want_discovery and self.discovery_responder is None:
            try:
                self.discovery_responder = start_discovery(self, multicast=self._want_discovery == "multicast")
            except BaseException:
                self.stop()
                raise
        return self

    def stop(self) -> None:
        """Stop serving and close every connection (idempotent)."""
        for companion in ("discovery_responder", "rtsp_server"):
            running = getattr(self, companion)
            if running is not None:
                setattr(self, companion, None)
                running.stop()
        if self._server is None:
            self._run_state = CameraRunState.STOPPED
            return
        self._stopping.set()
        server, self._server = self._server, None
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._run_state = CameraRunState.STOPPED

    def __enter__(self) -> VirtualCamera:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"VirtualCamera({self.config.host}:{self.port}, {self._run_state.value}, auth={self.config.auth})"

    @property
    def run_state(self) -> CameraRunState:
        """NEW, RUNNING or STOPPED."""
        return self._run_state

    # ---------------------------------------------------------------------------------- addresses
    @property
    def host(self) -> str:
        """The address the camera listens on."""
        return self.config.host

    @property
    def port(self) -> int:
        """The bound TCP port (the configured one, or the OS's pick for port 0; kept after stop)."""
        if self._server is not None:
            self._bound_port = int(self._server.server_address[1])
        return self._bound_port or self.config.port

    @property
    def base_url(self) -> str:
        """``http://host:port`` as reached (not as advertised)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def device_url(self) -> str:
        """The device service URL, e.g. ``http://127.0.0.1:8080/onvif/device_service``."""
        return f"{self.base_url}/onvif/device_service"

    @property
    def media_url(self) -> str:
        """The media service URL."""
        return f"{self.base_url}/onvif/media_service"

    @property
    def profile_tokens(self) -> list[str]:
        """Every media profile token, channel by channel (main, then sub)."""
        return [t for ch in range(1, self.config.channels + 1) for t in profile_tokens(ch)]

    # ------------------------------------------------------------------------------------ clock
    def now(self) -> dt.datetime:
        """The camera clock (UTC + skew), timezone-aware."""
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.state.clock_skew_s)

    # ------------------------------------------------------------------------------------- faults
    def inject_fault(
        self,
        kind: FaultKind,
        operation: str | None = None,
        delay_s: float = 1.0,
        count: int | None = None,
    ) -> None:
        """Misbehave on purpose.

        Args:
            kind: ``delay`` (sleep ``delay_s`` then answer), ``http500`` (HTTP 500 + SOAP fault), ``malformed``
                (HTTP 200, body cut in half), ``drop`` (close the socket, no reply), ``hostile`` (reply with a
                DTD and "billion laughs" entity expansion).
            operation: operation local name (``GetProfiles``; ``Snapshot`` for the JPEG endpoint); None = all.
            delay_s: seconds to sleep for ``delay``.
            count: apply to the next ``count`` matching requests only; None = until :meth:`clear_faults`.

        Raises:
            ConfigError: unknown ``kind`` or a negative ``delay_s``/``count``.
        """
        if kind not in _FAULT_KINDS:
            raise ConfigError(f"unknown fault kind {kind!r}; valid: {', '.join(_FAULT_KINDS)}")
        if delay_s < 0 or (count is not None and count < 1):
            raise ConfigError("delay_s must be >= 0 and count >= 1 (or None)")
        with self._faults_lock:
            self._faults.append(FaultRule(kind, operation, delay_s, count))

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._faults_lock:
            self._faults.clear()

    def take_fault(self, operation: str) -> FaultRule | None:
        """The first fault rule matching ``operation`` (consumes one use of it). Used by the server."""
        with self._faults_lock:
            for rule in self._faults:
                if rule.operation is None or rule.operation == operation:
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._faults.remove(rule)
                    return rule
        return None

    def sleep(self, seconds: float) -> None:
        """Sleep, waking early when the camera stops."""
        self._stopping.wait(seconds)

    def reboot(self) -> None:
        """Record a reboot; with ``reboot_downtime_s`` the camera then drops requests for that long."""
        with self.state.lock:
            self.state.reboots += 1
        if self.config.reboot_downtime_s > 0:
            self._unavailable_until = time.monotonic() + self.config.reboot_downtime_s

    def unavailable(self) -> bool:
        """True while a simulated reboot is in progress."""
        return time.monotonic() < self._unavailable_until

    # ---------------------------------------------------------------------------------- request log
    def log_request(
        self, service: str, operation: str, auth: Any, username: str | None, status: int, note: str | None
    ) -> None:
        """Append to :attr:`request_log` (used by the server)."""
        self._log.append(
            LoggedRequest(
                time=time.time(),
                service=service,
                operation=operation,
                auth=auth,
                username=username,
                status=status,
                note=note,
            )
        )

    @property
    def request_log(self) -> list[LoggedRequest]:
        """Requests received so far, oldest first (the last 10 000; no credentials)."""
        return list(self._log)

    def clear_request_log(self) -> None:
        """Forget the logged requests."""
        self._log.clear()

    # ----------------------------------------------------------------------------------- snapshots
    def snapshot(self, profile_token: str) -> bytes | None:
        """A JPEG for ``profile_token`` at its encoder resolution, or None for an unknown profile."""
        parsed = channel_of(profile_token, "Profile", self.config.channels)
        if parsed is None:
            return None
        channel, stream = parsed
        spec = self.state.encoders[f"VideoEncoder_{channel}_{stream}"]
        key = (channel, spec.width, spec.height)
        jpeg = self._jpeg_cache.get(key)
        if jpeg is None:
            jpeg = _render_jpeg(spec.width, spec.height, channel)
            self._jpeg_cache[key] = jpeg
        return jpeg

    def on_encoder_change(self, listener: Callable[[str, EncoderSpec], None]) -> None:
        """Call ``listener(profile_token, spec)`` after SetVideoEncoderConfiguration changes a profile's encoder
        (e.g. to re-configure an RTSP server). Listeners run in the request thread; keep them short."""
        self._encoder_listeners.append(listener)

    def notify_encoder_change(self, encoder_token: str, spec: EncoderSpec) -> None:
        """Tell the listeners that ``encoder_token`` now encodes ``spec`` (used by the media service)."""
        profile = encoder_token.replace("VideoEncoder_", "Profile_", 1)
        for listener in list(self._encoder_listeners):
            listener(profile, spec)

    def set_password(self, username: str, password: str) -> None:
        """Change a user's password directly (tests); the SOAP SetUser does the same."""
        with self.state.lock:
            user = self.state.user(username)
            if user is None:
                raise ConfigError(f"no user {username!r}")
            user.password = SecretStr(password)


def _render_jpeg(width: int, height: int, channel: int) -> bytes:
    """A gradient test card encoded with FFmpeg's MJPEG encoder (PyAV)."""
    import av
    import numpy as np

    y, x = np.mgrid[0:height, 0:width]
    img = np.empty((height, width, 3), np.uint8)
    img[..., 0] = (x * 255 // max(1, width - 1)).astype(np.uint8)
    img[..., 1] = (y * 255 // max(1, height - 1)).astype(np.uint8)
    img[..., 2] = (channel * 53) % 256
    codec: Any = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuvj420p"
    codec.time_base = fractions.Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuvj420p")
    packets = list(codec.encode(frame)) + list(codec.encode(None))
    return b"".join(bytes(p) for p in packets)
