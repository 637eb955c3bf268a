"""Queue metrics from tracked people: waits per visit and statistics per interval.

A *visit* starts when a track's centre enters the queue zone and ends when it reaches the service zone (a
*served* wait) or stays out of both zones longer than ``reentry_grace_s`` (an *abandoned* visit). Stepping out
of the line briefly and back in continues the same visit. When the tracker loses someone and starts a new track
in the middle of the line (an ID switch), the new track inherits the lost visit if it appears within
``relink_s`` seconds and ``relink_px`` pixels of where the lost one was last seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["IntervalStats", "Visit", "WaitTracker"]


@dataclass
class Visit:
    """One person's stay in the queue.

    Attributes:
        enter: when the centre first entered the queue zone, seconds.
        last_in: last time seen inside the queue zone.
        last_seen: last time the track was seen anywhere.
        last_xy: last centre, pixels.
        censored: the visit began while the analyzer was warming up (its start is unknown; not counted).
    """

    enter: float
    last_in: float
    last_seen: float
    last_xy: tuple[float, float]
    censored: bool = False


@dataclass(frozen=True)
class FinishedVisit:
    """A visit that ended: ``served`` (reached the service zone) or abandoned, with its wait in seconds."""

    end: float
    wait_s: float
    served: bool
    censored: bool


class WaitTracker:
    """Turns tracked centres and zone membership into finished visits.

    Args:
        reentry_grace_s: time out of the queue zone that still counts as the same visit, seconds.
        relink_s: how long a lost track's visit waits to be inherited by a new track, seconds.
        relink_px: how far (pixels) a new track may appear from the lost one to inherit its visit.
        warmup_s: visits starting this soon after the first frame are censored (the person was already there).
    """

    def __init__(
        self, *, reentry_grace_s: float = 3.0, relink_s: float = 4.0, relink_px: float = 40.0, warmup_s: float = 1.0
    ) -> None:
        self.reentry_grace_s = reentry_grace_s
        self.relink_s = relink_s
        self.relink_px = relink_px
        self.warmup_s = warmup_s
        self.open: dict[int, Visit] = {}
        self._first_t: float | None = None

    def update(
        self, t: float, ids: np.ndarray, centres: np.ndarray, in_queue: np.ndarray, in_service: np.ndarray
    ) -> list[FinishedVisit]:
        """Feed one frame of tracks.

        Args:
            t: frame time, seconds.
            ids: ``(N,)`` tracker ids.
            centres: ``(N, 2)`` centres, pixels.
            in_queue: ``(N,)`` bool, centre inside the queue zone.
            in_service: ``(N,)`` bool, centre inside the service zone.

        Returns:
            Visits that ended on this frame.
        """
        if self._first_t is None:
            self._first_t = t
        done: list[FinishedVisit] = []
        seen = set()
        for tid, (x, y), q, s in zip(
            ids.tolist(), centres.tolist(), in_queue.tolist(), in_service.tolist(), strict=True
        ):
            seen.add(tid)
            visit = self.open.get(tid)
            if visit is None and q:
                visit = self._relink(tid, (x, y), t) or self._start(tid, (x, y), t)
            if visit is None:
                continue
            visit.last_seen, visit.last_xy = t, (x, y)
            if s:
                done.append(FinishedVisit(end=t, wait_s=t - visit.enter, served=True, censored=visit.censored))
                del self.open[tid]
            elif q:
                visit.last_in = t
        for tid in list(self.open):
            visit = self.open[tid]
            lost_for = t - visit.last_seen
            out_for = t - visit.last_in
            if (tid in seen and out_for > self.reentry_grace_s) or (tid not in seen and lost_for > self.relink_s):
                wait = visit.last_in - visit.enter
                done.append(FinishedVisit(end=visit.last_in, wait_s=wait, served=False, censored=visit.censored))
                del self.open[tid]
        return done

    def _start(self, tid: int, xy: tuple[float, float], t: float) -> Visit:
        assert self._first_t is not None
        visit = Visit(enter=t, last_in=t, last_seen=t, last_xy=xy, censored=t - self._first_t < self.warmup_s)
        self.open[tid] = visit
        return visit

    def _relink(self, tid: int, xy: tuple[float, float], t: float) -> Visit | None:
        best, best_d = None, math.inf
        for old, visit in self.open.items():
            if visit.last_seen >= t or t - visit.last_seen > self.relink_s:
                continue  # still tracked on this frame, or lost too long ago
            d = math.hypot(xy[0] - visit.last_xy[0], xy[1] - visit.last_xy[1])
            if d <= self.relink_px and d < best_d:
                best, best_d = old, d
        if best is None:
            return None
        visit = self.open.pop(best)
        self.open[tid] = visit
        return visit


@dataclass
class IntervalStats:
    """Accumulates one reporting interval.

    Attributes:
        start: interval start, seconds.
        end: interval end, seconds.
    """

    start: float
    end: float
    lengths: list[int] = field(default_factory=list)
    staffed: list[bool] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    served: int = 0
    abandoned: int = 0

    def add_visit(self, visit: FinishedVisit) -> None:
        """Count a finished visit (censored ones are skipped for waits but still counted as served)."""
        if visit.served:
            self.served += 1
            if not visit.censored:
                self.waits.append(visit.wait_s)
        else:
            self.abandoned += 1

    def summary(self) -> dict[str, float | int | None]:
        """The interval's numbers, JSON-ready (``None`` where nothing was measured)."""
        minutes = max(self.end - self.start, 1e-9) / 60.0
        lengths = np.asarray(self.lengths, dtype=np.float64)
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "frames": len(self.lengths),
            "length_mean": round(float(lengths.mean()), 3) if len(lengths) else None,
            "length_max": int(lengths.max()) if len(lengths) else None,
            "waits": len(self.waits),
            "wait_mean_s": round(float(np.mean(self.waits)), 2) if self.waits else None,
            "wait_max_s": round(float(np.max(self.waits)), 2) if self.waits else None,
            "served": self.served,
            "abandoned": self.abandoned,
            "service_rate_per_min": round(self.served / minutes, 3),
            "staffed_fraction": round(float(np.mean(self.staffed)), 3) if self.staffed else None,
        }
