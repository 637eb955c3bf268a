"""Where the feet are of a person whose box is cut off by the person in front of them.

In an oblique view of a line, the person behind someone stands higher in the picture and their legs are hidden by
the one in front: the detector's box ends where the front person hides them, often well above the real feet, and
its bottom centre (the ``bottom_center`` anchor that places people on the floor zones) jumps up. A box is *cut
off* when its bottom edge lies inside another box that reaches lower (the person in front); its feet are then
estimated from the person's usual box height, learnt from their boxes that were not cut off. The same height
places the feet of someone whose box reaches down to the feet of a person nearer the camera (two people in one box).
"""

from __future__ import annotations

import numpy as np

__all__ = ["FootEstimator", "cut_off", "feet_behind", "feet_beside"]


def cut_off(xyxy: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """For each box, the index of a box in front that hides its bottom, or -1.

    Box ``i`` is cut off by box ``j`` when ``i``'s bottom centre lies inside ``j`` (horizontally within it, below
    its top) and ``j`` begins and ends lower in the picture than ``i`` (by ``margin`` of ``i``'s height at least).
    The box in front reaching lowest is given.

    Args:
        xyxy: ``(N, 4)`` boxes, pixels.
        margin: how much lower the box in front must end, fraction of the cut box's height.

    Returns:
        A new ``(N,)`` int array.
    """
    boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    out = np.full(len(boxes), -1, dtype=int)
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        cx, gap = (x1 + x2) / 2.0, margin * max(y2 - y1, 1.0)
        front = (
            (boxes[:, 0] <= cx)
            & (cx <= boxes[:, 2])
            & (boxes[:, 1] < y2)
            & (boxes[:, 1] > y1)
            & (boxes[:, 3] > y2 + gap)
        )
        front[i] = False
        if front.any():
            js = np.nonzero(front)[0]
            out[i] = int(js[np.argmax(boxes[js, 3])])
    return out


def feet_behind(front: np.ndarray, xyxy: np.ndarray, margin: float = 0.05) -> np.ndarray:
    """Boxes of people whose usual height is not known, each cut off at the bottom reaching down to its feet.

    The second look's people have no track, so no height of their own is learnt; the one hidden behind the
    person in front is found with a box ending where that person hides their legs, often above the queue zone.
    A box cut off (:func:`cut_off`, among ``front`` and ``xyxy`` together) is taken to be as tall as the box that
    hides it (two people standing close in one line), never reaching below that box's bottom edge.

    Args:
        front: ``(N, 4)`` boxes of the people already placed (they may hide the others), pixels.
        xyxy: ``(M, 4)`` boxes to place, pixels.
        margin: see :func:`cut_off`.

    Returns:
        A new ``(M, 4)`` float32 array.
    """
    placed = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4).copy()
    boxes = np.concatenate([np.asarray(front, dtype=np.float32).reshape(-1, 4), placed])
    hidden_by = cut_off(boxes, margin)[len(boxes) - len(placed) :]
    for i, j in enumerate(hidden_by.tolist()):
        if j >= 0:
            feet = min(float(placed[i, 1] + boxes[j, 3] - boxes[j, 1]), float(boxes[j, 3]))
            placed[i, 3] = max(float(placed[i, 3]), feet)
    return placed


def feet_beside(xyxy: np.ndarray, *, row: float = 0.05, shorter: float = 0.15) -> np.ndarray:
    """Boxes cut off by someone the detector missed, each reaching down as far as the box beside it is tall.

    Two people whose feet stand on the same row of the picture stand as far from the camera as each other, and are
    about as tall in it. Box ``i`` ends on the row where box ``j`` ends (within ``row`` of ``j``'s height), overlaps
    it side by side, and begins lower than ``j`` by at least ``shorter`` of ``j``'s height: its person's legs are
    hidden by someone nobody boxed (in a tight line, the next in line hides the legs of the one in front of them
    whether the detector found them or not), and their feet lie ``j``'s height below ``i``'s top. People of
    different sizes standing side by side look the same, so the caller uses it only where people hide each other.

    Args:
        xyxy: ``(N, 4)`` boxes, pixels.
        row: how close the two bottom edges must be, fraction of the taller box's height.
        shorter: how much lower the cut-off box must begin, fraction of the taller box's height.

    Returns:
        A new ``(N, 4)`` float32 array.
    """
    boxes = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
    placed = boxes.copy()
    h = boxes[:, 3] - boxes[:, 1]
    for i, (_, y1, _, y2) in enumerate(boxes.tolist()):
        beside = _ending_beside(boxes, i, row) & (y1 - boxes[:, 1] >= shorter * h)
        if beside.any():
            placed[i, 3] = max(float(y2), y1 + float(h[beside].max()))
    return placed


def _ending_beside(boxes: np.ndarray, i: int, row: float) -> np.ndarray:
    """Which boxes end on the row where box ``i`` ends (within ``row`` of their own height) and overlap it side by
    side; ``i`` itself is left out. A new ``(N,)`` bool array."""
    x1, _, x2, y2 = boxes[i].tolist()
    h = boxes[:, 3] - boxes[:, 1]
    out = (np.minimum(boxes[:, 2], x2) > np.maximum(boxes[:, 0], x1)) & (np.abs(boxes[:, 3] - y2) <= row * h)
    out[i] = False
    return out


class FootEstimator:
    """Per-person usual box height, and feet placed by it for boxes cut off at the bottom.

    Args:
        margin: see :func:`cut_off`.
        merged_height: a box this much taller than the person's usual height is not learnt from (two people in one
            box).
        far_height: a box this much taller than the person's usual height that reaches down to someone nearer the
            camera, boxed on their own too, has its feet placed ``usual height`` below its top (see :meth:`place`).
    """

    def __init__(self, *, margin: float = 0.05, merged_height: float = 1.15, far_height: float = 1.3) -> None:
        self.margin = margin
        self.merged_height = merged_height
        self.far_height = far_height
        self._height: dict[int, tuple[float, float]] = {}  # person -> usual height, last seen
        # person -> top and bottom of their last box of their usual height (not coasted, not cut off), when
        self._last: dict[int, tuple[float, float, float]] = {}

    def reset(self) -> None:
        """Forget every person's height."""
        self._height.clear()
        self._last.clear()

    def height(self, pid: int) -> float:
        """Person ``pid``'s usual (uncut) box height, pixels; 0 when not known yet."""
        known = self._height.get(pid)
        return known[0] if known is not None else 0.0

    def place(self, t: float, xyxy: np.ndarray, ids: np.ndarray, learn: np.ndarray | None = None) -> np.ndarray:
        """Boxes with the bottom edge of each cut-off box moved down to the person's estimated feet.

        The feet go ``usual height`` below the box's top, never above its own bottom edge nor below the bottom
        edge of the box in front (the person behind stands behind them). Boxes that are not cut off teach their
        person's usual height (when ``learn`` is True for them).

        A box ``far_height`` times its person's usual height or taller is two people in one box; when it kept the
        top of their last box of usual height while its bottom moved down, and another box ends where it ends, it
        reaches down to the feet of someone nearer the camera (someone standing in line, boxed together with a
        walker passing beyond them): the person's feet go ``usual height`` below its top.

        Args:
            t: frame time, seconds.
            xyxy: ``(N, 4)`` boxes, pixels.
            ids: ``(N,)`` person ids (negative: unknown, never learnt from nor moved).
            learn: ``(N,)`` bool, which boxes may teach a height (e.g. not coasted); default all.

        Returns:
            A new ``(N, 4)`` float32 array.
        """
        boxes = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4).copy()
        front = cut_off(boxes, self.margin)
        teach = np.ones(len(boxes), dtype=bool) if learn is None else np.asarray(learn, dtype=bool)
        for i, pid in enumerate(np.asarray(ids, dtype=int).tolist()):
            if pid < 0:
                continue
            h = float(boxes[i, 3] - boxes[i, 1])
            usual = self.height(pid)
            if front[i] < 0:
                if teach[i] and (usual == 0.0 or h <= self.merged_height * usual):
                    usual = h if usual == 0.0 else 0.8 * usual + 0.2 * h
                    self._last[pid] = (float(boxes[i, 1]), float(boxes[i, 3]), t)
                if usual > 0.0:
                    self._height[pid] = (usual, t)
                if usual > 0.0 and h > self.far_height * usual and self._reaches_down(pid, boxes, i, usual):
                    boxes[i, 3] = boxes[i, 1] + usual
                continue
            if usual > 0.0:
                self._height[pid] = (usual, t)
            if usual > h:
                feet = min(float(boxes[i, 1]) + usual, float(boxes[front[i], 3]))
                boxes[i, 3] = max(float(boxes[i, 3]), feet)
        return boxes

    def _reaches_down(self, pid: int, boxes: np.ndarray, i: int, usual: float) -> bool:
        """Whether box ``i`` of person ``pid`` reaches down to the feet of someone nearer the camera who is boxed on
        their own: it kept the person's last top (within a quarter of their height) while its bottom moved down half
        their height or more since their last box of their usual height, and another box ends where it ends (within
        a sixth of that box's height, its bottom centre within this box's width) with its top lower down.

        With nobody else boxed there, the box is the only one the nearer person has, and its bottom stays theirs
        (someone standing in line counts for more than a walker passing beyond it).
        """
        last = self._last.get(pid)
        if last is None:
            return False
        x1, y1, x2, y2 = boxes[i].tolist()
        if abs(y1 - last[0]) >= 0.25 * usual or y2 - last[1] <= 0.5 * usual:
            return False
        centre = (boxes[:, 0] + boxes[:, 2]) / 2.0
        nearer = _ending_beside(boxes, i, 1.0 / 6.0) & (x1 <= centre) & (centre <= x2)
        return bool((nearer & (boxes[:, 1] - y1 >= 0.25 * (boxes[:, 3] - boxes[:, 1]))).any())

    def forget(self, before: float) -> None:
        """Drop the heights (and last boxes) of people last seen before ``before``."""
        for pid in [p for p, (_, seen) in self._height.items() if seen < before]:
            del self._height[pid]
        for pid in [p for p, (_, _, seen) in self._last.items() if seen < before]:
            del self._last[pid]
