"""Motion gate: what stood still in the picture since the analyzer started is scenery, not a person.

Person detectors fire on still things that look like people: a sign post, a coat on a rack, a poster, a
mannequin. The gate remembers *places*: where detections stand, matched from one detection picture to the next by
box overlap, whatever the tracker's ids (which switch often in a crowded line). A place first seen on the very
first picture is scenery until something moves inside its box, not counting change inside other people's boxes
(so someone walking past a sign does not wake it up). The evidence is the change since the previous detection
picture (a quick movement) and since the oldest one at most ``max_gap_s`` old (a slow shift, as a seated clerk
makes, adds up over seconds); the second only where the place has the same box in both pictures (someone who
came to stand in front of a sign post, their body joined to its box, is not the post moving). A place that
appears later came from somewhere: someone walked there, so it counts from the start. A place nobody stands on for
``memory_s`` is forgotten.

A place of the first picture is *on trial* meanwhile (``start_trial``): it counts from that picture as long as no
comparison with the previous picture finds it perfectly still (not one pixel of its own changed), for at most
``max_gap_s``. A person breathes, blinks and shifts; a post's picture changes only by noise, which ``threshold``
is meant to stay above. So seated clerks and a line that stood still when the analyzer (re)started count from its
first picture, and a sign post drops out at the second.

The cost: after every start a still look-alike counts from the first detection picture to the second, and one
whose picture flickers (noise above ``threshold``) until ``max_gap_s``; a person who stands perfectly still from the
moment the analyzer starts, and whom one comparison finds without a changed pixel, is counted from their first
movement. ``motion_gate: {enabled: false}`` turns the gate off.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np
import supervision as sv
from pydantic import BaseModel, ConfigDict, Field

from kedirivms.analytics.queue.detector import box_iou

__all__ = ["MotionGate", "MotionGateConfig"]


class MotionGateConfig(BaseModel):
    """Tuning of :class:`MotionGate`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Drop detections that have not moved since the start.")
    width: int = Field(default=256, ge=32, le=1920, description="Width of the low-resolution comparison, pixels.")
    threshold: int = Field(default=18, ge=2, le=255, description="Luma change that counts as motion.")
    moving_fraction: float = Field(
        default=0.04, gt=0, lt=1, description="Share of a box's pixels that must change for it to have moved."
    )
    max_gap_s: float = Field(
        default=3.0, gt=0, description="Compare with pictures at most this old, s (older: no evidence)."
    )
    memory_s: float = Field(default=10.0, ge=0, description="A place nobody stands on this long is forgotten, s.")
    same_place_iou: float = Field(default=0.5, gt=0, le=1, description="Overlap of two boxes on the same place.")
    start_trial: bool = Field(
        default=True,
        description="Count a place of the first picture until it is seen perfectly still (at most max_gap_s).",
    )


@dataclass(eq=False)
class _Place:
    box: np.ndarray
    last: float
    person: bool
    trial_until: float = float("-inf")  # a place of the first picture counts until then unless seen still


@dataclass
class _Picture:
    """A detection picture kept as evidence: its low-resolution luma, boxes (in its pixels) and their places."""

    t: float
    small: np.ndarray
    boxes: np.ndarray
    places: list[_Place]


class MotionGate:
    """Decides which detections are people (see the module docs).

    Args:
        config: tuning.

    Example:
        >>> gate = MotionGate()
        >>> keep = gate.update(frame.y, frame.time, detections)   # (N,) bool
        >>> people = detections[keep]
    """

    def __init__(self, config: MotionGateConfig | None = None) -> None:
        self.config = config or MotionGateConfig()
        self._history: deque[_Picture] = deque()  # the detection pictures of the last max_gap_s
        self._started = False
        self._places: list[_Place] = []
        self._shrunk: tuple[float, np.ndarray, float, np.ndarray] | None = None  # the last (t, y, scale, small)

    def reset(self) -> None:
        """Forget every place and the previous picture (the next picture is a new start)."""
        self._history.clear()
        self._started = False
        self._places.clear()
        self._shrunk = None

    def update(self, y: np.ndarray, t: float, det: sv.Detections) -> np.ndarray:
        """Feed one detection picture and its detections; return which ones count as people.

        Args:
            y: ``(H, W)`` uint8 luma (read only).
            t: frame time, seconds.
            det: detections in ``y``'s pixels.

        Returns:
            ``(N,)`` bool: True for detections that count as people.
        """
        cfg = self.config
        n = len(det)
        if not cfg.enabled:
            return np.ones(n, dtype=bool)
        scale, small = self._shrink(y, t)
        boxes = det.xyxy * scale
        history = self._history
        while history and (t - history[0].t > cfg.max_gap_s or history[0].small.shape != small.shape):
            history.popleft()
        first = not self._started
        self._started = True
        places = self._match(det.xyxy, t, first)
        moving = np.zeros(n, dtype=bool)
        undecided = np.array([not p.person for p in places], dtype=bool)  # only these need evidence
        # evidence from the previous picture (a quick movement) and from the oldest one still recent enough (a slow
        # shift, as a seated clerk makes, adds up between pictures far apart)
        if history and undecided.any():
            moved, still = self._compare(small, boxes, places, history[-1], undecided)
            moving |= moved
            for i in np.nonzero(still)[0].tolist():
                places[i].trial_until = float("-inf")  # perfectly still: not a person on trial any more
        if len(history) > 1 and (undecided & ~moving).any():
            # only for a place in the same box in both pictures: someone who came to stand in front of a sign post
            # (the detector joins them to its box) and left again is change there, not the post moving
            ask = undecided & ~moving & _same_box(det.xyxy, places, history[0], scale)
            moving |= self._compare(small, boxes, places, history[0], ask)[0]
        keep = np.zeros(n, dtype=bool)
        for i, place in enumerate(places):
            place.person = place.person or bool(moving[i])
            keep[i] = place.person or t <= place.trial_until
        history.append(_Picture(t, small, boxes, places))
        self._places = [p for p in self._places if t - p.last <= cfg.memory_s]
        return keep

    def unexplained(
        self, y: np.ndarray, t: float, boxes: np.ndarray, min_area: float = 0.001
    ) -> list[tuple[int, int, int, int]]:
        """Where the picture changed since the last detection picture and no box explains it (call before
        :meth:`update` with the same picture): a person the detector missed, or anything else that moved.

        Change inside ``boxes`` (this picture's people) and the last picture's boxes, each grown by a quarter of its
        size, is theirs. Args: ``y`` luma (read only); ``t`` its time; ``boxes`` ``(N, 4)`` in ``y``'s pixels;
        ``min_area`` the least share of the picture a region of change must cover.

        Returns:
            ``(x, y, width, height)`` in ``y``'s pixels, largest first; none when the gate is off, there is no
            recent picture (older than ``max_gap_s``) or most of the picture changed (lights, exposure).
        """
        cfg = self.config
        if not cfg.enabled or not self._history or t - self._history[-1].t > cfg.max_gap_s:
            return []
        ref = self._history[-1]
        h, w = y.shape[:2]
        scale, small = self._shrink(y, t)
        if small.shape != ref.small.shape:
            return []
        changed = (cv2.absdiff(small, ref.small) > cfg.threshold).astype(np.uint8)
        if changed.mean() > 0.5:
            return []
        hh, ww = changed.shape
        both = np.vstack([np.asarray(boxes, dtype=np.float64).reshape(-1, 4) * scale, ref.boxes.reshape(-1, 4)])
        grow = (both[:, 2:] - both[:, :2]) * 0.25
        lo = np.clip(np.floor(both[:, :2] - grow), 0, [ww, hh]).astype(int)
        hi = np.clip(np.ceil(both[:, 2:] + grow), 0, [ww, hh]).astype(int)
        for (x0, y0), (x1, y1) in zip(lo.tolist(), hi.tolist(), strict=True):
            changed[y0:y1, x0:x1] = 0
        n, _, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(changed, np.ones((3, 3), np.uint8)))
        out = []
        for i in sorted(range(1, n), key=lambda k: -int(stats[k, 4])):
            if stats[i, 4] < min_area * hh * ww:
                break
            x, yy, bw, bh = stats[i, :4].tolist()
            x0, y0 = int(x / scale), int(yy / scale)
            out.append((x0, y0, min(w, math.ceil((x + bw) / scale)) - x0, min(h, math.ceil((yy + bh) / scale)) - y0))
        return out

    def _match(self, xyxy: np.ndarray, t: float, first: bool) -> list[_Place]:
        """The place of each detection: a known one it overlaps (surest matches first), else a new one."""
        cfg = self.config
        known = len(self._places)
        overlap = box_iou(xyxy, np.array([p.box for p in self._places]).reshape(-1, 4))
        best = overlap.max(axis=1) if known else np.zeros(len(xyxy))
        places: list[_Place | None] = [None] * len(xyxy)
        for i in np.argsort(-best).tolist():
            k = int(np.argmax(overlap[i])) if known else -1
            if k < 0 or overlap[i, k] < cfg.same_place_iou:
                place = _Place(xyxy[i].copy(), t, person=not first)  # someone walked there, unless at the start
                if first and cfg.start_trial:
                    place.trial_until = t + cfg.max_gap_s
                self._places.append(place)
            else:
                place = self._places[k]
                overlap[:, k] = -1.0  # one detection per place
                place.box, place.last = xyxy[i].copy(), t
            places[i] = place
        return [p for p in places if p is not None]

    def _shrink(self, y: np.ndarray, t: float) -> tuple[float, np.ndarray]:
        """The picture at the gate's width (scale, luma); :meth:`unexplained` and :meth:`update` share one."""
        if self._shrunk is not None and self._shrunk[0] == t and self._shrunk[1] is y:
            return self._shrunk[2], self._shrunk[3]
        h, w = y.shape[:2]
        scale = min(1.0, self.config.width / w)
        small = cv2.resize(y, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        self._shrunk = (t, y, scale, small)
        return scale, small

    def _compare(
        self, small: np.ndarray, boxes: np.ndarray, places: list[_Place], ref: _Picture, ask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which of the boxes ``ask`` selects moved since ``ref``, and which were perfectly still (no pixel of their
        own changed), not counting other people's change.

        Change between two pictures belongs to whoever stood there in either: the other detections of this
        picture and the other places' detections in ``ref`` are cut out (grown by a quarter of their size).
        """
        cfg = self.config
        n = len(boxes)
        changed = cv2.absdiff(small, ref.small) > cfg.threshold
        if changed.mean() > 0.5:  # a global change (lights, auto exposure, camera moved): no evidence
            return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        hh, ww = changed.shape
        # motion at another person's edges is theirs (a walker's blur spills past their box): others' boxes are
        # grown by a quarter of their size before they are cut out of this one
        both = np.vstack([boxes, ref.boxes]).reshape(-1, 4)
        grow = np.round((both[:, 2:] - both[:, :2]) * 0.25).astype(int)
        cut = np.round(both).astype(int)
        others = np.clip(np.hstack([cut[:, :2] - grow, cut[:, 2:] + grow]), 0, [ww, hh, ww, hh])
        rects = np.clip(np.round(boxes).astype(int), 0, [ww, hh, ww, hh])
        out = np.zeros(n, dtype=bool)
        still = np.zeros(n, dtype=bool)
        for i in np.nonzero(ask)[0].tolist():
            x0, y0, x1, y1 = rects[i]
            if x1 <= x0 or y1 <= y0:
                continue
            own = np.ones((y1 - y0, x1 - x0), dtype=bool)
            for j, (a0, b0, a1, b1) in enumerate(others):
                # in this picture, a box on top of this one is a second box of the same person; in ``ref``, the
                # place says whose box it was (someone who stood in front of a sign post is not the post)
                mine = j == i or (_iou(boxes[i], both[j]) >= 0.5 if j < n else ref.places[j - n] is places[i])
                if not mine and a0 < x1 and a1 > x0 and b0 < y1 and b1 > y0:
                    own[max(b0 - y0, 0) : b1 - y0, max(a0 - x0, 0) : a1 - x0] = False
            area = int(own.sum())
            if area:
                moved = int(changed[y0:y1, x0:x1][own].sum())
                out[i] = moved >= cfg.moving_fraction * area
                still[i] = moved == 0
        return out, still


_SAME_BOX_IOU = 0.8


def _same_box(xyxy: np.ndarray, places: list[_Place], ref: _Picture, scale: float) -> np.ndarray:
    """Which detections were in ``ref`` at their place, in the same box (overlap >= ``_SAME_BOX_IOU``).

    A box that grew or shifted since is someone else's body joined to it (a walker who stopped in front of a sign
    post), or a person who moved, which the comparison with the previous picture sees.
    """
    out = np.zeros(len(xyxy), dtype=bool)
    for i, place in enumerate(places):
        own = [j for j, p in enumerate(ref.places) if p is place]
        out[i] = bool(own) and _iou(xyxy[i], ref.boxes[own[0]] / scale) >= _SAME_BOX_IOU
    return out


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
