"""Declarative fleet provisioning: an inventory file (sites, cameras, desired state), ``plan`` and ``apply``.

Example:
    >>> from kedirivms.provision import apply, load_inventory, plan
    >>> inv = load_inventory("inventory.yaml")  # doctest: +SKIP
    >>> print(plan(inv).changes)  # doctest: +SKIP
    >>> report = apply(inv, audit="provision-audit.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

from kedirivms._exports import claim
from kedirivms.provision._apply import ApplyReport, AuditLog, CameraResult, apply
from kedirivms.provision._plan import DEFAULT_CONCURRENCY, CameraPlan, Change, Plan, plan
from kedirivms.provision.bootstrap import bootstrap_inventory, inventory_from_devices
from kedirivms.provision.inventory import (
    CameraTarget,
    LoadedInventory,
    inventory_schema,
    inventory_schema_json,
    load_inventory,
    parse_inventory,
)
from kedirivms.provision.models import (
    CameraEntry,
    Credentials,
    Encoders,
    EncoderSettings,
    ImagingSettings,
    Inventory,
    PresetSpec,
    PTZSettings,
    ScopeSettings,
    SecretRef,
    Settings,
    Site,
    TimeSettings,
    UserSpec,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "ApplyReport",
    "AuditLog",
    "CameraEntry",
    "CameraPlan",
    "CameraResult",
    "CameraTarget",
    "Change",
    "Credentials",
    "EncoderSettings",
    "Encoders",
    "ImagingSettings",
    "Inventory",
    "LoadedInventory",
    "PTZSettings",
    "Plan",
    "PresetSpec",
    "ScopeSettings",
    "SecretRef",
    "Settings",
    "Site",
    "TimeSettings",
    "UserSpec",
    "apply",
    "bootstrap_inventory",
    "inventory_from_devices",
    "inventory_schema",
    "inventory_schema_json",
    "load_inventory",
    "parse_inventory",
    "plan",
]

claim(globals(), __all__)
