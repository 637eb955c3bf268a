"""Service at the desk: stays in the service zone, arrivals there and the hand-overs the tracker hides."""

from __future__ import annotations

import collections
import itertools
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from kedirivms.analytics.queue.waits import APART

__all__ = ["FinishedStay", "ServiceTracker"]


@dataclass(frozen=True)
class FinishedStay:
    """A stay in the service zone that ended: from reaching the zone to leaving it, seconds."""

    end: float
    service_s: float
    censored: bool


class _Miss(NamedTuple):
    """A stay's person missed at the spot: the first detection none of its tracks was in the zone, and where (foot
    point, box top) and when they were last seen there before."""

    t: float
    xy: tuple[float, float]
    seen: float
    top: tuple[float, float]


@dataclass
class _Departure:
    """Someone seen walking off a stay's spot, to be decided (see ``ServiceTracker._hand_over``)."""

    left_at: float  # when they left the spot
    track: int  # the leaver's track
    noticed: float  # when the departure was noticed
    on: int  # the detection it was noticed on (see ServiceTracker.update's ``fresh``)
    # the track stepped out of the line (someone else's id on the leaver), and where it was seen out of the zones
    lined: bool = False
    xy: tuple[float, float] = (0.0, 0.0)
    back: bool = False  # (``lined``) the track was seen back in the line since
    # ``left_at`` is when the leaver was last seen at the spot (not when they were first seen out of the zones)
    last_at_spot: bool = False


@dataclass(eq=False)
class _Stay:
    enter: float
    last_in: float
    last_seen: float
    last_xy: tuple[float, float]
    censored: bool
    tracks: set[int] = field(default_factory=set)
    departed: _Departure | None = None  # someone walked off the spot, not decided yet
    # a second departure seen while ``departed`` (under an id from the line) was undecided, taken up when that one
    # comes to nothing (see ServiceTracker._hand_over)
    alternate: _Departure | None = None
    in_xy: tuple[float, float] | None = None  # where its person was last seen in the zone (the spot)
    rest: bool = False  # the rest of a stay already counted (its person found again, see ServiceTracker._jumped)
    missed: _Miss | None = None  # the last time its person was missed at the spot
    # a trade to a track not from the line (see ServiceTracker._traded): when, the tracks given up, the one taken
    traded: tuple[float, frozenset[int], int] | None = None
    # its tracks' places (foot point, box top, out of both zones, track) over the last seconds, oldest first; and
    # those in the zone over the last leave_grace_s
    recent: collections.deque[tuple[float, tuple[float, float], tuple[float, float], bool, int]] = field(
        default_factory=collections.deque
    )
    recent_in: collections.deque[tuple[float, tuple[float, float], tuple[float, float]]] = field(
        default_factory=collections.deque
    )
    zone_seen: float = -math.inf  # when one of its tracks was last seen inside the zone itself (not only by the spot)

    @property
    def spot(self) -> tuple[float, float]:
        """Where its person was last seen in the zone, else last seen at all."""
        return self.in_xy if self.in_xy is not None else self.last_xy


def _stood(
    feet: tuple[float, float],
    top: tuple[float, float],
    was_feet: tuple[float, float],
    was_top: tuple[float, float],
    within: float,
) -> bool:
    """Whether a box with ``feet`` and ``top`` stands where one with ``was_feet`` and ``was_top`` stood: its foot point
    ``within`` of the place, or its top there and its foot point straight above or below (someone passing in front
    hides the legs: the box ends higher, or takes in the passer's, while its top stays)."""
    if math.dist(feet, was_feet) < within:
        return True
    return math.dist(top, was_top) < within and abs(feet[0] - was_feet[0]) < within


def _towards(
    origin: tuple[float, float], spot: tuple[float, float], now: tuple[float, float], then: tuple[float, float]
) -> float:
    """How far ``now`` lies from ``then`` in the direction from ``origin`` to ``spot`` (negative: away), pixels."""
    way = (spot[0] - origin[0], spot[1] - origin[1])
    norm = math.hypot(*way) or 1.0
    return ((now[0] - then[0]) * way[0] + (now[1] - then[1]) * way[1]) / norm


@dataclass(eq=False)
class _Arrived:
    """The last arrival at the spot, of someone not boxed there since, and who stood at the front of the line then
    (see ``ServiceTracker._found_again``)."""

    t: float  # when they reached the spot
    stay: _Stay  # the stay they began (then the one they were found again in)
    front: int  # the track standing in line nearest the spot then
    since: float  # since when that track stood where it stood then
    counted: bool = False  # their stay ended as a service (long enough), so a stay found again is its rest


@dataclass
class _Born:
    """A track first seen out of both zones (see ``ServiceTracker._born_out``)."""

    t: float
    xy: tuple[float, float]
    # where the walk began that it carries on (a walker lost out of the zones a moment before), see _walk_began
    walk_from: tuple[float, float] | None
    # (stay, its miss at the spot) for each stay whose person was missed there shortly before
    missed: list[tuple[_Stay, _Miss]]
    # first seen at the counter while these stays' people walked off the spot under their own ids: the clerk, not
    # their leaver (see ServiceTracker._hand_over)
    beside_leaving: list[_Stay] = field(default_factory=list)


class ServiceTracker:
    """Times each person's stay in the service zone (being served) and notices arrivals there.

    A stay starts when a person's centre reaches the service zone and ends when it has been out of the zone for
    ``leave_grace_s`` or lost for ``relink_s``. As for visits, a stay belongs to a person: a new track appearing
    within ``relink_px`` of a stay's person (lost, or still seen: a duplicate box) continues that stay. Stays
    shorter than ``min_service_s`` are people passing through, not services.

    Given the queue zone too (``in_queue``), it also sees a *hand-over* the tracker hid: as the one served leaves
    and the next steps up, the two pass close and the tracker often gives the one stepping up the leaver's id (or
    slides every id in the line one place along), so the stay's id never leaves the spot and the new person's
    arrival would go unseen. When someone walks out of the line or off the spot (into neither zone) within
    ``depart_px`` of a stay's person while another of the stay's tracks is (or, within ``leave_grace_s``, gets)
    in the service zone, the stay's person is the one who left: their stay ends where they left and the one at
    the spot starts a new stay (an arrival); so does the one at the spot under the stay's id as the leaver left,
    when the model misses them there afterwards. The next in line stepping into the zone beside the one served
    while that one walks off it is someone else (an arrival), not a second box on them. A stay's person missed at
    the spot within ``leave_grace_s`` counts as leaving from where they were last seen there (the next one may have
    taken their id at the spot meanwhile). The leavers' track ids are
    in :attr:`handovers`. A departure under the
    id of someone in line waits until someone is seen out of the zones where it was seen; with nobody there, it
    stands after ``leave_grace_s`` unless that id went back into the line (it was on someone else for a detection:
    nobody left); someone else walking off meanwhile is kept and taken up then, unless their id went back too.
    When nobody is seen at the spot after such a departure (when its time is up, or when the stay ends) and the
    stay's tracks but the leaver's were not seen out of the line since, while someone other than the leaver waited in
    line when they left (stood there for ``leave_grace_s``), someone is in line now and the clerk is at the desk
    (``staffed``), the front of the line stepped up unseen (a small person behind a tall one, or one boxed from their
    head at the spot down to the feet of the one behind): the arrival is reported with no track, and a stay without
    tracks holds the spot. So it is when a served stay's only track walks off while the one at the front of the line
    moves up towards the spot, unboxed there (see :meth:`_walked_off_alone`).

    A stay lost for good while its person stood at the spot (nobody saw them leave) still holds the desk: the
    detector misses the one served for long stretches, and the tracker may move the id of the one waiting at the
    front of the line onto them when they are seen again. So does a stay whose ids all stand in the line when it
    ends: the one served leaves by walking away, and an id that steps back into the line has moved onto the one
    waiting at the front while the one served was missed. An arrival from the line at that spot is held back for
    ``relink_s``: a new id found in the line where the arriving track last stood meanwhile (or an id that stood there
    beside it then) is the person still waiting there, and the one at the spot is the one served, found again (no
    arrival); see :meth:`_jumped`. Where the zone is thin (``thin_zone``, from the analyzer's view survey) every
    arrival from the line is held back so, and one whose track is seen back at its place in line meanwhile was the
    front of the line dipping in (see :meth:`_settle`).

    Args:
        leave_grace_s: time out of the zone that still counts as the same stay, seconds.
        relink_s: how long a lost person's stay waits for a new track, seconds.
        relink_px: how near (pixels) a new track must appear to continue a stay.
        min_service_s: shortest stay that counts as a service, seconds.
        warmup_s: stays starting this soon after the first frame are censored (their start is unknown).
        depart_px: how near (pixels) to a stay's person someone must step out of the zones to have left the spot
            (default: ``2 * relink_px``, about one detection period's walk at 2 Hz).
        hidden_s: how long after they were last seen at the spot someone whose arrival was counted while nobody was
            boxed there may be boxed there at last under a new track and be found again (see :meth:`_found_again`),
            seconds (the analyzer passes ``tracking.hidden_s``).

    Example:
        >>> service = ServiceTracker(relink_px=20.0)
        >>> stays, arrivals = service.update(t, ids, centres, in_service)
    """

    def __init__(
        self,
        *,
        leave_grace_s: float = 1.5,
        relink_s: float = 4.0,
        relink_px: float = 40.0,
        min_service_s: float = 2.0,
        warmup_s: float = 1.0,
        depart_px: float | None = None,
        hidden_s: float = 30.0,
    ) -> None:
        self.leave_grace_s = leave_grace_s
        self.relink_s = relink_s
        self.relink_px = relink_px
        self.min_service_s = min_service_s
        self.warmup_s = warmup_s
        self.depart_px = 2.0 * relink_px if depart_px is None else depart_px
        self.hidden_s = hidden_s
        self.thin_zone = False
        """The zone is thinner than a still person's foot point jitters (set by the analyzer from its view survey,
        :mod:`.view_check`): see :meth:`_beside_the_served` and :meth:`_settle`."""
        self.side_by_side = False
        """The people in line stand side by side, the line across the picture (set by the analyzer on each frame from
        :meth:`.WaitTracker.side_by_side`): see :meth:`_hand_over`."""
        self._stays: list[_Stay] = []
        self._owner: dict[int, _Stay] = {}
        # track -> (last seen, in the queue or service zone, where, top of its box)
        self._zone_of: dict[int, tuple[float, bool, tuple[float, float], tuple[float, float]]] = {}
        # tracks first seen out of both zones near a stay's spot: track -> when, where, and what it carries on
        self._born_out: dict[int, _Born] = {}
        # tracks that stepped out of both zones: track -> (when, last foot point and box top in the zones)
        self._stepped: dict[int, tuple[float, tuple[float, float], tuple[float, float]]] = {}
        self.handovers: list[tuple[float, int]] = []
        """The hand-overs seen on the last :meth:`update`: (when the leaver left the spot and the next person took it,
        the leaver's track id)."""
        self.arrivals: list[tuple[float, int | None, int | None]] = []
        """The arrivals seen on the last :meth:`update`: (when, the track at the spot or ``None`` for someone who
        stepped up unseen, the leaver's track for a hand-over or ``None``)."""
        # where the person of a stay lost for good at the spot was last seen (nobody saw them leave): see _jumped
        self._held: tuple[float, float] | None = None
        # a stay that ended because its ids stand in the line (see _back_at_spot): the stay, when, whether counted
        self._lined_end: tuple[_Stay, float, bool] | None = None
        # track -> (when, where) it was last seen in the queue zone
        self._line_xy: dict[int, tuple[float, tuple[float, float]]] = {}
        self._lined_owned: dict[int, float] = {}  # a stay's id in the line since (see _waiting_under_stay_ids)
        # track in the queue zone -> since when and where it stands there, and its box's top then (a step,
        # relink_px / 2, starts it again)
        self._standing: dict[int, tuple[float, tuple[float, float], tuple[float, float]]] = {}
        # the tracks in line on each detection over the last 2 * max(relink_s, leave_grace_s): feet and top of their
        # box (_front_stayed looks leave_grace_s before a departure decided up to relink_s after it)
        self._lines: collections.deque[tuple[float, dict[int, tuple[tuple[float, float], tuple[float, float]]]]] = (
            collections.deque()
        )
        # track -> when it last stood in the line for leave_grace_s or longer, where it stood there (its feet, and
        # its box's top when it began standing there; see _stepped_up and _walked_off_alone)
        self._waited: dict[int, tuple[float, tuple[float, float], tuple[float, float]]] = {}
        # an arrival from the line held back (see _jumped and _settle): (the stay, when, its track, where it stood in
        # line, the tracks that stood there beside it then)
        self._pending: tuple[_Stay, float, int, tuple[float, float], set[int]] | None = None
        self._arrived: _Arrived | None = None  # the last arrival, of someone not boxed at the spot (_found_again)
        self._spot_t: dict[int, float] = {}  # track -> when it was last in the service zone
        self._off_line: dict[int, float] = {}  # track -> when it was last seen out of the line (at the spot, or out)
        self._first_t: float | None = None
        self._detection = 0  # how many fresh detections were fed (see update)
        self._wait_ended: float | None = None  # see wait_ended
        self.last_arrival: float | None = None
        """When someone last reached the service zone (a new stay began), seconds; ``None``: not yet."""

    @property
    def occupied(self) -> int:
        """People in the service zone now (stays in progress)."""
        return len(self._stays)

    def wait_ended(self, t: float) -> None:
        """A wait ended at the service zone at ``t``: someone reached it, even when the tracker handed them the id of
        the one served and their stay looks like that one's going on."""
        self._wait_ended = t if self._wait_ended is None else max(self._wait_ended, t)

    def reached_since(self, t0: float) -> bool:
        """Whether someone reached the service zone at or after ``t0`` (a new stay, or a wait that ended there)."""
        return any(x is not None and x >= t0 for x in (self.last_arrival, self._wait_ended))

    def arrived_since(self, t0: float) -> bool:
        """Whether someone who reached the service zone at or after ``t0`` is still there, or a wait ended there
        since."""
        if self._wait_ended is not None and self._wait_ended >= t0:
            return True
        return any(stay.enter >= t0 and stay.last_in >= stay.last_seen for stay in self._stays)

    def update(
        self,
        t: float,
        ids: np.ndarray,
        centres: np.ndarray,
        in_service: np.ndarray,
        in_queue: np.ndarray | None = None,
        heads: np.ndarray | None = None,
        *,
        fresh: bool = True,
        staffed: bool = True,
        counter: np.ndarray | None = None,
    ) -> tuple[list[FinishedStay], int]:
        """Feed one frame of tracks.

        Args:
            t: frame time, seconds (non-decreasing).
            ids: ``(N,)`` tracker ids.
            centres: ``(N, 2)`` centres, pixels.
            in_service: ``(N,)`` bool, centre inside the service zone.
            in_queue: ``(N,)`` bool, centre inside the queue zone; ``None``: hand-overs are not looked for.
            heads: ``(N, 2)`` top centre of each person's box, pixels, or ``None``. With it a step out of the zones
                counts only when the whole box moved: the box of someone standing half hidden behind the person in
                front ends where that person hides their legs, and its foot point jumps while its top stays.
            fresh: the tracks come from a new detection (``False``: a frame between detections that repeats the
                last one). A hand-over is decided on the detection after the one its leaver was seen walking off on:
                a leaver back in the service zone by then was an id that jumped for one detection (onto the clerk
                walking behind the desk), not someone who left.
            staffed: the clerk is at the desk (``False``: nobody is served, so nobody is taken to have stepped up
                unseen after a departure; see the class docs).
            counter: ``(N,)`` bool, in the counter zone (the clerk's side of the desk), or ``None``. A track first
                seen there while the one served walks off the spot under their own id is the clerk (hidden behind
                them until then), not someone leaving the spot; a stay's id seen there is on the clerk, and its place
                is not the one served's.

        Returns:
            The stays that ended on this frame (services, and passers-by under ``min_service_s`` left out), and
            how many people reached the zone on this frame.
        """
        if self._first_t is None:
            self._first_t = t
        if fresh:
            self._detection += 1
        rows = [
            (int(tid), (float(x), float(y)), bool(s))
            for tid, (x, y), s in zip(ids.tolist(), centres.tolist(), in_service.tolist(), strict=True)
        ]
        inside = {tid for tid, _, s in rows if s}  # (in the zone itself: see _beside_the_served)
        queue = in_queue.tolist() if in_queue is not None else None  # (one list per frame, read by every step below)
        if queue is not None:  # (a foot point that dips out of a thin zone beside the spot is still at the spot)
            rows = [
                (tid, xy, s or (not q and self._by_spot(tid, xy))) for (tid, xy, s), q in zip(rows, queue, strict=True)
            ]
        # (the top centre of each box; without heads, its centre)
        tops = [(float(x), float(y)) for x, y in heads.tolist()] if heads is not None else [xy for _, xy, _ in rows]
        taken: list[tuple[_Stay, int, tuple[float, float]]] = []  # (see _took_the_id)
        at_counter = counter.tolist() if counter is not None else [False] * len(rows)
        for k, ((tid, xy, s), top) in enumerate(zip(rows, tops, strict=True)):
            stay = self._owner.get(tid)
            if (
                stay is not None
                and s
                and fresh
                and queue is not None
                and self._took_the_id(stay, tid, xy, t, rows, queue)
            ):
                taken.append((stay, tid, xy))
            if stay is not None:
                stay.last_seen = t
                if not s and at_counter[k]:
                    # an id of the stay on the clerk's side of the desk is on the clerk (the tracker moved the id of
                    # the one stepping up onto the clerk behind them): its place is not where the one served stands
                    # or steps off from (composite across view, rush-x-s22 117.8 s: someone walking past behind the
                    # desk, first seen beside the clerk, was taken for the one served walking off)
                    continue
                stay.last_xy = xy
                stay.recent.append((t, xy, top, not s and not (queue is not None and queue[k]), tid))
                # (kept for as long as a miss at the spot is asked about: see _walked_off_seen)
                while t - stay.recent[0][0] > self.leave_grace_s + 2.0 * self.relink_s:
                    stay.recent.popleft()
                if s:
                    stay.last_in, stay.in_xy = t, xy
                    stay.recent_in.append((t, xy, top))
                if tid in inside:
                    stay.zone_seen = t
                while stay.recent_in and t - stay.recent_in[0][0] > self.leave_grace_s + 1e-9:
                    stay.recent_in.popleft()
        if fresh:  # (a stay none of whose tracks is in the zone on this detection: its person missed at the spot)
            for stay in self._stays:
                first_miss = stay.missed is None or stay.missed.t < stay.last_in
                if stay.last_in < t and stay.in_xy is not None and first_miss:
                    was_top = stay.recent_in[-1][2] if stay.recent_in else stay.in_xy
                    stay.missed = _Miss(t, stay.in_xy, stay.last_in, was_top)
        self.handovers = []
        self.arrivals = []
        done: list[FinishedStay] = []
        arrivals = 0
        born = {tid for tid, _, _ in rows if tid not in self._zone_of}
        for stay, tid, xy in taken:  # (the next one, boxed under the id of the one served who left unseen)
            assert stay.missed is not None
            arrivals += self._pass_spot(stay, stay.missed.seen, tid, t, done, xy, {tid}, t, tid)
        if queue is not None:
            if fresh:  # (a frame between detections repeats the last one's places)
                self._stand(t, rows, queue, tops)
            arrivals += self._settle(t, rows, queue, born)
            clerks = set(ids[counter].tolist()) if counter is not None else set()
            arrivals += self._hand_over(t, rows, queue, tops, done, staffed, clerks)
            self._waiting_under_stay_ids(t, rows, queue)
        lined = {tid for (tid, _, _), q in zip(rows, queue, strict=True) if q} if queue is not None else set()
        for tid, xy, s in rows:
            if tid in self._owner or not s:
                continue
            stay = (
                self._nearest(xy, t, tid)
                or self._traded(xy, t, lined, tid)
                or self._traded_back(xy, t, tid)
                or self._passed_in_front(xy, t, tid, born, lined)
            )
            if stay is None and self._beside_the_served(t):
                continue  # (not yet: see _beside_the_served)
            if stay is None:
                censored = t - self._first_t < self.warmup_s
                found = self._found_again(t, tid, xy)  # (if so, their arrival was counted)
                back = self._back_at_spot(t, tid, xy, lined)
                stay = _Stay(enter=t, last_in=t, last_seen=t, last_xy=xy, censored=censored, in_xy=xy)
                self._stays.append(stay)
                line = self._line_xy.get(tid)
                if back is not None:  # (the one served, boxed again: their stay goes on, or its counted rest)
                    stay.enter, stay.censored, stay.rest = back[0].enter, back[0].censored, back[1]
                    self._lined_end = None
                elif found is not None:  # (their stay runs from their arrival, or it was counted: this is its rest)
                    stay.enter, stay.censored, stay.rest = found.t, found.stay.censored, found.counted
                    found.stay, self._held = stay, None
                elif line is not None and t - line[0] <= self.leave_grace_s and (self._holds(xy) or self.thin_zone):
                    beside = {
                        other
                        for other, (w, p) in self._line_xy.items()
                        if other != tid
                        and t - self._spot_t.get(other, -math.inf) > self.relink_s
                        and abs(w - line[0]) < 1e-6
                        and math.dist(p, line[1]) <= APART * self.relink_px
                    }
                    # decided later (see _jumped; in a thin zone, the front of the line dips in: see _settle); one
                    # held back already is counted now (its time would be up before this one's)
                    if self._pending is not None:
                        arrivals += self._release(self._pending[0], t)
                    self._pending = (stay, t, tid, line[1], beside)
                    if queue is not None:  # (the one waiting may be found under a new id on this very detection)
                        arrivals += self._settle(t, rows, queue, born)
                else:
                    arrivals += self._arrive(t, tid)
            stay.tracks.add(tid)
            self._owner[tid] = stay
            stay.last_seen, stay.last_in, stay.last_xy, stay.in_xy = t, t, xy, xy
        present = {tid for tid, _, _ in rows}
        for stay in list(self._stays):
            lost_for, out_for = t - stay.last_seen, t - stay.last_in
            if lost_for > self.relink_s or (lost_for <= 0 and out_for > self.leave_grace_s):
                dep = stay.departed  # (its person seen walking off, not decided yet: the front stepped up unseen?)
                took = self._held_spot(stay, t, done) if queue is not None else None
                if took is not None:  # (as when its time is up, see _hand_over: the stay ends before it is)
                    arrivals += took
                    continue
                if dep is not None and queue is not None and self._stepped_up(stay, dep, t, staffed):
                    arrivals += self._stepped_up_unseen(stay, dep.left_at, dep.track, t, done)
                    continue
                walker = None
                if lost_for <= 0 and queue is not None:
                    walker = self._walked_off_alone(stay, rows, queue, tops, staffed)
                if walker is not None:  # (and the front of the line moved up towards the spot)
                    arrivals += self._stepped_up_unseen(stay, stay.last_in, walker, t, done)
                    continue
                arrivals += self._release(stay, t)
                self._end(stay)
                length = stay.last_in - stay.enter
                lost_here = lost_for > self.relink_s and stay.last_in >= stay.last_seen and stay.in_xy is not None
                # (or its ids stand in the line: one served steps off the spot by walking away, not into the line; their
                # id moved onto the one waiting at the front while the detector missed them at the spot)
                lost_here = lost_here or (lost_for <= 0 and stay.in_xy is not None and stay.tracks & present <= lined)
                if lost_here and length + 1e-9 >= self.min_service_s:
                    self._held = stay.in_xy  # lost at the spot, not seen leaving: most often still there, unseen
                if lost_for <= 0 and lost_here:
                    self._lined_end = (stay, t, length + 1e-9 >= self.min_service_s and not stay.rest)
                if length + 1e-9 >= self.min_service_s and not stay.rest:
                    done.append(FinishedStay(end=stay.last_in, service_s=length, censored=stay.censored))
                    if self._arrived is not None and self._arrived.stay is stay:
                        self._arrived.counted = True
        for tid, _, s in rows:
            if s:
                self._spot_t[tid] = t
        for tid in [k for k, v in self._spot_t.items() if t - v > 2.0 * self.relink_s]:
            del self._spot_t[tid]
        if queue is not None:
            for (tid, xy, s), q in zip(rows, queue, strict=True):
                if q and not s:
                    self._line_xy[tid] = (t, xy)
            for tid in [k for k, v in self._line_xy.items() if t - v[0] > self.relink_s]:
                del self._line_xy[tid]
        return done, arrivals

    def _arrive(self, t: float, tid: int | None) -> int:
        """Count an arrival at the spot at ``t`` under track ``tid``: the desk holds nobody unseen any more.

        Returns:
            1.
        """
        self._held, self._arrived, self._lined_end = None, None, None
        self.last_arrival = t if self.last_arrival is None else max(self.last_arrival, t)
        self.arrivals.append((t, tid, None))
        return 1

    def _by_spot(self, tid: int, xy: tuple[float, float]) -> bool:
        """Whether track ``tid``, seen out of both zones at ``xy``, is a stay's person within ``relink_px / 4`` across
        and ``relink_px / 2`` up or down of where they were last seen at the spot: still there (a box's foot point
        jitters by that much, most up and down, where its bottom meets the person behind or the desk; a zone drawn a
        few pixels tall, as far from the camera, has it in and out while its person stands still), not leaving."""
        stay = self._owner.get(tid)
        if stay is None or stay.in_xy is None:
            return False
        return (
            abs(xy[0] - stay.in_xy[0]) <= 0.25 * self.relink_px and abs(xy[1] - stay.in_xy[1]) <= 0.5 * self.relink_px
        )

    def _note_unboxed(self, t: float, stay: _Stay) -> None:
        """Remember the arrival at ``t`` of someone not boxed at the spot since, who holds ``stay``, and the front of
        the line then (see :meth:`_found_again`)."""
        self._arrived = None
        if self._standing:
            front, (since, _, _) = min(self._standing.items(), key=lambda kv: math.dist(kv[1][1], stay.spot))
            self._arrived = _Arrived(t, stay, front, since)

    def _holds(self, xy: tuple[float, float]) -> bool:
        """Whether the desk still holds someone lost at the spot near ``xy`` (see :meth:`_jumped`)."""
        return self._held is not None and math.dist(xy, self._held) <= self.relink_px

    def _settle(
        self, t: float, rows: list[tuple[int, tuple[float, float], bool]], in_queue: list[bool], born: set[int]
    ) -> int:
        """Decide an arrival held back (see :meth:`_jumped`): 1 when it stands, 0 while undecided or when it was an id
        that jumped.

        Where the zone is thin (``thin_zone``) every step into it from the line is held back so: the front of the
        line dips into such a zone and steps back, and an arriving track seen in the line again within ``relink_s``
        of its arrival, within ``relink_px / 2`` of where it stood in line, made no arrival (composite scenes: the
        arrivals counted fell from 153 to 134 for 100 services, the median wait error from 21 % to 15 %).
        """
        if self._pending is None:
            return 0
        stay, when, tid, line, beside = self._pending
        if self._jumped(rows, in_queue, born, line, beside):
            self._pending, self._held = None, None
            stay.rest = True
            return 0
        if self.thin_zone and any(
            other == tid and q and not s and math.dist(xy, line) <= 0.5 * self.relink_px
            for (other, xy, s), q in zip(rows, in_queue, strict=True)
        ):  # (the front of the line dipped into a thin zone and stepped back to its place: its stay goes)
            self._pending = None
            self._end(stay)
            return 0
        if t - when <= self.relink_s:
            return 0
        return self._release(stay, t)

    def _took_the_id(
        self,
        stay: _Stay,
        tid: int,
        xy: tuple[float, float],
        t: float,
        rows: list[tuple[int, tuple[float, float], bool]],
        in_queue: list[bool],
    ) -> bool:
        """Whether track ``tid`` of ``stay``, found in the zone at ``xy`` after its person was missed at the spot, is
        the next one stepping up under their id: found within ``relink_s`` of the miss, more than ``relink_px`` from
        where its person was last seen at the spot, on top of someone else seen in the line now, out of the service
        zone (within ``APART * relink_px``: a second box of the one stepping up, whose own id goes next; ``rows`` and
        ``in_queue`` are this frame's). Where the zones overlap the track itself may be in line too: it
        is not someone else (a real clip, one-by-one-person-detection.mp4 118.8 s: the one served walking off).
        Composite across view, steady-x-s10 197.3 s: the one served stepped off the picture's edge and the next was
        boxed under their id; one service ran on for 24 s.
        """
        miss = stay.missed
        if miss is None or stay.last_in >= miss.t or t - miss.seen > self.relink_s:
            return False
        if math.dist(xy, miss.xy) <= self.relink_px:
            return False
        return any(
            q and not s and other != tid and math.dist(xy, p) <= APART * self.relink_px
            for (other, p, s), q in zip(rows, in_queue, strict=True)
        )

    def _end(self, stay: _Stay) -> None:
        """Take ``stay`` off the desk: it holds no track any more."""
        if stay in self._stays:
            self._stays.remove(stay)
        for tid in stay.tracks:
            self._owner.pop(tid, None)

    def _finish(self, stay: _Stay, left_at: float, t: float, done: list[FinishedStay]) -> int:
        """End ``stay`` where its person left it (``left_at``), noticed at ``t``: a service if it lasted
        ``min_service_s``. Returns the arrival held back for it, if any (see :meth:`_release`)."""
        arrivals = self._release(stay, t)
        self._end(stay)
        if left_at - stay.enter + 1e-9 >= self.min_service_s and not stay.rest:
            done.append(FinishedStay(end=left_at, service_s=left_at - stay.enter, censored=stay.censored))
        return arrivals

    def _release(self, stay: _Stay, t: float) -> int:
        """Count the arrival held back for ``stay``, if any (its time is up, or the stay ends), dated when it came and
        noticed at ``t`` (the stall rule's timers run on frame times): 1 if there was one."""
        if self._pending is None or self._pending[0] is not stay:
            return 0
        _, when, tid, _, _ = self._pending
        self._pending = None
        self.wait_ended(t)
        return self._arrive(when, tid)

    def _jumped(
        self,
        rows: list[tuple[int, tuple[float, float], bool]],
        in_queue: list[bool],
        born: set[int],
        line: tuple[float, float],
        beside: set[int],
    ) -> bool:
        """Whether the id of the one waiting at the front of the line jumped onto the one served, found again.

        The detector may miss the one served for longer than ``relink_s``: their stay ends, but nobody saw them
        leave, so the desk still holds them. When they are seen again, the tracker may give them the id of the one
        at the front of the line (standing a step behind, seen now and then): that id steps onto the spot like an
        arrival, and the one still waiting comes back under a new id where they stood. A track first seen now in the
        queue zone within ``APART * relink_px`` (closer than two people stand) of where the arriving track last stood
        in line, within ``relink_s`` of its arrival, is that person: the arrival was the one served found again. If
        the one served had left unseen and the next stepped up, their place in line is empty or taken by the one
        behind, who walks up under their own id.

        So is a track that stood in line beside the arriving track (``beside``: within ``APART * relink_px``, on the
        detection that track was last there) and was not at the spot within ``relink_s``, seen there again: two ids
        on the one waiting at once, so the arriving id was the one served's, whose box dipped into the line or whose
        id lay on the one waiting while they were missed. (The stay's own id, lingering in line after the next
        stepped up, is no sign: it was at the spot a moment before.)
        """
        return any(
            (tid in born or tid in beside) and q and not s and math.dist(xy, line) <= APART * self.relink_px
            for (tid, xy, s), q in zip(rows, in_queue, strict=True)
        )

    def finish(self, t: float) -> list[FinishedStay]:
        """End every stay at the end of the stream (time ``t``) and return those long enough to be services.

        A stay whose person was already out of the zone or lost ends where they were last in it, as it would have
        after the grace time; one whose person is still in the zone at ``t`` is censored (its end is unknown). An
        arrival still held back (see :meth:`_jumped`) is decided with what was seen: nobody was found back in the line
        where it came from, so it stands and is in :attr:`arrivals` (nothing the stream showed is lost at its end).
        """
        self.handovers, self.arrivals = [], []
        if self._pending is not None:
            self._release(self._pending[0], t)
        done = []
        for stay in self._stays:
            length = stay.last_in - stay.enter
            if length + 1e-9 >= self.min_service_s and not stay.rest:
                ongoing = stay.last_in >= t
                done.append(FinishedStay(end=stay.last_in, service_s=length, censored=stay.censored or ongoing))
        self._stays.clear()
        self._owner.clear()
        return done

    def _hand_over(
        self,
        t: float,
        rows: list[tuple[int, tuple[float, float], bool]],
        in_queue: list[bool],
        tops: list[tuple[float, float]],
        done: list[FinishedStay],
        staffed: bool,
        clerks: set[int],
    ) -> int:
        """Split the stays whose person walked off while someone else stands at the spot (see the class docs).

        Returns how many people reached the spot this way (new stays). A track first seen in the counter zone
        (``clerks``) while a stay's person walks off the spot under their own id is the clerk (hidden behind them
        until then), not their leaver.
        """
        # (a box under half the height of the people seen is a part of someone, e.g. a head above the one in front;
        # only a track already first seen out of the zones is asked, see _walked_off)
        heights = [xy[1] - top[1] for (_, xy, _), top in zip(rows, tops, strict=True)] if self._born_out else []
        least_h = 0.5 * float(np.median(heights)) if heights else 0.0
        seen = {tid for tid, _, _ in rows}
        for (tid, xy, s), q, top in zip(rows, in_queue, tops, strict=True):
            before = self._zone_of.get(tid)
            self._zone_of[tid] = (t, s or q, xy, top)
            if s or not q:
                self._off_line[tid] = t
            # (a track unseen for longer than leave_grace_s is as good as new: its last place says little)
            stale = before is None or (t - before[0] > self.leave_grace_s + 1e-9 and tid not in self._born_out)
            if stale and not s and not q:
                self._born_out[tid] = _Born(
                    t,
                    xy,
                    self._walk_began(t, xy, seen),
                    [
                        (stay, stay.missed)
                        for stay in self._stays
                        if stay.missed is not None and t - stay.missed.t <= self.relink_s + 1e-9
                    ],
                    [stay for stay in self._stays if self._moving_off(stay, t)] if tid in clerks else [],
                )
            elif tid in self._born_out:
                self._walked_off(t, tid, xy, s or q, xy[1] - top[1] < least_h)
            # stepped out of the line or off the spot (into neither zone) since its last sighting, a moment ago,
            # and walked: a box whose foot edge only jitters (hidden by someone in front) moves a few pixels, and
            # its top stays
            # (someone starting to walk may cover under that in their first detection period: the walk is measured
            # from their last place in the zones for ``leave_grace_s``)
            if s or q:
                self._stepped.pop(tid, None)
                continue
            if before is not None and before[1] and t - before[0] <= self.leave_grace_s:
                self._stepped[tid] = (t, before[2], before[3])
            out = self._stepped.get(tid)
            if out is None or t - out[0] > self.leave_grace_s:
                continue
            foot = math.dist(xy, out[1])
            head = math.dist(top, out[2])
            if foot < 0.5 * self.relink_px or head < 0.25 * self.relink_px:
                continue
            del self._stepped[tid]
            for stay in self._stays:
                # (one more walking off while a departure is undecided: the one taken up if that comes to nothing)
                if stay.departed is not None and (stay.alternate is not None or stay.departed.track == tid):
                    continue
                if t - stay.enter < self.min_service_s or not stay.tracks - {tid}:
                    continue  # (the stay's only person walking off ends it as usual)
                # where they left the zones or where they are now (ids jump: the leaver may carry the id of
                # someone further down the line), from the spot or from where the stay's tracks were last seen (a
                # track the stay took on that stands off the spot, e.g. the clerk crossing it on their way to the
                # desk, moves that place away from the spot)
                refs = [stay.last_xy] if stay.in_xy is None else [stay.last_xy, stay.in_xy]
                refs += self._left_spot(stay, t, tid)
                near = min(math.dist(p, r) for p in (out[1], xy) for r in refs)
                # the stay's own person unseen since leaving the spot has walked on meanwhile
                # (walking off from where and when that track was last seen)
                gone = [
                    w
                    for w, p in self._gone_from_spot(stay, t, seen - {tid})
                    if math.dist(xy, p) <= 2.0 * self.depart_px
                ]
                # ... or missed at the spot a moment before, while the next in line took their id there (as for a
                # track first seen out of the zones, see _walked_off): gone from where and when last seen there
                miss = stay.missed
                recent = miss is not None and t - miss.t <= self.leave_grace_s + 1e-9
                if miss is not None and recent and math.dist(xy, miss.xy) <= 2.0 * self.depart_px:
                    gone.append(miss.seen)
                if near <= self.depart_px or gone:
                    left = out[0] if near <= self.depart_px else max(gone)
                    from_line = tid not in stay.tracks and self._from_line(tid, out[0])
                    departure = _Departure(
                        left, tid, t, self._detection, from_line, xy, last_at_spot=near > self.depart_px
                    )
                    if stay.departed is not None:
                        stay.alternate = departure  # (taken up if the undecided one comes to nothing)
                    else:
                        stay.departed = departure
        for tid in [k for k, v in self._zone_of.items() if t - v[0] > self.relink_s]:
            del self._zone_of[tid]
        for tid in [k for k, v in self._off_line.items() if t - v > self.relink_s]:
            del self._off_line[tid]
        for tid in [k for k, v in self._born_out.items() if t - v.t > self.relink_s]:
            del self._born_out[tid]
        for tid in [k for k, v in self._stepped.items() if t - v[0] > self.leave_grace_s]:
            del self._stepped[tid]
        arrivals = 0
        at_spot = {tid: xy for tid, xy, s in rows if s}
        lined = {tid for (tid, _, s), q in zip(rows, in_queue, strict=True) if q and not s}
        outside = [xy for (_, xy, s), q in zip(rows, in_queue, strict=True) if not s and not q]
        for stay in list(self._stays):
            if stay.departed is None:
                continue
            dep = stay.departed
            left_at, leaver = dep.left_at, dep.track
            if dep.lined and leaver in lined:
                dep.back = True
            here = [tid for tid in stay.tracks if tid != leaver and tid in at_spot]
            timed_out = t - dep.noticed > self.leave_grace_s
            # a departure under an id from the line with nobody seen walking off is decided once leave_grace_s is
            # up: a departure unless the id was seen back in the line meanwhile (see _walking_off)
            late = dep.lined and not dep.back and self._detection > dep.on
            others = {tid for tid in stay.tracks if tid != leaver}
            if timed_out and not here and leaver not in at_spot:
                took = self._held_spot(stay, t, done)
                if took is not None:
                    arrivals += took
                    continue
            if timed_out and not (late and here and leaver not in at_spot):
                # nobody seen stepping up: the front stepped up unseen, or the stay goes on (or ends), or another
                # walked off meanwhile
                if self._stepped_up(stay, dep, t, staffed):
                    stay.departed, stay.alternate = None, None
                    arrivals += self._stepped_up_unseen(stay, left_at, leaver, t, done)
                else:
                    self._take_alternate(stay, lined)
                continue
            if self._detection <= dep.on:
                continue  # decided on the next detection
            if leaver in at_spot:  # the leaver's id is back at the desk: it jumped (or another walked off meanwhile)
                self._take_alternate(stay, lined | set(at_spot))
                continue
            if dep.lined and not timed_out and not self._walking_off(dep.xy, outside):
                continue
            if not here:
                continue
            if self.side_by_side and leaver in stay.tracks and self._front_stayed(stay, left_at):
                # one of the stay's own ids walked off while another stayed at the spot, and in a line across the
                # picture (nobody in it hides behind a neighbour, nor is the one stepping up boxed with the one
                # behind) the front of the line stood where it stood: nobody stepped up, the id that stayed is still
                # the one served, and the one that walked off went onto someone passing; it is not theirs any more
                # (composite across view, crowd-x-s22 162.3 s: a hand-over counted, a start taken from the line)
                self._give_up(stay, {leaver})
                self._take_alternate(stay, lined | set(at_spot))
                continue
            # the next one took the spot as the leaver left it
            arrivals += self._pass_spot(stay, left_at, leaver, t, done, at_spot[here[0]], others, t, here[0])
        return arrivals

    def _waiting_under_stay_ids(
        self, t: float, rows: list[tuple[int, tuple[float, float], bool]], queue: list[bool]
    ) -> None:
        """Give up a stay's id that has stood in the line, out of the zone, for ``2 * relink_s`` while another id of the
        stay was at the spot, in a line across the picture (``side_by_side``): it is on someone waiting (the tracker
        left the id of the one who stepped up on the next in line), whose step up to the spot later is an arrival, not
        the stay's person back (composite across view, steady-x-s25 209.3 s: the next in line waited 50 s under the
        served person's first id and reached the desk unseen as an arrival; the two services read as one)."""
        at_spot = {tid for tid, _, s in rows if s}
        lined: dict[int, float] = {}  # (an id not seen so on this frame starts again)
        for (tid, _, s), q in zip(rows, queue, strict=True):
            stay = self._owner.get(tid)
            if not self.side_by_side or stay is None or s or not q or not (stay.tracks - {tid}) & at_spot:
                continue
            since = self._lined_owned.get(tid, t)
            if t - since >= 2.0 * self.relink_s:
                self._give_up(stay, {tid})
            else:
                lined[tid] = since
        self._lined_owned = lined

    @staticmethod
    def _take_alternate(stay: _Stay, back: set[int]) -> None:
        """Drop ``stay``'s departure (it came to nothing) for its alternate, someone else seen walking off meanwhile,
        unless the alternate's id is in ``back`` (seen back in the line, or at the spot: it was on someone else)."""
        other = stay.alternate
        stay.departed = other if other is not None and other.track not in back else None
        stay.alternate = None

    def _stepped_up(self, stay: _Stay, dep: _Departure, t: float, staffed: bool) -> bool:
        """Whether the front of the line is taken to have stepped up unseen as ``dep``'s leaver walked off: the clerk
        at the desk, someone in line now, someone other than the leaver's track who waited in line when it left
        (stood there for ``leave_grace_s`` within ``leave_grace_s`` before it left, or since: not walking in along
        it; the one waiting at the front may be moving up by now, their box taking in the feet of the one behind),
        and none of the stay's tracks but the leaver's seen out of the line since it left (the leaver's id may jump
        onto someone in line, and so may the stay's other ids: a box of the next in line taken for a second box on the
        one served goes back to the line with them; see :meth:`_stepped_up_unseen`), unless the front of the line
        stands where it stood (:meth:`_front_stayed`)."""
        seen = [self._off_line.get(tid, -math.inf) for tid in stay.tracks if tid != dep.track]
        waiting = bool(self._standing) and any(
            tid != dep.track and when + self.leave_grace_s + 1e-9 >= dep.left_at
            for tid, (when, _, _) in self._waited.items()
        )
        before = max(seen, default=-math.inf) < dep.left_at
        return before and staffed and waiting and not self._front_stayed(stay, dep.left_at)

    def _line_before(self, t: float) -> dict[int, tuple[tuple[float, float], tuple[float, float]]]:
        """The line as it stood on the last detection at or before ``t``: track -> (feet, box top); empty when
        ``t`` is older than the snapshots kept (see :meth:`_stand`)."""
        return next((line for when, line in reversed(self._lines) if when <= t), {})

    def _stood_then(self, tid: int, left_at: float) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """Where ``tid`` stood in the line (feet, box top) as the one served was about to leave at ``left_at``: on the
        last detection ``leave_grace_s`` before; or, when they were still walking in then (not in the line
        ``leave_grace_s`` before that, or ``relink_px / 2`` from there), on the last one before they left (composite
        across view, stall-x-s6 133.2 s: the next walked into the line and stood as the one served left; measured
        from their walk, they had stepped up). ``None``: not in the line then."""
        since = left_at - self.leave_grace_s
        then = self._line_before(since).get(tid)
        if then is None:
            return None
        before = self._line_before(since - self.leave_grace_s).get(tid)
        if before is None or math.dist(before[0], then[0]) >= 0.5 * self.relink_px:
            return self._line_before(left_at).get(tid, then)
        return then

    def _front_stayed(self, stay: _Stay, left_at: float) -> bool:
        """Whether the one at the front of the line (nearest the spot) ``leave_grace_s`` before the one served left
        the spot (``left_at``) is seen in the line now where they stood then, with nobody else at the desk: nobody
        from the line stepped up (the clerk seated, calling nobody).

        Where they stood: their feet and their box's top each within ``relink_px / 2`` of where they were then (a
        still person's foot point jitters by up to an eighth of their height, see :mod:`.view_check`) and less than
        ``relink_px / 4`` nearer the spot (a step up the line). An id that moved further may have gone onto someone
        else (the tracker trades ids as people step up). A foot point that moved under a top that stayed, within
        ``relink_px / 4`` (:func:`_stood`), is feet hidden behind someone passing in front (composite across view,
        away-x-s7 82.3 s), not a step. Where they stood then: see :meth:`_stood_then`.

        With nobody in the line then, nobody stepped up from it if everyone seen in the line since is in it now
        (someone walking in to an empty line and on to the desk leaves the line; away-x-s7 25.3 s). Not known, and
        taken as a step up, when the snapshots kept do not reach back that far.
        """
        since = left_at - self.leave_grace_s
        then = self._line_before(since)
        if len(self._stays) > 1 or not self._lines or self._lines[0][0] > since:
            return False
        now_line = self._lines[-1][1]
        if not then:
            return all(tid in now_line for when, line in self._lines if when >= since for tid in line)
        spot = stay.spot
        front = min(then, key=lambda tid: math.dist(then[tid][0], spot))
        xy, top = self._stood_then(front, left_at) or then[front]

        def stayed(p: tuple[float, float], q: tuple[float, float]) -> bool:
            return math.dist(p, q) < 0.5 * self.relink_px and _towards(xy, spot, p, q) < 0.25 * self.relink_px

        def there(now: tuple[tuple[float, float], tuple[float, float]]) -> bool:
            hidden = _stood(now[0], now[1], xy, top, 0.25 * self.relink_px)
            return stayed(now[1], top) and (stayed(now[0], xy) or hidden)

        now = now_line.get(front)
        if now is not None:
            return there(now)
        # their id left the line onto someone passing, whose id they took: an id not in the line then, standing where
        # they stood, is them (composite across view, crowd-x-s12 57.3 s); not one of the stay's own ids (the one
        # served walking off under the front's id left theirs on the front while the next, unboxed, stepped up:
        # counter scene, hard +35000, 514.3 s)
        return any(there(p) for tid, p in now_line.items() if tid not in then and tid not in stay.tracks)

    def _walked_off_alone(
        self,
        stay: _Stay,
        rows: list[tuple[int, tuple[float, float], bool]],
        queue: list[bool],
        tops: list[tuple[float, float]],
        staffed: bool,
    ) -> int | None:
        """The track under which ``stay``'s person walked off the spot (seen out of both zones now, their stay the
        only one and ``min_service_s`` long: served) while the one who waited at the front of the line moved up
        towards the spot without being seen there; ``None`` otherwise.

        The one stepping up may be boxed from their head at the spot down to the feet of the one behind them, who
        took their place: that box stays in the line, its foot point moving up a little or not at all while its top
        reaches up to the spot. The front of the line is the one in line nearest the spot now; they waited when the
        one served left (stood in line for ``leave_grace_s`` within ``leave_grace_s`` before, see
        :meth:`_stepped_up`), and their feet or their box's top moved ``relink_px / 4`` or more towards the spot from
        where they stood. Someone waiting who is not called (the clerk stalls) does not move up.
        """
        spot = stay.in_xy
        if spot is None or not staffed or len(self._stays) != 1 or stay.last_in - stay.enter < self.min_service_s:
            return None
        here = [(tid, s or q) for (tid, _, s), q in zip(rows, queue, strict=True) if tid in stay.tracks]
        if not here or any(zoned for _, zoned in here):
            return None
        line = [(tid, xy, top) for (tid, xy, s), q, top in zip(rows, queue, tops, strict=True) if q and not s]
        if not line:
            return None
        front, xy, top = min(line, key=lambda row: math.dist(row[1], spot))
        waited = self._waited.get(front)
        if waited is None or waited[0] + self.leave_grace_s + 1e-9 < stay.last_in:
            return None
        # where they stood as the one served was about to leave (last seen at the spot); where they first stood
        # still may lie short of that (a last step into their place, composite across view, steady-x-s1 121.2 s:
        # 12 px)
        place, head = self._stood_then(front, stay.last_in) or (waited[1], waited[2])
        # (towards the spot from there: their feet, or the top of their box reaching up to the spot)
        moved = max(_towards(place, spot, xy, place), _towards(place, spot, top, head))
        return here[0][0] if moved >= 0.25 * self.relink_px else None

    def _stand(
        self,
        t: float,
        rows: list[tuple[int, tuple[float, float], bool]],
        in_queue: list[bool],
        tops: list[tuple[float, float]],
    ) -> None:
        """Follow where each track in the queue zone (not at the spot) stands and since when, and where those who
        waited there stood (feet and top of their box)."""
        lined = {}
        now: dict[int, tuple[tuple[float, float], tuple[float, float]]] = {}
        for (tid, xy, s), q, top in zip(rows, in_queue, tops, strict=True):
            if q and not s:
                now[tid] = (xy, top)
                was = self._standing.get(tid)
                if was is None or math.dist(xy, was[1]) > 0.5 * self.relink_px:
                    was = (t, xy, top)
                lined[tid] = was
                since, place, head = was
                if t - since + 1e-9 >= self.leave_grace_s:
                    self._waited[tid] = (t, place, head)
        self._standing = lined
        self._lines.append((t, now))
        while self._lines and t - self._lines[0][0] > 2.0 * max(self.relink_s, self.leave_grace_s):
            self._lines.popleft()
        for tid in [k for k, (when, _, _) in self._waited.items() if t - when > self.relink_s]:
            del self._waited[tid]

    def _held_spot(self, stay: _Stay, t: float, done: list[FinishedStay]) -> int | None:
        """The hand-over (1 arrival, see :meth:`_pass_spot`) when someone held the spot under one of ``stay``'s tracks
        as its person walked off (its departure, not under an id from the line, seen on an earlier detection) and
        has not been boxed there since (:meth:`_took_spot`); ``None`` otherwise."""
        dep = stay.departed
        if dep is None or dep.lined or self._detection <= dep.on:
            return None
        took = self._took_spot(stay, dep)
        if took is None:
            return None
        others = {tid for tid in stay.tracks if tid != dep.track}
        seen = self._spot_t[took]
        return self._pass_spot(stay, dep.left_at, dep.track, t, done, stay.spot, others, seen, took, unboxed=True)

    def _took_spot(self, stay: _Stay, dep: _Departure) -> int | None:
        """A track of ``stay`` (not the leaver's) seen at the spot when or after its person left it (``dep``).

        The one stepping up often takes the served one's id at the spot as they leave; the model may then miss them
        there for seconds (a big person, or one half hidden by the clerk). A departure waits for someone at the spot
        on a later detection; when its time is up with nobody boxed there, the track that was at the spot as the
        leaver left it is the next person: a hand-over, not a departure that came to nothing. Where the leaver left
        when last seen at the spot (first seen out of the zones further on), the stay's id there then was on the
        leaver themself: only a sighting after it counts.
        """
        after = dep.left_at + (1e-9 if dep.last_at_spot else -1e-9)
        return next(
            (tid for tid in stay.tracks if tid != dep.track and self._spot_t.get(tid, -math.inf) >= after), None
        )

    def _found_again(self, t: float, tid: int, xy: tuple[float, float]) -> _Arrived | None:
        """The last arrival at the spot, if track ``tid``, first at the spot at ``xy``, is the person who arrived.

        The detector may miss the one at the spot for longer than ``relink_s``: their stay ends, and when it boxes
        them there again, under a new track, that would be a second arrival. Only for an arrival of someone nobody
        has boxed at the spot since (:meth:`_note_unboxed`: they stepped up unseen, or held the spot under the
        served one's id and were missed there after). With nobody else at the spot, a track not seen in the line
        (within ``relink_s``) first seen within ``relink_px`` of the spot within ``hidden_s`` of when the one who
        arrived was last seen there, while the one who stood at the front of the line when they arrived stands where
        they stood ever since (the next to step up leaves the front; a front that moves on the spot,
        ``relink_px / 2``, starts standing again), is that person: their stay goes on (from their arrival, unless it
        was counted already), and their arrival is not counted again.
        """
        was = self._arrived
        if was is None or self._stays or tid in self._line_xy:
            return None
        if t - was.stay.last_in > self.hidden_s or math.dist(xy, was.stay.spot) > self.relink_px:
            return None
        standing = self._standing.get(was.front)  # (only tracks in line on this detection stand)
        return was if standing is not None and standing[0] <= was.since + 1e-9 else None

    def _back_at_spot(self, t: float, tid: int, xy: tuple[float, float], lined: set[int]) -> tuple[_Stay, bool] | None:
        """The stay that ended because its ids stand in the line, if track ``tid``, first at the spot at ``xy``, is
        its person boxed again, and whether that stay was counted.

        The one served does not walk back into the line: a stay whose ids are seen only in the line ends (its id
        jumped onto the front of the line, whose own box was lost), most often while its person still stands at the
        spot, unboxed. With nobody else at the spot, a track first seen within ``relink_px / 2`` of where that person
        stood, within ``relink_s`` of the stay's end, is that person (no arrival) when it is a track not seen in the
        line (within ``relink_s``) while one of the stay's ids still stands in the line on this frame (had the front
        stepped up, the id would have gone with them), or one of the stay's own ids while another of them stands in
        the line (the two people the tracker swapped ids between, neither moved).
        """
        if self._lined_end is None or self._stays:
            return None
        stay, ended, counted = self._lined_end
        if t - ended > self.relink_s or math.dist(xy, stay.spot) > 0.5 * self.relink_px:
            return None
        if tid in stay.tracks:
            return (stay, counted) if (stay.tracks - {tid}) & lined else None
        return (stay, counted) if tid not in self._line_xy and stay.tracks & lined else None

    def _from_line(self, tid: int, when: float) -> bool:
        """Whether track ``tid``, seen stepping out of the zones at ``when``, was in the queue zone (the line, not the
        spot) within ``leave_grace_s`` before."""
        line = self._line_xy.get(tid)
        return line is not None and 0.0 <= when - line[0] <= self.leave_grace_s + 1e-9

    def _walking_off(self, xy: tuple[float, float], outside: list[tuple[float, float]]) -> bool:
        """Whether someone is seen out of both zones within ``depart_px`` of ``xy``, where a leaver was seen walking
        off.

        A leaver often walks off under the id of someone in line (the tracker moves it onto them as they pass the
        line), and that id may go back to its person in line a detection later while the leaver goes on under
        another id. An id of someone in line may also land for a detection on a box out of the zones beside the spot
        (a passer-by, a box between two people) and go back to its place, with nobody leaving. So a departure under
        such an id is decided when someone is seen out of the zones where it was seen (the leaver, under any id),
        or, with nobody seen there, once ``leave_grace_s`` is up: as a departure unless the id was seen back in the
        line meanwhile.
        """
        return any(math.dist(xy, p) <= self.depart_px for p in outside)

    def _gone_from_spot(self, stay: _Stay, t: float, seen: set[int]) -> list[tuple[float, tuple[float, float]]]:
        """When and where ``stay``'s tracks (other than those in ``seen``: on this frame, or the one stepping out)
        were last seen, for those last seen beside its spot (within ``relink_px``) in the service zone within
        ``leave_grace_s`` before ``t`` and not since, while the stay is in the service zone now (another of its
        tracks).

        The one served may be missed for a few detections as they walk off while the next steps up (taken into the
        stay beside the spot), and be seen again under the id of someone in line, a few steps on: beyond
        ``depart_px`` of the spot, but within two detection periods' walk (``2 * depart_px``) of where they were
        last seen.
        """
        if stay.last_in < t:
            return []
        places = []
        for other in stay.tracks:
            last = self._zone_of.get(other)
            if other in seen or last is None or not last[1] or not 0.0 < t - last[0] <= self.leave_grace_s + 1e-9:
                continue
            if stay.in_xy is not None and math.dist(last[2], stay.in_xy) <= self.relink_px:
                places.append((last[0], last[2]))
        return places

    def _left_spot(self, stay: _Stay, t: float, tid: int) -> list[tuple[float, float]]:
        """Where tracks first seen out of both zones beside ``stay``'s spot (within ``depart_px``) were last seen, out
        of the zones, if within ``leave_grace_s`` before ``t`` and not at ``t``.

        The leaver often comes out of the box of the one stepping up under a new id, is missed on the next detection,
        and is then seen a step further on, beyond ``depart_px`` of the spot: under the id of someone in line that
        jumped onto them, or under a second new id. Their walk starts from these places as well as from the spot.
        """
        if stay.in_xy is None:
            return []
        places = []
        for other, born in self._born_out.items():
            last = self._zone_of.get(other)
            if other == tid or last is None or not 0.0 < t - last[0] <= self.leave_grace_s or last[1]:
                continue
            if math.dist(born.xy, stay.in_xy) <= self.depart_px:
                places.append(last[2])
        return places

    def _pass_spot(
        self,
        stay: _Stay,
        left_at: float,
        leaver: int,
        t: float,
        done: list[FinishedStay],
        spot: tuple[float, float],
        tracks: set[int],
        seen: float,
        track: int | None,
        *,
        unboxed: bool = False,
    ) -> int:
        """End ``stay`` where its person (track ``leaver``) left it at ``left_at``; the next person holds the spot from
        then: a new stay at ``spot`` with ``tracks``, last seen at ``seen``, whose arrival (at the spot under
        ``track``, ``None``: unseen) ends the longest wait. ``unboxed``: nobody has boxed them at the spot since they
        took it (see :meth:`_found_again`).

        Returns:
            1 (the arrival), 2 with an arrival at ``stay`` still held back (see :meth:`_jumped`).
        """
        arrivals = self._finish(stay, left_at, t, done)
        self._held = None
        new = _Stay(enter=left_at, last_in=seen, last_seen=seen, last_xy=spot, censored=False, in_xy=spot)
        new.tracks = tracks
        self._stays.append(new)
        for tid in tracks:
            self._owner[tid] = new
        self.last_arrival = max(self.last_arrival or left_at, left_at)
        if unboxed:
            self._note_unboxed(left_at, new)
        else:
            self._arrived = None
        self.wait_ended(t)  # (noticed now: the stall rule's timers run on frame times)
        self.handovers.append((left_at, leaver))
        self.arrivals.append((left_at, track, leaver))
        return arrivals + 1

    def _stepped_up_unseen(self, stay: _Stay, left_at: float, leaver: int, t: float, done: list[FinishedStay]) -> int:
        """The one served walked off (under track ``leaver``) and the front of the line took the spot unseen.

        Called when nobody was seen stepping up within ``leave_grace_s`` of a departure while the stay's own tracks
        have not been seen since the leaver walked off, people stand in line and the clerk is at the desk: in one
        line served in order, the one served leaves because they were served, and the next one steps up. A small
        person stepping up behind a tall one at the front of the line (who hides them) has no box at the spot at
        all, so the hand-over rule, which needs someone seen there, misses the arrival and every later wait would
        take a start too early. The stay ends where its person left; a stay without tracks holds the spot from
        then (a track later seen there continues it) and the arrival is reported (:attr:`arrivals`, with no track).
        A stall (the clerk seated, not serving) is not hidden: the person at the desk does not walk off then.

        Someone seen reaching the spot since the leaver left, whose arrival is held back (see :meth:`_jumped`), is
        the one who stepped up, or the front of the line dipping in: the stay ends where its person left, and what is
        counted is left to that decision (composite along view, steady-s2 242.3 s: counted as an unseen step-up too,
        an arrival too many, and every later wait took the start after its own). (One counted already is told
        again, with the leaver, as before: an arrival at the same time is one arrival to the wait ledger.)

        Returns:
            1 (the arrival), 0 when an arrival since is held back.
        """
        held = self._pending[0] if self._pending is not None else None
        if held is not None and held is not stay and held.enter >= left_at:
            return self._finish(stay, left_at, t, done)
        # seen last when the leaver left: a track on the spot within relink_s continues it, else it ends unserved
        return self._pass_spot(stay, left_at, leaver, t, done, stay.spot, set(), left_at, None, unboxed=True)

    def _walked_off(self, t: float, tid: int, xy: tuple[float, float], in_zone: bool, part: bool = False) -> None:
        """A track first seen out of both zones near a stay's spot that walks away from it is that stay's person.

        Where the one served leaves and the next steps up, the detector may see the two as one box for a moment;
        the tracker then keeps the id at the spot (it goes to the one stepping up) and the leaver comes back out
        of that box under a new id, already beside the desk. Such a track, first seen within ``depart_px`` of the
        spot of a stay at least ``min_service_s`` old (or of where one of the stay's tracks was within
        ``leave_grace_s`` before: the leaver stepping off under the stay's id, missed on the next detection, is
        first seen a step further on), that then walks ``relink_px / 2`` further from the spot
        while still out of the zones, within ``relink_s`` of its first sighting, is the stay's person leaving
        (someone coming *to* the counter, e.g. the clerk back from a break, gets nearer instead).

        A track that carries on a walker lost out of the zones (:meth:`_walk_began`) is measured from where that walk
        began when that is further from the spot: someone walking past the desk who came nearer under an earlier id
        and walks on is not walking off the spot. When the stay's person was missed at the spot within ``relink_s``
        before the track was first seen (the one stepping up may take their id a detection later, or cover them),
        the leaver may have walked on meanwhile, unseen: first seen within two detection periods' walk
        (``2 * depart_px``, as in :meth:`_gone_from_spot`) of where they were last seen at the spot will do, and
        they left when last seen there, unless they are back where they were since (:meth:`_back_in_place`) and the
        front of the line stands where it stood (:meth:`_front_stayed`): nobody stepped up, and the track is someone
        walking past (composite across view, crowd-x-s1 217.8 s). A track first seen after being unseen for longer
        than ``leave_grace_s`` is taken as new (its last place says little), and a box under half the height of the
        people seen (a part of someone) walks off nowhere.
        """
        born = self._born_out[tid]
        born_t, born_xy = born.t, born.xy
        if in_zone:
            del self._born_out[tid]
            return
        if part:
            return  # (a part of someone's box walks off nowhere)
        for stay in self._stays:
            spot = stay.in_xy
            if spot is None or stay.departed is not None or tid in stay.tracks or stay in born.beside_leaving:
                continue
            if born_t - stay.enter < self.min_service_s:
                continue
            # (from where its walk began, if further: a walker who came nearer under an earlier id, walking past)
            was = max(math.dist(born_xy, spot), math.dist(born.walk_from or born_xy, spot))
            now = math.dist(xy, spot)
            # near the spot, or near where one of the stay's tracks was a moment before (the leaver seen stepping
            # off under the stay's id, then missed for a detection, is first seen further on)
            near = min(
                [was]
                + [math.dist(born_xy, p) for w, p, _, _, _ in stay.recent if born_t - self.leave_grace_s <= w < born_t]
                + [math.dist(born_xy, p) for p in self._left_spot(stay, born_t, tid)]
            )
            # the stay's person missed at the spot shortly before (within relink_s): they may have walked on
            # meanwhile, unseen, from where they were last seen there (two detection periods' walk, as in
            # _gone_from_spot)
            gone = [
                m.seen
                for other, m in born.missed
                if other is stay
                and math.dist(born_xy, m.xy) <= 2 * self.depart_px
                and not self._walked_off_seen(stay, m)
            ]
            if (near <= self.depart_px or gone) and now - was >= 0.5 * self.relink_px:
                # (left when first seen beside the spot, or when last seen at it)
                beside = near <= self.depart_px
                left = born_t if beside else max(gone)
                departure = _Departure(left, tid, t, self._detection, last_at_spot=not beside)
                if beside:
                    still = self._held_still(stay, t) and self._in_front_of(spot, born_xy)
                else:
                    still = self._back_in_place(stay, born)
                if still and self._front_stayed(stay, left):
                    # (nobody stepped up from the line since: the one missed at the spot for a moment is still
                    # there under the stay's id, or the one never missed is, and this is someone walking past in
                    # front of them)
                    del self._born_out[tid]
                    return
                stay.departed = departure
                del self._born_out[tid]
                return

    def _walked_off_seen(self, stay: _Stay, miss: _Miss) -> bool:
        """Whether ``stay``'s person, missed at the spot (``miss``), was seen walking off it under one of the stay's
        own ids: seen since they were last at the spot out of both zones (one of its ids in the line is most often
        the next one stepping up under it), their box moved at least ``relink_px / 2`` from where it stood
        (:func:`_stood`: legs hidden by someone passing in front are no move). They were not unseen, so
        someone first seen near the spot later is not them walking on (composite across view, rush-x-s13 125.8 s:
        the one served walked off to the right edge under their id; a newcomer at the top of the picture 2 s later
        was taken for them, and the front of the line for someone who had stepped up unseen). Not where the zone is
        thin: there the front of the line stands in the stay's second box and steps in and out beside the spot
        (composite along view, rush-s2 91.3 s: that id, seen out of the zones, was taken for the one served)."""
        if self.thin_zone:
            return False
        return any(
            out and w > miss.seen and not _stood(p, top, miss.xy, miss.top, 0.5 * self.relink_px)
            for w, p, top, out, _ in stay.recent
        )

    def _back_in_place(self, stay: _Stay, born: _Born) -> bool:
        """Whether ``stay``'s person, missed at the spot before ``born`` was first seen, has been boxed in the zone
        since, within ``relink_px / 4`` of where they were last seen there before the miss (the one stepping up
        under their id stands a step nearer the line). Not where the zone is thin: there the one stepping up and
        the front of the line are one box, which need not move (composite along view, rush-s2 91.2 s)."""
        return (
            not self.thin_zone
            and stay.in_xy is not None
            and any(
                other is stay and stay.last_in > m.t and math.dist(stay.in_xy, m.xy) < 0.25 * self.relink_px
                for other, m in born.missed
            )
        )

    def _held_still(self, stay: _Stay, t: float) -> bool:
        """Whether ``stay``'s person is in the zone now and has stood within ``relink_px / 4`` of where they stand
        for the last ``leave_grace_s`` (not where the zone is thin, as :meth:`_back_in_place`). Their legs hidden for
        a moment by someone passing in front is no move (:func:`_stood`; composite across view, steady-x-s7 250.3 s).
        """
        if self.thin_zone or stay.last_in < t or stay.in_xy is None:
            return False
        return self._stand_where_last_in(stay, [(p, h) for _, p, h in stay.recent_in])

    def _stand_where_last_in(self, stay: _Stay, boxes: list[tuple[tuple[float, float], tuple[float, float]]]) -> bool:
        """Whether every one of ``boxes`` (foot point, top) stands where ``stay``'s person was last boxed in the zone
        (:func:`_stood`, within ``relink_px / 4``); ``False`` with no such box or none kept."""
        if not stay.recent_in or not boxes:
            return False
        _, feet, top = stay.recent_in[-1]
        return all(_stood(p, h, feet, top, 0.25 * self.relink_px) for p, h in boxes)

    def _in_front_of(self, spot: tuple[float, float], xy: tuple[float, float]) -> bool:
        """Whether someone first seen at ``xy`` stood at least ``relink_px / 2`` lower in the picture than ``spot``:
        nearer the camera than the one served, passing between them and the camera (composite across view: 47-50 px
        lower). Someone stepping off the spot comes out of it beside or behind it (our renderer's hand-overs: 5-23 px
        higher)."""
        return xy[1] - spot[1] >= 0.5 * self.relink_px

    def _walk_began(self, t: float, xy: tuple[float, float], present: set[int]) -> tuple[float, float] | None:
        """Where the walk began that a track first seen out of both zones at ``xy`` carries on, if it carries one.

        The tracker often loses someone walking past out of the zones and picks them up again under a new id a
        detection or two on. A track first seen out of the zones, lost there within ``leave_grace_s`` (not seen now),
        its last place within ``depart_px`` (about one detection period's walk) of ``xy``, is that walker: the walk
        began where it did (or where the walk it carried on began). Nearest first.
        """
        best: tuple[float, tuple[float, float] | None] = (math.inf, None)
        for other, born in self._born_out.items():
            last = self._zone_of.get(other)
            if other in present or last is None or last[1] or not 0.0 < t - last[0] <= self.leave_grace_s + 1e-9:
                continue
            d = math.dist(last[2], xy)
            if d <= self.depart_px and d < best[0]:
                best = (d, born.walk_from or born.xy)
        return best[1]

    def _traded(self, xy: tuple[float, float], t: float, lined: set[int], tid: int) -> _Stay | None:
        """The stay whose id the tracker traded with the front of the line, if a newcomer at ``xy`` is its person.

        The one served and the next in line stand a step apart; the tracker may swap their ids (their boxes overlap
        when the detector sees them as one, or the filter's motion carries one box onto the other's place). The
        stay's track is then seen in the queue zone, which the one served does not walk back into (a leaver steps
        out of both zones), while a new track stands on the spot: the stay goes on under the new track, and its old
        one, now the person in line, leaves it. Only for a stay whose person was on the spot within
        ``leave_grace_s`` and whose every track seen now is in the line, within ``relink_px`` of the spot.
        """
        for stay in self._stays:
            seen = self._seen_now(stay, t)
            spot = stay.in_xy
            if not seen or not seen <= lined or spot is None or t - stay.last_in > self.leave_grace_s:
                continue
            if math.dist(xy, spot) <= self.relink_px:
                self._give_up(stay, seen)
                line = self._line_xy.get(tid)
                from_line = line is not None and t - line[0] <= self.leave_grace_s
                stay.traded = None if from_line else (t, frozenset(seen), tid)
                return stay
        return None

    def _traded_back(self, xy: tuple[float, float], t: float, tid: int) -> _Stay | None:
        """The stay a trade took ``tid`` from, if ``tid`` is back on the spot and the track it was traded to is not.

        A trade to a track that was not in the line (the clerk walking off behind the desk, boxed together with the
        one served for a detection) is undone when the stay's own track is back at the spot within ``relink_s``
        while the track taken is out of the zone: the one served never left. A trade to a track from the line is
        the ids swapped between the one served and the next, and stands.
        """
        for stay in self._stays:
            if stay.traded is None:
                continue
            when, given, taken = stay.traded
            if tid not in given or t - when > self.relink_s or stay.last_in >= t or stay.in_xy is None:
                continue
            if math.dist(xy, stay.in_xy) <= self.relink_px:
                stay.tracks.discard(taken)
                self._owner.pop(taken, None)
                stay.traded = None
                return stay
        return None

    def _passed_in_front(
        self, xy: tuple[float, float], t: float, tid: int, born: set[int], lined: set[int]
    ) -> _Stay | None:
        """The stay whose id a passer-by took, if ``tid`` is its person seen again on the spot under a new id.

        Someone walking between the camera and the one served covers them for a moment; the tracker may then hand
        the stay's id to the passer, who carries it off out of the zones, while the one served comes back out of the
        box under a new id, on the spot they never left (composite across view, crowd-x-s2 202.3 s), at once or a
        detection later, the passer's walk off already taken for their departure (rush-x-s2 277.3 s: the departure
        is dropped). Only for a track first seen now, in the zone within ``relink_px / 4`` of where one of the stay's
        tracks stood in it within ``leave_grace_s`` (the passer's box may reach into the zone beside the one served as
        they come, a second box on them), every track of the stay seen now out of both zones and nearer the camera than
        the spot (:meth:`_in_front_of`: our renderer's hard scene, seed offset 11000, 110.3 s, the stay's id stepping
        off beside the spot as the next one stepped up under a new id: MAE 0.523 -> 1.323 without that limit), and the
        front of the line standing where it stood (:meth:`_front_stayed`: nobody stepped up); not where the zone is
        thin (there the front of the line dips into it, see :meth:`_beside_the_served`).
        """
        if self.thin_zone or tid not in born or len(self._stays) != 1:
            return None
        stay = self._stays[0]
        spot = stay.in_xy
        if spot is None or t - stay.last_in > self.leave_grace_s or stay.last_in - stay.enter < self.min_service_s:
            return None
        if all(math.dist(xy, p) > 0.25 * self.relink_px for _, p, _ in stay.recent_in):
            return None
        seen = self._seen_now(stay, t)
        dep = stay.departed
        if not seen or seen & lined or stay.last_in >= t:
            return None
        if dep is not None and (dep.track not in seen or stay.alternate is not None):
            return None
        if not all(self._in_front_of(spot, self._zone_of[k][2]) for k in seen):
            return None  # (the stay's id stepped off beside or behind the spot: its person left, the next stepped up)
        if not self._front_stayed(stay, stay.last_in):
            return None
        self._give_up(stay, seen)
        stay.departed = None
        return stay

    def _seen_now(self, stay: _Stay, t: float) -> set[int]:
        """The ids of ``stay`` seen on this frame (``t``), anywhere."""
        return {k for k in stay.tracks if self._zone_of.get(k, (-math.inf,))[0] >= t}

    def _give_up(self, stay: _Stay, ids: set[int]) -> None:
        """Take ``ids`` off ``stay``: they are someone else's now (a trade, a passer-by); their places go from its
        recent ones (composite across view, rush-x-s24 135.8 s: a passer carried off a second id of the one served,
        given up; its places behind the desk made the passer, boxed anew, the one served walking off)."""
        for old in ids:
            stay.tracks.discard(old)
            self._owner.pop(old, None)
        if any(r[4] in ids for r in stay.recent):
            stay.recent = collections.deque(r for r in stay.recent if r[4] not in ids)

    def _beside_the_served(self, t: float) -> bool:
        """Whether someone reaching a thin zone (``thin_zone``) now is the front of the line dipping into it: the one
        served was seen in the zone itself within ``leave_grace_s``, standing still (not walking off, no departure
        pending), their stay at least ``min_service_s`` old.

        One person is served at a time. Where the zone is thinner than the jitter of a still person's foot point
        (a desk far from the camera), the box of the front of the line, its legs hidden by the person behind,
        ends inside the zone a step in front of the one served: no arrival until the one served walks off (then
        whoever stands in the zone arrives, held back as every arrival from the line into a thin zone: see
        :meth:`_settle`). Where the zone is tall enough, someone stepping up beside the one
        served as they leave is the next person, and waits for nothing.
        """
        return self.thin_zone and any(
            t - stay.zone_seen <= self.leave_grace_s
            and stay.departed is None
            and t - stay.enter >= self.min_service_s
            and not self._moving_off(stay, t)
            for stay in self._stays
        )

    def _still_at_spot(self, stay: _Stay, t: float) -> bool:
        """Whether every box of ``stay``'s seen out of the zone now stands where its person last stood in it
        (:func:`_stood`, within ``relink_px / 4``): a box whose foot point left the zone under a top that stayed
        (legs hidden by someone passing, or a box reaching down past their feet), not someone walking off
        (composite across view, stall-x-s12 236.8 s: the box of the one served reached 52 px below their feet for
        a detection while a second box took their place, and that box was counted as someone arriving)."""
        now = [(p, h) for w, p, h, _, _ in itertools.takewhile(lambda r: r[0] >= t, reversed(stay.recent))]
        return self._stand_where_last_in(stay, now)

    def _moving_off(self, stay: _Stay, t: float) -> bool:
        """Whether ``stay``'s person, in the zone now, is more than ``relink_px / 2`` from where they were in it
        ``leave_grace_s`` before (walking off the spot, still in the zone; not a track of the stay in the line)."""
        if stay.last_in < t or stay.in_xy is None or not stay.recent_in:
            return False
        return math.dist(stay.recent_in[0][1], stay.in_xy) > 0.5 * self.relink_px

    def _nearest(self, xy: tuple[float, float], t: float, tid: int) -> _Stay | None:
        """The stay a track ``tid`` reaching the zone at ``xy`` continues: the nearest whose person was seen within
        ``relink_s`` and ``relink_px`` (lost, or still seen: a second box on them), if any.

        Not a stay whose person is in the zone now, walking off the spot, when ``tid`` stood in the line within
        ``leave_grace_s``: the next in line stepping up beside the one served as they leave is someone else. A stay
        whose person was last seen at the spot is measured from there too, not only from where its last-listed track
        stands: another id of the stay may stand in the line (tight scene, seed offset 21000, 295.3 s: the front of the
        line dipping in 13 px from the one served, 57 px from that id, was counted as an arrival).
        """
        best: tuple[float, _Stay | None] = (math.inf, None)
        line = self._line_xy.get(tid)
        from_line = line is not None and t - line[0] <= self.leave_grace_s
        for stay in self._stays:
            d = math.dist(xy, stay.last_xy)
            out_now = stay.last_seen >= t and stay.last_in < t  # their person is seen out of the zone now ...
            still = out_now and self._still_at_spot(stay, t)  # ... or only a box of theirs whose top stayed there
            if stay.in_xy is not None and (stay.last_in >= stay.last_seen or still):  # (last seen at the spot,
                d = min(d, math.dist(xy, stay.in_xy))  # another id of theirs in the line: near either is near them)
            leaving = out_now and not still
            if from_line and stay.last_in >= t and self._moving_off(stay, t):
                continue
            if not leaving and t - stay.last_seen <= self.relink_s and d <= self.relink_px and d < best[0]:
                best = (d, stay)
        return best[1]
