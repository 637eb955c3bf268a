"""A second model pass on the queue line's own crop: people standing close together, seen larger.

The first pass feeds the model the zones' bounding box at a fixed cost, about 0.8 model pixels per camera pixel
on a 640x360 camera. In a line seen obliquely each person stands half behind the one in front, and at that scale
the small model gives one box for two people or loses the one behind (measured on the counter scene's tight
line: of the people the first pass missed, most had a box the model proposed and non-maximum suppression removed
in favour of a neighbour's). Fed the queue zone alone at about one model pixel per camera pixel, the model tells
them apart. :class:`LinePass` says where that crop is, when it is worth running, and how its people replace the
first pass's people in the queue zone.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import supervision as sv

from kedirivms.analytics.queue.detector import person_detections
from kedirivms.analytics.zones import Zone
from kedirivms.errors import ConfigError

__all__ = ["MAX_BUSY", "MIN_GAIN", "LinePass", "LinePassMode"]

LinePassMode = Literal["off", "auto", "always"]
MIN_GAIN = 1.2
"""The line pass runs only when it sees people at least this much larger than the first pass does."""
MAX_BUSY = 0.5
"""``auto`` skips the line pass while the shared model is busier than this (share of its time, last 2 s)."""


@dataclass(frozen=True)
class LinePass:
    """Where and when the second pass runs.

    Args:
        zone: the queue zone's polygon, fractions of the picture (at least three points).
        mode: ``"auto"``: run when the first pass finds at least ``min_people`` people standing in the zone and
            the shared model has time to spare (no other camera's picture waiting, and batches ran under
            ``MAX_BUSY`` of its time over the last 2 s); ``"always"``: run on every detection.
        scale: model pixels per camera pixel in the crop (the first pass gives about 0.8 on a 640x360 camera);
            less when the crop would cost more model pixels than the model's own input box. The pass is skipped
            when that is not at least ``MIN_GAIN`` times the first pass's scale (a line filling the picture).
        min_people: people the first pass must find in the zone for ``"auto"`` to run the pass.
        head: margin above the zone's bounding box, fraction of the picture's height (the heads of people whose
            feet are at the zone's far edge).
        side: margin on the other sides, fraction of the picture's width (left, right) and height (bottom).

    Raises:
        ConfigError: a polygon of fewer than three points, or a scale or margin out of range.
    """

    zone: tuple[tuple[float, float], ...]
    mode: Literal["auto", "always"] = "auto"
    scale: float = 1.0
    min_people: int = 1
    head: float = 0.2
    side: float = 0.03

    def __post_init__(self) -> None:
        if len(self.zone) < 3:
            raise ConfigError("the line pass needs the queue zone's polygon (3 points or more)", operation="queue")
        if not 0.1 <= self.scale <= 4.0:
            raise ConfigError(f"line pass scale {self.scale} is not within 0.1-4", operation="queue detector")
        if not (0 <= self.head <= 1 and 0 <= self.side <= 1):
            raise ConfigError("line pass margins are fractions of the picture (0-1)", operation="queue detector")

    def crop(self, w: int, h: int) -> tuple[int, int, int, int] | None:
        """The crop ``(x, y, width, height)`` in pixels of a ``w`` x ``h`` picture (even origin); ``None``: empty."""
        pts = np.asarray(self.zone, dtype=np.float64)
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        px0 = int(max(0.0, x0 - self.side) * w) & ~1
        py0 = int(max(0.0, y0 - self.head) * h) & ~1
        px1 = min(w, math.ceil(min(1.0, x1 + self.side) * w))
        py1 = min(h, math.ceil(min(1.0, y1 + self.side) * h))
        if px1 - px0 < 8 or py1 - py0 < 8:
            return None
        return px0, py0, px1 - px0, py1 - py0

    def plan_scale(self, crop_wh: tuple[int, int], first_scale: float, max_pixels: int) -> float | None:
        """The crop's scale in the model, or ``None`` when the pass would not see people larger than the first.

        Args:
            crop_wh: the crop's size, pixels.
            first_scale: model pixels per camera pixel of the first pass.
            max_pixels: most model pixels the pass may cost (the model's own input box, e.g. 416 x 416): a line
                that fills a large picture is not fed at full size.
        """
        scale = min(self.scale, math.sqrt(max_pixels / max(1, crop_wh[0] * crop_wh[1])))
        return scale if scale >= MIN_GAIN * first_scale else None

    def inside(self, xyxy: np.ndarray, w: int, h: int) -> np.ndarray:
        """Which boxes (``(N, 4)`` pixels) stand in the zone: their bottom centre (the feet) is in the polygon.

        The test is the zone's own (:meth:`kedirivms.analytics.zones.Zone.contains`): a foot is inside when its
        pixel is in the polygon rasterised at ``w`` x ``h``, the edge pixels included; outside the picture it is
        outside.
        """
        boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        if len(boxes) == 0:
            return np.zeros(0, dtype=bool)
        feet = person_detections(boxes, 1.0).get_anchors_coordinates(sv.Position.BOTTOM_CENTER)
        return self._polygon.contains(feet, (w, h))

    @functools.cached_property
    def _polygon(self) -> Zone:
        return Zone(name="line_pass", kind="queue", points=self.zone)

    def wanted(self, first: sv.Detections, w: int, h: int, *, model_busy: bool) -> bool:
        """Whether to run the pass after ``first`` (the first pass's people in a ``w`` x ``h`` picture).

        ``model_busy``: other cameras' pictures wait for the shared model, or it ran batches more than
        ``MAX_BUSY`` of its time over the last 2 s (``auto`` uses spare model time only).
        """
        if self.mode == "always":
            return True
        if model_busy:
            return False
        return int(self.inside(np.asarray(first.xyxy), w, h).sum()) >= self.min_people

    def merge(self, first: sv.Detections, second: sv.Detections, w: int, h: int, nms_iou: float) -> sv.Detections:
        """The first pass's people outside the zone and the second's inside it (duplicates at its edge dropped).

        Args:
            first: the first pass's people (whole-picture pixels).
            second: the line pass's people (whole-picture pixels).
            w: picture width, pixels.
            h: picture height, pixels.
            nms_iou: overlap above which the weaker of two boxes is dropped (someone standing at the zone's edge,
                seen by both passes).
        """
        a, b = np.asarray(first.xyxy), np.asarray(second.xyxy)
        keep_a, keep_b = ~self.inside(a, w, h), self.inside(b, w, h)
        conf_a = np.asarray(first.confidence if first.confidence is not None else np.ones(len(a)), np.float32)
        conf_b = np.asarray(second.confidence if second.confidence is not None else np.ones(len(b)), np.float32)
        xyxy = np.concatenate([a[keep_a], b[keep_b]]).reshape(-1, 4)
        conf = np.concatenate([conf_a[keep_a], conf_b[keep_b]])
        out = person_detections(xyxy, conf)
        return out.with_nms(threshold=nms_iou) if len(out) > 1 else out
