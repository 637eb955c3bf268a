"""``kedirivms simulate --discovery``: multicast and unicast WS-Discovery, sharing port 3702 with a WS-Discovery
client on the same host (the `wsdiscovery` package binds *:3702 too). Everything runs inside a network namespace
the test creates, multicast on its ``lo``."""

from __future__ import annotations

import json
from typing import Any

import pytest

Netns = Any  # tests/discovery/conftest.py:Netns

pytestmark = [pytest.mark.netns, pytest.mark.timeout(90)]

HOST = "127.0.1.21"

_SIMULATE = """
import sys
from kedirivms.cli import main
main(["simulate", "--discovery", "--host", {host!r}, "--auth", "none", "--json", "--duration", "8"])
"""

# the third-party client first binds *:3702 (SO_REUSEADDR), then searches by multicast
_THEIR_CLIENT = """
import json, sys
from wsdiscovery import QName
from wsdiscovery.discovery import ThreadedWSDiscovery
wsd = ThreadedWSDiscovery()
wsd.start()
print(json.dumps("bound"), flush=True)
sys.stdin.readline()
services = wsd.searchServices(types=[QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter")],
                              timeout=2)
print(json.dumps([{"epr": s.getEPR(), "xaddrs": s.getXAddrs()} for s in services]), flush=True)
sys.stdin.readline()
wsd.stop()
"""

_OURS = """
import json, sys
from kedirivms.discovery import discover
print(json.dumps("imported"), flush=True)
sys.stdin.readline()
found = {{
    "multicast": [d.model_dump(mode="json") for d in discover(interfaces=["lo"], timeout=1.5)],
    "unicast": [d.model_dump(mode="json") for d in discover(ranges=[{host!r}], timeout=1.5)],
}}
print(json.dumps(found))
"""


@pytest.mark.parametrize("client_first", [False, True], ids=["camera-first", "client-first"])
def test_simulate_discovery_multicast_unicast_and_shared_port(lo_netns: Netns, client_first: bool) -> None:
    ns = lo_netns
    if client_first:
        theirs = ns.spawn(_THEIR_CLIENT)
        assert ns.ready(theirs) == "bound"
    sim = ns.spawn(_SIMULATE.format(host=HOST))
    (row,) = ns.ready(sim)
    if not client_first:
        theirs = ns.spawn(_THEIR_CLIENT)
        assert ns.ready(theirs) == "bound", "the WS-Discovery client could not share port 3702"
    ours = ns.spawn(_OURS.format(host=HOST))
    assert ns.ready(ours) == "imported"
    ns.release(theirs)
    ns.release(ours)
    found = ns.collect(ours)
    assert theirs.stdout is not None
    line = theirs.stdout.readline()
    if not line:
        pytest.fail(f"the WS-Discovery client failed:\n{theirs.communicate(timeout=10)[1]}")
    their_found = json.loads(line)
    ns.release(theirs)
    theirs.communicate(timeout=20)
    _, err = sim.communicate(timeout=30)
    assert sim.returncode == 0, err

    assert row["discovery"] == "multicast+unicast" and row["device_url"].startswith(f"http://{HOST}:")
    for how in ("multicast", "unicast"):
        (device,) = found[how]
        assert device["xaddrs"] == [row["device_url"]], how
        assert device["address"] == HOST
    assert found["multicast"][0]["source"] == "multicast"
    endpoint = found["unicast"][0]["endpoint"]
    assert [s["xaddrs"] for s in their_found if s["epr"] == endpoint] == [[row["device_url"]]], their_found
