"""The RTSP 1.0 (RFC 2326) request handling of the virtual camera: one thread per client connection."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from email.utils import formatdate
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kedirivms.sim._rtsp._session import PAYLOAD_TYPE, Session

if TYPE_CHECKING:
    from kedirivms.sim._rtsp._encoder import AccessUnitSource
    from kedirivms.sim.rtsp import RtspServer

log = logging.getLogger("kedirivms.sim.rtsp")

PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
SESSION_TIMEOUT = 60
SOCKET_TIMEOUT = 3.0
MAX_REQUEST = 64 * 1024
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    501: "Not Implemented",
    505: "RTSP Version Not Supported",
}


class Request:
    """A parsed RTSP request."""

    __slots__ = ("method", "url", "version", "headers", "body")

    def __init__(self, method: str, url: str, version: str, headers: dict[str, str], body: bytes) -> None:
        self.method, self.url, self.version, self.headers, self.body = method, url, version, headers, body

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


class Connection:
    """One client TCP connection: parses requests and interleaved frames, owns the sessions set up on it."""

    def __init__(self, server: RtspServer, sock: socket.socket, peer: tuple[str, int]) -> None:
        self.server = server
        self.sock = sock
        self.peer = peer
        self.sessions: dict[str, Session] = {}
        self._send_lock = threading.RLock()  # re-entered by PLAY, which holds it until its reply is out
        self._closed = False

    # -- I/O -------------------------------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Write bytes atomically with respect to other writers (responses and RTP share the socket)."""
        try:
            with self._send_lock:
                self.sock.sendall(data)
        except OSError:
            # a client that cannot take data for SOCKET_TIMEOUT seconds got a partial packet: the stream is
            # broken for it, so drop the connection (the client sees EOF at once and can reconnect)
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            raise

    def close(self) -> None:
        """Tear down every session of this connection and close the socket (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for session in list(self.sessions.values()):
            session.close()
            self.server._forget(session)
        self.sessions.clear()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def run(self) -> None:
        """Serve requests until the client leaves, the server stops or the sessions time out."""
        buf = b""
        self.sock.settimeout(SOCKET_TIMEOUT)  # bounds sendall to a stuck client; close() wakes recv at once
        try:
            while not self.server._stopping.is_set() and not self._closed:
                try:
                    chunk = self.sock.recv(65536)
                except TimeoutError:
                    self._expire()
                    continue
                if not chunk:
                    break
                buf += chunk
                buf = self._consume(buf)
                if len(buf) > MAX_REQUEST:
                    break
        except OSError as exc:
            log.debug("connection from %s ended: %s", self.peer, exc)
        except ValueError as exc:  # malformed request (bad Content-Length, bad ports): drop the client
            log.debug("malformed request from %s: %s", self.peer, exc)
        except Exception:  # noqa: BLE001 - one client's failure must not go further than its connection
            log.exception("RTSP connection from %s failed", self.peer)
        finally:
            self.close()

    def _expire(self) -> None:
        now = time.monotonic()
        for sid, session in list(self.sessions.items()):
            if session.transport == "udp" and now - session.last_seen > SESSION_TIMEOUT:
                session.close()
                self.sessions.pop(sid, None)
                self.server._forget(session)

    def _consume(self, buf: bytes) -> bytes:
        while buf:
            if buf[0] == 0x24:  # '$': an interleaved RTCP receiver report from the client
                if len(buf) < 4:
                    return buf
                size = int.from_bytes(buf[2:4], "big")
                if len(buf) < 4 + size:
                    return buf
                buf = buf[4 + size :]
                for session in self.sessions.values():
                    session.last_seen = time.monotonic()
                continue
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return buf
            head = buf[:end].decode("utf-8", "replace").split("\r\n")
            headers: dict[str, str] = {}
            for line in head[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            if len(buf) < end + 4 + length:
                return buf
            body = buf[end + 4 : end + 4 + length]
            buf = buf[end + 4 + length :]
            parts = head[0].split()
            if len(parts) != 3:
                self._reply(headers.get("cseq", "0"), 400)
                continue
            self._handle(Request(parts[0].upper(), parts[1], parts[2], headers, body))
        return buf

    def _reply(self, cseq: str, code: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        lines = [f"RTSP/1.0 {code} {REASONS.get(code, 'Error')}", f"CSeq: {cseq}", f"Server: {self.server.name}"]
        lines.append(f"Date: {formatdate(usegmt=True)}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    # -- methods ---------------------------------------------------------------------------------------------
    def _handle(self, req: Request) -> None:
        cseq = req.header("cseq", "0")
        if not req.version.startswith("RTSP/1."):
            self._reply(cseq, 505)
            return
        handler = getattr(self, "_do_" + req.method.lower(), None)
        if handler is None:
            self._reply(cseq, 501, {"Public": PUBLIC})
            return
        auth = self.server._auth
        if auth is not None and req.method != "OPTIONS" and not auth.check(req.method, req.header("authorization")):
            self._reply(cseq, 401, {"WWW-Authenticate": auth.challenge()})
            return
        sid = req.header("session").split(";", 1)[0].strip()
        session = self.sessions.get(sid) if sid else None
        if session is not None:
            session.last_seen = time.monotonic()
        handler(req, cseq, session)

    def _do_options(self, req: Request, cseq: str, session: Session | None) -> None:
        self._reply(cseq, 200, {"Public": PUBLIC})

    def _do_get_parameter(self, req: Request, cseq: str, session: Session | None) -> None:
        self._reply(cseq, 200, {"Session": session.id} if session else {})

    def _do_set_parameter(self, req: Request, cseq: str, session: Session | None) -> None:
        self._reply(cseq, 200, {"Session": session.id} if session else {})

    def _do_describe(self, req: Request, cseq: str, session: Session | None) -> None:
        name = self.server._stream_name(req.url)
        if name is None:
            self._reply(cseq, 404)
            return
        encoder = self.server._encoder(name)
        sdp = self._sdp(encoder, name).encode()
        base = req.url.split("?", 1)[0].rstrip("/") + "/"
        self._reply(cseq, 200, {"Content-Base": base, "Content-Type": "application/sdp"}, sdp)

    def _sdp(self, encoder: AccessUnitSource, name: str) -> str:
        host = self.sock.getsockname()[0]
        family = "IP6" if ":" in host else "IP4"
        fps = f"{encoder.fps:g}"
        return (
            "v=0\r\n"
            f"o=- {int(time.time())} 1 IN {family} {host}\r\n"
            f"s={self.server.name}\r\n"
            f"i={name}\r\n"
            f"c=IN {family} {'::' if family == 'IP6' else '0.0.0.0'}\r\n"
            "t=0 0\r\n"
            "a=tool:kedirivms\r\n"
            "a=range:npt=now-\r\n"
            "a=control:*\r\n"
            f"m=video 0 RTP/AVP {PAYLOAD_TYPE}\r\n"
            f"{encoder.sdp_media(PAYLOAD_TYPE)}"
            f"a=framerate:{fps}\r\n"
            f"a=x-dimensions:{encoder.width},{encoder.height}\r\n"
            "a=control:trackID=0\r\n"
        )

    def _do_setup(self, req: Request, cseq: str, session: Session | None) -> None:
        name = self.server._stream_name(req.url)
        if name is None:
            self._reply(cseq, 404)
            return
        if session is not None:
            self._reply(cseq, 459)  # one track per session: a second SETUP on the same session is not needed
            return
        encoder = self.server._encoder(name)
        chosen = _pick_transport(req.header("transport"))
        if chosen is None:
            self._reply(cseq, 461)
            return
        sid = os.urandom(8).hex().upper()
        if chosen[0] == "tcp":
            channels = chosen[1]
            session = Session(sid, encoder, tcp_send=self.send, channels=channels)
            transport = f"RTP/AVP/TCP;unicast;interleaved={channels[0]}-{channels[1]};ssrc={session.ssrc:08X}"
        else:
            rtp, rtcp = chosen[1]
            host = self.peer[0]
            session = Session(sid, encoder, udp_dest=(host, rtp, rtcp), bind_host=self.sock.getsockname()[0])
            srtp, srtcp = session.server_ports
            transport = f"RTP/AVP;unicast;client_port={rtp}-{rtcp};server_port={srtp}-{srtcp};ssrc={session.ssrc:08X}"
        self.sessions[sid] = session
        self.server._remember(session)
        self._reply(cseq, 200, {"Transport": transport, "Session": f"{sid};timeout={SESSION_TIMEOUT}"})

    def _do_play(self, req: Request, cseq: str, session: Session | None) -> None:
        if session is None:
            self._reply(cseq, 454)
            return
        track = req.url.split("?", 1)[0].rstrip("/")
        if not track.endswith("trackID=0"):
            track += "/trackID=0"
        # the reply goes out before the first interleaved packet: a client reading the reply drops RTP data that
        # comes ahead of it (FFmpeg does), which lost a replay's first keyframe on a loaded box
        with self._send_lock:
            seq, rtptime = session.play()
            self._reply(
                cseq,
                200,
                {"Session": session.id, "Range": "npt=0.000-", "RTP-Info": f"url={track};seq={seq};rtptime={rtptime}"},
            )

    def _do_pause(self, req: Request, cseq: str, session: Session | None) -> None:
        # a live source: pausing stops delivery; the next PLAY resumes at a fresh IDR (GStreamer pauses
        # before its first PLAY while prerolling and treats an error here as fatal)
        if session is None:
            self._reply(cseq, 454)
            return
        session.pause()
        self._reply(cseq, 200, {"Session": session.id})

    def _do_teardown(self, req: Request, cseq: str, session: Session | None) -> None:
        if session is None:
            self._reply(cseq, 454)
            return
        session.close()
        self.sessions.pop(session.id, None)
        self.server._forget(session)
        self._reply(cseq, 200, {"Session": session.id})


def _pick_transport(header: str) -> tuple[str, tuple[int, int]] | None:
    """The first acceptable transport in a SETUP ``Transport`` header: ("tcp", channels) or ("udp", ports)."""
    for spec in header.split(","):
        fields = [f.strip() for f in spec.split(";")]
        proto = fields[0].upper()
        params: dict[str, str] = {}
        for f in fields[1:]:
            key, _, value = f.partition("=")
            params[key] = value
        if "multicast" in params:
            continue
        try:
            if proto == "RTP/AVP/TCP":
                a, _, b = params.get("interleaved", "0-1").partition("-")
                return "tcp", (int(a), int(b or int(a) + 1))
            if proto in ("RTP/AVP", "RTP/AVP/UDP") and "client_port" in params:
                a, _, b = params["client_port"].partition("-")
                return "udp", (int(a), int(b or int(a) + 1))
        except ValueError:
            continue
    return None


def stream_name(url: str, names: object) -> str | None:
    """Map a request URL (``/name``, ``/name/``, ``/name/trackID=0``, with a query) to a stream name."""
    path = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
    path = path.strip("/")
    if path.rsplit("/", 1)[-1].startswith("trackID="):
        path = path.rsplit("/", 1)[0] if "/" in path else ""
    return path if path in names else None  # type: ignore[operator]
