"""The visitors' side of the counter simulation: the line, the desk, the exit (floor-plan units, seconds)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DT", "EXIT_PATH", "QUEUE_PATH", "SERVICE_SPOT", "SPEED", "Hall", "path_length", "polyline_at", "to_xy"]

DT = 0.05  # simulation step, seconds
SPEED = 70.0  # walking speed, reference px/s
QUEUE_PATH = np.array([(294, 166), (294, 317), (690, 317)], dtype=np.float64)  # front slot -> off-frame
SERVICE_SPOT = np.array([294.0, 119.0])
EXIT_PATH = np.array([(294, 119), (200, 125), (120, 200), (-110, 200)], dtype=np.float64)  # out of both views


def polyline_at(path: np.ndarray, dist: np.ndarray | float) -> np.ndarray:
    """Points at arc distances ``dist`` along a polyline (clamped to its ends)."""
    seg = np.diff(path, axis=0)
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))])
    d = np.clip(np.asarray(dist, dtype=np.float64), 0.0, cum[-1])
    return np.stack([np.interp(d, cum, path[:, 0]), np.interp(d, cum, path[:, 1])], axis=-1)


def path_length(path: np.ndarray) -> float:
    seg = np.diff(path, axis=0)
    return float(np.hypot(seg[:, 0], seg[:, 1]).sum())


class Hall:
    """The customers' side of the simulation, advanced one step at a time (reference pixels, seconds)."""

    def __init__(self, arrivals: list[float], services: list[float], spacing: float) -> None:
        n = len(arrivals)
        self.spacing = spacing
        self.arrivals, self.remaining = arrivals, list(services)
        self.log: list[list[tuple[int, float]]] = [[] for _ in range(n)]  # per step: (path, distance along it)
        self.first_step = [0] * n
        self.start: list[float | None] = [None] * n
        self.end: list[float | None] = [None] * n
        self.gone: list[float | None] = [None] * n
        self.line: list[int] = []  # in line, front first
        self.u: dict[int, float] = {}  # arc distance from the front slot
        self.at_desk: int | None = None  # walking to or standing at the service spot
        self.desk_d = 0.0
        self.leaving: dict[int, float] = {}  # id -> distance walked along the exit
        self.next = 0
        self._qlen = path_length(QUEUE_PATH)
        self._exit_len = path_length(EXIT_PATH)
        self._to_spot = float(np.hypot(*(QUEUE_PATH[0] - SERVICE_SPOT)))

    @property
    def drained(self) -> bool:
        """Everybody has arrived and left."""
        return self.next >= len(self.arrivals) and not self.line and self.at_desk is None and not self.leaving

    def step(self, step: int, clerk_here: bool) -> None:
        now = step * DT
        while self.next < len(self.arrivals) and self.arrivals[self.next] <= now:
            self.line.append(self.next)
            self.u[self.next] = self._qlen
            self.first_step[self.next] = step
            self.next += 1
        self._desk(now, clerk_here)
        # the line: walk toward your slot, never closer than the spacing to the person ahead
        ahead = -math.inf
        for k, pid in enumerate(self.line):
            target = max(k * self.spacing, ahead + self.spacing, 0.0)
            if self.u[pid] > target:
                self.u[pid] = max(target, self.u[pid] - SPEED * DT)
            ahead = self.u[pid]
        for pid in list(self.leaving):
            self.leaving[pid] += SPEED * DT
            if self.leaving[pid] >= self._exit_len:
                del self.leaving[pid]
                self.gone[pid] = now
        for pid in self.line:
            self.log[pid].append((0, self.u[pid]))
        if self.at_desk is not None:
            self.log[self.at_desk].append((1, self.desk_d))
        for pid, d in self.leaving.items():
            self.log[pid].append((2, d))

    def _desk(self, now: float, clerk_here: bool) -> None:
        """Walk up to the desk, be served while the clerk is there, then leave; the next one steps up."""
        pid = self.at_desk
        if pid is not None:
            if self.desk_d < self._to_spot:
                self.desk_d = min(self._to_spot, self.desk_d + SPEED * DT)
            elif clerk_here:
                if self.start[pid] is None:
                    self.start[pid] = now
                self.remaining[pid] -= DT
                if self.remaining[pid] <= 0:
                    self.end[pid] = now
                    self.leaving[pid] = 0.0
                    self.at_desk = None
        spot_free = self.at_desk is None and all(d > 40.0 for d in self.leaving.values())
        if spot_free and self.line and self.u[self.line[0]] <= 0.0 and clerk_here:
            self.at_desk = self.line.pop(0)
            self.desk_d = 0.0


def to_xy(log: list[tuple[int, float]], paths: tuple[np.ndarray, ...]) -> np.ndarray:
    """Convert a (path index, distance) log to an (N, 2) float32 array of reference-pixel centres."""
    arr = np.asarray(log, dtype=np.float64).reshape(-1, 2)
    out = np.zeros((len(arr), 2), dtype=np.float32)
    for code, path in enumerate(paths):
        sel = arr[:, 0] == code
        if sel.any():
            out[sel] = polyline_at(path, arr[sel, 1])
    return out
