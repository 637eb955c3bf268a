"""A vendor's analytics plugin as kedirivms sees it: a class named by an entry point in the group ``kedirivms``."""

from __future__ import annotations

from typing import Any

import pluggy
from pydantic import BaseModel, ConfigDict, Field

# A vendor may depend on kedirivms and use `from kedirivms import hookimpl`; the marker is also just pluggy's.
hookimpl = pluggy.HookimplMarker("kedirivms")


class BrightnessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    every: int = Field(default=1, ge=1, description="Emit one event every N frames.")


class BrightnessPlugin:
    name = "brightness"
    version = "0.3.1"
    Config = BrightnessConfig
    max_fps = 5.0
    contract = "1.0"

    def __init__(self) -> None:
        self.every = 1
        self.camera = ""

    @hookimpl
    def on_start(self, camera: Any, config: BrightnessConfig) -> None:
        self.every = config.every
        self.camera = camera.name

    @hookimpl
    def on_frame(self, frame: Any, ctx: Any) -> Any:
        if ctx.seq % self.every == 0:
            y = frame.y
            return ctx.event("brightness", {"mean": float(y.mean()), "shape": list(y.shape), "seq": ctx.seq})
        return None
