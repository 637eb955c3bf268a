"""Passive discovery: listen for Hello and Bye and keep a live inventory."""

from __future__ import annotations

import contextlib
import enum
import logging
import selectors
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from kedirivms.discovery import _wsd
from kedirivms.discovery._models import DiscoveredDevice, device_from_match, normalize_type, scopes_match
from kedirivms.discovery._net import select_interfaces
from kedirivms.errors import DiscoveryError, InvalidArgument

log = logging.getLogger("kedirivms.discovery")

DeviceCallback = Callable[[DiscoveredDevice], None]
_SEEN_MAX = 4096


class ListenerState(enum.Enum):
    """Life cycle of a :class:`HelloListener`."""

    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


class HelloListener:
    """Listen for WS-Discovery Hello and Bye messages and keep a live inventory keyed by endpoint.

    Hello adds or refreshes a device and calls ``on_hello``; Bye removes it and calls ``on_bye`` (with the
    last known record, or a bare one holding only the endpoint). Repeated messages (same MessageID) and
    stale ones (an older AppSequence InstanceId or MessageNumber for the endpoint) are dropped. Callbacks run
    on the listener thread; an exception in one is logged and does not stop the listener.

    The listener owns one UDP socket and one thread, both created by :meth:`start` and released by
    :meth:`stop` (or the ``with`` block).

    Args:
        on_hello: called with each new or updated :class:`DiscoveredDevice`.
        on_bye: called with the device that left.
        interfaces: interface names or addresses whose multicast group membership to take (default: every
            non-loopback IPv4 interface).
        multicast: join 239.255.255.250 on ``interfaces`` (the normal case). False: only receive Hellos sent
            by unicast to ``host:port`` (a discovery-proxy-like setup, and loopback tests).
        host: address to bind when ``multicast`` is False.
        port: UDP port (3702).
        types: keep only devices offering any of these types (default: no type filter).
        scopes: keep only devices matching all these scopes.

    Example:
        >>> from kedirivms.discovery import HelloListener
        >>> with HelloListener(on_hello=lambda d: print("up", d.name)) as listener:  # doctest: +SKIP
        ...     time.sleep(60)
        ...     print(len(listener.devices), "devices online")
    """

    def __init__(
        self,
        *,
        on_hello: DeviceCallback | None = None,
        on_bye: DeviceCallback | None = None,
        interfaces: Sequence[str] | None = None,
        multicast: bool = True,
        host: str = "0.0.0.0",
        port: int = _wsd.PORT,
        types: Sequence[str] | None = None,
        scopes: Sequence[str] = (),
    ) -> None:
        self.on_hello = on_hello
        self.on_bye = on_bye
        self._interfaces = list(interfaces) if interfaces else None
        self._multicast = multicast
        self._host = host
        self._port = port
        try:
            self._types = [normalize_type(t) for t in types] if types else []
        except ValueError as exc:
            raise InvalidArgument(str(exc), operation="listen for Hello") from None
        self._scopes = list(scopes)
        self._lock = threading.Lock()
        self._inventory: dict[str, DiscoveredDevice] = {}
        self._sequence: dict[str, tuple[int, int]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._sock: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.state = ListenerState.NEW

    def __repr__(self) -> str:
        where = "multicast" if self._multicast else f"{self._host}:{self._port}"
        return f"<HelloListener {where} {self.state.value} devices={len(self._inventory)}>"

    @property
    def devices(self) -> list[DiscoveredDevice]:
        """A snapshot of the devices currently announced (a new list)."""
        with self._lock:
            return list(self._inventory.values())

    def _open_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if hasattr(socket, "SO_REUSEPORT"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if self._multicast:
                # Bound to the group address: only group traffic reaches us, unicast to :3702 stays with
                # whatever local service owns it.
                sock.bind((_wsd.MULTICAST_V4, self._port))
                joined = 0
                for iface in select_interfaces(self._interfaces):
                    mreq = socket.inet_aton(_wsd.MULTICAST_V4) + socket.inet_aton(iface.ip)
                    try:
                        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
                        joined += 1
                    except OSError as exc:
                        log.debug("cannot join %s on %s: %s", _wsd.MULTICAST_V4, iface.name, exc)
                if not joined:
                    raise OSError("could not join the WS-Discovery group on any interface")
            else:
                sock.bind((self._host, self._port))
            sock.setblocking(False)
        except BaseException:  # OSError, or InvalidArgument for an unknown interface
            sock.close()
            raise
        return sock

    def start(self) -> HelloListener:
        """Open the socket and start the listener thread.

        Raises:
            DiscoveryError: the socket could not be bound or no group could be joined.
        """
        if self.state is not ListenerState.NEW:
            raise DiscoveryError(f"listener is {self.state.value}; create a new one", operation="listen")
        try:
            self._sock = self._open_socket()
        except OSError as exc:
            raise DiscoveryError(
                f"cannot listen for Hello on port {self._port}: {exc}",
                operation="listen for Hello",
                hint="name an interface that is up, or pick another host/port",
            ) from None
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name="kedirivms-hello-listener", daemon=True)
        self.state = ListenerState.RUNNING
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread (waiting at most ``timeout`` seconds) and close the socket. Idempotent."""
        if self.state is not ListenerState.RUNNING:
            self.state = ListenerState.STOPPED
            return
        self.state = ListenerState.STOPPED
        assert self._wake_w is not None and self._thread is not None
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._thread.join(timeout)
        for sock in (self._sock, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()

    def __enter__(self) -> HelloListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        assert self._sock is not None and self._wake_r is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._sock, selectors.EVENT_READ, "data")
            sel.register(self._wake_r, selectors.EVENT_READ, "wake")
            while self.state is ListenerState.RUNNING:
                for key, _ in sel.select(1.0):
                    if key.data == "wake":
                        return
                    for data, addr in _wsd.receive(self._sock):
                        self._handle(data, addr[0])

    def _fresh(self, msg: _wsd.Message, endpoint: str) -> bool:
        if msg.message_id in self._seen:
            log.debug("ignoring repeated %s %s", msg.action.rsplit("/", 1)[-1], msg.message_id)
            return False
        self._seen[msg.message_id] = None
        if len(self._seen) > _SEEN_MAX:
            self._seen.popitem(last=False)
        if msg.instance_id is None:
            return True
        seq = (msg.instance_id, msg.message_number or 0)
        last = self._sequence.get(endpoint)
        if msg.action == _wsd.ACTION_BYE:
            # Only a Bye from an earlier life is stale: firmware (and the wsdiscovery package) often reuse the
            # Hello's MessageNumber in the Bye; repeats are already caught by MessageID.
            stale = last is not None and seq[0] < last[0]
        else:
            stale = last is not None and seq <= last
        if stale:
            log.debug("ignoring stale message for %s: %s after %s", endpoint, seq, last)
            return False
        self._sequence[endpoint] = seq
        return True

    def _handle(self, data: bytes, host: str) -> None:
        msg = _wsd.parse_expected(data, host, (_wsd.ACTION_HELLO, _wsd.ACTION_BYE))
        if msg is None:
            return
        match = msg.matches[0]
        if not self._fresh(msg, match.endpoint):
            return
        if msg.action == _wsd.ACTION_HELLO:
            device = device_from_match(match, host, "hello")
            if self._types and device.types and not any(t in device.types for t in self._types):
                log.debug("ignoring Hello of %s: types %s", device.endpoint, device.types)
                return
            if self._scopes and not scopes_match(self._scopes, device.scopes):
                log.debug("ignoring Hello of %s: scopes do not match", device.endpoint)
                return
            with self._lock:
                self._inventory[match.endpoint] = device
            self._call(self.on_hello, device)
        else:
            with self._lock:
                gone = self._inventory.pop(match.endpoint, None)
            # The device's next Hello starts a new life (a new InstanceId, possibly within the same second).
            self._sequence.pop(match.endpoint, None)
            if gone is None:
                gone = device_from_match(match, host, "hello")
            self._call(self.on_bye, gone)

    @staticmethod
    def _call(callback: DeviceCallback | None, device: DiscoveredDevice) -> None:
        if callback is None:
            return
        try:
            callback(device)
        except Exception:  # a user callback must not kill the listener
            log.warning("Hello/Bye callback failed for %s", device.endpoint, exc_info=True)
