"""Person identity across tracker id switches: a track born where a person was just lost continues that person.

At a low detection rate (2 Hz) the tracker loses people it cannot match from one detection to the next: someone
walking round the corner of a line, or missed once by the detector, moves too far for their enlarged box to
overlap its prediction, and comes back under a new tracker id. Two people side by side (the one being served and
the next in line) can also trade ids. :class:`IdentityStitcher` sits after the tracker and hands out *person* ids:

* a tracker id seen for the first time (or an unconfirmed track) takes over the lost person nearest to where it
  appears (a walker: to where they were heading), if any: within ``radius_px`` of where they were last seen,
  widened by how far they could have walked since at their own recent speed (people standing still must reappear
  close by; walkers may reappear further along);
* people walking in file a step apart, whom the tracker hands each the id of the one ahead (the one in front
  under a new id, the one at the back lost), each take the box a step ahead of them;
* with an appearance cue (mean luma and chroma of the torso and of the legs, :func:`appearance`, read from the
  frame's planes without a colour conversion): a candidate that looks clearly different is refused; when a line
  moves up and the tracker hands each person the id of the one ahead, the people seen are re-dealt among the
  boxes by their looks; a box that looks unlike its person but like someone lost beside it goes to that person.

Looks separate people only roughly (many wear dark clothes): on the counter scene's DNN boxes, one person's look
changes by under 5 (of 255) between detections in 95 % of cases, while a quarter of neighbours differ by under 10.

Everything downstream (waits, services, coasting) sees person ids, so a wait belongs to a person.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["IdentityStitcher", "appearance"]


def appearance(planes: tuple[np.ndarray, ...], boxes: np.ndarray) -> np.ndarray:
    """Mean luma and chroma of each box's torso and legs, from a frame's Y, U, V planes (no conversion).

    Args:
        planes: the frame's planes, ``(Y, U, V)`` of a 4:2:0 or 4:4:4 picture (``U``/``V`` may be half size), or
            ``(Y,)`` alone (grey: chroma is taken as neutral).
        boxes: ``(N, 4)`` xyxy boxes in the Y plane's pixels.

    Returns:
        A new ``(N, 6)`` float32 array: ``Y, U, V`` of the torso (15-50 % of the box height, the middle half of
        its width) then of the legs (50-85 %).
    """
    y = planes[0]
    h, w = y.shape[:2]
    chroma = planes[1:3] if len(planes) >= 3 else ()
    out = np.full((len(boxes), 6), 128.0, dtype=np.float32)
    for k, (x0, y0, x1, y1) in enumerate(np.asarray(boxes, dtype=np.float64).tolist()):
        bw, bh = x1 - x0, y1 - y0
        xa, xb = int(max(0.0, x0 + 0.25 * bw)), int(min(w, x1 - 0.25 * bw))
        for part, (fa, fb) in enumerate(((0.15, 0.5), (0.5, 0.85))):
            ya, yb = int(max(0.0, y0 + fa * bh)), int(min(h, y0 + fb * bh))
            if xb <= xa or yb <= ya:
                continue
            out[k, 3 * part] = y[ya:yb, xa:xb].mean()
            for c, plane in enumerate(chroma):
                sy, sx = plane.shape[0] / h, plane.shape[1] / w
                ca, cb = int(ya * sy), max(int(ya * sy) + 1, int(yb * sy))
                cx0, cx1 = int(xa * sx), max(int(xa * sx) + 1, int(xb * sx))
                out[k, 3 * part + 1 + c] = plane[ca:cb, cx0:cx1].mean()
    return out


@dataclass
class _Person:
    pid: int
    last: float
    xy: tuple[float, float]
    speed: float = 0.0  # recent speed, pixels per second
    velocity: tuple[float, float] = (0.0, 0.0)  # recent velocity, pixels per second
    look: np.ndarray | None = None  # appearance, a running mean over their boxes
    confirmed: bool = False  # seen under a confirmed tracker id at least once
    height: float = 0.0  # box height, a running mean over their single (not merged) boxes, pixels
    sightings: int = 1  # how many detections saw them

    def heading(self, lost_for: float) -> tuple[float, float]:
        """Where they would be ``lost_for`` seconds after last seen at their recent velocity (for at most a second)."""
        ahead = min(lost_for, 1.0)
        return self.xy[0] + self.velocity[0] * ahead, self.xy[1] + self.velocity[1] * ahead


class IdentityStitcher:
    """Maps tracker ids to person ids (see the module docs).

    Args:
        stitch_s: how long a lost person may be taken over by a new tracker id, seconds.
        radius_px: how far from a lost person's last place a new id may appear (before their walking), pixels.
        walk_factor: the allowance for walking: ``walk_factor`` x their recent speed x the time lost.
        max_walk_px: cap on that allowance, pixels.
        look_distance: appearance difference (mean absolute, 0-255 scale) above which two boxes are different
            people.
        merged_height: a box this much taller than its person's usual box holds two people (one in front of
            the other): its look is a mixture and is not used to re-deal it.

    Example:
        >>> stitch = IdentityStitcher(radius_px=40.0)
        >>> person_ids = stitch.update(t, tracker_ids, anchors, looks)
    """

    def __init__(
        self,
        *,
        stitch_s: float = 4.0,
        radius_px: float = 40.0,
        walk_factor: float = 1.5,
        max_walk_px: float = 150.0,
        look_distance: float = 10.0,
        merged_height: float = 1.15,
    ) -> None:
        self.stitch_s = stitch_s
        self.radius_px = radius_px
        self.walk_factor = walk_factor
        self.max_walk_px = max_walk_px
        self.look_distance = look_distance
        self.merged_height = merged_height
        self._person_of: dict[int, int] = {}  # tracker id -> person id
        self._people: dict[int, _Person] = {}
        self._next = 0
        self._unconfirmed = -1
        self._prev: float | None = None  # the time of the last update
        self.born: set[int] = set()
        """The person ids first seen on the last :meth:`update`."""

    def hold(self, pid: int, t: float) -> None:
        """Keep person ``pid`` as if seen at ``t`` where they were last (hidden behind someone), if known."""
        person = self._people.get(pid)
        if person is not None:
            person.last = max(person.last, t)

    def confirmed(self, pid: int) -> bool:
        """Whether person ``pid`` was ever seen under a confirmed tracker id (not a one-off detection)."""
        person = self._people.get(pid)
        return person is not None and person.confirmed

    def standing(self, pid: int) -> bool:
        """Whether person ``pid`` was standing (moving under a tenth of ``radius_px`` a second) when last seen."""
        person = self._people.get(pid)
        return person is not None and self._standing(person)

    def reset(self) -> None:
        """Forget every id (a new start, e.g. after a resolution change)."""
        self._person_of.clear()
        self._people.clear()
        self._prev = None

    def update(
        self,
        t: float,
        ids: np.ndarray,
        anchors: np.ndarray,
        looks: np.ndarray | None = None,
        heights: np.ndarray | None = None,
    ) -> np.ndarray:
        """Person ids for one detection's tracks.

        Args:
            t: frame time, seconds (non-decreasing).
            ids: ``(N,)`` tracker ids (negative: unconfirmed; they are matched to people by place alone).
            anchors: ``(N, 2)`` each person's anchor point (the zone test point), pixels.
            looks: ``(N, 6)`` :func:`appearance` of each box, or ``None``.
            heights: ``(N,)`` box heights, pixels, or ``None`` (then every box is taken for one person).

        Returns:
            A new ``(N,)`` int array of person ids.
        """
        out = np.asarray(ids, dtype=int).copy()
        for i in np.nonzero(out < 0)[0].tolist():  # unconfirmed tracks: a key of their own, never seen again
            self._unconfirmed -= 1
            out[i] = self._unconfirmed
        xy = [(float(x), float(y)) for x, y in np.asarray(anchors, dtype=np.float64).reshape(-1, 2).tolist()]
        fresh = [i for i, tid in enumerate(out.tolist()) if tid not in self._person_of]
        present = {self._person_of[tid] for tid in out.tolist() if tid in self._person_of}
        self._claim(t, fresh, out, xy, looks, present)
        self._walk_on(fresh, out, xy)
        self._step_in(t, out, xy)
        merged = self._merged(out, heights)
        if looks is not None:
            self._untangle(t, out, xy, looks, merged)
            self._reclaim(t, out, xy, looks, merged)
        confirmed = np.asarray(ids) >= 0
        for i, tid in enumerate(out.tolist()):
            pid = self._person_of[tid]
            out[i] = pid
            person = self._people[pid]
            person.confirmed = person.confirmed or bool(confirmed[i])
            dt = t - person.last
            if dt > 0:
                person.sightings += 1
                vx, vy = (xy[i][0] - person.xy[0]) / dt, (xy[i][1] - person.xy[1]) / dt
                step = math.hypot(vx, vy)
                first = person.speed == 0.0
                person.speed = step if first else 0.5 * person.speed + 0.5 * step
                if first:
                    person.velocity = (vx, vy)
                else:
                    person.velocity = (0.5 * person.velocity[0] + 0.5 * vx, 0.5 * person.velocity[1] + 0.5 * vy)
            person.last, person.xy = t, xy[i]
            if merged[i]:
                continue  # a mixture of two people: neither their look nor their height
            if looks is not None:
                look = looks[i].astype(np.float32)
                person.look = look if person.look is None else 0.7 * person.look + 0.3 * look
            if heights is not None:
                h = float(heights[i])
                person.height = h if person.height == 0.0 else 0.7 * person.height + 0.3 * h
        self._forget(t)
        self._prev = t
        return out

    def _claim(
        self,
        t: float,
        fresh: list[int],
        ids: np.ndarray,
        xy: list[tuple[float, float]],
        looks: np.ndarray | None,
        present: set[int],
    ) -> None:
        """Give each new tracker id a lost person near it, nearest pairs first, or a new person."""
        pairs = []
        for i in fresh:
            for person in self._people.values():
                lost_for = t - person.last
                if person.pid in present or lost_for <= 0 or lost_for > self.stitch_s:
                    continue
                d = math.hypot(xy[i][0] - person.xy[0], xy[i][1] - person.xy[1])
                walk = min(self.max_walk_px, self.walk_factor * person.speed * lost_for)
                if d > self.radius_px + walk:
                    continue
                if looks is not None and person.look is not None and self._differ(looks[i], person.look):
                    continue
                if not self._standing(person):  # a walker: the nearest to where they were heading comes first
                    d = math.dist(xy[i], person.heading(lost_for))
                pairs.append((d / (self.radius_px + walk), i, person.pid))
        taken: set[int] = set()
        self.born = set()
        for _, i, pid in sorted(pairs):
            if i in taken or pid in present:
                continue
            taken.add(i)
            present.add(pid)
            # the person's old tracker ids are let go: one coming back later is someone else, or a new start
            self._person_of = {tid: p for tid, p in self._person_of.items() if p != pid}
            self._person_of[int(ids[i])] = pid
        for i in fresh:
            if i not in taken:
                pid = self._next
                self._next += 1
                self._person_of[int(ids[i])] = pid
                self._people[pid] = _Person(pid, t, xy[i])
                self.born.add(pid)

    def _standing(self, person: _Person) -> bool:
        """Whether ``person`` moved under a tenth of ``radius_px`` a second when last seen."""
        return person.speed < 0.1 * self.radius_px

    def _walk_on(self, fresh: list[int], ids: np.ndarray, xy: list[tuple[float, float]]) -> None:
        """People walking in file, a step apart: give each the box a step ahead of them.

        At a low detection rate, people walking one behind the other about a step (one detection's walk) apart
        each reach where the one ahead was, and the tracker, whose boxes carry no velocity yet, hands each box the
        id of the one ahead: the one in front comes under a new tracker id (a newcomer, or the one lost at the
        back taken for them) and the one at the back is lost. When a new tracker id's box is a step ahead of a
        person whose box stayed where they were (within half of ``radius_px``), that one a step ahead of another
        such person, and so on back to someone a step behind who was seen on the last detection and is lost now,
        or who is the one the new id was given to (every step alike, within ``max(radius_px / 3, 0.4 step)``),
        each of them takes the box a step ahead, and a newcomer at the front is nobody new. The longest such file
        is taken. Only people walking (``radius_px`` a second or faster) or new in the picture (seen on three
        detections at most, :meth:`_moving`): people standing in line, or moving slowly, keep their boxes. Without
        someone lost at the back the boxes say nothing (the first step of people walking in: the one behind may be
        someone new where the other was first seen).
        """
        prev = self._prev
        if prev is None or not fresh:
            return
        box_of = {self._person_of[int(tid)]: i for i, tid in enumerate(ids.tolist())}
        lost = [p for p in self._people.values() if p.last == prev and p.pid not in box_of and self._moving(p)]
        # people seen on the last detection and on this one, whose box stayed where they were
        stayed = [
            p
            for p in self._people.values()
            if p.pid in box_of
            and p.pid not in self.born
            and p.last == prev
            and self._moving(p)
            and math.dist(xy[box_of[p.pid]], p.xy) <= self.radius_px / 2.0
        ]
        best: tuple[int, _Person, list[_Person]] | None = None
        for i in fresh:
            owner = self._people[self._person_of[int(ids[i])]]
            chain = self._file_behind(xy[i], owner, lost, [p for p in stayed if p.pid != owner.pid])
            if chain is not None and (best is None or len(chain) > len(best[2])):
                best = (i, owner, chain)
        if best is None:
            return
        i, owner, movers = best
        if owner.pid in self.born:
            del self._people[owner.pid]
            self.born.discard(owner.pid)
        moved = {p.pid for p in movers} | {owner.pid}
        self._person_of = {k: p for k, p in self._person_of.items() if p not in moved}
        for box, person in zip([i] + [box_of[p.pid] for p in movers[:-1]], movers, strict=True):
            self._person_of[int(ids[box])] = person.pid

    def _file_behind(
        self, front: tuple[float, float], owner: _Person, lost: list[_Person], stayed: list[_Person]
    ) -> list[_Person] | None:
        """The people walking in file behind a new tracker id's box at ``front``, front first (see :meth:`_walk_on`).

        ``stayed``: the people whose box stayed where they were. The last is the one lost at the back (or ``owner``,
        the person the new id was given to); ``None`` if the boxes make no such file.
        """
        prev, r = self._prev, self.radius_px
        newcomer = owner.pid in self.born
        ends = lost if newcomer or owner.last != prev or not self._moving(owner) else [*lost, owner]
        if not ends:
            return None
        firsts = [p for p in stayed if r / 3.0 < math.dist(front, p.xy) <= 2.0 * r]
        if not firsts:
            return None
        chain = [min(firsts, key=lambda p: math.dist(front, p.xy))]
        step = (front[0] - chain[0].xy[0], front[1] - chain[0].xy[1])
        tol = max(r / 3.0, 0.4 * math.hypot(*step))

        def behind(people: list[_Person]) -> _Person | None:
            want = (chain[-1].xy[0] - step[0], chain[-1].xy[1] - step[1])
            taken = {c.pid for c in chain}
            near = [p for p in people if p.pid not in taken and math.dist(want, p.xy) <= tol]
            return min(near, key=lambda p: math.dist(want, p.xy)) if near else None

        while (more := behind(stayed)) is not None:
            chain.append(more)
        end = behind(ends)
        return None if end is None else [*chain, end]

    def _moving(self, person: _Person) -> bool:
        """Whether ``person`` was walking when last seen (``radius_px`` a second or faster), or is new in the picture
        (seen on three detections at most)."""
        return person.speed >= self.radius_px or person.sightings <= 3

    def _merged(self, ids: np.ndarray, heights: np.ndarray | None) -> np.ndarray:
        """Which boxes are much taller than their person's usual box (two people, one in front of the other)."""
        out = np.zeros(len(ids), dtype=bool)
        if heights is None:
            return out
        for i, tid in enumerate(ids.tolist()):
            person = self._people[self._person_of[int(tid)]]
            out[i] = person.height > 0.0 and float(heights[i]) > self.merged_height * person.height
        return out

    def _step_in(self, t: float, ids: np.ndarray, xy: list[tuple[float, float]]) -> None:
        """Give a box that a standing person's id jumped to, onto the spot of someone unseen, to that someone.

        Two people close together in depth (one stepping in front of another who stands still: the next in line
        stepping up to the desk, the served one leaving behind them) often give the detector a single box, and
        the tracker hands it to whichever id its enlarged boxes overlap best, often the one standing behind. The
        box's anchor (the feet of the person in front) then lands where the one who was *not* matched stands
        or is heading. A standing person's box that jumps more than a third of ``radius_px`` goes to the person
        missing from this detection whose expected place (last place plus their recent velocity, for at most a
        second) is nearer to it than the standing person's, within ``0.4 * radius_px``; the one standing behind
        is then simply unseen (hidden).
        """
        present = {self._person_of[int(tid)] for tid in ids.tolist()}
        for i, tid in enumerate(ids.tolist()):
            person = self._people[self._person_of[int(tid)]]
            if person.last >= t or person.speed >= 0.1 * self.radius_px:
                continue
            jump = math.hypot(xy[i][0] - person.xy[0], xy[i][1] - person.xy[1])
            if jump <= self.radius_px / 3.0:
                continue
            best: tuple[float, _Person | None] = (min(jump, 0.4 * self.radius_px), None)
            for other in self._people.values():
                lost_for = t - other.last
                if other.pid in present or lost_for <= 0 or lost_for > self.stitch_s:
                    continue
                d = math.dist(xy[i], other.heading(lost_for))
                if d < best[0]:
                    best = (d, other)
            if best[1] is not None:
                pid = best[1].pid
                present.discard(person.pid)
                present.add(pid)
                self._person_of = {k: p for k, p in self._person_of.items() if p != pid}
                self._person_of[int(tid)] = pid

    def _untangle(
        self, t: float, ids: np.ndarray, xy: list[tuple[float, float]], looks: np.ndarray, merged: np.ndarray
    ) -> None:
        """Re-deal the people seen on this detection among its boxes where their looks say the tracker mixed them.

        When a line moves up, each person steps towards the place of the one ahead, and the tracker may hand each
        the id of the one ahead. Each box is given the person it looks like, among the people who could have
        walked there; a cycle of changes is applied only when it is better by ``look_distance`` (one clear
        difference) than the tracker's own deal.

        People first seen now have no look yet: they keep their boxes and the others are re-dealt among
        themselves. While such a newcomer is in the picture, a cycle is applied only when each of its people
        stands still or is put back within a third of ``radius_px`` of where they were last seen (the tracker
        traded people standing in line): a newcomer is a track the tracker just started for someone it lost, and
        the walkers near it are where ids are being lost and remade (a leaver at the desk, pedestrians crossing),
        their looks read off moving boxes that overlap a neighbour or the background.
        """
        from scipy.optimize import linear_sum_assignment  # scipy comes with trackers

        rows = [i for i in range(len(ids)) if not merged[i]]
        people = [self._people[self._person_of[int(ids[i])]] for i in rows]
        newcomer = any(p.look is None for p in people)
        if newcomer:
            rows = [i for i, p in zip(rows, people, strict=True) if p.look is not None]
            people = [p for p in people if p.look is not None]
        if len(rows) < 2:
            return
        cost = np.full((len(rows), len(rows)), 1e6)
        for r, i in enumerate(rows):
            for k, person in enumerate(people):
                lost_for = max(t - person.last, 0.0)
                d = math.hypot(xy[i][0] - person.xy[0], xy[i][1] - person.xy[1])
                if r == k or d <= self.radius_px + min(self.max_walk_px, self.walk_factor * person.speed * lost_for):
                    assert person.look is not None
                    cost[r, k] = _look_diff(looks[i], person.look) + 0.05 * d
        _, deal = linear_sum_assignment(cost)
        done: set[int] = set()
        for start in range(len(rows)):
            if start in done or deal[start] == start:
                continue
            cycle, r = [], start
            while r not in cycle:
                cycle.append(r)
                r = int(deal[r])
            done.update(cycle)
            gain = sum(cost[r, r] - cost[r, deal[r]] for r in cycle)
            if gain <= self.look_distance:
                continue
            if newcomer and not all(self._stays_put(people[int(deal[r])], xy[rows[r]]) for r in cycle):
                continue
            pids = {r: people[int(deal[r])].pid for r in cycle}
            for r in cycle:
                self._person_of[int(ids[rows[r]])] = pids[r]

    def _stays_put(self, person: _Person, xy: tuple[float, float]) -> bool:
        """Whether ``person``, given the box at ``xy``, stands still or stays within a third of ``radius_px``."""
        if self._standing(person):
            return True
        return math.hypot(xy[0] - person.xy[0], xy[1] - person.xy[1]) <= self.radius_px / 3.0

    def _reclaim(
        self, t: float, ids: np.ndarray, xy: list[tuple[float, float]], looks: np.ndarray, merged: np.ndarray
    ) -> None:
        """Give a box that looks unlike its person, but like someone lost near it, to that lost person.

        The tracker kept a lost person's id alive and matched it to whoever stepped into their place (the next in
        line stepping up to the desk while the one served leaves behind them). Not when another box of this
        detection looks more like the lost person: that is them (e.g. the one served walking away under a new id).
        """
        present = {self._person_of[int(tid)] for tid in ids.tolist()}
        for i, tid in enumerate(ids.tolist()):
            person = self._people[self._person_of[tid]]
            if merged[i] or person.look is None or not self._differ(looks[i], person.look):
                continue
            best: tuple[float, int | None] = (math.inf, None)
            for other in self._people.values():
                lost_for = t - other.last
                if other.pid in present or other.look is None or lost_for <= 0 or lost_for > self.stitch_s:
                    continue
                d = math.hypot(xy[i][0] - other.xy[0], xy[i][1] - other.xy[1])
                walk = min(self.max_walk_px, self.walk_factor * other.speed * lost_for)
                diff = _look_diff(looks[i], other.look)
                if d > self.radius_px + walk or diff > self.look_distance or diff >= best[0]:
                    continue
                # another box of this detection that looks more like them is them (walking away, new id)
                if any(j != i and not merged[j] and _look_diff(looks[j], other.look) < diff for j in range(len(ids))):
                    continue
                best = (diff, other.pid)
            if best[1] is not None:
                present.discard(person.pid)
                present.add(best[1])
                self._person_of = {k: p for k, p in self._person_of.items() if p != best[1]}
                self._person_of[tid] = best[1]

    def _differ(self, look: np.ndarray, known: np.ndarray) -> bool:
        return _look_diff(look, known) > self.look_distance

    def _forget(self, t: float) -> None:
        gone = {pid for pid, p in self._people.items() if t - p.last > self.stitch_s}
        if gone:
            for pid in gone:
                del self._people[pid]
            self._person_of = {tid: pid for tid, pid in self._person_of.items() if pid not in gone}


def _look_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two appearances (0-255 scale)."""
    return float(np.abs(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)).mean())
