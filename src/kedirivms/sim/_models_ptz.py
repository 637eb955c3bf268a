"""Configuration of the virtual camera's PTZ node, imaging options and event service.

They are fields of :class:`~kedirivms.sim.VirtualCameraConfig` (``ptz_node``, ``imaging``, ``events``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["EventsSpec", "ImagingSpec", "PTZNodeSpec"]

Range = tuple[float, float]
IrCutMode = Literal["ON", "OFF", "AUTO"]


def _all_ir_modes() -> list[IrCutMode]:
    return ["ON", "OFF", "AUTO"]


def _ordered(name: str, rng: Range) -> None:
    if rng[0] > rng[1]:
        raise ValueError(f"{name} must be (min, max) with min <= max, got {rng}")


class PTZNodeSpec(BaseModel):
    """The PTZ node of every channel: generic-space ranges, speeds, presets and home.

    Positions use the ONVIF generic spaces (pan/tilt -1..1, zoom 0..1 by default). Moves take time: at
    velocity 1.0 the pan axis travels ``pan_tilt_speed`` units per second (zoom: ``zoom_speed``).

    Example:
        >>> PTZNodeSpec(pan_range=(-1, 1), zoom_range=(0, 1), max_presets=8)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pan_range: Range = Field((-1.0, 1.0), description="Absolute pan position range (generic space).")
    tilt_range: Range = Field((-1.0, 1.0), description="Absolute tilt position range (generic space).")
    zoom_range: Range = Field((0.0, 1.0), description="Absolute zoom position range (generic space).")
    pan_tilt_speed: float = Field(2.0, gt=0, description="Pan/tilt travel at full speed, units per second.")
    zoom_speed: float = Field(1.0, gt=0, description="Zoom travel at full speed, units per second.")
    timeout_range_s: Range = Field((0.1, 120.0), description="Allowed ContinuousMove Timeout, seconds.")
    default_timeout_s: float = Field(10.0, gt=0, description="ContinuousMove time-out when none is given, s.")
    max_presets: int = Field(16, ge=1, le=1000, description="MaximumNumberOfPresets of the node.")
    home_supported: bool = Field(True, description="Whether the node has a home position.")
    fixed_home: bool = Field(False, description="Whether SetHomePosition is refused (a fixed home).")
    home: tuple[float, float, float] = Field((0.0, 0.0, 0.0), description="Initial home (pan, tilt, zoom).")

    @model_validator(mode="after")
    def _check(self) -> PTZNodeSpec:
        for name in ("pan_range", "tilt_range", "zoom_range", "timeout_range_s"):
            _ordered(name, getattr(self, name))
        for value, (lo, hi), name in zip(
            self.home, (self.pan_range, self.tilt_range, self.zoom_range), "ptz", strict=True
        ):
            if not lo <= value <= hi:
                raise ValueError(f"home {name}={value} outside [{lo}, {hi}]")
        return self


class ImagingSpec(BaseModel):
    """Imaging options of every video source (GetOptions) and the initial settings.

    Example:
        >>> ImagingSpec(brightness_range=(0, 255), offer_focus=False)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    brightness_range: Range = Field((0.0, 100.0), description="Brightness range.")
    contrast_range: Range = Field((0.0, 100.0), description="Contrast range.")
    saturation_range: Range = Field((0.0, 100.0), description="ColorSaturation range.")
    sharpness_range: Range = Field((0.0, 100.0), description="Sharpness range.")
    ir_cut_modes: list[IrCutMode] = Field(
        default_factory=_all_ir_modes, description="Offered IrCutFilter modes (empty: none)."
    )
    offer_exposure: bool = Field(True, description="Whether exposure settings are offered.")
    exposure_time_range_us: Range = Field((10.0, 40000.0), description="ExposureTime range, microseconds.")
    gain_range: Range = Field((0.0, 100.0), description="Gain range (dB or vendor units).")
    offer_focus: bool = Field(True, description="Whether focus settings are offered.")
    focus_speed_range: Range = Field((0.0, 1.0), description="Focus DefaultSpeed range.")
    initial: float = Field(50.0, description="Initial brightness, contrast, saturation and sharpness.")

    @model_validator(mode="after")
    def _check(self) -> ImagingSpec:
        for name in ("brightness_range", "contrast_range", "saturation_range", "sharpness_range", "gain_range",
                     "exposure_time_range_us", "focus_speed_range"):  # fmt: skip
            _ordered(name, getattr(self, name))
        return self


class EventsSpec(BaseModel):
    """The event service: pull-point limits and the motion schedule.

    Example:
        >>> EventsSpec(motion_interval_s=0.5, max_pull_points=5)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_pull_points: int = Field(5, ge=1, le=100, description="Concurrent pull points before the refusal fault.")
    max_pull_timeout_s: float = Field(60.0, gt=0, description="Longest PullMessages wait; longer ones are cut.")
    max_message_limit: int = Field(100, ge=1, description="Most messages one PullMessages returns.")
    default_termination_s: float = Field(60.0, gt=0, description="Termination when none is requested, s.")
    max_termination_s: float = Field(3600.0, gt=0, description="Longest accepted termination time, s.")
    motion_interval_s: float | None = Field(
        None, gt=0, description="Toggle motion on VideoSource_1 every this many seconds; None = on demand only."
    )
    queue_size: int = Field(1000, ge=1, description="Messages kept per pull point (oldest dropped).")
