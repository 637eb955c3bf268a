"""Where the feet are of a person whose box is cut off by the person in front of them.

In an oblique view of a line, the person behind someone stands higher in the picture and their legs are hidden by
the one in front: the detector's box ends where the front person hides them, often well above the real feet, and
its bottom centre (the ``bottom_center`` anchor that places people on the floor zones) jumps up. A box is *cut
off* when its bottom edge lies inside another box that reaches lower (the person in front); its feet are then
placed by the person's usual box height. That height is kept with the person's identity
(:meth:`~kedirivms.analytics.queue.identity.IdentityStitcher.height`, learnt from their boxes that were neither cut
off nor holding two people); :class:`FootEstimator` only reads it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["FootEstimator", "cut_off"]


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


class FootEstimator:
    """Feet placed by each person's usual box height, for boxes cut off at the bottom.

    Args:
        height: person id -> their usual (uncut) box height in pixels, 0 when not known (e.g.
            :meth:`~kedirivms.analytics.queue.identity.IdentityStitcher.height`).
        margin: see :func:`cut_off`.

    Example:
        >>> feet = FootEstimator(stitcher.height)
        >>> placed = feet.place(boxes, person_ids)
    """

    def __init__(self, height: Callable[[int], float], *, margin: float = 0.05) -> None:
        self.height = height
        self.margin = margin

    def place(self, xyxy: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Boxes with the bottom edge of each cut-off box moved down to the person's estimated feet.

        The feet go ``usual height`` below the box's top, never above its own bottom edge nor below the bottom
        edge of the box in front (the person behind stands behind them).

        Args:
            xyxy: ``(N, 4)`` boxes, pixels.
            ids: ``(N,)`` person ids (negative: unknown, never moved).

        Returns:
            A new ``(N, 4)`` float32 array.
        """
        boxes = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4).copy()
        front = cut_off(boxes, self.margin)
        for i, pid in enumerate(np.asarray(ids, dtype=int).tolist()):
            if pid < 0 or front[i] < 0:
                continue
            usual = self.height(pid)
            if usual > float(boxes[i, 3] - boxes[i, 1]):
                feet = min(float(boxes[i, 1]) + usual, float(boxes[front[i], 3]))
                boxes[i, 3] = max(float(boxes[i, 3]), feet)
        return boxes
