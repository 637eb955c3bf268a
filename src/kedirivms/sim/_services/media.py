"""Media service (ver10 ``media.wsdl``) of the virtual camera: profiles, encoders, stream and snapshot URIs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from kedirivms.sim._context import SoapContext, channel_of, profile_tokens
from kedirivms.sim._models import EncoderSpec
from kedirivms.sim._soap import NS, ServiceSpec, SoapFault, register_service, render_element

MEDIA = register_service(
    ServiceSpec(
        name="media",
        path="/onvif/media_service",
        namespace=NS["trt"],
        wsdl="media.wsdl",
        binding="MediaBinding",
        version=(2, 60),
    )
)


def _media_capabilities(ctx: SoapContext) -> Any:
    value = {
        "ProfileCapabilities": {"MaximumNumberOfProfiles": 2 * ctx.config.channels},
        "StreamingCapabilities": {"RTPMulticast": False, "RTP_TCP": True, "RTP_RTSP_TCP": True},
        "SnapshotUri": True,
        "Rotation": False,
        "VideoSourceMode": False,
        "OSD": False,
    }
    return render_element("media.wsdl", f"{{{NS['trt']}}}Capabilities", value)


MEDIA.capabilities = _media_capabilities


# ------------------------------------------------------------------------------------ building blocks
def _channel_or_fault(ctx: SoapContext, token: str | None, kind: str) -> tuple[int, str]:
    parsed = channel_of(token, "Profile" if kind == "profile" else "VideoEncoder", ctx.config.channels)
    if parsed is None:
        if kind == "profile":
            raise SoapFault(["InvalidArgVal", "NoProfile"], f"no profile {token!r}")
        raise SoapFault(["InvalidArgVal", "NoConfig"], f"no video encoder configuration {token!r}")
    return parsed


def _source_config(ctx: SoapContext, channel: int) -> dict[str, Any]:
    main = ctx.state.encoders[f"VideoEncoder_{channel}_main"]
    return {
        "token": f"VideoSourceConfig_{channel}",
        "Name": f"VideoSourceConfig_{channel}",
        "UseCount": 2,
        "SourceToken": f"VideoSource_{channel}",
        "Bounds": {"x": 0, "y": 0, "width": main.width, "height": main.height},
    }


def _encoder_config(ctx: SoapContext, channel: int, stream: str) -> dict[str, Any]:
    token = f"VideoEncoder_{channel}_{stream}"
    spec = ctx.state.encoders[token]
    return {
        "token": token,
        "Name": token,
        "UseCount": 1,
        "Encoding": "H264",
        "Resolution": {"Width": spec.width, "Height": spec.height},
        "Quality": float(spec.quality),
        "RateControl": {"FrameRateLimit": spec.fps, "EncodingInterval": 1, "BitrateLimit": spec.bitrate_kbps},
        "H264": {"GovLength": spec.gop, "H264Profile": spec.h264_profile},
        "Multicast": {
            "Address": {"Type": "IPv4", "IPv4Address": "0.0.0.0"},
            "Port": 0,
            "TTL": 0,
            "AutoStart": False,
        },
        "SessionTimeout": dt.timedelta(seconds=60),
    }


def _ptz_config(channel: int) -> dict[str, Any]:
    spaces = "http://www.onvif.org/ver10/tptz"
    return {
        "token": f"PTZConfig_{channel}",
        "Name": f"PTZConfig_{channel}",
        "UseCount": 1,
        "NodeToken": f"PTZNode_{channel}",
        "DefaultAbsolutePantTiltPositionSpace": f"{spaces}/PanTiltSpaces/PositionGenericSpace",
        "DefaultAbsoluteZoomPositionSpace": f"{spaces}/ZoomSpaces/PositionGenericSpace",
        "DefaultRelativePanTiltTranslationSpace": f"{spaces}/PanTiltSpaces/TranslationGenericSpace",
        "DefaultRelativeZoomTranslationSpace": f"{spaces}/ZoomSpaces/TranslationGenericSpace",
        "DefaultContinuousPanTiltVelocitySpace": f"{spaces}/PanTiltSpaces/VelocityGenericSpace",
        "DefaultContinuousZoomVelocitySpace": f"{spaces}/ZoomSpaces/VelocityGenericSpace",
        "DefaultPTZTimeout": dt.timedelta(seconds=5),
    }


def _profile(ctx: SoapContext, channel: int, stream: str) -> dict[str, Any]:
    token = profile_tokens(channel)[0 if stream == "main" else 1]
    profile: dict[str, Any] = {
        "token": token,
        "fixed": True,
        "Name": f"{'MainStream' if stream == 'main' else 'SubStream'}{'' if ctx.config.channels == 1 else channel}",
        "VideoSourceConfiguration": _source_config(ctx, channel),
    }
    if ctx.state.encoders[f"VideoEncoder_{channel}_{stream}"].encoding == "H264":
        # Media1's schema knows JPEG, MPEG4 and H264 only: an H.265 encoder is described by Media2 alone
        profile["VideoEncoderConfiguration"] = _encoder_config(ctx, channel, stream)
    if ctx.config.has_ptz and (stream == "main" or ctx.config.ptz_profiles == "all"):
        profile["PTZConfiguration"] = _ptz_config(channel)
    return profile


# ------------------------------------------------------------------------------------------ operations
@MEDIA.operation("GetProfiles")
def get_profiles(ctx: SoapContext, req: Any) -> dict[str, Any]:
    with ctx.state.lock:
        out = [_profile(ctx, ch, s) for ch in range(1, ctx.config.channels + 1) for s in ("main", "sub")]
    return {"Profiles": out}


@MEDIA.operation("GetProfile")
def get_profile(ctx: SoapContext, req: Any) -> dict[str, Any]:
    channel, stream = _channel_or_fault(ctx, req.ProfileToken, "profile")
    with ctx.state.lock:
        return {"Profile": _profile(ctx, channel, stream)}


@MEDIA.operation("GetVideoSources")
def get_video_sources(ctx: SoapContext, req: Any) -> dict[str, Any]:
    sources = []
    with ctx.state.lock:
        for ch in range(1, ctx.config.channels + 1):
            main = ctx.state.encoders[f"VideoEncoder_{ch}_main"]
            sources.append(
                {
                    "token": f"VideoSource_{ch}",
                    "Framerate": float(ctx.config.encoder_options.fps_range[1]),
                    "Resolution": {"Width": main.width, "Height": main.height},
                }
            )
    return {"VideoSources": sources}


@MEDIA.operation("GetVideoSourceConfigurations")
def get_video_source_configurations(ctx: SoapContext, req: Any) -> dict[str, Any]:
    with ctx.state.lock:
        return {"Configurations": [_source_config(ctx, ch) for ch in range(1, ctx.config.channels + 1)]}


def _media_uri(uri: str) -> dict[str, Any]:
    return {
        "MediaUri": {"Uri": uri, "InvalidAfterConnect": False, "InvalidAfterReboot": False, "Timeout": dt.timedelta(0)}
    }


@MEDIA.operation("GetStreamUri")
def get_stream_uri(ctx: SoapContext, req: Any) -> dict[str, Any]:
    channel, stream = _channel_or_fault(ctx, req.ProfileToken, "profile")
    setup = req.StreamSetup
    kind = getattr(setup, "Stream", None)
    protocol = getattr(getattr(setup, "Transport", None), "Protocol", None)
    if kind != "RTP-Unicast" or protocol not in ("UDP", "TCP", "RTSP"):
        raise SoapFault(
            ["InvalidArgVal", "InvalidStreamSetup"],
            f"unsupported stream setup {kind}/{protocol}: use RTP-Unicast over UDP, TCP or RTSP",
        )
    uri = "(null)" if ctx.quirk("null_uri") else ctx.stream_uri(req.ProfileToken)
    return _media_uri(uri)


@MEDIA.operation("GetSnapshotUri")
def get_snapshot_uri(ctx: SoapContext, req: Any) -> dict[str, Any]:
    _channel_or_fault(ctx, req.ProfileToken, "profile")
    uri = "" if ctx.quirk("null_uri") else ctx.snapshot_uri(req.ProfileToken)
    return _media_uri(uri)


@MEDIA.operation("GetVideoEncoderConfigurations")
def get_video_encoder_configurations(ctx: SoapContext, req: Any) -> dict[str, Any]:
    with ctx.state.lock:
        out = [
            _encoder_config(ctx, ch, s)
            for ch in range(1, ctx.config.channels + 1)
            for s in ("main", "sub")
            if ctx.state.encoders[f"VideoEncoder_{ch}_{s}"].encoding == "H264"
        ]
    return {"Configurations": out}


@MEDIA.operation("GetVideoEncoderConfiguration")
def get_video_encoder_configuration(ctx: SoapContext, req: Any) -> dict[str, Any]:
    channel, stream = _channel_or_fault(ctx, req.ConfigurationToken, "encoder")
    with ctx.state.lock:
        if ctx.state.encoders[req.ConfigurationToken].encoding != "H264":
            raise SoapFault(["InvalidArgVal", "NoConfig"], f"{req.ConfigurationToken} is H.265: read it with Media2")
        return {"Configuration": _encoder_config(ctx, channel, stream)}


@MEDIA.operation("GetCompatibleVideoEncoderConfigurations")
def get_compatible_video_encoder_configurations(ctx: SoapContext, req: Any) -> dict[str, Any]:
    channel, _ = _channel_or_fault(ctx, req.ProfileToken, "profile")
    with ctx.state.lock:
        return {"Configurations": [_encoder_config(ctx, channel, s) for s in ("main", "sub")]}


@MEDIA.operation("GetVideoEncoderConfigurationOptions")
def get_video_encoder_configuration_options(ctx: SoapContext, req: Any) -> dict[str, Any]:
    if req.ConfigurationToken:
        _channel_or_fault(ctx, req.ConfigurationToken, "encoder")
    if req.ProfileToken:
        _channel_or_fault(ctx, req.ProfileToken, "profile")
    opts = ctx.config.encoder_options

    def rng(pair: tuple[int, int]) -> dict[str, int]:
        return {"Min": pair[0], "Max": pair[1]}

    h264 = {
        "ResolutionsAvailable": [{"Width": w, "Height": h} for w, h in opts.resolutions],
        "GovLengthRange": rng(opts.gop_range),
        "FrameRateRange": rng(opts.fps_range),
        "EncodingIntervalRange": rng(opts.encoding_interval_range),
        "H264ProfilesSupported": list(opts.h264_profiles),
    }
    return {
        "Options": {
            "QualityRange": rng(opts.quality_range),
            "H264": h264,
            "Extension": {"H264": {**h264, "BitrateRange": rng(opts.bitrate_range_kbps)}},
        }
    }


@MEDIA.operation("SetVideoEncoderConfiguration")
def set_video_encoder_configuration(ctx: SoapContext, req: Any) -> None:
    conf = req.Configuration
    if conf is None:
        raise SoapFault(["InvalidArgVal", "ConfigModify"], "no Configuration given")
    channel, stream = _channel_or_fault(ctx, conf.token, "encoder")
    if conf.Encoding != "H264":
        raise SoapFault(["InvalidArgVal", "ConfigModify"], f"encoding {conf.Encoding} not offered; valid: H264")
    with ctx.state.lock:
        current = ctx.state.encoders[conf.token]
        rate = conf.RateControl
        h264 = conf.H264
        try:
            spec = EncoderSpec(
                width=conf.Resolution.Width if conf.Resolution else current.width,
                height=conf.Resolution.Height if conf.Resolution else current.height,
                fps=rate.FrameRateLimit if rate is not None else current.fps,
                bitrate_kbps=rate.BitrateLimit if rate is not None else current.bitrate_kbps,
                gop=h264.GovLength if h264 is not None else current.gop,
                quality=conf.Quality if conf.Quality is not None else current.quality,
                h264_profile=h264.H264Profile if h264 is not None and h264.H264Profile else current.h264_profile,
                encoding="H264",
            )
        except ValidationError as exc:
            raise SoapFault(["InvalidArgVal", "ConfigModify"], f"invalid encoder settings: {exc}") from None
        bad = ctx.config.encoder_options.violations(spec)
        if bad:
            raise SoapFault(["InvalidArgVal", "ConfigModify"], "; ".join(bad))
        ctx.state.encoders[conf.token] = spec
    ctx.camera.notify_encoder_change(conf.token, spec)
    return None
