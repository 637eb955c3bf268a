"""Loading a fleet file: validation with line numbers (one error renderer), old formats refused with what to
change, each camera's effective settings, secrets, relative paths and the JSON Schema."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kedirivms.analytics.runner import PluginSettings
from kedirivms.analytics.zones import Zone
from kedirivms.errors import ConfigError
from kedirivms.fleet._yaml import Marks, load_yaml
from kedirivms.fleet.models import CameraEntry, Fleet, FleetSettings, RecordingSettings
from kedirivms.fleet.settings import (
    PLACEHOLDERS,
    Credentials,
    Encoders,
    ImagingSettings,
    PTZSettings,
    ScopeSettings,
    SecretRef,
    TimeSettings,
    UserSpec,
)
from kedirivms.sinks import SinkConfig

__all__ = [
    "CameraTarget",
    "LoadedFleet",
    "fleet_schema",
    "fleet_schema_json",
    "load_fleet",
    "parse_fleet",
    "resolve_secret",
]

DEFAULT_TIMEOUT = 5.0
_KEYED_LISTS = {("users",): "name", ("ptz", "presets"): "name"}


class CameraTarget(BaseModel):
    """One camera's effective settings after defaults, site defaults and overrides are merged.

    Placeholders are expanded and the scopes defaulted; passwords are still references. ``plan``/``apply`` use
    the desired-state fields, ``run`` and the workers the pipeline fields (channel .. transport).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Camera id in the fleet file.")
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
    channel: int = Field(1, description="Video source (channel) on an NVR.")
    analytics_profile: str | None = Field(None, description="Profile token for analytics (default: smallest).")
    recording_profile: str | None = Field(None, description="Profile token to record (default: largest).")
    zones: list[Zone] = Field(default_factory=list, description="Zones in normalised coordinates.")
    plugins: list[PluginSettings] = Field(default_factory=list, description="Analytics plugins.")
    record: bool = Field(True, description="Record the recording profile (when the fleet has 'recording').")
    events: bool = Field(True, description="Forward the camera's ONVIF events.")
    transport: str = Field("tcp", description="RTSP lower transport: tcp or udp.")
    workers: list[str] | None = Field(None, description="Worker ids the camera's site is pinned to (None: any).")


class LoadedFleet:
    """A validated fleet file with where it came from (for relative secret files and line numbers).

    Attributes:
        model: the validated :class:`~kedirivms.fleet.Fleet`.
        base_dir: directory that relative ``password_file`` paths are relative to.
        marks: positions of every key and value in the source file.
    """

    def __init__(self, model: Fleet, base_dir: Path, marks: Marks | None = None) -> None:
        self.model = model
        self.base_dir = base_dir
        self.marks = marks or Marks("<fleet>")
        self._targets = self._resolve()

    def __repr__(self) -> str:
        return f"<LoadedFleet {self.marks.source} sites={len(self.model.sites)} cameras={len(self._targets)}>"

    @property
    def source(self) -> str:
        """The file name (or ``<fleet>``)."""
        return self.marks.source

    @property
    def sinks(self) -> list[SinkConfig]:
        """The fleet's sinks, relative file paths made relative to the fleet file."""
        out = []
        for sink in self.model.sinks:
            path = getattr(sink, "path", None)
            if path is not None and not Path(path).is_absolute():
                sink = sink.model_copy(update={"path": self.base_dir / path})
            out.append(sink)
        return out

    @property
    def recording(self) -> RecordingSettings | None:
        """The recording settings, a relative root made relative to the fleet file."""
        rec = self.model.recording
        if rec is None or Path(rec.root).is_absolute():
            return rec
        return rec.model_copy(update={"root": str(self.base_dir / rec.root)})

    @property
    def centre_users(self) -> dict[str, str] | Path | None:
        """The page's users from ``centre: {users: ...}``: inline name -> hash, or the users file (a relative
        path made relative to the fleet file), or None."""
        centre = self.model.centre
        if centre is None or centre.users is None:
            return None
        if isinstance(centre.users, dict):
            return dict(centre.users)
        path = Path(centre.users).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def camera(self, name: str) -> CameraTarget:
        """One camera by name.

        Raises:
            ConfigError: no such camera.
        """
        for target in self._targets:
            if target.name == name:
                return target
        raise ConfigError(f"no camera {name!r} in {self.source}")

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
                        hint="camera names must be unique across the fleet file",
                    )
                seen[cam.name] = where
                merged = _merge_settings([self.model.defaults, site.defaults, cam])
                target = _target(site_id, site.location, cam.name, cam.address, cam.counter, where, merged)
                out.append(_with_pipeline(target, cam, merged, site.workers))
        return out


def _target(
    site_id: str,
    location: str | None,
    name: str,
    address: str,
    counter: str | None,
    where: str,
    s: FleetSettings,
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


def _with_pipeline(target: CameraTarget, cam: CameraEntry, s: FleetSettings, workers: list[str] | None) -> CameraTarget:
    return target.model_copy(
        update={
            "channel": cam.channel,
            "analytics_profile": cam.analytics_profile,
            "recording_profile": cam.recording_profile,
            "zones": list(cam.zones),
            "plugins": list(s.plugins or []),
            "record": True if s.record is None else s.record,
            "events": True if s.events is None else s.events,
            "transport": s.transport or "tcp",
            "workers": list(workers) if workers is not None else None,
        }
    )


def _expand(text: str | None, values: dict[str, str]) -> str | None:
    if text is None:
        return None
    out = text
    for key in PLACEHOLDERS:
        out = out.replace("{" + key + "}", values[key])
    return out


def _merge_settings(layers: Iterable[FleetSettings | None]) -> FleetSettings:
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer is None:
            continue
        data = layer.model_dump(exclude_unset=True, include=set(FleetSettings.model_fields))
        merged = _merge(merged, data, ())
    return FleetSettings.model_validate(merged)


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
_OLD_DEPLOYMENT = (
    "this is a deployment file of the old format (top-level 'cameras:'); a fleet file groups cameras by site: "
    "write 'version: 2', then 'sites: {SITE: {cameras: [...]}}' with the same camera entries, and keep "
    "'sinks:' and 'recording:' at the top level (a camera's 'auth' and 'timeout' are unchanged)"
)


def parse_fleet(text: str, source: str = "<fleet>", base_dir: Path | None = None) -> LoadedFleet:
    """Validate fleet file text (YAML, or JSON which is YAML too).

    Top-level keys starting with ``x-`` are ignored (a place for YAML anchors).

    Raises:
        ConfigError: syntax or validation errors, each as ``source:line:column: path: message``; an old
            deployment file (top-level ``cameras:``) with what to change.
    """
    data, marks = load_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a fleet file is a mapping with 'sites' (and 'defaults', 'sinks', 'recording')")
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    if "cameras" in data and "sites" not in data:
        raise ConfigError(f"{marks.at(('cameras',), key=True)}: {_OLD_DEPLOYMENT}", hint="see docs/deploy.md")
    try:
        model = Fleet.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_render_errors(exc, marks), hint="see docs/provisioning.md for the format") from None
    return LoadedFleet(model, base_dir or Path.cwd(), marks)


def load_fleet(path: str | os.PathLike[str]) -> LoadedFleet:
    """Read and validate a fleet file; relative paths in it are relative to the file.

    Args:
        path: the fleet file (YAML).

    Returns:
        The validated fleet; ``cameras()`` lists each camera's effective settings.

    Raises:
        ConfigError: unreadable file, YAML syntax error, an old-format file or invalid content; messages carry
            line numbers and never a password.

    Example:
        >>> fleet = load_fleet("examples/fleet.yaml")  # doctest: +SKIP
        >>> [c.name for c in fleet.cameras(only=["mpp-kota"])]  # doctest: +SKIP
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read fleet file {p}: {exc.strerror}", hint="check the path") from None
    except UnicodeDecodeError:
        raise ConfigError(f"fleet file {p} is not UTF-8 text") from None
    return parse_fleet(text, str(p), p.resolve().parent)


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
    return "\n".join([f"{marks.source}: {len(rows)} error(s) in the fleet file", *(r[1] for r in rows)])


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


def fleet_schema() -> dict[str, Any]:
    """The JSON Schema of fleet files (for editors: YAML language servers, VS Code)."""
    schema = Fleet.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema.setdefault("title", "kedirivms fleet")
    schema["patternProperties"] = {"^x-": {"description": "Ignored (YAML anchors)."}}
    return schema


def fleet_schema_json() -> str:
    """:func:`fleet_schema` as indented JSON text."""
    return json.dumps(fleet_schema(), indent=2) + "\n"
