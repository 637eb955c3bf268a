"""The Probe engine: multicast rounds per interface and unicast sweeps over one socket per address family.

Everything runs in the calling thread on a :mod:`selectors` loop, so a /24 sweep is a few hundred ``sendto``
calls and one bounded wait. Every reply is checked before it counts: it must parse (hardened), relate to one
of our Probe/Resolve message IDs, not repeat a message already seen, and match the type and scope filters.
Anything else is dropped with a debug log.
"""

from __future__ import annotations

import logging
import random
import selectors
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kedirivms.discovery import _wsd
from kedirivms.discovery._models import DiscoveredDevice, DiscoverySource, device_from_match, scopes_match
from kedirivms.discovery._net import Interface, IPAddress
from kedirivms.errors import DiscoveryError

log = logging.getLogger("kedirivms.discovery")

_RCVBUF = 1 << 20
ProgressCallback = Callable[[int, int], None]


@dataclass
class _Inflight:
    addr: tuple[str, int]
    ids: list[str]
    payloads: list[bytes]
    deadline: float
    next_send: float
    delay: float
    repeats_left: int


@dataclass
class _Session:
    """Shared reply bookkeeping for one discover() run."""

    types: list[list[str]]
    scopes: Sequence[str]
    source: DiscoverySource
    our_ids: dict[str, str | None] = field(default_factory=dict)  # message id -> target host (unicast)
    seen: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)
    found: dict[str, DiscoveredDevice] = field(default_factory=dict)
    resolves: list[tuple[socket.socket, bytes, tuple[str, int]]] = field(default_factory=list)

    def probes(self) -> list[tuple[str, bytes]]:
        out = []
        for variant in self.types:
            mid = _wsd.new_message_id()
            out.append((mid, _wsd.build_probe(mid, variant, self.scopes)))
        return out

    def handle(self, sock: socket.socket, data: bytes, addr: tuple[str, int], iface: str | None) -> None:
        host = addr[0].split("%", 1)[0]
        msg = _wsd.parse_expected(data, host, (_wsd.ACTION_PROBE_MATCHES, _wsd.ACTION_RESOLVE_MATCHES))
        if msg is None:
            return
        if msg.relates_to not in self.our_ids:
            log.debug("ignoring reply from %s relating to %s, not one of our probes", host, msg.relates_to)
            return
        if msg.message_id in self.seen:
            log.debug("ignoring duplicate reply %s from %s", msg.message_id, host)
            return
        self.seen.add(msg.message_id)
        target = self.our_ids[msg.relates_to]
        if target is not None and all(m.xaddrs for m in msg.matches):
            self.answered.add(target)  # else keep waiting for the ResolveMatches
        for match in msg.matches:
            device = device_from_match(match, host, self.source, iface)
            if not self._wanted(device):
                continue
            if not match.xaddrs and msg.action == _wsd.ACTION_PROBE_MATCHES:
                # WS-Discovery: a match without XAddrs must be resolved before use.
                mid = _wsd.new_message_id()
                self.our_ids[mid] = target
                self.resolves.append((sock, _wsd.build_resolve(mid, match.endpoint), addr))
            self.add(device)

    def _wanted(self, device: DiscoveredDevice) -> bool:
        if device.types and self.types and not any(all(t in device.types for t in v) for v in self.types):
            log.debug("ignoring %s at %s: types %s not asked for", device.endpoint, device.address, device.types)
            return False
        if self.scopes and not scopes_match(self.scopes, device.scopes):
            log.debug("ignoring %s at %s: scopes do not match", device.endpoint, device.address)
            return False
        return True

    def add(self, device: DiscoveredDevice) -> None:
        key = device.endpoint or f"http:{device.address}"
        old = self.found.get(key)
        self.found[key] = old.merged(device) if old is not None else device

    def flush_resolves(self) -> None:
        for sock, payload, addr in self.resolves:
            _send(sock, payload, addr)
        self.resolves.clear()


def _send(sock: socket.socket, payload: bytes, addr: tuple[str, int] | tuple[str, int, int, int]) -> bool:
    try:
        sock.sendto(payload, addr)
    except OSError as exc:
        log.debug("sendto %s failed: %s", addr[0], exc)
        return False
    return True


def _drain(sel: selectors.BaseSelector, session: _Session, wait: float) -> None:
    for key, _ in sel.select(max(0.0, wait)):
        sock: socket.socket = key.fileobj  # type: ignore[assignment]
        for data, addr in _wsd.receive(sock):
            session.handle(sock, data, addr, key.data)
    session.flush_resolves()


def _multicast_socket(iface: Interface, ttl: int) -> socket.socket:
    sock = socket.socket(iface.family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
        if iface.family == socket.AF_INET:
            sock.bind((iface.ip, 0))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface.ip))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        else:
            sock.bind((iface.ip, 0, 0, iface.index))
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, struct.pack("@I", iface.index))
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, ttl)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 1)
    except OSError:
        sock.close()
        raise
    return sock


def multicast_probe(
    interfaces: Sequence[Interface],
    session: _Session,
    timeout: float,
    port: int = _wsd.PORT,
    ttl: int = 1,
) -> None:
    """Send the Probes on every interface, repeated with SOAP-over-UDP back-off, and collect replies."""
    sel = selectors.DefaultSelector()
    socks: list[tuple[socket.socket, Interface]] = []
    errors: list[str] = []
    try:
        for iface in interfaces:
            try:
                sock = _multicast_socket(iface, ttl)
            except OSError as exc:
                errors.append(f"{iface.name} ({iface.ip}): {exc}")
                continue
            socks.append((sock, iface))
            sel.register(sock, selectors.EVENT_READ, iface.name)
        if not socks:
            raise DiscoveryError(
                "no interface could open a multicast socket" + (f": {'; '.join(errors)}" if errors else ""),
                operation="discover",
                hint="name an interface with --interface, or sweep with --range",
            )
        probes = session.probes()
        for mid, _ in probes:
            session.our_ids[mid] = None
        start = time.monotonic()
        deadline = start + timeout
        delay = random.uniform(_wsd.UDP_MIN_DELAY, _wsd.UDP_MAX_DELAY)
        schedule = [start]
        for _ in range(_wsd.MULTICAST_UDP_REPEAT):
            schedule.append(schedule[-1] + delay)
            delay = min(delay * 2, _wsd.UDP_UPPER_DELAY)
        sent_any = False
        while True:
            now = time.monotonic()
            while schedule and schedule[0] <= now:
                schedule.pop(0)
                for sock, iface in socks:
                    group = (
                        (_wsd.MULTICAST_V4, port)
                        if iface.family == socket.AF_INET
                        else (_wsd.MULTICAST_V6, port, 0, iface.index)
                    )
                    for _, payload in probes:
                        sent_any = _send(sock, payload, group) or sent_any
            if now >= deadline:
                break
            if not sent_any and not schedule:
                raise DiscoveryError(
                    "could not send a multicast Probe on any interface",
                    operation="discover",
                    hint="check the interface is up and has a multicast route, or sweep with --range",
                )
            wake = min(deadline, schedule[0]) if schedule else deadline
            _drain(sel, session, wake - now)
    finally:
        for sock, _ in socks:
            sel.unregister(sock)
            sock.close()
        sel.close()


def unicast_sweep(
    targets: Sequence[IPAddress],
    session: _Session,
    timeout: float,
    port: int = _wsd.PORT,
    concurrency: int = 256,
    progress: ProgressCallback | None = None,
) -> list[IPAddress]:
    """Probe each target directly, at most ``concurrency`` in flight; return the targets that stayed silent.

    Each target gets ``timeout`` seconds from its first Probe, and one retransmission after 50-250 ms
    (SOAP-over-UDP back-off) if it has not answered yet.
    """
    sel = selectors.DefaultSelector()
    socks: dict[int, socket.socket] = {}
    try:
        for family in {socket.AF_INET if t.version == 4 else socket.AF_INET6 for t in targets}:
            sock = socket.socket(family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
            socks[family] = sock
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
            sock.bind(("0.0.0.0", 0) if family == socket.AF_INET else ("::", 0))
            sel.register(sock, selectors.EVENT_READ, None)
    except OSError as exc:
        for sock in socks.values():
            sock.close()
        sel.close()
        raise DiscoveryError(f"cannot open a UDP socket: {exc}", operation="discover") from None

    by_host = {str(t): t for t in targets}
    pending = deque(targets)
    inflight: dict[str, _Inflight] = {}
    silent: list[IPAddress] = []
    done = 0
    total = len(targets)
    if progress is not None:
        progress(0, total)
    try:
        while pending or inflight:
            now = time.monotonic()
            while pending and len(inflight) < concurrency:
                target = pending.popleft()
                host = str(target)
                probes = session.probes()
                for mid, _ in probes:
                    session.our_ids[mid] = host
                delay = random.uniform(_wsd.UDP_MIN_DELAY, _wsd.UDP_MAX_DELAY)
                entry = _Inflight(
                    (host, port),
                    [m for m, _ in probes],
                    [p for _, p in probes],
                    now + timeout,
                    now + delay,
                    delay,
                    _wsd.UNICAST_UDP_REPEAT,
                )
                inflight[host] = entry
                sock = socks[socket.AF_INET if target.version == 4 else socket.AF_INET6]
                for payload in entry.payloads:
                    _send(sock, payload, entry.addr)
            wake = now + timeout
            for host, entry in list(inflight.items()):
                if host in session.answered:
                    del inflight[host]
                elif entry.deadline <= now:
                    del inflight[host]
                    silent.append(by_host[host])
                else:
                    if entry.repeats_left > 0 and entry.next_send <= now:
                        sock = socks[socket.AF_INET if ":" not in host else socket.AF_INET6]
                        for payload in entry.payloads:
                            _send(sock, payload, entry.addr)
                        entry.repeats_left -= 1
                        entry.delay = min(entry.delay * 2, _wsd.UDP_UPPER_DELAY)
                        entry.next_send = now + entry.delay
                    wake = min(wake, entry.deadline)
                    if entry.repeats_left > 0:
                        wake = min(wake, entry.next_send)
                    continue
                done += 1
                if progress is not None:
                    progress(done, total)
            if not pending and not inflight:
                break
            _drain(sel, session, wake - time.monotonic() if inflight else 0.0)
        # Late second replies (e.g. to the tds:Device Probe) are merged if they are already queued.
        _drain(sel, session, 0.0)
    finally:
        for sock in socks.values():
            sel.unregister(sock)
            sock.close()
        sel.close()
    return silent
