"""Typed replies of the ONVIF PTZ and imaging services (pydantic v2, vendor extras ignored)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FloatRange",
    "ImagingOptions",
    "ImagingSettings",
    "PTZConfiguration",
    "PTZConfigurationOptions",
    "PTZNode",
    "PTZPosition",
    "PTZPreset",
    "PTZSpace",
    "PTZSpaces",
    "PTZStatus",
]


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FloatRange(_Reply):
    """An inclusive range of floats; ``value in rng`` checks it."""

    min: float
    max: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (int, float)) and self.min - 1e-9 <= value <= self.max + 1e-9

    def __str__(self) -> str:
        return f"[{self.min:g}, {self.max:g}]"


class PTZSpace(_Reply):
    """A coordinate space of a PTZ node: its URI and the ranges of its axes (``y`` absent for 1-D spaces)."""

    uri: str
    x: FloatRange
    y: FloatRange | None = None

    @property
    def generic(self) -> bool:
        """Whether this is one of the ONVIF generic spaces (normalised units)."""
        return "Generic" in self.uri


class PTZSpaces(_Reply):
    """The spaces a PTZ node supports, per kind of move."""

    absolute_pan_tilt: list[PTZSpace] = Field(default_factory=list)
    absolute_zoom: list[PTZSpace] = Field(default_factory=list)
    relative_pan_tilt: list[PTZSpace] = Field(default_factory=list)
    relative_zoom: list[PTZSpace] = Field(default_factory=list)
    continuous_pan_tilt: list[PTZSpace] = Field(default_factory=list)
    continuous_zoom: list[PTZSpace] = Field(default_factory=list)
    pan_tilt_speed: list[PTZSpace] = Field(default_factory=list)
    zoom_speed: list[PTZSpace] = Field(default_factory=list)


class PTZNode(_Reply):
    """A PTZ node (the physical mechanism): its spaces, preset capacity and home support."""

    token: str
    name: str = ""
    spaces: PTZSpaces
    max_presets: int = 0
    home_supported: bool = False
    fixed_home: bool | None = None


class PTZConfiguration(_Reply):
    """A PTZ configuration: which node a profile drives, its default time-out and soft limits."""

    token: str
    name: str = ""
    node_token: str
    default_timeout_s: float | None = Field(None, description="DefaultPTZTimeout of continuous moves, s.")
    pan_limits: FloatRange | None = None
    tilt_limits: FloatRange | None = None
    zoom_limits: FloatRange | None = None


class PTZConfigurationOptions(_Reply):
    """GetConfigurationOptions: the spaces and the continuous-move time-out range."""

    spaces: PTZSpaces
    timeout_range_s: FloatRange | None = Field(None, description="Allowed ContinuousMove Timeout, s.")


class PTZPosition(_Reply):
    """A PTZ position (generic-space units by default); an absent axis is None."""

    pan: float | None = None
    tilt: float | None = None
    zoom: float | None = None


MoveState = Literal["IDLE", "MOVING", "UNKNOWN"]


class PTZStatus(_Reply):
    """GetStatus: position, move status per group, error text and the camera's UTC time."""

    position: PTZPosition = Field(default_factory=PTZPosition)
    pan_tilt_status: MoveState | None = None
    zoom_status: MoveState | None = None
    error: str | None = None
    utc_time: datetime | None = None

    @property
    def moving(self) -> bool:
        """Whether pan/tilt or zoom is moving."""
        return "MOVING" in (self.pan_tilt_status, self.zoom_status)


class PTZPreset(_Reply):
    """A stored preset position."""

    token: str
    name: str = ""
    position: PTZPosition | None = None


class ImagingSettings(_Reply):
    """Imaging settings of one video source (only what the camera reports; absent = None)."""

    brightness: float | None = None
    contrast: float | None = None
    saturation: float | None = Field(None, description="ColorSaturation.")
    sharpness: float | None = None
    ir_cut_filter: Literal["ON", "OFF", "AUTO"] | None = None
    exposure_mode: Literal["AUTO", "MANUAL"] | None = None
    exposure_time: float | None = Field(None, description="ExposureTime, microseconds.")
    gain: float | None = None
    focus_mode: Literal["AUTO", "MANUAL"] | None = Field(None, description="AutoFocusMode.")
    focus_speed: float | None = Field(None, description="Focus DefaultSpeed.")


class ImagingOptions(_Reply):
    """GetOptions: the ranges and modes a source's imaging settings may take (None = not offered)."""

    brightness: FloatRange | None = None
    contrast: FloatRange | None = None
    saturation: FloatRange | None = None
    sharpness: FloatRange | None = None
    ir_cut_filter_modes: list[str] = Field(default_factory=list)
    exposure_modes: list[str] = Field(default_factory=list)
    exposure_time: FloatRange | None = None
    gain: FloatRange | None = None
    focus_modes: list[str] = Field(default_factory=list)
    focus_speed: FloatRange | None = None
