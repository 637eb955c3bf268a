"""``kedirivms.Camera``: one ONVIF camera or NVR, its services and typed replies."""

from __future__ import annotations

import contextlib
import enum
import threading
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import ValidationError

from kedirivms.errors import (
    AuthenticationFailed,
    InvalidArgument,
    KedirivmsError,
    LimitExceeded,
    NotSupported,
    OnvifFault,
    ProtocolError,
)
from kedirivms.onvif import _replies
from kedirivms.onvif._limits import check_count
from kedirivms.onvif._transport import AuthMode, OnvifTransport
from kedirivms.onvif._wsdl import SERVICES
from kedirivms.onvif.device import DeviceService
from kedirivms.onvif.events import EventsService
from kedirivms.onvif.imaging import ImagingService
from kedirivms.onvif.media import MediaService, ProfileRef
from kedirivms.onvif.models import Channel, DeviceInfo, Limits, Profile, Services, StreamUri, Timeouts
from kedirivms.onvif.ptz import PTZService
from kedirivms.onvif.recording import ProfileG

DEFAULT_PORT = 80


class CameraState(enum.Enum):
    """Lifecycle of a :class:`Camera`."""

    NEW = "new"
    CONNECTED = "connected"
    CLOSED = "closed"


def parse_target(target: str, port: int | None = None) -> tuple[str, str, int, str]:
    """Split ``host``, ``host:port`` or a device-service URL into (scheme, host, port, path).

    Raises:
        InvalidArgument: the target cannot be parsed.
    """
    text = target.strip()
    if not text:
        raise InvalidArgument("empty camera address", hint="give host, host:port or a device-service URL")
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        parsed_port = parts.port
    except ValueError as exc:
        raise InvalidArgument(
            f"cannot parse camera address {target!r}: {exc}",
            hint="give host, host:port or http://host:port/onvif/device_service",
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(
            f"cannot parse camera address {target!r}",
            hint="give host, host:port or http://host:port/onvif/device_service",
        )
    default = 443 if parts.scheme == "https" else DEFAULT_PORT
    path = parts.path if parts.path and parts.path != "/" else "/onvif/device_service"
    return parts.scheme, parts.hostname, port or parsed_port or default, path


class Camera:
    """An ONVIF camera or NVR.

    Nothing touches the network until the first call (or :meth:`connect`). Every call has the time-outs of
    ``timeout``; errors are :mod:`kedirivms.errors` classes naming the camera, never its password.

    Args:
        target: ``host``, ``host:port`` or ``http://host:port/onvif/device_service``.
        port: overrides the port in ``target`` (default 80).
        username: ONVIF user.
        password: its password (kept private: not in reprs, logs or errors).
        timeout: seconds for connect and read, a ``(connect, read)`` pair, or :class:`Timeouts`
            (default 3 s connect, 10 s read).
        auth: ``"auto"`` (WS-UsernameToken, switching to HTTP Digest/Basic when the camera answers 401),
            or force ``"username_token"``, ``"digest"``, ``"basic"`` or ``"none"``.
        rewrite_addresses: use the host/port we reached the camera at for service, stream and snapshot
            addresses it advertises on another host (NAT, port forwarding); set ``False`` to trust them.
        name: a label for messages (default ``host:port``).
        retries: extra attempts of read-only operations (Get*, Find*) after a dropped connection.
        limits: what one reply may cost (:class:`Limits`: bytes per reply, items acted on per reply); exceeding
            one raises :class:`~kedirivms.errors.LimitExceeded`.

    Every request has a whole-request deadline (connect, headers and body): ``Timeouts.request``, by default
    connect + read time-out, so a camera that trickles its reply cannot hold a call longer.

    Example:
        >>> with Camera("127.0.0.1:8080", username="admin", password=secret) as cam:  # doctest: +SKIP
        ...     print(cam.device_information().model, [p.token for p in cam.profiles()])
    """

    def __init__(
        self,
        target: str,
        port: int | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float | tuple[float, float] | Timeouts = Timeouts(),
        auth: AuthMode = "auto",
        rewrite_addresses: bool = True,
        name: str | None = None,
        retries: int = 1,
        limits: Limits | None = None,
    ) -> None:
        scheme, host, port_, path = parse_target(target, port)
        try:
            if isinstance(timeout, Timeouts):
                timeouts = timeout
            elif isinstance(timeout, tuple):
                timeouts = Timeouts(connect=timeout[0], read=timeout[1])
            else:  # one number: the read time-out; connecting never needs more than 3 s on a LAN
                timeouts = Timeouts(connect=min(float(timeout), 3.0), read=float(timeout))
        except (ValidationError, TypeError, ValueError) as exc:
            raise InvalidArgument(f"invalid timeout {timeout!r}", hint="seconds > 0, or (connect, read)") from exc
        if auth not in ("auto", "username_token", "digest", "basic", "none"):
            raise InvalidArgument(
                f"auth mode {auth!r} is not valid", hint="auto, username_token, digest, basic or none"
            )
        self.host = host
        self.port = port_
        self.name = name or f"{host}:{port_}"
        self.timeouts = timeouts
        self._transport = OnvifTransport(
            host,
            port_,
            device_path=path,
            scheme=scheme,
            username=username,
            password=password,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
            auth=auth,
            rewrite_addresses=rewrite_addresses,
            label=self.name,
            retries=retries,
            request_timeout=timeouts.request,
            limits=limits,
        )
        self.device = DeviceService(self._transport)
        self.media = MediaService(self._transport)
        self._state = CameraState.NEW
        self._services: Services | None = None
        self._lock = threading.RLock()
        self._extensions: dict[str, Any] = {}

    def __repr__(self) -> str:
        user = self._transport.username
        return f"<Camera {self.name} user={user!r} state={self._state.value}>"

    # ---------------------------------------------------------------- lifecycle
    @property
    def state(self) -> CameraState:
        return self._state

    @property
    def username(self) -> str | None:
        return self._transport.username

    @property
    def device_url(self) -> str:
        return self._transport.device_url

    def connect(self) -> Camera:
        """Learn the clock offset and the service addresses (GetServices, else GetCapabilities)."""
        with self._lock:
            if self._state is CameraState.CLOSED:
                raise KedirivmsError(
                    "the camera was closed", camera=self.name, operation="connect", hint="create a new Camera"
                )
            if self._state is CameraState.CONNECTED:
                return self
            self._transport.learn_clock()
            self._services = self._discover_services()
            self._state = CameraState.CONNECTED
            return self

    def close(self) -> None:
        """Close extensions (e.g. event subscriptions) and the HTTP session. Idempotent."""
        with self._lock:
            for ext in list(self._extensions.values()):
                closer = getattr(ext, "close", None)
                if callable(closer):
                    with contextlib.suppress(KedirivmsError):
                        closer()
            self._extensions.clear()
            self._transport.close()
            self._state = CameraState.CLOSED

    def release_connections(self) -> None:
        """Close idle HTTP connections but stay connected (clock offset and service addresses are kept).

        For programs that hold many cameras between bursts of calls: the next call opens a new connection.
        """
        self._transport.close()

    @property
    def auth_mode(self) -> str:
        """The authentication in use: ``username_token``, ``digest``, ``basic`` or ``none`` (after any switch)."""
        return self._transport.auth_mode

    def __enter__(self) -> Camera:
        try:
            return self.connect()
        except BaseException:
            self.close()  # __exit__ does not run when __enter__ raises: release the HTTP session here
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ensure(self) -> None:
        if self._state is not CameraState.CONNECTED:
            self.connect()

    @property
    def clock_offset_s(self) -> float:
        """Camera UTC minus our UTC in seconds (learned at connect, re-learned on NotAuthorized)."""
        return self._transport.clock_offset_s

    def services(self) -> Services:
        """The service addresses in use (after the address rewrite)."""
        self._ensure()
        assert self._services is not None
        return self._services

    def has_service(self, service: str) -> bool:
        """Whether the camera advertises ``service`` (``"ptz"``, ``"events"``, ``"recording"``...)."""
        self._ensure()
        return service in self._transport.xaddrs

    def prepare(self, *services: str) -> None:
        """Bind ``services`` (default: every advertised one) to this camera ahead of the first call.

        Parses their WSDLs if this process has not yet (once, shared by every camera).
        """
        self._ensure()
        for name in services or tuple(self._transport.xaddrs):
            if SERVICES.get(name) is None or SERVICES[name].wsdl:  # Media2 has no WSDL: nothing to bind
                self._transport.proxy(name)

    def _discover_services(self) -> Services:
        t = self._transport
        by_ns = {spec.namespace: name for name, spec in SERVICES.items() if spec.default_path}
        try:
            reply = t.call_xml("device", "GetServices", "<IncludeCapability>false</IncludeCapability>")
            count = len(_replies.children(reply, "Service"))
            check_count(count, t.limits, "services", camera=self.name, operation="GetServices")
            for namespace, xaddr in t.read("GetServices", _replies.services, reply):
                name = by_ns.get(namespace)
                if name:
                    t.set_xaddr(name, xaddr)
            return Services(xaddrs=dict(t.xaddrs), source="GetServices")
        except AuthenticationFailed:
            raise
        except LimitExceeded:
            raise
        except (NotSupported, OnvifFault, ProtocolError, InvalidArgument):
            pass
        caps = t.call("device", "GetCapabilities", Category=["All"])
        for name, attr in (
            ("device", "Device"),
            ("media", "Media"),
            ("ptz", "PTZ"),
            ("imaging", "Imaging"),
            ("events", "Events"),
        ):
            section = getattr(caps, attr, None)
            if section is not None:
                t.set_xaddr(name, getattr(section, "XAddr", None))
        ext = getattr(caps, "Extension", None)
        for name, attr in (("recording", "Recording"), ("search", "Search"), ("replay", "Replay")):
            section = getattr(ext, attr, None) if ext is not None else None
            if section is not None:
                t.set_xaddr(name, getattr(section, "XAddr", None))
        return Services(xaddrs=dict(t.xaddrs), source="GetCapabilities")

    # ---------------------------------------------------------------- conveniences
    def device_information(self) -> DeviceInfo:
        """Shortcut for ``camera.device.information()``."""
        self._ensure()
        return self.device.information()

    def profiles(self, *, with_stream_uris: bool = False, transport: Literal["tcp", "udp"] = "tcp") -> list[Profile]:
        """Media profiles; with ``with_stream_uris`` each carries its credential-free ``stream_uri``."""
        self._ensure()
        profiles = self.media.profiles()
        if not with_stream_uris:
            return profiles
        out = []
        for p in profiles:
            try:
                uri: str | None = self.media.stream_uri(p, transport).uri
            except ProtocolError:
                uri = None
            out.append(p.model_copy(update={"stream_uri": uri}))
        return out

    def channels(self) -> list[Channel]:
        """Profiles grouped by video source (NVR channels)."""
        self._ensure()
        return self.media.channels()

    def stream_uri(self, profile: ProfileRef | None = None, transport: Literal["tcp", "udp"] = "tcp") -> StreamUri:
        """Stream URI of ``profile`` (default: the first profile)."""
        self._ensure()
        return self.media.stream_uri(profile if profile is not None else self._first_profile(), transport)

    def snapshot(self, profile: ProfileRef | None = None, *, timeout: float | None = None) -> bytes:
        """JPEG snapshot bytes of ``profile`` (default: the first profile)."""
        self._ensure()
        return self.media.snapshot(profile if profile is not None else self._first_profile(), timeout=timeout)

    def _first_profile(self) -> str:
        profiles = self.media.profiles()
        if not profiles:
            raise NotSupported(
                "the camera has no media profile",
                camera=self.name,
                operation="GetProfiles",
                hint="create a profile on the camera first",
            )
        return profiles[0].token

    def open_stream(
        self, profile: ProfileRef | None = None, *, transport: Literal["tcp", "udp"] = "tcp", **options: Any
    ) -> Any:
        """Open the RTSP stream of ``profile`` (default: the first) with :func:`kedirivms.stream.open_stream`.

        The decoder gets the URI with credentials; the stream's reprs and errors show it redacted.
        ``options`` are passed on (``timeout``, ``max_fps``, ``keyframes_only``, ...).
        """
        from kedirivms.stream import open_stream

        uri = self.stream_uri(profile, transport)
        return open_stream(uri.with_credentials(), transport=transport, **options)

    def call(self, service: str, operation: str, **kwargs: Any) -> Any:
        """Escape hatch: call any ONVIF operation; returns zeep's object (errors are still mapped)."""
        self._ensure()
        return self._transport.call(service, operation, **kwargs)

    # ---------------------------------------------------------------- PTZ, imaging, events (lazy; connect on use)
    @property
    def ptz(self) -> PTZService:
        """Pan, tilt, zoom, presets and home (:class:`~kedirivms.onvif.ptz.PTZService`)."""
        return self._lazy("ptz", lambda: PTZService(self._transport, self.media))

    @property
    def imaging(self) -> ImagingService:
        """Imaging settings and options (:class:`~kedirivms.onvif.imaging.ImagingService`)."""
        return self._lazy("imaging", lambda: ImagingService(self._transport, self.media))

    @property
    def events(self) -> EventsService:
        """Topic set and pull-point subscriptions (:class:`~kedirivms.onvif.events.EventsService`); its
        subscriptions are unsubscribed by :meth:`close`."""
        return self._lazy("events", lambda: EventsService(self._transport))

    @property
    def recordings(self) -> ProfileG:
        """Profile G: recordings, recording jobs, search and replay (:class:`~kedirivms.onvif.recording.ProfileG`)."""
        return self._lazy("recordings", lambda: ProfileG(self))

    def _lazy(self, name: str, build: Any) -> Any:
        self._ensure()
        with self._lock:
            if name not in self._extensions:
                self._extensions[name] = build()
            return self._extensions[name]
