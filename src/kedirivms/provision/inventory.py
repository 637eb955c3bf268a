"""Loading an inventory file, resolving each camera's effective settings, secrets and the JSON Schema."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kedirivms.errors import ConfigError
from kedirivms.provision._yaml import Marks, load_yaml
from kedirivms.provision.models import (
    PLACEHOLDERS,
    Credentials,
    Encoders,
    ImagingSettings,
    Inventory,
    PTZSettings,
    ScopeSettings,
    SecretRef,
    Settings,
    TimeSettings,
    UserSpec,
)

__all__ = [
    "CameraTarget",
    "LoadedInventory",
    "inventory_schema",
    "load_inventory",
    "parse_inventory",
    "resolve_secret",
]

DEFAULT_TIMEOUT = 5.0
_KEYED_LISTS = {("users",): "name", ("ptz", "presets"): "name"}


class CameraTarget(BaseModel):
    """One camera's effective settings after defaults, site defaults and overrides are merged.

    Placeholders are expanded and the scopes defaulted; passwords are still references.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Camera id in the inventory.")
    site: str = Field(description="Site id.")
    address: str = Field(description="host, host:port or device-service URL.")
    counter: str | None = Field(None, description="The counter it watches.")
    source: str = Field("", description="Where the camera is defined: 'file:line:column'.")
    credentials: Credentials | None = Field(None, description="Login account reference.")
    auth: str = Field("auto", description="Authentication mode.")
    timeout: float = Field(DEFAULT_TIMEOUT, description="Read time-out per request, seconds.")
    hostname: str | None = None
    scopes: ScopeSettings = Field(default_factory=ScopeSettings)
    time: TimeSettings | None = None
    users: list[UserSpec] | None = None
    encoders: Encoders | None = None
    ptz: PTZSettings | None = None
    imaging: ImagingSettings | None = None


class LoadedInventory:
    """A validated inventory with where it came from (for relative secret files and line numbers).

    Attributes:
        model: the validated :class:`Inventory`.
        base_dir: directory that relative ``password_file`` paths are relative to.
        marks: positions of every key and value in the source file.
    """

    def __init__(self, model: Inventory, base_dir: Path, marks: Marks | None = None) -> None:
        self.model = model
        self.base_dir = base_dir
        self.marks = marks or Marks("<inventory>")
        self._targets = self._resolve()

    def __repr__(self) -> str:
        return f"<LoadedInventory {self.marks.source} sites={len(self.model.sites)} cameras={len(self._targets)}>"

    @property
    def source(self) -> str:
        """The file name (or ``<inventory>``)."""
        return self.marks.source

    def cameras(self, only: Sequence[str] | None = None) -> list[CameraTarget]:
        """The cameras to act on: all, or those whose name or site is in ``only``.

        Raises:
            ConfigError: a name in ``only`` is neither a camera nor a site.
        """
        if not only:
            return list(self._targets)
        names = {t.name for t in self._targets} | set(self.model.sites)
        unknown = [o for o in only if o not in names]
        if unknown:
            raise ConfigError(
                f"--only {', '.join(unknown)}: no such camera or site in {self.source}",
                hint=f"sites: {', '.join(sorted(self.model.sites)) or 'none'}",
            )
        wanted = set(only)
        return [t for t in self._targets if t.name in wanted or t.site in wanted]

    def _resolve(self) -> list[CameraTarget]:
        out: list[CameraTarget] = []
        seen: dict[str, str] = {}
        for site_id, site in self.model.sites.items():
            for i, cam in enumerate(site.cameras):
                path = ("sites", site_id, "cameras", i)
                where = self.marks.at(path)
                if cam.name in seen:
                    here = self.marks.at((*path, "name"))
                    raise ConfigError(
                        f"{here}: camera name {cam.name!r} is already used at {seen[cam.name]}",
                        hint="camera names must be unique across the inventory",
                    )
                seen[cam.name] = where
                merged = _merge_settings([self.model.defaults, site.defaults, cam])
                out.append(_target(site_id, site.location, cam.name, cam.address, cam.counter, where, merged))
        return out


def _target(
    site_id: str,
    location: str | None,
    name: str,
    address: str,
    counter: str | None,
    where: str,
    s: Settings,
) -> CameraTarget:
    values = {"name": name, "site": site_id, "counter": counter or name}
    scopes = s.scopes or ScopeSettings()
    scope_name = _expand(scopes.name, values) or counter or name
    scope_location = _expand(scopes.location, values) or location or site_id
    return CameraTarget(
        name=name,
        site=site_id,
        address=address,
        counter=counter,
        source=where,
        credentials=s.credentials,
        auth=s.auth or "auto",
        timeout=s.timeout or DEFAULT_TIMEOUT,
        hostname=_expand(s.hostname, values),
        scopes=ScopeSettings(name=scope_name, location=scope_location),
        time=s.time,
        users=s.users,
        encoders=s.encoders,
        ptz=s.ptz,
        imaging=s.imaging,
    )


def _expand(text: str | None, values: dict[str, str]) -> str | None:
    if text is None:
        return None
    out = text
    for key in PLACEHOLDERS:
        out = out.replace("{" + key + "}", values[key])
    return out


def _merge_settings(layers: Iterable[Settings | None]) -> Settings:
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer is None:
            continue
        data = layer.model_dump(exclude_unset=True, include=set(Settings.model_fields))
        merged = _merge(merged, data, ())
    return Settings.model_validate(merged)


def _merge(base: dict[str, Any], over: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        here = (*path, key)
        old = out.get(key)
        if here in _KEYED_LISTS and isinstance(old, list) and isinstance(value, list):
            ident = _KEYED_LISTS[here]
            by_id = {item[ident]: item for item in old}
            for item in value:
                by_id[item[ident]] = item
            out[key] = list(by_id.values())
        elif isinstance(old, dict) and isinstance(value, dict):
            out[key] = _merge(old, value, here)
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------------------------------------ loading
def parse_inventory(text: str, source: str = "<inventory>", base_dir: Path | None = None) -> LoadedInventory:
    """Validate inventory YAML text.

    Top-level keys starting with ``x-`` are ignored (a place for YAML anchors).

    Raises:
        ConfigError: syntax or validation errors, each as ``source:line:column: path: message``.
    """
    data, marks = load_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: an inventory is a mapping with 'sites' (and optional 'defaults')")
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    try:
        model = Inventory.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_render_errors(exc, marks), hint="see docs/provisioning.md for the format") from None
    return LoadedInventory(model, base_dir or Path.cwd(), marks)


def load_inventory(path: str | os.PathLike[str]) -> LoadedInventory:
    """Read and validate an inventory file (YAML, or JSON which is YAML too).

    Args:
        path: the inventory file.

    Returns:
        The validated inventory; ``cameras()`` lists each camera's effective settings.

    Raises:
        ConfigError: unreadable file, YAML syntax error or invalid content; messages carry line numbers and never
            a password.

    Example:
        >>> inv = load_inventory("examples/inventory.yaml")  # doctest: +SKIP
        >>> [c.name for c in inv.cameras(only=["kota"])]  # doctest: +SKIP
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read inventory {p}: {exc.strerror}", hint="check the path") from None
    except UnicodeDecodeError:
        raise ConfigError(f"inventory {p} is not UTF-8 text") from None
    return parse_inventory(text, str(p), p.resolve().parent)


def _render_errors(exc: ValidationError, marks: Marks) -> str:
    rows: list[tuple[tuple[int, int], str]] = []
    for err in exc.errors(include_input=False, include_url=False):
        # pydantic names union members / validators in loc for some errors ("function-after[...]"): drop them
        path = tuple(p for p in err["loc"] if isinstance(p, int) or "[" not in p)
        key = err["type"] == "extra_forbidden"
        mark = marks.find(path, key=key)
        dotted = ".".join(str(p) for p in path) or "(top)"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if key:
            msg = "unknown key (check the spelling)"
        rows.append(((mark.line, mark.column) if mark else (0, 0), f"  {marks.at(path, key=key)}: {dotted}: {msg}"))
    rows.sort(key=lambda r: r[0])
    return "\n".join([f"{marks.source}: {len(rows)} error(s) in the inventory", *(r[1] for r in rows)])


# ------------------------------------------------------------------------------------------------ secrets
def resolve_secret(ref: SecretRef | Credentials, base_dir: Path, *, camera: str | None = None) -> str:
    """Read the password a reference points to (never logged or echoed).

    Raises:
        ConfigError: the environment variable is unset or the file unreadable (names the variable or file only).
    """
    if ref.password_env is not None:
        value = os.environ.get(ref.password_env)
        if value is None:
            raise ConfigError(
                f"environment variable {ref.password_env} is not set",
                camera=camera,
                operation="resolve password",
                hint=f"export {ref.password_env}=... before running",
            )
        return value
    assert ref.password_file is not None
    path = Path(ref.password_file).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(
            f"cannot read password file {path}: {reason}",
            camera=camera,
            operation="resolve password",
            hint="the file's first line is the password",
        ) from None
    lines = text.splitlines()
    return lines[0].rstrip("\r") if lines else ""


def inventory_schema() -> dict[str, Any]:
    """The JSON Schema of inventory files (for editors: YAML language servers, VS Code)."""
    schema = Inventory.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema.setdefault("title", "kedirivms inventory")
    schema["patternProperties"] = {"^x-": {"description": "Ignored (YAML anchors)."}}
    return schema


def inventory_schema_json() -> str:
    """:func:`inventory_schema` as indented JSON text."""
    return json.dumps(inventory_schema(), indent=2) + "\n"
