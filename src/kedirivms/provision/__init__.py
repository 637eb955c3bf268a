"""Declarative fleet provisioning: ``plan`` and ``apply`` converge cameras to the fleet file's desired state.

The fleet file itself is :mod:`kedirivms.fleet` (:func:`~kedirivms.fleet.load_fleet`).

Example:
    >>> from kedirivms.fleet import load_fleet
    >>> from kedirivms.provision import apply, plan
    >>> inv = load_fleet("inventory.yaml")  # doctest: +SKIP
    >>> print(plan(inv).changes)  # doctest: +SKIP
    >>> report = apply(inv, audit="provision-audit.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

from kedirivms._exports import claim
from kedirivms.fleet.settings import (
    Credentials,
    Encoders,
    EncoderSettings,
    ImagingSettings,
    PresetSpec,
    PTZSettings,
    ScopeSettings,
    SecretRef,
    Settings,
    TimeSettings,
    UserSpec,
)
from kedirivms.provision._apply import ApplyReport, AuditLog, CameraResult, apply
from kedirivms.provision._plan import DEFAULT_CONCURRENCY, CameraPlan, Change, Plan, plan
from kedirivms.provision.bootstrap import bootstrap_inventory, inventory_from_devices

__all__ = [
    "DEFAULT_CONCURRENCY",
    "ApplyReport",
    "AuditLog",
    "CameraPlan",
    "CameraResult",
    "Change",
    "Credentials",
    "EncoderSettings",
    "Encoders",
    "ImagingSettings",
    "PTZSettings",
    "Plan",
    "PresetSpec",
    "ScopeSettings",
    "SecretRef",
    "Settings",
    "TimeSettings",
    "UserSpec",
    "apply",
    "bootstrap_inventory",
    "inventory_from_devices",
    "plan",
]

claim(globals(), __all__)
