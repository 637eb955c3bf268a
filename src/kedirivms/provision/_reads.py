"""The imaging read that keeps the camera's raw reply beside the typed view, so a later write needs no second ``Get``.

``GetImagingSettings`` returns the object ``SetImagingSettings`` takes: kept from the plan, it lets apply send
the write alone (the encoder configurations come the same way from ``camera.media.profiles_and_encoders()``).
Over a fleet the client's CPU per SOAP call is the limit, so every read saved counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kedirivms.onvif import Camera

IMAGING_ATTRS = {
    "brightness": "Brightness",
    "contrast": "Contrast",
    "saturation": "ColorSaturation",
    "sharpness": "Sharpness",
}


def imaging(camera: Camera, source: str) -> tuple[dict[str, Any], Any]:
    """The imaging settings of ``source`` by inventory key (None: not reported), and the raw reply."""
    raw = camera.call("imaging", "GetImagingSettings", VideoSourceToken=source)
    values: dict[str, Any] = {k: _float(getattr(raw, attr, None)) for k, attr in IMAGING_ATTRS.items()}
    ir = getattr(raw, "IrCutFilter", None)
    values["ir_cut_filter"] = str(ir).upper() if ir is not None and str(ir).upper() in ("ON", "OFF", "AUTO") else None
    exposure, focus = getattr(raw, "Exposure", None), getattr(raw, "Focus", None)
    values["exposure_mode"] = _mode(getattr(exposure, "Mode", None))
    values["focus_mode"] = _mode(getattr(focus, "AutoFocusMode", None))
    return values, raw


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


def _mode(value: Any) -> str | None:
    return str(value).upper() if value is not None and str(value).upper() in ("AUTO", "MANUAL") else None
