"""Pure geometry on ``(x0, y0, x1, y1)`` pixel boxes that the queue analyzer counts and keeps people with.

No analyzer state: overlaps, shares of a box inside others, boxes at the picture's edge, boxes spanning two
people, and boxes standing on or covered by others (a person hidden in a line).
"""

from __future__ import annotations

import numpy as np
import supervision as sv

from kedirivms.analytics.queue.detector import box_iou

__all__ = ["at_edge", "covered", "inside_shares", "overlapping", "overlaps_any", "select", "spanning", "stands_on"]


def select(det: sv.Detections, keep: np.ndarray) -> sv.Detections:
    """The detections where ``keep`` is True (a new object; supervision's indexing is typed loosely)."""
    if not len(det):
        return det
    out = det[keep]
    assert isinstance(out, sv.Detections)
    return out


def overlapping(box: np.ndarray, boxes: np.ndarray, iou: float) -> np.ndarray:
    """Which of ``boxes`` overlap ``box`` more than ``iou``."""
    if not len(boxes):
        return np.zeros(0, dtype=bool)
    return box_iou(np.asarray(box, dtype=np.float64)[None], np.asarray(boxes, dtype=np.float64))[0] > iou


def overlaps_any(box: np.ndarray, boxes: np.ndarray, iou: float = 0.2) -> bool:
    """Whether ``box`` overlaps one of ``boxes`` (the person was found again, under another track id)."""
    return bool(overlapping(box, boxes, iou).any())


def inside_shares(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The share of ``box``'s area that lies inside each of ``boxes``."""
    ix = np.clip(np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0]), 0, None)
    iy = np.clip(np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1]), 0, None)
    return np.asarray(ix * iy / max(float((box[2] - box[0]) * (box[3] - box[1])), 1e-9))


def at_edge(box: np.ndarray, wh: tuple[int, int], margin: float = 0.01) -> bool:
    """Whether ``box`` touches the picture's edge (within ``margin`` of its width or height)."""
    w, h = wh
    if w <= 0 or h <= 0:
        return False
    mx, my = margin * w, margin * h
    return bool(box[0] <= mx or box[1] <= my or box[2] >= w - mx or box[3] >= h - my)


def spanning(xyxy: np.ndarray, *, head: float = 0.1, shorter: float = 0.8) -> np.ndarray:
    """Which boxes span two other people's boxes: the head of one and the feet of another (a merged box).

    Two people one behind the other in an oblique view (the one behind higher in the picture) are sometimes
    boxed together as well as apart: a box from the head of the one behind down to the feet of the one in front.
    Box ``i`` spans when one box *A* begins where it begins (its top centre within ``head`` of ``i``'s height
    of ``i``'s) and another box *B* ends where it ends (likewise at the bottom), *A* ending above where *B*
    ends, both shorter than ``shorter`` times ``i``'s height: *A* and *B* are the two people, ``i`` one more box
    of them.

    Args:
        xyxy: ``(N, 4)`` boxes, pixels.
        head: how close the top (bottom) centres must be, fraction of the spanning box's height.
        shorter: how much shorter than the spanning box both people's boxes must be.

    Returns:
        A new ``(N,)`` bool array.
    """
    boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    out = np.zeros(len(boxes), dtype=bool)
    if len(boxes) < 3:
        return out
    cx = (boxes[:, 0] + boxes[:, 2]) / 2.0
    h = boxes[:, 3] - boxes[:, 1]
    for i in range(len(boxes)):
        near = head * h[i]
        small = h < shorter * h[i]
        small[i] = False
        tops = small & (np.abs(cx - cx[i]) <= near) & (np.abs(boxes[:, 1] - boxes[i, 1]) <= near)
        feet = small & (np.abs(cx - cx[i]) <= near) & (np.abs(boxes[:, 3] - boxes[i, 3]) <= near)
        if tops.any() and feet.any():
            out[i] = bool((boxes[tops, 3].min() < boxes[feet, 3].max() - near) and (tops | feet).sum() >= 2)
    return out


def stands_on(box: np.ndarray, boxes: np.ndarray, near: float = 0.1) -> bool:
    """Whether one of ``boxes`` has its feet (bottom centre) within ``near`` of ``box``'s height of ``box``'s: a person
    standing where that box stood (nobody stands hidden on someone else's feet)."""
    if not len(boxes):
        return False
    feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2.0, boxes[:, 3]], axis=1)
    d = np.hypot(feet[:, 0] - (box[0] + box[2]) / 2.0, feet[:, 1] - box[3])
    return bool((d < near * max(float(box[3] - box[1]), 1.0)).any())


def front_shares(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The share of ``box`` each of ``boxes`` covers standing in front of it (nearer the camera: its feet not higher in
    the picture); 0 for those behind it."""
    if not len(boxes):
        return np.zeros(0)
    return np.where(boxes[:, 3] >= box[3], inside_shares(box, boxes), 0.0)


def covered(box: np.ndarray, boxes: np.ndarray, share: float = 0.3) -> bool:
    """Whether one of ``boxes`` covers at least ``share`` of ``box`` and stands in front of it (nearer the camera:
    lower in the picture)."""
    return bool((front_shares(box, boxes) >= share).any())
