"""Person detectors for the queue plugin: the CPU background-subtraction default and the detector protocol.

A detector turns one luma picture into person boxes (:class:`supervision.Detections`, pixel ``xyxy``). The
default, :class:`BackgroundDetector`, needs no model: it keeps a per-pixel background of the fixed camera view and
reports the blobs that differ from it. Stationary people (a queue stands still for minutes) are not learned into
the background quickly, because pixels under a blob update with a much longer time constant (``absorb_s``) than
free floor (``learn_s``); global brightness flicker is divided out before comparing.

Start it on an empty view when you can: whoever stands in the first frame is part of the initial background and
leaves a "ghost" blob behind when they move, which fades over ``absorb_s`` (or call
:meth:`BackgroundDetector.set_background` with a snapshot of the empty hall).
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import cv2
import numpy as np
import supervision as sv
from pydantic import BaseModel, ConfigDict, Field

from kedirivms.errors import InvalidArgument

__all__ = ["BackgroundDetector", "BackgroundDetectorConfig", "PersonDetector", "empty_detections"]


@runtime_checkable
class PersonDetector(Protocol):
    """What the queue analyzer needs from a detector.

    ``detect`` receives a read-only ``(H, W)`` uint8 luma view (never write into it, never keep it) and the frame
    time in seconds, and returns person boxes in pixels with a ``confidence`` per box.
    """

    def detect(self, y: np.ndarray, t: float) -> sv.Detections:
        """Person boxes in this picture (``xyxy`` pixels, ``confidence``, ``class_id``)."""
        ...


def empty_detections() -> sv.Detections:
    """An empty :class:`supervision.Detections` with confidence and class arrays (what trackers expect)."""
    return sv.Detections(
        xyxy=np.zeros((0, 4), dtype=np.float32),
        confidence=np.zeros(0, dtype=np.float32),
        class_id=np.zeros(0, dtype=int),
    )


class BackgroundDetectorConfig(BaseModel):
    """Tuning of :class:`BackgroundDetector` (areas are fractions of the picture so they hold at any size)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: int = Field(default=28, ge=4, le=200, description="Luma difference that counts as foreground.")
    learn_s: float = Field(default=6.0, gt=0, description="Background time constant on free floor, seconds.")
    absorb_s: float = Field(
        default=1800.0, gt=0, description="Time constant under blobs: how long until a still object fades, s."
    )
    min_area: float = Field(default=0.0004, gt=0, lt=1, description="Smallest person blob, fraction of frame.")
    max_area: float = Field(default=0.03, gt=0, le=1, description="Largest person blob, fraction of frame.")
    open_px: float = Field(
        default=0.006, ge=0, description="Opening kernel (removes speckle), fraction of the picture height."
    )
    close_px: float = Field(
        default=0.012, ge=0, description="Closing kernel (fills holes in a body), fraction of the picture height."
    )
    ghost_ratio: float = Field(
        default=0.5,
        ge=0,
        description="A blob whose outline is this much weaker in the frame than in the background is a ghost "
        "(something that left); it is erased from the background at once. 0 disables the check.",
    )
    background: str | None = Field(
        default=None, description="Image file of the empty view to start from (grey or colour; resized)."
    )


_RIM_KERNEL = np.ones((3, 3), dtype=np.uint8)


def _kernel(fraction: float, height: int) -> np.ndarray | None:
    size = int(round(fraction * height))
    if size < 2:
        return None
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size | 1, size | 1))


class BackgroundDetector:
    """CPU person detector: adaptive background, blobs, boxes.

    Args:
        config: tuning; defaults suit a fixed camera over a service hall at 320x180 and up.

    Example:
        >>> det = BackgroundDetector()
        >>> boxes = det.detect(frame.y, frame.time)   # supervision.Detections, pixel xyxy
    """

    def __init__(self, config: BackgroundDetectorConfig | None = None) -> None:
        self.config = config or BackgroundDetectorConfig()
        self._bg: np.ndarray | None = None
        self._t: float | None = None
        self._kernels: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
        self.foreground: np.ndarray | None = None
        """The last foreground mask ((H, W) uint8, 0/255), kept for previews and debugging."""

    def reset(self) -> None:
        """Forget the background (the next frame becomes the new one)."""
        self._bg = None
        self._t = None

    def set_background(self, y: np.ndarray) -> None:
        """Use a snapshot of the empty view as the background.

        Args:
            y: ``(H, W)`` uint8 luma (copied).
        """
        self._bg = np.asarray(y, dtype=np.float32).copy()
        self._kernels = (_kernel(self.config.open_px, y.shape[0]), _kernel(self.config.close_px, y.shape[0]))

    def detect(self, y: np.ndarray, t: float) -> sv.Detections:
        """Find person blobs.

        Args:
            y: ``(H, W)`` uint8 luma; only read (OpenCV reads it in place, no copy is made).
            t: frame time, seconds (sets how far the background adapts since the previous frame).

        Returns:
            A new :class:`supervision.Detections` (float32 ``xyxy`` pixels, ``confidence`` in (0, 1],
            ``class_id`` 0).

        Raises:
            InvalidArgument: ``y`` is not a 2-D uint8 array, or its size changed without :meth:`reset`.
        """
        if y.ndim != 2 or y.dtype != np.uint8:
            raise InvalidArgument(f"expected an (H, W) uint8 luma array, got {y.dtype} {y.shape}", operation="detect")
        if self._bg is None:
            start = self._load_background(y.shape) if self.config.background else y
            self.set_background(start)
            self._t = t
            if start is y:
                return empty_detections()
        bg = self._bg
        assert bg is not None
        if bg.shape != y.shape:
            raise InvalidArgument(
                f"frame size changed from {bg.shape[::-1]} to {y.shape[::-1]}",
                operation="detect",
                hint="call reset() when the stream resolution changes",
            )
        # Global gain: the median of a sparse grid is robust to the few pixels people cover.
        ref = float(np.median(bg[::6, ::6]))
        gain = float(np.median(y[::6, ::6])) / ref if ref > 1.0 else 1.0
        expected = cv2.convertScaleAbs(bg, alpha=gain)
        diff = cv2.absdiff(y, expected)
        _, fg = cv2.threshold(diff, self.config.threshold, 255, cv2.THRESH_BINARY)
        k_open, k_close = self._kernels
        if k_open is not None:
            fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, k_open)
        if k_close is not None:
            fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, k_close)
        if self.config.ghost_ratio > 0:
            fg = self._drop_ghosts(y, fg, gain)
        self.foreground = fg
        self._learn(y, t, fg, gain)
        return self._boxes(fg)

    def _load_background(self, shape: tuple[int, ...]) -> np.ndarray:
        path = str(self.config.background)
        img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise InvalidArgument(f"cannot read background image {path}", operation="detect")
        if img.shape != shape:
            img = cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        return img

    def _drop_ghosts(self, y: np.ndarray, fg: np.ndarray, gain: float) -> np.ndarray:
        """Erase blobs left behind by objects that moved away (their edges are in the background only)."""
        assert self._bg is not None
        count, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        h, w = fg.shape
        for i in range(1, count):
            x, yy, bw, bh, area = stats[i]
            if area < self.config.min_area * w * h:
                continue
            x0, y0 = max(x - 2, 0), max(yy - 2, 0)
            x1, y1 = min(x + bw + 2, w), min(yy + bh + 2, h)
            blob = (labels[y0:y1, x0:x1] == i).astype(np.uint8)
            rim = blob - cv2.erode(blob, _RIM_KERNEL)  # the blob's outline pixels
            rim_px = rim.astype(bool)
            if rim_px.sum() < 4:
                continue
            edges_now = _gradient(y[y0:y1, x0:x1])[rim_px].mean()
            edges_bg = _gradient(self._bg[y0:y1, x0:x1] * gain)[rim_px].mean()
            if edges_now < self.config.ghost_ratio * edges_bg:
                sel = blob.astype(bool)
                self._bg[y0:y1, x0:x1][sel] = y[y0:y1, x0:x1][sel] / gain
                fg[labels == i] = 0  # fg is our own array (threshold/morphology output), safe to edit
        return fg

    def _learn(self, y: np.ndarray, t: float, fg: np.ndarray, gain: float) -> None:
        assert self._bg is not None
        dt = max(0.0, t - (self._t if self._t is not None else t)) or 0.1
        self._t = t
        a_free = 1.0 - math.exp(-dt / self.config.learn_s)
        a_blob = 1.0 - math.exp(-dt / self.config.absorb_s)
        # Learn the flicker-free picture so the background does not chase the lights.
        target = y if abs(gain - 1.0) < 1e-3 else cv2.convertScaleAbs(y, alpha=1.0 / gain)
        cv2.accumulateWeighted(target, self._bg, a_free, mask=cv2.bitwise_not(fg))
        cv2.accumulateWeighted(target, self._bg, a_blob, mask=fg)

    def _boxes(self, fg: np.ndarray) -> sv.Detections:
        h, w = fg.shape
        count, _, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        if count <= 1:
            return empty_detections()
        stats = stats[1:]
        area = stats[:, cv2.CC_STAT_AREA].astype(np.float64) / float(w * h)
        keep = (area >= self.config.min_area) & (area <= self.config.max_area)
        stats = stats[keep]
        if len(stats) == 0:
            return empty_detections()
        x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
        bw, bh = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
        xyxy = np.stack([x, y, x + bw, y + bh], axis=1).astype(np.float32)
        fill = stats[:, cv2.CC_STAT_AREA] / np.maximum(bw * bh, 1)
        confidence = np.clip(0.5 + fill, 0.5, 1.0).astype(np.float32)  # solid blobs score higher than streaks
        return sv.Detections(xyxy=xyxy, confidence=confidence, class_id=np.zeros(len(xyxy), dtype=int))


def _gradient(img: np.ndarray) -> np.ndarray:
    """Gradient magnitude (L1) of a small patch, float32."""
    src = img.astype(np.float32)
    return np.abs(cv2.Sobel(src, cv2.CV_32F, 1, 0, ksize=3)) + np.abs(cv2.Sobel(src, cv2.CV_32F, 0, 1, ksize=3))
