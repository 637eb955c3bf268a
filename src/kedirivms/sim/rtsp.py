"""The virtual camera's RTSP server: H.264 over RTP (RFC 6184), TCP interleaved or UDP, real-time paced.

Encoding is lazy and shared: one libx264 encoder per (scene, spec) in the whole process runs only while at least
one client plays it, and every client of every :class:`RtspServer` receives the same NAL units.

Run one in its own process (tests kill it to simulate a camera crash)::

    python -m kedirivms.sim.rtsp --port 8554 --stream Profile_1_main=1920x1080@30 --stream Profile_1_sub=640x360@10
"""

from __future__ import annotations

import argparse
import faulthandler
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from kedirivms.errors import ConnectionFailed, InvalidArgument
from kedirivms.sim._rtsp._auth import RtspAuth
from kedirivms.sim._rtsp._encoder import AccessUnitSource, SharedEncoder, registry_snapshot, shared_encoder
from kedirivms.sim._rtsp._server import Connection, stream_name
from kedirivms.sim._rtsp._session import Session

__all__ = ["RtspServer", "StreamSpec", "main"]


class StreamSpec(BaseModel):
    """What one RTSP path serves.

    Example:
        >>> StreamSpec(width=640, height=360, fps=10, bitrate=500_000, gop=10)
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    width: int = Field(1920, ge=16, le=7680, multiple_of=2, description="picture width in pixels (even)")
    height: int = Field(1080, ge=16, le=4320, multiple_of=2, description="picture height in pixels (even)")
    fps: float = Field(30.0, gt=0, le=120, description="frames per second, paced in real time")
    bitrate: int = Field(4_000_000, gt=0, description="target bit rate in bits per second")
    gop: int = Field(30, ge=1, le=1000, description="keyframe interval in frames")
    codec: Literal["h264", "h265"] = Field("h264", description="h264 (libx264) or h265 (libx265)")
    profile: str = Field(
        "baseline",
        pattern="^(baseline|main|high|main10)$",
        description="H.264: baseline, main or high; H.265: main (8-bit) or main10 (10-bit)",
    )
    scene: Any = Field(None, description="a kedirivms.sim.scene.Scene, or None for the default moving shapes")

    @classmethod
    def main_profile(cls, **changes: Any) -> StreamSpec:
        """A 1920x1080 @ 30 fps main stream."""
        return cls(**{"width": 1920, "height": 1080, "fps": 30, "bitrate": 4_000_000, "gop": 30, **changes})

    @classmethod
    def sub_profile(cls, **changes: Any) -> StreamSpec:
        """A 640x360 @ 10 fps sub stream."""
        return cls(**{"width": 640, "height": 360, "fps": 10, "bitrate": 500_000, "gop": 10, **changes})


class RtspServer:
    """An RTSP 1.0 server for virtual cameras (OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER).

    Args:
        host: address to listen on (loopback by default).
        port: TCP port; 0 picks a free one (read :attr:`port` after :meth:`start`).
        name: server name in responses and the SDP session name.
        users: ``{user: password}``; when given every request but OPTIONS must authenticate (401 otherwise).
        auth: ``"digest"`` (what cameras use) or ``"basic"``.

    Example:
        >>> with RtspServer() as srv:
        ...     srv.add_stream("Profile_1_sub", StreamSpec.sub_profile())
        ...     url = srv.url("Profile_1_sub")
    """

    _connection_class: type[Connection] = Connection  # subclasses may serve requests differently

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str = "kedirivms virtual camera",
        users: Mapping[str, str] | None = None,
        auth: Literal["digest", "basic"] = "digest",
    ) -> None:
        self.host = host
        self.name = name
        self._auth = RtspAuth(dict(users), auth) if users else None
        self._requested_port = port
        self._port: int | None = None
        self._specs: dict[str, StreamSpec] = {}
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._accept_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connections: set[Connection] = set()
        self._conn_threads: set[threading.Thread] = set()
        self._sessions: set[Session] = set()

    # -- configuration ---------------------------------------------------------------------------------------
    def add_stream(self, name: str, spec: StreamSpec | None = None) -> None:
        """Serve ``spec`` at ``rtsp://host:port/<name>`` (may be called before or after :meth:`start`).

        Raises:
            InvalidArgument: the name is empty or has characters not allowed in a URL path segment.
        """
        if not name or name.strip("/") != name or any(c in name for c in " ?#"):
            raise InvalidArgument(f"bad stream name {name!r}", operation="add_stream", hint="use e.g. Profile_1_main")
        self._specs[name] = spec or StreamSpec()

    def remove_stream(self, name: str) -> None:
        """Stop serving ``name`` to new clients (playing clients continue until they leave)."""
        self._specs.pop(name, None)

    @property
    def streams(self) -> dict[str, StreamSpec]:
        """The served paths and their specs (a copy)."""
        return dict(self._specs)

    @property
    def port(self) -> int:
        """The bound TCP port (after :meth:`start`)."""
        if self._port is None:
            raise ConnectionFailed("the RTSP server is not started", operation="port", hint="call start() first")
        return self._port

    def url(self, name: str, *, user: str | None = None, password: str | None = None) -> str:
        """The ``rtsp://`` URL of stream ``name`` (credentials embedded if given)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        auth = ""
        if user is not None:
            auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "") + "@"
        return f"rtsp://{auth}{host}:{self.port}/{name}"

    @property
    def session_count(self) -> int:
        """Sessions currently set up (playing or not)."""
        return len(self._sessions)

    def encoders(self) -> list[SharedEncoder]:
        """The shared encoders behind this server's streams (created on first DESCRIBE)."""
        mine = {id(self._encoder(n)) for n in self._specs}
        return [e for e in registry_snapshot() if id(e) in mine]

    # -- life cycle ------------------------------------------------------------------------------------------
    def start(self) -> RtspServer:
        """Bind and start accepting clients (idempotent).

        Raises:
            ConnectionFailed: the address is in use or not available.
        """
        if self._listener is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise ConnectionFailed(
                f"cannot listen on {self.host}:{self._requested_port}: {exc}",
                operation="RTSP server start",
                hint="pick another port or use port=0",
            ) from exc
        sock.listen(128)
        sock.settimeout(0.25)
        self._listener = sock
        self._port = sock.getsockname()[1]
        self._stopping.clear()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"kedirivms-sim-rtsp[{self._port}]", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close every client connection and the listening socket; wait for the threads (idempotent)."""
        self._stopping.set()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            conn.close()
        for thread in list(self._conn_threads):
            thread.join(timeout)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._accept_thread = None

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"{self.host}:{self._port}" if self._port else "not started"
        return f"<kedirivms.sim.RtspServer {where} streams={sorted(self._specs)}>"

    # -- internals used by connections -----------------------------------------------------------------------
    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = self._connection_class(self, sock, peer)
            thread = threading.Thread(target=self._serve, args=(conn,), name="kedirivms-sim-rtsp-conn", daemon=True)
            with self._lock:
                self._connections.add(conn)
                self._conn_threads.add(thread)
            thread.start()

    def _serve(self, conn: Connection) -> None:
        try:
            conn.run()
        finally:
            with self._lock:
                self._connections.discard(conn)
                self._conn_threads.discard(threading.current_thread())

    def _stream_name(self, url: str) -> str | None:
        return stream_name(url, self._specs)

    def _encoder(self, name: str) -> AccessUnitSource:
        spec = self._specs[name]
        return shared_encoder(
            spec.scene, spec.width, spec.height, spec.fps, spec.bitrate, spec.gop, spec.profile, spec.codec
        )

    def _remember(self, session: Session) -> None:
        with self._lock:
            self._sessions.add(session)

    def _forget(self, session: Session) -> None:
        with self._lock:
            self._sessions.discard(session)


def _parse_stream(text: str) -> tuple[str, StreamSpec]:
    # NAME=WxH@FPS[:BITRATE[:GOP[:CODEC]]], CODEC h264 (default), h265 or h265-main10
    name, _, rest = text.partition("=")
    size, _, tail = rest.partition("@")
    width, _, height = size.partition("x")
    fps, *extra = tail.split(":") if tail else ["30"]
    fields: dict[str, Any] = {"width": int(width), "height": int(height), "fps": float(fps)}
    if extra:
        fields["bitrate"] = int(extra[0])
    if len(extra) > 1 and extra[1]:
        fields["gop"] = int(extra[1])
    else:
        fields["gop"] = max(1, round(float(fps)))
    if len(extra) > 2:
        codec, _, depth = extra[2].partition("-")
        fields["codec"] = codec
        fields["profile"] = depth or "main"
    return name, StreamSpec(**fields)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m kedirivms.sim.rtsp``: serve until SIGTERM/SIGINT; prints ``READY <port>``."""
    parser = argparse.ArgumentParser(prog="python -m kedirivms.sim.rtsp", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD", help="require auth")
    parser.add_argument(
        "--stream", action="append", default=[], metavar="NAME=WxH@FPS[:BITRATE[:GOP[:CODEC]]]", help="a served path"
    )
    args = parser.parse_args(argv)
    users = dict(item.split(":", 1) for item in args.user)
    server = RtspServer(args.host, args.port, users=users or None)
    for item in args.stream or ["stream=640x360@10"]:
        name, spec = _parse_stream(item)
        server.add_stream(name, spec)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` dumps every thread's stack to stderr
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    with server:
        for name in server.streams:
            server._encoder(name)  # probe SPS/PPS before announcing readiness
        print(f"READY {server.port}", flush=True)
        # a timed wait: a signal delivered to another thread only runs its Python handler when the main thread
        # wakes up, so an untimed wait could miss SIGTERM forever
        while not done.wait(0.2):
            pass
    sys.exit(0)


if __name__ == "__main__":
    main()
