"""The virtual camera's PTZ, imaging and event replies validate against the XML Schema embedded in the ONVIF
WSDLs (libxml2 full validation), including the hand-rendered notification topics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from lxml import etree

from kedirivms.sim import VirtualCamera, VirtualCameraConfig
from xsdtools import wsdl_schema

ENV = "http://www.w3.org/2003/05/soap-envelope"
TPTZ = "http://www.onvif.org/ver20/ptz/wsdl"
TIMG = "http://www.onvif.org/ver20/imaging/wsdl"
TEV = "http://www.onvif.org/ver10/events/wsdl"
TT = "http://www.onvif.org/ver10/schema"
WSNT = "http://docs.oasis-open.org/wsn/b-2"
P = "<ProfileToken>Profile_1_main</ProfileToken>"


@pytest.fixture(scope="module")
def cam() -> Iterator[VirtualCamera]:
    with VirtualCamera(VirtualCameraConfig(auth="none", ptz_node={"pan_tilt_speed": 50.0})) as vcam:
        yield vcam


def post(cam: VirtualCamera, path: str, ns: str, op: str, inner: str) -> etree._Element:
    body = f'<e:Envelope xmlns:e="{ENV}"><e:Body><m:{op} xmlns:m="{ns}">{inner}</m:{op}></e:Body></e:Envelope>'
    reply = requests.post(f"{cam.base_url}{path}", data=body.encode(), timeout=10)
    assert reply.status_code == 200, reply.text
    root = etree.fromstring(reply.content)
    found = root.find(f"{{{ENV}}}Body")
    assert found is not None
    return found[0]


VEC = f'<Position xmlns:tt="{TT}"><tt:PanTilt x="0.5" y="-0.5"/><tt:Zoom x="0.25"/></Position>'
VEL = f'<Velocity xmlns:tt="{TT}"><tt:PanTilt x="0.1" y="0"/></Velocity><Timeout>PT1S</Timeout>'
PTZ_CALLS = [
    ("GetServiceCapabilities", ""),
    ("GetNodes", ""),
    ("GetNode", "<NodeToken>PTZNode_1</NodeToken>"),
    ("GetConfigurations", ""),
    ("GetConfiguration", "<PTZConfigurationToken>PTZConfig_1</PTZConfigurationToken>"),
    ("GetConfigurationOptions", "<ConfigurationToken>PTZConfig_1</ConfigurationToken>"),
    ("GetCompatibleConfigurations", P),
    ("AbsoluteMove", P + VEC),
    ("SetPreset", P + "<PresetName>Gate</PresetName>"),
    ("GetPresets", P),
    ("ContinuousMove", P + VEL),
    ("GetStatus", P),
    ("Stop", P + "<PanTilt>true</PanTilt><Zoom>true</Zoom>"),
    ("GotoPreset", P + "<PresetToken>Preset_1</PresetToken>"),
    ("RelativeMove", P + f'<Translation xmlns:tt="{TT}"><tt:Zoom x="0.1"/></Translation>'),
    ("SetHomePosition", P),
    ("GotoHomePosition", P),
    ("RemovePreset", P + "<PresetToken>Preset_1</PresetToken>"),
]
IMG_CALLS = [
    ("GetServiceCapabilities", ""),
    ("GetImagingSettings", "<VideoSourceToken>VideoSource_1</VideoSourceToken>"),
    ("GetOptions", "<VideoSourceToken>VideoSource_1</VideoSourceToken>"),
    (
        "SetImagingSettings",
        f'<VideoSourceToken>VideoSource_1</VideoSourceToken><ImagingSettings xmlns:tt="{TT}">'
        "<tt:Brightness>70</tt:Brightness><tt:IrCutFilter>OFF</tt:IrCutFilter></ImagingSettings>",
    ),
]


def test_ptz_and_imaging_replies_are_schema_valid(cam: VirtualCamera) -> None:
    for path, ns, wsdl, calls in (
        ("/onvif/ptz_service", TPTZ, "ptz.wsdl", PTZ_CALLS),
        ("/onvif/imaging_service", TIMG, "imaging.wsdl", IMG_CALLS),
    ):
        schema = wsdl_schema(wsdl)
        for op, inner in calls:
            reply = post(cam, path, ns, op, inner)
            assert etree.QName(reply).localname == f"{op}Response"
            assert schema.validate(reply), f"{op}: {schema.error_log}"


def test_event_replies_are_schema_valid(cam: VirtualCamera) -> None:
    schema = wsdl_schema("events.wsdl")
    for op in ("GetServiceCapabilities", "GetEventProperties"):
        reply = post(cam, "/onvif/events_service", TEV, op, "")
        assert schema.validate(reply), f"{op}: {schema.error_log}"
    created = post(cam, "/onvif/events_service", TEV, "CreatePullPointSubscription", "")
    assert schema.validate(created), schema.error_log
    address = created.findtext(".//{http://www.w3.org/2005/08/addressing}Address")
    assert address is not None
    path = address.split(str(cam.port), 1)[1]
    cam.trigger_motion(True)
    pulled = post(cam, path, TEV, "PullMessages", "<Timeout>PT1S</Timeout><MessageLimit>10</MessageLimit>")
    assert schema.validate(pulled), schema.error_log
    topics = [t.text for t in pulled.iter(f"{{{WSNT}}}Topic")]
    assert "tns1:VideoSource/MotionAlarm" in topics
    assert pulled.find(f".//{{{WSNT}}}Topic").nsmap.get("tns1") == "http://www.onvif.org/ver10/topics"  # type: ignore[union-attr]
    renewed = post(cam, path, "http://docs.oasis-open.org/wsn/b-2", "Renew", "<TerminationTime>PT30S</TerminationTime>")
    assert etree.QName(renewed).localname == "RenewResponse"
    post(cam, path, "http://docs.oasis-open.org/wsn/b-2", "Unsubscribe", "")
    assert cam.subscription_count == 0
