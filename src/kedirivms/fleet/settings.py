"""Desired-state sections of the fleet file: credentials references, clock, users, encoders, PTZ, imaging.

The fleet file itself (sites, cameras, plugins, recording, sinks) is :mod:`kedirivms.fleet.models`.

Every model forbids unknown keys (a typo is an error, with its line number, not a silently ignored setting) and
is frozen. Passwords are never values of these models: only references (``password_env`` / ``password_file``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Credentials",
    "EncoderSettings",
    "Encoders",
    "ImagingSettings",
    "PresetSpec",
    "PTZSettings",
    "ScopeSettings",
    "Settings",
    "TimeSettings",
    "UserSpec",
]

_RESOLUTION = re.compile(r"^\s*(\d{2,5})\s*[xX]\s*(\d{2,5})\s*$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9{][A-Za-z0-9{}_-]{0,62}$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("name", "site", "counter")
"""Placeholders allowed in ``hostname`` and ``scopes`` strings: ``{name}``, ``{site}``, ``{counter}``."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_placeholders(value: str | None) -> str | None:
    if value is None:
        return None
    for key in _PLACEHOLDER.findall(value):
        if key not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {{{key}}}; use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
    return value


def _unique_names(kind: str, names: list[str]) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{kind} names must be unique: {', '.join(dupes)}")


def _refuse_clear_password(data: object) -> object:
    if isinstance(data, dict) and "password" in data:
        raise ValueError("passwords are never written in the inventory: use password_env: VAR or password_file: PATH")
    return data


class SecretRef(_Model):
    """Where a password comes from: an environment variable or a file (first line); never the password itself."""

    password_env: str | None = Field(
        None, min_length=1, description="Name of the environment variable holding the password."
    )
    password_file: str | None = Field(
        None,
        min_length=1,
        description="File whose first line is the password; relative paths are relative to the inventory file.",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_clear_password(cls, data: object) -> object:
        return _refuse_clear_password(data)

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.password_env is None) == (self.password_file is None):
            raise ValueError("give exactly one of password_env or password_file")
        return self


class Credentials(SecretRef):
    """The ONVIF account kedirivms logs in with."""

    username: str = Field(min_length=1, max_length=64, description="ONVIF user name (an Administrator).")


class ScopeSettings(_Model):
    """The configurable ``onvif://www.onvif.org/name/`` and ``location/`` scopes.

    Defaults (when not given): ``name`` is the camera's ``counter`` or ``name``; ``location`` is the site's
    ``location`` (or the site id). Placeholders ``{name}``, ``{site}``, ``{counter}`` are expanded.
    """

    name: str | None = Field(None, min_length=1, max_length=128, description="The name scope (e.g. the counter).")
    location: str | None = Field(
        None, min_length=1, max_length=256, description="The location scope (e.g. 'kediri/kota/pelayanan')."
    )

    _placeholders = field_validator("name", "location")(_check_placeholders)


class TimeSettings(_Model):
    """Clock: time source, NTP servers and POSIX time zone."""

    ntp_servers: list[str] | None = Field(
        None, description="Manual NTP servers (IPv4, IPv6 or DNS names), in order; [] clears them."
    )
    ntp_from_dhcp: bool | None = Field(None, description="Take NTP servers from DHCP instead of ntp_servers.")
    time_zone: str | None = Field(
        None, min_length=1, max_length=64, description="POSIX TZ string, e.g. 'WIB-7' (UTC+7)."
    )
    source: Literal["NTP", "Manual"] | None = Field(
        None, description="Time source; defaults to 'NTP' when ntp_servers or ntp_from_dhcp is set."
    )

    @field_validator("ntp_servers")
    @classmethod
    def _servers(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for server in value:
                if not server or any(c.isspace() for c in server):
                    raise ValueError(f"NTP server {server!r} is not an address or DNS name")
        return value

    @property
    def effective_source(self) -> str | None:
        """The time source to converge to (``source``, else NTP when NTP servers are managed)."""
        if self.source is not None:
            return self.source
        if self.ntp_servers is not None or self.ntp_from_dhcp:
            return "NTP"
        return None


class UserSpec(_Model):
    """One device user: present with a role, or absent.

    A camera never returns passwords, so a present user is *created* with the referenced password when missing,
    and its password is only re-set when apply runs with ``rotate_passwords`` (``--rotate-passwords``).
    """

    name: str = Field(min_length=1, max_length=32, description="User name.")
    state: Literal["present", "absent"] = Field("present", description="Whether the user must exist.")
    role: Literal["Administrator", "Operator", "User"] = Field("User", description="The ONVIF user level.")
    password_env: str | None = Field(None, min_length=1, description="Environment variable with its password.")
    password_file: str | None = Field(None, min_length=1, description="File whose first line is its password.")

    @model_validator(mode="before")
    @classmethod
    def _no_clear_password(cls, data: object) -> object:
        return _refuse_clear_password(data)

    @model_validator(mode="after")
    def _secret_matches_state(self) -> UserSpec:
        given = (self.password_env is not None) + (self.password_file is not None)
        if self.state == "absent" and given:
            raise ValueError("an absent user takes no password reference")
        if self.state == "present" and given != 1:
            raise ValueError("a present user needs exactly one of password_env or password_file")
        return self

    @property
    def secret(self) -> SecretRef | None:
        """The password reference (None for absent users)."""
        if self.state == "absent":
            return None
        return SecretRef(password_env=self.password_env, password_file=self.password_file)


class EncoderSettings(_Model):
    """Video encoder settings of one stream; unset fields are left as the camera has them."""

    encoding: Literal["H264", "H265", "JPEG", "MPEG4"] | None = Field(
        None, description="Codec (ONVIF names; H265 needs a camera with Media2)."
    )
    profile: Literal["Baseline", "Main", "High", "Main10"] | None = Field(
        None, description="Codec profile: H.264 Baseline/Main/High, H.265 Main/Main10."
    )
    resolution: str | None = Field(None, description="'WIDTHxHEIGHT', e.g. '1920x1080'.")
    fps: int | None = Field(None, ge=1, le=240, description="Frame-rate limit, frames per second.")
    bitrate_kbps: int | None = Field(None, ge=16, le=1_000_000, description="Bit-rate limit, kbit/s.")
    gop: int | None = Field(None, ge=1, le=1000, description="GOP (GovLength): frames between key frames.")
    quality: float | None = Field(None, ge=0, description="Quality on the camera's QualityRange scale.")

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: str | None) -> str | None:
        if value is None:
            return None
        m = _RESOLUTION.match(value)
        if not m:
            raise ValueError(f"resolution {value!r} must look like '1920x1080'")
        return f"{int(m.group(1))}x{int(m.group(2))}"

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) from ``resolution``."""
        if self.resolution is None:
            return None
        w, h = self.resolution.split("x")
        return int(w), int(h)


class Encoders(_Model):
    """Main ("recording") and sub ("analytics") streams of every channel."""

    main: EncoderSettings | None = Field(None, description="Main stream of each channel: what is recorded.")
    sub: EncoderSettings | None = Field(None, description="Sub stream of each channel: what analytics decode.")


class PresetSpec(_Model):
    """A PTZ preset that must exist, by name, optionally at a position (ONVIF generic spaces)."""

    name: str = Field(min_length=1, max_length=64, description="Preset name (unique per camera).")
    pan: float | None = Field(None, ge=-1, le=1, description="Pan position, -1..1.")
    tilt: float | None = Field(None, ge=-1, le=1, description="Tilt position, -1..1.")
    zoom: float | None = Field(None, ge=0, le=1, description="Zoom position, 0..1.")


class PTZSettings(_Model):
    """PTZ state: named presets."""

    presets: list[PresetSpec] | None = Field(None, description="Presets that must exist (others are kept).")

    @field_validator("presets")
    @classmethod
    def _unique(cls, value: list[PresetSpec] | None) -> list[PresetSpec] | None:
        _unique_names("preset", [p.name for p in value or []])
        return value


class ImagingSettings(_Model):
    """Imaging settings of every video source; unset fields are left alone."""

    brightness: float | None = Field(None, description="Brightness on the camera's range.")
    contrast: float | None = Field(None, description="Contrast on the camera's range.")
    saturation: float | None = Field(None, description="Colour saturation on the camera's range.")
    sharpness: float | None = Field(None, description="Sharpness on the camera's range.")
    ir_cut_filter: Literal["ON", "OFF", "AUTO"] | None = Field(None, description="IR-cut filter mode.")
    exposure_mode: Literal["AUTO", "MANUAL"] | None = Field(None, description="Exposure mode.")
    focus_mode: Literal["AUTO", "MANUAL"] | None = Field(None, description="Auto-focus mode.")


class Settings(_Model):
    """Connection settings and desired state; used for inventory defaults, site defaults and cameras.

    Cameras inherit inventory ``defaults``, then their site's ``defaults``, then their own values: nested
    sections merge key by key, ``users`` and ``ptz.presets`` merge by name, other lists are replaced.
    """

    credentials: Credentials | None = Field(None, description="Login account (password by reference).")
    auth: Literal["auto", "username_token", "digest", "basic", "none"] | None = Field(
        None, description="Authentication mode (default auto: WS-UsernameToken, then HTTP Digest/Basic)."
    )
    timeout: float | None = Field(None, gt=0, le=120, description="Read time-out per request, seconds (default 5).")
    hostname: str | None = Field(None, description="Device hostname; placeholders {name}, {site}, {counter}.")
    scopes: ScopeSettings | None = Field(None, description="Name and location scopes.")
    time: TimeSettings | None = Field(None, description="NTP servers, time zone and time source.")
    users: list[UserSpec] | None = Field(None, description="Users present or absent (others are left alone).")
    encoders: Encoders | None = Field(None, description="Main and sub stream encoder settings.")
    ptz: PTZSettings | None = Field(None, description="PTZ presets by name.")
    imaging: ImagingSettings | None = Field(None, description="Imaging settings.")

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str | None) -> str | None:
        if value is not None and not _HOSTNAME.match(value):
            raise ValueError(f"hostname {value!r}: 1-63 letters, digits or '-' (placeholders allowed)")
        return _check_placeholders(value)

    @field_validator("users")
    @classmethod
    def _unique_users(cls, value: list[UserSpec] | None) -> list[UserSpec] | None:
        _unique_names("user", [u.name for u in value or []])
        return value
