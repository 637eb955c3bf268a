"""Keep-alive SOAP calls immune to servers that send headers and body apart with Nagle on.

Many embedded camera web servers write the HTTP status line and headers in one TCP segment and the body in a
second, with Nagle's algorithm on: the body then waits until the headers are acknowledged. On a reused keep-alive
connection Linux acknowledges in delayed-ACK mode (it hopes to piggy-back the ACK on our next request), so every
call stalls ~40 ms. Setting ``TCP_QUICKACK`` right after a request is sent sends any pending ACK at once and leaves
delayed-ACK mode for the reply; the kernel re-enters it when we send again, so it is set again for every response.
Elsewhere (no ``TCP_QUICKACK``) nothing changes.

:func:`install` mounts an adapter on a camera's :class:`requests.Session` whose urllib3 pools make such
connections; the transport reaches its pools through that adapter, for raw urllib3 calls and requests' alike.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["install"]

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def _quick_ack(sock: socket.socket | None) -> None:
    if sock is not None and _QUICKACK is not None:
        with contextlib.suppress(OSError):  # a closed socket, or a platform that refuses it: no harm done
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)


class _QuickAckHTTPConnection(HTTPConnection):
    def getresponse(self) -> Any:
        _quick_ack(self.sock)
        return super().getresponse()


class _QuickAckHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> Any:
        _quick_ack(self.sock)
        return super().getresponse()


class _QuickAckHTTPPool(HTTPConnectionPool):
    ConnectionCls = _QuickAckHTTPConnection


class _QuickAckHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _QuickAckHTTPSConnection


class _QuickAckAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _QuickAckHTTPPool, "https": _QuickAckHTTPSPool}


def install(session: requests.Session) -> None:
    """Make ``session``'s connections acknowledge replies at once (no-op where ``TCP_QUICKACK`` is missing)."""
    if _QUICKACK is None:
        return
    for prefix in ("http://", "https://"):
        session.mount(prefix, _QuickAckAdapter())
