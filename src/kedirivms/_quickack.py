"""Keep-alive SOAP calls immune to servers that send headers and body apart with Nagle on.

Many embedded camera web servers write the HTTP status line and headers in one TCP segment and the body in a
second, with Nagle's algorithm on: the body then waits until the headers are acknowledged. On a reused keep-alive
connection Linux acknowledges in delayed-ACK mode (it hopes to piggy-back the ACK on our next request), so every
call stalls ~40 ms. Setting ``TCP_QUICKACK`` right after a request is sent sends any pending ACK at once and leaves
delayed-ACK mode for the reply; the kernel re-enters it when we send again, so it is set again for every response.
Elsewhere (no ``TCP_QUICKACK``) nothing changes.

The deadline-guarded urllib3 connections of :mod:`kedirivms._http_limits` (every camera session mounts them)
call :func:`quick_ack` before reading each response, for raw urllib3 calls and requests' alike. Set ``ENABLED``
to False to measure the client without it (``benchmarks/connect_slow_servers.py``).
"""

from __future__ import annotations

import contextlib
import socket

__all__ = ["ENABLED", "quick_ack"]

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
ENABLED = True


def quick_ack(sock: socket.socket | None) -> None:
    """Acknowledge what ``sock`` received at once and leave delayed-ACK mode for the coming reply (Linux)."""
    if ENABLED and sock is not None and _QUICKACK is not None:
        with contextlib.suppress(OSError):  # a closed socket, or a platform that refuses it: no harm done
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
