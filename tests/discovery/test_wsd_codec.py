"""WS-Discovery codec, scope parsing/matching and target expansion (table-driven, no network)."""

from __future__ import annotations

import ipaddress

import pytest

from kedirivms.discovery import _wsd, expand_targets
from kedirivms.discovery._models import normalize_type, parse_scopes, scope_matches, scopes_match
from kedirivms.errors import InvalidArgument

NVT, DEVICE = _wsd.NVT, _wsd.DEVICE


def test_probe_round_trip_keeps_types_and_scopes() -> None:
    data = _wsd.build_probe("urn:uuid:1", [NVT, "{urn:x}Custom"], ["onvif://www.onvif.org/location/a"])
    msg = _wsd.parse(data)
    assert (msg.action, msg.message_id) == (_wsd.ACTION_PROBE, "urn:uuid:1")
    assert msg.probe_types == [NVT, "{urn:x}Custom"]
    assert msg.probe_scopes == ["onvif://www.onvif.org/location/a"]


def test_probe_matches_round_trip() -> None:
    match = _wsd.Match("urn:uuid:e", [NVT, DEVICE], ["onvif://www.onvif.org/name/a%20b"], ["http://h/x"], 3)
    msg = _wsd.parse(_wsd.build_matches(_wsd.ACTION_PROBE_MATCHES, "urn:uuid:m", "urn:uuid:p", [match], 7, 2))
    assert (msg.relates_to, msg.instance_id, msg.message_number) == ("urn:uuid:p", 7, 2)
    assert msg.matches == [match]


def test_hello_and_bye_round_trip() -> None:
    match = _wsd.Match("urn:uuid:e", [NVT], [], ["http://h/x"], 1)
    hello = _wsd.parse(_wsd.build_hello("urn:uuid:h", match, 5, 1))
    bye = _wsd.parse(_wsd.build_bye("urn:uuid:b", "urn:uuid:e", 5, 2))
    assert hello.action == _wsd.ACTION_HELLO and hello.matches == [match]
    assert bye.action == _wsd.ACTION_BYE and bye.matches[0].endpoint == "urn:uuid:e"


_QUIRKY = b"""<?xml version="1.0"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"
  xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
  xmlns:d="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01">
 <SOAP-ENV:Header>
  <wsa:MessageID>uuid:abc</wsa:MessageID><wsa:RelatesTo>urn:uuid:p</wsa:RelatesTo>
 </SOAP-ENV:Header>
 <SOAP-ENV:Body><d:ProbeMatches>
  <d:ProbeMatch>
   <wsa:EndpointReference><wsa:Address> urn:uuid:q </wsa:Address></wsa:EndpointReference>
   <d:Types>dn:NetworkVideoTransmitter
      tds:Device</d:Types>
   <d:Scopes>onvif://www.onvif.org/name/Cam%201</d:Scopes>
   <d:XAddrs>http://10.0.0.9/onvif/device_service http://[fe80::1]/onvif/device_service</d:XAddrs>
   <d:MetadataVersion>ten</d:MetadataVersion>
  </d:ProbeMatch>
  <d:ProbeMatch><d:Types>dn:NetworkVideoTransmitter</d:Types></d:ProbeMatch>
 </d:ProbeMatches></SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""


def test_vendor_quirks_are_tolerated() -> None:
    # 2009/01 namespace, no Action header, undeclared dn:/tds: prefixes, line breaks, a bad MetadataVersion,
    # and a second ProbeMatch without an endpoint (dropped on its own).
    msg = _wsd.parse(_QUIRKY)
    assert msg.action == _wsd.ACTION_PROBE_MATCHES
    assert len(msg.matches) == 1
    m = msg.matches[0]
    assert (m.endpoint, m.types, m.metadata_version) == ("urn:uuid:q", [NVT, DEVICE], None)
    assert m.xaddrs[1] == "http://[fe80::1]/onvif/device_service"


_BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol2;</s:Body></s:Envelope>"""
_EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&e;</s:Body></s:Envelope>"""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "datagram"),
        (b"\x00\xff garbage", "not XML"),
        (b"<a><b></a>", "not XML"),
        (_BILLION_LAUGHS, "DTD"),
        (_EXTERNAL, "DTD"),
        (b"<Envelope><Header/><Body/></Envelope>", "without Header or Body"),
        (b"<html><body>hi</body></html>", "not Envelope"),
        (_wsd.build_probe("urn:uuid:1").replace(b"discovery/Probe", b"discovery/Nope"), "unknown action"),
        (b"x" * (_wsd.MAX_DATAGRAM + 1), "datagram"),
        (
            _wsd.build_matches(_wsd.ACTION_PROBE_MATCHES, "urn:uuid:m", "urn:uuid:p", [], 1, 1).replace(
                b"<a:RelatesTo>urn:uuid:p</a:RelatesTo>", b""
            ),
            "RelatesTo",
        ),
    ],
)
def test_hostile_and_broken_datagrams_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(_wsd.WsdParseError, match=reason):
        _wsd.parse(data)


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        (
            [
                "onvif://www.onvif.org/name/Loket%20Kecamatan%20Mojoroto",
                "onvif://www.onvif.org/location/country/indonesia",
                "onvif://www.onvif.org/location/city/Kediri",
                "onvif://www.onvif.org/hardware/IPC-B140",
                "onvif://www.onvif.org/Profile/Streaming",
                "onvif://www.onvif.org/Profile/G",
                "onvif://www.onvif.org/Profile/T",
                "onvif://www.onvif.org/type/video_encoder",
                "http://vendor.example/serial/1",
            ],
            {
                "name": "Loket Kecamatan Mojoroto",
                "location": "country/indonesia, city/Kediri",
                "hardware": "IPC-B140",
                "profiles": ["Streaming", "G", "T"],
            },
        ),
        (["ONVIF://www.onvif.org/name/x/"], {"name": "x", "location": None, "hardware": None, "profiles": []}),
        ([], {"name": None, "location": None, "hardware": None, "profiles": []}),
        (["onvif://www.onvif.org/name/"], {"name": None, "location": None, "hardware": None, "profiles": []}),
    ],
)
def test_parse_scopes(scopes: list[str], expected: dict[str, object]) -> None:
    assert parse_scopes(scopes) == expected


@pytest.mark.parametrize(
    ("wanted", "offered", "ok"),
    [
        ("onvif://www.onvif.org/location/city", "onvif://www.onvif.org/location/city/Kediri", True),
        ("onvif://www.onvif.org/location/cit", "onvif://www.onvif.org/location/city/Kediri", False),
        ("ONVIF://WWW.onvif.org/location", "onvif://www.onvif.org/location/x", True),
        ("onvif://www.onvif.org/name/a%20b", "onvif://www.onvif.org/name/a b", True),
        ("onvif://www.onvif.org/Location", "onvif://www.onvif.org/location/x", False),
        ("http://other/location", "onvif://www.onvif.org/location/x", False),
    ],
)
def test_scope_matching_rfc3986(wanted: str, offered: str, ok: bool) -> None:
    assert scope_matches(wanted, offered) is ok


def test_scope_matching_strcmp0() -> None:
    match_by = "http://schemas.xmlsoap.org/ws/2005/04/discovery/strcmp0"
    assert scopes_match(["onvif://a/b"], ["onvif://a/b"], match_by)
    assert not scopes_match(["onvif://a"], ["onvif://a/b"], match_by)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dn:NetworkVideoTransmitter", NVT),
        ("tds:Device", DEVICE),
        ("{urn:x}Thing", "{urn:x}Thing"),
        ("nope:Thing", ValueError),
        ("Thing", ValueError),
    ],
)
def test_normalize_type(value: str, expected: object) -> None:
    if expected is ValueError:
        with pytest.raises(ValueError, match="Clark notation"):
            normalize_type(value)
    else:
        assert normalize_type(value) == expected


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        (["10.0.0.0/30"], ["10.0.0.1", "10.0.0.2"]),
        (["10.0.0.7/32"], ["10.0.0.7"]),
        (
            ["10.0.0.250-10.0.1.1"],
            [
                "10.0.0.250",
                "10.0.0.251",
                "10.0.0.252",
                "10.0.0.253",
                "10.0.0.254",
                "10.0.0.255",
                "10.0.1.0",
                "10.0.1.1",
            ],
        ),
        (["10.0.0.10-12", "10.0.0.11"], ["10.0.0.10", "10.0.0.11", "10.0.0.12"]),
        (["10.0.0.1,10.0.0.2", " "], ["10.0.0.1", "10.0.0.2"]),
        (["::1", "[::2]"], ["::1", "::2"]),
        (["10.0.0.9-3"], InvalidArgument),
        (["10.0.0.0/8"], InvalidArgument),
        (["10.0.0.0/33"], InvalidArgument),
        (["10.0.0.1-::5"], InvalidArgument),
    ],
)
def test_expand_targets(specs: list[str], expected: object) -> None:
    if expected is InvalidArgument:
        with pytest.raises(InvalidArgument, match="hint"):
            expand_targets(specs)
    else:
        got = expand_targets(specs)
        assert [str(a) for a in got] == expected


def test_expand_targets_resolves_names_from_hosts_file() -> None:
    # /etc/hosts only: tests never query DNS servers.
    assert ipaddress.ip_address("127.0.0.1") in expand_targets(["localhost"])
