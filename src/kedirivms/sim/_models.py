"""Configuration and live-state models of the virtual camera."""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from kedirivms.sim._models_ptz import EventsSpec, ImagingSpec, PTZNodeSpec

__all__ = [
    "AuthMode",
    "CameraState",
    "EncoderOptions",
    "EncoderSpec",
    "FaultKind",
    "NetworkHost",
    "Quirk",
    "UserAccount",
    "VirtualCameraConfig",
]

AuthMode = Literal["username_token", "digest", "basic", "none", "any"]
"""How the SOAP services authenticate: WS-UsernameToken, HTTP Digest, HTTP Basic, nothing, or either of
WS-UsernameToken and HTTP Digest (``any``)."""

FaultKind = Literal["delay", "http500", "malformed", "drop", "hostile"]
"""Injectable faults: sleep before replying, HTTP 500 with a SOAP fault, a truncated 200 reply, a closed socket
without reply, a reply carrying a DTD with entity expansion."""

Quirk = Literal[
    "date_dash",
    "overflow_time",
    "no_wsa_prefix",
    "fault_undeclared_prefix",
    "null_uri",
    "xaddr_other_host",
    "relative_time_ignored",
    "split_reply_nagle",
]
"""Vendor quirks the camera can emit (see ``docs/simulator.md``)."""

UserLevel = Literal["Administrator", "Operator", "User", "Anonymous", "Extended"]


class EncoderSpec(BaseModel):
    """One encoder setting (a profile's video encoder configuration): H.264, or H.265 (seen through Media2).

    Example:
        >>> EncoderSpec(width=1280, height=720, fps=15, bitrate_kbps=2048, gop=30)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int = Field(1920, gt=0, description="Frame width in pixels.")
    height: int = Field(1080, gt=0, description="Frame height in pixels.")
    fps: int = Field(30, gt=0, description="Frame-rate limit in frames per second.")
    bitrate_kbps: int = Field(4096, gt=0, description="Bit-rate limit in kbit/s.")
    gop: int = Field(30, gt=0, description="GOP (GovLength): frames between key frames.")
    quality: float = Field(5.0, ge=0, description="Encoder quality on the options' QualityRange scale.")
    h264_profile: Literal["Baseline", "Main", "Extended", "High"] = Field("Main", description="H.264 profile.")
    encoding: Literal["H264", "H265"] = Field("H264", description="H264, or H265 (described by Media2 only).")
    h265_profile: Literal["Main", "Main10"] = Field("Main", description="H.265 profile (8 or 10 bits).")


H264Profile = Literal["Baseline", "Main", "Extended", "High"]


def _default_h264_profiles() -> list[H264Profile]:
    return ["Baseline", "Main", "High"]


def _default_encodings() -> list[Literal["H264", "H265"]]:
    return ["H264", "H265"]


def _default_h265_profiles() -> list[Literal["Main", "Main10"]]:
    return ["Main", "Main10"]


def _default_resolutions() -> list[tuple[int, int]]:
    return [(1920, 1080), (1280, 720), (704, 576), (640, 480), (640, 360), (320, 240)]


class EncoderOptions(BaseModel):
    """The H.264 ranges the camera offers (GetVideoEncoderConfigurationOptions); settings are checked against them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    resolutions: list[tuple[int, int]] = Field(
        default_factory=_default_resolutions, min_length=1, description="Available (width, height) pairs."
    )
    fps_range: tuple[int, int] = Field((1, 30), description="Inclusive frame-rate range (fps).")
    bitrate_range_kbps: tuple[int, int] = Field((64, 16384), description="Inclusive bit-rate range (kbit/s).")
    gop_range: tuple[int, int] = Field((1, 300), description="Inclusive GovLength range (frames).")
    quality_range: tuple[int, int] = Field((1, 10), description="Inclusive quality range.")
    encoding_interval_range: tuple[int, int] = Field((1, 1), description="Inclusive EncodingInterval range.")
    h264_profiles: list[H264Profile] = Field(
        default_factory=_default_h264_profiles, min_length=1, description="Supported H.264 profiles."
    )
    encodings: list[Literal["H264", "H265"]] = Field(
        default_factory=_default_encodings, min_length=1, description="Encodings offered (H265 via Media2)."
    )
    h265_profiles: list[Literal["Main", "Main10"]] = Field(
        default_factory=_default_h265_profiles, description="Supported H.265 profiles."
    )

    def violations(self, spec: EncoderSpec) -> list[str]:
        """Return what in ``spec`` these options do not allow (empty when valid)."""
        bad: list[str] = []
        if (spec.width, spec.height) not in [tuple(r) for r in self.resolutions]:
            valid = ", ".join(f"{w}x{h}" for w, h in self.resolutions)
            bad.append(f"resolution {spec.width}x{spec.height} not in [{valid}]")
        checks = (
            ("fps", spec.fps, self.fps_range),
            ("bitrate_kbps", spec.bitrate_kbps, self.bitrate_range_kbps),
            ("gop", spec.gop, self.gop_range),
            ("quality", spec.quality, self.quality_range),
        )
        for name, value, (lo, hi) in checks:
            if not lo <= value <= hi:
                bad.append(f"{name} {value} outside [{lo}, {hi}]")
        if spec.encoding not in self.encodings:
            bad.append(f"encoding {spec.encoding} not in {self.encodings}")
        elif spec.encoding == "H264" and spec.h264_profile not in self.h264_profiles:
            bad.append(f"h264_profile {spec.h264_profile} not in {self.h264_profiles}")
        elif spec.encoding == "H265" and spec.h265_profile not in self.h265_profiles:
            bad.append(f"h265_profile {spec.h265_profile} not in {self.h265_profiles}")
        return bad


class VirtualCameraConfig(BaseModel):
    """Everything that makes one virtual camera (or NVR) differ from another.

    Example:
        >>> VirtualCameraConfig(port=0, auth="digest", clock_skew_s=-3.2e8, channels=4)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Loopback address to listen on (127.0.1.x works on Linux).")
    port: int = Field(0, ge=0, le=65535, description="TCP port; 0 picks a free one.")
    username: str = Field("admin", min_length=1, description="The administrator user name.")
    password: SecretStr = Field(SecretStr("admin123"), description="The administrator password.")
    auth: AuthMode = Field("username_token", description="How SOAP requests must authenticate.")
    time_requires_auth: bool = Field(False, description="Refuse GetSystemDateAndTime without credentials.")
    clock_skew_s: float = Field(0.0, description="Camera clock minus UTC, seconds (can be +-10 years).")
    token_window_s: float = Field(300.0, gt=0, description="Allowed |UsernameToken Created - camera clock|, s.")
    advertised_host: str | None = Field(None, description="Host named in XAddrs and URIs (NAT); None = host.")
    advertised_port: int | None = Field(None, ge=1, le=65535, description="Port named in XAddrs; None = port.")
    channels: int = Field(1, ge=1, le=64, description="Video sources; > 1 makes an NVR (main + sub each).")
    ptz: bool | None = Field(None, description="Main profiles carry a PTZConfiguration; None = (channels == 1).")
    media2: bool = Field(
        False, description="Also serve the Media2 service (ver20/media): profiles, URIs and H.264/H.265 encoders."
    )
    ptz_profiles: Literal["main", "all"] = Field(
        "main",
        description="Which profiles of a PTZ channel carry its PTZ configuration: the main one, or main and sub "
        "(one PTZ configuration and node shared by both, as most cameras do).",
    )
    manufacturer: str = Field("Kedirivms", description="GetDeviceInformation Manufacturer.")
    model: str = Field("VirtualCam-1", description="GetDeviceInformation Model.")
    firmware_version: str = Field("1.0.0", description="GetDeviceInformation FirmwareVersion.")
    serial_number: str = Field("KVC-0001", description="GetDeviceInformation SerialNumber.")
    hardware_id: str = Field("KVC-HW1", description="GetDeviceInformation HardwareId.")
    name: str = Field("Virtual Camera", description="The onvif://www.onvif.org/name/ scope.")
    location: str = Field("Kediri", description="The onvif://www.onvif.org/location/ scope.")
    main: EncoderSpec = Field(default_factory=EncoderSpec, description="Initial main-stream encoder settings.")
    sub: EncoderSpec = Field(
        default_factory=lambda: EncoderSpec(width=640, height=360, fps=10, bitrate_kbps=512, gop=10),
        description="Initial sub-stream encoder settings.",
    )
    channel_main: dict[int, EncoderSpec] = Field(
        default_factory=dict,
        description="Main-stream encoder of some channels (an NVR with mixed H.264/H.265 inputs); others use main.",
    )
    encoder_options: EncoderOptions = Field(default_factory=EncoderOptions, description="Encoder ranges offered.")
    rtsp_port: int | None = Field(None, ge=1, le=65535, description="Port named in stream URIs; None = 554.")
    reboot_downtime_s: float = Field(0.0, ge=0, description="After SystemReboot, drop requests this long.")
    quirks: frozenset[Quirk] = Field(frozenset(), description="Vendor quirks to emit.")
    ptz_node: PTZNodeSpec = Field(default_factory=PTZNodeSpec, description="PTZ node ranges, speeds, presets.")
    imaging: ImagingSpec = Field(default_factory=ImagingSpec, description="Imaging options and initial values.")
    events: EventsSpec = Field(default_factory=EventsSpec, description="Pull-point limits, motion schedule.")

    @model_validator(mode="after")
    def _encoders_within_options(self) -> VirtualCameraConfig:
        specs = [("main", self.main), ("sub", self.sub)] + [
            (f"channel {c} main", e) for c, e in self.channel_main.items()
        ]
        for label, spec in specs:
            bad = self.encoder_options.violations(spec)
            if bad:
                raise ValueError(f"{label} encoder outside encoder_options: {'; '.join(bad)}")
        return self

    @property
    def has_ptz(self) -> bool:
        """Whether main profiles carry a PTZConfiguration."""
        return self.channels == 1 if self.ptz is None else self.ptz


class UserAccount(BaseModel):
    """A device user (the password is a :class:`~pydantic.SecretStr`)."""

    username: str
    password: SecretStr = Field(repr=False)
    level: UserLevel = "User"


class NetworkHost(BaseModel):
    """One manual NTP server entry."""

    type: Literal["IPv4", "IPv6", "DNS"] = "DNS"
    address: str


class CameraState(BaseModel):
    """The live, mutable state of a virtual camera (read it from tests; the SOAP handlers change it).

    The SOAP handlers mutate it under :attr:`lock` (a re-entrant lock); hold it to read several fields
    consistently.
    """

    hostname: str
    hostname_from_dhcp: bool = False
    fixed_scopes: list[str]
    scopes: list[str] = Field(description="Configurable scopes (name, location, and what clients add).")
    users: list[UserAccount]
    ntp_from_dhcp: bool = False
    ntp_servers: list[NetworkHost] = Field(default_factory=list)
    date_time_type: Literal["Manual", "NTP"] = "NTP"
    daylight_savings: bool = False
    time_zone: str = "UTC0"
    clock_skew_s: float = 0.0
    encoders: dict[str, EncoderSpec] = Field(description="Video encoder configuration token -> settings.")
    reboots: int = 0
    _lock: threading.RLock = PrivateAttr(default_factory=threading.RLock)

    @property
    def lock(self) -> threading.RLock:
        """The lock guarding every mutation."""
        return self._lock

    def user(self, username: str) -> UserAccount | None:
        """Return the user called ``username``, or None."""
        return next((u for u in self.users if u.username == username), None)
