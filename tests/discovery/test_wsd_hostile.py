"""Garbage, hostile, duplicated and unexpected replies: ignored (debug log), never a crash or a hang."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from kedirivms.discovery import _wsd, discover
from kedirivms.sim.discovery import DiscoveryResponder

_BOMB = b"""<?xml version="1.0"?><!DOCTYPE z [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&b;</s:Body></s:Envelope>"""


def _reply(relates_to: str, endpoint: str, message_id: str | None = None, xaddr: str = "http://127.0.1.71/x") -> bytes:
    match = _wsd.Match(endpoint, [_wsd.NVT], ["onvif://www.onvif.org/name/evil"], [xaddr], 1)
    return _wsd.build_matches(_wsd.ACTION_PROBE_MATCHES, message_id or _wsd.new_message_id(), relates_to, [match], 1, 1)


class _HostilePeer:
    """A UDP peer on host:3702 that answers every Probe with a volley of bad and repeated replies."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, _wsd.PORT))
        self.sock.settimeout(0.1)
        self.stopping = False
        self.probes = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping:
            try:
                data, addr = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            msg = _wsd.parse(data)
            self.probes += 1
            dup_id = _wsd.new_message_id()
            volley = [
                b"\x00\x01garbage",
                b"<not-closed",
                _BOMB,
                _wsd.build_probe(_wsd.new_message_id()),  # a Probe is not a reply
                _wsd.build_hello(_wsd.new_message_id(), _wsd.Match("urn:uuid:hello", [_wsd.NVT]), 1, 1),
                _reply("urn:uuid:not-ours", "urn:uuid:stranger"),  # relates to someone else's probe
                _reply(msg.message_id, "urn:uuid:good", dup_id),
                _reply(msg.message_id, "urn:uuid:good", dup_id),  # exact duplicate
                _reply(msg.message_id, "urn:uuid:good", xaddr="http://127.0.1.71:81/x"),  # same endpoint again
                _wsd.build_matches(_wsd.ACTION_PROBE_MATCHES, _wsd.new_message_id(), msg.message_id, [], 1, 1),
                b"x" * 60000,
            ]
            for payload in volley:
                self.sock.sendto(payload, addr)

    def close(self) -> None:
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def hostile() -> Iterator[Callable[[str], _HostilePeer]]:
    peers: list[_HostilePeer] = []

    def start(host: str) -> _HostilePeer:
        peers.append(_HostilePeer(host))
        return peers[-1]

    yield start
    for peer in peers:
        peer.close()


@pytest.mark.timeout(20)
def test_sweep_ignores_garbage_and_merges_duplicates(
    hostile: Callable[[str], _HostilePeer], caplog: pytest.LogCaptureFixture
) -> None:
    peer = hostile("127.0.1.71")
    with caplog.at_level(logging.DEBUG, logger="kedirivms.discovery"):
        # 127.0.1.70 stays silent, so the sweep waits its full window and sees the whole volley
        devices = discover(ranges=["127.0.1.70", "127.0.1.71"], timeout=0.5)
    assert peer.probes >= 2  # one Probe per ONVIF type
    assert [d.endpoint for d in devices] == ["urn:uuid:good"]
    # the second reply for the same endpoint adds its XAddr instead of a second entry
    assert set(devices[0].xaddrs) == {"http://127.0.1.71/x", "http://127.0.1.71:81/x"}
    logged = caplog.text
    for reason in (
        "not XML",
        "DTDs",
        "not one of our probes",
        "duplicate reply",
        "unexpected Probe",
        "unexpected Hello",
    ):
        assert reason in logged, reason


def test_responder_survives_garbage_and_still_answers(fleet: Callable[..., DiscoveryResponder]) -> None:
    responder = fleet(host="127.0.1.72")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for junk in (b"", b"\xff" * 100, _BOMB, b"<a>", _reply("urn:uuid:x", "urn:uuid:y"), b"y" * 65000):
            sock.sendto(junk, ("127.0.1.72", _wsd.PORT))
        # a Resolve for our endpoint gets a ResolveMatches, one for another endpoint gets nothing
        sock.settimeout(2.0)
        sock.sendto(_wsd.build_resolve("urn:uuid:r1", "urn:uuid:someone-else"), ("127.0.1.72", _wsd.PORT))
        sock.sendto(_wsd.build_resolve("urn:uuid:r2", responder.endpoint), ("127.0.1.72", _wsd.PORT))
        msg = _wsd.parse(sock.recvfrom(65535)[0])
    assert (msg.action, msg.relates_to) == (_wsd.ACTION_RESOLVE_MATCHES, "urn:uuid:r2")
    assert msg.matches[0].xaddrs == responder.xaddrs
    assert [d.endpoint for d in discover(ranges=["127.0.1.72"], timeout=2.0)] == [responder.endpoint]


def test_match_without_xaddrs_is_resolved() -> None:
    # Some devices leave XAddrs out of ProbeMatch; WS-Discovery says to Resolve the endpoint then.
    xaddrs = ["http://127.0.1.73:8000/onvif/device_service"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.1.73", _wsd.PORT))
        sock.settimeout(0.1)
        stop = threading.Event()

        def serve() -> None:
            while not stop.is_set():
                try:
                    data, addr = sock.recvfrom(65535)
                except TimeoutError:
                    continue
                msg = _wsd.parse(data)
                if msg.action == _wsd.ACTION_PROBE:
                    match, action = _wsd.Match("urn:uuid:lazy", [_wsd.NVT]), _wsd.ACTION_PROBE_MATCHES
                else:
                    match, action = _wsd.Match("urn:uuid:lazy", [_wsd.NVT], [], xaddrs), _wsd.ACTION_RESOLVE_MATCHES
                sock.sendto(_wsd.build_matches(action, _wsd.new_message_id(), msg.message_id, [match], 1, 1), addr)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            devices = discover(ranges=["127.0.1.73"], timeout=1.0, types=["dn:NetworkVideoTransmitter"])
        finally:
            stop.set()
            thread.join(2)
    assert [(d.endpoint, d.xaddrs) for d in devices] == [("urn:uuid:lazy", xaddrs)]
