"""lxml readers for the replies every connect reads: clock, services, device identity, profiles, encoders.

They read the quirk-normalised reply tree (see :mod:`._xml`) by local names, so a vendor that puts an element in
the wrong namespace is still understood; a missing optional element reads as ``None``. Values that do not parse
(``Width`` = ``"wide"``) raise :class:`ValueError`, which the callers turn into
:class:`~kedirivms.errors.ProtocolError`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import cache

from lxml import etree

from kedirivms.onvif.models import DeviceInfo, Profile, SystemDateTime, VideoEncoderConfig
from kedirivms.onvif.models_ptz import FloatRange, PTZConfiguration


def text(el: etree._Element | None, path: str) -> str | None:
    """Stripped text at ``path`` (local names joined by ``/``) below ``el``, or ``None``."""
    if el is None:
        return None
    found = el.find(_any_namespace(path))
    if found is None or found.text is None:
        return None
    return found.text.strip()


@cache
def _any_namespace(path: str) -> str:
    return "/".join(f"{{*}}{step}" for step in path.split("/"))


def flag(value: str | None) -> bool:
    """An ``xs:boolean`` (``true``/``1``) as a bool; anything else, missing included, is False."""
    return (value or "").strip().lower() in ("true", "1")


def children(el: etree._Element, name: str) -> list[etree._Element]:
    """The child elements of ``el`` with local name ``name``."""
    return el.findall(f"{{*}}{name}")


def date_time(el: etree._Element | None) -> datetime | None:
    """A ``tt:DateTime`` (Date/Year.., Time/Hour..) as a UTC datetime; Minute=60 or Hour=24 roll over."""
    if el is None:
        return None
    fields = _fields(el)
    date, tod = _fields(fields.get("Date")), _fields(fields.get("Time"))
    try:
        year, month, day = (_number(date, f) for f in ("Year", "Month", "Day"))
        if year is None or month is None or day is None:
            return None
        base = datetime(year, month, day, tzinfo=UTC)
        hour, minute, second = (_number(tod, f) or 0 for f in ("Hour", "Minute", "Second"))
        return base + timedelta(hours=hour, minutes=minute, seconds=second)
    except (ValueError, OverflowError):  # Year 0, Hour 10**15: not a time we can use
        return None


def utc_time(reply: etree._Element) -> datetime | None:
    """The camera's UTC time from a GetSystemDateAndTime response (local time if UTC is missing)."""
    sdt = reply.find("{*}SystemDateAndTime")
    if sdt is None:
        return None
    for name in ("UTCDateTime", "LocalDateTime"):
        found = date_time(sdt.find(f"{{*}}{name}"))
        if found is not None:
            return found
    return None


def system_date_time(reply: etree._Element, clock_offset_s: float) -> SystemDateTime:
    """A GetSystemDateAndTime response as :class:`SystemDateTime` (with the offset learned from it)."""
    sdt = reply.find("{*}SystemDateAndTime")
    if sdt is None:
        return SystemDateTime(date_time_type="Manual", clock_offset_s=clock_offset_s)
    local = date_time(sdt.find("{*}LocalDateTime"))
    return SystemDateTime(
        date_time_type=text(sdt, "DateTimeType") or "Manual",
        daylight_savings=flag(text(sdt, "DaylightSavings")),
        time_zone=text(sdt, "TimeZone/TZ"),
        utc_time=date_time(sdt.find("{*}UTCDateTime")),
        local_time=local.replace(tzinfo=None) if local is not None else None,
        clock_offset_s=clock_offset_s,
    )


def services(reply: etree._Element) -> list[tuple[str, str]]:
    """``(namespace, XAddr)`` of each service in a GetServices response."""
    out = []
    for svc in children(reply, "Service"):
        namespace, xaddr = text(svc, "Namespace"), text(svc, "XAddr")
        if namespace and xaddr:
            out.append((namespace, xaddr))
    return out


def device_information(reply: etree._Element) -> DeviceInfo:
    """A GetDeviceInformation response as :class:`DeviceInfo`."""
    return DeviceInfo(
        manufacturer=text(reply, "Manufacturer") or "",
        model=text(reply, "Model") or "",
        firmware_version=text(reply, "FirmwareVersion") or "",
        serial_number=text(reply, "SerialNumber") or "",
        hardware_id=text(reply, "HardwareId") or "",
    )


def _fields(el: etree._Element | None) -> dict[str, etree._Element]:
    """``el``'s child elements by local name (the first of each), in one pass."""
    out: dict[str, etree._Element] = {}
    if el is not None:
        for child in el:
            tag = child.tag
            if isinstance(tag, str):
                out.setdefault(tag[tag.find("}") + 1 :], child)
    return out


def _value(fields: dict[str, etree._Element], name: str) -> str | None:
    found = fields.get(name)
    return found.text.strip() if found is not None and found.text is not None else None


_MAX_NUMBER = 2**53  # larger values (and "1e309", "inf", "NaN") are not a width, rate or count any camera has


def _number(fields: dict[str, etree._Element], name: str) -> int | None:
    value = _real(fields, name)
    return int(value) if value is not None else None


def _real(fields: dict[str, etree._Element], name: str) -> float | None:
    """The number at ``name``; :class:`ValueError` for text, infinities, NaN and absurd magnitudes."""
    value = _value(fields, name)
    if not value:
        return None
    number = float(value[:64])
    if not math.isfinite(number) or abs(number) > _MAX_NUMBER:
        raise ValueError(f"{name} is out of range: {value[:20]!r}")
    return number


def encoder(el: etree._Element) -> VideoEncoderConfig:
    """A ``tt:VideoEncoderConfiguration`` element as :class:`VideoEncoderConfig`."""
    f = _fields(el)
    resolution, rate, h264 = _fields(f.get("Resolution")), _fields(f.get("RateControl")), _fields(f.get("H264"))
    return VideoEncoderConfig(
        token=el.get("token") or "",
        name=_value(f, "Name") or "",
        use_count=_number(f, "UseCount") or 0,
        encoding=_value(f, "Encoding") or "",
        width=_number(resolution, "Width") or 0,
        height=_number(resolution, "Height") or 0,
        quality=_real(f, "Quality") or 0.0,
        fps=_number(rate, "FrameRateLimit"),
        bitrate_kbps=_number(rate, "BitrateLimit"),
        encoding_interval=_number(rate, "EncodingInterval"),
        gop=_number(h264, "GovLength"),
        h264_profile=_value(h264, "H264Profile"),
        profile=_value(h264, "H264Profile"),
    )


def encoder_elements(reply: etree._Element) -> dict[str, etree._Element]:
    """The ``VideoEncoderConfiguration`` elements of a GetProfiles response, by token (first wins)."""
    out: dict[str, etree._Element] = {}
    for profile in children(reply, "Profiles"):
        enc = profile.find("{*}VideoEncoderConfiguration")
        if enc is not None and enc.get("token"):
            out.setdefault(str(enc.get("token")), enc)
    return out


def profiles(reply: etree._Element) -> list[Profile]:
    """Flatten a GetProfiles response into :class:`Profile` models; channel = 1-based video source index."""
    sources: list[str | None] = []
    out = []
    for p in children(reply, "Profiles"):
        f = _fields(p)
        source = _value(_fields(f.get("VideoSourceConfiguration")), "SourceToken") or None
        if source not in sources:
            sources.append(source)
        enc = f.get("VideoEncoderConfiguration")
        cfg = encoder(enc) if enc is not None and enc.get("token") else None
        out.append(profile_model(p, f, source, sources.index(source) + 1, cfg, f.get("PTZConfiguration")))
    return out


def profile_model(
    p: etree._Element,
    f: dict[str, etree._Element],
    source: str | None,
    channel: int,
    cfg: VideoEncoderConfig | None,
    ptz: etree._Element | None,
) -> Profile:
    """One :class:`Profile` from a profile element (Media1 or Media2), its parsed encoder and its PTZ element."""
    return Profile(
        token=p.get("token") or "",
        name=_value(f, "Name") or "",
        fixed=flag(p.get("fixed")),
        video_source_token=source,
        channel=channel,
        encoder_token=cfg.token if cfg else None,
        encoding=cfg.encoding if cfg else None,
        encoder_profile=cfg.profile if cfg else None,
        width=cfg.width if cfg else None,
        height=cfg.height if cfg else None,
        fps=cfg.fps if cfg else None,
        bitrate_kbps=cfg.bitrate_kbps if cfg else None,
        gop=cfg.gop if cfg else None,
        quality=cfg.quality if cfg else None,
        ptz_configured=ptz is not None,
        ptz_configuration_token=ptz.get("token") if ptz is not None else None,
        ptz_node_token=_value(_fields(ptz), "NodeToken") if ptz is not None else None,
    )


def _range(el: etree._Element | None) -> FloatRange | None:
    f = _fields(el)
    lo, hi = _value(f, "Min"), _value(f, "Max")
    return FloatRange(min=float(lo), max=float(hi)) if lo is not None and hi is not None else None


def _duration_s(value: str | None) -> float | None:
    """An ``xs:duration`` such as ``PT5S`` or ``PT1M0.5S`` as seconds (None when absent or unreadable)."""
    import re

    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?", (value or "").strip())
    if not m or not value or value.strip() in ("P", "PT"):
        return None
    d, h, mi, sec = (float(x) if x else 0.0 for x in m.groups())
    return d * 86400 + h * 3600 + mi * 60 + sec


def ptz_configurations(reply: etree._Element) -> dict[str, PTZConfiguration]:
    """The ``PTZConfiguration`` each profile of a GetProfiles response carries, by profile token."""
    out: dict[str, PTZConfiguration] = {}
    for p in children(reply, "Profiles"):
        el = p.find("{*}PTZConfiguration")
        token = p.get("token")
        if el is None or not token or not el.get("token"):
            continue
        f = _fields(el)
        node = _value(f, "NodeToken")
        if not node:
            continue
        pt = _fields(_fields(f.get("PanTiltLimits")).get("Range"))
        zl = _fields(_fields(f.get("ZoomLimits")).get("Range"))
        out[token] = PTZConfiguration(
            token=str(el.get("token")),
            name=_value(f, "Name") or "",
            node_token=node,
            default_timeout_s=_duration_s(_value(f, "DefaultPTZTimeout")),
            pan_limits=_range(pt.get("XRange")),
            tilt_limits=_range(pt.get("YRange")),
            zoom_limits=_range(zl.get("XRange")),
        )
    return out
