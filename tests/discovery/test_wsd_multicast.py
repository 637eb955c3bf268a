"""Multicast WS-Discovery inside network namespaces the tests create, and interop with the `wsdiscovery`
package (PyPI) in both directions. Every process runs inside a namespace; nothing touches the host's links."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import pytest

Netns = Any  # tests/discovery/conftest.py:Netns

pytestmark = [pytest.mark.netns, pytest.mark.timeout(90)]

# Each script imports first and says so on stdout, then waits for a line on stdin before acting: all the
# interpreters start at once, and the protocol steps still happen in order.
_LISTENER = """
import json, sys, time
from kedirivms.discovery import HelloListener
events = []
with HelloListener(interfaces={interfaces!r},
                   on_hello=lambda d: events.append(["hello", d.endpoint, d.name, d.xaddrs, d.address]),
                   on_bye=lambda d: events.append(["bye", d.endpoint, d.name, d.xaddrs, d.address])):
    print(json.dumps("ready"), flush=True)
    sys.stdin.readline()
    time.sleep(0.3)
print(json.dumps(events))
"""

_RESPONDERS = """
import json, sys
from kedirivms.sim.discovery import DiscoveryResponder
print(json.dumps("imported"), flush=True)
sys.stdin.readline()
def url(h):
    return f"http://{{h if ':' not in h else '[' + h.replace('%', '%25') + ']'}}:8080/onvif/device_service"
rs = [DiscoveryResponder(host=h, multicast=True, interface_ip={interface_ip!r}, max_delay=0.2, xaddrs=[url(h)],
                         scopes=[f"onvif://www.onvif.org/name/cam-{{h}}", "onvif://www.onvif.org/Profile/Streaming"])
      for h in {hosts!r}]
for r in rs:
    r.start()
print(json.dumps([r.endpoint for r in rs]), flush=True)
sys.stdin.readline()
for r in rs:
    r.stop()
print(json.dumps("stopped"))
"""

_DISCOVER = """
import json, sys
from kedirivms.discovery import discover
print(json.dumps("imported"), flush=True)
sys.stdin.readline()
devices = discover(interfaces={interfaces!r}, timeout={timeout}, ipv6={ipv6})
print(json.dumps([d.model_dump(mode="json") for d in devices]))
"""


_CLI_WATCH = """
import sys
from kedirivms.cli import main
main({argv!r})
"""


def test_multicast_probe_and_hello_bye_on_lo(lo_netns: Netns) -> None:
    ns = lo_netns
    hosts = ["127.0.1.11", "127.0.1.12", "127.0.1.13"]
    listener = ns.spawn(_LISTENER.format(interfaces=["lo"]))
    responders = ns.spawn(_RESPONDERS.format(interface_ip="127.0.0.1", hosts=hosts))
    client = ns.spawn(_DISCOVER.format(interfaces=["lo"], timeout=1.5, ipv6=False))
    cli = ns.spawn(
        _CLI_WATCH.format(argv=["discover", "-i", "lo", "-t", "0.3", "--watch", "--json", "--duration", "4"])
    )
    assert [ns.ready(p) for p in (listener, responders, client)] == ["ready", "imported", "imported"]
    assert cli.stderr is not None and "listening for Hello/Bye" in cli.stderr.readline()
    ns.release(responders)
    endpoints = ns.ready(responders)
    ns.release(client)
    found = ns.collect(client)
    ns.release(responders)
    assert ns.collect(responders) == "stopped"
    ns.release(listener)
    events = ns.collect(listener)

    assert sorted(d["endpoint"] for d in found) == sorted(endpoints)  # each exactly once
    for d in found:
        assert (d["source"], d["interface"]) == ("multicast", "lo")
        assert d["xaddrs"] == [f"http://{d['address']}:8080/onvif/device_service"]
        assert d["name"] == f"cam-{d['address']}" and d["profiles"] == ["Streaming"]
    hellos = [e for e in events if e[0] == "hello"]
    byes = [e for e in events if e[0] == "bye"]
    assert sorted(e[1] for e in hellos) == sorted(endpoints)
    assert sorted(e[1] for e in byes) == sorted(endpoints)
    assert {e[2] for e in byes} == {f"cam-{h}" for h in hosts}  # Bye reports the last known record

    # the CLI watch printed the same events as JSON lines
    watched = ns.collect_lines(cli)
    assert sorted((e["event"], e["endpoint"]) for e in watched) == sorted(
        [("hello", e) for e in endpoints] + [("bye", e) for e in endpoints]
    )
    assert all(e["source"] == "hello" for e in watched)


_WSD_PUBLISHER = """
import json, sys, time
from wsdiscovery import QName, Scope
from wsdiscovery.publishing import ThreadedWSPublishing
print(json.dumps("imported"), flush=True)
sys.stdin.readline()
NS_DN = "http://www.onvif.org/ver10/network/wsdl"
pub = ThreadedWSPublishing(uuid_="urn:uuid:0f0e0d0c-0b0a-4909-8807-060504030201")
pub.start()
pub.publishService(types=[QName(NS_DN, "NetworkVideoTransmitter", "dn")],
                   scopes=[Scope("onvif://www.onvif.org/name/wsd-peer"), Scope("onvif://www.onvif.org/Profile/G")],
                   xAddrs=["http://10.77.0.1:8081/onvif/device_service"])
print(json.dumps(pub.uuid), flush=True)
sys.stdin.readline()
pub.clearLocalServices()  # sends Bye
time.sleep(0.6)
pub.stop()
print(json.dumps("stopped"))
"""

_WSD_CLIENT = """
import json, sys
from wsdiscovery import QName
from wsdiscovery.discovery import ThreadedWSDiscovery
print(json.dumps("imported"), flush=True)
sys.stdin.readline()
wsd = ThreadedWSDiscovery()
wsd.start()
services = wsd.searchServices(types=[QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter")],
                              timeout=2)
out = [{"epr": s.getEPR(), "xaddrs": s.getXAddrs(), "scopes": [x.getValue() for x in s.getScopes()],
        "types": [t.getFullname() for t in s.getTypes()]} for s in services]
wsd.stop()
print(json.dumps(out))
"""


def _link_local(ns: Netns, dev: str) -> str:
    out = subprocess.run(
        ["ip", "-n", ns.name, "-6", "-o", "addr", "show", "dev", dev, "scope", "link"],
        check=True,
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    return out.split("inet6 ", 1)[1].split("/", 1)[0]


def test_interop_with_wsdiscovery_package_over_veth(veth_pair: tuple[Netns, Netns]) -> None:
    a, b = veth_pair
    ns = a
    procs = {
        "listener": b.spawn(_LISTENER.format(interfaces=["kv1"])),
        "publisher": a.spawn(_WSD_PUBLISHER),
        "ours": a.spawn(_RESPONDERS.format(interface_ip="10.77.0.1", hosts=["10.77.0.1"])),
        "their_client": b.spawn(_WSD_CLIENT),
        "our_client": b.spawn(_DISCOVER.format(interfaces=["kv1"], timeout=2.0, ipv6=False)),
    }
    assert {k: ns.ready(p) for k, p in procs.items()}["listener"] == "ready"
    ns.release(procs["publisher"])
    ns.release(procs["ours"])
    peer_epr = ns.ready(procs["publisher"])
    (our_epr,) = ns.ready(procs["ours"])
    for client in ("their_client", "our_client"):
        ns.release(procs[client])
    theirs = ns.collect(procs["their_client"])
    found = ns.collect(procs["our_client"])
    for name in ("publisher", "ours"):
        ns.release(procs[name])
        assert ns.collect(procs[name]) == "stopped"
    ns.release(procs["listener"])
    events = ns.collect(procs["listener"])

    # their client finds our virtual camera
    by_epr = {s["epr"]: s for s in theirs}
    assert our_epr in by_epr, theirs
    assert by_epr[our_epr]["xaddrs"] == ["http://10.77.0.1:8080/onvif/device_service"]
    assert "onvif://www.onvif.org/name/cam-10.77.0.1" in by_epr[our_epr]["scopes"]
    assert "http://www.onvif.org/ver10/network/wsdl:NetworkVideoTransmitter" in by_epr[our_epr]["types"]

    # our discover finds the service their publisher announces (and ours, once each)
    by_endpoint = {d["endpoint"]: d for d in found}
    assert sorted(by_endpoint) == sorted([peer_epr, our_epr]) and len(found) == 2
    peer = by_endpoint[peer_epr]
    assert (peer["name"], peer["profiles"], peer["address"]) == ("wsd-peer", ["G"], "10.77.0.1")
    assert peer["xaddrs"] == ["http://10.77.0.1:8081/onvif/device_service"]
    assert (peer["source"], peer["interface"]) == ("multicast", "kv1")

    # their Hello and Bye, and ours, reached our passive listener
    assert {(e[0], e[1]) for e in events} >= {
        ("hello", peer_epr),
        ("bye", peer_epr),
        ("hello", our_epr),
        ("bye", our_epr),
    }


def test_ipv6_multicast_over_veth(veth_pair: tuple[Netns, Netns]) -> None:
    # Kept apart from the wsdiscovery interop: that package answers an IPv6 Probe from its IPv4 thread too,
    # which kills that thread (its bug), so the two must not share a link.
    a, b = veth_pair
    responder = a.spawn(_RESPONDERS.format(interface_ip=None, hosts=[_link_local(a, "kv0") + "%kv0"]))
    client = b.spawn(_DISCOVER.format(interfaces=[_link_local(b, "kv1")], timeout=1.5, ipv6=True))
    assert [a.ready(p) for p in (responder, client)] == ["imported", "imported"]
    a.release(responder)
    (endpoint,) = a.ready(responder)
    a.release(client)
    found = a.collect(client)
    a.release(responder)
    assert a.collect(responder) == "stopped"
    # our probe to FF02::C from a link-local source finds the IPv6 responder, with a bracketed XAddr
    assert [(d["endpoint"], d["address"].startswith("fe80:"), d["interface"]) for d in found] == [
        (endpoint, True, "kv1")
    ]
    assert found[0]["xaddrs"][0].startswith("http://[fe80:")


def test_multicast_on_a_down_interface_raises_discovery_error(netns_factory: Callable[[], Netns]) -> None:
    ns = netns_factory()
    ns.ip("link", "set", "lo", "down")  # 127.0.0.1 stays configured, but every send on lo fails
    proc = ns.spawn(
        """
        import json
        from kedirivms.discovery import discover
        from kedirivms.errors import DiscoveryError
        try:
            discover(interfaces=["lo"], timeout=1.0)
        except DiscoveryError as exc:
            print(json.dumps(str(exc)))
        """
    )
    message = ns.collect(proc)
    assert "could not send a multicast Probe" in message and "hint:" in message
