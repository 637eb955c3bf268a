"""The WS-Discovery side of a virtual camera: answer Probes and Resolves, announce Hello and Bye.

Self-contained (no SOAP server needed): give it the XAddrs of whatever serves the device service. A simulated
fleet gives each camera its own loopback address (Linux routes all of 127.0.0.0/8 to ``lo``), so a unicast
sweep of 127.0.1.0/24 finds them without any set-up.
"""

from __future__ import annotations

import contextlib
import enum
import heapq
import itertools
import logging
import random
import selectors
import socket
import struct
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from kedirivms.discovery import _wsd
from kedirivms.discovery._models import normalize_type, scopes_match
from kedirivms.errors import DiscoveryError, InvalidArgument

__all__ = ["DEFAULT_SCOPES", "DiscoveryResponder", "ResponderState"]

log = logging.getLogger("kedirivms.sim.discovery")

_Addr = tuple[Any, ...]  # (host, port) or (host, port, flowinfo, scope_id)

DEFAULT_SCOPES: tuple[str, ...] = (
    "onvif://www.onvif.org/type/video_encoder",
    "onvif://www.onvif.org/Profile/Streaming",
    "onvif://www.onvif.org/Profile/T",
    "onvif://www.onvif.org/name/kedirivms%20virtual%20camera",
    "onvif://www.onvif.org/hardware/VirtualCamera",
    "onvif://www.onvif.org/location/loopback",
)

_instance_lock = threading.Lock()
_last_instance = 0
# (address, port) of the running responders of this process: the port is shared with other WS-Discovery
# stacks on the host (SO_REUSEADDR), so two of *ours* on one address are refused here instead
_held: set[tuple[str, int]] = set()
_held_lock = threading.Lock()


def _next_instance_id() -> int:
    # InstanceId must grow each time a device (re)starts; seconds alone repeat within one second.
    global _last_instance
    with _instance_lock:
        _last_instance = max(int(time.time()), _last_instance + 1)
        return _last_instance


class ResponderState(enum.Enum):
    """Life cycle of a :class:`DiscoveryResponder`."""

    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


class DiscoveryResponder:
    """A WS-Discovery target service for one virtual camera.

    On :meth:`start` it binds ``host:port`` (UDP), answers unicast Probes and Resolves at once, and with
    ``multicast`` also joins 239.255.255.250 on ``interface_ip`` and answers multicast Probes after a random
    delay of up to ``max_delay`` (WS-Discovery APP_MAX_DELAY). It sends Hello on start and Bye on stop: to
    the multicast group when ``multicast`` is True, and by unicast to each ``hello_to`` address. Replies and
    Hellos are repeated once more with SOAP-over-UDP back-off, with the same MessageID, as the spec says.
    One thread and two sockets live between :meth:`start` and :meth:`stop`; use it as a context manager.

    Args:
        endpoint: endpoint reference (``urn:uuid:...``); a fresh one by default.
        xaddrs: device service URLs, e.g. ``["http://127.0.1.5:8080/onvif/device_service"]``; default
            ``http://<host>/onvif/device_service``.
        scopes: scopes as URIs (percent-encode spaces); default :data:`DEFAULT_SCOPES`.
        types: ``dn:NetworkVideoTransmitter``, ``tds:Device`` or ``{ns}Local``; default both ONVIF types.
        host: local address to bind and answer from (``0.0.0.0`` for every address); an IPv6 address
            (``fe80::1%eth0``) makes an IPv6 responder that joins FF02::C.
        port: UDP port (3702).
        multicast: also answer multicast Probes and multicast Hello/Bye.
        interface_ip: address of the interface to join the group on and send multicast from (default
            ``host``, or the system's choice when ``host`` is ``0.0.0.0``); for IPv6 an interface name.
        hello_to: ``(host, port)`` pairs that get Hello and Bye by unicast too.
        metadata_version: the WS-Discovery MetadataVersion.
        max_delay: upper bound of the random delay before answering a multicast Probe or sending Hello.
        answer_unicast: False mimics firmware that ignores unicast Probes (find it with the HTTP check).

    Raises:
        InvalidArgument: a type is not recognised.

    Example:
        >>> from kedirivms.sim.discovery import DiscoveryResponder
        >>> with DiscoveryResponder(host="127.0.1.5", xaddrs=["http://127.0.1.5:8080/onvif/device_service"]):
        ...     devices = kedirivms.discover(ranges=["127.0.1.5"])  # doctest: +SKIP
    """

    def __init__(
        self,
        endpoint: str | None = None,
        xaddrs: Sequence[str] = (),
        scopes: Sequence[str] = DEFAULT_SCOPES,
        types: Sequence[str] = ("dn:NetworkVideoTransmitter", "tds:Device"),
        host: str = "127.0.1.5",
        port: int = _wsd.PORT,
        multicast: bool = False,
        interface_ip: str | None = None,
        hello_to: Sequence[tuple[str, int]] = (),
        metadata_version: int = 1,
        max_delay: float = _wsd.APP_MAX_DELAY,
        answer_unicast: bool = True,
    ) -> None:
        self.endpoint = endpoint or uuid.uuid4().urn
        self.host = host
        self.port = port
        self.xaddrs = list(xaddrs) or [f"http://{host}/onvif/device_service"]
        self.scopes = list(scopes)
        try:
            self.types = [normalize_type(t) for t in types]
        except ValueError as exc:
            raise InvalidArgument(str(exc), operation="DiscoveryResponder") from None
        self.multicast = multicast
        self.interface_ip = interface_ip
        self.hello_to = [(h, int(p)) for h, p in hello_to]
        self.metadata_version = metadata_version
        self.max_delay = max_delay
        self.answer_unicast = answer_unicast
        self.state = ResponderState.NEW
        self.probes_answered = 0
        self._instance_id = 0
        self._number = itertools.count(1)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._queue: list[tuple[float, int, bytes, _Addr]] = []
        self._tiebreak = itertools.count()
        self._qlock = threading.Lock()
        self._sock: socket.socket | None = None
        self._msock: socket.socket | None = None
        self._group: _Addr | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<DiscoveryResponder {self.endpoint} at {self.host}:{self.port} {self.state.value}>"

    # ------------------------------------------------------------------------------------------ life cycle

    def start(self) -> DiscoveryResponder:
        """Bind, start answering, and send Hello.

        Raises:
            DiscoveryError: the address could not be bound or the group could not be joined.
        """
        if self.state is not ResponderState.NEW:
            raise DiscoveryError(f"responder is {self.state.value}; create a new one", camera=self.host)
        key = (self.host, self.port)
        try:
            with _held_lock:
                if key in _held:
                    raise OSError("another virtual camera's responder already answers there")
                self._open()
                _held.add(key)
        except OSError as exc:
            self._close_sockets()
            raise DiscoveryError(
                f"cannot bind WS-Discovery responder to {self.host}:{self.port}: {exc}",
                camera=self.host,
                operation="start discovery responder",
                hint="pick a free 127.0.1.x address, or join the group on an interface that is up",
            ) from None
        self._instance_id = _next_instance_id()
        self._wake_r, self._wake_w = socket.socketpair()
        self.state = ResponderState.RUNNING
        self._thread = threading.Thread(target=self._run, name=f"kedirivms-wsd-{self.host}", daemon=True)
        self._thread.start()
        hello = _wsd.build_hello(_wsd.new_message_id(), self._match(), self._instance_id, next(self._number))
        for addr in self._announce_targets():
            delay = random.uniform(0, self.max_delay) if addr == self._group else 0.0
            self._schedule_repeated(hello, addr, delay, _wsd.MULTICAST_UDP_REPEAT)
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Send Bye (twice, 50 ms apart), stop the thread within ``timeout`` s, close the sockets. Idempotent."""
        if self.state is not ResponderState.RUNNING:
            self.state = ResponderState.STOPPED
            return
        bye = _wsd.build_bye(_wsd.new_message_id(), self.endpoint, self._instance_id, next(self._number))
        targets = self._announce_targets()
        for attempt in range(2):
            for addr in targets:
                self._send(bye, addr)
            if attempt == 0 and targets:
                time.sleep(_wsd.UDP_MIN_DELAY)
        self.state = ResponderState.STOPPED
        assert self._wake_w is not None and self._thread is not None
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._thread.join(timeout)
        self._close_sockets()
        with _held_lock:
            _held.discard((self.host, self.port))

    def __enter__(self) -> DiscoveryResponder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------------------------------------- sockets

    def _open(self) -> None:
        family, _, _, _, sockaddr = socket.getaddrinfo(
            self.host, self.port, 0, socket.SOCK_DGRAM, 0, socket.AI_NUMERICHOST
        )[0]
        sock = socket.socket(family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self._sock = sock
        # Another WS-Discovery stack on the host (a client such as the `wsdiscovery` package, a NAS daemon) may
        # hold *:3702 with SO_REUSEADDR: share the port with it (unicast Probes to this address still come to the
        # most specific socket, this one). Two responders of this process on one address are refused in start().
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.setblocking(False)
        if self.multicast and family == socket.AF_INET6:
            self._open_group_v6(sock, int(sockaddr[3]))  # type: ignore[misc]
        elif self.multicast:
            self._open_group_v4(sock)

    def _open_group_v4(self, sock: socket.socket) -> None:
        out_if = self.interface_ip or (self.host if self.host != "0.0.0.0" else None)
        if out_if:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(out_if))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        msock = self._group_socket(socket.AF_INET)
        msock.bind((_wsd.MULTICAST_V4, self.port))
        mreq = socket.inet_aton(_wsd.MULTICAST_V4) + socket.inet_aton(out_if or "0.0.0.0")
        msock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        self._group = (_wsd.MULTICAST_V4, self.port)

    def _open_group_v6(self, sock: socket.socket, scope: int) -> None:
        # FF02::C is link-scoped: the interface comes from the host's scope (fe80::1%eth0) or interface_ip.
        index = scope or (socket.if_nametoindex(self.interface_ip) if self.interface_ip else 0)
        if not index:
            raise OSError("IPv6 multicast needs an interface: use host='fe80::...%eth0' or interface_ip='eth0'")
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, struct.pack("@I", index))
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 1)
        msock = self._group_socket(socket.AF_INET6)
        msock.bind((_wsd.MULTICAST_V6, self.port, 0, index))
        mreq = socket.inet_pton(socket.AF_INET6, _wsd.MULTICAST_V6) + struct.pack("@I", index)
        msock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
        self._group = (_wsd.MULTICAST_V6, self.port, 0, index)

    def _group_socket(self, family: socket.AddressFamily) -> socket.socket:
        msock = socket.socket(family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self._msock = msock
        msock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            msock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        msock.setblocking(False)
        return msock

    def _close_sockets(self) -> None:
        for sock in (self._sock, self._msock, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()

    def _announce_targets(self) -> list[_Addr]:
        return ([self._group] if self._group is not None else []) + list(self.hello_to)

    def _send(self, payload: bytes, addr: _Addr) -> None:
        if self._sock is None:
            return
        try:
            self._sock.sendto(payload, addr)
        except OSError as exc:
            log.debug("responder %s: sendto %s failed: %s", self.host, addr, exc)

    def _schedule(self, payload: bytes, addr: _Addr, delay: float) -> None:
        with self._qlock:
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._tiebreak), payload, addr))
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"s")

    def _schedule_repeated(self, payload: bytes, addr: _Addr, delay: float, repeats: int) -> None:
        self._schedule(payload, addr, delay)
        step = random.uniform(_wsd.UDP_MIN_DELAY, _wsd.UDP_MAX_DELAY)
        for _ in range(repeats):
            delay += step
            self._schedule(payload, addr, delay)
            step = min(step * 2, _wsd.UDP_UPPER_DELAY)

    # ------------------------------------------------------------------------------------------ the thread

    def _run(self) -> None:
        assert self._sock is not None and self._wake_r is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._sock, selectors.EVENT_READ, False)
            sel.register(self._wake_r, selectors.EVENT_READ, None)
            if self._msock is not None:
                sel.register(self._msock, selectors.EVENT_READ, True)
            while self.state is ResponderState.RUNNING:
                with self._qlock:
                    wait = self._queue[0][0] - time.monotonic() if self._queue else 1.0
                for key, _ in sel.select(max(0.0, min(wait, 1.0))):
                    sock: socket.socket = key.fileobj  # type: ignore[assignment]
                    if key.data is None:
                        with contextlib.suppress(OSError):
                            sock.recv(4096)
                        continue
                    self._receive(sock, multicast=bool(key.data))
                self._flush_due()

    def _flush_due(self) -> None:
        now = time.monotonic()
        due = []
        with self._qlock:
            while self._queue and self._queue[0][0] <= now:
                due.append(heapq.heappop(self._queue))
        for _, _, payload, addr in due:
            self._send(payload, addr)

    def _receive(self, sock: socket.socket, multicast: bool) -> None:
        for _ in range(64):
            try:
                data, addr = sock.recvfrom(_wsd.MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("responder %s: recvfrom: %s", self.host, exc)
                return
            try:
                self._handle(data, addr, multicast)
            except Exception:  # a hostile datagram must never kill the responder thread
                log.debug("responder %s: error handling datagram from %s", self.host, addr, exc_info=True)

    def _handle(self, data: bytes, addr: _Addr, multicast: bool) -> None:
        try:
            msg = _wsd.parse(data)
        except _wsd.WsdParseError as exc:
            log.debug("responder %s: ignoring datagram from %s: %s", self.host, addr[0], exc)
            return
        if msg.action not in (_wsd.ACTION_PROBE, _wsd.ACTION_RESOLVE):
            return
        if not multicast and not self.answer_unicast:
            return
        if msg.message_id in self._seen:
            return  # a retransmission of a Probe we already answered
        self._seen[msg.message_id] = None
        if len(self._seen) > 1024:
            self._seen.popitem(last=False)
        if msg.action == _wsd.ACTION_PROBE:
            if not all(t in self.types for t in msg.probe_types):
                return
            if msg.probe_scopes and not scopes_match(msg.probe_scopes, self.scopes, msg.scope_match_by):
                return
            action = _wsd.ACTION_PROBE_MATCHES
        else:
            if msg.resolve_endpoint != self.endpoint:
                return
            action = _wsd.ACTION_RESOLVE_MATCHES
        reply = _wsd.build_matches(
            action, _wsd.new_message_id(), msg.message_id, [self._match()], self._instance_id, next(self._number)
        )
        self.probes_answered += 1
        delay = random.uniform(0, self.max_delay) if multicast else 0.0
        self._schedule_repeated(reply, addr, delay, _wsd.UNICAST_UDP_REPEAT)

    def _match(self) -> _wsd.Match:
        return _wsd.Match(
            endpoint=self.endpoint,
            types=self.types,
            scopes=self.scopes,
            xaddrs=self.xaddrs,
            metadata_version=self.metadata_version,
        )
