"""People hidden in the gaps of a tight line.

In a line of people standing close, each one hides most of the one behind, and the detector (with its second look)
misses some of them: the people it finds stand at a regular step along the line (the line's *pitch*), with a gap
of two or three steps where someone stands hidden. :class:`LineGaps` learns the pitch from the people the detector
boxed in the queue zone (the distance between neighbours on the floor, in units of their box height, so that
perspective cancels out) and counts, on each detection, the steps missing between two neighbours who stand still,
and at the line's front the steps missing between the one served and the first in line (who usually stands a
learnt distance behind them).

A gap between two boxes does not tell one step from two well (the found boxes lengthen one step and shorten two),
so the count in the gaps is checked against the line's span: the distances the pitch is learnt from are fitted with
two modes, one step and two steps apart (and a flat background for everything else), which gives the length of
one step along the line; a run of neighbours standing still holds ``round(span / step)`` steps, and the people
added are the mean of what the gaps and the span say.

It only speaks for a *tight* line: one whose learnt pitch is at most ``max_pitch`` of a person's height (people
close enough to hide each other), learnt from enough neighbours (a line seen for a while, not a few people passing
each other). People spaced loosely leave real gaps, which are never filled. Only the count changes: the inferred people
have no box, no track and no wait. Once learnt tight, a line stays tight for the people added while the detector
boxes it badly (the people it misses lengthen the distances between those it finds) until it is gone (``hold``).
A gap is only looked for between two people the detector boxed on the detection, as the pitch is learnt from those
(``seen_gaps``).
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["LineGaps", "neighbours", "step_modes"]


def neighbours(points: np.ndarray) -> list[tuple[int, int]]:
    """The edges of the minimum spanning tree of ``points`` (scipy's): each person joined to their nearest neighbours.

    In a line, the tree follows the line: each edge joins two people standing next to each other in it. (Where two
    trees are equally short, which one is taken is scipy's choice.)

    Args:
        points: ``(N, 2)`` floor points (feet), pixels.

    Returns:
        ``N - 1`` index pairs (none for fewer than two points).
    """
    from scipy.sparse.csgraph import minimum_spanning_tree  # a core dependency; imported here, as _spans does

    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    n = len(pts)
    if n < 2:
        return []
    dist = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=2)
    # scipy reads a zero as no edge: one more on every edge keeps two feet on the same pixel joined, and every
    # spanning tree has n - 1 edges, so the shortest tree is the same
    tree = minimum_spanning_tree(dist + 1.0 - np.eye(n)).tocoo()
    return [(int(i), int(j)) for i, j in zip(tree.row, tree.col, strict=True)]


def step_modes(distances: np.ndarray, iterations: int = 80) -> float | None:
    """The length of one step along a line, from the distances between neighbours found in it.

    The distances are fitted (expectation-maximisation) with two normal modes, the neighbours one step apart and
    two steps apart (someone hidden between them), and a flat background over ``[0, max]`` (neighbours across a
    longer gap, people beside the line). The step is the distance per step over both modes: ``(w1 m1 + w2 m2) /
    (w1 + 2 w2)``. Found boxes measure one step too long and two steps too short, so neither mode alone is one
    step; their weighted sum is the span of the steps they cover.

    Args:
        distances: distances between neighbours (any unit; the answer is in the same).
        iterations: expectation-maximisation rounds.

    Returns:
        The step, or ``None`` for fewer than two distances or a degenerate fit.
    """
    fit = _step_fit(distances, iterations)
    return None if fit is None else fit[0]


def _step_fit(distances: np.ndarray, iterations: int = 80) -> tuple[float, float] | None:
    """:func:`step_modes`'s step and the two-step mode's share of both modes' weight, ``w2 / (w1 + w2)``."""
    x = np.asarray(distances, dtype=np.float64).reshape(-1)
    if len(x) < 2 or float(x.max()) <= 0.0:
        return None
    width = float(x.max())
    low = float(np.percentile(x, 20))
    mean = np.array([low, 2.0 * low])
    sd = np.full(2, float(np.std(x)) / 2.0 + 1e-3)
    weight = np.array([0.45, 0.45, 0.1])
    for _ in range(iterations):
        normal = weight[:2] * np.exp(-0.5 * ((x[:, None] - mean) / sd) ** 2) / (sd * np.sqrt(2.0 * np.pi))
        dens = np.concatenate([normal, np.full((len(x), 1), weight[2] / width)], axis=1)
        share = dens / np.maximum(dens.sum(axis=1, keepdims=True), 1e-300)
        n = share.sum(axis=0) + 1e-9
        weight = n / len(x)
        held = n[:2] < 1.0  # a mode that holds nobody keeps its place (no distance is two steps in a full line)
        mean = np.where(held, mean, (share[:, :2] * x[:, None]).sum(axis=0) / n[:2])
        sd = np.where(held, sd, np.sqrt((share[:, :2] * (x[:, None] - mean) ** 2).sum(axis=0) / n[:2]) + 1e-3)
    order = np.argsort(mean)
    w, m = weight[:2][order], mean[order]
    step = float((w * m).sum() / (w[0] + 2.0 * w[1]))
    return (step, float(w[1] / (w[0] + w[1]))) if np.isfinite(step) and step > 0.0 else None


def _spans(n: int, edges: list[tuple[int, int, float]], step: float) -> int:
    """People missing in the runs of neighbours ``edges`` (index pairs and distances) of ``n`` people: each run
    (connected part) spans ``round(sum of its distances / step)`` steps, one person each beyond those found."""
    if not edges:
        return 0
    from scipy.sparse import coo_array  # scipy comes with trackers; imported here, as identity.py does
    from scipy.sparse.csgraph import connected_components

    i, j, d = (np.array(v) for v in zip(*edges, strict=True))
    _, run = connected_components(coo_array((np.ones(len(i)), (i, j)), shape=(n, n)), directed=False)
    span = np.bincount(run[i], weights=d, minlength=n)
    links = np.bincount(run[i], minlength=n)
    return sum(max(0, round(float(span[r]) / step) - int(links[r])) for r in np.nonzero(links)[0])


class LineGaps:
    """Learns a tight line's pitch and counts the people hidden in its gaps (see the module docstring).

    Args:
        max_pitch: the largest pitch, fraction of a person's box height, of a line whose gaps are filled (0: off).
        window_s: the pitch is learnt from the neighbours seen over this long, s.
        gap: a gap between two neighbours holds someone once it is this many pitches long.
        quantile: the pitch is this percentile of the learnt distances (the line's gaps lengthen the others).
        min_pairs: distances the pitch needs before any gap is filled.
        still: a person stands still when their feet moved at most this far since the last detection, fraction of
            their box height (someone walking past the line opens gaps that nobody hides in).
        min_front: distances from the one served to the first in line needed before the line's front is filled.
        span: check the gaps against the line's span (see the module docstring; ``False``: the gaps alone).
        refit_s: the step along the line (:func:`step_modes`) is fitted again this often, s.
        hold: once learnt tight, the line's gaps and front are filled with the last tight pitch while the learnt
            one is longer or not learnt, until no two neighbours were boxed in line for ``window_s`` (the people the
            detector misses lengthen the distances between those it finds, so a line it boxes badly looks loose;
            ``False``: the rule before). Only the people added: :attr:`tight` (the analyzer's other rules) is the
            learnt pitch's.
        two_step: while held, the step along the line is at most the step of the line's fit whose two-step mode
            weighed most (``False``: the window's fit alone). A line the detector boxes at every other person
            shows one mode, two steps long, which the fit takes for one step; a fit with both modes, a step
            apart, has its scale from the line itself.
        recent: the step along the line is at most the step of the fit, among those made over the last ``window_s``
            from a full window (the line seen for ``window_s``), whose two-step mode weighed most, held or not
            (where there is none: ``two_step``'s rule; ``False``: ``two_step``'s rule alone). A line's early fits
            (a short step that the line later outgrows) are never kept, and a fit is forgotten as the line changes.
        seen_gaps: a gap is only looked for between two neighbours both boxed by the detector on the detection
            (``seen``), as the pitch is learnt only from such pairs: a kept box or the second look's has placed
            feet, often a part of a step off its person, and a distance to it is no measure of the line's gaps
            (``False``: between any two neighbours standing still). The span still takes every neighbour.
    """

    def __init__(
        self,
        max_pitch: float,
        window_s: float,
        *,
        gap: float = 1.6,
        quantile: float = 25.0,
        min_pairs: int = 100,
        still: float = 0.1,
        min_front: int = 20,
        span: bool = True,
        refit_s: float = 5.0,
        hold: bool = True,
        two_step: bool = True,
        recent: bool = True,
        seen_gaps: bool = True,
    ) -> None:
        self.max_pitch = max_pitch
        self.window_s = window_s
        self.gap = gap
        self.quantile = quantile
        self.min_pairs = min_pairs
        self.still = still
        self.min_front = min_front
        self.span = span
        self.refit_s = refit_s
        self.hold = hold
        self.two_step = two_step
        self.recent = recent
        self.seen_gaps = seen_gaps
        self._since = 0.0  # when the line's first distance since it was last gone was seen
        self._fits: deque[tuple[float, float, float]] = deque()  # recent full-window fits: (time, two-step share, step)
        self._two: tuple[float, float] | None = None  # the line's fit with the heaviest two-step mode: (share, step)
        self._held: float | None = None  # the last pitch learnt at most max_pitch (see hold)
        self._step: tuple[float, tuple[float, float] | None] | None = None  # (when fitted, the step along the line)
        self._pairs: deque[tuple[float, float]] = deque()  # (time, distance / height)
        self._fronts: deque[tuple[float, float]] = deque()  # (time, distance / height) from the one served
        self._last: dict[int, np.ndarray] = {}  # person -> feet on the last detection
        self._pitch: float | None = None  # the pitch as of the last detection (see pitch)

    @property
    def pitch(self) -> float | None:
        """The learnt pitch, fraction of a box height (``None`` until ``min_pairs`` distances were seen), as of the
        last :meth:`hidden`."""
        return self._pitch

    @property
    def tight(self) -> bool:
        """Whether the line is tight: its pitch is learnt and at most ``max_pitch`` (people hide each other)."""
        pitch = self.pitch
        return self.max_pitch > 0 and pitch is not None and pitch <= self.max_pitch

    def hidden(
        self,
        t: float,
        feet: np.ndarray,
        xyxy: np.ndarray,
        ids: np.ndarray,
        counted: np.ndarray,
        seen: np.ndarray | None = None,
        served: np.ndarray | None = None,
    ) -> int:
        """People hidden in the line's gaps on the detection at ``t``.

        Args:
            t: detection time, s.
            feet: ``(N, 2)`` placed feet of every box of the detection.
            xyxy: ``(N, 4)`` their boxes (reaching down to the placed feet).
            ids: ``(N,)`` person ids (negative: no track, e.g. the second look's people, taken as standing still).
            counted: ``(N,)`` bool, the boxes counted in the queue zone.
            seen: ``(N,)`` bool, the boxes the detector gave on this detection (not kept at a last box, not the
                second look's): only distances between two of them teach the pitch, as a kept or second-look box
                often lies on a box of the same person, a step of nothing (default: all).
            served: ``(N,)`` bool, the boxes placed in the service zone (the one served): the people hidden between
                them and the first in line count too (default: none).

        Returns:
            How many people to add to the count.
        """
        feet = np.asarray(feet, dtype=np.float64).reshape(-1, 2)
        xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        ids = np.asarray(ids).reshape(-1)
        counted = np.asarray(counted, dtype=bool).reshape(-1)
        seen = np.ones(len(feet), dtype=bool) if seen is None else np.asarray(seen, dtype=bool).reshape(-1)
        heights = np.maximum(feet[:, 1] - xyxy[:, 1], 1.0)
        still = np.ones(len(feet), dtype=bool)
        for k, pid in enumerate(ids.tolist()):
            if pid >= 0:
                before = self._last.get(int(pid))
                still[k] = before is not None and float(np.linalg.norm(feet[k] - before)) <= self.still * heights[k]
        self._last = {int(pid): feet[k].copy() for k, pid in enumerate(ids.tolist()) if pid >= 0}
        if self.max_pitch <= 0:
            return 0
        rows = np.nonzero(counted)[0]
        pts, hts, boxes, st, new = feet[rows], heights[rows], xyxy[rows], still[rows], seen[rows]
        edges = neighbours(pts)
        dists = [float(np.linalg.norm(pts[i] - pts[j])) / ((hts[i] + hts[j]) / 2.0) for i, j in edges]
        if not self._pairs:
            self._since = t
        self._pairs.extend((t, d) for (i, j), d in zip(edges, dists, strict=True) if new[i] and new[j])
        while self._pairs and self._pairs[0][0] < t - self.window_s:
            self._pairs.popleft()
        enough = len(self._pairs) >= self.min_pairs
        self._pitch = pitch = float(np.percentile([d for _, d in self._pairs], self.quantile)) if enough else None
        held = False
        if pitch is not None and pitch <= self.max_pitch:
            self._held = pitch
        elif not self._pairs:
            self._held = None  # no two neighbours boxed in line for window_s: the line is gone
            self._two = None
            self._fits.clear()
        elif self.hold and self._held is not None:
            pitch = self._held  # the people the detector misses lengthen the learnt pitch: the line is still tight
            held = True
        ahead = self._ahead(t, feet, heights, still, seen, counted, served, pitch)
        if pitch is None or not pitch <= self.max_pitch or len(pts) < 3:
            return ahead
        standing = [(i, j, d) for (i, j), d in zip(edges, dists, strict=True) if st[i] and st[j]]
        found = 0
        for i, j, d in standing:
            if d < self.gap * pitch or (self.seen_gaps and not (new[i] and new[j])):
                continue
            steps = max(round(d / pitch), 2)
            for s in range(1, steps):
                spot = pts[i] + (pts[j] - pts[i]) * s / steps
                inside = (
                    (boxes[:, 0] <= spot[0])
                    & (spot[0] <= boxes[:, 2])
                    & (boxes[:, 1] <= spot[1])
                    & (spot[1] <= boxes[:, 3])
                )
                found += int(inside.any())  # someone could stand hidden there: behind a person seen
        if self.span:
            if self._step is None or t - self._step[0] >= self.refit_s:
                fit = _step_fit(np.array([d for _, d in self._pairs]))
                self._step = (t, fit)
                if fit is not None and (self._two is None or fit[1] >= self._two[0]):
                    self._two = (fit[1], fit[0])
                if fit is not None and t - self._since >= self.window_s:
                    self._fits.append((t, fit[1], fit[0]))  # a full window's fit, not the line's start
            while self._fits and self._fits[0][0] < t - self.window_s:
                self._fits.popleft()
            step = None if self._step[1] is None else self._step[1][0]
            if step is not None and self.recent and self._fits:
                # the recent fit that showed the two-step mode most: its scale is the line's own, as the line is now
                step = min(step, max(self._fits, key=lambda f: (f[1], f[0]))[2])
            elif step is not None and held and self.two_step and self._two is not None:
                step = min(step, self._two[1])  # boxed at every other person, the window's one mode is two steps
            if step is not None:
                found = self._checked(found, _spans(len(pts), standing, step))
        return found + ahead

    def _checked(self, gaps: int, span: int) -> int:
        """The people hidden in the gaps, from what the gaps and the line's span say: their mean, halves up."""
        return int(np.floor((gaps + span) / 2.0 + 0.5))

    def _ahead(
        self,
        t: float,
        feet: np.ndarray,
        heights: np.ndarray,
        still: np.ndarray,
        seen: np.ndarray,
        counted: np.ndarray,
        served: np.ndarray | None,
        pitch: float | None,
    ) -> int:
        """People hidden at the line's front, between the one served and the first person counted in line.

        The first in line usually stands a learnt distance behind the one served (the lower quartile of the distances
        seen, both people boxed by the detector, over ``window_s``, once ``min_front`` were seen); each pitch more,
        in a tight line with both standing still, is someone the detector missed (counted as the gaps are: from
        ``gap - 1`` of a pitch on, rounded).
        """
        if served is None:
            return 0
        srv, line = np.nonzero(np.asarray(served, dtype=bool).reshape(-1))[0], np.nonzero(counted)[0]
        if not len(srv) or not len(line):
            return 0
        d, i, j = min(
            (float(np.linalg.norm(feet[a] - feet[b])) / ((heights[a] + heights[b]) / 2.0), int(a), int(b))
            for a in srv
            for b in line
        )
        if seen[i] and seen[j]:
            self._fronts.append((t, d))
        while self._fronts and self._fronts[0][0] < t - self.window_s:
            self._fronts.popleft()
        if (
            len(self._fronts) < self.min_front
            or pitch is None
            or not pitch <= self.max_pitch
            or not (still[i] and still[j])
        ):
            return 0
        extra = (d - float(np.percentile([x for _, x in self._fronts], self.quantile))) / pitch
        return round(extra) if extra >= self.gap - 1.0 else 0
