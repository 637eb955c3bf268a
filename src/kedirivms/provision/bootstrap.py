"""Bootstrap: write an inventory skeleton from WS-Discovery and each device's information."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from kedirivms.discovery import DiscoveredDevice, discover
from kedirivms.errors import ConfigError, KedirivmsError
from kedirivms.fleet import parse_fleet, resolve_secret
from kedirivms.fleet.settings import SecretRef
from kedirivms.onvif import ConnectResult, Timeouts, connect_cameras

__all__ = ["bootstrap_inventory", "inventory_from_devices"]

_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:48]


def _read_device(result: ConnectResult) -> dict[str, str]:
    """Manufacturer, model, serial, firmware and hostname of one connected device (closed after); the error's
    class name when it could not be connected or read."""
    if result.camera is None:
        return {"error": type(result.error).__name__}
    out: dict[str, str] = {}
    try:
        with result.camera as cam:
            info = cam.device.information()
            out = {
                "model": f"{info.manufacturer} {info.model}".strip(),
                "serial": info.serial_number,
                "firmware": info.firmware_version,
            }
            out["hostname"] = cam.device.hostname()
            # the device's own scopes are current; a discovery reply may predate the last change
            for kind in ("name", "location"):
                values = cam.device.scope_values(kind)
                if len(values) == 1:
                    out[f"scope_{kind}"] = values[0]
    except KedirivmsError as exc:
        out["error"] = type(exc).__name__
    return out


def inventory_from_devices(
    devices: Sequence[DiscoveredDevice],
    *,
    site: str = "discovered",
    username: str = "admin",
    password_env: str = "KEDIRIVMS_PASSWORD",
    details: dict[str, dict[str, str]] | None = None,
) -> str:
    """Render an inventory skeleton (YAML text) for ``devices``.

    Each camera gets a unique name (from its name scope, else hostname, else address), its device-service
    address, and as ``counter``/``hostname``/``scopes`` what it has now, so that a plan of the skeleton is in
    sync; edit the desired state from there.

    Args:
        devices: from :func:`kedirivms.discover`.
        site: the site id to put them under.
        username: the login user written in ``defaults.credentials``.
        password_env: the environment variable named as its password reference.
        details: per device-service address, the output of the device read (model, serial, hostname).
    """
    details = details or {}
    names = {d.address: details.get(d.device_service_url or d.address, {}).get("scope_name", d.name) for d in devices}
    where = {
        d.address: details.get(d.device_service_url or d.address, {}).get("scope_location", d.location) for d in devices
    }
    locations = {loc for loc in where.values() if loc}
    shared_location = locations.pop() if len(locations) == 1 else None
    used: set[str] = set()
    lines = [
        "# kedirivms fleet file skeleton, written by `kedirivms inventory discover`.",
        "# Passwords are references: export the variable below (or use password_file:) before plan/apply.",
        "# Schema for editors: `kedirivms inventory schema -o fleet.schema.json`.",
        "version: 2",
        "defaults:",
        "  credentials:",
        f"    username: {_scalar(username)}",
        f"    password_env: {_scalar(password_env)}",
        "sites:",
        f"  {_scalar(site)}:",
    ]
    if shared_location:
        lines.append(f"    location: {_scalar(shared_location)}")
    lines.append("    cameras:" if devices else "    cameras: []")
    for dev in devices:
        address = dev.device_service_url or dev.address
        info = details.get(address, {})
        scope_name, location = names[dev.address], where[dev.address]
        base = _slug(scope_name or info.get("hostname") or "") or "cam-" + _slug(dev.address)
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        entry: dict[str, Any] = {"name": name, "address": address}
        if scope_name:
            entry["counter"] = scope_name
        if info.get("hostname"):
            entry["hostname"] = info["hostname"]
        if location and location != shared_location:
            entry["scopes"] = {"location": location}
        note = ", ".join(f"{k} {v}" for k, v in info.items() if k in ("model", "serial", "firmware", "error") and v)
        lines.append(f"      # found by {dev.source} from {dev.address}" + (f"; {note}" if note else ""))
        body = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=1000).rstrip("\n")
        lines.extend("      " + line for line in body.splitlines())
    text = "\n".join(lines) + "\n"
    parse_fleet(text, "<skeleton>")  # the skeleton must always be a valid inventory
    return text


def _scalar(value: str) -> str:
    return yaml.safe_dump(value, default_style=None).removesuffix("\n...\n").strip()


def bootstrap_inventory(
    ranges: Sequence[str],
    *,
    site: str = "discovered",
    username: str = "admin",
    password_env: str = "KEDIRIVMS_PASSWORD",
    password_file: str | os.PathLike[str] | None = None,
    timeout: float = 1.0,
    read_details: bool = True,
    concurrency: int = 16,
    output: str | os.PathLike[str] | None = None,
) -> str:
    """Sweep ``ranges`` by unicast WS-Discovery and write an inventory skeleton of what answers.

    With ``read_details`` each device is also asked (with ``username`` and the password found in
    ``$password_env`` or ``password_file``) for its model, serial number and hostname.

    Args:
        ranges: CIDRs, a-b ranges or addresses, as :func:`kedirivms.discover` takes them.
        site: site id for the cameras.
        username: the login user for the reads and for ``defaults.credentials``.
        password_env: the environment variable holding its password (also written as the reference).
        password_file: read the password from this file instead (not written into the skeleton).
        timeout: per-address discovery reply window and per-request read time-out, seconds.
        read_details: read device information and hostname of each device.
        concurrency: devices read at once.
        output: file to write the skeleton to (refuses to overwrite an existing file).

    Returns:
        The inventory YAML text.

    Raises:
        InvalidArgument: bad ranges.
        ConfigError: ``output`` exists or cannot be written.
        DiscoveryError: the sweep could not run.
    """
    if output is not None and Path(output).exists():
        raise ConfigError(f"{output} exists; not overwriting it", hint="pick another -o or remove the file")
    devices = discover(ranges=list(ranges), timeout=timeout)
    details: dict[str, dict[str, str]] = {}
    if read_details and devices:
        password = os.environ.get(password_env)
        if password_file is not None:
            password = resolve_secret(SecretRef(password_file=os.fspath(password_file)), Path.cwd())
        addresses = [d.device_service_url or d.address for d in devices]
        read_t = max(timeout, 2.0)
        # each device is read on the thread that connected it, as soon as it is connected (within the bound)
        reads: dict[str, dict[str, str]] = {}
        connect_cameras(
            addresses,
            concurrency=concurrency,
            on_result=lambda r: reads.__setitem__(r.target, _read_device(r)),
            username=username,
            password=password,
            timeout=Timeouts(connect=min(3.0, read_t), read=read_t),
        )
        details = {a: reads[a] for a in addresses}
    text = inventory_from_devices(devices, site=site, username=username, password_env=password_env, details=details)
    if output is not None:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write {output}: {exc.strerror}") from None
    return text
