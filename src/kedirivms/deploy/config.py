"""The deployment file of ``kedirivms run``: cameras, zones, plugins, sinks and recording in one validated file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kedirivms.analytics.runner import PluginSettings
from kedirivms.analytics.zones import Zone
from kedirivms.errors import ConfigError
from kedirivms.provision.models import Credentials
from kedirivms.record import RetentionPolicy
from kedirivms.sinks import JsonlSinkConfig, SinkConfig

__all__ = ["DeployCamera", "DeploymentConfig", "RecordingSettings", "load_deployment", "parse_deployment"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeployCamera(_Model):
    """One camera of a deployment."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Name used in events, MQTT topics, folders.")
    address: str = Field(min_length=1, description="host, host:port or device-service URL.")
    credentials: Credentials | None = Field(None, description="username + password_env or password_file.")
    auth: str = Field("auto", description="auto, username_token, digest, basic or none.")
    timeout: float = Field(10.0, gt=0, le=120, description="Read time-out of each ONVIF request, seconds.")
    channel: int = Field(1, ge=1, description="Video source (channel) on an NVR.")
    analytics_profile: str | None = Field(None, description="Profile token for analytics (default: smallest).")
    recording_profile: str | None = Field(None, description="Profile token to record (default: largest).")
    zones: list[Zone] = Field(default_factory=list, description="Zones in normalised coordinates.")
    plugins: list[PluginSettings] = Field(default_factory=list, description="Analytics plugins on this camera.")
    record: bool = Field(True, description="Record the recording profile (needs a 'recording' section).")
    events: bool = Field(True, description="Subscribe to the camera's ONVIF events and send them to the sinks.")
    transport: str = Field("tcp", pattern="^(tcp|udp)$", description="RTSP lower transport.")


class RecordingSettings(_Model):
    """Where and how the deployment records."""

    root: str = Field(description="Recording root folder (relative paths: relative to the deployment file).")
    segment_seconds: float = Field(60.0, ge=1, le=3600, description="Segment length, cut at keyframes.")
    retention: RetentionPolicy | None = Field(None, description="max_age, max_bytes, min_free_bytes.")


def _default_sinks() -> list[SinkConfig]:
    return [JsonlSinkConfig(path=Path("events.jsonl"))]


class DeploymentConfig(_Model):
    """A whole deployment: what ``kedirivms run`` runs."""

    cameras: list[DeployCamera] = Field(min_length=1, description="The cameras.")
    sinks: list[SinkConfig] = Field(
        default_factory=_default_sinks,
        description="Where events go (default: events.jsonl beside the deployment file).",
    )
    recording: RecordingSettings | None = Field(None, description="Recording settings; None records nothing.")

    @field_validator("cameras")
    @classmethod
    def _unique(cls, cameras: list[DeployCamera]) -> list[DeployCamera]:
        names = [c.name for c in cameras]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"camera names must be unique, repeated: {', '.join(repeated)}")
        return cameras


def parse_deployment(text: str, source: str = "<deployment>", base_dir: Path | None = None) -> DeploymentConfig:
    """Validate a deployment document (YAML or JSON); errors carry ``source:line:column``.

    Raises:
        ConfigError: syntax or validation errors (never with a password).
    """
    from kedirivms.provision._yaml import load_yaml
    from kedirivms.provision.inventory import _render_errors

    data, marks = load_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a deployment is a mapping with 'cameras' (and 'sinks', 'recording')")
    try:
        config = DeploymentConfig.model_validate(data)
    except ValidationError as exc:
        message = _render_errors(exc, marks).replace("in the inventory", "in the deployment file")
        raise ConfigError(message, hint="see docs/deploy.md for the format") from None
    return _rebase(config, base_dir or Path.cwd())


def load_deployment(path: str | os.PathLike[str]) -> DeploymentConfig:
    """Read and validate a deployment file; relative paths in it are relative to the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read deployment file {p}: {exc.strerror}", hint="check the path") from None
    return parse_deployment(text, str(p), p.resolve().parent)


def _rebase(config: DeploymentConfig, base: Path) -> DeploymentConfig:
    """Make relative paths (recording root, JSONL sink, password files) relative to ``base``."""
    updates: dict[str, Any] = {}
    if config.recording is not None and not Path(config.recording.root).is_absolute():
        updates["recording"] = config.recording.model_copy(update={"root": str(base / config.recording.root)})
    sinks = []
    for sink in config.sinks:
        path = getattr(sink, "path", None)
        if path is not None and not Path(path).is_absolute():
            sink = sink.model_copy(update={"path": base / path})
        sinks.append(sink)
    updates["sinks"] = sinks
    cams = []
    for cam in config.cameras:
        cred = cam.credentials
        if cred is not None and cred.password_file and not Path(cred.password_file).is_absolute():
            cam = cam.model_copy(
                update={"credentials": cred.model_copy(update={"password_file": str(base / cred.password_file)})}
            )
        cams.append(cam)
    updates["cameras"] = cams
    return config.model_copy(update=updates)
