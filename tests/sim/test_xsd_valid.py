"""Every reply body validates against the XML Schema embedded in the ONVIF WSDLs (full XSD validation by libxml2),
and every envelope, faults included, against the structure of SOAP 1.2 Part 1 (onvif-zeep ships only the SOAP 1.1
envelope schema, so a compact SOAP 1.2 schema is written out below from the specification's section 5)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from lxml import etree

from kedirivms.sim import VirtualCamera, VirtualCameraConfig
from kedirivms.sim._soap import wsdl_dir
from xsdtools import wsdl_schema

ENV = "http://www.w3.org/2003/05/soap-envelope"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"
TT = "http://www.onvif.org/ver10/schema"


def _soap12_schema() -> etree.XMLSchema:
    xml_xsd = (wsdl_dir() / "xml.xsd").as_uri()
    text = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:e="{ENV}" targetNamespace="{ENV}"
        elementFormDefault="qualified">
      <xs:import namespace="http://www.w3.org/XML/1998/namespace" schemaLocation="{xml_xsd}"/>
      <xs:element name="Envelope"><xs:complexType><xs:sequence>
        <xs:element name="Header" minOccurs="0"><xs:complexType><xs:sequence>
          <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
        </xs:sequence></xs:complexType></xs:element>
        <xs:element name="Body"><xs:complexType><xs:sequence>
          <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
        </xs:sequence></xs:complexType></xs:element>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="Fault"><xs:complexType><xs:sequence>
        <xs:element name="Code" type="e:code"/>
        <xs:element name="Reason"><xs:complexType><xs:sequence>
          <xs:element name="Text" maxOccurs="unbounded"><xs:complexType><xs:simpleContent>
            <xs:extension base="xs:string"><xs:attribute ref="xml:lang" use="required"/></xs:extension>
          </xs:simpleContent></xs:complexType></xs:element>
        </xs:sequence></xs:complexType></xs:element>
        <xs:element name="Node" type="xs:anyURI" minOccurs="0"/>
        <xs:element name="Role" type="xs:anyURI" minOccurs="0"/>
        <xs:element name="Detail" minOccurs="0"><xs:complexType><xs:sequence>
          <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
        </xs:sequence></xs:complexType></xs:element>
      </xs:sequence></xs:complexType></xs:element>
      <xs:complexType name="code"><xs:sequence>
        <xs:element name="Value" type="e:codes"/>
        <xs:element name="Subcode" type="e:subcode" minOccurs="0"/>
      </xs:sequence></xs:complexType>
      <xs:simpleType name="codes"><xs:restriction base="xs:QName">
        <xs:enumeration value="e:DataEncodingUnknown"/><xs:enumeration value="e:MustUnderstand"/>
        <xs:enumeration value="e:Receiver"/><xs:enumeration value="e:Sender"/>
        <xs:enumeration value="e:VersionMismatch"/>
      </xs:restriction></xs:simpleType>
      <xs:complexType name="subcode"><xs:sequence>
        <xs:element name="Value" type="xs:QName"/>
        <xs:element name="Subcode" type="e:subcode" minOccurs="0"/>
      </xs:sequence></xs:complexType>
    </xs:schema>"""
    return etree.XMLSchema(etree.fromstring(text.encode()))


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    return {
        TDS: wsdl_schema("devicemgmt.wsdl"),
        TRT: wsdl_schema("media.wsdl"),
        ENV: _soap12_schema(),
    }


@pytest.fixture(scope="module")
def cam() -> Iterator[VirtualCamera]:
    with VirtualCamera(VirtualCameraConfig(auth="none", channels=2, ptz=True)) as cam:
        yield cam


ENC = (
    f'<Configuration token="VideoEncoder_2_sub" xmlns:tt="{TT}"><tt:Name>e</tt:Name><tt:UseCount>1</tt:UseCount>'
    "<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>1280</tt:Width><tt:Height>720</tt:Height>"
    "</tt:Resolution><tt:Quality>4</tt:Quality><tt:RateControl><tt:FrameRateLimit>12</tt:FrameRateLimit>"
    "<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>800</tt:BitrateLimit></tt:RateControl>"
    "<tt:H264><tt:GovLength>24</tt:GovLength><tt:H264Profile>High</tt:H264Profile></tt:H264><tt:Multicast>"
    "<tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port>"
    "<tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout>"
    "</Configuration><ForcePersistence>true</ForcePersistence>"
)
SETUP = f'<StreamSetup xmlns:tt="{TT}"><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol>'
SETUP += "</tt:Transport></StreamSetup><ProfileToken>Profile_2_main</ProfileToken>"
DATE = (
    f'<DateTimeType>Manual</DateTimeType><DaylightSavings>false</DaylightSavings><TimeZone xmlns:tt="{TT}">'
    '<tt:TZ>CET-1CEST,M3.5.0,M10.5.0/3</tt:TZ></TimeZone><UTCDateTime xmlns:tt="' + TT + '"><tt:Time>'
    "<tt:Hour>8</tt:Hour><tt:Minute>30</tt:Minute><tt:Second>0</tt:Second></tt:Time><tt:Date><tt:Year>2031</tt:Year>"
    "<tt:Month>2</tt:Month><tt:Day>28</tt:Day></tt:Date></UTCDateTime>"
)
USER = f'<User xmlns:tt="{TT}"><tt:Username>op1</tt:Username><tt:Password>pw-1</tt:Password>'
USER += "<tt:UserLevel>Operator</tt:UserLevel></User>"

# (namespace, operation, inner XML), in an order where each Set/Delete finds what it needs
CALLS = [
    (TDS, "GetServices", "<IncludeCapability>true</IncludeCapability>"),
    (TDS, "GetServices", "<IncludeCapability>false</IncludeCapability>"),
    (TDS, "GetCapabilities", "<Category>All</Category>"),
    (TDS, "GetDeviceInformation", ""),
    (TDS, "GetSystemDateAndTime", ""),
    (TDS, "SetSystemDateAndTime", DATE),
    (TDS, "GetSystemDateAndTime", ""),
    (
        TDS,
        "SetNTP",
        f'<FromDHCP>false</FromDHCP><NTPManual xmlns:tt="{TT}"><tt:Type>DNS</tt:Type>'
        "<tt:DNSname>ntp.example</tt:DNSname></NTPManual>",
    ),  # fmt: skip
    (TDS, "GetNTP", ""),
    (TDS, "SetHostname", "<Name>cam-7</Name>"),
    (TDS, "GetHostname", ""),
    (TDS, "GetScopes", ""),
    (TDS, "SetScopes", "<Scopes>onvif://www.onvif.org/name/x</Scopes>"),
    (TDS, "AddScopes", "<ScopeItem>onvif://www.onvif.org/location/y</ScopeItem>"),
    (TDS, "RemoveScopes", "<ScopeItem>onvif://www.onvif.org/location/y</ScopeItem>"),
    (TDS, "CreateUsers", USER),
    (TDS, "SetUser", USER.replace("pw-1", "pw-2")),
    (TDS, "GetUsers", ""),
    (TDS, "DeleteUsers", "<Username>op1</Username>"),
    (TDS, "GetNetworkInterfaces", ""),
    (TDS, "GetWsdlUrl", ""),
    (TDS, "SystemReboot", ""),
    (TRT, "GetProfiles", ""),
    (TRT, "GetProfile", "<ProfileToken>Profile_1_main</ProfileToken>"),
    (TRT, "GetVideoSources", ""),
    (TRT, "GetVideoSourceConfigurations", ""),
    (TRT, "GetStreamUri", SETUP),
    (TRT, "GetSnapshotUri", "<ProfileToken>Profile_1_sub</ProfileToken>"),
    (TRT, "GetVideoEncoderConfigurations", ""),
    (TRT, "GetVideoEncoderConfiguration", "<ConfigurationToken>VideoEncoder_2_main</ConfigurationToken>"),
    (TRT, "GetVideoEncoderConfigurationOptions", "<ConfigurationToken>VideoEncoder_1_sub</ConfigurationToken>"),
    (TRT, "GetCompatibleVideoEncoderConfigurations", "<ProfileToken>Profile_2_sub</ProfileToken>"),
    (TRT, "SetVideoEncoderConfiguration", ENC),
    (TRT, "GetProfile", "<ProfileToken>Profile_2_sub</ProfileToken>"),
]


def _post(cam: VirtualCamera, ns: str, op: str, inner: str) -> requests.Response:
    path = "/onvif/device_service" if ns == TDS else "/onvif/media_service"
    body = f'<e:Envelope xmlns:e="{ENV}"><e:Body><{op} xmlns="{ns}">{inner}</{op}></e:Body></e:Envelope>'
    return requests.post(cam.base_url + path, data=body.encode(), timeout=5)


def test_every_reply_is_xsd_valid(cam: VirtualCamera, schemas: dict[str, etree.XMLSchema]) -> None:
    for ns, op, inner in CALLS:
        reply = _post(cam, ns, op, inner)
        assert reply.status_code == 200, (op, reply.content[:300])
        envelope = etree.fromstring(reply.content)
        assert schemas[ENV].validate(etree.ElementTree(envelope)), (op, schemas[ENV].error_log.last_error)
        body = envelope.find(f"{{{ENV}}}Body")
        assert body is not None and etree.QName(body[0]).localname == f"{op}Response"
        schema = schemas[ns]
        assert schema.validate(etree.ElementTree(body[0])), (op, schema.error_log.last_error)
    enc = cam.state.encoders["VideoEncoder_2_sub"]
    assert (enc.width, enc.fps, enc.bitrate_kbps, enc.gop, enc.h264_profile) == (1280, 12, 800, 24, "High")
    assert cam.state.time_zone.startswith("CET-1") and cam.state.reboots == 1


@pytest.mark.parametrize(
    ("ns", "op", "inner"),
    [
        (TRT, "GetProfile", "<ProfileToken>Profile_9_main</ProfileToken>"),
        (TRT, "SetVideoEncoderConfiguration", ENC.replace("<tt:Width>1280", "<tt:Width>1281")),
        (TDS, "GetDot11Capabilities", ""),
        (TDS, "SetHostname", "<Name>-bad-</Name>"),
    ],
)
def test_faults_are_valid_soap12(
    cam: VirtualCamera, schemas: dict[str, etree.XMLSchema], ns: str, op: str, inner: str
) -> None:
    reply = _post(cam, ns, op, inner)
    assert reply.status_code in (400, 500)
    envelope = etree.fromstring(reply.content)
    assert schemas[ENV].validate(etree.ElementTree(envelope)), schemas[ENV].error_log.last_error
    value = envelope.find(f".//{{{ENV}}}Subcode/{{{ENV}}}Value")
    assert value is not None and value.text is not None and value.text.startswith("ter:")
    assert envelope.find(f".//{{{ENV}}}Reason/{{{ENV}}}Text") is not None


def test_undeclared_prefix_quirk_breaks_exactly_the_subcode_qname(schemas: dict[str, etree.XMLSchema]) -> None:
    quirks = frozenset({"fault_undeclared_prefix"})
    with VirtualCamera(VirtualCameraConfig(auth="none", quirks=quirks)) as quirky:  # type: ignore[arg-type]
        reply = _post(quirky, TRT, "GetProfile", "<ProfileToken>nope</ProfileToken>")
    envelope = etree.fromstring(reply.content)
    assert not schemas[ENV].validate(etree.ElementTree(envelope))
    assert "QName" in str(schemas[ENV].error_log.last_error) or "Value" in str(schemas[ENV].error_log.last_error)
