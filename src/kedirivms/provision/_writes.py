"""Writes that reuse what the plan already read, to keep each camera's apply to a handful of SOAP calls.

The public setters (``media.set_video_encoder``, ``imaging.set``, ``ptz.set_preset``, ``device.set_scopes``)
re-read the current value and the options before writing, and read the result back: right for one call, but
over a fleet it doubles the traffic (a 100-camera apply is bound by client CPU per SOAP call). Here the values
were validated against the options during the plan, so each write is the ``Set`` call (plus one shared ``Get``
where the request needs the camera's full configuration object).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kedirivms.errors import ProtocolError

if TYPE_CHECKING:
    from kedirivms.onvif import Camera
    from kedirivms.onvif.models import Scope

_SCOPE = "onvif://www.onvif.org/"
_IMAGING_TOP = {"brightness": "Brightness", "contrast": "Contrast", "saturation": "ColorSaturation"}
_IMAGING_TOP["sharpness"] = "Sharpness"


def set_scopes(camera: Camera, found: list[Scope], update: dict[str, str]) -> None:
    """Replace the configurable ``name``/``location`` scopes in ``update``, keeping the other configurable ones."""
    keep = [s.uri for s in found if not s.fixed and not any(s.uri.startswith(f"{_SCOPE}{kind}/") for kind in update)]
    if "name" in update:
        keep.append(f"{_SCOPE}name/{quote(update['name'], safe='')}")
    if "location" in update:
        keep.append(f"{_SCOPE}location/{quote(update['location'], safe='/')}")
    camera.call("device", "SetScopes", Scopes=keep)


class EncoderWriter:
    """Writes encoder settings; fetches every raw configuration once (GetVideoEncoderConfigurations)."""

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self._raw: dict[str, Any] | None = None

    def set(self, token: str, changes: dict[str, Any]) -> None:
        if self._raw is None:
            reply = self.camera.call("media", "GetVideoEncoderConfigurations") or []
            self._raw = {str(c.token): c for c in reply}
        raw = self._raw.get(token)
        if raw is None:
            raise ProtocolError(
                f"encoder configuration {token} disappeared",
                camera=self.camera.name,
                operation="GetVideoEncoderConfigurations",
                hint="run plan again",
            )
        if "encoding" in changes:
            raw.Encoding = changes["encoding"]
        if "width" in changes or "height" in changes:
            raw.Resolution.Width = changes.get("width", raw.Resolution.Width)
            raw.Resolution.Height = changes.get("height", raw.Resolution.Height)
        if "quality" in changes:
            raw.Quality = changes["quality"]
        if raw.RateControl is not None:
            if "fps" in changes:
                raw.RateControl.FrameRateLimit = changes["fps"]
            if "bitrate_kbps" in changes:
                raw.RateControl.BitrateLimit = changes["bitrate_kbps"]
        if "gop" in changes:
            if raw.H264 is None:
                raw.H264 = {"GovLength": changes["gop"], "H264Profile": "Main"}
            else:
                raw.H264.GovLength = changes["gop"]
        self.camera.call("media", "SetVideoEncoderConfiguration", Configuration=raw, ForcePersistence=True)


def set_imaging(camera: Camera, source: str, changes: dict[str, Any]) -> None:
    """Apply imaging ``changes`` (validated against the options by the plan) to video source ``source``."""
    raw = camera.call("imaging", "GetImagingSettings", VideoSourceToken=source)
    for key, attr in _IMAGING_TOP.items():
        if key in changes:
            setattr(raw, attr, float(changes[key]))
    if "ir_cut_filter" in changes:
        raw.IrCutFilter = changes["ir_cut_filter"]
    for key, group, attr, default in (
        ("exposure_mode", "Exposure", "Mode", {"Mode": "AUTO"}),
        ("focus_mode", "Focus", "AutoFocusMode", {"AutoFocusMode": "AUTO"}),
    ):
        if key not in changes:
            continue
        current = getattr(raw, group, None)
        if current is None:
            setattr(raw, group, {**default, attr: changes[key]})
        else:
            setattr(current, attr, changes[key])
    camera.call("imaging", "SetImagingSettings", VideoSourceToken=source, ImagingSettings=raw, ForcePersistence=True)


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
