"""lxml readers and writers for the Media2 service (ver20/media): profiles, encoders (H.264 and H.265), options.

onvif-zeep ships no Media2 WSDL, so Media2 is spoken with :meth:`OnvifTransport.call_xml` and read here by local
names, like :mod:`._replies` reads the connect path. Element names follow the ONVIF Media2 WSDL: ``tr2:Profiles``
with ``tr2:Configurations/tr2:VideoSource|VideoEncoder|PTZ``, ``tt:VideoEncoder2Configuration`` (GovLength and
Profile as attributes) and ``tt:VideoEncoder2ConfigurationOptions`` (GovLengthRange, FrameRatesSupported,
ProfilesSupported as attribute lists).
"""

from __future__ import annotations

import copy
from typing import Any

from lxml import etree

from kedirivms.onvif._replies import _fields, _number, _value, children, flag, profile_model
from kedirivms.onvif.models import EncoderOptions, IntRange, Profile, VideoEncoderConfig
from kedirivms.onvif.models_ptz import PTZConfiguration

TR2 = "http://www.onvif.org/ver20/media/wsdl"
TT = "http://www.onvif.org/ver10/schema"

STREAM_PROTOCOL = {"tcp": "RTSP", "udp": "RtspUnicast"}
"""Media2 GetStreamUri protocols: RTP over the RTSP connection (TCP), or RTP over UDP."""


def _int(text: str | None) -> int | None:
    return int(float(text)) if text else None


def encoder(el: etree._Element) -> VideoEncoderConfig:
    """A ``tt:VideoEncoder2Configuration`` element as :class:`VideoEncoderConfig`."""
    f = _fields(el)
    resolution, rate = _fields(f.get("Resolution")), _fields(f.get("RateControl"))
    encoding = _value(f, "Encoding") or ""
    profile = el.get("Profile")
    rc = f.get("RateControl")
    return VideoEncoderConfig(
        token=el.get("token") or "",
        name=_value(f, "Name") or "",
        use_count=_number(f, "UseCount") or 0,
        encoding=encoding,
        width=_number(resolution, "Width") or 0,
        height=_number(resolution, "Height") or 0,
        quality=float(_value(f, "Quality") or 0),
        fps=_number(rate, "FrameRateLimit"),
        bitrate_kbps=_number(rate, "BitrateLimit"),
        gop=_int(el.get("GovLength")),
        h264_profile=profile if encoding == "H264" else None,
        profile=profile,
        constant_bitrate=flag(rc.get("ConstantBitRate")) if rc is not None and rc.get("ConstantBitRate") else None,
    )


def profiles(reply: etree._Element) -> list[Profile]:
    """Flatten a Media2 GetProfiles response into :class:`Profile` models (channel = 1-based video source)."""
    sources: list[str | None] = []
    out = []
    for p in children(reply, "Profiles"):
        f = _fields(p)
        confs = _fields(f.get("Configurations"))
        source = _value(_fields(confs.get("VideoSource")), "SourceToken") or None
        if source not in sources:
            sources.append(source)
        enc = confs.get("VideoEncoder")
        cfg = encoder(enc) if enc is not None and enc.get("token") else None
        out.append(profile_model(p, f, source, sources.index(source) + 1, cfg, confs.get("PTZ")))
    return out


def ptz_configurations(reply: etree._Element) -> dict[str, PTZConfiguration]:
    """The PTZ configuration (token and node) each profile of a Media2 GetProfiles response carries."""
    out: dict[str, PTZConfiguration] = {}
    for p in children(reply, "Profiles"):
        ptz = _fields(_fields(p).get("Configurations")).get("PTZ")
        node = _value(_fields(ptz), "NodeToken") if ptz is not None else None
        if ptz is not None and node and p.get("token") and ptz.get("token"):
            out[str(p.get("token"))] = PTZConfiguration(
                token=str(ptz.get("token")), name=_value(_fields(ptz), "Name") or "", node_token=node
            )
    return out


def encoder_elements(reply: etree._Element) -> dict[str, etree._Element]:
    """The ``VideoEncoder`` elements of a Media2 GetProfiles response, by token (first wins)."""
    out: dict[str, etree._Element] = {}
    for p in children(reply, "Profiles"):
        enc = _fields(_fields(p).get("Configurations")).get("VideoEncoder")
        if enc is not None and enc.get("token"):
            out.setdefault(str(enc.get("token")), enc)
    return out


def is_media2_encoder(el: etree._Element) -> bool:
    """Whether an encoder element came from Media2 (its writes go back through Media2)."""
    return etree.QName(el).namespace == TR2 or el.get("GovLength") is not None


def options(reply: etree._Element) -> list[EncoderOptions]:
    """A Media2 GetVideoEncoderConfigurationOptions response: one :class:`EncoderOptions` per encoding."""
    out = []
    for opt in children(reply, "Options"):
        f = _fields(opt)
        gop = [int(x) for x in (opt.get("GovLengthRange") or "").split()]
        rates = [float(x) for x in (opt.get("FrameRatesSupported") or "").split()]
        q, b = _fields(f.get("QualityRange")), _fields(f.get("BitrateRange"))
        encoding = _value(f, "Encoding") or ""
        profiles = (opt.get("ProfilesSupported") or "").split()
        out.append(
            EncoderOptions(
                encoding=encoding,
                resolutions=[
                    (_number(r, "Width") or 0, _number(r, "Height") or 0)
                    for r in (_fields(x) for x in children(opt, "ResolutionsAvailable"))
                ],
                fps=IntRange(min=int(min(rates)), max=int(max(rates))) if rates else None,
                fps_supported=sorted(rates),
                quality=_span(q),
                gop=IntRange(min=gop[0], max=gop[-1]) if gop else None,
                bitrate_kbps=_span(b),
                h264_profiles=profiles if encoding == "H264" else [],
                profiles=profiles,
            )
        )
    return out


def _span(f: dict[str, etree._Element]) -> IntRange | None:
    lo, hi = _value(f, "Min"), _value(f, "Max")
    return IntRange(min=int(float(lo)), max=int(float(hi))) if lo is not None and hi is not None else None


def set_encoder_payload(current: etree._Element, changes: dict[str, Any]) -> str:
    """The body of a Media2 SetVideoEncoderConfiguration: ``current`` with ``changes`` (model field names)."""
    conf = copy.deepcopy(current)
    conf.tag = f"{{{TR2}}}Configuration"
    fields = _fields(conf)

    def put(parent: etree._Element, name: str, value: Any) -> None:
        found = parent.find(f"{{*}}{name}")
        if found is None:
            found = etree.SubElement(parent, f"{{{TT}}}{name}")
        found.text = str(value)

    if "encoding" in changes:
        put(conf, "Encoding", changes["encoding"])
    if "gop" in changes:
        conf.set("GovLength", str(changes["gop"]))
    if "profile" in changes:
        conf.set("Profile", str(changes["profile"]))
    res = fields.get("Resolution")
    if res is not None:
        if "width" in changes:
            put(res, "Width", changes["width"])
        if "height" in changes:
            put(res, "Height", changes["height"])
    rate = fields.get("RateControl")
    if rate is not None:
        if "fps" in changes:
            put(rate, "FrameRateLimit", float(changes["fps"]))
        if "bitrate_kbps" in changes:
            put(rate, "BitrateLimit", changes["bitrate_kbps"])
    if "quality" in changes:
        put(conf, "Quality", float(changes["quality"]))
    return etree.tostring(conf).decode()
