"""Small JPEG snapshots for the centre's page, sent as ``snapshot`` events through the ordinary event path.

A snapshot is a JPEG (320 px wide, quality 60 by default: 8 to 20 KiB) carried base64-encoded in an event's data,
at most one per camera per ``interval`` seconds: the page shows the latest one on each counter's tile.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from typing import Any

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from kedirivms.analytics import Event
from kedirivms.analytics.hookspecs import hookimpl
from kedirivms.errors import ConfigError

__all__ = ["SnapshotConfig", "SnapshotPlugin", "SnapshotThrottle", "snapshot_event"]


def snapshot_event(
    camera: str, image: np.ndarray, *, width: int = 320, quality: int = 60, when: float | None = None
) -> Event:
    """A ``snapshot`` event holding ``image`` scaled to ``width`` pixels as a JPEG.

    Args:
        camera: camera name.
        image: a grey (H, W) or BGR (H, W, 3) uint8 array (read only; not kept).
        width: width of the JPEG in pixels (height keeps the aspect ratio).
        quality: JPEG quality, 1-100.
        when: the frame's wall-clock time (default: now).

    Raises:
        ConfigError: not a grey or BGR uint8 image, or the JPEG encoder refused it.

    Example:
        >>> ev = snapshot_event("counter-1", np.zeros((720, 1280), np.uint8))
        >>> ev.kind, ev.data["width"], ev.data["height"]
        ('snapshot', 320, 180)
    """
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ConfigError(
            f"a snapshot needs a grey (H, W) or BGR (H, W, 3) uint8 image, got {image.shape} {image.dtype}"
        )
    h, w = image.shape[:2]
    width = max(16, min(width, w))
    height = max(1, round(h * width / w))
    # Pillow, not OpenCV: opencv-python carries its own FFmpeg build, which a plugin should not load into every
    # worker beside PyAV's (the recorder's muxer lives there)
    picture = Image.fromarray(image if image.ndim == 2 else np.ascontiguousarray(image[..., ::-1]))
    small = picture.resize((width, height), Image.Resampling.BOX)  # an area average, like INTER_AREA
    buf = io.BytesIO()
    try:
        small.save(buf, "JPEG", quality=max(1, min(quality, 95)))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the JPEG encoder refused the snapshot of {camera}: {exc}") from None
    jpeg = buf.getvalue()
    return Event(
        camera=camera, source="snapshot", kind="snapshot", time=time.time() if when is None else when,
        data={"jpeg": base64.b64encode(jpeg).decode(), "width": width, "height": height},
    )  # fmt: skip


class SnapshotThrottle:
    """At most one snapshot per camera per ``interval`` seconds (thread-safe).

    Example:
        >>> t = SnapshotThrottle(10.0)
        >>> t.due("c1", now=100.0), t.due("c1", now=105.0), t.due("c1", now=110.0)
        (True, False, True)
    """

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def due(self, camera: str, *, now: float | None = None) -> bool:
        """Whether a snapshot of ``camera`` is due now (and, if so, count it as taken)."""
        t = time.monotonic() if now is None else now
        with self._lock:
            if t - self._last.get(camera, -1e18) < self.interval:
                return False
            self._last[camera] = t
            return True


class SnapshotConfig(BaseModel):
    """Settings of the ``snapshot`` plugin (per camera, in the fleet file's plugin ``config``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    interval_s: float = Field(30.0, ge=1.0, le=3600.0, description="One snapshot per camera every this many s.")
    width: int = Field(320, ge=16, le=1920, description="JPEG width in pixels (height keeps the aspect ratio).")
    quality: int = Field(60, ge=10, le=95, description="JPEG quality.")


class SnapshotPlugin:
    """Analytics plugin ``snapshot``: a small JPEG of the camera every ``interval_s`` as a ``snapshot`` event,
    which workers publish like any event and the centre's page shows on the counter's tile.

    In a fleet file: ``plugins: [{name: snapshot, config: {interval_s: 30}}]`` (registered through the
    ``kedirivms`` entry-point group of this distribution).
    """

    name = "snapshot"
    version = "1"
    Config = SnapshotConfig
    max_fps: float | None = 1.0

    def __init__(self) -> None:
        self._throttle = SnapshotThrottle(30.0)
        self._config = SnapshotConfig()

    @hookimpl
    def on_start(self, config: SnapshotConfig) -> None:
        self._config = config
        self._throttle = SnapshotThrottle(config.interval_s)

    @hookimpl
    def on_frame(self, frame: Any, ctx: Any) -> Event | None:
        if not self._throttle.due(ctx.camera.name):
            return None
        cfg = self._config
        return snapshot_event(ctx.camera.name, frame.to_bgr(), width=cfg.width, quality=cfg.quality, when=frame.time)
