"""Writes that reuse what the plan already read, to keep each camera's apply to one SOAP call per write.

The public setters (``ptz.set_preset``, ``device.set_scopes``) re-read the current value and the options before
writing, and read the result back: right for one call, but over a fleet it doubles the traffic (a 100-camera
apply is bound by client CPU per SOAP call). Here the values were validated against the options during the plan,
so each write is the ``Set`` call alone (encoders and imaging go through ``camera.media.write_encoder`` and
``camera.imaging.write`` with the configuration the plan read). A successful ``Set`` is not read back: the camera
answers a value it refuses with a fault, which fails the camera.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kedirivms.onvif.device import SCOPE_PREFIX

if TYPE_CHECKING:
    from kedirivms.onvif import Camera
    from kedirivms.onvif.models import Scope
    from kedirivms.onvif.ptz import PTZService

_PTZ_POLL_S = 0.1  # a move rarely ends within 100 ms: asking at once is a wasted GetStatus


def set_scopes(camera: Camera, found: list[Scope], update: dict[str, str]) -> None:
    """Replace the configurable ``name``/``location`` scopes in ``update``, keeping the other configurable ones."""
    keep = [
        s.uri for s in found if not s.fixed and not any(s.uri.startswith(f"{SCOPE_PREFIX}{kind}/") for kind in update)
    ]
    if "name" in update:
        keep.append(f"{SCOPE_PREFIX}name/{quote(update['name'], safe='')}")
    if "location" in update:
        keep.append(f"{SCOPE_PREFIX}location/{quote(update['location'], safe='/')}")
    camera.call("device", "SetScopes", Scopes=keep)


def set_preset(camera: Camera, profile: str, name: str, token: str | None) -> None:
    """Store the current position as preset ``name`` (overwriting preset ``token`` when given)."""
    kwargs: dict[str, Any] = {"ProfileToken": profile, "PresetName": name}
    if token:
        kwargs["PresetToken"] = token
    camera.call("ptz", "SetPreset", **kwargs)


def absolute_move(camera: Camera, profile: str, pan: float | None, tilt: float | None, zoom: float | None) -> None:
    """AbsoluteMove in the configuration's default (generic) spaces; the camera checks its own limits."""
    position: dict[str, Any] = {}
    if pan is not None and tilt is not None:
        position["PanTilt"] = {"x": pan, "y": tilt}
    if zoom is not None:
        position["Zoom"] = {"x": zoom}
    camera.call("ptz", "AbsoluteMove", ProfileToken=profile, Position=position)


def wait_still(service: PTZService, profile: str, timeout: float) -> None:
    """Wait until ``profile`` neither pans, tilts nor zooms (GetStatus every 0.1 s, the first after 0.1 s).

    Raises:
        Timeout: still moving after ``timeout`` seconds.
    """
    time.sleep(_PTZ_POLL_S)
    service.wait_idle(timeout, poll=_PTZ_POLL_S, profile=profile)
