"""HTTP check for devices that ignore unicast Probes: an unauthenticated GetSystemDateAndTime POST.

ONVIF lets GetSystemDateAndTime through without credentials (clients need the device clock before they can
build a WS-UsernameToken), so a SOAP answer to it on ``/onvif/device_service`` is a strong sign of an ONVIF
device. Many hosts x ports are checked concurrently with asyncio streams, each connection bounded by a
time-out, so a /24 over four ports costs about one time-out rather than a thousand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from kedirivms.discovery._net import IPAddress

log = logging.getLogger("kedirivms.discovery")

DEFAULT_PORTS: tuple[int, ...] = (80, 8000, 8080, 8899)
DEVICE_PATH = "/onvif/device_service"
_MAX_REPLY = 64 * 1024

_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
    b"<s:Body><tds:GetSystemDateAndTime/></s:Body></s:Envelope>"
)


def _request(host: str, port: int) -> bytes:
    authority = f"[{host}]" if ":" in host else host
    if port != 80:
        authority += f":{port}"
    head = (
        f"POST {DEVICE_PATH} HTTP/1.1\r\n"
        f"Host: {authority}\r\n"
        'Content-Type: application/soap+xml; charset=utf-8; action="http://www.onvif.org/ver10/device/wsdl/'
        'GetSystemDateAndTime"\r\n'
        f"Content-Length: {len(_BODY)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + _BODY


def looks_like_onvif(reply: bytes) -> bool:
    """True if an HTTP reply carries a SOAP answer (or fault) to GetSystemDateAndTime.

    A SOAP fault counts too: a device that demands credentials even here is still an ONVIF device.
    """
    head, _, body = reply.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1."):
        return False
    return b"GetSystemDateAndTimeResponse" in body or (b"Envelope" in body and b"Fault" in body)


async def _exchange(host: str, port: int, timeout: float) -> bytes:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(_request(host, port))
        await writer.drain()
        reply = b""
        # The reply may come in several segments: read until close, the size cap or a SOAP answer.
        while len(reply) < _MAX_REPLY and not looks_like_onvif(reply):
            more = await reader.read(_MAX_REPLY - len(reply))
            if not more:
                break
            reply += more
        return reply
    finally:
        writer.close()
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 0.2)


async def _check_one(host: str, port: int, timeout: float, sem: asyncio.Semaphore) -> str | None:
    async with sem:
        try:
            # connect gets ``timeout``; the whole exchange at most twice that (a slow drip cannot hold us).
            reply = await asyncio.wait_for(_exchange(host, port, timeout), 2 * timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            log.debug("HTTP check %s:%d: %s", host, port, exc or type(exc).__name__)
            return None
        if not looks_like_onvif(reply):
            log.debug("HTTP check %s:%d: not an ONVIF answer", host, port)
            return None
        authority = f"[{host}]" if ":" in host else host
        return f"http://{authority}:{port}{DEVICE_PATH}" if port != 80 else f"http://{authority}{DEVICE_PATH}"


async def _check_all(
    hosts: Sequence[IPAddress], ports: Sequence[int], timeout: float, concurrency: int
) -> dict[str, list[str]]:
    sem = asyncio.Semaphore(concurrency)
    jobs = [(str(h), p) for h in hosts for p in ports]
    results = await asyncio.gather(*(_check_one(h, p, timeout, sem) for h, p in jobs))
    found: dict[str, list[str]] = {}
    for (host, _), url in zip(jobs, results, strict=True):
        if url is not None:
            found.setdefault(host, []).append(url)
    return found


def http_check(
    hosts: Sequence[IPAddress],
    ports: Sequence[int] = DEFAULT_PORTS,
    timeout: float = 1.0,
    concurrency: int = 256,
) -> dict[str, list[str]]:
    """Check ``hosts`` x ``ports``; return ``{host: [device service URL, ...]}`` for those that answered."""
    if not hosts or not ports:
        return {}
    ordered = sorted(hosts, key=lambda h: (h.version, int(h)))
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_check_all(ordered, ports, timeout, concurrency))
    # Called from async code (a notebook, an app): run our loop in a worker thread instead.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _check_all(ordered, ports, timeout, concurrency)).result()
