"""Passive Hello/Bye listening on loopback (responders send their Hello/Bye by unicast to the listener)."""

from __future__ import annotations

import queue
import socket
from collections.abc import Callable, Iterator

import pytest

from kedirivms.discovery import DiscoveredDevice, HelloListener, ListenerState, _wsd
from kedirivms.errors import DiscoveryError, InvalidArgument
from kedirivms.sim.discovery import DiscoveryResponder

LISTENER = ("127.0.1.240", _wsd.PORT)


class _Events:
    def __init__(self) -> None:
        self.q: queue.Queue[tuple[str, DiscoveredDevice]] = queue.Queue()

    def hello(self, d: DiscoveredDevice) -> None:
        self.q.put(("hello", d))

    def bye(self, d: DiscoveredDevice) -> None:
        self.q.put(("bye", d))

    def next(self, timeout: float = 3.0) -> tuple[str, DiscoveredDevice]:
        return self.q.get(timeout=timeout)

    def quiet(self, timeout: float = 0.6) -> bool:
        try:
            self.q.get(timeout=timeout)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def listening() -> Iterator[tuple[HelloListener, _Events]]:
    events = _Events()
    listener = HelloListener(on_hello=events.hello, on_bye=events.bye, multicast=False, host=LISTENER[0])
    with listener:
        yield listener, events
    assert listener.state is ListenerState.STOPPED


def test_hello_and_bye_keep_a_live_inventory(
    listening: tuple[HelloListener, _Events], fleet: Callable[..., DiscoveryResponder]
) -> None:
    listener, events = listening
    a = fleet(host="127.0.1.81", hello_to=[LISTENER], max_delay=0.0, scopes=["onvif://www.onvif.org/name/Gate%20A"])
    b = fleet(host="127.0.1.82", hello_to=[LISTENER], max_delay=0.0)
    seen = {events.next()[1].endpoint, events.next()[1].endpoint}
    assert seen == {a.endpoint, b.endpoint}
    assert events.quiet()  # the Hello repeats (same MessageID) raise no second callback
    inventory = {d.endpoint: d for d in listener.devices}
    assert inventory[a.endpoint].name == "Gate A"
    assert inventory[a.endpoint].source == "hello"
    assert inventory[a.endpoint].address == "127.0.1.81"

    a.stop()
    kind, gone = events.next()
    assert (kind, gone.endpoint, gone.name) == ("bye", a.endpoint, "Gate A")
    assert [d.endpoint for d in listener.devices] == [b.endpoint]
    assert events.quiet(0.3)  # the repeated Bye is dropped too

    # the same camera coming back (new InstanceId) is announced again
    again = fleet(host="127.0.1.81", endpoint=a.endpoint, hello_to=[LISTENER], max_delay=0.0)
    kind, back = events.next()
    assert (kind, back.endpoint) == ("hello", again.endpoint)


def test_stale_and_garbage_messages_are_ignored(listening: tuple[HelloListener, _Events]) -> None:
    listener, events = listening
    match = _wsd.Match("urn:uuid:seq", [_wsd.NVT], [], ["http://127.0.1.83/onvif/device_service"])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for junk in (b"junk", b"<x/>", _wsd.build_probe("urn:uuid:p")):
            sock.sendto(junk, LISTENER)
        sock.sendto(_wsd.build_hello("urn:uuid:h2", match, 10, 2), LISTENER)
        assert events.next()[0] == "hello"
        sock.sendto(_wsd.build_hello("urn:uuid:h1", match, 10, 1), LISTENER)  # older MessageNumber
        sock.sendto(_wsd.build_hello("urn:uuid:h0", match, 9, 5), LISTENER)  # older InstanceId
        assert events.quiet(0.4)
        sock.sendto(_wsd.build_bye("urn:uuid:b", "urn:uuid:unknown", 1, 1), LISTENER)
        kind, gone = events.next()
    assert (kind, gone.endpoint, gone.address) == ("bye", "urn:uuid:unknown", "127.0.0.1")
    assert [d.endpoint for d in listener.devices] == ["urn:uuid:seq"]


def test_type_filter_and_failing_callback(fleet: Callable[..., DiscoveryResponder]) -> None:
    events = _Events()
    calls: list[str] = []

    def broken(d: DiscoveredDevice) -> None:
        calls.append(d.endpoint or "")
        raise RuntimeError("user bug")

    listener = HelloListener(
        on_hello=broken, on_bye=events.bye, multicast=False, host="127.0.1.241", types=["tds:Device"]
    )
    with listener:
        fleet(
            host="127.0.1.84",
            hello_to=[("127.0.1.241", _wsd.PORT)],
            max_delay=0.0,
            types=["dn:NetworkVideoTransmitter"],
        )
        nvr = fleet(host="127.0.1.85", hello_to=[("127.0.1.241", _wsd.PORT)], max_delay=0.0, types=["tds:Device"])
        nvr.stop()
        kind, gone = events.next()
    assert (kind, gone.endpoint) == ("bye", nvr.endpoint)  # the listener survived the failing callback
    assert calls == [nvr.endpoint]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"types": ["nope"]}, InvalidArgument, "Clark"),
        ({"multicast": False, "host": "192.0.2.123"}, DiscoveryError, "cannot listen"),
        ({"interfaces": ["no-such-if0"]}, InvalidArgument, "no local interface"),
    ],
)
def test_listener_errors(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        HelloListener(**kwargs).start()  # type: ignore[arg-type]


def test_listener_state_machine() -> None:
    listener = HelloListener(multicast=False, host="127.0.1.242")
    assert listener.state is ListenerState.NEW
    listener.start()
    assert listener.state is ListenerState.RUNNING and "127.0.1.242" in repr(listener)
    with pytest.raises(DiscoveryError, match="create a new one"):
        listener.start()
    listener.stop()
    listener.stop()
    assert listener.state is ListenerState.STOPPED
