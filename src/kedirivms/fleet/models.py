"""The fleet file model: sites, cameras (address, credentials by reference, desired settings), zones, plugins,
recording and sinks. One model drives ``plan``, ``apply``, ``run``, ``worker`` and ``centre``.

Every model forbids unknown keys (a typo is an error with its line number) and is frozen. Passwords are never
values of these models: only references (``password_env`` / ``password_file``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from kedirivms.analytics.runner import PluginSettings
from kedirivms.analytics.zones import Zone
from kedirivms.fleet.settings import Settings, _Model, _unique_names
from kedirivms.record import RetentionPolicy
from kedirivms.sinks import JsonlSinkConfig, SinkConfig

__all__ = [
    "CameraEntry",
    "CentreSettings",
    "Fleet",
    "FleetSettings",
    "RecordingSettings",
    "Site",
    "FLEET_VERSION",
    "NAME_PATTERN",
    "is_password_hash",
]

FLEET_VERSION: Literal[2] = 2
"""The current fleet file format (``version: 2``); ``version: 1`` inventories are read as they are."""

NAME_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$"
"""Camera names and site ids: letters, digits, ``_ . -`` (they name folders, MQTT topics and NATS subjects)."""


class FleetSettings(Settings):
    """Settings a camera inherits from the fleet's and its site's ``defaults``: connection, desired state, and
    what runs on it (plugins, recording, camera events, RTSP transport)."""

    plugins: list[PluginSettings] | None = Field(None, description="Analytics plugins (the list is replaced).")
    record: bool | None = Field(None, description="Record the recording profile (default true; needs 'recording').")
    events: bool | None = Field(None, description="Subscribe to ONVIF events and forward them (default true).")
    transport: Literal["tcp", "udp"] | None = Field(None, description="RTSP lower transport (default tcp).")


class CameraEntry(FleetSettings):
    """One camera (or NVR channel) of a site: where it is, its overrides, and what runs on it."""

    name: str = Field(
        pattern=NAME_PATTERN, description="Unique camera id in the fleet (events, folders, --only, subjects)."
    )
    address: str = Field(min_length=1, description="host, host:port or the device-service URL.")
    counter: str | None = Field(None, max_length=128, description="The service counter it watches (free text).")
    channel: int = Field(1, ge=1, description="Video source (channel) on an NVR.")
    analytics_profile: str | None = Field(None, description="Profile token for analytics (default: smallest).")
    recording_profile: str | None = Field(None, description="Profile token to record (default: largest).")
    zones: list[Zone] = Field(default_factory=list, description="Zones in normalised coordinates.")

    @field_validator("zones")
    @classmethod
    def _unique_zones(cls, value: list[Zone]) -> list[Zone]:
        _unique_names("zone", [z.name for z in value])
        return value


class Site(_Model):
    """A site: its location, shared settings, its cameras and (optionally) the workers that run them."""

    location: str | None = Field(None, max_length=256, description="Location scope of its cameras (default: id).")
    defaults: FleetSettings | None = Field(None, description="Settings every camera of the site inherits.")
    cameras: list[CameraEntry] = Field(default_factory=list, description="The site's cameras.")
    workers: list[str] | None = Field(
        None,
        description="Pin the site to these worker ids (`kedirivms worker --id`): only they run its cameras "
        "(a village box records its own counters). Default: any worker.",
    )


class RecordingSettings(_Model):
    """Where and how ``run`` and the workers record."""

    root: str = Field(description="Recording root folder (relative paths: relative to the fleet file).")
    segment_seconds: float = Field(60.0, ge=1, le=3600, description="Segment length, cut at keyframes.")
    retention: RetentionPolicy | None = Field(None, description="max_age, max_bytes, min_free_bytes.")


_HASH = re.compile(r"^scrypt\$\d{1,8}\$\d{1,3}\$\d{1,3}\$[0-9a-f]{16,128}\$[0-9a-f]{32,256}$")
_USER = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def is_password_hash(value: object) -> bool:
    """Whether ``value`` is a ``scrypt$N$r$p$salt$hash`` string (``kedirivms centre-hash``), not a password."""
    return isinstance(value, str) and bool(_HASH.match(value))


class CentreSettings(_Model):
    """The command centre's page: who may log in (``kedirivms centre --fleet`` and ``kedirivms run --http``)."""

    users: str | dict[str, str] | None = Field(
        None,
        description="Operators who may log in to the page: a users file (relative paths: relative to the fleet "
        "file) or inline `name: scrypt hash` pairs from `kedirivms centre-hash NAME`. Never a password.",
    )

    @field_validator("users")
    @classmethod
    def _hashes_only(cls, value: str | dict[str, str] | None) -> str | dict[str, str] | None:
        if isinstance(value, str) and not value.strip():
            raise ValueError("name a users file, or give name: hash pairs")
        if isinstance(value, dict):
            if not value:
                raise ValueError("no users: give name: hash pairs (or leave 'users' out)")
            for name, stored in value.items():
                if not _USER.match(name):
                    raise ValueError(f"user name {name[:64]!r}: letters, digits, '_', '.', '@', '-' (1-64)")
                if not is_password_hash(stored):  # the value is never echoed: it might be a clear password
                    raise ValueError(f"user {name!r} needs a hash from `kedirivms centre-hash {name}`, not a password")
        return value


def _default_sinks() -> list[SinkConfig]:
    return [JsonlSinkConfig(path=Path("events.jsonl"))]


class Fleet(_Model):
    """A fleet file: version, fleet-wide defaults, sites with their cameras, recording and sinks."""

    version: Literal[1, 2] = Field(FLEET_VERSION, description="Fleet file format version (2; 1 is read as is).")
    defaults: FleetSettings | None = Field(None, description="Settings every camera inherits.")
    sites: dict[str, Site] = Field(default_factory=dict, description="Sites by id.")
    sinks: list[SinkConfig] = Field(
        default_factory=_default_sinks,
        description="Where `run` sends events (default: events.jsonl beside the fleet file); workers publish "
        "to JetStream instead.",
    )
    recording: RecordingSettings | None = Field(None, description="Recording settings; None records nothing.")
    centre: CentreSettings | None = Field(None, description="The centre's page: its users (logins).")

    @field_validator("sites")
    @classmethod
    def _site_ids(cls, value: dict[str, Site]) -> dict[str, Site]:
        import re

        for site_id in value:
            if not re.match(NAME_PATTERN, site_id):
                raise ValueError(f"site id {site_id!r}: letters, digits, '_', '.', '-' only (it names subjects)")
        return value
