"""Unicast sweeps over 127.0.1.0/24 against real responders (and the HTTP check against real HTTP peers)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

import kedirivms
from kedirivms.discovery import DiscoveredDevice, discover
from kedirivms.errors import DiscoveryError, InvalidArgument
from kedirivms.sim.discovery import DiscoveryResponder

Start = Callable[..., DiscoveryResponder]


def _ours(devices: list[DiscoveredDevice], responders: list[DiscoveryResponder]) -> list[DiscoveredDevice]:
    endpoints = {r.endpoint for r in responders}
    return [d for d in devices if d.endpoint in endpoints]


def test_sweep_of_a_slash_24_finds_20_cameras_exactly_once(fleet: Start) -> None:
    hosts = [f"127.0.1.{i}" for i in range(10, 210, 10)]
    responders = [
        fleet(
            host=h,
            scopes=[
                f"onvif://www.onvif.org/name/Loket%20{n}",
                "onvif://www.onvif.org/location/Kediri",
                "onvif://www.onvif.org/hardware/VC-1",
                "onvif://www.onvif.org/Profile/Streaming",
                "onvif://www.onvif.org/Profile/G",
            ],
            metadata_version=n,
        )
        for n, h in enumerate(hosts, start=1)
    ]
    progress: list[tuple[int, int]] = []
    devices = kedirivms.discover(ranges=["127.0.1.0/24"], timeout=1.5, progress=lambda d, t: progress.append((d, t)))

    ours = _ours(devices, responders)
    assert Counter(d.endpoint for d in devices).most_common(1)[0][1] == 1  # deduplicated by endpoint
    assert [d.address for d in ours] == hosts  # each camera once, sorted by address
    by_endpoint = {d.endpoint: d for d in ours}
    for n, r in enumerate(responders, start=1):
        d = by_endpoint[r.endpoint]
        assert d.xaddrs == [f"http://{r.host}:8080/onvif/device_service"]
        assert d.device_service_url == d.xaddrs[0]
        assert (d.name, d.location, d.hardware) == (f"Loket {n}", "Kediri", "VC-1")
        assert d.profiles == ["Streaming", "G"]
        assert d.metadata_version == n
        assert d.source == "unicast" and d.is_onvif
        assert set(d.types) == {
            "{http://www.onvif.org/ver10/network/wsdl}NetworkVideoTransmitter",
            "{http://www.onvif.org/ver10/device/wsdl}Device",
        }
    assert progress[-1] == (254, 254)
    assert [p[0] for p in progress] == list(range(0, 255))


def test_small_concurrency_window_still_finds_everyone(fleet: Start) -> None:
    responders = [fleet(host=f"127.0.1.{i}") for i in (33, 34, 35, 36, 37)]
    devices = discover(ranges=["127.0.1.32-38"], timeout=0.5, concurrency=2)
    assert {d.endpoint for d in _ours(devices, responders)} == {r.endpoint for r in responders}


def test_host_list_where_all_answer(fleet: Start) -> None:
    a, b = fleet(host="127.0.1.41"), fleet(host="127.0.1.42")
    devices = discover(ranges=["127.0.1.41", "127.0.1.42"], timeout=5.0)
    assert [d.endpoint for d in devices] == [a.endpoint, b.endpoint]
    assert a.probes_answered >= 1 and b.probes_answered >= 1


@pytest.mark.parametrize(
    ("types", "scopes", "expected"),
    [
        (None, (), {"nvt", "nvr", "both"}),
        (["dn:NetworkVideoTransmitter"], (), {"nvt", "both"}),
        (["tds:Device"], (), {"nvr", "both"}),
        ([], (), {"nvt", "nvr", "both", "printer"}),
        (None, ["onvif://www.onvif.org/location/site-7"], {"nvt"}),
        (None, ["onvif://www.onvif.org/location"], {"nvt", "nvr"}),
    ],
)
def test_type_and_scope_filters(fleet: Start, types: list[str] | None, scopes: list[str], expected: set[str]) -> None:
    roles = {
        "nvt": fleet(
            host="127.0.1.51",
            types=["dn:NetworkVideoTransmitter"],
            scopes=["onvif://www.onvif.org/location/site-7/gate"],
        ),
        "nvr": fleet(host="127.0.1.52", types=["tds:Device"], scopes=["onvif://www.onvif.org/location/site-9"]),
        "both": fleet(host="127.0.1.53", scopes=["onvif://www.onvif.org/name/x"]),
        "printer": fleet(
            host="127.0.1.54",
            types=["{http://schemas.microsoft.com/windows/2006/08/wdp/print}PrintDeviceType"],
            scopes=[],
        ),
    }
    devices = discover(ranges=["127.0.1.51-54"], timeout=0.8, types=types, scopes=scopes)
    found = {role for role, r in roles.items() if r.endpoint in {d.endpoint for d in devices}}
    assert found == expected


def test_http_check_finds_devices_that_ignore_unicast_probes(fleet: Start, http_peer: Callable[..., None]) -> None:
    probe_ok = fleet(host="127.0.1.61")
    fleet(host="127.0.1.62", answer_unicast=False)  # deaf to unicast, serves ONVIF over HTTP
    http_peer("127.0.1.62", 8899, "onvif")
    http_peer("127.0.1.63", 8080, "web")  # a web server that is not ONVIF
    http_peer("127.0.1.64", 80, "fault")  # ONVIF, but wants credentials even for GetSystemDateAndTime
    http_peer("127.0.1.61", 8080, "onvif")  # answered the Probe: not HTTP-checked, stays a unicast find

    devices = discover(ranges=["127.0.1.60-64"], timeout=1.0, http_check_ports=[80, 8080, 8899], http_timeout=2.0)
    by_address = {d.address: d for d in devices}
    assert set(by_address) == {"127.0.1.61", "127.0.1.62", "127.0.1.64"}
    assert by_address["127.0.1.64"].xaddrs == ["http://127.0.1.64/onvif/device_service"]
    assert by_address["127.0.1.61"].endpoint == probe_ok.endpoint
    assert by_address["127.0.1.61"].source == "unicast"
    via_http = by_address["127.0.1.62"]
    assert (via_http.endpoint, via_http.source) == (None, "http")
    assert via_http.xaddrs == ["http://127.0.1.62:8899/onvif/device_service"]


def test_nothing_there_returns_empty_list() -> None:
    assert discover(ranges=["127.0.1.250-252"], timeout=0.3) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ranges": ["10.0.0.0/33"]}, "bad target"),
        ({"ranges": ["127.0.1.1"], "timeout": 0}, "timeout"),
        ({"ranges": ["127.0.1.1"], "concurrency": 0}, "concurrency"),
        ({"ranges": ["127.0.1.1"], "port": 70000}, "bad port"),
        ({"ranges": ["127.0.1.1"], "types": ["bogus"]}, "Clark"),
        ({"interfaces": ["no-such-if0"]}, "no local interface"),
        ({"ranges": ["127.0.1.1"], "http_check_ports": [0]}, "bad port"),
    ],
)
def test_bad_arguments_raise_invalid_argument(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        discover(**kwargs)  # type: ignore[arg-type]


def test_two_responders_on_one_loopback_address_fail_loudly(fleet: Start) -> None:
    fleet(host="127.0.1.65")
    with pytest.raises(DiscoveryError, match="cannot bind WS-Discovery responder to 127.0.1.65:3702"):
        fleet(host="127.0.1.65")
