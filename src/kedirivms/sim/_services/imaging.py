"""Imaging service (ver20 ``imaging.wsdl``) of the virtual camera: settings per video source, checked against the
options of :class:`~kedirivms.sim.ImagingSpec`."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from kedirivms.sim._context import SoapContext
from kedirivms.sim._models_ptz import ImagingSpec
from kedirivms.sim._soap import ServiceSpec, SoapFault, register_service

if TYPE_CHECKING:
    from kedirivms.sim.camera import VirtualCamera

__all__ = ["IMAGING", "imaging_state"]

IMAGING = register_service(
    ServiceSpec(
        name="imaging",
        path="/onvif/imaging_service",
        namespace="http://www.onvif.org/ver20/imaging/wsdl",
        wsdl="imaging.wsdl",
        binding="ImagingBinding",
        version=(2, 60),
    )
)

_EXPOSURE_MODES = ["AUTO", "MANUAL"]
_FOCUS_MODES = ["AUTO", "MANUAL"]


class _CameraImaging:
    def __init__(self, spec: ImagingSpec, channels: int) -> None:
        self.lock = threading.Lock()
        self.settings: dict[str, dict[str, Any]] = {
            f"VideoSource_{ch}": _initial(spec) for ch in range(1, channels + 1)
        }


def _initial(spec: ImagingSpec) -> dict[str, Any]:
    value = spec.initial
    out: dict[str, Any] = {
        "brightness": min(max(value, spec.brightness_range[0]), spec.brightness_range[1]),
        "contrast": min(max(value, spec.contrast_range[0]), spec.contrast_range[1]),
        "saturation": min(max(value, spec.saturation_range[0]), spec.saturation_range[1]),
        "sharpness": min(max(value, spec.sharpness_range[0]), spec.sharpness_range[1]),
        "ir_cut": "AUTO" if "AUTO" in spec.ir_cut_modes else next(iter(spec.ir_cut_modes), None),
    }
    if spec.offer_exposure:
        out.update(exposure_mode="AUTO", exposure_time=spec.exposure_time_range_us[1] / 2, gain=spec.gain_range[0])
    if spec.offer_focus:
        out.update(focus_mode="AUTO", focus_speed=spec.focus_speed_range[1])
    return out


_STATES: weakref.WeakKeyDictionary[VirtualCamera, _CameraImaging] = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def imaging_state(camera: VirtualCamera) -> _CameraImaging:
    """The imaging settings of ``camera`` by video source token (created on first use)."""
    with _STATES_LOCK:
        state = _STATES.get(camera)
        if state is None:
            state = _CameraImaging(camera.config.imaging, camera.config.channels)
            _STATES[camera] = state
        return state


def _source(ctx: SoapContext, token: str | None) -> dict[str, Any]:
    settings = imaging_state(ctx.camera).settings.get(token or "")
    if settings is None:
        raise SoapFault(["InvalidArgVal", "NoSource"], f"no video source {token!r}")
    return settings


def _render(spec: ImagingSpec, s: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Brightness": s["brightness"],
        "ColorSaturation": s["saturation"],
        "Contrast": s["contrast"],
        "Sharpness": s["sharpness"],
    }
    if s.get("ir_cut"):
        out["IrCutFilter"] = s["ir_cut"]
    if spec.offer_exposure:
        out["Exposure"] = {"Mode": s["exposure_mode"], "ExposureTime": s["exposure_time"], "Gain": s["gain"]}
    if spec.offer_focus:
        out["Focus"] = {"AutoFocusMode": s["focus_mode"], "DefaultSpeed": s["focus_speed"]}
    return out


@IMAGING.operation("GetServiceCapabilities")
def get_service_capabilities(ctx: SoapContext, req: Any) -> dict[str, Any]:
    return {"Capabilities": {"ImageStabilization": False}}


@IMAGING.operation("GetImagingSettings")
def get_imaging_settings(ctx: SoapContext, req: Any) -> dict[str, Any]:
    with imaging_state(ctx.camera).lock:
        return {"ImagingSettings": _render(ctx.config.imaging, _source(ctx, req.VideoSourceToken))}


@IMAGING.operation("GetOptions")
def get_options(ctx: SoapContext, req: Any) -> dict[str, Any]:
    _source(ctx, req.VideoSourceToken)
    spec = ctx.config.imaging

    def rng(pair: tuple[float, float]) -> dict[str, float]:
        return {"Min": pair[0], "Max": pair[1]}

    out: dict[str, Any] = {
        "Brightness": rng(spec.brightness_range),
        "ColorSaturation": rng(spec.saturation_range),
        "Contrast": rng(spec.contrast_range),
        "Sharpness": rng(spec.sharpness_range),
        "IrCutFilterModes": list(spec.ir_cut_modes),
    }
    if spec.offer_exposure:
        out["Exposure"] = {
            "Mode": _EXPOSURE_MODES,
            "ExposureTime": rng(spec.exposure_time_range_us),
            "Gain": rng(spec.gain_range),
        }
    if spec.offer_focus:
        out["Focus"] = {"AutoFocusModes": _FOCUS_MODES, "DefaultSpeed": rng(spec.focus_speed_range)}
    return {"ImagingOptions": out}


def _within(bad: list[str], name: str, value: Any, rng: tuple[float, float]) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not rng[0] <= number <= rng[1]:
        bad.append(f"{name} {number:g} outside [{rng[0]:g}, {rng[1]:g}]")
    return number


@IMAGING.operation("SetImagingSettings")
def set_imaging_settings(ctx: SoapContext, req: Any) -> None:
    spec = ctx.config.imaging
    new = req.ImagingSettings
    if new is None:
        raise SoapFault(["InvalidArgVal", "SettingsInvalid"], "no ImagingSettings given")
    bad: list[str] = []
    changes: dict[str, Any] = {}
    for key, attr, rng in (
        ("brightness", "Brightness", spec.brightness_range),
        ("saturation", "ColorSaturation", spec.saturation_range),
        ("contrast", "Contrast", spec.contrast_range),
        ("sharpness", "Sharpness", spec.sharpness_range),
    ):
        value = _within(bad, attr, getattr(new, attr, None), rng)
        if value is not None:
            changes[key] = value
    if new.IrCutFilter is not None:
        if new.IrCutFilter not in spec.ir_cut_modes:
            bad.append(f"IrCutFilter {new.IrCutFilter} not in {spec.ir_cut_modes}")
        changes["ir_cut"] = new.IrCutFilter
    exposure, focus = getattr(new, "Exposure", None), getattr(new, "Focus", None)
    if exposure is not None:
        if not spec.offer_exposure:
            bad.append("exposure settings are not offered")
        else:
            if exposure.Mode not in _EXPOSURE_MODES:
                bad.append(f"Exposure Mode {exposure.Mode} not in {_EXPOSURE_MODES}")
            changes["exposure_mode"] = exposure.Mode
            for key, attr, rng in (("exposure_time", "ExposureTime", spec.exposure_time_range_us),
                                   ("gain", "Gain", spec.gain_range)):  # fmt: skip
                value = _within(bad, f"Exposure {attr}", getattr(exposure, attr, None), rng)
                if value is not None:
                    changes[key] = value
    if focus is not None:
        if not spec.offer_focus:
            bad.append("focus settings are not offered")
        else:
            if focus.AutoFocusMode not in _FOCUS_MODES:
                bad.append(f"Focus AutoFocusMode {focus.AutoFocusMode} not in {_FOCUS_MODES}")
            changes["focus_mode"] = focus.AutoFocusMode
            value = _within(bad, "Focus DefaultSpeed", getattr(focus, "DefaultSpeed", None), spec.focus_speed_range)
            if value is not None:
                changes["focus_speed"] = value
    if bad:
        raise SoapFault(["InvalidArgVal", "SettingsInvalid"], "; ".join(bad))
    with imaging_state(ctx.camera).lock:
        _source(ctx, req.VideoSourceToken).update(changes)
    return None
