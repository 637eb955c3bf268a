"""Bounded HTTP towards untrusted peers: a whole-request deadline and a reply size cap enforced while reading.

requests and urllib3 time out each socket read, so a peer that sends one byte every few seconds (or an endless
run of ``100 Continue``) holds a call for ever. Here a call runs inside :func:`deadline`: the connections of
:class:`BoundedAdapter` register their sockets with one process-wide watchdog thread (started on first use), which
shuts them down when the deadline passes, so the blocked read returns at once and the caller reports a time-out.

Reply bodies are read with :func:`read_body`: in chunks, decompressing gzip/deflate here (never by urllib3, which
would inflate a whole chunk at once) and stopping as soon as either the bytes on the wire or the decoded bytes
pass the cap, so a compression bomb costs at most the cap.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from kedirivms._quickack import quick_ack

__all__ = [
    "ACCEPT_ENCODING",
    "BoundedAdapter",
    "DeadlineScope",
    "ReplyTooLarge",
    "UnsupportedEncoding",
    "broken_http",
    "deadline",
    "read_body",
]

ACCEPT_ENCODING = "gzip, deflate"  # the only codings read_body decodes (requests would also offer br/zstd)
_CHUNK = 64 * 1024


class ReplyTooLarge(Exception):
    """The reply passed the size cap (``limit`` bytes; ``decoded`` tells whether after decompression)."""

    def __init__(self, limit: int, decoded: bool) -> None:
        self.limit = limit
        self.decoded = decoded
        super().__init__(f"reply larger than {limit} bytes" + (" once decompressed" if decoded else ""))


class UnsupportedEncoding(Exception):
    """The reply uses a Content-Encoding other than identity, gzip or deflate."""


# ---------------------------------------------------------------------------------------------- deadlines
class DeadlineScope:
    """One call's deadline and the sockets it uses; :attr:`expired` once the watchdog cut them."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self.done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if sock not in self._sockets:
                self._sockets.append(sock)
            late = self.expired
        if late:
            _shutdown(sock)

    def expire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def finish(self) -> None:
        with self._lock:
            self.done = True
            self._sockets.clear()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that expires the scopes whose deadline passed (a heap ordered by deadline)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, DeadlineScope]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, scope: DeadlineScope) -> None:
        with self._cond:
            heapq.heappush(self._heap, (scope.deadline, next(self._seq), scope))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kedirivms-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)  # finished in time: drop without waiting for its deadline
                if not self._heap:
                    self._cond.wait(30.0)
                    continue
                due, _, scope = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(min(wait, 30.0))
                    continue
                heapq.heappop(self._heap)
            scope.expire()


_watchdog = _Watchdog()
_local = threading.local()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[DeadlineScope]:
    """Run the enclosed HTTP call (made through a :class:`BoundedAdapter`) under a deadline of ``seconds``."""
    scope = DeadlineScope(seconds)
    outer = getattr(_local, "scope", None)
    _local.scope = scope
    _watchdog.add(scope)
    try:
        yield scope
    finally:
        scope.finish()
        _local.scope = outer


def _current() -> DeadlineScope | None:
    return getattr(_local, "scope", None)


class _Guarded:
    """Mixin for urllib3 connections: register the socket with the current deadline scope."""

    sock: Any
    timeout: Any

    def connect(self) -> None:
        scope = _current()
        if scope is not None and isinstance(self.timeout, int | float):
            self.timeout = max(0.001, min(self.timeout, scope.remaining()))
        super().connect()  # type: ignore[misc]
        if scope is not None:
            scope.watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        scope = _current()
        if scope is not None:
            scope.watch(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        quick_ack(self.sock)  # slow embedded servers send headers and body apart (see kedirivms._quickack)
        return super().getresponse()  # type: ignore[misc]


class _GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class BoundedAdapter(HTTPAdapter):
    """A requests adapter whose connections obey :func:`deadline` (mount it for ``http://`` and ``https://``)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def broken_http(exc: BaseException) -> str | None:
    """The name of the HTTP syntax error behind ``exc`` (bad status line, header flood, bad chunk), else ``None``.

    urllib3 and requests wrap http.client's parse errors in the same exception types as a dropped connection.
    """
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 8:
        err = todo.pop()
        seen.append(err)
        if isinstance(err, urllib3.exceptions.InvalidChunkLength | urllib3.exceptions.HeaderParsingError):
            return type(err).__name__
        if isinstance(err, http.client.HTTPException) and not isinstance(
            err,
            OSError | http.client.IncompleteRead,  # a peer that hung up: a connection problem
        ):
            return type(err).__name__
        if isinstance(err, ValueError) and not isinstance(err, OSError):  # e.g. a chunk size that is not hex
            return "unreadable " + ("chunk size" if "base 16" in str(err) else "reply")
        todo.extend(a for a in err.args if isinstance(a, BaseException))
        todo.extend(e for e in (err.__cause__, err.__context__) if e is not None)
    return None


# ---------------------------------------------------------------------------------------------- size cap
def _decoder(encoding: str) -> Any:
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        return None
    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return _Deflate()
    raise UnsupportedEncoding(f"Content-Encoding {encoding[:40]!r} is not supported")


class _Deflate:
    """HTTP ``deflate``: zlib-wrapped as the RFC says, or raw deflate as some servers send."""

    def __init__(self) -> None:
        self._d: Any = None
        self.unconsumed_tail = b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._d is None:
            zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self._d = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        out: bytes = self._d.decompress(data, max_length)
        self.unconsumed_tail = self._d.unconsumed_tail
        return out


def read_body(reply: urllib3.BaseHTTPResponse, limit: int) -> bytes:
    """Read ``reply`` (opened with ``preload_content=False``) into bytes, decoding gzip/deflate, at most ``limit``.

    Raises:
        ReplyTooLarge: more than ``limit`` bytes on the wire or once decoded.
        UnsupportedEncoding: a Content-Encoding we did not offer.
        urllib3/OSError exceptions of the read itself (the caller maps them).
    """
    decoder = _decoder(reply.headers.get("Content-Encoding", ""))
    declared = reply.headers.get("Content-Length", "")
    if declared.strip().isdigit() and int(declared) > limit:
        raise ReplyTooLarge(limit, decoded=False)
    out = bytearray()
    wire = 0
    while True:
        chunk = reply.read(_CHUNK, decode_content=False)
        if not chunk:
            break
        wire += len(chunk)
        if wire > limit:
            raise ReplyTooLarge(limit, decoded=False)
        if decoder is None:
            out += chunk
            continue
        try:
            out += decoder.decompress(chunk, limit + 1 - len(out))
        except zlib.error as exc:
            raise UnsupportedEncoding(f"the compressed reply is corrupt ({exc})") from None
        if len(out) > limit or decoder.unconsumed_tail:
            raise ReplyTooLarge(limit, decoded=True)
    return bytes(out)
