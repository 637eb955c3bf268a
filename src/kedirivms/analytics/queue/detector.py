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
from collections import deque
from typing import Protocol, runtime_checkable

import cv2
import numpy as np
import supervision as sv
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field

from kedirivms.errors import InvalidArgument

__all__ = ["BackgroundDetector", "BackgroundDetectorConfig", "PersonDetector", "empty_detections", "person_detections"]


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


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))`` intersection over union of two ``(N, 4)`` box arrays (xyxy; 0 where a union is empty)."""
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def person_detections(
    xyxy: ArrayLike, confidence: ArrayLike | float, tracker_id: ArrayLike | None = None
) -> sv.Detections:
    """People's boxes as :class:`supervision.Detections`: what a :class:`PersonDetector` returns.

    Args:
        xyxy: ``(N, 4)`` boxes in picture pixels (any sequence of four numbers each; none gives an empty result).
        confidence: one score per box, or one score for all.
        tracker_id: optional ids, one per box.
    """
    boxes = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
    n = len(boxes)
    if not n and tracker_id is None:
        return empty_detections()
    scores = np.broadcast_to(np.asarray(confidence, dtype=np.float32), (n,)).copy()
    ids = None if tracker_id is None else np.asarray(tracker_id, dtype=int).reshape(n)
    return sv.Detections(xyxy=boxes, confidence=scores, class_id=np.zeros(n, dtype=int), tracker_id=ids)


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
    split_merged: bool = Field(
        default=True,
        description="Cut a blob of people touching in a line into one box each, where its outline narrows "
        "between them (never on size alone: a tall or bulky person stays one).",
    )
    person_area: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Area of one person, fraction of the picture (sets the length of one person for cutting); "
        "default: learned from recent blobs that look like one person.",
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
        self._reach = _RIM_KERNEL
        self._lengths: deque[float] = deque(maxlen=300)  # lengths of blobs that look like one person, px
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
        reach = _kernel(0.05, y.shape[0])
        self._reach = reach if reach is not None else _RIM_KERNEL

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
        self._learn(y, t, fg, diff, gain)
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

    def _learn(self, y: np.ndarray, t: float, fg: np.ndarray, diff: np.ndarray, gain: float) -> None:
        assert self._bg is not None
        dt = max(0.0, t - (self._t if self._t is not None else t)) or 0.1
        self._t = t
        a_free = 1.0 - math.exp(-dt / self.config.learn_s)
        a_blob = 1.0 - math.exp(-dt / self.config.absorb_s)
        # Only floor that is clearly free learns fast. A person whose clothes are close to the floor's grey has
        # many pixels just under the threshold (noise): learning those at the fast rate pulls the background
        # towards the person, more of them drop under the threshold, and a still line fades out of the picture
        # within half a minute. So a margin round every blob learns slowly, and so do the pixels above half the
        # threshold within a person's reach of a blob (elsewhere, e.g. a shadow on free floor, they learn fast).
        margin = cv2.dilate(fg, self._kernels[1] if self._kernels[1] is not None else _RIM_KERNEL)
        _, near = cv2.threshold(diff, self.config.threshold // 2, 255, cv2.THRESH_BINARY)
        reach = cv2.dilate(fg, self._reach)
        slow = cv2.bitwise_or(margin, cv2.bitwise_and(near, reach))
        # Learn the flicker-free picture so the background does not chase the lights.
        target = y if abs(gain - 1.0) < 1e-3 else cv2.convertScaleAbs(y, alpha=1.0 / gain)
        cv2.accumulateWeighted(target, self._bg, a_free, mask=cv2.bitwise_not(slow))
        cv2.accumulateWeighted(target, self._bg, a_blob, mask=slow)

    def _boxes(self, fg: np.ndarray) -> sv.Detections:
        h, w = fg.shape
        count, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        if count <= 1:
            return empty_detections()
        area = stats[1:, cv2.CC_STAT_AREA].astype(np.float64) / float(w * h)
        keep = np.nonzero((area >= self.config.min_area) & (area <= self.config.max_area))[0] + 1
        if len(keep) == 0:
            return empty_detections()
        length = self._person_length(w * h)
        boxes: list[np.ndarray] = []
        scores: list[float] = []
        singles: list[float] = []
        for label in keep:
            x, y, bw, bh, px = (int(v) for v in stats[label])
            fill = px / max(bw * bh, 1)
            score = float(np.clip(0.5 + fill, 0.5, 1.0))  # solid blobs score higher than streaks
            if self.config.split_merged:
                parts, extent = _cut(labels[y : y + bh, x : x + bw] == label, length)
                if len(parts) == 1:
                    singles.append(extent)
            else:
                parts = [np.array([0, 0, bw, bh], dtype=np.float32)]
            for box in parts:
                boxes.append(box + np.array([x, y, x, y], dtype=np.float32))
                scores.append(score)
        self._learn_length(singles)
        return person_detections(np.stack(boxes), scores)

    def _person_length(self, frame_px: int) -> float:
        """One person's length along a blob's long axis, pixels: from ``person_area``, or learned; 0: unknown."""
        if self.config.person_area is not None:
            # a person is a little longer than wide: an ellipse of that area with axes 1 : 1.2
            return 2.0 * math.sqrt(self.config.person_area * frame_px * 1.2 / math.pi)
        if len(self._lengths) < 20:
            return 0.0  # not enough evidence yet: no cutting
        return float(np.median(self._lengths))

    def _learn_length(self, lengths: list[float]) -> None:
        """Remember the lengths of blobs that look like one person (a still line of merged people must not
        become the measure of one person, nor fragments of a person)."""
        if self.config.person_area is not None:
            return
        ref = float(np.median(self._lengths)) if len(self._lengths) >= 20 else None
        for value in lengths:
            if ref is None or 0.6 * ref <= value <= 1.6 * ref:
                self._lengths.append(value)


_WAIST = 0.75  # a cut needs the blob this much narrower than the widest part on either side
_MIN_PART = 0.6  # ... and each part at least this many person lengths long (a head above a neck is not a person)
_LONG = 1.7  # a part without waists this many person lengths long is still cut (people pressed together)


def _cut(blob: np.ndarray, person_len: float) -> tuple[list[np.ndarray], float]:
    """Cut a blob of people touching in a line into one box per person, on shape evidence only.

    The blob's width is profiled along its principal axis. Two people touching leave a waist between them (the
    outline narrows where two bodies meet); one tall or bulky person does not. A cut is made at a waist when both
    sides are at least ``_MIN_PART`` of a person long; a part with no waist is still cut when it is over ``_LONG``
    person lengths (people pressed together). Area alone never cuts.

    Args:
        blob: the blob's mask (bool, its bounding box).
        person_len: one person's length, pixels; 0 when unknown (nothing is cut).

    Returns:
        Boxes (blob coordinates, ``xyxy``) and the blob's length along its principal axis, pixels.
    """
    ys, xs = np.nonzero(blob)
    whole = [np.array([0, 0, blob.shape[1], blob.shape[0]], dtype=np.float32)]
    if len(xs) < 6:
        return whole, float(max(blob.shape))
    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    centred = pts - pts.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    along = centred @ vt[0]
    pos = np.floor(along - along.min()).astype(np.intp)
    width = np.bincount(pos).astype(np.float64)
    extent = float(len(width))
    if person_len <= 0 or extent < 2 * _MIN_PART * person_len:
        return whole, extent
    profile = np.convolve(width, np.ones(3) / 3.0, mode="same")
    bounds = [0, *_waists(profile, _MIN_PART * person_len), len(width)]
    edges: list[float] = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        n = round((b - a) / person_len) if b - a >= _LONG * person_len else 1
        edges += np.linspace(a, b, n + 1)[:-1].tolist()
    edges.append(float(len(width)))
    if len(edges) == 2:
        return whole, extent
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = pts[(pos >= lo) & (pos < hi)]
        if len(sel):
            out.append(
                np.array([sel[:, 0].min(), sel[:, 1].min(), sel[:, 0].max() + 1, sel[:, 1].max() + 1], np.float32)
            )
    return out, extent


def _waists(profile: np.ndarray, min_part: float) -> list[int]:
    """Positions along a width profile where the blob narrows between two wider parts, deepest first, kept when
    every part is at least ``min_part`` long; sorted."""
    n = len(profile)
    found: list[tuple[float, int]] = []
    for k in range(1, n - 1):
        if profile[k] > profile[k - 1] or profile[k] > profile[k + 1]:
            continue
        side = min(profile[:k].max(), profile[k + 1 :].max())
        if side > 0 and profile[k] <= _WAIST * side:
            found.append((profile[k] / side, k))
    cuts: list[int] = []
    for _, k in sorted(found):
        if k >= min_part and n - k >= min_part and all(abs(k - c) >= min_part for c in cuts):
            cuts.append(k)
    return sorted(cuts)


def _gradient(img: np.ndarray) -> np.ndarray:
    """Gradient magnitude (L1) of a small patch, float32."""
    src = img.astype(np.float32)
    return np.abs(cv2.Sobel(src, cv2.CV_32F, 1, 0, ksize=3)) + np.abs(cv2.Sobel(src, cv2.CV_32F, 0, 1, ksize=3))
