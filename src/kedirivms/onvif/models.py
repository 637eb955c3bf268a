"""Typed replies of the ONVIF device and media services (pydantic v2, vendor extras ignored)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from kedirivms._redact import redact_url


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Timeouts(BaseModel):
    """Network time-outs of one camera, in seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connect: float = Field(3.0, gt=0, description="TCP connect time-out per request (s).")
    read: float = Field(10.0, gt=0, description="Time-out waiting for each reply (s).")
    request: float | None = Field(
        None,
        gt=0,
        description="Deadline of a whole request: connect, headers and body (s); None = connect + read.",
    )


DEFAULT_MAX_REPLY_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_ITEMS = 256


class Limits(BaseModel):
    """What one camera's replies may cost us; exceeding one raises :class:`~kedirivms.errors.LimitExceeded`.

    Example:
        >>> Camera("10.0.0.5", limits=Limits(max_reply_bytes=8 * 1024 * 1024))  # doctest: +SKIP
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_reply_bytes: int = Field(
        DEFAULT_MAX_REPLY_BYTES,
        ge=4096,
        description="Bytes of one SOAP/HTTP reply, on the wire and once decompressed (snapshots get 8x).",
    )
    max_items: int = Field(
        DEFAULT_MAX_ITEMS,
        ge=1,
        description="Profiles, services or other items acted on from one reply (e.g. GetStreamUri calls).",
    )


class DeviceInfo(_Reply):
    """GetDeviceInformation."""

    manufacturer: str = ""
    model: str = ""
    firmware_version: str = ""
    serial_number: str = ""
    hardware_id: str = ""


class SystemDateTime(_Reply):
    """GetSystemDateAndTime, with the offset of the camera clock to ours."""

    date_time_type: str = Field("Manual", description="'Manual' or 'NTP'.")
    daylight_savings: bool = False
    time_zone: str | None = Field(None, description="POSIX TZ string, e.g. 'WIB-7'.")
    utc_time: datetime | None = None
    local_time: datetime | None = None
    clock_offset_s: float = Field(0.0, description="Camera UTC minus our UTC, in seconds.")


class NTPSettings(_Reply):
    """GetNTP."""

    from_dhcp: bool = False
    servers: list[str] = Field(default_factory=list)


class Scope(_Reply):
    """A device scope URI (``onvif://www.onvif.org/name/Counter-1``)."""

    uri: str
    fixed: bool = False


class User(_Reply):
    """A device user (never with a password)."""

    username: str
    user_level: str = Field(description="'Administrator', 'Operator', 'User' or 'Anonymous'.")


class NetworkInterface(_Reply):
    """GetNetworkInterfaces (read-only summary)."""

    token: str
    name: str | None = None
    enabled: bool = True
    mac: str | None = None
    mtu: int | None = None
    dhcp: bool = False
    ipv4_addresses: list[str] = Field(default_factory=list, description="'address/prefix' strings.")


class VideoEncoderConfig(_Reply):
    """A video encoder configuration (``tt:VideoEncoderConfiguration``)."""

    token: str
    name: str = ""
    use_count: int = 0
    encoding: str = Field(description="'H264', 'H265' (Media2 only), 'JPEG' or 'MPEG4'.")
    width: int
    height: int
    quality: float = 0.0
    fps: int | None = Field(None, description="FrameRateLimit.")
    bitrate_kbps: int | None = Field(None, description="BitrateLimit in kbit/s.")
    encoding_interval: int | None = None
    gop: int | None = Field(None, description="GovLength (frames between keyframes).")
    h264_profile: str | None = None
    profile: str | None = Field(None, description="Codec profile: H.264 Baseline/Main/High, H.265 Main/Main10.")
    constant_bitrate: bool | None = Field(None, description="Media2 RateControl ConstantBitRate.")


class IntRange(_Reply):
    min: int
    max: int

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (int, float)) and self.min <= value <= self.max


class EncoderOptions(_Reply):
    """GetVideoEncoderConfigurationOptions for one encoding."""

    encoding: str
    resolutions: list[tuple[int, int]] = Field(default_factory=list)
    fps: IntRange | None = None
    quality: IntRange | None = None
    gop: IntRange | None = None
    bitrate_kbps: IntRange | None = None
    encoding_interval: IntRange | None = None
    h264_profiles: list[str] = Field(default_factory=list)
    profiles: list[str] = Field(default_factory=list, description="Codec profiles offered (Main, Main10, High...).")
    fps_supported: list[float] = Field(default_factory=list, description="Media2: the frame rates offered.")


class Profile(_Reply):
    """A media profile, flattened: its video source/channel and its encoder settings."""

    token: str
    name: str = ""
    fixed: bool = False
    video_source_token: str | None = None
    channel: int = Field(1, description="1-based channel (video source) index; NVRs have many.")
    encoder_token: str | None = None
    encoding: str | None = Field(None, description="H264, H265, JPEG... (H265 is described by Media2 only).")
    encoder_profile: str | None = Field(None, description="Codec profile: Main, Main10, High...")
    width: int | None = None
    height: int | None = None
    fps: int | None = None
    bitrate_kbps: int | None = None
    gop: int | None = None
    quality: float | None = None
    ptz_configured: bool = False
    ptz_configuration_token: str | None = Field(None, description="Token of the profile's PTZ configuration.")
    ptz_node_token: str | None = Field(
        None, description="The PTZ node it moves; profiles sharing a node share its presets and position."
    )
    stream_uri: str | None = Field(None, description="RTSP URI without credentials, when requested.")


class Channel(_Reply):
    """One video source with its profiles (an NVR with 16 inputs has 16 channels)."""

    index: int
    video_source_token: str | None
    profiles: list[Profile]


class StreamUri(_Reply):
    """A stream URI. ``uri`` never holds credentials; :meth:`with_credentials` is for the decoder only."""

    uri: str
    transport: Literal["tcp", "udp", "http"] = "tcp"
    profile_token: str = ""
    _user: str | None = PrivateAttr(default=None)
    _password: str | None = PrivateAttr(default=None)

    def with_credentials(self) -> str:
        """The URI with ``user:password@`` embedded (give it to the decoder; never print or log it)."""
        if not self._user:
            return self.uri
        from urllib.parse import quote, urlsplit, urlunsplit

        parts = urlsplit(self.uri)
        userinfo = quote(self._user, safe="") + (":" + quote(self._password or "", safe="") if self._password else "")
        return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment))

    def __str__(self) -> str:
        return redact_url(self.uri)


class Services(_Reply):
    """Which services the camera offers and where (after the address rewrite)."""

    xaddrs: dict[str, str] = Field(default_factory=dict)
    source: Literal["GetServices", "GetCapabilities", "default"] = "GetServices"
