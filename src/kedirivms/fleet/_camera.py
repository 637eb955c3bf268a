"""The :class:`~kedirivms.Camera` of a fleet file's camera (used by plan/apply and by run/worker alike)."""

from __future__ import annotations

from pathlib import Path

from kedirivms.fleet._load import CameraTarget, resolve_secret
from kedirivms.onvif import Camera, Timeouts

__all__ = ["camera_for"]


def camera_for(target: CameraTarget, base_dir: Path) -> tuple[Camera, tuple[str, ...]]:
    """A (not yet connected) :class:`Camera` for ``target`` with its resolved password; and the secrets used.

    Args:
        target: the camera's effective settings.
        base_dir: the folder relative password files are relative to (the fleet file's).

    Raises:
        ConfigError: the password reference cannot be resolved.
    """
    username = password = None
    if target.credentials is not None:
        username = target.credentials.username
        password = resolve_secret(target.credentials, base_dir, camera=target.name)
    camera = Camera(
        target.address,
        username=username,
        password=password,
        timeout=Timeouts(connect=min(3.0, target.timeout), read=target.timeout),
        auth=target.auth,  # type: ignore[arg-type]
        name=target.name,
    )
    return camera, (password,) if password else ()
