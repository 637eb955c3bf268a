"""PTZ service (ver20 ``ptz.wsdl``) of the virtual camera: one node per channel whose position moves with time.

Moves are simulated, not instant: a continuous move travels ``velocity x speed x elapsed`` (clamped to the node's
ranges, until Stop or its Timeout), relative/absolute/preset/home moves travel at the requested speed until they
reach the target. The position is computed from the clock when asked, so no thread runs.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kedirivms.sim._context import SoapContext, channel_of
from kedirivms.sim._models_ptz import PTZNodeSpec
from kedirivms.sim._soap import ServiceSpec, SoapFault, register_service

if TYPE_CHECKING:
    from kedirivms.sim.camera import VirtualCamera

__all__ = ["PTZ", "ptz_state"]

_SPACES = "http://www.onvif.org/ver10/tptz"
PT_POSITION = f"{_SPACES}/PanTiltSpaces/PositionGenericSpace"
Z_POSITION = f"{_SPACES}/ZoomSpaces/PositionGenericSpace"
PT_TRANSLATION = f"{_SPACES}/PanTiltSpaces/TranslationGenericSpace"
Z_TRANSLATION = f"{_SPACES}/ZoomSpaces/TranslationGenericSpace"
PT_VELOCITY = f"{_SPACES}/PanTiltSpaces/VelocityGenericSpace"
Z_VELOCITY = f"{_SPACES}/ZoomSpaces/VelocityGenericSpace"
PT_SPEED = f"{_SPACES}/PanTiltSpaces/GenericSpeedSpace"
Z_SPEED = f"{_SPACES}/ZoomSpaces/ZoomGenericSpeedSpace"


def _has_ptz(ctx: SoapContext) -> bool:
    return ctx.config.has_ptz


PTZ = register_service(
    ServiceSpec(
        name="ptz",
        path="/onvif/ptz_service",
        namespace="http://www.onvif.org/ver20/ptz/wsdl",
        wsdl="ptz.wsdl",
        binding="PTZBinding",
        version=(2, 60),
        advertised=_has_ptz,
    )
)


# ------------------------------------------------------------------------------------------- motion model
@dataclass
class _Axis:
    """One axis: where it was at ``t0`` and how it moves since (``rate`` units/s until ``end``)."""

    lo: float
    hi: float
    start: float
    t0: float = 0.0
    rate: float = 0.0
    end: float = 0.0
    target: float | None = None

    def position(self, now: float) -> float:
        if self.target is not None and now >= self.end:
            return self.target
        value = self.start + self.rate * (min(now, self.end) - self.t0)
        return min(self.hi, max(self.lo, value))

    def moving(self, now: float) -> bool:
        if self.rate == 0.0 or now >= self.end:
            return False
        pos = self.position(now)
        return not ((self.rate > 0 and pos >= self.hi) or (self.rate < 0 and pos <= self.lo))

    def hold(self, now: float) -> None:
        self.start, self.t0, self.rate, self.end, self.target = self.position(now), now, 0.0, now, None

    def run(self, now: float, rate: float, duration: float) -> None:
        self.hold(now)
        self.rate, self.end = rate, now + duration

    def go(self, now: float, target: float, speed: float) -> None:
        self.hold(now)
        target = min(self.hi, max(self.lo, target))
        distance = abs(target - self.start)
        if distance == 0.0 or speed <= 0.0:
            self.start = target if speed > 0.0 else self.start
            return
        self.rate = speed if target > self.start else -speed
        self.end, self.target = now + distance / speed, target


@dataclass
class PTZChannelState:
    """The PTZ state of one channel: three axes, presets (token -> (name, position)) and home."""

    pan: _Axis
    tilt: _Axis
    zoom: _Axis
    home: tuple[float, float, float]
    presets: dict[str, tuple[str, tuple[float, float, float]]] = field(default_factory=dict)
    next_preset: int = 1

    def position(self, now: float | None = None) -> tuple[float, float, float]:
        t = time.monotonic() if now is None else now
        return self.pan.position(t), self.tilt.position(t), self.zoom.position(t)


class _CameraPTZ:
    def __init__(self, spec: PTZNodeSpec, channels: int) -> None:
        self.lock = threading.RLock()
        self.channels: dict[int, PTZChannelState] = {}
        for ch in range(1, channels + 1):
            self.channels[ch] = PTZChannelState(
                pan=_Axis(*spec.pan_range, start=spec.home[0]),
                tilt=_Axis(*spec.tilt_range, start=spec.home[1]),
                zoom=_Axis(*spec.zoom_range, start=spec.home[2]),
                home=spec.home,
            )


_STATES: weakref.WeakKeyDictionary[VirtualCamera, _CameraPTZ] = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def ptz_state(camera: VirtualCamera) -> _CameraPTZ:
    """The PTZ state of ``camera`` (created on first use; survives restarts like a real camera's flash)."""
    with _STATES_LOCK:
        state = _STATES.get(camera)
        if state is None:
            state = _CameraPTZ(camera.config.ptz_node, camera.config.channels)
            _STATES[camera] = state
        return state


# -------------------------------------------------------------------------------------------- helpers
def _channel(ctx: SoapContext, profile_token: str | None) -> tuple[int, PTZChannelState]:
    parsed = channel_of(profile_token, "Profile", ctx.config.channels)
    if parsed is None:
        raise SoapFault(["InvalidArgVal", "NoProfile"], f"no profile {profile_token!r}")
    if not ctx.config.has_ptz or (parsed[1] != "main" and ctx.config.ptz_profiles != "all"):
        raise SoapFault(["InvalidArgVal", "NoPTZProfile"], f"profile {profile_token} has no PTZ configuration")
    return parsed[0], ptz_state(ctx.camera).channels[parsed[0]]


def _node_channel(ctx: SoapContext, token: str | None, prefix: str, fault: str) -> int:
    text = token or ""
    if text.startswith(prefix) and text[len(prefix) :].isdigit():
        ch = int(text[len(prefix) :])
        if 1 <= ch <= ctx.config.channels and ctx.config.has_ptz:
            return ch
    raise SoapFault(["InvalidArgVal", fault], f"no such token {token!r}")


def _rng(lo: float, hi: float) -> dict[str, float]:
    return {"Min": lo, "Max": hi}


def _spaces(spec: PTZNodeSpec) -> dict[str, Any]:
    def two(uri: str, x: tuple[float, float], y: tuple[float, float]) -> list[dict[str, Any]]:
        return [{"URI": uri, "XRange": _rng(*x), "YRange": _rng(*y)}]

    def one(uri: str, x: tuple[float, float]) -> list[dict[str, Any]]:
        return [{"URI": uri, "XRange": _rng(*x)}]

    unit = (-1.0, 1.0)
    return {
        "AbsolutePanTiltPositionSpace": two(PT_POSITION, spec.pan_range, spec.tilt_range),
        "AbsoluteZoomPositionSpace": one(Z_POSITION, spec.zoom_range),
        "RelativePanTiltTranslationSpace": two(PT_TRANSLATION, unit, unit),
        "RelativeZoomTranslationSpace": one(Z_TRANSLATION, unit),
        "ContinuousPanTiltVelocitySpace": two(PT_VELOCITY, unit, unit),
        "ContinuousZoomVelocitySpace": one(Z_VELOCITY, unit),
        "PanTiltSpeedSpace": one(PT_SPEED, (0.0, 1.0)),
        "ZoomSpeedSpace": one(Z_SPEED, (0.0, 1.0)),
    }


def _node(ctx: SoapContext, ch: int) -> dict[str, Any]:
    spec = ctx.config.ptz_node
    return {
        "token": f"PTZNode_{ch}",
        "FixedHomePosition": spec.fixed_home,
        "Name": f"PTZNode_{ch}",
        "SupportedPTZSpaces": _spaces(spec),
        "MaximumNumberOfPresets": spec.max_presets,
        "HomeSupported": spec.home_supported,
    }


def _configuration(ctx: SoapContext, ch: int) -> dict[str, Any]:
    spec = ctx.config.ptz_node
    return {
        "token": f"PTZConfig_{ch}",
        "Name": f"PTZConfig_{ch}",
        "UseCount": 1,
        "NodeToken": f"PTZNode_{ch}",
        "DefaultAbsolutePantTiltPositionSpace": PT_POSITION,
        "DefaultAbsoluteZoomPositionSpace": Z_POSITION,
        "DefaultRelativePanTiltTranslationSpace": PT_TRANSLATION,
        "DefaultRelativeZoomTranslationSpace": Z_TRANSLATION,
        "DefaultContinuousPanTiltVelocitySpace": PT_VELOCITY,
        "DefaultContinuousZoomVelocitySpace": Z_VELOCITY,
        "DefaultPTZSpeed": {"PanTilt": {"x": 1.0, "y": 1.0, "space": PT_SPEED}, "Zoom": {"x": 1.0, "space": Z_SPEED}},
        "DefaultPTZTimeout": dt.timedelta(seconds=spec.default_timeout_s),
        "PanTiltLimits": {"Range": {"URI": PT_POSITION, "XRange": _rng(*spec.pan_range),
                                    "YRange": _rng(*spec.tilt_range)}},
        "ZoomLimits": {"Range": {"URI": Z_POSITION, "XRange": _rng(*spec.zoom_range)}},
    }  # fmt: skip


def _vector(pos: tuple[float, float, float]) -> dict[str, Any]:
    return {"PanTilt": {"x": pos[0], "y": pos[1], "space": PT_POSITION}, "Zoom": {"x": pos[2], "space": Z_POSITION}}


def _check_space(value: Any, allowed: str, what: str) -> None:
    space = getattr(value, "space", None)
    if space and space != allowed:
        raise SoapFault(["InvalidArgVal", "SpaceNotSupported"], f"{what} space {space} not supported; use {allowed}")


def _check(name: str, value: float, lo: float, hi: float, fault: str) -> float:
    if not lo - 1e-9 <= value <= hi + 1e-9:
        raise SoapFault(["InvalidArgVal", fault], f"{name} {value:g} outside [{lo:g}, {hi:g}]")
    return value


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    total = getattr(value, "totimedelta", None)  # isodate.Duration
    if callable(total):
        return float(total(start=dt.datetime(2000, 1, 1)).total_seconds())
    raise SoapFault(["InvalidArgVal", "InvalidDuration"], f"cannot read duration {value!r}")


def _speeds(ctx: SoapContext, speed: Any) -> tuple[float, float, float]:
    """Travel speeds (units/s) for pan, tilt and zoom from an optional PTZSpeed (generic 0..1 each)."""
    spec = ctx.config.ptz_node
    sx = sy = sz = 1.0
    pan_tilt = getattr(speed, "PanTilt", None) if speed is not None else None
    zoom = getattr(speed, "Zoom", None) if speed is not None else None
    if pan_tilt is not None:
        _check_space(pan_tilt, PT_SPEED, "speed")
        sx = abs(_check("pan speed", float(pan_tilt.x), 0.0, 1.0, "InvalidSpeed"))
        sy = abs(_check("tilt speed", float(pan_tilt.y), 0.0, 1.0, "InvalidSpeed"))
    if zoom is not None:
        _check_space(zoom, Z_SPEED, "speed")
        sz = abs(_check("zoom speed", float(zoom.x), 0.0, 1.0, "InvalidSpeed"))
    return sx * spec.pan_tilt_speed, sy * spec.pan_tilt_speed, sz * spec.zoom_speed


def _go(state: PTZChannelState, target: tuple[float | None, float | None, float | None], speeds: Any) -> None:
    now = time.monotonic()
    for axis, value, speed in zip((state.pan, state.tilt, state.zoom), target, speeds, strict=True):
        if value is not None:
            axis.go(now, value, speed)


# -------------------------------------------------------------------------------------------- operations
@PTZ.operation("GetServiceCapabilities")
def get_service_capabilities(ctx: SoapContext, req: Any) -> dict[str, Any]:
    return {"Capabilities": {"EFlip": False, "Reverse": False, "GetCompatibleConfigurations": True}}


@PTZ.operation("GetNodes")
def get_nodes(ctx: SoapContext, req: Any) -> dict[str, Any]:
    chans = range(1, ctx.config.channels + 1) if ctx.config.has_ptz else range(0)
    return {"PTZNode": [_node(ctx, ch) for ch in chans]}


@PTZ.operation("GetNode")
def get_node(ctx: SoapContext, req: Any) -> dict[str, Any]:
    return {"PTZNode": _node(ctx, _node_channel(ctx, req.NodeToken, "PTZNode_", "NoEntity"))}


@PTZ.operation("GetConfigurations")
def get_configurations(ctx: SoapContext, req: Any) -> dict[str, Any]:
    chans = range(1, ctx.config.channels + 1) if ctx.config.has_ptz else range(0)
    return {"PTZConfiguration": [_configuration(ctx, ch) for ch in chans]}


@PTZ.operation("GetConfiguration")
def get_configuration(ctx: SoapContext, req: Any) -> dict[str, Any]:
    ch = _node_channel(ctx, req.PTZConfigurationToken, "PTZConfig_", "NoConfig")
    return {"PTZConfiguration": _configuration(ctx, ch)}


@PTZ.operation("GetCompatibleConfigurations")
def get_compatible_configurations(ctx: SoapContext, req: Any) -> dict[str, Any]:
    ch, _ = _channel(ctx, req.ProfileToken)
    return {"PTZConfiguration": [_configuration(ctx, ch)]}


@PTZ.operation("GetConfigurationOptions")
def get_configuration_options(ctx: SoapContext, req: Any) -> dict[str, Any]:
    _node_channel(ctx, req.ConfigurationToken, "PTZConfig_", "NoConfig")
    spec = ctx.config.ptz_node
    lo, hi = spec.timeout_range_s
    return {
        "PTZConfigurationOptions": {
            "Spaces": _spaces(spec),
            "PTZTimeout": {"Min": dt.timedelta(seconds=lo), "Max": dt.timedelta(seconds=hi)},
        }
    }


@PTZ.operation("GetStatus")
def get_status(ctx: SoapContext, req: Any) -> dict[str, Any]:
    _, state = _channel(ctx, req.ProfileToken)
    ptz = ptz_state(ctx.camera)
    with ptz.lock:
        now = time.monotonic()
        pos = state.position(now)
        pt_moving = state.pan.moving(now) or state.tilt.moving(now)
        z_moving = state.zoom.moving(now)
    return {
        "PTZStatus": {
            "Position": _vector(pos),
            "MoveStatus": {"PanTilt": "MOVING" if pt_moving else "IDLE", "Zoom": "MOVING" if z_moving else "IDLE"},
            "UtcTime": ctx.now().replace(microsecond=0),
        }
    }


@PTZ.operation("ContinuousMove")
def continuous_move(ctx: SoapContext, req: Any) -> None:
    _, state = _channel(ctx, req.ProfileToken)
    spec = ctx.config.ptz_node
    velocity = req.Velocity
    if velocity is None:
        raise SoapFault(["InvalidArgVal", "InvalidVelocity"], "ContinuousMove needs a Velocity")
    timeout = _seconds(req.Timeout)
    if timeout is None:
        timeout = spec.default_timeout_s
    lo, hi = spec.timeout_range_s
    if not lo <= timeout <= hi:
        raise SoapFault(["InvalidArgVal", "TimeoutNotSupported"], f"Timeout {timeout:g} s outside [{lo:g}, {hi:g}] s")
    pan_tilt, zoom = getattr(velocity, "PanTilt", None), getattr(velocity, "Zoom", None)
    rates: list[tuple[_Axis, float]] = []
    if pan_tilt is not None:
        _check_space(pan_tilt, PT_VELOCITY, "velocity")
        rates.append((state.pan, _check("pan velocity", float(pan_tilt.x), -1, 1, "InvalidVelocity")))
        rates.append((state.tilt, _check("tilt velocity", float(pan_tilt.y), -1, 1, "InvalidVelocity")))
    if zoom is not None:
        _check_space(zoom, Z_VELOCITY, "velocity")
        rates.append((state.zoom, _check("zoom velocity", float(zoom.x), -1, 1, "InvalidVelocity")))
    with ptz_state(ctx.camera).lock:
        now = time.monotonic()
        for axis, v in rates:
            speed = spec.zoom_speed if axis is state.zoom else spec.pan_tilt_speed
            axis.run(now, v * speed, timeout)


@PTZ.operation("RelativeMove")
def relative_move(ctx: SoapContext, req: Any) -> None:
    _, state = _channel(ctx, req.ProfileToken)
    translation = req.Translation
    if translation is None:
        raise SoapFault(["InvalidArgVal", "InvalidTranslation"], "RelativeMove needs a Translation")
    pan_tilt, zoom = getattr(translation, "PanTilt", None), getattr(translation, "Zoom", None)
    speeds = _speeds(ctx, req.Speed)
    with ptz_state(ctx.camera).lock:
        cur = state.position()
        target: list[float | None] = [None, None, None]
        if pan_tilt is not None:
            _check_space(pan_tilt, PT_TRANSLATION, "translation")
            target[0] = cur[0] + _check("pan translation", float(pan_tilt.x), -1, 1, "InvalidTranslation")
            target[1] = cur[1] + _check("tilt translation", float(pan_tilt.y), -1, 1, "InvalidTranslation")
        if zoom is not None:
            _check_space(zoom, Z_TRANSLATION, "translation")
            target[2] = cur[2] + _check("zoom translation", float(zoom.x), -1, 1, "InvalidTranslation")
        _go(state, (target[0], target[1], target[2]), speeds)


@PTZ.operation("AbsoluteMove")
def absolute_move(ctx: SoapContext, req: Any) -> None:
    _, state = _channel(ctx, req.ProfileToken)
    spec = ctx.config.ptz_node
    position = req.Position
    if position is None:
        raise SoapFault(["InvalidArgVal", "InvalidPosition"], "AbsoluteMove needs a Position")
    pan_tilt, zoom = getattr(position, "PanTilt", None), getattr(position, "Zoom", None)
    target: list[float | None] = [None, None, None]
    if pan_tilt is not None:
        _check_space(pan_tilt, PT_POSITION, "position")
        target[0] = _check("pan", float(pan_tilt.x), *spec.pan_range, "InvalidPosition")
        target[1] = _check("tilt", float(pan_tilt.y), *spec.tilt_range, "InvalidPosition")
    if zoom is not None:
        _check_space(zoom, Z_POSITION, "position")
        target[2] = _check("zoom", float(zoom.x), *spec.zoom_range, "InvalidPosition")
    speeds = _speeds(ctx, req.Speed)
    with ptz_state(ctx.camera).lock:
        _go(state, (target[0], target[1], target[2]), speeds)


@PTZ.operation("Stop")
def stop(ctx: SoapContext, req: Any) -> None:
    _, state = _channel(ctx, req.ProfileToken)
    # ONVIF: both default to true when absent
    pan_tilt = True if req.PanTilt is None else bool(req.PanTilt)
    zoom = True if req.Zoom is None else bool(req.Zoom)
    with ptz_state(ctx.camera).lock:
        now = time.monotonic()
        if pan_tilt:
            state.pan.hold(now)
            state.tilt.hold(now)
        if zoom:
            state.zoom.hold(now)


@PTZ.operation("GetPresets")
def get_presets(ctx: SoapContext, req: Any) -> dict[str, Any]:
    _, state = _channel(ctx, req.ProfileToken)
    with ptz_state(ctx.camera).lock:
        items = [
            {"token": token, "Name": name, "PTZPosition": _vector(pos)} for token, (name, pos) in state.presets.items()
        ]
    return {"Preset": items}


@PTZ.operation("SetPreset")
def set_preset(ctx: SoapContext, req: Any) -> dict[str, Any]:
    _, state = _channel(ctx, req.ProfileToken)
    name = (req.PresetName or "").strip()
    token = req.PresetToken
    if req.PresetName is not None and (not name or len(name) > 64):
        raise SoapFault(["InvalidArgVal", "InvalidPresetName"], f"invalid preset name {req.PresetName!r} (1-64 chars)")
    with ptz_state(ctx.camera).lock:
        if token and token not in state.presets:
            raise SoapFault(["InvalidArgVal", "NoToken"], f"no preset {token!r}")
        clash = [t for t, (n, _) in state.presets.items() if name and n == name and t != token]
        if clash:
            raise SoapFault(["InvalidArgVal", "PresetExist"], f"a preset named {name!r} exists ({clash[0]})")
        if not token:
            if len(state.presets) >= ctx.config.ptz_node.max_presets:
                raise SoapFault(["Action", "TooManyPresets"], f"at most {ctx.config.ptz_node.max_presets} presets",
                                code="Receiver")  # fmt: skip
            token = f"Preset_{state.next_preset}"
            state.next_preset += 1
            name = name or token
        else:
            name = name or state.presets[token][0]
        state.presets[token] = (name, state.position())
    return {"PresetToken": token}


@PTZ.operation("RemovePreset")
def remove_preset(ctx: SoapContext, req: Any) -> None:
    _, state = _channel(ctx, req.ProfileToken)
    with ptz_state(ctx.camera).lock:
        if state.presets.pop(req.PresetToken or "", None) is None:
            raise SoapFault(["InvalidArgVal", "NoToken"], f"no preset {req.PresetToken!r}")


@PTZ.operation("GotoPreset")
def goto_preset(ctx: SoapContext, req: Any) -> None:
    _, state = _channel(ctx, req.ProfileToken)
    speeds = _speeds(ctx, req.Speed)
    with ptz_state(ctx.camera).lock:
        preset = state.presets.get(req.PresetToken or "")
        if preset is None:
            raise SoapFault(["InvalidArgVal", "NoToken"], f"no preset {req.PresetToken!r}")
        _go(state, preset[1], speeds)


@PTZ.operation("GotoHomePosition")
def goto_home_position(ctx: SoapContext, req: Any) -> None:
    _, state = _channel(ctx, req.ProfileToken)
    if not ctx.config.ptz_node.home_supported:
        raise SoapFault(["Action", "NoHomePosition"], "the node has no home position", code="Receiver")
    speeds = _speeds(ctx, req.Speed)
    with ptz_state(ctx.camera).lock:
        _go(state, state.home, speeds)


@PTZ.operation("SetHomePosition")
def set_home_position(ctx: SoapContext, req: Any) -> None:
    _, state = _channel(ctx, req.ProfileToken)
    spec = ctx.config.ptz_node
    if not spec.home_supported:
        raise SoapFault(["Action", "NoHomePosition"], "the node has no home position", code="Receiver")
    if spec.fixed_home:
        raise SoapFault(["Action", "CannotOverwriteHome"], "the home position is fixed", code="Receiver")
    with ptz_state(ctx.camera).lock:
        state.home = state.position()
