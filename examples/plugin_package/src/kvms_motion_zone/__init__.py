"""Example kedirivms analytics plugin: motion start/end inside a region of the picture.

It works on the free luma view (no colour conversion), keeps a small subsampled copy of the previous region as
its only state, and emits events through ``ctx.event``. One instance serves one camera.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from kedirivms import Event, hookimpl

__all__ = ["MotionZoneConfig", "MotionZonePlugin"]


class MotionZoneConfig(BaseModel):
    """Per-camera options of the ``motion_zone`` plugin."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roi: tuple[float, float, float, float] = Field(
        default=(0.0, 0.0, 1.0, 1.0), description="Region (x, y, width, height) as fractions of the picture."
    )
    threshold: float = Field(default=4.0, gt=0, le=255, description="Mean absolute luma change that is motion.")
    hold: float = Field(default=2.0, ge=0, description="Seconds without motion before motion_end.")
    step: int = Field(default=4, ge=1, le=32, description="Subsampling step (pixels) for the comparison.")


class MotionZonePlugin:
    """Reports ``motion_start`` and ``motion_end`` for one camera."""

    name = "motion_zone"
    version = "0.1.0"
    Config = MotionZoneConfig
    max_fps = 5.0
    contract = "1.0"

    def __init__(self) -> None:
        self.config = MotionZoneConfig()
        self.previous: np.ndarray | None = None
        self.active_since: float | None = None
        self.last_motion = 0.0
        self.peak = 0.0

    @hookimpl
    def on_start(self, config: MotionZoneConfig) -> None:
        self.config = config

    @hookimpl
    def on_frame(self, frame: Any, ctx: Any) -> Event | None:
        y = frame.y  # read-only view over the decoder's memory: slice it, never write into it
        height, width = y.shape
        x0, y0, w, h = self.config.roi
        region = y[int(y0 * height) : int((y0 + h) * height), int(x0 * width) : int((x0 + w) * width)]
        small = region[:: self.config.step, :: self.config.step].astype(np.int16)  # a copy: safe to keep
        previous, self.previous = self.previous, small
        if previous is None or previous.shape != small.shape:
            return None
        score = float(np.abs(small - previous).mean())
        now = frame.time
        if score >= self.config.threshold:
            self.last_motion = now
            self.peak = max(self.peak, score)
            if self.active_since is None:
                self.active_since = now
                return ctx.event("motion_start", {"score": round(score, 2)})
        elif self.active_since is not None and now - self.last_motion >= self.config.hold:
            return self._end(ctx, now)
        return None

    @hookimpl
    def on_stop(self, ctx: Any) -> Event | None:
        if self.active_since is not None:
            return self._end(ctx, self.last_motion)
        return None

    def _end(self, ctx: Any, now: float) -> Event:
        assert self.active_since is not None
        event = ctx.event(
            "motion_end",
            {"duration": round(self.last_motion - self.active_since, 2), "peak": round(self.peak, 2)},
            time=now,
        )
        self.active_since, self.peak = None, 0.0
        return event
