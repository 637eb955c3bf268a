"""Injected faults and vendor quirks produce exactly what they claim; hostile requests are refused."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from _sim_zeep import MEDIA_BINDING, PASSWORD, zeep_service
from lxml import etree
from zeep.exceptions import Fault, TransportError

from kedirivms.errors import ConfigError
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

ENV = "http://www.w3.org/2003/05/soap-envelope"
TT = "{http://www.onvif.org/ver10/schema}"


def soap(operation: str, ns: str = "http://www.onvif.org/ver10/device/wsdl", inner: str = "") -> bytes:
    return (
        f'<e:Envelope xmlns:e="{ENV}"><e:Body><{operation} xmlns="{ns}">{inner}</{operation}></e:Body></e:Envelope>'
    ).encode()


def post(cam: VirtualCamera, body: bytes, path: str = "/onvif/device_service") -> requests.Response:
    return requests.post(cam.base_url + path, data=body, timeout=5,
                         headers={"Content-Type": "application/soap+xml"})  # fmt: skip


@pytest.fixture
def open_cam() -> Any:
    with VirtualCamera(VirtualCameraConfig(password=PASSWORD, auth="none")) as cam:
        yield cam


def test_delay_then_recovers(open_cam: VirtualCamera) -> None:
    open_cam.inject_fault("delay", operation="GetHostname", delay_s=2.0, count=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(open_cam.device_url, data=soap("GetHostname"), timeout=(2, 0.3))
    assert post(open_cam, soap("GetHostname")).status_code == 200  # count=1: used up
    assert post(open_cam, soap("GetScopes")).status_code == 200


def test_http500_is_a_receiver_fault(open_cam: VirtualCamera) -> None:
    open_cam.inject_fault("http500", operation="GetDeviceInformation")
    device = zeep_service(open_cam.device_url)
    with pytest.raises(Fault) as info:
        device.GetDeviceInformation()
    assert info.value.code.endswith("Receiver")
    assert post(open_cam, soap("GetDeviceInformation")).status_code == 500
    assert device.GetHostname().Name  # other operations unaffected
    open_cam.clear_faults()
    assert device.GetDeviceInformation().Model


def test_malformed_is_truncated_xml_with_200(open_cam: VirtualCamera) -> None:
    open_cam.inject_fault("malformed")
    reply = post(open_cam, soap("GetDeviceInformation"))
    assert reply.status_code == 200
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(reply.content)
    with pytest.raises(TransportError, match="invalid XML"):
        zeep_service(open_cam.device_url).GetDeviceInformation()


def test_drop_closes_without_reply(open_cam: VirtualCamera) -> None:
    open_cam.inject_fault("drop", operation="GetScopes", count=2)
    with pytest.raises(requests.exceptions.ConnectionError):
        post(open_cam, soap("GetScopes"))
    with pytest.raises(requests.exceptions.ConnectionError):
        zeep_service(open_cam.device_url).GetScopes()
    assert post(open_cam, soap("GetScopes")).status_code == 200


def test_hostile_reply_carries_billion_laughs(open_cam: VirtualCamera) -> None:
    open_cam.inject_fault("hostile", operation="GetDeviceInformation")
    raw = post(open_cam, soap("GetDeviceInformation")).content
    assert b"<!DOCTYPE" in raw and b"<!ENTITY lol9" in raw and b"&lol9;" in raw
    # a hardened parser refuses it, a naive one would expand 10**9 "lol"s
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(raw, etree.XMLParser(resolve_entities=False, huge_tree=False, load_dtd=False, no_network=True))
    from zeep.exceptions import DTDForbidden, EntitiesForbidden

    with pytest.raises((DTDForbidden, EntitiesForbidden, TransportError)):  # libxml2 caps amplification too
        zeep_service(open_cam.device_url).GetDeviceInformation()


def test_snapshot_faults(open_cam: VirtualCamera) -> None:
    url = f"{open_cam.base_url}/onvif/snapshot/Profile_1_sub.jpg"
    open_cam.inject_fault("http500", operation="Snapshot", count=1)
    assert requests.get(url, timeout=5).status_code == 500
    open_cam.inject_fault("drop", operation="Snapshot", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, timeout=5)
    assert requests.get(url, timeout=5).content[:2] == b"\xff\xd8"


def test_inject_fault_validates(open_cam: VirtualCamera) -> None:
    with pytest.raises(ConfigError):
        open_cam.inject_fault("explode")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        open_cam.inject_fault("delay", delay_s=-1)


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        + soap("GetHostname").replace(b"<GetHostname", b"<GetHostname>&b;</GetHostname><x"),
        b'<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + soap("GetHostname"),
        b"<e:Envelope xmlns:e='http://www.w3.org/2003/05/soap-envelope'><e:Body><unclosed></e:Body>",
        b"<Envelope><Body><GetHostname/></Body></Envelope>",
        soap("GetHostname").replace(ENV.encode(), b"http://schemas.xmlsoap.org/soap/envelope/"),
    ],
    ids=["entity-expansion", "external-entity", "not-well-formed", "no-namespace", "soap11"],
)
def test_hostile_or_broken_requests_refused(open_cam: VirtualCamera, payload: bytes) -> None:
    reply = post(open_cam, payload)
    assert b"root:" not in reply.content
    if b"xmlsoap" in payload or payload.startswith(b"<Envelope"):  # not SOAP 1.2: VersionMismatch
        assert reply.status_code == 500 and b"env:VersionMismatch" in reply.content
    else:
        assert reply.status_code == 400 and b"ter:WellFormed" in reply.content
    assert post(open_cam, soap("GetHostname")).status_code == 200  # still serving


def test_unknown_path_and_oversized_body(open_cam: VirtualCamera) -> None:
    assert post(open_cam, soap("GetHostname"), path="/onvif/nothing").status_code == 404
    import socket

    with socket.create_connection((open_cam.host, open_cam.port), timeout=5) as sock:
        sock.sendall(b"POST /onvif/device_service HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 413")


# ----------------------------------------------------------------------------------------------- quirks
def quirky(*quirks: str, **kw: Any) -> VirtualCamera:
    return VirtualCamera(VirtualCameraConfig(password=PASSWORD, auth="none", quirks=frozenset(quirks), **kw))


def test_quirk_overflow_time() -> None:
    with quirky("overflow_time") as cam:
        root = etree.fromstring(post(cam, soap("GetSystemDateAndTime")).content)
        utc = root.find(f".//{TT}UTCDateTime")
        assert utc is not None
        hour, minute = int(utc.findtext(f"{TT}Time/{TT}Hour")), int(utc.findtext(f"{TT}Time/{TT}Minute"))  # type: ignore[arg-type]
        assert minute >= 60 or hour == 24
        assert zeep_service(cam.device_url).GetSystemDateAndTime().UTCDateTime.Time.Minute == minute


def test_quirk_date_dash_and_no_wsa_prefix() -> None:
    with quirky("date_dash", "no_wsa_prefix") as cam:
        root = etree.fromstring(post(cam, soap("GetHostname")).content)
        header = root.find(f"{{{ENV}}}Header")
        assert header is not None
        created = header.findtext(".//{*}Created")
        assert created is not None and created[10] == "-" and "T" not in created
        action = header.find("Action")  # no prefix, no namespace
        assert action is not None and action.text.endswith("GetHostnameResponse")  # type: ignore[union-attr]
        assert header.find("RelatesTo") is not None
        assert zeep_service(cam.device_url).GetHostname().Name  # body still valid


def test_quirk_fault_undeclared_prefix() -> None:
    with quirky("fault_undeclared_prefix") as cam:
        raw = post(cam, soap("GetProfile", "http://www.onvif.org/ver10/media/wsdl",
                             "<ProfileToken>nope</ProfileToken>"), "/onvif/media_service").content  # fmt: skip
        assert b"ter:InvalidArgVal" in raw and b"xmlns:ter" not in raw
        root = etree.fromstring(raw)  # well-formed: the prefix is only inside text
        assert root.find(".//{*}Subcode/{*}Value").text == "ter:InvalidArgVal"  # type: ignore[union-attr]


def test_quirk_null_uri() -> None:
    with quirky("null_uri") as cam:
        media = zeep_service(cam.media_url, MEDIA_BINDING)
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        assert media.GetStreamUri(StreamSetup=setup, ProfileToken="Profile_1_main").Uri == "(null)"
        assert media.GetSnapshotUri(ProfileToken="Profile_1_main").Uri in ("", None)


def test_quirk_xaddr_other_host_and_nat() -> None:
    with quirky("xaddr_other_host") as cam:
        device = zeep_service(cam.device_url)
        assert all(s.XAddr.startswith("http://10.0.0.99:8080/") for s in device.GetServices(IncludeCapability=False))
        assert device.GetCapabilities().Media.XAddr == "http://10.0.0.99:8080/onvif/media_service"
    with quirky(advertised_host="203.0.113.7", advertised_port=8000, rtsp_port=8554) as cam:
        device = zeep_service(cam.device_url)
        assert {s.XAddr.split("/")[2] for s in device.GetServices(IncludeCapability=False)} == {"203.0.113.7:8000"}
        media = zeep_service(cam.media_url, MEDIA_BINDING)
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "UDP"}}
        assert media.GetStreamUri(StreamSetup=setup, ProfileToken="Profile_1_sub").Uri == (
            "rtsp://203.0.113.7:8554/Profile_1_sub")  # fmt: skip
        assert media.GetSnapshotUri(ProfileToken="Profile_1_sub").Uri.startswith("http://203.0.113.7:8000/")


def test_chunked_request_body(open_cam: VirtualCamera) -> None:
    body = soap("GetHostname")

    def chunks() -> Any:
        yield body[:50]
        yield body[50:]

    reply = requests.post(open_cam.device_url, data=chunks(), timeout=5)  # a generator is sent chunked
    assert reply.status_code == 200 and b"GetHostnameResponse" in reply.content
