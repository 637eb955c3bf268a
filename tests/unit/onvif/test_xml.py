"""Hardened parsing and quirk normalisation of ONVIF replies."""

from __future__ import annotations

import pytest
from lxml import etree

from kedirivms.onvif import _xml

ENV = _xml.SOAP12_ENV


def _env(body: str, extra_ns: str = "") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{ENV}" xmlns:tt="http://www.onvif.org/ver10/schema" {extra_ns}>'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>',
        b'<!DOCTYPE a SYSTEM "http://10.0.0.1/evil.dtd"><a/>',
        b'<?xml version="1.0"?>\n<!ENTITY x "y"><a/>',
    ],
)
def test_hostile_xml_refused(payload: bytes) -> None:
    with pytest.raises((_xml.HostileXML, etree.XMLSyntaxError)):
        _xml.parse(payload)


def test_malformed_xml_raises_syntax_error() -> None:
    with pytest.raises(etree.XMLSyntaxError):
        _xml.parse(b"<s:Envelope><s:Body>")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27-10:00:00Z", "2026-11-27T10:00:00Z"),
        ("2026-11-27 10:00:00", "2026-11-27T10:00:00"),
        ("2026-11-27 9:05", "2026-11-27T09:05:00"),
        ("2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"),
        ("2026-11-27-10:00:00+07:00", "2026-11-27T10:00:00+07:00"),
        ("12345", "12345"),
    ],
)
@pytest.mark.parametrize("with_raw", [False, True], ids=["tree-only", "bytes-prefilter"])
def test_dashed_datetimes_repaired(text: str, expected: str, with_raw: bool) -> None:
    raw = _env(f"<tt:UtcTime>{text}</tt:UtcTime>")
    root = _xml.normalise(_xml.parse(raw), raw if with_raw else None)
    assert root.find(f"{{{ENV}}}Body/{{http://www.onvif.org/ver10/schema}}UtcTime").text == expected


def test_unqualified_children_inherit_parent_namespace() -> None:
    wsa = "http://www.w3.org/2005/08/addressing"
    body = f'<wsa:EndpointReference xmlns:wsa="{wsa}"><Address>http://cam/sub/1</Address></wsa:EndpointReference>'
    root = _xml.normalise(_xml.parse(_env(body)))
    assert root.find(f".//{{{wsa}}}Address").text == "http://cam/sub/1"


def test_fault_with_undeclared_prefix_is_read_as_text() -> None:
    body = (
        "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value>"
        "</s:Subcode></s:Code><s:Reason><s:Text xml:lang='en'>Sender not authorized</s:Text></s:Reason></s:Fault>"
    )
    fault = _xml.find_fault(_xml.parse(_env(body)))
    assert fault is not None
    assert fault.code == "s:Sender"
    assert fault.local_subcodes == ["NotAuthorized"]
    assert fault.has("NotAuthorized")
    assert fault.reason == "Sender not authorized"


def test_soap11_fault() -> None:
    env11 = _xml.SOAP11_ENV
    doc = (
        f'<e:Envelope xmlns:e="{env11}"><e:Body><e:Fault><faultcode>e:Client</faultcode>'
        "<faultstring>bad</faultstring></e:Fault></e:Body></e:Envelope>"
    ).encode()
    fault = _xml.find_fault(_xml.parse(doc))
    assert fault is not None and fault.code == "e:Client" and fault.reason == "bad"


def test_no_fault() -> None:
    assert _xml.find_fault(_xml.parse(_env("<tt:X/>"))) is None
