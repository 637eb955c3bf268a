"""Waits in the line: one visit per person, from entering the queue zone to being served or leaving.

A *visit* is one person's stay in the line. It starts when the person's centre enters the queue zone and ends
when it reaches the service zone (a *served* wait) or stays out of both zones longer than ``reentry_grace_s``
(an *abandoned* visit); stepping out of the line briefly and back in continues the same visit.

A visit belongs to a person, not to a track id: trackers switch ids (a person is briefly cut in two, lost behind
someone, or picked up again as a "new" track), so a visit may hold several track ids over its life.

* A track first seen *inside* the line (nobody walks into the middle of a line unseen) near an open visit joins
  that visit. When the visit's old track vanishes, the new one simply carries on; if both keep being seen side by
  side for ``duplicate_s`` they are two people who came in together, and the newcomer gets a visit of its own
  with the same start (the earliest enter wins).
* A track entering the line where a lost visit's person was last seen, within ``relink_s``, inherits that visit.
* A visit whose tracks are all lost for ``relink_s`` is merged into a visit that began inside the line near it in
  the meantime (a switch that was not caught at once: the earlier start wins); only when there is none is it
  recorded as abandoned.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["FinishedVisit", "Visit", "WaitTracker"]


# two people's centres are at least this share of relink_px apart: closer is one person (a duplicate box, an id
# lingering beside a new one, or the same person back under a new id)
APART = 0.35
# two people standing side by side (feet on one row of the picture, within ROW * relink_px) are a shoulder's width
# apart at least (SIDE * relink_px): two tracks closer than that on one row are one person boxed twice, the second
# box shifted sideways onto the neighbour (the count by place keeps APART: see WaitTracker._one_person)
ROW = 0.1
SIDE = 0.5
# how far someone walking in goes each second, in relink_px (about relink_px between two detections at 2 Hz)
_WALK_PER_S = 2.0
# a line whose far end lies within 30 degrees of the picture's rows from the desk runs across the picture (the
# slope's limit, see WaitTracker._runs_across)
_ACROSS_SLOPE = math.tan(math.radians(30.0))
# the line's last place is taken this soon after an arrival at the desk, seconds: one detection at 2 Hz, with slack
_FAR_END_STEP_S = 1.0
# someone seen this long beyond the line's far end is standing there (waiting), not walking past, seconds
_FAR_END_STAND_S = 2.0
# a move between two sightings longer than this many relink_px (a quarter beyond a walking step between two
# detections at 2 Hz) is an id the tracker moved onto someone else, not a person's walk (see _leapt_apart, _to_clerk)
_JUMP_STEP = 1.25
# the starts taken by the latest arrivals at the desk kept for giving back (see WaitTracker._give_back)
_TAKEN_KEPT = 32


@dataclass(eq=False)
class Visit:
    """One person's stay in the queue.

    Attributes:
        enter: when the person's centre first entered the queue zone, seconds.
        last_in: last time seen inside the queue zone.
        last_seen: last time any of its tracks was seen anywhere.
        last_xy: last centre, pixels.
        censored: the visit began while the analyzer was warming up (its start is unknown; not counted).
        tracks: the track ids that belong to this person now.
        born_xy: where the visit's first track was first seen, pixels.
        walked_in: the first track was seen outside the line before entering it (a newcomer, not a switch).
        walking: the first track was seen walking up out of both zones, whether or not it stepped in at the line's
            back (someone crossing the line to its back steps in ahead of it: not ``walked_in``, still walking).
    """

    enter: float
    last_in: float
    last_seen: float
    last_xy: tuple[float, float]
    censored: bool = False
    tracks: set[int] = field(default_factory=set)
    born_xy: tuple[float, float] = (0.0, 0.0)
    walked_in: bool = True
    walking: bool = False
    together: dict[int, float] = field(default_factory=dict)  # newer track -> seconds seen beside an older one
    in_line_xy: tuple[float, float] = (0.0, 0.0)  # where last seen inside the queue zone
    ledgered: bool = False  # its start is in the line's ledger (fifo)
    from_desk: bool = False  # its first track came from the service zone: someone served, walking out
    jumped: bool = False  # its first track jumped onto someone in line from elsewhere (see WaitTracker._start)
    # (time, place) in line each time it moved a step (see WaitTracker._see), the last one kept however old
    trail: collections.deque[tuple[float, tuple[float, float]]] = field(default_factory=collections.deque, repr=False)


@dataclass(frozen=True)
class FinishedVisit:
    """A visit that ended: ``served`` (reached the service zone) or abandoned, with its wait in seconds."""

    end: float
    wait_s: float
    served: bool
    censored: bool


@dataclass(eq=False)
class _Unseen:
    """Someone lost for good from the line whose start the ledger still holds (see ``WaitTracker._unseen_here``)."""

    enter: float
    censored: bool
    xy: tuple[float, float]  # where last seen in line
    lost_at: float
    # where the others in line stood when they were lost (see WaitTracker._left_unseen); emptied once the line
    # moved up since, when those places say nothing
    others: list[tuple[Visit, tuple[float, float]]]
    filled_since: float | None = None  # since when someone else stands in their place


@dataclass
class _Track:
    first: float
    last: float
    xy: tuple[float, float]
    born_in_line: bool
    outside: bool  # seen out of both zones at some time
    in_line: bool = False  # in the queue zone on its last frame
    came_from: tuple[float, float] | None = None  # where it was before its last move, pixels
    leapt: float = -math.inf  # when it last moved farther than relink_px between two sightings (an id switch)
    landed: bool = False  # it leapt onto someone in line (a second box of theirs since; see _leapt_apart)
    jumped_at: float = -math.inf  # when it last moved farther than a walking step allows (see _JUMP_STEP)
    lined: bool = False  # seen in the queue zone at some time
    desk: bool = False  # seen in the service zone, or walked off the spot (a served person, not a newcomer)
    born_at_desk: bool = False  # first seen in the service zone (not in the line)
    born_by_desk: bool = False  # first seen out of both zones within relink_px of the spot (see _walking_up)
    empty_desk: bool = False  # born at the desk when nobody had been seen in the service zone since the last left it
    at_desk: bool = False  # in the service zone on its last frame
    walked_on: bool = False  # lost out of both zones, and carried on by a newer track (see _walking_up)
    walked_up: bool = False  # born in the line, carrying on a track lost on its way there (see _walking_up)
    carried: tuple[float, float] | None = None  # (first, last) sighting of the walker it carries on (walked_up)
    line_xy: tuple[float, float] | None = None  # where last seen in the queue zone
    beyond: float | None = None  # when last seen just beyond the line's far end (see _mark_beyond)
    beyond_since: float | None = None  # since when seen there without a break
    joined: float = -math.inf  # the line's move at which a start was added for someone stepping in from there
    queue_since: float | None = None  # since when in the queue zone (not the service zone) on every frame
    amid: bool = False  # first seen out of both zones beside someone in line, ahead of its back (see _born_amid)
    behind: bool = False  # first seen in the line, two steps beyond its back (see _behind_back)
    carries_on: float = -math.inf  # when it was taken for a lost visit's person (see _adopt, _seen_again)


class WaitTracker:
    """Turns tracked centres and zone membership into finished visits (one visit per person).

    Args:
        reentry_grace_s: time out of the queue zone that still counts as the same visit, seconds.
        relink_s: how long a lost person's visit waits to be taken over by a new track, seconds.
        relink_px: how far (pixels) a new track may appear from a visit's person to belong to it.
        warmup_s: visits starting this soon after the first frame are censored (the person was already there).
        duplicate_s: two tracks of one visit seen side by side this long are two people, seconds.
        fifo: one line, served in order: whoever reaches the service zone waited since the earliest arrival still
            in the line's ledger (see :meth:`update`), so ids that slide along the line, are lost or switch do
            not shorten waits.
        duplicate_serve_s: with ``fifo``, a second arrival at the service zone this soon after the last one is
            the same person seen twice (a duplicate box or id), not a second service, seconds.
        desk_arrivals: with ``fifo``, waits end only at the arrivals at the desk the caller reports
            (:meth:`arrived`, from a :class:`ServiceTracker`), not when a visit's track reaches the service zone.

    Attributes:
        departures: on the last frame, when each person whose start it took out of the ledger on seeing them walk out
            of the line was last seen in it (a walk-out is decided ``reentry_grace_s`` later).
        joins: on the last frame, the starts it added to the ledger for people in line since before that frame (found
            in line, one of a pair told apart with the pair's start).

    Example:
        >>> waits = WaitTracker(relink_px=20.0)
        >>> done = waits.update(t, ids, centres, in_queue, in_service)  # FinishedVisit list
    """

    def __init__(
        self,
        *,
        reentry_grace_s: float = 3.0,
        relink_s: float = 4.0,
        relink_px: float = 40.0,
        warmup_s: float = 1.0,
        duplicate_s: float = 1.5,
        fifo: bool = True,
        duplicate_serve_s: float = 3.0,
        desk_arrivals: bool = False,
    ) -> None:
        self.reentry_grace_s = reentry_grace_s
        self.relink_s = relink_s
        self.relink_px = relink_px
        self.warmup_s = warmup_s
        self.duplicate_s = duplicate_s
        self.fifo = fifo
        self.duplicate_serve_s = duplicate_serve_s
        self.desk_arrivals = desk_arrivals and fifo
        # (start, censored, seen walking in) of each person in line, earliest first
        self._ledger: list[tuple[float, bool, bool]] = []
        self._last_served = -math.inf
        self._arrivals: list[float] = []  # recent arrivals at the desk (desk_arrivals)
        # visits seen walking out of the line: (when, the visit, the start taken away), see _walked_back
        self._walked_out: list[tuple[float, Visit, tuple[float, bool, bool]]] = []
        # when the people whose starts this frame took out of the ledger, seen walking out of the line, were last
        # seen in it: a walk-out is decided reentry_grace_s later (they may step back in), and they left then
        self.departures: list[float] = []
        # the starts this frame added to the ledger for people in line since before it (found in line, a pair told
        # apart with the pair's start): the readings since counted them short
        self.joins: list[float] = []
        self._over_since: float | None = None  # since when the ledger holds more starts than people in line
        self.thin_zone = False
        """The service zone is thinner than a still person's foot point jitters (set by the analyzer from its view
        survey): the ledger gives back starts against everyone seen in line (see :meth:`_give_back`)."""
        self._short_since: float | None = None  # since when more people are seen in line than the ledger holds
        # starts arrivals took since the line was last empty, the latest last (a camera runs for months without the
        # line emptying: only the latest takes can belong to people still in line)
        self._taken: collections.deque[tuple[float, bool, bool]] = collections.deque(maxlen=_TAKEN_KEPT)
        self._floor = 0  # the fewest people in line now: the most seen at once, less those who left it since
        self._line_seen = -math.inf  # when anybody was last seen in line
        self._desk_left = -math.inf  # when a track last stepped out of the service zone
        self._desk_seen = -math.inf  # when anybody was last seen in the service zone (before this frame)
        self._desk_xy: tuple[float, float] | None = None  # where someone was last seen in the service zone
        self._line_now: list[tuple[float, float]] = []  # where the people in line are seen on this frame
        self._clerk_seen: dict[int, float] = {}  # track -> when last seen in the counter zone (see _to_clerk)
        # where people were seen in line over the last _FAR_END_STEP_S, by frame (see _cuts_in)
        self._line_recent: collections.deque[tuple[float, list[tuple[float, float]]]] = collections.deque()
        self._joined = -math.inf  # when a start was last added for someone stepping in at the far end
        self._unseen: list[_Unseen] = []  # visits lost for good with their start kept (see _unseen_here)
        self._apart_px = APART * relink_px  # two people's centres are at least this far apart
        self._visits: list[Visit] = []
        self._owner: dict[int, Visit] = {}
        self._tracks: dict[int, _Track] = {}
        self._retired: set[int] = set()  # tracks of finished visits: no new visit until seen out of the line
        self._first_t: float | None = None
        self._prev_t: float | None = None

    @property
    def open(self) -> list[Visit]:
        """The visits in progress (people in line now, or lost for less than ``relink_s``)."""
        return list(self._visits)

    def waiting(self, t: float) -> int:
        """How many people stand in line at ``t`` by the ledger (``fifo`` only; 0 otherwise).

        Everyone who joined the line and has not reached the desk nor been seen walking out of it holds a start in
        the ledger, kept in step with the people seen in line (see :meth:`_reconcile`): someone hidden behind the
        one in front, or boxed with a neighbour, is still counted. Once nobody has been seen in line for
        ``relink_s``, the line is empty (a start left over from someone who left unseen counts nobody).
        """
        if not self.fifo or t - self._line_seen > self.relink_s:
            return 0
        return len(self._ledger)

    def update(
        self,
        t: float,
        ids: np.ndarray,
        centres: np.ndarray,
        in_queue: np.ndarray,
        in_service: np.ndarray,
        *,
        untracked: int = 0,
        at_counter: np.ndarray | None = None,
    ) -> list[FinishedVisit]:
        """Feed one frame of tracks.

        Args:
            t: frame time, seconds (non-decreasing).
            ids: ``(N,)`` tracker ids.
            centres: ``(N, 2)`` centres, pixels.
            in_queue: ``(N,)`` bool, centre inside the queue zone.
            in_service: ``(N,)`` bool, centre inside the service zone.
            untracked: people seen in the queue zone (not the service zone) without a track on this frame (found by
                a closer look only): the line is not empty while they are there, though they start no visit.
            at_counter: ``(N,)`` bool, in the counter zone (the clerk's side of the desk), or ``None``: a visit whose
                id walks out of the line there went to the clerk (see :meth:`_to_clerk`).

        Returns:
            Visits that ended on this frame.
        """
        if self._first_t is None:
            self._first_t = t
        self.departures = []
        self.joins = []
        dt = t - self._prev_t if self._prev_t is not None else 0.0
        before, self._prev_t = self._prev_t, t
        rows = [
            (int(tid), (float(x), float(y)), bool(q), bool(s))
            for tid, (x, y), q, s in zip(
                ids.tolist(), centres.tolist(), in_queue.tolist(), in_service.tolist(), strict=True
            )
        ]
        present = {tid for tid, _, _, _ in rows}
        if at_counter is not None:
            for tid, counter in zip(ids.tolist(), at_counter.tolist(), strict=True):
                if counter:
                    self._clerk_seen[int(tid)] = t
            for tid in [k for k, seen in self._clerk_seen.items() if t - seen > 2.0 * self.relink_s]:
                del self._clerk_seen[tid]
        line_now = [xy for _, xy, q, _ in rows if q]
        # (new tracks in the line first: a walker lost on the way in is carried on by the one who reached the line
        # before one still out of it claims them; see _walking_up)
        for tid, xy, q, s in sorted(rows, key=lambda row: not row[2]):
            info = self._tracks.get(tid)
            if info is not None and self._leapt_off(tid, info, xy, rows):
                self._forget_track(tid)  # (a new track from here: see _leapt_off)
                info = None
            if info is None:
                info = self._tracks[tid] = _Track(
                    first=t, last=t, xy=xy, born_in_line=q, outside=False, born_at_desk=s and not q
                )
                info.empty_desk = info.born_at_desk and self._desk_seen < self._desk_left
                # (first seen out of both zones right beside the spot: someone stepping off it under a new id)
                info.born_by_desk = (
                    not q and not s and self._desk_xy is not None and math.dist(xy, self._desk_xy) <= self.relink_px
                )
                walker = (
                    self._walking_up(xy, t, present, q and self._alone(tid, xy, t, rows, present)) if not s else None
                )
                if walker is None and q and not s:
                    walker = self._walked_away_from(xy, t, rows)
                info.walked_up = walker is not None and q
                info.behind = q and not s and self._behind_back(xy, line_now, t)
                if info.walked_up and walker is not None and before is not None and walker.last >= before:
                    info.carried = (walker.first, walker.last)  # (seen up to the last detection: see _walked_beside)
                if walker is None and not q and not s:
                    info.line_xy = self._lost_in_line_here(xy, before, present)
                    info.lined = info.line_xy is not None
                    info.amid = self._born_amid(xy, line_now)
            elif info.walked_on:
                info.walked_on = False  # seen again: not lost, so carried on by nobody (a second walker)
            if info.at_desk and not s:
                self._desk_left = t
            info.at_desk = s
            if xy != info.xy:
                step = math.dist(xy, info.xy)
                if step > self.relink_px and not self._kept_pace(info, xy):
                    info.leapt = t
                info.came_from = info.xy
                if step > _JUMP_STEP * self.relink_px:
                    info.jumped_at = t
                    # (onto someone standing in line, nearer them than half a step: an id switch for good, see
                    # _leapt_apart)
                    info.landed = info.landed or any(
                        other != tid and q_other and math.dist(xy, p) < 0.5 * self.relink_px
                        for other, p, q_other, _ in rows
                    )
            info.last, info.xy, info.in_line = t, xy, q
            if not q or s:
                info.queue_since = None
            elif info.queue_since is None:
                info.queue_since = t
            if q:
                info.line_xy = xy
            info.desk = info.desk or s
            info.lined = info.lined or q
            if not q and not s and not self._at_line_edge(info, xy):
                info.outside = True
                self._retired.discard(tid)
        at_desk = [xy for _, xy, _, s in rows if s]
        if at_desk:
            self._desk_seen, self._desk_xy = t, at_desk[-1]
        self._line_now = line_now
        self._line_recent.append((t, line_now))
        while t - self._line_recent[0][0] > _FAR_END_STEP_S + 1e-9:
            self._line_recent.popleft()
        self._mark_beyond(t, rows)
        # first the visits whose tracks are known, so "is that person seen on this frame" is settled before
        # new tracks look for the person they belong to
        for tid, xy, q, s in rows:
            visit = self._owner.get(tid)
            if visit is not None:  # (standing just out of the zone where the line bends out of it: still in line)
                self._see(visit, t, xy, q or (not s and self._at_line_edge(self._tracks[tid], xy)))
                if visit.from_desk and self._waits_in_line(tid, xy, t):
                    visit.from_desk = False  # (someone waiting, not the one served walking out)
        for tid, xy, q, s in rows:
            if tid in self._retired and q and not s:
                self._handed_over(tid, xy, t)
        self._seen_again(t, present)
        # (new tracks in the line that carry on no walker of their own first, then the nearest someone lost: of two
        # new ids near a lost visit, the one not walking in carries it on, whatever order the tracker lists them in)
        fresh = [(tid, xy) for tid, xy, q, _ in rows if q and tid not in self._owner and tid not in self._retired]
        for tid, xy in sorted(fresh, key=lambda row: (self._tracks[row[0]].walked_up, self._nearest_lost(row[1], t))):
            visit = self._adopt(tid, xy, t) or self._start(tid, xy, t)
            self._see(visit, t, xy, True)
        done: list[FinishedVisit] = []
        self._split_pairs(t, dt, rows)
        served = {id(self._owner[tid]): tid for tid, _, _, s in rows if s and tid in self._owner}
        self._found_at_desk(t, rows, served)
        for visit in list(self._visits):
            if id(visit) in served:
                if self.desk_arrivals:  # the desk's arrivals end the waits (see arrived)
                    self._close(visit, t, serving=served[id(visit)])
                    continue
                if self.fifo and t - self._last_served < self.duplicate_serve_s:
                    self._close(visit, t, serving=served[id(visit)])  # the one just served, seen twice
                    continue
                enter, censored = visit.enter, visit.censored
                if self.fifo and self._ledger:
                    enter, censored, _ = self._ledger.pop(0)
                elif self.fifo:
                    self._first_in_line(visit, served)
                    enter, censored = visit.enter, visit.censored
                self._last_served = t
                self._floor = max(self._floor - 1, 0)
                done.append(FinishedVisit(end=t, wait_s=t - enter, served=True, censored=censored))
                self._close(visit, t, serving=served[id(visit)])
        self._forget_lost_tracks(t)
        for visit in list(self._visits):
            lost_for = t - visit.last_seen
            out_for = t - visit.last_in
            if lost_for > self.relink_s:
                if self._merge_lost(visit):
                    continue
                if visit.ledgered:  # lost for good, not seen leaving: most often still there, unseen
                    self._remember_unseen(visit.enter, visit.censored, visit.in_line_xy, lost_at=visit.last_in)
            elif out_for <= self.reentry_grace_s or (lost_for > 0 and not self._walked_off(visit)):
                continue  # (lost while walking off, as out of the picture: a walk-out, decided as if still seen)
            elif visit.ledgered and self._to_clerk(visit):  # its id went to the clerk: its person is still there
                self._remember_unseen(visit.enter, visit.censored, visit.in_line_xy)
                self._close(visit, t)
                continue
            elif visit.ledgered and (swap := self._swapped_with_leaver(visit, t, rows)) is not None:
                self._swap_back(visit, *swap, t)  # the leaver walked off with its id; its person is still there
                continue
            elif (visit.ledgered or self._left_unledgered(visit, t)) and not self._left_for_desk(visit):
                entry = self._unledger(visit.enter)  # (seen walking out of the line: they left)
                if entry is not None:
                    self.departures.append(visit.last_in)
                if self.desk_arrivals and entry is not None:
                    self._walked_out = [out for out in self._walked_out if t - out[0] <= self.relink_s]
                    self._walked_out.append((t, visit, entry))
            done.append(
                FinishedVisit(
                    end=visit.last_in, wait_s=visit.last_in - visit.enter, served=False, censored=visit.censored
                )
            )
            self._close(visit, t)
        if self.fifo:
            held = [xy for tid, xy, q, s in rows if q and not s and self._holds_place(tid, t)]
            people = self._apart(self._line_now)  # (counted by place once per frame, for both steps below)
            self._reconcile(t, people, held, untracked)
            if any(u.others for u in self._unseen):
                self._left_unseen(t, people)
        return done

    def arrived(
        self, t: float, track: int | None = None, leaver: int | None = None, clerk: bool = False
    ) -> FinishedVisit | None:
        """Someone reached the service zone at ``t`` (a new stay there, :class:`ServiceTracker`): with
        ``desk_arrivals``, a wait ends.

        In one line served in order, whoever reaches the desk is the one who waited longest: the wait is taken from
        the line's ledger of arrivals (the earliest start), whichever track ids the tracker gave the people on the
        way. The ids are least reliable at the desk (the one stepping up and the one leaving pass close, the front
        of the line stands beside the one served), so with ``desk_arrivals`` a visit whose track reaches the service
        zone ends the visit but not a wait: the service tracker, which tells a new person at the spot from ids traded
        there, counts the arrivals. An arrival within ``duplicate_serve_s`` of the last is the same one seen twice.

        Args:
            t: when, seconds.
            track: the track that reached the spot, if known: one that was never in the line nor part of a visit
                (someone who walked straight up to the desk, or crossed its zone) ends no wait.
            leaver: the track of the one who walked off the spot as this person stepped up, if the service tracker
                saw it (:attr:`ServiceTracker.handovers`): a visit it carries ends here, not as a person who left the
                line (the tracker gave the leaver the id of someone in line), and keeps the ledger as it is.
            clerk: ``track`` was the clerk's a moment before (seen in the counter zone): within ``relink_s`` of
                someone stepping off the spot, with people waiting in line, the tracker moved the clerk's id across
                the desk onto the one stepping up, who ends a wait (the clerk does not walk round the desk onto the
                spot in one detection). Onto a spot that stood empty longer it is more often the one served, missed
                there for a while, found again.

        Returns:
            The served wait, censored when no start is left in the ledger (the person's arrival in the line was
            not seen); ``None`` without ``desk_arrivals`` or for a duplicate.
        """
        if not self.desk_arrivals:
            return None
        # (the clerk's id on whoever reached the spot as the one served stepped off it: see clerk)
        known = leaver is not None or (clerk and bool(self._ledger) and self._desk_just_left(t))
        if track is not None and not known and not self._from_line(track) and not self._stepped_up(track, t):
            return None
        self._arrivals = [a for a in self._arrivals if t - a <= 2.0 * self.relink_s] + [t]
        visit = self._owner.get(leaver) if leaver is not None else None
        if leaver is not None and leaver in self._tracks:
            self._tracks[leaver].desk = True  # walked off the spot: crossing the line on the way out is no arrival
        if leaver is not None and visit is None:
            self._walked_back(t, leaver)
        unseen = visit if visit is not None and visit.ledgered else None
        if visit is not None:
            if visit.ledgered:  # its person is still in line, without an id (see _unseen_here)
                self._remember_unseen(visit.enter, visit.censored, visit.in_line_xy)
            self._close(visit, t)
        if abs(t - self._last_served) < self.duplicate_serve_s:  # (an arrival held back is dated before it is told)
            first = self._tracks.get(track) if track is not None else None
            if first is not None and first.line_xy is not None and self._ledger:
                # the id of the front of the line, moved onto the one just served: the front person is still there
                self._remember_unseen(self._ledger[0][0], self._ledger[0][1], first.line_xy)
            return None
        self._last_served = max(self._last_served, t)
        self._floor = max(self._floor - 1, 0)
        self._far_end_joins(t)
        if not self._ledger:
            return FinishedVisit(end=t, wait_s=0.0, served=True, censored=True)
        entry = self._ledger.pop(0)
        self._taken.append(entry)
        if unseen is not None and entry[0] == unseen.enter and self._ledger:
            # the leaver's visit held the earliest start, which the one stepping up takes: the person whose id the
            # leaver took still stands in line, on a start still in the ledger
            self._remember_unseen(self._ledger[0][0], self._ledger[0][1], unseen.in_line_xy)
        return FinishedVisit(end=t, wait_s=t - entry[0], served=True, censored=entry[1])

    def _walked_back(self, t: float, leaver: int) -> None:
        """Give back the start of a visit taken for someone who left the line, when its track is the leaver of an
        arrival at ``t`` (see :meth:`_left_for_desk`).

        A hand-over is decided a detection or two after the leaver walked off (the service tracker waits to see who
        stepped up), so the visit the leaver carried may have been seen walking out of the line, and its start taken
        away, before the arrival was known: its person is still in line, without an id.
        """
        for k, (_, gone, entry) in enumerate(self._walked_out):
            if leaver in gone.tracks and abs(gone.last_in - t) <= self.reentry_grace_s:
                del self._walked_out[k]
                bisect.insort(self._ledger, entry)
                self._floor += 1
                self._remember_unseen(entry[0], entry[1], gone.in_line_xy)
                return

    def _to_clerk(self, visit: Visit) -> bool:
        """Whether a visit seen walking out of the line walked into the counter zone (the clerk's side of the desk)
        since it was last in line: the tracker moved its id onto the clerk walking past behind the line (back from
        a break, most often), and its person still stands in line, without an id (absence scene, seed offset 45000,
        240.8 s: the start of the one waiting was taken away, and their wait, found again later, read 11 s short).
        Nobody waiting in line walks round the desk. Only for an id that jumped during the visit (a move longer
        than a walking step allows, :data:`_JUMP_STEP`): the clerk's own id walking across the line's zone to the
        desk keeps its visit's start out (it is taken away as for anyone walking out of the line)."""
        return any(
            self._clerk_seen.get(tid, -math.inf) > visit.last_in
            and (info := self._tracks.get(tid)) is not None
            and info.jumped_at > visit.enter
            for tid in visit.tracks
        )

    def _waits_in_line(self, tid: int, xy: tuple[float, float], t: float) -> bool:
        """Whether track ``tid`` of a visit from the desk, at ``xy``, is someone waiting in line: in the queue zone on
        every frame for ``2 * relink_s`` (the one served walks out across it in a few seconds), more than
        ``relink_px`` from where someone was last seen at the desk (the one served, still at the spot, with their foot
        point in the line: counter scene stall +8000, 86.8 s). Not where the zone is thin: there the one served's box
        reaches into the line for minutes (composite along view, steady-s3).

        The tracker moves the served person's id onto someone waiting as they pass, and that person then stands in
        line under an id from the desk (composite across view, stall-x-s3; rush-x-s5 of a fresh set, 126 s to 231 s:
        the line read one short)."""
        since = self._tracks[tid].queue_since
        far = self._desk_xy is None or math.dist(xy, self._desk_xy) > self.relink_px
        return not self.thin_zone and since is not None and t - since >= 2.0 * self.relink_s and far

    def _swapped_with_leaver(
        self, visit: Visit, t: float, rows: list[tuple[int, tuple[float, float], bool, bool]]
    ) -> tuple[Visit, int, tuple[float, float]] | None:
        """Whether the id of someone served stands in the line now where ``visit`` (seen walking out of it) last
        stood there, having come into the line as the visit's id walked out: the one served, walking off past the
        line, took that person's id and left them theirs (composite across view, stall-x-s1 133.8 s: the start of
        the one in line was taken away and the line read one short for two minutes). Someone served walking past
        is a few steps on by the time the walk-out is decided (``reentry_grace_s`` later), not standing there.

        Returns the served person's visit, the id and where it stands, or ``None``.
        """
        for tid, xy, q, s in rows:
            other = self._owner.get(tid)
            if not q or s or other is None or other is visit or other.ledgered or not other.from_desk:
                continue
            came = abs(other.enter - visit.last_in) <= self.reentry_grace_s
            if came and math.dist(xy, visit.in_line_xy) <= self.relink_px:
                return other, tid, xy
        return None

    def _swap_back(self, visit: Visit, other: Visit, tid: int, xy: tuple[float, float], t: float) -> None:
        """Give ``visit`` the id ``tid`` standing at ``xy`` and ``other`` (the one served) the ids ``visit`` walked
        out under (see :meth:`_swapped_with_leaver`)."""
        walkers = set(visit.tracks)
        other.tracks.discard(tid)
        other.tracks |= walkers
        for w in walkers:
            self._owner[w] = other
        other.last_in, other.in_line_xy, other.last_xy = visit.last_in, visit.in_line_xy, visit.last_xy
        visit.tracks, visit.together = {tid}, {}
        self._owner[tid] = visit
        self._see(visit, t, xy, True)

    def _left_for_desk(self, visit: Visit) -> bool:
        """Whether a visit seen walking out of the line left it as someone reached the desk (``desk_arrivals``).

        The one served walks off as the next steps up, and the tracker often hands the leaver the id of someone in
        line (they pass close): the visit that walks out then is that person's, who is still in line (or the one
        who reached the desk), not someone who gave up: their start stays in the ledger.
        """
        return self.desk_arrivals and any(abs(visit.last_in - a) <= self.reentry_grace_s for a in self._arrivals)

    def _mark_beyond(self, t: float, rows: list[tuple[int, tuple[float, float], bool, bool]]) -> None:
        """Note who stands just beyond the line's FAR END (the end away from the desk), out of both zones.

        A line fuller than its zone goes on out of it: the next person stands a step beyond its last place and steps
        in as the line moves up (:meth:`_far_end_joins`). Only the far end: a person beside the line where it bends is
        another matter. Far end: the place in the line furthest from where someone was last seen at the desk; just
        beyond it: within two ``relink_px`` of it and past it as seen from the desk (so also further from the desk:
        with one person in line, the far end is next to the desk, and someone behind the desk, such as the clerk, is
        further from the customer's spot but not beyond the line), and more past it than beside it (someone standing
        off to the side of the line's last place is not next in it: composite across view, crowd-x-s2 220.3 s).
        Someone served, or seen in line or walking on, is not waiting there.
        """
        ends = self._line_ends()
        if ends is None or not self.desk_arrivals:
            return
        desk, far = ends
        for tid, xy, q, s in rows:
            info = self._tracks[tid]
            if q or s or info.lined or info.desk or info.walked_on:
                continue
            if _ahead_of(desk, far, xy) and math.dist(xy, far) <= 2.0 * self.relink_px:
                if info.beyond is None or info.beyond_since is None or t - info.beyond > self.relink_s:
                    info.beyond_since = t
                info.beyond = t

    def _far_end_joins(self, t: float) -> None:
        """Add a start at the line's move (an arrival at the desk at ``t``) when someone stood beyond its far end.

        In a line fuller than its zone the next person stands a step beyond the zone's last place
        (:meth:`_mark_beyond`) and steps in as the line moves up at a service. They are seldom seen walking in: the
        tracker loses them on that step, or the ids stay on the places (the one who stood in the last place moves up
        under a new id, the newcomer takes theirs, and whoever stands beyond now keeps the id from out there).
        Without a start of their own the ledger later fills the gap with a stale one (:meth:`_reconcile`). Someone
        seen standing beyond the far end (for ``_FAR_END_STAND_S`` at least, not walking past) within
        ``_FAR_END_STEP_S`` before the move is such a newcomer: one start at the move, and their id is not counted
        again as walking in (:meth:`_start`) nor carried on by a newer track (:meth:`_walking_up`).
        """
        waiting = [
            info
            for info in self._tracks.values()
            if info.beyond is not None
            and info.beyond_since is not None
            and t - info.beyond <= _FAR_END_STEP_S
            and info.beyond - info.beyond_since >= _FAR_END_STAND_S
        ]
        if not waiting or any(seen and abs(t - enter) <= _FAR_END_STEP_S for enter, _, seen in self._ledger):
            return  # (nobody there, or the newcomer was seen walking in at this move)
        for info in waiting:
            info.joined = t
            if info.last < t or info.in_line:
                info.walked_on = True
        self._joined = t
        bisect.insort(self._ledger, (t, False, True))

    def _walking_up(self, xy: tuple[float, float], t: float, present: set[int], alone: bool = False) -> _Track | None:
        """The walker lost on their way to the line whose walk a new track at ``xy`` carries on, if any.

        At 2 Hz someone walking in covers about ``relink_px`` between detections, and the tracker often loses them
        and starts a new id on each: the id that first stands in the line is then born there, like an id switch in
        the middle of the line, though its person was seen walking in. A track last seen out of both zones (never in
        the line nor at the desk: not someone served walking off), lost now for at most ``relink_s``, within one
        detection period's walk (``2 * relink_px``) of ``xy``, is that person (but not one first seen right beside
        the spot, within ``relink_px`` of where someone was last seen at the desk: that is someone served stepping
        off it whose id the tracker changed on the way, walking away); each lost track is carried on once,
        by the first new track near it (those in the line before those still out of it: of people walking up
        together, the one who reached the line was ahead), unless it is seen again (then it was not lost). A new
        track in the line standing ``alone`` (nobody else in line within ``relink_px``: no id of someone there) may
        carry on a walker lost for longer, as far as they walk in that time (``relink_px`` plus
        :data:`_WALK_PER_S` of it each second): someone walking in unseen behind the line for a few detections.
        """
        best: tuple[float, _Track | None] = (math.inf, None)
        for tid, info in self._tracks.items():
            if tid in present or info.walked_on or info.lined or info.desk or info.born_by_desk or not info.outside:
                continue
            d = math.dist(xy, info.xy)
            reach = self._walk_reach(t - info.last) if alone else 2.0 * self.relink_px
            if t - info.last <= self.relink_s and d <= reach and d < best[0]:
                best = (d, info)
        if best[1] is not None:
            best[1].walked_on = True
        return best[1]

    def _walk_reach(self, lost_for: float) -> float:
        """How far someone walking in may be from where they were lost ``lost_for`` seconds before: ``relink_px``
        plus :data:`_WALK_PER_S` of it each second, and at least one detection period's walk (``2 * relink_px``)."""
        return self.relink_px * max(2.0, 1.0 + _WALK_PER_S * lost_for)

    def _walked_away_from(
        self, xy: tuple[float, float], t: float, rows: list[tuple[int, tuple[float, float], bool, bool]]
    ) -> _Track | None:
        """The walker whose walk a new track at ``xy`` in the line carries on while the walker's id went elsewhere.

        Two people walk up together and only one joins the line (the other waits beside it, out of the zones): the
        tracker may move the walker's id onto the companion, a step further out, as the walker reaches the line
        under a new id. That id is not lost, so :meth:`_walking_up` does not see the walk, and the newcomer would
        count as found in the line (no start while someone in line is hidden). A track first seen out of both zones
        within ``relink_s`` (a fresh walker, not someone standing there), last seen within a detection period's walk
        (``2 * relink_px``) of ``xy`` and now, out of both zones, further from ``xy`` by more than ``relink_px / 2``
        (it moved away from the line, which a walker going in does not do) is that walker; nearest first.
        """
        best: tuple[float, _Track | None] = (math.inf, None)
        for tid, now, q, s in rows:
            info = self._tracks.get(tid)
            if info is None or q or s or info.lined or info.desk or info.born_by_desk or not info.outside:
                continue
            if info.last >= t or t - info.first > self.relink_s:
                continue  # (new this frame, or not a fresh walker)
            was = math.dist(xy, info.xy)
            if was <= 2.0 * self.relink_px and math.dist(xy, now) > was + 0.5 * self.relink_px and was < best[0]:
                best = (was, info)
        return best[1]

    def _alone(
        self,
        tid: int,
        xy: tuple[float, float],
        t: float,
        rows: list[tuple[int, tuple[float, float], bool, bool]],
        present: set[int],
    ) -> bool:
        """Whether new track ``tid`` at ``xy`` in the line is nobody else's id: nobody else in line within
        ``relink_px``, and no visit lost for at most ``relink_s`` last seen within a detection period's walk
        (``2 * relink_px``: someone walking on along the line under a new id), or, for someone still walking in
        (:meth:`_still_walking_in`), within as far as they walk meanwhile (:meth:`_walk_reach`: a fast walker found
        just past a detection period's walk, composite across view, rush-x-s4 165.8 s), someone crossing the line to
        its back included (away-x-s23 188.3 s: lost in the middle of the line, found 113 px on at its back 1.1 s
        later, and counted twice as the new id carried on someone lost walking past above the line)."""
        if any(math.dist(xy, o) <= self.relink_px for i, o, q, _ in rows if q and i != tid):
            return False
        return not any(
            t - v.last_seen <= self.relink_s
            and math.dist(xy, v.last_xy)
            <= (
                self._walk_reach(t - v.last_seen)
                if self._still_walking_in(v, t, crossing=True)
                else 2.0 * self.relink_px
            )
            for v in self._visits
            if not v.tracks & present
        )

    def _walked_off(self, visit: Visit) -> bool:
        """Whether ``visit``'s person was last seen walking off: out of the line, at least ``relink_px`` from where
        they stood in it (:meth:`_off_its_place`), with no id leap since they were last in it (a box found far off
        after a loss is an id gone onto someone else, not a walk)."""
        if visit.last_seen <= visit.last_in or not self._off_its_place(visit):
            return False
        return all(info.leapt <= visit.last_in for tid in visit.tracks if (info := self._tracks.get(tid)) is not None)

    def _off_its_place(self, visit: Visit) -> bool:
        """Whether ``visit``'s person was last seen at least ``relink_px`` from where they last stood in line: walking
        off, not a foot point out of the zone's edge where they stand."""
        return math.dist(visit.last_xy, visit.in_line_xy) >= self.relink_px

    def _still_walking_in(self, visit: Visit, t: float, crossing: bool = False) -> bool:
        """Whether ``visit``'s person was seen walking in and began it within ``relink_s``; with ``crossing``, walking
        in across the line to its back counts too (``Visit.walking``)."""
        return (visit.walked_in or (crossing and visit.walking)) and t - visit.enter <= self.relink_s

    def _lost_in_line_here(
        self, xy: tuple[float, float], before: float | None, present: set[int]
    ) -> tuple[float, float] | None:
        """Where a person in line was last seen, within ``relink_px`` of ``xy``, whose visit lost its track on this
        detection (seen in line on the last frame, not now), if anyone's.

        Where the line bends out of its zone, people standing in it are seen with their centre just out of the
        zone: an id that slides off such a person (onto the next one up, as the line moves) leaves them a new id
        first seen out of both zones, like a newcomer walking in. Born there as a person in line vanished, it is
        that person (:meth:`_at_line_edge`), not someone walking in.
        """
        if before is None:
            return None
        for visit in self._visits:
            if visit.last_seen < before or visit.last_in < visit.last_seen or visit.tracks & present:
                continue
            if math.dist(xy, visit.in_line_xy) <= self.relink_px:
                return visit.in_line_xy
        return None

    def _at_line_edge(self, info: _Track, xy: tuple[float, float]) -> bool:
        """Whether a track of the line out of both zones stands where it was in line: a person standing in a line
        that bends out of its zone, still in line (their visit does not end as walking out of it, and stepping back
        in is no walk in). Within half a detection period's walk (``relink_px / 2``, see :meth:`_walking_up`): the
        tracker often moves the last id in line onto a newcomer walking up beside it, who has walked further."""
        return info.lined and info.line_xy is not None and math.dist(xy, info.line_xy) <= 0.5 * self.relink_px

    def _stepped_up(self, tid: int, t: float) -> bool:
        """Whether track ``tid``, first seen at the desk, is the front of the line stepping up as the one served left.

        People standing close in line are often one box (the one behind hidden in the one in front's): the one
        hidden is first seen on their own where nobody hides them any more, at the spot, right after the one served
        stepped off it. Someone walking straight up to the desk is seen on their way (out of both zones); someone
        first seen at the spot while nobody left it (a new id for the person standing there) arrives nowhere. A small
        person may get no box at all for a while after stepping up: first seen at a spot that stood empty since the
        one served left it (nobody in the service zone since), with people waiting in line, they stepped up too.
        Where people in line stand side by side (:meth:`side_by_side`) nobody hides behind a neighbour: someone
        stepped up only if someone is missing from the line (:meth:`_missing_from_line`; composite across view,
        rush-x-s22 141.8 s: a passer-by's new id in the zone as the one served walked off, the whole line still in
        place, took the first start in line).
        """
        info = self._tracks.get(tid)
        if info is None or not info.born_at_desk or info.outside:
            return False
        if self.side_by_side() and not self._missing_from_line(t):
            return False
        return self._desk_just_left(t) or (info.empty_desk and bool(self._ledger))

    def _missing_from_line(self, t: float) -> bool:
        """Whether someone who stood in line may be missing from it now: a visit in line lost within ``relink_s``,
        someone lost for good with their start kept (:meth:`_remember_unseen`), or more starts in the ledger than
        people seen in line (by place, :meth:`_apart`)."""
        self._prune_unseen()
        if self._unseen or len(self._ledger) > self._apart(self._line_now):
            return True
        return any(v.last_in < t <= v.last_in + self.relink_s for v in self._visits)

    def _desk_just_left(self, t: float) -> bool:
        """Whether someone stepped out of the service zone within ``relink_s`` before ``t``."""
        return t - self._desk_left <= self.relink_s

    def _from_line(self, tid: int) -> bool:
        """Whether track ``tid`` was in the line (seen in the queue zone, or part of a visit)."""
        info = self._tracks.get(tid)
        return tid in self._owner or tid in self._retired or (info is not None and info.lined)

    def served_at_desk(self, t: float, leaver: int) -> FinishedVisit | None:
        """Someone reached the service zone whom no visit brought there: the ids were traded at the desk.

        The service tracker saw a hand-over (:attr:`ServiceTracker.handovers`): the person served walked off under
        track ``leaver`` while someone else stood at the spot. A visit that ``leaver`` carries belongs to the one
        who stepped up (the tracker gave them each other's ids): it ends served now. With ``fifo`` the wait is
        the line's earliest start, and a hand-over with no visit still takes it (that person's track had been
        retired by an earlier mix-up). Nothing when a wait already ended at the desk within
        ``duplicate_serve_s`` (the same arrival, seen by the visits).

        Returns:
            The served visit, or ``None``.
        """
        if abs(t - self._last_served) < self.duplicate_serve_s:
            return None
        visit = self._owner.get(leaver)
        if visit is not None:
            enter, censored = visit.enter, visit.censored
            if self.fifo and self._ledger:
                enter, censored, _ = self._ledger.pop(0)
            self._close(visit, t)
        elif self.fifo and self._ledger:
            enter, censored, _ = self._ledger.pop(0)
        else:
            return None
        self._last_served = max(self._last_served, t)
        self._floor = max(self._floor - 1, 0)
        return FinishedVisit(end=t, wait_s=t - enter, served=True, censored=censored)

    def _ledger_add(self, visit: Visit, seen: bool = False) -> None:
        if self.fifo and not visit.ledgered:
            bisect.insort(self._ledger, (visit.enter, visit.censored, seen))
            visit.ledgered = True
            if self._prev_t is not None and visit.enter < self._prev_t:
                self.joins.append(visit.enter)

    def _unledger(self, enter: float, *, left: bool = True) -> tuple[float, bool, bool] | None:
        """Take away the start nearest ``enter`` (``left``: someone left the line, one fewer in it); returns it."""
        if left:
            self._floor = max(self._floor - 1, 0)
        if not self._ledger:
            return None
        k = min(range(len(self._ledger)), key=lambda i: abs(self._ledger[i][0] - enter))
        return self._ledger.pop(k)

    def _lined(self, t: float) -> list[tuple[float, float]]:
        """Where the visits seen in line at ``t`` stand, but those whose id jumped onto someone in line from elsewhere
        or came from the service zone (they count nobody, see :meth:`_reconcile`)."""
        return [v.in_line_xy for v in self._visits if v.last_in >= t and not v.jumped and not v.from_desk]

    def _apart(self, points: list[tuple[float, float]]) -> int:
        """How many people ``points`` are: boxes closer than ``_apart_px`` to one already counted are the same person
        (a duplicate box, or an old id lingering beside a new one)."""
        kept: list[tuple[float, float]] = []
        for x, y in points:
            if all(math.hypot(x - kx, y - ky) >= self._apart_px for kx, ky in kept):
                kept.append((x, y))
        return len(kept)

    def _one_person(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """Whether tracks at ``a`` and ``b`` are one person: closer than ``_apart_px``, or on one row of the picture
        (within ``ROW * relink_px``) and closer side by side than a shoulder's width (``SIDE * relink_px``).

        The detector sometimes boxes someone twice, the second box shifted half a body sideways onto whoever stands
        beside or behind them, at the same height: its feet land on the same row, a few pixels aside, and the
        tracker follows it on and off for minutes. Split off (:meth:`_split_pairs`) it would be a companion with
        the first's start; a visit's box that is one person with a neighbour's is that neighbour's second box. Only
        the split asks this: the count by place (:meth:`_apart`) keeps ``APART`` (the row
        test there broke the shipped hard scene's count, not traced further; see docs/queue-accuracy.md).
        """
        if math.dist(a, b) < self._apart_px:
            return True
        return abs(a[1] - b[1]) <= ROW * self.relink_px and abs(a[0] - b[0]) < SIDE * self.relink_px

    def _holds_place(self, tid: int, t: float) -> bool:
        """Whether retired track ``tid`` stands in the line: in the queue zone, out of the service zone, on every
        frame for ``duplicate_s`` or more (someone served walking off crosses the zone in a detection or two).

        The one served walks off as the next steps up, and the tracker often moves the served person's (retired)
        id onto the front of the line as they pass: the front person then stands in line under a retired id that
        no visit holds, and the line's count by place misses them (see :meth:`_reconcile`).
        """
        since = self._tracks[tid].queue_since if tid in self._retired else None
        return since is not None and t - since >= self.duplicate_s

    def _newcomer(self, visit: Visit, t: float, others: list[tuple[float, float]]) -> bool:
        """Whether ``visit`` is someone new in line: begun within ``2 * relink_s`` and first seen farther than
        ``relink_px`` from everyone else in line now (``others``), not beside someone (an id of a person counted
        already, or a box seen for a detection between two people)."""
        return visit.enter >= t - 2.0 * self.relink_s and all(
            math.dist(visit.born_xy, xy) > self.relink_px for xy in others
        )

    def _reconcile(
        self, t: float, in_line_now: int, held: list[tuple[float, float]] | None = None, untracked: int = 0
    ) -> None:
        """Keep the ledger's count of starts between the people in line and one more.

        Each person walking into the line adds their start; one reaching the desk takes the earliest; one seen
        walking out of the line takes theirs away. A person lost for good keeps their start in the ledger (most
        often they are still there, under a new id, or hidden: people standing close are seen as fewer boxes for
        minutes). The people in line are at least as many as were seen there at once, less those who reached the
        desk or were seen walking out since (nobody else leaves a line unseen), counted by place (:meth:`_apart`: a
        duplicate box, or two ids on one person, is one person); the ledger is only trimmed once it
        has held two more starts than that for ``2 * relink_s``, and then only of starts not seen walking in (see
        :meth:`_trim`), or, in a line across the picture, one more that nobody in line holds (:meth:`_held_by_nobody`).
        With nobody seen in line for ``relink_s`` the line is empty. People in line whose start is
        in no ledger (found in the middle of the line, their arrival missed) add their own, the latest first: when
        more people are seen than the ledger holds starts for, those found last are the ones it has not counted (a
        visit found earlier stood in line while the ledger held a start for everyone seen, e.g. someone under a new
        id); someone who came from the service zone (served, walking out) adds none. People standing in line under
        a retired id (``held``, see :meth:`_holds_place`) count too, but then only a newcomer adds a start
        (:meth:`_newcomer`): someone walking in unseen (given a new id on every detection, first seen inside the
        zone), whom the count had missed because the front person's id was retired. An id that jumped onto someone
        in line from elsewhere counts nobody (:meth:`_jumped_onto_someone`), nor does someone who came from the
        service zone (the one served walking out across the line's zone is not in it; counted, they made room for
        the start of a stray box in line).
        """
        self._walked_off_landing(t)
        seen = self._lined(t)
        people = self._apart(seen)
        self._add_missing(t, people, None)
        if held:
            self._add_missing(t, self._apart(seen + held), held)
        if people or in_line_now or untracked:  # (someone only a closer look found is someone in line too)
            self._line_seen = t
        elif t - self._line_seen > self.relink_s:
            self._floor = 0  # nobody in line for a while: those not seen leaving left unseen
            self._taken.clear()  # (nobody served since stands in line)
        self._floor = max(self._floor, people, in_line_now)
        self._give_back(t, max(people, in_line_now) if self.thin_zone else people)
        over = len(self._ledger) - self._floor  # starts beyond the people known to stand in line
        if over > 1 or (over == 1 and self._held_by_nobody(t, people)):
            if self._over_since is None:
                self._over_since = t
            elif t - self._over_since > 2.0 * self.relink_s:
                self._trim(people == 0 and in_line_now == 0, latest=over == 1)
                self._over_since = t
        else:
            self._over_since = None

    def _walked_off_landing(self, t: float) -> None:
        """A visit whose id jumped onto someone in line (:meth:`_jumped_onto_someone`, it counts nobody) and has since
        walked more than a detection period's walk (``2 * relink_px``) from where it landed, in the line, and stands
        apart from everyone else in it (``_apart_px``), is a person of its own: someone crossing the line close behind
        one standing in it (composite across view, rush-x-s15 130.8 s: two walked down through the line to its back,
        the first taken for an id landing on the one they passed; the line read one short for 160 s)."""
        for visit in self._visits:
            if (
                not visit.jumped
                or visit.last_in < t
                or math.dist(visit.in_line_xy, visit.born_xy) <= 2.0 * self.relink_px
            ):
                continue
            others = [v.in_line_xy for v in self._visits if v is not visit and v.last_in >= t]
            if all(math.dist(visit.in_line_xy, p) >= self._apart_px for p in others):
                visit.jumped = False

    def _held_by_nobody(self, t: float, people: int) -> bool:
        """Whether, in a line across the picture, the ledger holds more starts than the people in line seen now
        (``people``), lost meanwhile, or lost for good with their start kept (:meth:`_remember_unseen`).

        Where people stand side by side with floor between them, nobody stays hidden behind a neighbour: a start
        that none of them holds is someone counted twice (composite across view, stall-x-s14 34.3 s: at a hand-over
        the id of the one who reached the desk moved onto someone waiting just out of the zone, whose own visit another
        id carried on, and who then stepped in as a newcomer; the line read one long for 24 s, and three times more).
        A line down the picture, or a thin desk zone, keeps one such start: the one in front hides the one behind.
        """
        if not self.side_by_side():
            return False
        self._prune_unseen()
        lost = sum(v.ledgered and v.last_in < t for v in self._visits)
        return len(self._ledger) > people + lost + len(self._unseen)

    def _give_back(self, t: float, people: int) -> None:
        """Put back the latest start an arrival at the desk took, once more people have been seen in line than the
        ledger holds for ``2 * relink_s`` and every one of them already gave theirs (see :meth:`_add_missing`).

        Where the line runs towards the camera, the one served is hidden behind the front of the line, and the
        boxes of the clerk, the one served and the front person merge and trade ids: an id reaching the spot from
        there is taken for someone stepping up, and takes the start of someone who still stands in line. Those
        people are seen in line for minutes while the ledger counts nobody; their starts are the latest taken
        (the ledger hands out the earliest first).

        ``people`` counts the visits in line by place; with ``thin_zone`` it counts everyone seen in line by place,
        ids whose visit ended at the desk too: where the zone is thin, the front person whose id touched
        the spot stands back in line under that id, which no visit holds. Elsewhere a second box on someone in line
        is the likelier cause of more boxes than visits (counting them broke seven of our seed sets).
        """
        if len(self._ledger) >= people or not self._taken:
            self._short_since = None
            return
        if self._short_since is None:
            self._short_since = t
        elif t - self._short_since > 2.0 * self.relink_s:
            bisect.insort(self._ledger, self._taken.pop())
            self._short_since = t

    def _add_missing(self, t: float, people: int, held: list[tuple[float, float]] | None) -> None:
        """Add the starts of visits in line the ledger holds none for, the latest first, until it holds ``people``;
        with ``held`` (people under retired ids counted) only newcomers' (:meth:`_newcomer`)."""
        if len(self._ledger) >= people:
            return
        missing = [v for v in self._visits if not v.ledgered and not v.from_desk and not v.jumped and v.last_in >= t]
        if held is not None:
            lined = [(v, v.in_line_xy) for v in self._visits if v.last_in >= t]
            missing = [v for v in missing if self._newcomer(v, t, [xy for o, xy in lined if o is not v] + held)]
        for visit in sorted(missing, key=lambda v: v.enter, reverse=True):
            if len(self._ledger) >= people:
                break
            self._ledger_add(visit)

    def _trim(self, empty: bool, latest: bool = False) -> None:
        """Drop the latest start that was not seen walking in (or, with nobody seen in line, or ``latest``, the latest).

        People standing close share one box for minutes: the line then shows fewer people than it holds, and the
        starts of people seen walking in are what is known best (a real start taken away makes every later wait
        short). Starts inferred later (someone found in the middle of the line, a box split in two) go first. A start
        nobody holds in a line across the picture (:meth:`_held_by_nobody`) is the latest: the second count of
        someone counted twice comes after their first.
        """
        unseen = [k for k, (_, _, seen) in enumerate(self._ledger) if not seen]
        if latest:
            self._ledger.pop()
        elif unseen:
            del self._ledger[unseen[-1]]
        elif empty:
            self._ledger.pop()

    def _found_at_desk(self, t: float, rows: list[tuple[int, tuple[float, float], bool, bool]], served: dict) -> None:
        """Someone new who appears in the service zone while a waiting person is lost is that person, served.

        The step from the line to the desk is where people are hidden and ids are lost; a track first seen at
        the desk came from the line.
        """
        for tid, xy, _, s in rows:
            info = self._tracks[tid]
            if not s or tid in self._owner or tid in self._retired or info.first < t - self.relink_s:
                continue
            lost = [v for v in self._visits if v.last_seen < t and id(v) not in served]
            if not lost:
                continue
            visit = min(lost, key=lambda v: math.dist(xy, v.last_xy))
            visit.tracks.add(tid)
            self._owner[tid] = visit
            self._see(visit, t, xy, False)
            served[id(visit)] = tid

    def _handed_over(self, tid: int, xy: tuple[float, float], t: float) -> None:
        """A served person's track that jumps back onto the spot of the next one in line now follows that person.

        Where the one served leaves the desk and the next steps up, the two pass close (one hides the other) and
        the tracker often hands the leaver's id to the one stepping up, and theirs to the leaver, who walks away:
        without this the waiting person's visit would follow the leaver out and end as abandoned, and their
        own arrival at the desk would go uncounted. The track is taken over by the visit whose person was last
        seen in line within a person's width of where it landed, if that person is not seen in line now and the
        track moved there from further away than it now is from them (a served person who stays at the desk
        does not jump).
        """
        info = self._tracks[tid]
        if info.came_from is None:
            return
        moved = math.dist(xy, info.came_from)
        best: tuple[float, Visit | None] = (math.inf, None)
        for visit in self._visits:
            if visit.last_in >= t or t - visit.last_in > self.relink_s:
                continue
            d = math.dist(xy, visit.in_line_xy)
            if d <= self._apart_px and d < moved and d < best[0]:
                best = (d, visit)
        owner = best[1]
        if owner is None:
            return
        self._retired.discard(tid)
        owner.tracks.add(tid)
        self._owner[tid] = owner
        self._see(owner, t, xy, True)

    def _first_in_line(self, visit: Visit, served: dict[int, int]) -> None:
        """Give the visit reaching the service zone the earliest start of the line (people do not overtake).

        Ids slide along a line as it moves up (each person takes the id of the one ahead): the visit that reaches
        the desk then carries a later start than the person's own. In one line, whoever reaches the desk is the
        one who has waited longest, so the starts are traded: the earliest visit still in line (seen within the
        last second) gives its start to the one served, and takes theirs.
        """
        now = visit.last_seen
        first = min(
            (
                v
                for v in self._visits
                if id(v) not in served and v.enter < visit.enter and now - v.last_seen <= 1.0 and v.last_in >= now - 1.0
            ),
            key=lambda v: v.enter,
            default=None,
        )
        if first is not None:
            first.enter, visit.enter = visit.enter, first.enter
            first.censored, visit.censored = visit.censored, first.censored

    def _see(self, visit: Visit, t: float, xy: tuple[float, float], in_line: bool) -> None:
        visit.last_seen, visit.last_xy = t, xy
        if in_line:
            visit.last_in, visit.in_line_xy = t, xy
            trail = visit.trail
            if not trail or math.dist(trail[-1][1], xy) >= 0.5 * self._apart_px:
                trail.append((t, xy))
            while len(trail) > 1 and t - trail[1][0] > 2.0 * self.relink_s:
                trail.popleft()

    def _adopt(self, tid: int, xy: tuple[float, float], t: float) -> Visit | None:
        """The open visit whose person this new track is, if any: a lost one first (within ``relink_px``, or a walker
        within walking reach: see :meth:`_lost_reach`), then one seen beside it, or one it trails (:meth:`_trails`)."""
        info = self._tracks[tid]
        lost: tuple[float, Visit | None] = (math.inf, None)
        beside: tuple[float, Visit | None] = (math.inf, None)
        for visit in self._visits:
            if t - visit.last_seen > self.relink_s:
                continue
            d = math.dist(xy, visit.last_xy)
            if visit.last_seen < t and d <= self._lost_reach(visit, info, t) and d < lost[0]:
                lost = (d, visit)
                continue
            if d > self.relink_px and not (visit.last_seen >= t and self._trails(visit, xy, d, t)):
                continue
            if visit.last_seen < t and d < lost[0]:
                lost = (d, visit)
            elif visit.last_seen >= t and d < beside[0]:
                beside = (d, visit)
        if lost[1] is not None:
            visit = lost[1]
            if not info.born_in_line and t - visit.enter > 2.0 * self.relink_s:
                info.carries_on = t  # (walked in from out of the zones, onto someone who stood in line a while)
        elif (
            beside[1] is not None and info.born_in_line and info.first >= t and not self._walked_beside(info, beside[1])
        ):
            # born in the middle of the line next to someone: an id switch while the old id lingers, or a
            # second person who walked in hidden behind the first; _split_pairs tells which (one carrying on a
            # second walker seen beside the first on the way in is that second person: a visit of its own)
            visit = beside[1]
            visit.together[tid] = 0.0
        else:
            return None
        visit.tracks.add(tid)
        self._owner[tid] = visit
        return visit

    def _seen_again(self, t: float, present: set[int]) -> None:
        """A track taken for a lost visit's person (:meth:`_adopt`) seen together with a track the visit had before
        (its person seen again): the newer one is someone else or a second box of the same person, for
        :meth:`_split_pairs` to tell (composite across view, stall-x-s1 188.8 s: someone walking in past the line was
        taken for the person the detector missed there for one detection, and walked on to the line's back
        uncounted). Only a track that walked in from out of both zones onto someone who had stood in line for
        ``2 * relink_s`` (``carries_on``): two people walking in together trade ids all the way in, and a visit
        begun moments ago is someone still walking in (hard scene, seed offset 27000, 64.3 s: a pair's second id
        split off as a third person). Once the visit is ``2 * relink_s`` old, though, its ids seen together are told
        apart too, the newer for :meth:`_split_pairs`: two people who came in together and traded ids on the way may
        leave one visit with both ids, standing in line one behind the other (composite across view, crowd-x-s7
        67.0 s: one person uncounted for 75 s). Only where the line runs across the picture (:meth:`_runs_across`) and
        the zone is not thin: a line towards the camera has its people's boxes overlap and split (composite along
        view, steady-s2 waits 1.9 % -> 50 %; our renderer's hard scene, seed offset 27000, MAE 0.03 -> 0.86)."""
        for visit in self._visits:
            if len(visit.tracks) < 2:
                continue  # (most visits: one id)
            here = [(tid, self._tracks[tid]) for tid in visit.tracks if tid in present]
            untold = [(tid, info) for tid, info in here if tid not in visit.together]
            if len(here) < 2 or not untold:
                continue
            settled = t - visit.enter > 2.0 * self.relink_s and self.side_by_side()
            for tid, info in untold:
                if any(o != tid and (i.first < info.carries_on or (settled and i.first < info.first)) for o, i in here):
                    visit.together[tid] = 0.0

    def _lost_recently(self, t: float) -> list[Visit]:
        """The visits not seen on this frame, lost within ``relink_s``."""
        return [v for v in self._visits if v.last_seen < t and t - v.last_seen <= self.relink_s]

    def _nearest_lost(self, xy: tuple[float, float], t: float) -> float:
        """How far ``xy`` is from the nearest visit lost within ``relink_s`` (``inf`` when none is)."""
        return min((math.dist(xy, v.last_xy) for v in self._lost_recently(t)), default=math.inf)

    def _walker_lost_near(self, xy: tuple[float, float], t: float, beyond: float = -math.inf) -> bool:
        """Whether a visit lost within ``relink_s``, last seen farther than ``beyond`` from the desk, is within
        walking reach of ``xy`` (:meth:`_walk_reach`): a walker under a new id, counted already."""
        desk = self._desk_xy
        return any(
            (desk is None or math.dist(v.last_xy, desk) > beyond)
            and math.dist(xy, v.last_xy) <= self._walk_reach(t - v.last_seen)
            for v in self._lost_recently(t)
        )

    def _lost_reach(self, visit: Visit, info: _Track, t: float) -> float:
        """How far from where ``visit``'s person was last seen a new track (``info``) may carry them on:
        ``relink_px``, or for someone walking in (a visit begun within ``relink_s``, seen walking in), by a track
        that carries on no walker of its own (:meth:`_walking_up`: a newcomer), as far as they walk meanwhile
        (:meth:`_walk_reach`): at 2 Hz a walker covers about ``relink_px`` between two detections (hard scene, seed
        offset 41000, 159.8 s: two walking in, in file, under new ids on every detection; the leader's new id stood
        43.3 px from where they were lost, ``relink_px`` 43.2, and the follower's took the leader's visit). Someone
        crossing the line to its back (``Visit.walking``) counts as walking in for a track seen out of both zones
        (composite across view, stall-x-s23 159.3 s: the id of someone walking past moved onto them at the line's
        back, and they were counted twice), not for one first seen in the line (stall-x-s18 218.8 s: the one walking
        with them, unboxed until then, took their visit)."""
        if self._still_walking_in(visit, t, crossing=info.outside) and not info.walked_up:
            return self._walk_reach(t - visit.last_seen)
        return self.relink_px

    def _trails(self, visit: Visit, xy: tuple[float, float], d: float, t: float) -> bool:
        """Whether a track first seen in the line at ``xy``, ``d`` from ``visit``'s person, trails them: someone who
        walked in hidden behind them (people walking in file), first boxed on the way the one ahead just came.

        ``visit`` walked in within ``relink_s``; ``xy`` lies within two steps (``2 * relink_px``) of them, farther
        from the desk than they stand, and within a shoulder's width (``SIDE * relink_px``) of their way in (from
        where the visit began in the line to where it is now): where they were a moment ago. (An id that
        jumped onto someone ahead, its walker boxed anew where they walk, is not on that way.) Nor is anyone's visit
        lost within walking reach of ``xy`` in the last ``relink_s`` (a walker under a new id, counted already; see
        :meth:`_behind_back`). Such a track is taken as beside ``visit`` (see :meth:`_adopt`): a second person once
        the two are seen apart (:meth:`_split_pairs`), with their start (tight scene, seed offset 43000, 124.3 s: four
        walked in in file and the third was first boxed 44 px behind the second, just over ``relink_px``: no start,
        the line one short for 420 s).
        """
        if self._desk_xy is None or not self._still_walking_in(visit, t) or d > 2.0 * self.relink_px:
            return False
        if math.dist(xy, self._desk_xy) <= math.dist(visit.last_xy, self._desk_xy):
            return False
        if _to_segment(xy, visit.born_xy, visit.last_xy) > SIDE * self.relink_px:
            return False
        return not self._walker_lost_near(xy, t)

    def _walked_beside(self, info: _Track, visit: Visit) -> bool:
        """Whether a new track carries on a walker seen at the same time as ``visit``'s person: two people.

        Two people walking in together are often lost and found again under new ids on their way: the id that
        carries on one of them (:meth:`_walking_up`) is first seen in the line beside the other's visit, like an id
        switch of that person. When the walker it carries on was seen while the visit's own track was (both at
        once, out of the line), it is the second person and starts a visit of its own.
        """
        if info.carried is None or math.dist(info.xy, visit.last_xy) < self._apart_px:
            return False  # (on top of the visit's person: a second box of them)
        return any(
            (other := self._tracks.get(tid)) is not None and other.first <= info.carried[1] for tid in visit.tracks
        )

    def _start(self, tid: int, xy: tuple[float, float], t: float) -> Visit:
        assert self._first_t is not None
        info = self._tracks[tid]
        jumped = self._jumped_onto_someone(info, xy)
        walked_in = (
            self._walked_in(info)
            and t - info.joined > self.relink_s
            and not self._cuts_in(xy)
            and not jumped
            and not info.amid
        )
        visit = Visit(
            enter=t,
            last_in=t,
            last_seen=t,
            last_xy=xy,
            in_line_xy=xy,
            censored=t - self._first_t < self.warmup_s,
            tracks={tid},
            born_xy=xy,
            walked_in=walked_in,
            walking=self._walked_in(info) and not jumped,
            from_desk=info.desk,
            jumped=jumped,
        )
        self._visits.append(visit)
        self._owner[tid] = visit
        unseen = self._unseen_here(xy) if walked_in and self._leapt_here(info, xy) else None
        if unseen is not None:  # (an id from elsewhere, onto someone lost in line whose start the ledger holds)
            visit.enter, visit.censored, visit.ledgered, visit.walked_in = unseen.enter, unseen.censored, True, False
        elif visit.walked_in and t - self._joined > _FAR_END_STEP_S:  # (not the one just counted at the far end)
            self._ledger_add(visit, seen=True)
        return visit

    def _leapt_here(self, info: _Track, xy: tuple[float, float]) -> bool:
        """Whether a track came to ``xy`` further than one detection period's walk (``2 * relink_px``, see
        :meth:`_walking_up`) in one step: an id the tracker moved from elsewhere, not someone walking in. Landing
        where someone lost for good from the line stood (:meth:`_unseen_here`), it is that person found again under
        a passer-by's id, and adds no start (composite across view, crowd-x-s22 99.8 s: the id of someone walking
        past at the top of the picture moved onto the third in line, unboxed for 5 s as they stepped up)."""
        return info.came_from is not None and math.dist(xy, info.came_from) > 2.0 * self.relink_px

    def _cuts_in(self, xy: tuple[float, float]) -> bool:
        """Whether someone stepping into the line at ``xy`` from out of both zones steps in ahead of its back.

        A newcomer joins at the back of the line: nobody in line (seen there over the last second: see
        :meth:`_line_recent_places`) stands a step (``relink_px``) further from the desk than they do. A track
        stepping in nearer the desk than that (``desk_arrivals``) is someone already there whose box strayed out of
        the zone for a moment (the front of the line beside the desk, most often) under a new id: not seen walking
        in. Their start, if the line lacks one, comes from the count by place (:meth:`_reconcile`).
        """
        return self.desk_arrivals and self._ahead_of_back(xy, self._line_recent_places())

    def _line_recent_places(self) -> list[tuple[float, float]]:
        """Where people were seen in line over the last detection period or so (``_FAR_END_STEP_S``): the line's back
        may be unboxed on the very detection someone steps in (tight scene, seed offset 2000, 19.3 s)."""
        return [p for _, line in self._line_recent for p in line]

    def _ahead_of_back(self, xy: tuple[float, float], line: list[tuple[float, float]]) -> bool:
        """Whether ``xy`` lies nearer the desk than the back of the line (``line``: where people stand in it) by more
        than ``relink_px``: someone in line stands a step further from the desk. False before the desk was seen."""
        if self._desk_xy is None:
            return False
        here = math.dist(xy, self._desk_xy)
        return any(math.dist(p, self._desk_xy) > here + self.relink_px for p in line)

    def _behind_back(self, xy: tuple[float, float], line: list[tuple[float, float]], t: float) -> bool:
        """Whether a track first seen in the line at ``xy`` stands two steps (``2 * relink_px``) from everyone else in
        it (``line``: where people stand in it now; someone must), farther from the desk than the one nearest it (the
        back of the line: where a line bends, the person farthest from the desk need not be its back), with no visit
        lost in the last ``relink_s`` more than a step (``relink_px``) farther from the desk than that one, within
        walking reach of it (as :meth:`_walking_up` reaches for a walker lost that long).

        Nobody stands there: it is someone walking in, whom the tracker gave a new id on the way (people walking in
        file, each reaching where the one ahead was), not an id switch in the line; unless a visit was lost on the
        way in just now (the walker's own, under their previous id; someone hidden in the line is no walker).
        False before the desk was seen.
        """
        if self._desk_xy is None:
            return False
        desk = self._desk_xy
        others = [p for p in line if p != xy]
        if not others:
            return False
        # (two steps from everyone in it, beyond the nearest of them: where a line that bends stands farther out)
        nearest = min(others, key=lambda p: math.dist(p, xy))
        back = math.dist(nearest, desk)  # (where the line's back stands from the desk)
        if math.dist(nearest, xy) <= 2.0 * self.relink_px or back >= math.dist(xy, desk):
            return False
        return not self._walker_lost_near(xy, t, beyond=back + self.relink_px)

    def _born_amid(self, xy: tuple[float, float], line: list[tuple[float, float]]) -> bool:
        """Whether a track first seen out of both zones at ``xy`` was born amid the line (``line``: where people stand
        in it now), so that stepping into it is no walk in.

        A newcomer is first seen on their way to the line, and joins it at its back. In an oblique view the person
        behind someone is half hidden by them, and the detector may box only their head and shoulders: the box ends
        above the zone, its foot point out of both zones, and on the next detection the box reaches down into the
        line. A track first seen out of the zones within ``relink_px`` of someone in line, nearer the desk than the
        line's back by more than ``relink_px`` (as :meth:`_cuts_in` measures), is such a person already there.
        """
        return any(math.dist(xy, p) <= self.relink_px for p in line) and self._ahead_of_back(xy, line)

    def _jumped_onto_someone(self, info: _Track, xy: tuple[float, float]) -> bool:
        """Whether a track stepping into the line at ``xy`` jumped there onto someone seen in line now.

        A newcomer walks into the line: between two detections they cover at most one detection period's walk
        (``2 * relink_px``, see :meth:`_walking_up`). A track that comes further than that in one step, and lands on
        someone already in line (closer than ``_apart_px``: one person, see :data:`APART`), is an id from elsewhere
        (a passer-by's, out of the zones) that the tracker moved onto that person: not someone seen walking in. Its
        visit is not counted in the line's count by place either, nor given a start there (:meth:`_reconcile`),
        unless it carries on someone lost (:meth:`_merge_lost`): the person under it is counted already, and the id
        drifts aside of them as the tracker follows both (the clerk's id, behind the desk, most often).
        """
        if not self._leapt_here(info, xy):
            return False
        return sum(math.dist(xy, p) < self._apart_px for p in self._line_now) > 1  # (xy itself is one of them)

    @staticmethod
    def _walked_in(info: _Track) -> bool:
        """Whether a track entering the line is a newcomer seen walking in: seen out of both zones first, carrying
        on a track lost on its way to the line (:meth:`_walking_up`), or first seen two steps beyond the line's back
        (:meth:`_behind_back`); not someone coming from the desk (served, walking off across the line's zone)."""
        return (
            info.outside or (not info.born_in_line and not info.lined) or info.walked_up or info.behind
        ) and not info.desk

    def _split_pairs(self, t: float, dt: float, rows: list[tuple[int, tuple[float, float], bool, bool]]) -> None:
        """Give a visit's newer track its own visit once it has been seen beside the older one ``duplicate_s``.

        Not while the two are one person (:meth:`_one_person`), nor while either is one person with someone else's
        track in line: the detector sometimes draws a box over the one in front and the top of the one behind,
        its feet on the front person's row half a body aside; the id of the one behind follows it, and their legs
        are boxed under a new id. That is a second box of the neighbour, and the two ids are one person.
        """
        seen = {tid: (xy, q) for tid, xy, q, _ in rows}
        for visit in list(self._visits):
            for tid in list(visit.together):
                others = [seen[o][0] for o in visit.tracks if o != tid and o in seen]
                if tid not in seen or not others:
                    continue
                xy = seen[tid][0]
                if any(self._one_person(xy, o) for o in others):
                    continue  # overlapping: one person in two boxes, not two people
                theirs = self._others_in_line(visit, seen)
                if any(self._one_person(mine, there) for mine in [xy, *others] for there in theirs):
                    continue  # one of the two is a second box of a neighbour: one person beside them, not two
                if seen[tid][1] and self._straddles(xy, others, theirs):
                    continue  # a box on the gap between two people in line: not seen apart from them
                if self._leapt_apart(visit, t):
                    continue  # an id that leapt off them onto someone passing: not a second person beside them
                visit.together[tid] += dt
                if visit.together[tid] + 1e-9 < self.duplicate_s:
                    continue
                xy, q = seen[tid]
                self._spin_off(visit, tid, xy, q, t)

    def _kept_pace(self, info: _Track, xy: tuple[float, float]) -> bool:
        """Whether a track's move to ``xy`` carries on its last move (ends within ``relink_px / 2`` of where that move,
        made again, would take it): a walker striding out, not an id that leapt (composite across view, rush-x-s7
        107.3 s: a pair walking in, the second taking 44 px steps at 2 Hz, ``relink_px`` 43.2, was held as one
        person for 4 s, and a `pile_up` came 5.4 s late)."""
        if info.came_from is None:
            return False
        ahead = (2.0 * info.xy[0] - info.came_from[0], 2.0 * info.xy[1] - info.came_from[1])
        return math.dist(xy, ahead) <= 0.5 * self.relink_px

    def _leapt_apart(self, visit: Visit, t: float) -> bool:
        """Whether a track of ``visit`` leapt (farther than ``relink_px`` between two sightings) within ``relink_s``,
        or ever leapt onto someone standing in line (a move longer than :data:`_JUMP_STEP` ``* relink_px``, to
        within ``relink_px / 2`` of their box: ``landed``; someone walking up close behind a person in line moves a
        walking step, about ``relink_px``, between two detections).

        Two boxes on one person that come apart by a leap are an id switch (the id jumped onto someone passing by),
        not two people who came in together: those drift apart at a person's pace. An id that landed on someone in
        line is a second box of theirs from then on, and the visit's person is the one under the other id: the two
        ids come apart whenever that neighbour's own box strays (busy scene, seed offset 10000, 231.3 s: split off
        once the leap was ``relink_s`` old, a start too many for 190 s).
        """
        return any(
            (info := self._tracks.get(tid)) is not None and (t - info.leapt <= self.relink_s or info.landed)
            for tid in visit.tracks
        )

    def _others_in_line(
        self, visit: Visit, seen: dict[int, tuple[tuple[float, float], bool]]
    ) -> list[tuple[float, float]]:
        """Where the tracks of every visit but ``visit`` are seen in the queue zone on this frame."""
        return [
            seen[tid][0]
            for other in self._visits
            if other is not visit
            for tid in other.tracks
            if tid in seen and seen[tid][1]
        ]

    def _straddles(
        self, xy: tuple[float, float], mine: list[tuple[float, float]], theirs: list[tuple[float, float]]
    ) -> bool:
        """Whether a box at ``xy`` lies between a box of its visit (``mine``) and someone else's in the queue zone
        now (``theirs``): nearer to each of them than they are to each other, the two no farther apart than
        ``relink_px`` (neighbours in line, with no room for a third person between them).

        The detector sometimes draws a box over the gap between two people standing close; the tracker gives it
        an id beside one of them, and split off as a person it would add a second start (:meth:`_spin_off`). The
        neighbour need not hold a start of their own: someone found again under a new id stands there all the
        same, their start held in the ledger from before (see :meth:`_unseen_here`).
        """
        return any(
            (gap := math.dist(here, there)) <= self.relink_px and max(math.dist(xy, here), math.dist(xy, there)) < gap
            for here, there in itertools.product(mine, theirs)
        )

    def _leapt_off(
        self, tid: int, info: _Track, xy: tuple[float, float], rows: list[tuple[int, tuple[float, float], bool, bool]]
    ) -> bool:
        """Whether track ``tid`` of a visit leapt onto someone else: from where it was last seen to ``xy``, more than
        ``2 * relink_px`` away, while another track of its visit is seen in line on this frame at least ``relink_px``
        from ``xy`` (the visit's person is still where they were). The tracker gave a lost id to a newcomer: the track
        leaves its visit and is taken as first seen now, the newcomer's own (composite across view, rush-x-s13 139.8
        s: an id lost on someone standing in line came back 180 px on, on someone walking in at the back, and that
        person went uncounted for 56 s). A shorter leap, half a body onto someone passing, most often comes back
        (see :meth:`_leapt_apart`)."""
        visit = self._owner.get(tid)
        if visit is None or math.dist(xy, info.xy) <= 2.0 * self.relink_px:
            return False
        return any(
            other != tid and other in visit.tracks and q and math.dist(p, xy) >= self.relink_px
            for other, p, q, _ in rows
        )

    def _spin_off(self, visit: Visit, tid: int, xy: tuple[float, float], in_line: bool, t: float) -> Visit:
        """Move track ``tid`` out of ``visit`` into a visit of its own.

        A track born within ``relink_s`` of the visit's start is someone who came in with that person: same start.
        One born later is someone the detector missed until then (e.g. merged with a neighbour; hard scene, seed
        offset 11000, 95.3 s: someone hidden in line, found beside a walker 4.5 s after the walker's start, was lent
        it while ``2 * relink_s`` was the limit): their start is not
        known better than their track's first sighting, so the neighbour's start is not lent to them, and it is
        added only when the line shows more people than the ledger holds starts for (:meth:`_reconcile`, which
        adds the ones found last first): most often the ledger counted them already (seen walking in, then hidden
        behind the one in front). One who came
        with a person whose start is not in the ledger (both found in the line, e.g. two walkers given new ids
        together) adds none: the ledger adds starts for people it sees in line and holds too few for (see
        :meth:`_reconcile`), and they were most often counted there under their earlier ids.
        """
        visit.tracks.discard(tid)
        visit.together.pop(tid, None)
        assert self._first_t is not None
        info = self._tracks.get(tid)
        born = info.first if info is not None else t
        came_together = born - visit.enter <= self.relink_s
        twin = Visit(
            enter=visit.enter if came_together else born,
            last_in=t if in_line else visit.last_in,
            last_seen=t,
            last_xy=xy,
            in_line_xy=xy if in_line else visit.in_line_xy,
            censored=visit.censored if came_together else born - self._first_t < self.warmup_s,
            tracks={tid},
            born_xy=xy,
            walked_in=visit.walked_in,
        )
        self._visits.append(twin)
        self._owner[tid] = twin
        unseen = None if came_together else self._unseen_here(xy)
        if unseen is not None:  # someone lost there, whose start is in the ledger already
            twin.enter, twin.censored, twin.ledgered = unseen.enter, unseen.censored, True
        elif visit.ledgered and came_together:
            # a second person; one who walked in beside them (first seen within duplicate_s of them, both walking
            # in) is as well known as they are: a start seen walking in, kept when the ledger is trimmed
            self._ledger_add(twin, seen=visit.walked_in and born - visit.enter <= self.duplicate_s + 1e-9)
            if len(self._ledger) > max(self._floor, self._apart(self._lined(t))):
                # (the ledger counted the second already, from a start found for someone in line while the two
                # walked in under changing ids: that found start goes; composite across view, rush-x-s13 219.3 s)
                self._trim(False)
        return twin

    def _remember_unseen(
        self, enter: float, censored: bool, xy: tuple[float, float], lost_at: float | None = None
    ) -> None:
        """Note a person in line without an id whose start the ledger holds; forget those whose start it no longer
        holds (served, trimmed), so the list stays as short as the line on a camera that runs for months."""
        self._prune_unseen()
        t = self._prev_t if self._prev_t is not None else enter
        when = t if lost_at is None else lost_at  # (where the others stood then)
        others = [
            (v, _place_at(v, when)) for v in self._visits if v.trail and v.trail[0][0] <= when and v.in_line_xy != xy
        ]
        self._unseen.append(_Unseen(enter, censored, xy, when, others))

    def _prune_unseen(self) -> None:
        held = {entry[0] for entry in self._ledger}
        self._unseen = [u for u in self._unseen if u.enter in held]

    def side_by_side(self) -> bool:
        """Whether people in line stand side by side with floor between them: the line runs across the picture
        (:meth:`_runs_across`) and the desk zone is not thin (where the line runs towards the camera, or the view is
        that far, the one in front hides the one behind)."""
        return not self.thin_zone and self._runs_across()

    def _runs_across(self) -> bool:
        """Whether the line seen now runs across the picture: from where someone was last seen at the desk to its far
        end, within 30 degrees of the picture's rows (people in it stand side by side, not one behind the other)."""
        ends = self._line_ends()
        if ends is None:
            return False
        (dx, dy), (fx, fy) = ends
        return abs(fy - dy) <= _ACROSS_SLOPE * abs(fx - dx)

    def _line_ends(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """Where someone was last seen at the desk, and the line's far end now (the place in line furthest from it);
        ``None`` before anyone was seen at the desk or with nobody in line."""
        if self._desk_xy is None or not self._line_now:
            return None
        desk = self._desk_xy
        return desk, max(self._line_now, key=lambda p: math.dist(p, desk))

    def _left_unseen(self, t: float, people: int) -> None:
        """Take away the start of someone lost for good from the line (see :meth:`_unseen_here`) once someone else
        has stood in their place for ``relink_s``, with nobody served since ``relink_s`` before they were lost: the
        line does not move up with nobody served, so they left it unseen (composite across view, rush-x-s5 183.3 s:
        someone walking off behind the line, lost, and the people behind them stepping up one place; the line was
        counted one long for twenty seconds). An arrival at the desk may be counted a moment before the one stepping
        up leaves the line, and the line still moves up after it (crowd-x-s3 197.3 s).

        Someone else: a visit that stood in line, at least ``relink_px`` from that place, when they were lost (not
        someone who walked in since), and stands within ``relink_px`` of it now. Only while fewer people are seen in
        line than the ledger holds, and only where the line runs across the picture (:meth:`_runs_across`): where it
        runs towards the camera people in line hide each other for long, and the line shuffles up under boxes that
        merge and split (our renderer's tight scene, seed offset 0: with that view the rule took away the starts of
        people hidden in line, MAE 0.017 -> 0.754); nor where the zone is thin. ``people``: those seen in line now, by
        place (:meth:`_apart`).
        """
        if len(self._ledger) <= people or not self.side_by_side():
            return
        self._prune_unseen()
        for u in [u for u in self._unseen if u.others]:
            if self._last_served >= u.lost_at - self.relink_s:
                u.others = []  # (the line moved up since, or was still moving up: the places say nothing)
                continue
            filled = any(
                other in self._visits
                and other.last_in >= t
                and math.dist(was, u.xy) >= self.relink_px
                and math.dist(other.in_line_xy, u.xy) < self.relink_px
                for other, was in u.others
            )
            if not filled:
                u.filled_since = None
            elif u.filled_since is None:
                u.filled_since = t
            elif t - u.filled_since >= self.relink_s:
                self._unseen.remove(u)
                self._unledger(u.enter)

    def _unseen_here(self, xy: tuple[float, float]) -> _Unseen | None:
        """The person lost for good near ``xy`` whose start the ledger still holds, if any (taken off the list).

        A person the detector misses for longer than ``relink_s`` loses their visit, but not their start: nobody
        saw them leave. Found again later where they stood, their new id comes up beside their neighbour and is
        split off as a second person (:meth:`_spin_off`); within ``relink_px`` of where a lost person was last seen
        in line, and while the ledger still holds that person's start, it is them, and adds no start. The front of
        the line whose id moved onto the one just served (an arrival within ``duplicate_serve_s``, not counted) is
        such a person too, holding the earliest start, and so is the one in line whose id the leaver walked off
        with (:meth:`arrived`).
        """
        self._prune_unseen()
        near = [(math.dist(xy, u.xy), k) for k, u in enumerate(self._unseen)]
        d, k = min(near, default=(math.inf, -1))
        return self._unseen.pop(k) if d <= self.relink_px else None

    def _close(self, visit: Visit, t: float, serving: int | None = None) -> None:
        """End ``visit``; a second person still in line beside the one served keeps waiting on a visit of their own."""
        self._visits.remove(visit)
        for tid in list(visit.tracks):
            info = self._tracks.get(tid)
            if serving is not None and info is not None and self._beside(info, serving, t, tid in visit.together):
                self._spin_off(visit, tid, info.xy, True, t)
                continue
            self._owner.pop(tid, None)
            self._retired.add(tid)

    def _beside(self, info: _Track, serving: int, t: float, paired: bool) -> bool:
        """Whether a track of a served visit is a second person still in line (not a duplicate box)."""
        here = self._tracks[serving].xy
        apart = math.dist(info.xy, here) >= self._apart_px
        return paired and apart and info.last >= t and info.in_line

    def _forget_lost_tracks(self, t: float) -> None:
        for tid in [tid for tid, info in self._tracks.items() if t - info.last > self.relink_s]:
            self._forget_track(tid)

    def _forget_track(self, tid: int) -> None:
        """Forget track ``tid`` and take it out of its visit: seen again, it is a new track."""
        del self._tracks[tid]
        self._retired.discard(tid)
        visit = self._owner.pop(tid, None)
        if visit is not None:
            visit.tracks.discard(tid)
            visit.together.pop(tid, None)
            if len(visit.tracks) <= 1:
                visit.together.clear()

    def _merge_lost(self, lost: Visit) -> bool:
        """Hand a lost visit's start to a visit that began inside the line near it meanwhile (a late-caught switch)."""
        best: tuple[float, Visit | None] = (math.inf, None)
        for visit in self._visits:
            if visit is lost or visit.walked_in or not lost.enter <= visit.enter <= lost.last_seen + self.relink_s:
                continue
            d = math.dist(visit.born_xy, lost.last_xy)
            if (d <= 2.0 * self.relink_px or self.fifo) and d < best[0]:
                best = (d, visit)
        if best[1] is None:
            return False
        visit = best[1]
        if self._one_start_too_many(visit, lost):  # (the later of the two: the one person holds the lost visit's)
            self._unledger(visit.enter, left=False)
        visit.enter, visit.censored = lost.enter, lost.censored
        visit.jumped = False  # (carrying on someone lost: a person of the line's own)
        self._close(lost, lost.last_seen)
        return True

    def _left_unledgered(self, visit: Visit, t: float) -> bool:
        """Whether ``visit``, which holds no start of its own, walking out of the line takes one away: its person
        stood in line for ``2 * relink_s`` (someone, not a second box or a passing walker), came neither from the
        desk nor by an id jump, is seen at least ``relink_px`` from where they last stood in line (walking off: our
        renderer's busy scene, seed offset 1000, 171.3 s, a foot point 2 px out of the zone's edge, MAE 0.028 ->
        0.641 without that limit), and the ledger holds more starts than the people seen in line without them. The
        ledger counts people, not visits: its starts may sit with other visits of the line (ids traded, starts
        handed on), and the one who leaves takes one with them (composite across view, rush-x-s5 270.7 s: someone
        who had stood in line two minutes gave up and walked off; the line read one long to the end)."""
        if visit.from_desk or visit.jumped or visit.last_in - visit.enter < 2.0 * self.relink_s:
            return False
        if not self._off_its_place(visit):
            return False
        others = [v.in_line_xy for v in self._visits if v is not visit and v.last_in >= t and not v.from_desk]
        return self._more_starts_than(others)

    def _one_start_too_many(self, visit: Visit, lost: Visit) -> bool:
        """Whether ``visit``, handed ``lost``'s start, leaves a start of its own in the ledger for nobody: both held
        one, ``visit``'s person is seen in line now (one person, where there were two visits), and the ledger holds
        more starts than the people seen in line (composite across view, rush-x-s5 95.8 s: a box drawn amid a pair
        walking in was counted as someone found in line, then taken for one of the pair, lost; the line read one
        long for ten seconds and a `pile_up` came 15 s early). Not when ``visit``'s person is lost too: people hidden
        in line keep their starts."""
        return (
            visit.ledgered
            and lost.ledgered
            and self._prev_t is not None
            and visit.last_in >= self._prev_t
            and self._more_starts_than(self._line_now)
        )

    def _more_starts_than(self, places: list[tuple[float, float]]) -> bool:
        """Whether the ledger holds more starts than the people at ``places`` (by :meth:`_apart`)."""
        return len(self._ledger) > self._apart(places)


def _place_at(visit: Visit, t: float) -> tuple[float, float]:
    """Where ``visit`` stood in line at ``t`` (by its trail; its oldest place kept when ``t`` is older)."""
    place = visit.trail[0][1]
    for when, xy in visit.trail:
        if when > t:
            break
        place = xy
    return place


def _to_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance from ``p`` to the segment from ``a`` to ``b``, pixels."""
    ax, ay = b[0] - a[0], b[1] - a[1]
    length2 = ax * ax + ay * ay
    k = 0.0 if length2 == 0.0 else min(max(((p[0] - a[0]) * ax + (p[1] - a[1]) * ay) / length2, 0.0), 1.0)
    return math.dist(p, (a[0] + k * ax, a[1] + k * ay))


def _ahead_of(desk: tuple[float, float], far: tuple[float, float], xy: tuple[float, float]) -> bool:
    """Whether ``xy`` lies past ``far`` on the way from ``desk`` to ``far``, more past it than off to its side (within
    45 degrees of the line's direction there)."""
    dx, dy = far[0] - desk[0], far[1] - desk[1]
    vx, vy = xy[0] - far[0], xy[1] - far[1]
    along = vx * dx + vy * dy
    across = abs(vx * dy - vy * dx)
    return along > 0.0 and along >= across
