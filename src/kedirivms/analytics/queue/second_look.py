"""A second look, magnified, where non-maximum suppression had to choose between a box and a confident neighbour.

People standing close behind one another are the queue count's largest loss. Measured on the counter scenes'
development seeds (``benchmarks/queue_losses.py``): the tracker and the motion gate drop nobody there; the people
missed are lost in the detector, and most of those had a box of their own over the confidence threshold that
non-maximum suppression (NMS) removed for the box of the person in front (median overlap 0.78). Those boxes
cannot be told from the model's duplicate boxes of one person by their geometry (their overlap, top and bottom
offsets and scores overlap with the duplicates'); every NMS rule that kept them also kept duplicates. Seen
larger, the model separates them. So where NMS removed a confident box that is *not* a near copy of the box kept
(overlap under ``max_overlap``), the spot is ambiguous: the model runs again on a window round the two, magnified,
and when it finds more people there than the first look, those it adds are marked (``data[EXTRA]``); the first
look's boxes stay as they were. The analyzer counts the people added in the queue zone, but gives them no track,
wait or service: their boxes come and go between detections. A frame without such a spot costs nothing more; a
window is a small picture (a person or two). Two more kinds of spot: a box the model scored under the confidence
beside every kept box (``weak_score``), and a kept box much wider for its height than the picture's others, one
box drawn round two people (``wide``). A kept box between two people (``straddle``: its centre inside two other kept
boxes) is looked at too, and dropped when the window finds both of them and no one of its own.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import supervision as sv

from kedirivms.analytics.queue.detector import box_iou, person_detections
from kedirivms.analytics.zones import Zone
from kedirivms.errors import ConfigError

__all__ = ["EXTRA", "SecondLook", "SecondLookMode", "extra_mask"]

SecondLookMode = Literal["off", "auto", "always"]

EXTRA = "second_look"
"""Key of the ``supervision.Detections.data`` array marking the people the second look added."""

STRADDLE_MEMORY = 2
"""A box between two people stays when a box was passed on at about its place on any of this camera's last this
many detections (``straddle``): someone seen there before keeps their box and track; one window's verdict alone
does not take a tracked person away."""

STRADDLE_PERSIST = 4
"""A box between two people dropped at about the same place on each of this camera's last this many detections
stays (``straddle``): someone standing hidden between two others in a line that does not move, whom the window
misses every time; a box drawn over a gap comes and goes."""


@dataclass(frozen=True)
class SecondLook:
    """Where and how the second look runs.

    Args:
        mode: ``"auto"``: only while the shared model has time to spare (no other camera's picture waiting, and
            batches ran under ``MAX_BUSY`` of its time over the last 2 s); ``"always"``: on every detection with
            an ambiguous spot.
        magnify: model pixels per camera pixel in a window, as a multiple of the first look's.
        max_overlap: a removed box overlapping the box kept more than this (IoU) is a copy of it, not another
            person; between the NMS threshold and this, the spot is ambiguous.
        min_score: least score of a removed box that makes its spot ambiguous.
        margin: the window reaches this share of the spot's width and height beyond it on every side.
        budget: most model pixels all windows of one picture may cost, as a multiple of the first look's.
        zone: the queue zone's polygon (fractions of the picture): only spots where the box NMS removed stands in
            it (its bottom centre) are looked at again (the line; the service spot and the desk hold one person
            each, and the hand-overs there are read from the first look's boxes). ``None``: anywhere.
        weak_score: a box the model scored under the detector's confidence but at least this, standing in
            ``zone``, that NMS would have kept beside every kept box (overlap at most the NMS threshold, its centre
            in none of them), is a spot too: someone half hidden between two people in a line, whom the model
            scores low at the first look's size and finds when magnified. 0: off.
        wide: a box the first look kept standing in ``zone`` whose width over height is at least this many times
            the median of the picture's other kept boxes' (those in ``zone``; all when none is) is looked at
            again: one box drawn round two people in a line. The people the window finds beyond the first look's
            are the second look's (counted, not tracked); the box and its track stay. 0: off.
        straddle: a box the first look kept standing in ``zone`` whose centre lies inside two other kept boxes (a
            box the model draws over the gap between two people in a line) is looked at again, and dropped from the
            first look when the window finds both of those people and none of its own (:meth:`unfounded`).

    Raises:
        ConfigError: a value out of range.
    """

    mode: Literal["auto", "always"] = "auto"
    magnify: float = 2.0
    max_overlap: float = 0.85
    min_score: float = 0.35
    margin: float = 0.25
    budget: float = 1.5
    zone: tuple[tuple[float, float], ...] | None = None
    weak_score: float = 0.0
    wide: float = 0.0
    straddle: bool = False

    def __post_init__(self) -> None:
        if not 1.0 <= self.magnify <= 4.0:
            raise ConfigError(f"second look magnification {self.magnify} is not within 1-4", operation="queue detector")
        if not (0 < self.max_overlap <= 1 and 0 <= self.min_score < 1 and 0 <= self.margin <= 2 and self.budget > 0):
            raise ConfigError("second look overlap, score, margin or budget out of range", operation="queue detector")
        if not 0 <= self.weak_score < 1:
            raise ConfigError(f"second look weak score {self.weak_score} is not within 0-1", operation="queue detector")
        if self.wide != 0 and self.wide < 1:
            raise ConfigError(f"second look wide ratio {self.wide} is not 0 or 1 and more", operation="queue detector")

    def inside(self, xyxy: np.ndarray, w: int, h: int) -> np.ndarray:
        """Which boxes (``(N, 4)`` pixels of a ``w`` x ``h`` picture) stand in ``zone`` (all without one)."""
        boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        if self.zone is None or not len(boxes):
            return np.ones(len(boxes), dtype=bool)
        feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], axis=1)
        return self._polygon.contains(feet, (w, h))

    @functools.cached_property
    def _polygon(self) -> Zone:
        assert self.zone is not None
        return Zone(name="second_look", kind="queue", points=self.zone)

    def spots(
        self, kept: np.ndarray, candidates: np.ndarray, scores: np.ndarray, nms_iou: float, w: int, h: int
    ) -> list[np.ndarray]:
        """The ambiguous spots of one picture: ``(x0, y0, x1, y1)`` pixels, overlapping ones joined.

        Args:
            kept: ``(N, 4)`` boxes NMS kept, pixels.
            candidates: ``(M, 4)`` the model's boxes over the confidence threshold, before NMS, pixels.
            scores: ``(M,)`` their scores.
            nms_iou: the NMS threshold (a candidate overlapping a kept box more than this was removed for it).
            w: picture width, pixels.
            h: picture height, pixels.

        Returns:
            Spots, most confident removed box first (each spot joins a kept box and the boxes removed for it).
        """
        kept = np.asarray(kept, dtype=np.float64).reshape(-1, 4)
        return _joined([s for _, s in self._removed(kept, candidates, scores, nms_iou, w, h)])

    def weak_spots(
        self, kept: np.ndarray, candidates: np.ndarray, scores: np.ndarray, nms_iou: float, w: int, h: int
    ) -> list[np.ndarray]:
        """The spots of weak boxes (``weak_score``; none when it is 0), overlapping ones joined.

        Args:
            kept: ``(N, 4)`` boxes NMS kept, pixels.
            candidates: ``(M, 4)`` the model's boxes under the confidence threshold, pixels.
            scores: ``(M,)`` their scores.
            nms_iou: the NMS threshold: a weak box overlapping a kept box more than this is a copy of it.
            w: picture width, pixels.
            h: picture height, pixels.

        Returns:
            Spots, strongest weak box first; their people are added with :meth:`merge_beside`.
        """
        if self.weak_score <= 0:
            return []
        kept = np.asarray(kept, dtype=np.float64).reshape(-1, 4)
        return _joined([s for _, s in self._weak(kept, candidates, scores, nms_iou, w, h)])

    def wide_boxes(self, kept: np.ndarray, w: int, h: int) -> list[int]:
        """Which kept boxes are drawn round more than one person (``wide``; none when it is 0), widest first.

        Args:
            kept: ``(N, 4)`` boxes NMS kept, pixels.
            w: picture width, pixels.
            h: picture height, pixels.

        Returns:
            Indices into ``kept`` of the boxes standing in ``zone`` whose width over height is at least ``wide``
            times the median of the other kept boxes' (those in ``zone``, else all); none without another box.
        """
        kept = np.asarray(kept, dtype=np.float64).reshape(-1, 4)
        if self.wide <= 0 or len(kept) < 2:
            return []
        aspect = (kept[:, 2] - kept[:, 0]) / np.maximum(kept[:, 3] - kept[:, 1], 1e-9)
        standing = self.inside(kept, w, h)
        found: list[int] = []
        for i in np.nonzero(standing)[0].tolist():
            others = np.arange(len(kept)) != i
            usual = others & standing if (others & standing).any() else others
            if aspect[i] >= self.wide * float(np.median(aspect[usual])):
                found.append(i)
        return sorted(found, key=lambda i: -aspect[i])

    def straddling(self, kept: np.ndarray, w: int, h: int) -> list[tuple[int, np.ndarray]]:
        """The kept boxes between two people (``straddle``; none when off): each with the boxes it lies inside.

        Args:
            kept: ``(N, 4)`` boxes NMS kept, pixels.
            w: picture width, pixels.
            h: picture height, pixels.

        Returns:
            ``(i, around)`` for each box ``i`` standing in ``zone`` whose centre lies inside two or more other kept
            boxes, ``around`` their indices into ``kept``; in ``kept``'s order.
        """
        kept = np.asarray(kept, dtype=np.float64).reshape(-1, 4)
        if not self.straddle or len(kept) < 3:
            return []
        found = []
        for i in np.nonzero(self.inside(kept, w, h))[0].tolist():
            inside = _holding(kept, kept[i])
            inside[i] = False
            if int(inside.sum()) >= 2:
                found.append((i, np.nonzero(inside)[0]))
        return found

    @staticmethod
    def unfounded(
        kept: np.ndarray, i: int, around: np.ndarray, second: np.ndarray, window: tuple[int, int, int, int]
    ) -> bool:
        """Whether the window looked at round kept box ``i`` finds the people ``around`` it and none of its own.

        Two pairings, one to one, largest overlap first (as :meth:`merge` pairs): the kept boxes centred in box
        ``i`` with the window's people centred in it, where the window finds fewer people than kept boxes and
        leaves ``i`` without one; and the kept boxes centred in the window with the window's people centred in it,
        where every box of ``around`` has one. A window that finds nobody, or misses a neighbour, says nothing:
        the box stays (a window round a small box may be too tight to show anyone whole).

        Args:
            kept: ``(N, 4)`` boxes the first look kept, pixels.
            i: the box looked at.
            around: the kept boxes it lies inside (:meth:`straddling`).
            second: ``(M, 4)`` the window's people, whole-picture pixels.
            window: the window ``(x, y, width, height)``, pixels.
        """
        kept = np.asarray(kept, dtype=np.float64).reshape(-1, 4)
        second = np.asarray(second, dtype=np.float64).reshape(-1, 4)
        mine, theirs = np.nonzero(_centred(kept, kept[i]))[0], np.nonzero(_centred(second, kept[i]))[0]
        if len(theirs) >= len(mine) or i in mine[[r for r, _ in _pairs(kept[mine], second[theirs], 0.0)]]:
            return False
        x, y, ww, wh = window
        frame = np.array([x, y, x + ww, y + wh], dtype=np.float64)
        mine, theirs = np.nonzero(_centred(kept, frame))[0], np.nonzero(_centred(second, frame))[0]
        paired = set(mine[[r for r, _ in _pairs(kept[mine], second[theirs], 0.0)]].tolist())
        return all(int(j) in paired for j in around)

    def _removed(
        self, kept: np.ndarray, candidates: np.ndarray, scores: np.ndarray, nms_iou: float, w: int, h: int
    ) -> list[tuple[float, np.ndarray]]:
        """Spots where NMS removed a confident box for a kept one that is not its near copy."""
        cand = np.asarray(candidates, dtype=np.float64).reshape(-1, 4)
        score = np.asarray(scores, dtype=np.float64).reshape(-1)
        standing = self.inside(cand, w, h)
        found: list[tuple[float, np.ndarray]] = []
        for box in kept:
            if not len(cand):
                break
            overlap = box_iou(box[None], cand)[0]
            near = (overlap > nms_iou) & (overlap < self.max_overlap) & (score >= self.min_score) & standing
            if near.any():
                u = np.vstack([box[None], cand[near]])
                spot = np.array([u[:, 0].min(), u[:, 1].min(), u[:, 2].max(), u[:, 3].max()])
                found.append((float(score[near].max()), spot))
        found.sort(key=lambda f: -f[0])
        return found

    def _weak(
        self, kept: np.ndarray, candidates: np.ndarray, scores: np.ndarray, nms_iou: float, w: int, h: int
    ) -> list[tuple[float, np.ndarray]]:
        """Spots of weak boxes (``weak_score``) standing in the zone that NMS would have kept beside the kept
        boxes: each the strongest of the weak boxes round it (they are suppressed among themselves first)."""
        cand = np.asarray(candidates, dtype=np.float64).reshape(-1, 4)
        score = np.asarray(scores, dtype=np.float64).reshape(-1)
        pick = (score >= self.weak_score) & self.inside(cand, w, h)
        cand, score = cand[pick], score[pick]
        if len(kept) and len(cand):
            inside = np.any([_centred(cand, box) for box in kept], axis=0)
            beside = (box_iou(cand, kept) <= nms_iou).all(axis=1) & ~inside
            cand, score = cand[beside], score[beside]
        if not len(cand):
            return []
        weak = person_detections(cand, score).with_nms(threshold=nms_iou)
        conf = np.asarray(weak.confidence)
        return [(float(conf[i]), np.asarray(weak.xyxy[i], dtype=np.float64)) for i in np.argsort(-conf, kind="stable")]

    def window(self, spot: np.ndarray, w: int, h: int) -> tuple[int, int, int, int]:
        """The picture part looked at for ``spot``: ``(x, y, width, height)`` pixels (even origin), in the picture."""
        sw, sh = spot[2] - spot[0], spot[3] - spot[1]
        x0 = int(max(0.0, spot[0] - self.margin * sw)) & ~1
        y0 = int(max(0.0, spot[1] - self.margin * sh)) & ~1
        x1 = min(w, math.ceil(spot[2] + self.margin * sw))
        y1 = min(h, math.ceil(spot[3] + self.margin * sh))
        return x0, y0, max(2, x1 - x0), max(2, y1 - y0)

    @staticmethod
    def merge(people: sv.Detections, spot: np.ndarray, second: sv.Detections) -> sv.Detections:
        """``people`` and, when the second look finds more of them centred in ``spot``, the ones it adds.

        The first look's boxes stay as they are (the tracker, the waits and the hand-overs at the desk read them;
        the second look's boxes of the same people differ a little from one detection to the next). The second
        look's boxes centred in the spot are paired one to one with the people found there so far, largest
        overlap first; those left over are the people it adds, marked ``True`` in ``data[EXTRA]`` (the analyzer counts
        them in the queue zone and nowhere else).

        Args:
            people: the people found so far (whole-picture pixels); ``data[EXTRA]`` marks those added already.
            spot: the ambiguous spot, ``(x0, y0, x1, y1)`` pixels.
            second: the second look's people (whole-picture pixels); a box of someone half hidden may end outside
                the zone the spot was chosen in.

        Returns:
            ``people`` itself when the second look finds no more people in the spot, else a new detections object.
        """
        a, b = np.asarray(people.xyxy).reshape(-1, 4), np.asarray(second.xyxy).reshape(-1, 4)
        added = extra_mask(people)
        in_a, in_b = _centred(a, spot), _centred(b, spot)
        if int(in_b.sum()) <= int(in_a.sum()):
            return people
        mine, theirs = np.nonzero(in_a)[0], np.nonzero(in_b)[0]
        free = np.ones(len(theirs), dtype=bool)
        free[[j for _, j in _pairs(a[mine], b[theirs])]] = False  # paired with someone found so far
        new = theirs[free]
        conf_a = np.asarray(people.confidence if people.confidence is not None else np.ones(len(a)), np.float32)
        conf_b = np.asarray(second.confidence if second.confidence is not None else np.ones(len(b)), np.float32)
        out = person_detections(np.concatenate([a, b[new]]), np.concatenate([conf_a, conf_b[new]]))
        out.data[EXTRA] = np.concatenate([added, np.ones(len(new), dtype=bool)])
        return out

    @staticmethod
    def merge_beside(people: sv.Detections, spot: np.ndarray, second: sv.Detections, nms_iou: float) -> sv.Detections:
        """``people`` and the second look's people centred in a weak box's ``spot`` that overlap none of them.

        A weak spot may lie beside a window looked at already, whose added people are in ``people``: a box of the
        second look counts as someone new only where NMS would have kept it beside every person found so far
        (overlap at most ``nms_iou``), and they are marked ``True`` in ``data[EXTRA]`` as :meth:`merge` marks them.
        """
        a, b = np.asarray(people.xyxy).reshape(-1, 4), np.asarray(second.xyxy).reshape(-1, 4)
        new = _centred(b, spot)
        if len(a) and new.any():
            new &= (box_iou(b, a) <= nms_iou).all(axis=1)
        if not new.any():
            return people
        conf_a = np.asarray(people.confidence if people.confidence is not None else np.ones(len(a)), np.float32)
        conf_b = np.asarray(second.confidence if second.confidence is not None else np.ones(len(b)), np.float32)
        out = person_detections(np.concatenate([a, b[new]]), np.concatenate([conf_a, conf_b[new]]))
        out.data[EXTRA] = np.concatenate([extra_mask(people), np.ones(int(new.sum()), dtype=bool)])
        return out


def extra_mask(det: sv.Detections) -> np.ndarray:
    """Which of ``det``'s people the second look added (``data[EXTRA]``; none when it is absent)."""
    mask = det.data.get(EXTRA) if det.data else None
    if mask is None:
        return np.zeros(len(det), dtype=bool)
    return np.asarray(mask, dtype=bool).reshape(len(det))


def _pairs(a: np.ndarray, b: np.ndarray, least: float = -1.0) -> list[tuple[int, int]]:
    """Rows of ``a`` paired one to one with rows of ``b``, largest box overlap first, while it is over ``least``
    (the default pairs every row of the shorter side)."""
    if not len(a) or not len(b):
        return []
    overlap = box_iou(a, b)
    pairs = []
    for _ in range(min(len(a), len(b))):
        i, j = np.unravel_index(int(np.argmax(overlap)), overlap.shape)
        if overlap[i, j] <= least:
            break
        pairs.append((int(i), int(j)))
        overlap[i, :], overlap[:, j] = -1.0, -1.0
    return pairs


def _holding(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Which of ``boxes`` (``(N, 4)``) hold ``box``'s centre (edges included)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return (cx >= boxes[:, 0]) & (cx <= boxes[:, 2]) & (cy >= boxes[:, 1]) & (cy <= boxes[:, 3])


def _joined(spots: list[np.ndarray]) -> list[np.ndarray]:
    """``spots`` with the overlapping ones joined (windows that overlap are looked at once), in order."""
    joined = True
    while joined:
        joined = False
        for i in range(len(spots)):
            for j in range(i + 1, len(spots)):
                a, b = spots[i], spots[j]
                if _meet(a, b):
                    spots[i] = np.concatenate([np.minimum(a[:2], b[:2]), np.maximum(a[2:], b[2:])])
                    del spots[j]
                    joined = True
                    break
            if joined:
                break
    return spots


def _meet(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether boxes ``a`` and ``b`` overlap."""
    return bool(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def _centred(boxes: np.ndarray, spot: np.ndarray) -> np.ndarray:
    """Which of ``boxes`` (``(N, 4)``) have their centre in ``spot`` (``(x0, y0, x1, y1)``, edges included)."""
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    return (cx >= spot[0]) & (cx <= spot[2]) & (cy >= spot[1]) & (cy <= spot[3])
