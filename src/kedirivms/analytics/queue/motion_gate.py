"""Motion gate: a DNN detection counts as a person only once something moved where it stands.

Person detectors fire on still things that look like people: a sign post, a coat on a rack, a poster, a
mannequin. Those never move; people do (they walk in, shift their weight, turn their heads). The gate compares
each detection picture with the previous one at low resolution and marks a track *confirmed* the first time a
few per cent of its box changed, ignoring change inside other people's boxes (someone walking past a sign does
not confirm the sign). A confirmed track stays confirmed for its whole life, and a new track that appears where
a confirmed one was lost (an ID switch) inherits it, so people standing still in a line keep counting.

The cost: a person who has not moved at all since the analyzer started is not counted until they do (a seated
clerk counts from their first movement). Turn the gate off (``motion_gate: false``) for cameras whose pictures
have no motion between detections (a timelapse).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import supervision as sv
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MotionGate", "MotionGateConfig"]


class MotionGateConfig(BaseModel):
    """Tuning of :class:`MotionGate`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Count detections only once they have been seen moving.")
    width: int = Field(default=256, ge=32, le=1920, description="Width of the low-resolution comparison, pixels.")
    threshold: int = Field(default=18, ge=2, le=255, description="Luma change that counts as motion.")
    moving_fraction: float = Field(
        default=0.04, gt=0, lt=1, description="Share of a box's pixels that must change to confirm it."
    )
    max_gap_s: float = Field(
        default=3.0, gt=0, description="Compare only with a picture at most this old (older: no evidence)."
    )
    memory_s: float = Field(
        default=10.0, ge=0, description="A new track inherits a lost confirmed track's status within this, s."
    )
    inherit_iou: float = Field(default=0.3, gt=0, le=1, description="Overlap needed to inherit, IoU.")
    clutter_after_s: float = Field(
        default=5.0,
        gt=0,
        description="A detection that stays unconfirmed at one place this long marks the place as clutter: "
        "later detections there count only while they move (a tracker passing a walker's id to a sign).",
    )


@dataclass
class _Still:
    box: np.ndarray
    first: float
    last: float
    clutter: bool = False


@dataclass
class _Seen:
    box: np.ndarray
    time: float


class MotionGate:
    """Decides which tracked detections are people (see the module docs).

    Args:
        config: tuning.

    Example:
        >>> gate = MotionGate()
        >>> keep = gate.update(frame.y, frame.time, tracked)   # (N,) bool
        >>> people = tracked[keep]
    """

    def __init__(self, config: MotionGateConfig | None = None) -> None:
        self.config = config or MotionGateConfig()
        self._prev: np.ndarray | None = None
        self._prev_t = 0.0
        self._confirmed: dict[int, _Seen] = {}
        self._still: list[_Still] = []

    def reset(self) -> None:
        """Forget every track, every clutter place and the previous picture."""
        self._prev = None
        self._confirmed.clear()
        self._still.clear()

    def update(self, y: np.ndarray, t: float, det: sv.Detections) -> np.ndarray:
        """Feed one detection picture and its tracked detections; return which ones count.

        Args:
            y: ``(H, W)`` uint8 luma (read only).
            t: frame time, seconds.
            det: detections with ``tracker_id`` (``-1`` for untracked ones), in ``y``'s pixels.

        Returns:
            ``(N,)`` bool: True for detections that count as people.
        """
        cfg = self.config
        n = len(det)
        if not cfg.enabled:
            return np.ones(n, dtype=bool)
        h, w = y.shape[:2]
        scale = min(1.0, cfg.width / w)
        small = cv2.resize(y, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        prev, prev_t = self._prev, self._prev_t
        self._prev, self._prev_t = small, t
        ids = det.tracker_id if det.tracker_id is not None else np.full(n, -1, dtype=int)
        if prev is None or prev.shape != small.shape or t - prev_t > cfg.max_gap_s:
            moving = np.zeros(n, dtype=bool)
            no_evidence = True
        else:
            moving = self._moving(small, prev, det.xyxy * scale)
            no_evidence = False
        keep = np.zeros(n, dtype=bool)
        seen_now = {int(i) for i in ids if i >= 0}
        for i in range(n):
            tid = int(ids[i])
            if tid >= 0:
                if tid not in self._confirmed and (moving[i] or self._inherits(det.xyxy[i], t, seen_now)):
                    self._confirmed[tid] = _Seen(det.xyxy[i].copy(), t)
                if tid in self._confirmed:
                    self._confirmed[tid] = _Seen(det.xyxy[i].copy(), t)
                    keep[i] = True
            elif moving[i]:
                keep[i] = True
        if no_evidence and not self._confirmed:
            keep[:] = True  # the very first picture: nothing to compare with yet, count what is seen
        elif not no_evidence:
            self._note_still(det.xyxy, keep, moving, t)
            for idx in np.nonzero(keep & ~moving)[0].tolist():
                if any(c.clutter and _iou(det.xyxy[idx], c.box) >= 0.5 for c in self._still):
                    keep[idx] = False
        for tid in [k for k, s in self._confirmed.items() if k not in seen_now and t - s.time > cfg.memory_s]:
            del self._confirmed[tid]
        return keep

    def _note_still(self, boxes: np.ndarray, keep: np.ndarray, moving: np.ndarray, t: float) -> None:
        """Follow places where an unconfirmed, unmoving detection stays; long enough, they are clutter."""
        touched: set[int] = set()
        for i in np.nonzero(~keep & ~moving)[0].tolist():
            for k, place in enumerate(self._still):
                if _iou(boxes[i], place.box) >= 0.5:
                    place.last = t
                    place.clutter = place.clutter or t - place.first >= self.config.clutter_after_s
                    touched.add(k)
                    break
            else:
                self._still.append(_Still(boxes[i].copy(), t, t))
                touched.add(len(self._still) - 1)
        # a place is forgotten when nothing unconfirmed stood there for a while (a minute for clutter)
        self._still = [
            p for k, p in enumerate(self._still) if k in touched or t - p.last <= (60.0 if p.clutter else 2.0)
        ]

    def _moving(self, small: np.ndarray, prev: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        cfg = self.config
        diff = cv2.absdiff(small, prev)
        changed = diff > cfg.threshold
        if changed.mean() > 0.5:  # a global change (lights, auto exposure, camera moved): no evidence
            return np.zeros(len(boxes), dtype=bool)
        hh, ww = changed.shape
        rects = np.clip(np.round(boxes).astype(int), 0, [ww, hh, ww, hh])
        out = np.zeros(len(boxes), dtype=bool)
        for i, (x0, y0, x1, y1) in enumerate(rects):
            if x1 <= x0 or y1 <= y0:
                continue
            own = np.ones((y1 - y0, x1 - x0), dtype=bool)
            for j, (a0, b0, a1, b1) in enumerate(rects):
                if j != i and a0 < x1 and a1 > x0 and b0 < y1 and b1 > y0:
                    own[max(b0 - y0, 0) : b1 - y0, max(a0 - x0, 0) : a1 - x0] = False
            area = int(own.sum())
            if area == 0:
                continue
            out[i] = changed[y0:y1, x0:x1][own].sum() >= cfg.moving_fraction * area
        return out

    def _inherits(self, box: np.ndarray, t: float, seen_now: set[int]) -> bool:
        """Whether a confirmed track that is gone from this picture was lost where ``box`` is."""
        cfg = self.config
        for tid, seen in self._confirmed.items():
            if tid in seen_now or t - seen.time > cfg.memory_s:
                continue
            if _iou(box, seen.box) >= cfg.inherit_iou:
                return True
        return False


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
