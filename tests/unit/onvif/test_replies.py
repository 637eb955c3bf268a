"""The lxml readers of the replies read on every connect (clock, services, identity, profiles, encoders)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from kedirivms.errors import ProtocolError
from kedirivms.onvif import _auth, _replies, _xml
from kedirivms.onvif._transport import OnvifTransport

TT = "http://www.onvif.org/ver10/schema"
TRT = "http://www.onvif.org/ver10/media/wsdl"
TDS = "http://www.onvif.org/ver10/device/wsdl"


def _response(xml: str) -> etree._Element:
    raw = (
        f'<s:Envelope xmlns:s="{_xml.SOAP12_ENV}" xmlns:tt="{TT}" xmlns:trt="{TRT}" xmlns:tds="{TDS}">'
        f"<s:Body>{xml}</s:Body></s:Envelope>"
    ).encode()
    root = _xml.normalise(_xml.parse(raw), raw)
    return root[0][0]


def _transport() -> OnvifTransport:
    return OnvifTransport(
        "127.0.0.1", 1, username="admin", password="pw", connect_timeout=1, read_timeout=1, label="cam-under-test"
    )


PROFILES = """<trt:GetProfilesResponse>
  <trt:Profiles token="main" fixed="true"><tt:Name>Main</tt:Name>
    <tt:VideoSourceConfiguration token="vsc1"><tt:Name>v</tt:Name><tt:SourceToken>src1</tt:SourceToken>
    </tt:VideoSourceConfiguration>
    <tt:VideoEncoderConfiguration token="enc1"><tt:Name>e1</tt:Name><tt:UseCount>1</tt:UseCount>
      <tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution>
      <tt:Quality>4.5</tt:Quality><tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit>
      <tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl>
      <tt:H264><tt:GovLength>50</tt:GovLength><tt:H264Profile>High</tt:H264Profile></tt:H264>
    </tt:VideoEncoderConfiguration>
    <tt:PTZConfiguration token="ptz1"/>
  </trt:Profiles>
  <trt:Profiles token="sub"><Name>Sub, no namespace</Name>
    <tt:VideoSourceConfiguration token="vsc1"><tt:SourceToken>src1</tt:SourceToken></tt:VideoSourceConfiguration>
    <tt:VideoEncoderConfiguration token="enc2"><tt:Encoding>JPEG</tt:Encoding>
      <tt:Resolution><tt:Width>640</tt:Width><tt:Height>360</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration>
  </trt:Profiles>
  <trt:Profiles token="ch2"><tt:Name>Second input</tt:Name>
    <tt:VideoSourceConfiguration token="vsc2"><tt:SourceToken>src2</tt:SourceToken></tt:VideoSourceConfiguration>
  </trt:Profiles>
</trt:GetProfilesResponse>"""


def test_profiles_flattened_with_channels_and_encoders() -> None:
    main, sub, ch2 = _replies.profiles(_response(PROFILES))
    assert (main.token, main.name, main.fixed, main.channel, main.video_source_token) == (
        "main",
        "Main",
        True,
        1,
        "src1",
    )
    assert (main.encoding, main.width, main.height, main.fps, main.bitrate_kbps, main.gop, main.quality) == (
        "H264",
        1920,
        1080,
        25,
        4096,
        50,
        4.5,
    )
    assert main.ptz_configured and not sub.ptz_configured
    # an unqualified element inherits its parent's namespace and is still read
    assert (sub.name, sub.channel, sub.encoding, sub.fps, sub.gop) == ("Sub, no namespace", 1, "JPEG", None, None)
    assert (ch2.channel, ch2.encoder_token, ch2.encoding) == (2, None, None)


def test_encoder_elements_by_token() -> None:
    elements = _replies.encoder_elements(_response(PROFILES))
    assert sorted(elements) == ["enc1", "enc2"]
    assert _replies.encoder(elements["enc1"]).h264_profile == "High"


def test_unreadable_value_is_a_protocol_error_naming_the_camera() -> None:
    bad = PROFILES.replace("<tt:Width>1920</tt:Width>", "<tt:Width>wide</tt:Width>")
    with pytest.raises(ProtocolError) as info:
        _transport().read("GetProfiles", _replies.profiles, _response(bad))
    assert "cam-under-test" in str(info.value) and "GetProfiles" in str(info.value)


def test_services_and_device_information() -> None:
    services = _response(
        "<tds:GetServicesResponse><tds:Service><tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace>"
        "<tds:XAddr>http://10.0.0.5/onvif/media</tds:XAddr></tds:Service>"
        "<tds:Service><tds:Namespace>urn:no-address</tds:Namespace></tds:Service></tds:GetServicesResponse>"
    )
    assert _replies.services(services) == [("http://www.onvif.org/ver10/media/wsdl", "http://10.0.0.5/onvif/media")]
    info = _replies.device_information(
        _response(
            "<tds:GetDeviceInformationResponse><tds:Manufacturer> Acme </tds:Manufacturer><tds:Model>X1</tds:Model>"
            "<tds:SerialNumber>42</tds:SerialNumber></tds:GetDeviceInformationResponse>"
        )
    )
    assert (info.manufacturer, info.model, info.serial_number, info.firmware_version) == ("Acme", "X1", "42", "")


@pytest.mark.parametrize(
    ("time_xml", "expected"),
    [
        ("<tt:Hour>10</tt:Hour><tt:Minute>5</tt:Minute><tt:Second>7</tt:Second>", datetime(2026, 11, 27, 10, 5, 7)),
        ("<tt:Hour>23</tt:Hour><tt:Minute>60</tt:Minute><tt:Second>0</tt:Second>", datetime(2026, 11, 28, 0, 0, 0)),
        ("<tt:Hour>24</tt:Hour><tt:Minute>0</tt:Minute><tt:Second>0</tt:Second>", datetime(2026, 11, 28, 0, 0, 0)),
    ],
)
def test_utc_time_rolls_over_overflowing_fields(time_xml: str, expected: datetime) -> None:
    reply = _response(
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>"
        "<tt:UTCDateTime><tt:Date><tt:Year>2026</tt:Year><tt:Month>11</tt:Month><tt:Day>27</tt:Day></tt:Date>"
        f"<tt:Time>{time_xml}</tt:Time></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )
    assert _replies.utc_time(reply) == expected.replace(tzinfo=UTC)


def test_utc_time_missing_is_none() -> None:
    assert _replies.utc_time(_response("<tds:GetSystemDateAndTimeResponse/>")) is None


def test_security_header_text_escapes_the_user_name() -> None:
    header = etree.fromstring(_auth.security_xml("a&b<c>", "pw", 0.0, _xml.SOAP12_ENV))
    assert header.findtext(f".//{{{_auth.WSSE}}}Username") == "a&b<c>"
    assert header.get(f"{{{_xml.SOAP12_ENV}}}mustUnderstand") == "1"
