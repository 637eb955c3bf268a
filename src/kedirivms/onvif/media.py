"""Media service (``trt``, Media1): profiles, channels, stream/snapshot URIs, video encoder configurations."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from lxml import etree

from kedirivms._redact import strip_userinfo
from kedirivms.errors import InvalidArgument, NotSupported, ProtocolError
from kedirivms.onvif import _media2, _replies
from kedirivms.onvif._limits import check_count
from kedirivms.onvif._replies import children
from kedirivms.onvif.models import (
    Channel,
    EncoderOptions,
    IntRange,
    Profile,
    StreamUri,
    VideoEncoderConfig,
)

_TT = "http://www.onvif.org/ver10/schema"

if TYPE_CHECKING:
    from kedirivms.onvif._transport import OnvifTransport
    from kedirivms.onvif.models_ptz import PTZConfiguration

ProfileRef = str | Profile


class MediaService:
    """``camera.media``: the ONVIF media service (profiles, URIs, encoders) of one camera.

    When the camera lists Media2 (ver20/media) in GetServices, profiles, URIs and encoder configurations and
    options come from Media2, which describes H.265 (Media1 knows H.264, MPEG4 and JPEG only); Media1 is the
    fallback for cameras without it, or whose Media2 refuses an operation.
    """

    def __init__(self, transport: OnvifTransport) -> None:
        self._t = transport
        self._media2_refused: set[str] = set()  # Media2 operations this camera answered "not supported"
        # the PTZ configuration each profile carried in the last GetProfiles (camera.ptz uses it, no GetProfile)
        self._ptz_configs: dict[str, PTZConfiguration] = {}

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return self._t.call("media", operation, **kwargs)

    @property
    def uses_media2(self) -> bool:
        """Whether the camera offers Media2 (read at connect from GetServices)."""
        return "media2" in self._t.xaddrs

    def _v2(self, operation: str, payload: str = "") -> etree._Element | None:
        """The Media2 reply of ``operation``, or None when Media2 is absent or refuses it (then use Media1)."""
        if not self.uses_media2 or operation in self._media2_refused:
            return None
        try:
            return self._t.call_xml("media2", operation, payload)
        except NotSupported:
            self._media2_refused.add(operation)
            return None

    # ---------------------------------------------------------------- profiles
    def profiles(self) -> list[Profile]:
        """Every media profile, flattened, with its 1-based channel (video source) index."""
        return self.profiles_and_encoders()[0]

    def _check_profile_count(self, reply: etree._Element) -> None:
        """Refuse (:class:`LimitExceeded`) a GetProfiles reply listing more than ``max_items`` profiles."""
        count = len(_replies.children(reply, "Profiles"))
        check_count(count, self._t.limits, "profiles", camera=self._t.label, operation="GetProfiles")

    def profiles_and_encoders(self) -> tuple[list[Profile], dict[str, etree._Element]]:
        """:meth:`profiles` and, from the same reply, each encoder configuration as the camera sent it (by token).

        The elements can go to :meth:`write_encoder` later without a second read (fleet provisioning).
        """
        v2 = self._v2("GetProfiles", "<Type>All</Type>")
        if v2 is not None:
            self._check_profile_count(v2)
            self._ptz_configs = self._t.read("GetProfiles", _media2.ptz_configurations, v2)
            return self._t.read("GetProfiles", _media2.profiles, v2), _media2.encoder_elements(v2)
        reply = self._t.call_xml("media", "GetProfiles")
        self._check_profile_count(reply)
        profiles = self._t.read("GetProfiles", _replies.profiles, reply)
        try:
            self._ptz_configs = _replies.ptz_configurations(reply)
        except ValueError:  # odd PTZ limits must not cost the profiles: camera.ptz asks GetProfile instead
            self._ptz_configs = {}
        return profiles, _replies.encoder_elements(reply)

    def known_ptz_configuration(self, profile_token: str) -> PTZConfiguration | None:
        """The PTZ configuration ``profile_token`` carried when the profiles were last read (no request)."""
        return self._ptz_configs.get(profile_token)

    def channels(self) -> list[Channel]:
        """Profiles grouped by video source: a 16-input NVR reads as 16 channels."""
        groups: dict[int, list[Profile]] = {}
        for p in self.profiles():
            groups.setdefault(p.channel, []).append(p)
        return [
            Channel(index=i, video_source_token=ps[0].video_source_token, profiles=ps)
            for i, ps in sorted(groups.items())
        ]

    # ---------------------------------------------------------------- URIs
    def stream_uri(self, profile: ProfileRef, transport: Literal["tcp", "udp"] = "tcp") -> StreamUri:
        """The RTSP URI of ``profile`` (RTP over RTSP/TCP by default, or RTP/UDP).

        The returned ``uri`` is credential-free; ``with_credentials()`` embeds them for the decoder.
        """
        token = _token(profile)
        protocol = {"tcp": "RTSP", "udp": "UDP"}.get(transport)
        if protocol is None:
            raise InvalidArgument(f"transport {transport!r} is not valid", hint="use 'tcp' or 'udp'")
        payload = (
            f"<Protocol>{_media2.STREAM_PROTOCOL[transport]}</Protocol><ProfileToken>{escape(token)}</ProfileToken>"
        )
        v2 = self._v2("GetStreamUri", payload)
        if v2 is not None:
            raw_uri = _replies.text(v2, "Uri")
        else:
            r = self._call(
                "GetStreamUri",
                StreamSetup={"Stream": "RTP-Unicast", "Transport": {"Protocol": protocol}},
                ProfileToken=token,
            )
            raw_uri = getattr(r, "Uri", None)
        uri = self._t.rewrite(raw_uri)
        if not uri:
            raise ProtocolError(
                "the camera returned an empty stream URI (or one that does not parse)",
                camera=self._t.label,
                operation="GetStreamUri",
                hint="the profile may have no encoder; check the profile configuration",
            )
        parts = urlsplit(uri)
        user = unquote(parts.username) if parts.username else self._t.username
        password = unquote(parts.password) if parts.password else self._t._password  # noqa: SLF001
        result = StreamUri(uri=strip_userinfo(uri), transport=transport, profile_token=token)
        result._user, result._password = user, password
        return result

    def snapshot_uri(self, profile: ProfileRef) -> str:
        """The HTTP snapshot URI of ``profile`` (credential-free)."""
        v2 = self._v2("GetSnapshotUri", f"<ProfileToken>{escape(_token(profile))}</ProfileToken>")
        if v2 is not None:
            raw_uri = _replies.text(v2, "Uri")
        else:
            raw_uri = getattr(self._call("GetSnapshotUri", ProfileToken=_token(profile)), "Uri", None)
        uri = self._t.rewrite(raw_uri)
        if not uri:
            raise NotSupported(
                "the camera offers no snapshot URI",
                camera=self._t.label,
                operation="GetSnapshotUri",
                hint="use snapshot from the stream instead",
            )
        return strip_userinfo(uri)

    def snapshot(self, profile: ProfileRef, *, timeout: float | None = None) -> bytes:
        """Fetch a JPEG snapshot over HTTP (Digest or Basic auth as the camera asks)."""
        uri = self.snapshot_uri(profile)
        op = "snapshot"
        status, content = self._t.get(op, uri, timeout=timeout, limit=8 * self._t.limits.max_reply_bytes)
        if status == 401:
            from kedirivms.errors import AuthenticationFailed

            raise AuthenticationFailed(
                "snapshot credentials refused (HTTP 401)",
                camera=self._t.label,
                operation=op,
                hint="check user name and password",
            )
        if status != 200 or not content:
            raise ProtocolError(
                f"snapshot failed with HTTP {status}",
                camera=self._t.label,
                operation=op,
                hint="try snapshot from the stream instead",
            )
        return content

    # ---------------------------------------------------------------- encoders
    def video_encoder_configurations(self) -> list[VideoEncoderConfig]:
        """All video encoder configurations (H.265 ones too when the camera has Media2)."""
        op = "GetVideoEncoderConfigurations"
        v2 = self._v2(op)
        if v2 is not None:
            return [self._t.read(op, _media2.encoder, e) for e in children(v2, "Configurations")]
        reply = self._t.call_xml("media", op)
        return [self._t.read(op, _replies.encoder, e) for e in children(reply, "Configurations")]

    def video_encoder_configuration(self, token: str) -> VideoEncoderConfig:
        """One video encoder configuration by token."""
        element = self.encoder_element(token)
        reader = _media2.encoder if _media2.is_media2_encoder(element) else _replies.encoder
        return self._t.read("GetVideoEncoderConfiguration", reader, element)

    def encoder_element(self, token: str) -> etree._Element:
        """The ``tt:VideoEncoderConfiguration`` of ``token`` as the camera sent it (for :meth:`write_encoder`)."""
        payload = f"<ConfigurationToken>{escape(token)}</ConfigurationToken>"
        v2 = self._v2("GetVideoEncoderConfigurations", payload)
        if v2 is not None:
            found = v2.find("{*}Configurations")
            if found is None:
                raise self._t.unreadable("GetVideoEncoderConfigurations", "the reply holds no configuration")
            return found
        element = self._t.call_xml("media", "GetVideoEncoderConfiguration", payload).find("{*}Configuration")
        if element is None:
            raise self._t.unreadable("GetVideoEncoderConfiguration", "the reply holds no configuration")
        return element

    def video_encoder_options(
        self, config_token: str | None = None, profile_token: str | None = None
    ) -> list[EncoderOptions]:
        """The options (per encoding) that a configuration can take."""
        kwargs = {k: v for k, v in (("ConfigurationToken", config_token), ("ProfileToken", profile_token)) if v}
        payload = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in kwargs.items())
        v2 = self._v2("GetVideoEncoderConfigurationOptions", payload)
        if v2 is not None:
            return self._t.read("GetVideoEncoderConfigurationOptions", _media2.options, v2)
        r = self._call("GetVideoEncoderConfigurationOptions", **kwargs)
        out: list[EncoderOptions] = []
        quality = _range(getattr(r, "QualityRange", None))
        ext = getattr(r, "Extension", None)
        for name, attr in (("H264", "H264"), ("JPEG", "JPEG"), ("MPEG4", "MPEG4")):
            opt = getattr(r, attr, None)
            if opt is None:
                continue
            ext_opt = _extension(ext, attr)
            out.append(
                EncoderOptions(
                    encoding=name,
                    resolutions=[(int(x.Width), int(x.Height)) for x in opt.ResolutionsAvailable or []],
                    fps=_range(getattr(opt, "FrameRateRange", None)),
                    quality=quality,
                    gop=_range(getattr(opt, "GovLengthRange", None)),
                    encoding_interval=_range(getattr(opt, "EncodingIntervalRange", None)),
                    bitrate_kbps=_range(getattr(ext_opt, "BitrateRange", None)) if ext_opt is not None else None,
                    h264_profiles=[str(p) for p in getattr(opt, "H264ProfilesSupported", None) or []],
                    profiles=[str(p) for p in getattr(opt, "H264ProfilesSupported", None) or []],
                )
            )
        return out

    def set_video_encoder(
        self,
        token: str,
        *,
        encoding: str | None = None,
        width: int | None = None,
        height: int | None = None,
        fps: int | None = None,
        bitrate_kbps: int | None = None,
        gop: int | None = None,
        quality: float | None = None,
        profile: str | None = None,
        persist: bool = True,
    ) -> VideoEncoderConfig:
        """Change an encoder configuration after checking every value against the camera's options.

        ``encoding="H265"`` and ``profile`` (``Main``/``Main10`` for H.265, ``Baseline``/``Main``/``High`` for
        H.264) need a camera with Media2 for H.265.

        Raises:
            InvalidArgument: a value outside the options; the message lists the valid ones.
        """
        element = self.encoder_element(token)
        reader = _media2.encoder if _media2.is_media2_encoder(element) else _replies.encoder
        current = self._t.read("GetVideoEncoderConfiguration", reader, element)
        changes = {
            k: v
            for k, v in dict(
                encoding=encoding,
                width=width,
                height=height,
                fps=fps,
                bitrate_kbps=bitrate_kbps,
                gop=gop,
                quality=quality,
                profile=profile,
            ).items()
            if v is not None
        }
        options = {o.encoding: o for o in self.video_encoder_options(config_token=token)}
        check_encoder(current.model_copy(update=changes), options, camera=self._t.label)
        self.write_encoder(element, changes, persist=persist)
        return self.video_encoder_configuration(token)

    def write_encoder(self, current: etree._Element, changes: dict[str, Any], *, persist: bool = True) -> None:
        """SetVideoEncoderConfiguration: ``current`` (from :meth:`encoder_element` or :meth:`profiles_and_encoders`)
        with ``changes`` (:class:`VideoEncoderConfig` field names) written in. Low level: values are not checked
        against the options here (:meth:`set_video_encoder` does that)."""
        if _media2.is_media2_encoder(current):  # Media2 configurations always persist
            self._t.call_xml("media2", "SetVideoEncoderConfiguration", _media2.set_encoder_payload(current, changes))
            return
        raw = self._t.to_zeep("media", f"{{{_TT}}}VideoEncoderConfiguration", current)
        if "encoding" in changes:
            raw.Encoding = changes["encoding"]
        if raw.Resolution is not None:
            raw.Resolution.Width = changes.get("width", raw.Resolution.Width)
            raw.Resolution.Height = changes.get("height", raw.Resolution.Height)
        if "quality" in changes:
            raw.Quality = changes["quality"]
        if raw.RateControl is not None:
            raw.RateControl.FrameRateLimit = changes.get("fps", raw.RateControl.FrameRateLimit)
            raw.RateControl.BitrateLimit = changes.get("bitrate_kbps", raw.RateControl.BitrateLimit)
        if "gop" in changes:
            if raw.H264 is None:
                raw.H264 = {"GovLength": changes["gop"], "H264Profile": changes.get("h264_profile") or "Main"}
            else:
                raw.H264.GovLength = changes["gop"]
        if "profile" in changes and raw.H264 is not None:
            raw.H264.H264Profile = changes["profile"]
        self._call("SetVideoEncoderConfiguration", Configuration=raw, ForcePersistence=persist)


def check_encoder(target: VideoEncoderConfig, options: dict[str, EncoderOptions], *, camera: str | None = None) -> None:
    """Raise :class:`InvalidArgument` listing valid values when ``target`` is outside ``options``."""
    op = "SetVideoEncoderConfiguration"
    opt = options.get(target.encoding)
    if opt is None:
        raise InvalidArgument(
            f"encoding {target.encoding!r} is not offered",
            camera=camera,
            operation=op,
            hint=f"valid encodings: {', '.join(options) or 'none'}",
        )
    if opt.resolutions and (target.width, target.height) not in opt.resolutions:
        valid = ", ".join(f"{w}x{h}" for w, h in opt.resolutions)
        raise InvalidArgument(
            f"resolution {target.width}x{target.height} is not offered for {opt.encoding}",
            camera=camera,
            operation=op,
            hint=f"valid resolutions: {valid}",
        )
    offered = opt.profiles or opt.h264_profiles
    if target.profile and offered and target.profile not in offered:
        raise InvalidArgument(
            f"profile {target.profile} is not offered for {opt.encoding}",
            camera=camera,
            operation=op,
            hint=f"valid profiles: {', '.join(offered)}",
        )
    if opt.fps_supported and target.fps is not None and float(target.fps) not in opt.fps_supported:
        raise InvalidArgument(
            f"fps={target.fps} is not offered for {opt.encoding}",
            camera=camera,
            operation=op,
            hint=f"valid fps: {', '.join(f'{r:g}' for r in opt.fps_supported)}",
        )
    for field, rng in (
        ("fps", opt.fps),
        ("bitrate_kbps", opt.bitrate_kbps),
        ("gop", opt.gop),
        ("quality", opt.quality),
    ):
        value = getattr(target, field)
        if value is not None and rng is not None and value not in rng:
            raise InvalidArgument(
                f"{field}={value} is outside the camera's range",
                camera=camera,
                operation=op,
                hint=f"valid {field}: {rng.min}..{rng.max}",
            )


def _extension(ext: Any, attr: str) -> Any:
    """``Extension.H264`` (H264Options2, holding BitrateRange). zeep leaves it as a raw element under
    ``_value_1`` because the schema puts ``xs:any`` first in that sequence; read the range from it."""
    if ext is None:
        return None
    found = getattr(ext, attr, None)
    if found is not None:
        return found
    for item in getattr(ext, "_value_1", None) or []:
        tag = getattr(item, "tag", "")
        if isinstance(tag, str) and tag.endswith("}" + attr):
            lo = item.findtext(f"{{{_TT}}}BitrateRange/{{{_TT}}}Min")
            hi = item.findtext(f"{{{_TT}}}BitrateRange/{{{_TT}}}Max")
            if lo is not None and hi is not None:
                return SimpleNamespace(BitrateRange=SimpleNamespace(Min=int(lo), Max=int(hi)))
    return None


def _token(profile: ProfileRef) -> str:
    return profile.token if isinstance(profile, Profile) else str(profile)


def _range(r: Any) -> IntRange | None:
    if r is None or getattr(r, "Min", None) is None:
        return None
    return IntRange(min=int(r.Min), max=int(r.Max))
