"""The fleet file: one validated model of sites and cameras that drives ``plan``, ``apply``, ``run``, ``worker``
and ``centre``.

Example:
    >>> from kedirivms.fleet import load_fleet
    >>> fleet = load_fleet("examples/fleet.yaml")  # doctest: +SKIP
    >>> [c.name for c in fleet.cameras()]  # doctest: +SKIP
"""

from __future__ import annotations

from kedirivms._exports import claim
from kedirivms.fleet._load import (
    CameraTarget,
    LoadedFleet,
    fleet_schema,
    fleet_schema_json,
    load_fleet,
    parse_fleet,
    resolve_secret,
)
from kedirivms.fleet.models import FLEET_VERSION, CameraEntry, Fleet, FleetSettings, RecordingSettings, Site

__all__ = [
    "FLEET_VERSION",
    "CameraEntry",
    "CameraTarget",
    "Fleet",
    "FleetSettings",
    "LoadedFleet",
    "RecordingSettings",
    "Site",
    "fleet_schema",
    "fleet_schema_json",
    "load_fleet",
    "parse_fleet",
    "resolve_secret",
]

claim(globals(), [n for n in __all__ if n != "FLEET_VERSION"])
