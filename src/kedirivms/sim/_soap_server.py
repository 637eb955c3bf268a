"""The virtual camera's HTTP server: SOAP dispatch, authentication, fault injection and the snapshot endpoint."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import socket
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from lxml import etree

from kedirivms.sim._context import SoapContext
from kedirivms.sim._soap import (
    NS,
    BadRequest,
    ParsedRequest,
    ServiceSpec,
    SoapFault,
    build_envelope,
    build_raw_envelope,
    fault_envelope,
    parse_request,
    registry,
    typed_request,
)
from kedirivms.sim._soap_auth import AuthFailure, check_basic, check_username_token

if TYPE_CHECKING:
    from kedirivms.sim.camera import VirtualCamera

__all__ = ["FaultRule", "SoapHTTPServer"]

_log = logging.getLogger("kedirivms.sim")

MAX_BODY = 1 << 20
SOAP_CT = "application/soap+xml; charset=utf-8"
PRE_AUTH = frozenset({"GetSystemDateAndTime"})
_SNAPSHOT = re.compile(r"^/onvif/snapshot/([A-Za-z0-9_.\-]+)\.jpg$")


@dataclass
class FaultRule:
    """An injected fault: ``kind`` applies to ``operation`` (None = every request) ``remaining`` more times."""

    kind: str
    operation: str | None
    delay_s: float
    remaining: int | None


def _billion_laughs(reply: bytes) -> bytes:
    """Turn a reply into a hostile one: an internal DTD whose entities expand exponentially."""
    decl = b'<?xml version="1.0" encoding="UTF-8"?>'
    body = re.sub(rb"^\s*<\?xml[^>]*\?>\s*", b"", reply)
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    dtd = f"<!DOCTYPE Envelope [{''.join(ents)}]>".encode()
    # put the expansion into the first text node of the reply
    body = re.sub(rb">([^<>]+)</", b">&lol9;</", body, count=1)
    return decl + b"\n" + dtd + b"\n" + body


class SoapHTTPServer(ThreadingHTTPServer):
    """A threading HTTP/1.1 server bound to one virtual camera; tracks connections so stop() can close them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], camera: VirtualCamera) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.camera = camera
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, sock: socket.socket, alive: bool) -> None:
        with self._conns_lock:
            (self._conns.add if alive else self._conns.discard)(sock)

    def close_connections(self) -> None:
        """Shut every open keep-alive connection (their handler threads then end)."""
        with self._conns_lock:
            conns = list(self._conns)
            self._conns.clear()
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kedirivms-sim/0.1"
    sys_version = ""
    timeout = 30.0  # idle keep-alive connections are closed after this
    wbufsize = -1  # buffer a reply so headers and body leave in one segment (flushed per request)
    server: SoapHTTPServer

    # -------------------------------------------------------------------------------------- plumbing
    def setup(self) -> None:
        super().setup()
        # split_reply_nagle mimics slow embedded web servers: Nagle left on, headers and body written apart
        self._split = "split_reply_nagle" in self.camera.config.quirks
        if not self._split:
            # no Nagle: a reply must not wait for the client's delayed ACK (40 ms per call otherwise)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        _log.debug("%s %s", self.address_string(), format % args)

    @property
    def camera(self) -> VirtualCamera:
        return self.server.camera

    def _send(self, status: int, body: bytes, ctype: str = SOAP_CT, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self._split:
            # headers leave in one segment; with Nagle on, the body waits until the client ACKs them, which a
            # client in delayed-ACK mode (a reused keep-alive connection) does only after ~40 ms
            self.wfile.flush()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drop(self) -> None:
        """Close the connection without any reply."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _fault(self, fault: SoapFault, headers: dict[str, str] | None = None, status: int | None = None) -> None:
        body = fault_envelope(fault, undeclared_prefix="fault_undeclared_prefix" in self.camera.config.quirks)
        self._send(status or fault.http_status, body, headers=headers)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None or not length.strip().isdigit():
            self.close_connection = True
            self._send(411, b"Content-Length required", "text/plain")
            return None
        size = int(length)
        if size > MAX_BODY:
            self.close_connection = True
            self._send(413, b"request too large", "text/plain")
            return None
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes | None:
        """Read a ``Transfer-Encoding: chunked`` body (RFC 9112 section 7.1), capped at MAX_BODY."""
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip() or b"x", 16)
            except ValueError:
                self.close_connection = True
                self._send(400, b"bad chunk size", "text/plain")
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                self.close_connection = True
                self._send(413, b"request too large", "text/plain")
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(8)  # CRLF after the chunk

    # ----------------------------------------------------------------------------------------- SOAP
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        cam = self.camera
        body = self._read_body()
        if body is None:
            return
        if cam.unavailable():
            self._drop()
            return
        path = self.path.split("?", 1)[0]
        spec = next((s for s in registry().values() if s.serves(path)), None)
        if spec is None:
            self._send(404, b"no such service", "text/plain")
            return
        try:
            req = parse_request(body)
        except BadRequest as exc:
            cam.log_request(spec.name, "?", None, None, 400, exc.subcode or exc.code)
            subcodes = [exc.subcode] if exc.subcode else []
            self._fault(SoapFault(subcodes, str(exc), code=exc.code))
            return
        op_name = req.operation
        rule = cam.take_fault(op_name)
        if rule is not None and rule.kind == "delay":
            cam.sleep(rule.delay_s)
            rule = None
        if rule is not None and rule.kind == "drop":
            cam.log_request(spec.name, op_name, None, None, 0, "injected drop")
            self._drop()
            return
        if rule is not None and rule.kind == "http500":
            cam.log_request(spec.name, op_name, None, None, 500, "injected http500")
            self._fault(SoapFault(["Action"], "injected internal error", code="Receiver", http_status=500))
            return
        ctx = SoapContext(camera=cam, request=req, path=path)
        scheme = self._authenticate(ctx, spec, op_name)
        if scheme is None:
            return
        status, reply = self._dispatch(ctx, spec, req)
        if rule is not None and rule.kind == "malformed":
            reply = reply[: max(1, len(reply) // 2)]
            status = 200
        elif rule is not None and rule.kind == "hostile":
            reply = _billion_laughs(reply)
            status = 200
        note = None if status == 200 else "fault"
        cam.log_request(spec.name, op_name, scheme, ctx.username, status, note if rule is None else rule.kind)
        self._send(status, reply)

    def _authenticate(self, ctx: SoapContext, spec: ServiceSpec, op: str) -> str | None:
        """Check credentials per the camera's auth mode; returns the scheme used ("" = none) or None if refused
        (the refusal has been sent)."""
        cam = self.camera
        cfg = cam.config
        mode = cfg.auth
        if mode == "none":
            return ""
        pre_auth = op in PRE_AUTH and not cfg.time_requires_auth
        header = ctx.request.header if ctx.request else None
        authorization = self.headers.get("Authorization")
        try:
            if mode in ("username_token", "any"):
                # the clock check is skipped for GetSystemDateAndTime: a client learns the skew from it
                window = None if op in PRE_AUTH else cfg.token_window_s
                user = check_username_token(header, cam.state, cam.now(), window, cam.nonces)
                if user is not None:
                    ctx.username = user
                    return "username_token"
            if mode in ("digest", "any"):
                user = cam.digest.check(authorization, self.command, cam.state, self.path)
                if user is not None:
                    ctx.username = user
                    return "digest"
            if mode == "basic":
                user = check_basic(authorization, cam.state)
                if user is not None:
                    ctx.username = user
                    return "basic"
        except AuthFailure as exc:
            if pre_auth:
                return ""
            stale = len(exc.args) > 1 and bool(exc.args[1])
            cam.log_request(spec.name, op, None, None, 401 if mode != "username_token" else 400, "NotAuthorized")
            self._refuse(mode, str(exc.args[0]), stale=stale)
            return None
        if pre_auth:
            return ""
        cam.log_request(spec.name, op, None, None, 401 if mode != "username_token" else 400, "NotAuthorized")
        self._refuse(mode, "credentials required")
        return None

    def _refuse(self, mode: str, reason: str, *, stale: bool = False) -> None:
        fault = SoapFault(["NotAuthorized"], f"Sender not authorized: {reason}")
        if mode == "username_token":
            self._fault(fault, status=400)
        elif mode == "basic":
            self._fault(fault, headers={"WWW-Authenticate": f'Basic realm="{self.camera.digest.realm}"'}, status=401)
        else:  # digest, any
            self._fault(fault, headers={"WWW-Authenticate": self.camera.digest.challenge(stale=stale)}, status=401)

    def _dispatch(self, ctx: SoapContext, spec: ServiceSpec, req: ParsedRequest) -> tuple[int, bytes]:
        op_name = req.operation
        undeclared = "fault_undeclared_prefix" in self.camera.config.quirks
        handler = spec.handlers.get(op_name)
        if handler is None:
            missing = SoapFault(
                ["ActionNotSupported"], f"{op_name} is not supported by the {spec.name} service", code="Receiver"
            )
            return missing.http_status, fault_envelope(missing, undeclared_prefix=undeclared)
        if not spec.wsdl:  # a service without WSDL (Media2): lxml in, lxml out
            try:
                reply = build_raw_envelope(handler(ctx, req.body), self._reply_headers(ctx, spec, op_name, req))
                return 200, reply
            except SoapFault as fault:
                return fault.http_status, fault_envelope(fault, undeclared_prefix=undeclared)
            except Exception as exc:  # a handler bug: answer (never hang), and say so in the reason
                _log.warning("virtual camera handler %s failed", op_name, exc_info=True)
                broken = SoapFault(
                    ["Action"], f"{op_name}: simulator error {type(exc).__name__}: {exc}", code="Receiver"
                )
                return broken.http_status, fault_envelope(broken, undeclared_prefix=undeclared)
        try:
            op = spec.binding_operation(op_name)
            request = typed_request(op, req.body)
        except Exception as exc:  # the body does not fit the operation's input message
            bad = SoapFault(["InvalidArgVal"], f"{op_name}: cannot read the request: {type(exc).__name__}: {exc}")
            return bad.http_status, fault_envelope(bad, undeclared_prefix=undeclared)
        try:
            values = handler(ctx, request)
            return 200, build_envelope(op, values, self._reply_headers(ctx, spec, op_name, req))
        except SoapFault as fault:
            return fault.http_status, fault_envelope(fault, undeclared_prefix=undeclared)
        except Exception as exc:  # a handler bug: answer (never hang), and say so in the reason
            _log.warning("virtual camera handler %s failed", op_name, exc_info=True)
            broken = SoapFault(["Action"], f"{op_name}: simulator error {type(exc).__name__}: {exc}", code="Receiver")
            return broken.http_status, fault_envelope(broken, undeclared_prefix=undeclared)

    def _reply_headers(self, ctx: SoapContext, spec: ServiceSpec, op: str, req: ParsedRequest) -> list[Any]:
        out: list[Any] = []
        if ctx.quirk("no_wsa_prefix"):
            # WS-Addressing elements written without prefix or namespace, as some firmware does
            action = etree.Element("Action")
            action.text = f"{spec.namespace}/{op}Response"
            out.append(action)
            relates = etree.Element("RelatesTo")
            relates.text = req.message_id() or f"urn:uuid:{uuid.uuid4()}"
            out.append(relates)
        if ctx.quirk("date_dash"):
            sec = etree.Element(f"{{{NS['wsse']}}}Security", nsmap={"wsse": NS["wsse"], "wsu": NS["wsu"]})
            stamp = etree.SubElement(sec, f"{{{NS['wsu']}}}Timestamp")
            now = ctx.now()
            etree.SubElement(stamp, f"{{{NS['wsu']}}}Created").text = ctx.format_datetime(now)
            etree.SubElement(stamp, f"{{{NS['wsu']}}}Expires").text = ctx.format_datetime(
                now + dt.timedelta(seconds=60)
            )
            out.append(sec)
        return out

    # ------------------------------------------------------------------------------------- snapshot
    def do_GET(self) -> None:  # noqa: N802
        cam = self.camera
        path = self.path.split("?", 1)[0]
        m = _SNAPSHOT.match(path)
        if m is None:
            self._send(404, b"not found", "text/plain")
            return
        if cam.unavailable():
            self._drop()
            return
        rule = cam.take_fault("Snapshot")
        if rule is not None and rule.kind == "delay":
            cam.sleep(rule.delay_s)
            rule = None
        if rule is not None and rule.kind == "drop":
            self._drop()
            return
        if rule is not None and rule.kind == "http500":
            self._send(500, b"injected internal error", "text/plain")
            return
        user = self._http_auth_snapshot()
        if user is None:
            return
        jpeg = cam.snapshot(m.group(1))
        if jpeg is None:
            cam.log_request("snapshot", "Snapshot", None, user or None, 404, "NoProfile")
            self._send(404, b"no such profile", "text/plain")
            return
        if rule is not None and rule.kind in ("malformed", "hostile"):
            jpeg = jpeg[: len(jpeg) // 2]
        cam.log_request("snapshot", "Snapshot", "http", user or None, 200, rule.kind if rule else None)
        self._send(200, jpeg, "image/jpeg")

    do_HEAD = do_GET  # noqa: N815

    def _http_auth_snapshot(self) -> str | None:
        """Snapshot auth: none, Basic (basic mode) or Digest (every other mode). "" = anonymous allowed."""
        cam = self.camera
        mode = cam.config.auth
        if mode == "none":
            return ""
        authorization = self.headers.get("Authorization")
        try:
            if mode == "basic":
                user = check_basic(authorization, cam.state)
            else:
                user = cam.digest.check(authorization, self.command, cam.state, self.path)
        except AuthFailure as exc:
            stale = len(exc.args) > 1 and bool(exc.args[1])
            self._challenge(mode, stale)
            return None
        if user is None:
            self._challenge(mode, False)
            return None
        return user

    def _challenge(self, mode: str, stale: bool) -> None:
        cam = self.camera
        value = f'Basic realm="{cam.digest.realm}"' if mode == "basic" else cam.digest.challenge(stale=stale)
        cam.log_request("snapshot", "Snapshot", None, None, 401, "NotAuthorized")
        self._send(401, b"authentication required", "text/plain", {"WWW-Authenticate": value})
