"""Media2 service (ver20/media) of the virtual camera: profiles, stream/snapshot URIs, H.264 and H.265 encoders.

onvif-zeep ships no WSDL for Media2, so requests are read and replies written with lxml (a service without
WSDL, see :class:`~kedirivms.sim._soap.ServiceSpec`); element names follow the ONVIF Media2 WSDL and the
``tt:VideoEncoder2Configuration``/``tt:VideoEncoder2ConfigurationOptions`` schema types. Served when the camera's
configuration sets ``media2=True``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from pydantic import ValidationError

from kedirivms.sim._context import SoapContext, channel_of, profile_tokens
from kedirivms.sim._models import EncoderSpec
from kedirivms.sim._soap import NS, ServiceSpec, SoapFault, register_service

TR2 = "http://www.onvif.org/ver20/media/wsdl"
TT = NS["tt"]

MEDIA2 = register_service(
    ServiceSpec(
        name="media2",
        path="/onvif/media2_service",
        namespace=TR2,
        wsdl="",
        binding="Media2Binding",
        version=(2, 60),
        advertised=lambda ctx: ctx.config.media2,
    )
)


def _el(parent: etree._Element | None, ns: str, name: str, text: Any = None, **attrs: Any) -> etree._Element:
    tag = f"{{{ns}}}{name}"
    el = etree.Element(tag, nsmap={"tr2": TR2, "tt": TT}) if parent is None else etree.SubElement(parent, tag)
    for key, value in attrs.items():
        el.set(key, str(value))
    if text is not None:
        el.text = str(text)
    return el


def _text(el: etree._Element, name: str) -> str | None:
    found = el.find(f"{{*}}{name}")
    return found.text.strip() if found is not None and found.text else None


def _channels(ctx: SoapContext) -> list[tuple[int, str]]:
    return [(ch, s) for ch in range(1, ctx.config.channels + 1) for s in ("main", "sub")]


def _encoder(parent: etree._Element, name: str, token: str, spec: EncoderSpec) -> None:
    profile = spec.h264_profile if spec.encoding == "H264" else spec.h265_profile
    enc = _el(parent, TR2, name, token=token, GovLength=spec.gop, Profile=profile)
    _el(enc, TT, "Name", token)
    _el(enc, TT, "UseCount", 1)
    _el(enc, TT, "Encoding", spec.encoding)
    res = _el(enc, TT, "Resolution")
    _el(res, TT, "Width", spec.width)
    _el(res, TT, "Height", spec.height)
    rate = _el(enc, TT, "RateControl", ConstantBitRate="false")
    _el(rate, TT, "FrameRateLimit", float(spec.fps))
    _el(rate, TT, "BitrateLimit", spec.bitrate_kbps)
    _el(enc, TT, "Quality", float(spec.quality))


def _profile(ctx: SoapContext, parent: etree._Element, channel: int, stream: str) -> None:
    token = profile_tokens(channel)[0 if stream == "main" else 1]
    prof = _el(parent, TR2, "Profiles", token=token, fixed="true")
    suffix = "" if ctx.config.channels == 1 else str(channel)
    _el(prof, TR2, "Name", f"{'MainStream' if stream == 'main' else 'SubStream'}{suffix}")
    confs = _el(prof, TR2, "Configurations")
    main = ctx.state.encoders[f"VideoEncoder_{channel}_main"]
    src = _el(confs, TR2, "VideoSource", token=f"VideoSourceConfig_{channel}")
    _el(src, TT, "Name", f"VideoSourceConfig_{channel}")
    _el(src, TT, "UseCount", 2)
    _el(src, TT, "SourceToken", f"VideoSource_{channel}")
    _el(src, TT, "Bounds", x=0, y=0, width=main.width, height=main.height)
    enc_token = f"VideoEncoder_{channel}_{stream}"
    _encoder(confs, "VideoEncoder", enc_token, ctx.state.encoders[enc_token])
    if ctx.config.has_ptz and (stream == "main" or ctx.config.ptz_profiles == "all"):
        ptz = _el(confs, TR2, "PTZ", token=f"PTZConfig_{channel}")
        _el(ptz, TT, "Name", f"PTZConfig_{channel}")
        _el(ptz, TT, "UseCount", 1)
        _el(ptz, TT, "NodeToken", f"PTZNode_{channel}")


def _profile_or_fault(ctx: SoapContext, token: str | None) -> tuple[int, str]:
    parsed = channel_of(token, "Profile", ctx.config.channels)
    if parsed is None:
        raise SoapFault(["InvalidArgVal", "NoProfile"], f"no profile {token!r}")
    return parsed


def _encoder_or_fault(ctx: SoapContext, token: str | None) -> tuple[int, str]:
    parsed = channel_of(token, "VideoEncoder", ctx.config.channels)
    if parsed is None:
        raise SoapFault(["InvalidArgVal", "NoConfig"], f"no video encoder configuration {token!r}")
    return parsed


# ------------------------------------------------------------------------------------------ operations
@MEDIA2.operation("GetServiceCapabilities")
def get_service_capabilities(ctx: SoapContext, req: etree._Element) -> etree._Element:
    out = _el(None, TR2, "GetServiceCapabilitiesResponse")
    caps = _el(out, TR2, "Capabilities", SnapshotUri="true", Rotation="false", VideoSourceMode="false", OSD="false")
    _el(caps, TR2, "ProfileCapabilities", MaximumNumberOfProfiles=2 * ctx.config.channels)
    _el(caps, TR2, "StreamingCapabilities", RTSPStreaming="true", RTPMulticast="false", RTP_RTSP_TCP="true")
    return out


@MEDIA2.operation("GetProfiles")
def get_profiles(ctx: SoapContext, req: etree._Element) -> etree._Element:
    wanted = _text(req, "Token")
    out = _el(None, TR2, "GetProfilesResponse")
    with ctx.state.lock:
        if wanted is not None:
            channel, stream = _profile_or_fault(ctx, wanted)
            _profile(ctx, out, channel, stream)
        else:
            for channel, stream in _channels(ctx):
                _profile(ctx, out, channel, stream)
    return out


@MEDIA2.operation("GetStreamUri")
def get_stream_uri(ctx: SoapContext, req: etree._Element) -> etree._Element:
    token = _text(req, "ProfileToken")
    _profile_or_fault(ctx, token)
    protocol = _text(req, "Protocol")
    if protocol not in ("RtspUnicast", "RTSP", "RtspOverHttp"):
        raise SoapFault(["InvalidArgVal", "InvalidStreamSetup"], f"unsupported protocol {protocol!r}")
    out = _el(None, TR2, "GetStreamUriResponse")
    _el(out, TR2, "Uri", "(null)" if ctx.quirk("null_uri") else ctx.stream_uri(str(token)))
    return out


@MEDIA2.operation("GetSnapshotUri")
def get_snapshot_uri(ctx: SoapContext, req: etree._Element) -> etree._Element:
    token = _text(req, "ProfileToken")
    _profile_or_fault(ctx, token)
    out = _el(None, TR2, "GetSnapshotUriResponse")
    _el(out, TR2, "Uri", "" if ctx.quirk("null_uri") else ctx.snapshot_uri(str(token)))
    return out


@MEDIA2.operation("GetVideoEncoderConfigurations")
def get_video_encoder_configurations(ctx: SoapContext, req: etree._Element) -> etree._Element:
    token, profile = _text(req, "ConfigurationToken"), _text(req, "ProfileToken")
    if token is not None:
        wanted = [_encoder_or_fault(ctx, token)]
    elif profile is not None:
        wanted = [_profile_or_fault(ctx, profile)]
    else:
        wanted = _channels(ctx)
    out = _el(None, TR2, "GetVideoEncoderConfigurationsResponse")
    with ctx.state.lock:
        for channel, stream in wanted:
            enc_token = f"VideoEncoder_{channel}_{stream}"
            _encoder(out, "Configurations", enc_token, ctx.state.encoders[enc_token])
    return out


@MEDIA2.operation("GetVideoEncoderConfigurationOptions")
def get_video_encoder_configuration_options(ctx: SoapContext, req: etree._Element) -> etree._Element:
    token, profile = _text(req, "ConfigurationToken"), _text(req, "ProfileToken")
    if token is not None:
        _encoder_or_fault(ctx, token)
    if profile is not None:
        _profile_or_fault(ctx, profile)
    opts = ctx.config.encoder_options
    out = _el(None, TR2, "GetVideoEncoderConfigurationOptionsResponse")
    rates = " ".join(f"{float(r):g}" for r in range(opts.fps_range[1], opts.fps_range[0] - 1, -1))
    for encoding in opts.encodings:
        profiles = opts.h264_profiles if encoding == "H264" else opts.h265_profiles
        options = _el(
            out,
            TR2,
            "Options",
            GovLengthRange=f"{opts.gop_range[0]} {opts.gop_range[1]}",
            FrameRatesSupported=rates,
            ProfilesSupported=" ".join(profiles),
            ConstantBitRateSupported="false",
        )
        _el(options, TT, "Encoding", encoding)
        quality = _el(options, TT, "QualityRange")
        _el(quality, TT, "Min", float(opts.quality_range[0]))
        _el(quality, TT, "Max", float(opts.quality_range[1]))
        for width, height in opts.resolutions:
            res = _el(options, TT, "ResolutionsAvailable")
            _el(res, TT, "Width", width)
            _el(res, TT, "Height", height)
        bitrate = _el(options, TT, "BitrateRange")
        _el(bitrate, TT, "Min", opts.bitrate_range_kbps[0])
        _el(bitrate, TT, "Max", opts.bitrate_range_kbps[1])
    return out


@MEDIA2.operation("SetVideoEncoderConfiguration")
def set_video_encoder_configuration(ctx: SoapContext, req: etree._Element) -> etree._Element:
    conf = req.find("{*}Configuration")
    if conf is None:
        raise SoapFault(["InvalidArgVal", "ConfigModify"], "no Configuration given")
    token = conf.get("token")
    _encoder_or_fault(ctx, token)
    assert token is not None
    with ctx.state.lock:
        current = ctx.state.encoders[token]
        encoding = _text(conf, "Encoding") or current.encoding
        profile = conf.get("Profile")
        res = conf.find("{*}Resolution")
        rate = conf.find("{*}RateControl")
        try:
            spec = EncoderSpec(
                width=int(_text(res, "Width") or current.width) if res is not None else current.width,
                height=int(_text(res, "Height") or current.height) if res is not None else current.height,
                fps=int(float(_text(rate, "FrameRateLimit") or current.fps)) if rate is not None else current.fps,
                bitrate_kbps=int(_text(rate, "BitrateLimit") or current.bitrate_kbps)
                if rate is not None
                else current.bitrate_kbps,
                gop=int(conf.get("GovLength") or current.gop),
                quality=float(_text(conf, "Quality") or current.quality),
                encoding=encoding,
                h264_profile=(profile if encoding == "H264" and profile else current.h264_profile),
                h265_profile=(profile if encoding == "H265" and profile else current.h265_profile),
            )
        except (ValidationError, ValueError) as exc:
            raise SoapFault(["InvalidArgVal", "ConfigModify"], f"invalid encoder settings: {exc}") from None
        bad = ctx.config.encoder_options.violations(spec)
        if bad:
            raise SoapFault(["InvalidArgVal", "ConfigModify"], "; ".join(bad))
        ctx.state.encoders[token] = spec
    ctx.camera.notify_encoder_change(token, spec)
    return _el(None, TR2, "SetVideoEncoderConfigurationResponse")
