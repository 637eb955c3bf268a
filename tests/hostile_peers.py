"""Hostile peers for the robustness tests and benchmarks/hostile_camera.py, built on the standard library.

:class:`HostileCamera` is an HTTP server on a loopback port in front of a real virtual camera (kedirivms.sim): it
forwards each SOAP request to the camera and lets a *case* replace, mutate, stall or flood the reply of the
operation it targets, so every other reply stays the real one. :class:`HostileRtsp` answers RTSP requests with
what a case says (refusals, huge SDPs, trickles). :data:`SOAP_CASES` and :data:`RTSP_CASES` are the tables the
tests and the benchmark share.
"""

from __future__ import annotations

import gzip
import random
import re
import socket
import socketserver
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from http.client import HTTPConnection
from urllib.parse import urlsplit

from kedirivms.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    KedirivmsError,
    LimitExceeded,
    NotSupported,
    OnvifFault,
    ProtocolError,
    Timeout,
)

PASSWORD = "Hostile-s3cret!pw"  # the virtual camera's password: it must never appear in any output
_OPERATION = re.compile(rb"<(?:[\w.-]+:)?Body[^>]*>\s*<(?:[\w.-]+:)?([\w.-]+)")


# ------------------------------------------------------------------------------------------------ SOAP camera
class Exchange:
    """One request the hostile camera received: the operation, and how to answer (helpers for the cases)."""

    def __init__(
        self,
        sock: socket.socket,
        wfile: object,
        request: bytes,
        headers: dict[str, str],
        path: str,
        upstream: tuple[str, int],
    ) -> None:
        self.sock = sock
        self.wfile = wfile
        self.request = request
        self.headers = headers
        self.path = path
        self._upstream = upstream
        match = _OPERATION.search(request)
        self.operation = match.group(1).decode() if match else ""

    def forward(self) -> tuple[int, bytes, dict[str, str]]:
        """The virtual camera's own reply to this request: (status, body, headers)."""
        conn = HTTPConnection(*self._upstream, timeout=10)
        try:
            keep = {
                k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization", "soapaction")
            }
            conn.request("POST", self.path, body=self.request, headers=keep)
            resp = conn.getresponse()
            return resp.status, resp.read(), {k: v for k, v in resp.getheaders()}
        finally:
            conn.close()

    def send(self, data: bytes) -> None:
        self.wfile.write(data)  # type: ignore[attr-defined]
        self.wfile.flush()  # type: ignore[attr-defined]

    def reply(self, body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """A complete HTTP/1.1 reply with ``body`` (Content-Length unless ``headers`` set Transfer-Encoding)."""
        head = {"Content-Type": "application/soap+xml; charset=utf-8", "Connection": "close"}
        head.update(headers or {})
        if "Transfer-Encoding" not in head and "Content-Length" not in head:
            head["Content-Length"] = str(len(body))
        reason = {200: "OK", 401: "Unauthorized", 500: "Internal Server Error"}.get(status, "X")
        lines = "".join(f"{k}: {v}\r\n" for k, v in head.items())
        self.send(f"HTTP/1.1 {status} {reason}\r\n{lines}\r\n".encode() + body)


Action = Callable[[Exchange], None]


class _SoapHandler(socketserver.StreamRequestHandler):
    server: _SoapServer

    def handle(self) -> None:
        self.connection.settimeout(30)
        try:
            request_line = self.rfile.readline(65537)
            if not request_line:
                return
            headers: dict[str, str] = {}
            while True:
                line = self.rfile.readline(65537)
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip()] = value.strip()
            body = self.rfile.read(int(headers.get("Content-Length", "0") or 0))
            path = request_line.split()[1].decode() if len(request_line.split()) > 1 else "/"
            ex = Exchange(self.connection, self.wfile, body, headers, path, self.server.upstream)
            self.server.seen.append(ex.operation)
            case = self.server.case
            if case.operation is None or ex.operation in case.operations():
                case.action(ex)
            else:
                status, data, head = ex.forward()
                ex.reply(data, status, {"Content-Type": head.get("Content-Type", "application/soap+xml")})
        except (OSError, ValueError):
            pass  # the client gave up (deadline) or the case closed the connection on purpose


class _SoapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int], case: SoapCase) -> None:
        super().__init__(("127.0.0.1", 0), _SoapHandler)
        self.upstream = upstream
        self.case = case
        self.seen: list[str] = []


class HostileCamera:
    """A hostile camera at :attr:`url`: the virtual camera ``upstream`` (its device URL) behind ``case``."""

    def __init__(self, upstream_url: str, case: SoapCase) -> None:
        parts = urlsplit(upstream_url)
        self._server = _SoapServer((parts.hostname or "127.0.0.1", parts.port or 80), case)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}{parts.path}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="hostile-camera", daemon=True
        )

    @property
    def seen(self) -> list[str]:
        """The operations received so far, in order."""
        return self._server.seen

    def start(self) -> HostileCamera:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HostileCamera:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class SoapCase:
    """One hostile behaviour: ``action`` answers ``operation`` (``"A|B"`` for several, None for every request).

    ``api`` and ``cli`` are what the library call and ``kedirivms info --json`` must end with: ``None`` for a valid
    result, else the error class (the CLI: its exit code, from docs/cli.md).
    """

    name: str
    operation: str | None
    action: Action
    api: type[KedirivmsError] | None
    cli: int
    slow: bool = False  # ends only at the request deadline
    tags: tuple[str, ...] = field(default=())

    def operations(self) -> set[str]:
        return set((self.operation or "").split("|"))


# ----------------------------------------------------------------------------------------- actions (builders)
def sub(pattern: str, replacement: str, count: int = 0) -> Action:
    """Forward, then replace ``pattern`` (a regex on the reply text) with ``replacement``."""

    def action(ex: Exchange) -> None:
        status, body, _ = ex.forward()
        text = re.sub(pattern, replacement, body.decode(), count=count)
        ex.reply(text.encode(), status)

    return action


def fault(reason: str, subcode: str = "ter:Action") -> Action:
    """A SOAP 1.2 fault with ``reason`` (text inserted as is: tests markup, newlines, secrets)."""
    body = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:ter="http://www.onvif.org/ver10/error"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value>'
        f"<s:Subcode><s:Value>{subcode}</s:Value></s:Subcode></s:Code><s:Reason>"
        f'<s:Text xml:lang="en">{reason}</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>'
    ).encode()
    return lambda ex: ex.reply(body, 500)


def raw(data: bytes, close: bool = True) -> Action:
    """Send ``data`` verbatim (headers and all), then close."""
    return lambda ex: ex.send(data)


def trickle(head: bytes, step: bytes, every: float, headers_too: bool = False) -> Action:
    """Send ``head`` (or one byte of it at a time) and then ``step`` every ``every`` seconds, for ever."""

    def action(ex: Exchange) -> None:
        if headers_too:
            for i in range(len(head)):
                ex.send(head[i : i + 1])
                time.sleep(every)
        else:
            ex.send(head)
        for _ in range(10_000):
            ex.send(step)
            time.sleep(every)

    return action


def chunked_profiles(total_bytes: int) -> Action:
    """A GetProfiles reply sent chunked, ``total_bytes`` long, as fast as the client reads."""

    def action(ex: Exchange) -> None:
        ex.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n"
        )
        head = (
            b'<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            b'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">'
            b"<s:Body><trt:GetProfilesResponse>"
        )
        item = b'<trt:Profiles token="p" fixed="false"><tt:Name>n</tt:Name></trt:Profiles>' * 1000
        sent = 0
        for part in (head, *([item] * (total_bytes // len(item) + 1))):
            ex.send(b"%x\r\n%s\r\n" % (len(part), part))
            sent += len(part)
            if sent > total_bytes:
                break
        ex.send(b"0\r\n\r\n")

    return action


def many_profiles(count: int) -> Action:
    """GetProfiles listing ``count`` minimal profiles (each one a GetStreamUri call for a naive ``info``)."""
    item = '<trt:Profiles token="p{i}"/>'
    body = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">'
        "<s:Body><trt:GetProfilesResponse>"
        + "".join(item.format(i=i) for i in range(count))
        + "</trt:GetProfilesResponse></s:Body></s:Envelope>"
    ).encode()
    return lambda ex: ex.reply(body)


@cache
def _bomb(coding: str, size: int) -> bytes:
    """``size`` zero bytes compressed with ``coding`` (about 1 KiB per MiB), built in milliseconds.

    After a full flush, deflate emits the same bytes for every further MiB of zeros, so one block is repeated;
    the trailing checksum is not that of the whole stream (a reader that stops at its cap never gets there).
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    first = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    steady = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    return first + steady * ((size >> 20) - 1) + comp.flush()


def bomb(coding: str, size: int = 400 << 20) -> Action:
    return lambda ex: ex.reply(_bomb(coding, size), headers={"Content-Encoding": coding})


def gzip_valid() -> Action:
    """The real reply, gzip-compressed as HTTP allows: must be read normally."""

    def action(ex: Exchange) -> None:
        status, body, _ = ex.forward()
        ex.reply(gzip.compress(body), status, {"Content-Encoding": "gzip"})

    return action


def big(size: int, declared: bool) -> Action:
    """A reply of ``size`` bytes of XML-looking text, with or without a Content-Length."""

    def action(ex: Exchange) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nConnection: close\r\n"
        ex.send(head + (b"Content-Length: %d\r\n" % size if declared else b"") + b"\r\n")
        block = b"<a>" + b"x" * (1 << 20) + b"</a>"
        for _ in range(size // len(block)):
            ex.send(block)

    return action


def stream_uri(uri: str) -> Action:
    return sub(r"<tt:Uri>[^<]*</tt:Uri>", f"<tt:Uri>{uri}</tt:Uri>")


def xaddrs(replacement: Callable[[str], str]) -> Action:
    """GetServices with each XAddr rewritten by ``replacement(original)``."""

    def action(ex: Exchange) -> None:
        status, body, _ = ex.forward()
        text = re.sub(
            r"(<tds:XAddr>)([^<]*)(</tds:XAddr>)",
            lambda m: m.group(1) + replacement(m.group(2)) + m.group(3),
            body.decode(),
        )
        ex.reply(text.encode(), status)

    return action


def digest_challenge(header: str) -> Action:
    return lambda ex: ex.reply(b"", 401, {"WWW-Authenticate": header})


def _digest_then(action: Action) -> Action:
    """A camera that asks for HTTP Digest (requests answers the challenge), then answers with ``action``."""

    def run(ex: Exchange) -> None:
        if "Authorization" not in ex.headers:
            ex.reply(b"", 401, {"WWW-Authenticate": 'Digest realm="cam", nonce="abc123", qop="auth"'})
        else:
            action(ex)

    return run


def _empty_body(ex: Exchange) -> None:
    ex.reply(
        b'<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>'
    )


def _truncate(ex: Exchange) -> None:
    status, body, _ = ex.forward()
    ex.reply(body[: len(body) // 2], status)


def _short_body(ex: Exchange) -> None:
    status, body, _ = ex.forward()
    ex.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (len(body) + 1000) + body)


def _reset(ex: Exchange) -> None:
    ex.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    ex.sock.close()  # linger 0: the close sends a TCP reset


_NUMBER_FIELDS = ("Width", "Height", "FrameRateLimit", "BitrateLimit", "GovLength", "Quality", "EncodingInterval")
_ABSURD = ("1e309", "-1e309", "INF", "NaN", "1" + "0" * 400, "9" * 30, "-0x10", "1e18")


def _cases() -> Iterator[SoapCase]:
    p, ok = ProtocolError, None
    # absurd numbers in the profiles every connect reads
    for name in _NUMBER_FIELDS:
        for value in _ABSURD:
            tag = f"tt:{name}"
            yield SoapCase(
                f"number-{name}-{value[:8]}",
                "GetProfiles",
                sub(f"<{tag}>[^<]*</{tag}>", f"<{tag}>{value}</{tag}>"),
                p,
                1,
                tags=("number",),
            )
    for name, value in (("Hour", "999999999999999"), ("Year", "1e309"), ("Minute", "-99999999999"), ("Day", "0")):
        tag = f"tt:{name}"
        yield SoapCase(
            f"clock-{name}",
            "GetSystemDateAndTime",
            sub(f"<{tag}>[^<]*</{tag}>", f"<{tag}>{value}</{tag}>"),
            ok,
            0,
            tags=("number",),
        )
    # addresses
    for uri in ("rtsp://[::1/main", "rtsp://127.0.0.1:99999/x", "rtsp://[zz]:554/x", "rtsp://" + "a" * 70000, ""):
        yield SoapCase(f"stream-uri-{uri[:18]}", "GetStreamUri", stream_uri(uri), ok, 0, tags=("address",))
    yield SoapCase(
        "xaddr-bad-ipv6",
        "GetServices",
        xaddrs(lambda x: x.replace("127.0.0.1", "[::1")),
        NotSupported,
        6,
        tags=("address",),
    )
    yield SoapCase(
        "xaddr-userinfo",
        "GetServices",
        xaddrs(lambda x: x.replace("://", f"://admin:{PASSWORD}@")),
        ok,
        0,
        tags=("secret",),
    )
    yield SoapCase(
        "xaddr-own-host-no-port", "GetServices", xaddrs(lambda x: re.sub(r":\d+/", "/", x)), ok, 0, tags=("address",)
    )
    yield SoapCase("empty-body-stream-uri", "GetStreamUri", _empty_body, ok, 0, tags=("zeep",))
    for value in ("P999999999999D", "PT1e309S", "P-1D", "garbage"):
        yield SoapCase(
            f"stream-uri-timeout-{value}",
            "GetStreamUri",
            sub("<tt:Timeout>[^<]*", f"<tt:Timeout>{value}"),
            ok,
            0,
            tags=("number",),
        )
    yield SoapCase("empty-body-profiles", "GetProfiles", _empty_body, p, 1)
    # auth games
    yield SoapCase("digest-no-nonce", None, digest_challenge('Digest realm="cam", qop="auth"'), p, 1, tags=("auth",))
    yield SoapCase("digest-no-realm", None, digest_challenge('Digest nonce="abc"'), p, 1, tags=("auth",))
    yield SoapCase(
        "digest-bad-algorithm",
        None,
        digest_challenge('Digest realm="r", nonce="n", algorithm=XYZ'),
        AuthenticationFailed,
        3,
        tags=("auth",),
    )
    yield SoapCase("basic-401-forever", None, digest_challenge('Basic realm="cam"'), AuthenticationFailed, 3)
    yield SoapCase(
        "401-huge-body",
        None,
        lambda ex: ex.reply(b"x" * (64 << 20), 401, {"WWW-Authenticate": 'Digest realm="r", nonce="n"'}),
        LimitExceeded,
        1,
        tags=("size",),
    )
    # faults: markup, forged lines, secrets, size
    yield SoapCase(
        "fault-markup",
        "GetDeviceInformation",
        fault("bad [/] [bold red]x[/bold red] [link=x]"),
        OnvifFault,
        1,
        tags=("output",),
    )
    yield SoapCase(
        "fault-newline",
        "GetDeviceInformation",
        fault("first\nerror: forged line\r\nerror: again"),
        OnvifFault,
        1,
        tags=("output",),
    )
    # C1 controls are legal XML 1.0 and terminals obey them (CSI = \x9b); bidi overrides reorder the line
    yield SoapCase(
        "fault-escape-codes",
        "GetDeviceInformation",
        fault("\x9b2J\x9d0;owned\x9c \u202eevil \x85next"),
        OnvifFault,
        1,
        tags=("output",),
    )
    yield SoapCase(
        "fault-password",
        "GetDeviceInformation",
        fault(f"user admin password {PASSWORD} refused"),
        OnvifFault,
        1,
        tags=("secret",),
    )
    yield SoapCase("fault-1mb", "GetDeviceInformation", fault("A" * (1 << 20)), OnvifFault, 1, tags=("output",))
    yield SoapCase("fault-not-authorized", "GetProfiles", fault("nope", "ter:NotAuthorized"), AuthenticationFailed, 3)
    # markup and controls in values that are printed
    yield SoapCase(
        "device-markup",
        "GetDeviceInformation",
        sub("<tds:Model>[^<]*", "<tds:Model>[bold]x[/] [/]\x9b31m\u202e"),
        ok,
        0,
        tags=("output",),
    )
    # sizes
    yield SoapCase("chunked-200mb", "GetProfiles", chunked_profiles(200 << 20), LimitExceeded, 1, tags=("size",))
    yield SoapCase("declared-256mb", "GetProfiles", big(256 << 20, True), LimitExceeded, 1, tags=("size",))
    yield SoapCase("undeclared-64mb", "GetProfiles", big(64 << 20, False), LimitExceeded, 1, tags=("size",))
    yield SoapCase("gzip-bomb", "GetProfiles", bomb("gzip"), LimitExceeded, 1, tags=("size",))
    yield SoapCase("deflate-bomb", "GetProfiles", bomb("deflate"), LimitExceeded, 1, tags=("size",))
    yield SoapCase("gzip-valid", None, gzip_valid(), ok, 0)
    yield SoapCase(
        "br-encoding", "GetProfiles", lambda ex: ex.reply(b"\x0b\x02\x80", headers={"Content-Encoding": "br"}), p, 1
    )
    yield SoapCase("profiles-20000", "GetProfiles", many_profiles(20000), LimitExceeded, 1, tags=("count",))
    # time: trickles and floods end at the request deadline
    yield SoapCase(
        "slowloris-body",
        "GetDeviceInformation",
        trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<", b"x", 0.5),
        Timeout,
        4,
        slow=True,
    )
    yield SoapCase(
        "slowloris-headers",
        "GetDeviceInformation",
        trickle(b"HTTP/1.1 200 OK\r\nX-A: b", b"c", 0.5, True),
        Timeout,
        4,
        slow=True,
    )
    yield SoapCase(
        "continue-flood",
        "GetDeviceInformation",
        trickle(b"", b"HTTP/1.1 100 Continue\r\n\r\n", 0.05),
        Timeout,
        4,
        slow=True,
    )
    yield SoapCase(
        "digest-then-slowloris",
        None,
        _digest_then(trickle(b"HTTP/1.1 200 OK\r\nX-A: b", b"c", 0.5, True)),
        Timeout,
        4,
        slow=True,
    )
    yield SoapCase("digest-then-bomb", None, _digest_then(bomb("gzip")), LimitExceeded, 1, tags=("size",))
    yield SoapCase("no-reply", "GetDeviceInformation", lambda ex: time.sleep(60), Timeout, 4, slow=True)
    # broken HTTP and XML
    yield SoapCase("truncated", "GetProfiles", _truncate, p, 1)
    yield SoapCase("short-body", "GetDeviceInformation", _short_body, ConnectionFailed, 5)
    yield SoapCase("reset", "GetDeviceInformation", _reset, ConnectionFailed, 5)
    yield SoapCase("http-500-html", "GetDeviceInformation", lambda ex: ex.reply(b"<html>oops</html>", 500), p, 1)
    yield SoapCase(
        "redirect", "GetDeviceInformation", lambda ex: ex.reply(b"", 302, {"Location": "http://10.9.9.9/x"}), p, 1
    )
    yield SoapCase("garbage-status", "GetDeviceInformation", raw(b"HTTP/1.1 abc\r\n\r\n"), p, 1)
    yield SoapCase("not-http", "GetDeviceInformation", raw(b"\x00\xff" * 100), p, 1)
    yield SoapCase(
        "too-many-headers", "GetDeviceInformation", raw(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 1000 + b"\r\n"), p, 1
    )
    yield SoapCase(
        "bad-chunk",
        "GetDeviceInformation",
        raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n"),
        p,
        1,
    )
    yield SoapCase(
        "xxe",
        "GetDeviceInformation",
        sub(r"^<\?xml[^>]*\?>", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'),
        p,
        1,
        tags=("xml",),
    )
    yield SoapCase("deep-nesting", "GetDeviceInformation", lambda ex: ex.reply(b"<a>" * 100000), p, 1, tags=("xml",))
    yield SoapCase("unsupported", "GetDeviceInformation", fault("no", "ter:ActionNotSupported"), NotSupported, 6)


SOAP_CASES: tuple[SoapCase, ...] = tuple(_cases())


# ------------------------------------------------------------------------------------------------ fuzzing
SEED = 15
OPERATIONS = ("GetSystemDateAndTime", "GetServices", "GetDeviceInformation", "GetProfiles", "GetStreamUri")
TEXTS = (
    "1e309", "-1e309", "NaN", "INF", "9" * 40, "-1", "0", "", " ", "[/]", "[bold]x", "\u202e\x85\x9b2J",
    PASSWORD, f"http://admin:{PASSWORD}@127.0.0.1:1/x", "rtsp://[::1/x", "P999999999999D", "x" * 100_000, "&amp;",
)  # fmt: skip


def _flip(rng: random.Random, body: bytes) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randint(1, 6)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _cut(rng: random.Random, body: bytes) -> bytes:
    return body[: rng.randrange(len(body))]


def _repeat(rng: random.Random, body: bytes) -> bytes:
    elements = list(re.finditer(rb"<(tt:\w+)[^>]*>.*?</\1>", body, re.S))
    if not elements:
        return body
    m = rng.choice(elements)
    return body[: m.start()] + m.group() * rng.choice((2, 50, 3000)) + body[m.end() :]


def _text(rng: random.Random, body: bytes) -> bytes:
    texts = list(re.finditer(rb">([^<>]+)<", body))
    if not texts:
        return body
    m = rng.choice(texts)
    value = rng.choice(TEXTS).encode()
    return body[: m.start(1)] + value.replace(b"&", b"&amp;").replace(b"<", b"&lt;") + body[m.end(1) :]


def _untag(rng: random.Random, body: bytes) -> bytes:
    tags = list(re.finditer(rb"</?[\w:]+[^>]*>", body))
    if not tags:
        return body
    m = rng.choice(tags)
    return body[: m.start()] + rng.choice((b"", b"<tt:X>", m.group().replace(b"tt:", b"zz:"))) + body[m.end() :]


MUTATORS: tuple[Callable[[random.Random, bytes], bytes], ...] = (_flip, _cut, _repeat, _text, _untag)


def mutation(index: int) -> SoapCase:
    """Mutation ``index`` of the seeded sequence: the operation it breaks and how."""
    rng = random.Random(SEED * 100_003 + index)
    operation = rng.choice(OPERATIONS)
    mutate = rng.choice(MUTATORS)

    def action(ex: Exchange) -> None:
        status, body, _ = ex.forward()
        ex.reply(mutate(rng, body), status)

    return SoapCase(f"fuzz-{index}-{operation}-{mutate.__name__}", operation, action, None, 0)


# ------------------------------------------------------------------------------------------------ RTSP server
@dataclass(frozen=True)
class RtspCase:
    """What the hostile RTSP server answers to DESCRIBE; ``cli`` is the exit code ``kedirivms stream`` must give."""

    name: str
    describe: Callable[[int], bytes]  # CSeq -> the reply bytes (b"" closes; a sleep inside stalls)
    cli: int
    error: type[KedirivmsError]


def _sdp(tracks: int) -> bytes:
    head = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    track = "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track{i}\r\n"
    return (head + "".join(track.format(i=i) for i in range(tracks))).encode()


def _rtsp(cseq: int, status: str, headers: str = "", body: bytes = b"") -> bytes:
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    return f"RTSP/1.0 {status}\r\nCSeq: {cseq}\r\n{headers}{length}\r\n".encode() + body


def _stall(seconds: float) -> bytes:
    time.sleep(seconds)
    return b""


def _describe_sdp(tracks: int) -> Callable[[int], bytes]:
    return lambda c: _rtsp(
        c, "200 OK", "Content-Type: application/sdp\r\nContent-Base: rtsp://127.0.0.1/x/\r\n", _sdp(tracks)
    )


RTSP_CASES: tuple[RtspCase, ...] = (
    RtspCase(
        "401-digest",
        lambda c: _rtsp(c, "401 Unauthorized", 'WWW-Authenticate: Digest realm="r", nonce="n"\r\n'),
        3,
        AuthenticationFailed,
    ),
    RtspCase(
        "401-basic",
        lambda c: _rtsp(c, "401 Unauthorized", 'WWW-Authenticate: Basic realm="r"\r\n'),
        3,
        AuthenticationFailed,
    ),
    RtspCase("404", lambda c: _rtsp(c, "404 Not Found"), 5, ConnectionFailed),
    RtspCase("sdp-3000-tracks", _describe_sdp(3000), 1, LimitExceeded),  # refused by the DESCRIBE pre-check
    RtspCase("sdp-no-tracks", _describe_sdp(0), 5, ConnectionFailed),
    RtspCase("close", lambda c: b"", 5, ConnectionFailed),
    RtspCase("garbage", lambda c: b"\x00\xff" * 500, 5, ConnectionFailed),
    RtspCase(
        "sdp-huge-declared",
        lambda c: _rtsp(c, "200 OK", "Content-Length: 900000000\r\n") + b"v=0\r\n",
        1,
        LimitExceeded,
    ),
    RtspCase("stall", lambda c: _stall(30.0), 4, Timeout),
)


class _RtspHandler(socketserver.StreamRequestHandler):
    server: _RtspServer

    def handle(self) -> None:
        self.connection.settimeout(30)
        try:
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    return
                method = line.split(b" ", 1)[0]
                cseq = 0
                while True:
                    header = self.rfile.readline(65537)
                    if header in (b"\r\n", b"\n", b""):
                        break
                    if header.lower().startswith(b"cseq:"):
                        cseq = int(header.split(b":", 1)[1].strip() or b"0")
                if method == b"OPTIONS":
                    self.wfile.write(_rtsp(cseq, "200 OK", "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n"))
                elif method == b"DESCRIBE":
                    data = self.server.case.describe(cseq)
                    if not data:
                        return
                    self.wfile.write(data)
                else:
                    self.wfile.write(_rtsp(cseq, "455 Method Not Valid in This State"))
                self.wfile.flush()
        except (OSError, ValueError):
            pass


class _RtspServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, case: RtspCase) -> None:
        super().__init__(("127.0.0.1", 0), _RtspHandler)
        self.case = case


class HostileRtsp:
    """A hostile RTSP server on loopback answering as ``case`` says; :attr:`url` is its stream."""

    def __init__(self, case: RtspCase) -> None:
        self._server = _RtspServer(case)
        self.url = f"rtsp://127.0.0.1:{self._server.server_address[1]}/x"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="hostile-rtsp", daemon=True
        )

    def __enter__(self) -> HostileRtsp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
