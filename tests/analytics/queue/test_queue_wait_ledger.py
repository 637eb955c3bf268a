"""The line's ledger of starts (WaitTracker with desk arrivals): which starts it keeps, and which it never takes."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from kedirivms.analytics.queue.waits import FinishedVisit, WaitTracker

Row = tuple[int, tuple[float, float], str]  # track, centre, "line" / "spot" / "out"


def _feed(waits: WaitTracker, t: float, rows: list[Row], seated: set[int] | None = None) -> list[FinishedVisit]:
    """One frame of ``rows``; with ``seated``, those tracks are in the counter zone (the rest are not)."""
    ids = np.array([r[0] for r in rows], dtype=int)
    centres = np.array([r[1] for r in rows], dtype=float).reshape(-1, 2)
    in_queue = np.array([r[2] == "line" for r in rows], dtype=bool)
    in_service = np.array([r[2] == "spot" for r in rows], dtype=bool)
    at_counter = None if seated is None else np.array([r[0] in seated for r in rows], dtype=bool)
    return waits.update(t, ids, centres, in_queue, in_service, at_counter=at_counter)


def _down(rows: list[Row]) -> list[Row]:
    """``rows`` in a line running down the picture (x and y swapped: the same distances), not across it."""
    return [(tid, (y, x), kind) for tid, (x, y), kind in rows]


def _served(done: list[FinishedVisit | None]) -> list[float]:
    return [round(v.wait_s, 3) for v in done if v is not None and v.served and not v.censored]


def _waits_of(
    rows_at: Callable[[float], list[Row]], until: float, arrivals: tuple[float, ...], relink_px: float
) -> list[float]:
    """Feed the rows of each 0.5 s up to ``until`` to a tracker with desk arrivals, one arrival at each of
    ``arrivals``: the served waits."""
    waits = WaitTracker(relink_px=relink_px, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, until, 0.5):
        t = float(t)
        done += _feed(waits, t, rows_at(t))
        if t in arrivals:
            done.append(waits.arrived(t))
    return _served(done)


def _feed_and_serve(
    waits: WaitTracker,
    t: float,
    rows: list[Row],
    done: list[FinishedVisit | None],
    in_line: int,
    arrivals: tuple[float, ...],
) -> None:
    """Feed one frame; at 15 s check that the line holds ``in_line``; report an arrival at each of ``arrivals``."""
    done += _feed(waits, t, rows)
    if t == 15.0:
        assert waits.waiting(t) == in_line
    if t in arrivals:
        done.append(waits.arrived(t))


def _walking_in(
    t: float, tid: int, start: float, until: float, line: tuple[float, float], out: tuple[float, float]
) -> list[Row]:
    """Track ``tid``'s row at ``t``: out of both zones at ``out`` for the half second before ``start``, then in line at
    ``line`` until ``until`` (someone seen walking in), else none."""
    if start - 0.5 <= t < start:
        return [(tid, out, "out")]
    return [(tid, line, "line")] if start <= t < until else []


def test_starts_seen_walking_in_are_kept_while_their_people_share_one_box() -> None:
    """Four people walk into the line one by one; then the three behind the first stand so close to the one in front
    that the detector sees one box for a minute. Their starts stay in the ledger: each arrival at the desk takes
    its own person's start (the old ledger trimmed the latest two, and the last two waits came out censored)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    starts = {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0}
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 90.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        for tid, start in starts.items():
            x = 40.0 * tid
            if start - 0.5 <= t < start:
                rows.append((tid, (x, 100.0), "out"))  # walking up to the line
            elif t >= start and (tid == 1 or t < 6.0):
                rows.append((tid, (x, 60.0), "line"))  # from 6 s only the first one's box is seen
        done += _feed(waits, t, rows)
        for k, at in enumerate((30.0, 45.0, 60.0, 75.0)):
            if t == at:
                done.append(waits.arrived(t, track=1 if k == 0 else None))
    assert _served(done) == [29.0, 43.0, 57.0, 71.0]


def test_starts_seen_walking_in_are_still_dropped_when_nobody_is_in_line() -> None:
    """Three people seen walking in, then nobody in line at all (they left unseen): the ledger drops the latest
    starts down to the one it always tolerates (someone hidden), as it did before starts were told apart."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    held = []
    for t in np.arange(0.0, 60.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        for tid, start in ((1, 1.0), (2, 2.0), (3, 3.0)):
            if start - 0.5 <= t < start:
                rows.append((tid, (40.0 * tid, 100.0), "out"))
            elif start <= t < 5.0:
                rows.append((tid, (40.0 * tid, 60.0), "line"))
        _feed(waits, t, rows)
        held.append(len(waits._ledger))
    assert max(held) == 3
    assert [entry[0] for entry in waits._ledger] == [1.0]


@pytest.mark.parametrize("served_as", ["own track at the spot", "leaver reported by the desk"])
def test_a_served_person_crossing_the_line_on_the_way_out_starts_no_wait(served_as: str) -> None:
    """A is served at 10 s and walks off past the line, crossing the queue zone where they are lost (hidden behind
    the people in line). B and C, seen walking in at 2 s and 20 s, keep their own starts: the crossing is no one
    joining the line (the old code took it for a newcomer, and C's wait came out 5 s short)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 60.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        if t < 1.0:
            rows.append((7, (50.0, 100.0), "out"))
        elif t < 10.0:
            rows.append((7, (50.0, 60.0), "line"))
        elif t < 12.0:
            if served_as == "own track at the spot":
                rows.append((7, (50.0, 20.0), "spot"))
        elif t < 14.0:
            rows.append((7, (300.0, 100.0), "out"))  # walking off
        elif t < 16.0:
            rows.append((7, (300.0, 60.0), "line"))  # across the line's zone, then lost
        for tid, start, x, at in ((8, 2.0, 100.0, 30.0), (9, 20.0, 150.0, 50.0)):
            if start - 0.5 <= t < start:
                rows.append((tid, (x, 100.0), "out"))
            elif start <= t < at:
                rows.append((tid, (x, 60.0), "line"))
            elif at <= t < at + 2.0:
                rows.append((tid, (x, 20.0), "spot"))
        done += _feed(waits, t, rows)
        if t == 10.0:
            own = served_as == "own track at the spot"
            done.append(waits.arrived(t, track=7) if own else waits.arrived(t, leaver=7))
        if t in (30.0, 50.0):
            done.append(waits.arrived(t, track=8 if t == 30.0 else 9))
    assert _served(done) == [9.0, 28.0, 30.0]


def test_starts_found_in_the_line_are_kept_while_its_people_share_one_box() -> None:
    """Three people are first found in the middle of the line (no one saw them walk in: their starts are inferred)
    and seen there at once; then the two behind stand so close to the front one that only one box is seen for a
    minute. Nobody left the line, so it still holds three: their starts stay (the old ledger trimmed the latest
    while fewer were seen, and the last wait came out censored)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 70.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        for tid, start in ((1, 1.0), (2, 2.0), (3, 3.0)):
            if t >= start and (tid == 1 or t < 6.0):
                rows.append((tid, (40.0 * tid, 60.0), "line"))
        done += _feed(waits, t, rows)
        for k, at in enumerate((30.0, 45.0, 60.0)):
            if t == at:
                done.append(waits.arrived(t, track=1 if k == 0 else None))
    assert _served(done) == [29.0, 43.0, 57.0]


def test_someone_walking_in_under_a_new_id_is_a_start_seen_walking_in() -> None:
    """B walks up, and the tracker gives them a new id on reaching the line (at 2 Hz a walker moves a box's width
    between detections): track 2 seen out of the zones at 9.5 s, track 3 born in the line 30 px on at 10 s. B was
    seen walking in: their start is in the ledger as such (kept when the ledger is trimmed; the old code took track
    3 for an id switch in the middle of the line, an inferred start, trimmed first). A track born in the line with
    nobody lost near it on the way in stays inferred."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 20.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        if t == 9.5:
            rows.append((2, (100.0, 100.0), "out"))
        elif t >= 10.0:
            rows.append((3, (100.0, 70.0), "line"))
        if t >= 12.0:
            rows.append((4, (200.0, 70.0), "line"))  # found in the line, nobody seen walking up to it
        done += _feed(waits, t, rows)
    assert waits._ledger == [(10.0, False, True), (12.0, False, False)]
    done.append(waits.arrived(20.0, track=None))
    assert _served(done) == [10.0]


@pytest.mark.parametrize("left", [True, False])
def test_someone_first_seen_at_the_spot_as_the_one_served_left_it_stepped_up_from_the_line(left: bool) -> None:
    """B waits in line from 2 s, hidden in the box of C in front of them from 10 s; A, served, walks off the spot at
    20 s, and B is first seen on their own at the spot at 20.5 s (a new track): B stepped up from the line and their
    wait ends (the old code took a track never seen in the line for someone who walked straight up to the desk and
    ended no wait). With nobody leaving the spot, a new id seen there is nobody's arrival."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 30.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        if t < 20.0 or not left:
            rows.append((1, (50.0, 20.0), "spot"))  # A, being served
        else:
            rows.append((1, (10.0, 30.0), "out"))  # walking off
        if t == 1.5:
            rows.append((2, (90.0, 100.0), "out"))
        elif 2.0 <= t < 10.0:
            rows.append((2, (90.0, 60.0), "line"))
        if t == 3.5:
            rows.append((4, (120.0, 100.0), "out"))
        elif t >= 4.0:
            rows.append((4, (60.0, 60.0), "line"))  # C, in front of whom B is hidden from 10 s
        if t >= 20.5:
            rows.append((5, (52.0, 22.0), "spot"))
        done += _feed(waits, t, rows)
        if t == 20.5:
            done.append(waits.arrived(t, track=5))
    assert _served(done) == ([18.5] if left else [])


@pytest.mark.parametrize("empty", [True, False])
def test_someone_first_seen_at_a_spot_empty_since_the_one_served_left_stepped_up_from_the_line(empty: bool) -> None:
    """As above, but B gets no box at all for 7 s after stepping up (a small person at the spot): first seen at 27 s,
    at a spot nobody was seen at since A walked off at 20 s, while B's start is in the ledger. B stepped up from the
    line and their wait ends (the old code gave a hidden person ``relink_s`` after the spot was left, and took the
    late first box for someone who walked straight up to the desk: hard +9000's missed arrival at 436.8 s). With
    someone seen at the spot meanwhile (a passer-by crossing it), a new id there is nobody's arrival."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 35.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        if t < 20.0:
            rows.append((1, (50.0, 20.0), "spot"))  # A, being served
        elif t < 22.0:
            rows.append((1, (10.0 - 3.0 * (t - 20.0), 30.0), "out"))  # walking off, then gone
        if t == 1.5:
            rows.append((2, (90.0, 100.0), "out"))
        elif 2.0 <= t < 10.0:
            rows.append((2, (90.0, 60.0), "line"))
        if t == 3.5:
            rows.append((4, (120.0, 100.0), "out"))
        elif t >= 4.0:
            rows.append((4, (60.0, 60.0), "line"))  # C, in front of whom B is hidden from 10 s
        if not empty and t == 24.0:
            rows.append((6, (48.0, 24.0), "spot"))  # someone crossing the spot
        if t >= 27.0:
            rows.append((5, (52.0, 22.0), "spot"))
        done += _feed(waits, t, rows)
        if t == 27.0:
            done.append(waits.arrived(t, track=5))
    assert _served(done) == ([25.0] if empty else [])


def test_boxes_of_one_person_do_not_hold_spurious_starts_in_the_ledger() -> None:
    """Five people walk in; two of them are seen as two boxes on top of each other (a duplicate box) all along, and
    twice a box split off a person in the middle of the line adds an inferred start (while someone else is hidden).
    The people seen in line at once are counted by place, not by box or id: the duplicates do not hold the line's
    count up, so the split boxes' starts are trimmed and the last visitor takes their own start (the old count, one
    per box, kept them, and the fifth visitor waited from the first split)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    people = {1: (1.0, 40.0), 2: (2.0, 80.0), 3: (3.0, 120.0), 4: (6.0, 160.0), 5: (50.0, 163.0)}
    served_at = {1: 70.0, 2: 80.0, 3: 90.0, 4: 100.0, 5: 110.0}
    hidden = [(14.0, 17.0), (24.0, 27.0)]  # person 1 unseen while a split box shows up elsewhere
    splits = {21: (15.0, 130.0), 22: (25.0, 90.0)}  # a box split off person 3, then off person 2, for 1.5 s
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 115.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        for tid, (start, x) in people.items():
            if start - 0.5 <= t < start:
                rows.append((tid, (x, 100.0), "out"))
            elif start <= t < served_at[tid]:
                if tid == 1 and any(a <= t < b for a, b in hidden):
                    continue
                rows.append((tid, (x, 60.0), "line"))
                if tid in (1, 2) and t >= 5.0:
                    rows.append((10 + tid, (x + 2.0, 60.0), "line"))  # a duplicate box of the same person
        for tid, (at, x) in splits.items():
            if at <= t <= at + 1.5:
                rows.append((tid, (x, 60.0), "line"))
        done += _feed(waits, t, rows)
        if t in served_at.values():
            done.append(waits.arrived(t))
    assert _served(done) == [69.0, 78.0, 87.0, 94.0, 60.0]


def test_someone_missed_for_a_while_and_found_again_where_they_stood_adds_no_start() -> None:
    """Two people wait; the detector misses the first for ten seconds (their visit is lost for good, their start
    stays: nobody saw them leave), then finds them again where they stood, under a new id beside the second, who is
    split off as a second person. It is the one lost there, whose start the ledger holds: a third person walking in
    later waits from their own start (the old ledger added the new id's start, and the third took it)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 75.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        for tid, start, x, end in ((1, 1.0, 40.0, 50.0), (2, 2.0, 58.0, 60.0), (3, 30.0, 100.0, 70.0)):
            if start - 0.5 <= t < start:
                rows.append((tid, (x, 100.0), "out"))
            elif start <= t < end and not (tid == 1 and t >= 10.0):
                rows.append((tid, (x, 60.0), "line"))
        if 20.0 <= t < 50.0:
            rows.append((11, (41.0, 60.0), "line"))  # the first person, found again
        done += _feed(waits, t, rows)
        if t in (50.0, 60.0, 70.0):
            done.append(waits.arrived(t))
    assert _served(done) == [49.0, 58.0, 40.0]


def test_the_front_of_the_line_found_again_after_its_id_moved_onto_the_one_just_served() -> None:
    """The one at the front of the line loses their id to the one just served (a second arrival at the desk within
    ``duplicate_serve_s``, not counted); they are found again where they stood under a new id beside the next in
    line, split off as a second person. They are the front of the line, whose start the ledger holds: a newcomer
    walking in later waits from their own start (the old ledger added the new id's start, and the newcomer took
    it)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    people = {1: (1.0, 22.0, 19.0), 2: (2.0, 40.0, 20.0), 3: (3.0, 58.0, 60.0), 4: (40.0, 100.0, 70.0)}
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 75.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        for tid, (start, x, end) in people.items():
            if start - 0.5 <= t < start:
                rows.append((tid, (x, 100.0), "out"))
            elif start <= t < end:
                rows.append((tid, (x, 60.0), "line"))
            elif tid != 2 and end <= t < end + 2.0 or tid == 2 and end <= t < 45.0:
                rows.append((tid, (30.0, 30.0), "spot"))  # from 20 s: the front person's id on the one served
        if 30.0 <= t < 50.0:
            rows.append((11, (41.0, 60.0), "line"))  # the front person, found again
        elif 50.0 <= t < 52.0:
            rows.append((11, (30.0, 30.0), "spot"))
        done += _feed(waits, t, rows)
        if t in (19.0, 20.0, 50.0, 60.0, 70.0):
            done.append(waits.arrived(t, track=2 if t == 20.0 else None))
    assert _served(done) == [18.0, 48.0, 57.0, 30.0]


@pytest.mark.parametrize(
    ("front", "taken"),
    [
        pytest.param(1.0, 2.0, id="the-front-holds-the-earliest-start"),
        # ids and starts cross in a crowded line: the one whose id the leaver took holds the earliest start, which
        # the one stepping up takes; the person still in line stands on the next start (the old ledger forgot them
        # at once, their own start gone, and added the new id's start: the newcomer waited 49.5 s instead of 30 s)
        pytest.param(2.0, 1.0, id="the-taken-id-holds-the-earliest-start"),
    ],
)
def test_someone_in_line_whose_id_the_leaver_took_and_found_again_adds_no_start(front: float, taken: float) -> None:
    """The one served walks off under the id of someone still in line (the desk reports that id as the leaver) while
    the front of the line steps up. The one whose id was taken is found again where they stood under a new id
    beside the next in line, split off as a second person: their start is in the ledger already, so a newcomer
    walking in later waits from their own start (the old ledger added the new id's start, and the newcomer took
    it)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    people = {1: (front, 40.0, 20.0), 2: (taken, 58.0, 20.0), 3: (3.0, 76.0, 60.0), 4: (40.0, 120.0, 70.0)}
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 75.0, 0.5):
        t = float(t)
        rows: list[Row] = [(9, (30.0, 30.0), "spot")] if t < 20.0 else []  # the one being served
        for tid, (start, x, end) in people.items():
            if start - 0.5 <= t < start:
                rows.append((tid, (x, 100.0), "out"))
            elif start <= t < end:
                rows.append((tid, (x, 60.0), "line"))
            elif tid == 2 and end <= t < end + 2.0:
                rows.append((tid, (10.0 - 20.0 * (t - end), 30.0), "out"))  # the one served, walking off
            elif tid != 2 and end <= t < end + 2.0:
                rows.append((tid, (30.0, 30.0), "spot"))
        if 20.5 <= t < 50.0:
            rows.append((12, (57.0, 60.0), "line"))  # the one whose id the leaver took, found again
        elif 50.0 <= t < 52.0:
            rows.append((12, (30.0, 30.0), "spot"))
        done += _feed(waits, t, rows)
        if t == 20.0:
            done.append(waits.arrived(t, track=1, leaver=2))
        if t in (50.0, 60.0, 70.0):
            done.append(waits.arrived(t))
    assert _served(done) == [19.0, 48.0, 57.0, 30.0]


def test_a_walker_seen_again_after_a_new_id_took_their_walk_can_still_be_carried_on() -> None:
    """As above, but on the way in a new id out of the line is first taken to carry on the second walker's walk, and
    then the walker is seen again (so they were not lost) before being lost for good on the next step: the new id
    that stands in the line beside the first walker still carries them on, a second start (the old ledger, and the
    rule without the walker's release, kept one start)."""
    waits = WaitTracker(relink_px=30.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 40.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        if t < 1.5:
            rows.append((1, (100.0, 110.0 - 10.0 * t), "out"))
        if t in (0.0, 1.0):
            rows.append((2, (140.0, 110.0 - 10.0 * t), "out"))  # the second walker, missed at 0.5 s
        elif t == 0.5:
            rows.append((4, (170.0, 100.0), "out"))  # a new id near them for one detection
        elif t == 1.5:
            rows += [(1, (100.0, 60.0), "line"), (3, (122.0, 66.0), "line")]
        elif 1.5 < t < 30.0:
            rows.append((3, (122.0, 66.0), "line"))  # from now on one box
        elif 30.0 <= t < 32.0:
            rows.append((3, (30.0, 30.0), "spot"))
        done += _feed(waits, t, rows)
        if t in (20.0, 30.0):
            done.append(waits.arrived(t))
    assert _served(done) == [18.5, 28.5]


@pytest.mark.parametrize("walkers", [2, 1])
def test_two_walkers_lost_on_their_way_in_and_found_beside_each_other_are_two_starts(walkers: int) -> None:
    """Two people walk up to the line side by side (both seen out of it at once); one steps in under their own id,
    the other is lost and first seen again in the line beside them under a new id, and from then on the two are one
    box. The new id carries on the second walker: a visit and a start of its own (the old ledger took it for an id
    switch of the first and kept one start: the second arrival at the desk came out with no start). One walker who
    comes into the line as two ids side by side is still one person, one start (served at 20 s, gone from the line:
    the arrival at 30 s has no start left; had they stood on in line, the 20-s arrival would have been a false one,
    see test_starts_taken_by_false_arrivals_come_back_while_their_people_stand_in_line)."""
    waits = WaitTracker(relink_px=30.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 40.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        if t < 1.0 and walkers == 2:
            rows += [(1, (100.0, 110.0 - 10.0 * t), "out"), (2, (140.0, 110.0 - 10.0 * t), "out")]
        elif t < 1.0:
            rows.append((2, (120.0, 110.0 - 10.0 * t), "out"))
        elif t == 1.0:
            rows += [(1, (100.0, 60.0), "line"), (3, (122.0, 66.0), "line")]
        elif t < 20.0 or (t < 30.0 and walkers == 2):  # (one walker: served at 20 s)
            rows.append((3, (122.0, 66.0), "line"))  # from now on one box
        elif t < 32.0 and walkers == 2:
            rows.append((3, (30.0, 30.0), "spot"))
        done += _feed(waits, t, rows)
        if t in (20.0, 30.0):
            done.append(waits.arrived(t))
    assert _served(done) == ([19.0, 29.0] if walkers == 2 else [19.0])


def test_people_lost_in_line_are_forgotten_once_their_start_is_gone() -> None:
    """A camera runs for months: each person lost in line for good is remembered (to take back their start if found
    again) only while the ledger still holds that start, so the list stays as short as the line."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for k in range(200):
        t0 = 20.0 * k
        for t in np.arange(t0, t0 + 20.0, 0.5):
            t = float(t)
            if t < t0 + 0.5:
                rows: list[Row] = [(k + 1, (40.0, 100.0), "out")]  # walking up to the line
            elif t < t0 + 5.0:
                rows = [(k + 1, (40.0, 60.0), "line")]
            else:
                rows = []  # lost in line for good (longer than relink_s)
            done += _feed(waits, t, rows)
            if t == t0 + 15.0:
                done.append(waits.arrived(t))
        assert len(waits._unseen) <= 1
    assert _served(done) == [14.5] * 199  # the first was there on the first frame: an unknown start


def test_two_people_given_new_ids_together_in_the_line_add_no_start_of_their_own() -> None:
    """B and C walk into the line together and are first seen inside it (at 2 Hz a walker's first box is often
    already in the queue zone): the ledger takes their starts from the people it sees there (20 s). At 21 s the
    tracker gives both new ids a step further on, one beside the other; the pair is split in two after
    ``duplicate_s``. The new ids are B and C again, whose starts the ledger holds: the one split off adds no start
    (the old code added a third start for two people, and D, seen walking in at 30 s, took it: a wait 9 s long)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 110.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        if t < 1.0:
            rows.append((1, (40.0, 100.0), "out"))
        elif t < 40.0:
            rows.append((1, (40.0, 60.0), "line"))  # A
        if 20.0 <= t < 21.0:
            rows += [(2, (100.0, 60.0), "line"), (3, (160.0, 60.0), "line")]  # B and C, first seen in line
        elif t >= 21.0:
            if t < 60.0:
                rows.append((4, (125.0, 60.0), "line"))  # B's new id
            if t < 80.0:
                rows.append((5, (138.0, 60.0), "line"))  # C's new id, beside B's
        if 29.5 <= t < 30.0:
            rows.append((6, (200.0, 100.0), "out"))
        elif 30.0 <= t < 100.0:
            rows.append((6, (200.0, 60.0), "line"))  # D, seen walking in
        done += _feed(waits, t, rows)
        if t in (40.0, 60.0, 80.0, 100.0):
            done.append(waits.arrived(t))
    assert _served(done) == [39.0, 40.0, 60.0, 70.0]


def test_when_the_line_shows_one_more_than_the_ledger_holds_the_one_found_last_adds_the_start() -> None:
    """A walks in at 1 s; at 10 s the tracker gives them a new id a step away, which takes A's start when the old
    visit is lost for good (its start is already in the ledger). At 30 s B is first seen in the line, not seen
    walking in: the line now shows two people and the ledger one start. B is the one it has not counted: the start
    added is B's (30 s), not the one A's new visit carries (the old code added the earliest first: A's start twice,
    and B's wait came out 29 s long)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 80.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        if t < 1.0:
            rows.append((1, (40.0, 100.0), "out"))
        elif t < 10.0:
            rows.append((1, (40.0, 60.0), "line"))  # A
        elif 10.5 <= t < 50.0:
            rows.append((2, (70.0, 60.0), "line"))  # A under a new id
        if 30.0 <= t < 70.0:
            rows.append((3, (150.0, 60.0), "line"))  # B, first seen in the line
        done += _feed(waits, t, rows)
        if t in (50.0, 70.0):
            done.append(waits.arrived(t))
    assert _served(done) == [49.0, 40.0]


@pytest.mark.parametrize("beyond", ["standing", "walking past", "beside"])
def test_someone_standing_beyond_the_far_end_steps_in_as_the_line_moves_up(beyond: str) -> None:
    """A line fuller than its zone: three people in it (seen walking in at 1, 2 and 3 s) and the next standing a step
    beyond its far end, out of the zone. At each arrival at the desk the line moves up and the one beyond steps into
    the last place; the tracker keeps the ids on the places, so nobody is seen walking in. Each move is a start:
    the fourth and fifth waits are 60 s (the old ledger ran out of starts and censored them). Someone only walking
    past beyond the far end as the line moves up is no newcomer: nobody steps in, so each move empties the last
    place (its id is seen no more). Nor is someone standing beside the far end, 35 px off to its side (up the
    picture, the line running across it) and only a step along it: a bystander, not the next in line (composite
    across view, crowd-x-s2 220.3 s: a bystander 70 px above the line's last place was counted in line for the rest
    of the scene)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 101.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot")]
        for tid, start in ((1, 1.0), (2, 2.0), (3, 3.0)):
            emptied = 20.0 * (4 - tid) if beyond != "standing" else math.inf  # (the last place first)
            if start - 0.5 <= t < start:
                rows.append((tid, (40.0 * tid, 100.0), "out"))
            elif start <= t < emptied:
                rows.append((tid, (40.0 * tid, 60.0), "line"))  # the ids stay on the places
        if beyond != "walking past" and t >= 4.0:
            rows.append((9, (155.0, 60.0) if beyond == "standing" else (122.0, 25.0), "out"))
        elif beyond == "walking past" and t % 20.0 >= 19.0:  # across the far end in the second before each move
            rows.append((50 + int(t), (155.0, 75.0 - 60.0 * (t % 20.0 - 19.0)), "out"))
        done += _feed(waits, t, rows)
        if t in (20.0, 40.0, 60.0, 80.0, 100.0):
            done.append(waits.arrived(t))
    expected = [19.0, 38.0, 57.0, 60.0, 60.0] if beyond == "standing" else [19.0, 38.0, 57.0]
    assert _served(done) == expected


def test_the_clerk_behind_the_desk_is_not_beyond_the_lines_far_end() -> None:
    """Two people in line (seen walking in at 1 and 2 s), the clerk sitting behind the desk the whole time, out of
    both zones. After the first is served at 20 s the line is one person, standing next to the spot: its far end is
    by the desk, and the clerk is further from the spot than it. The clerk stands behind the desk, not past the far
    end: the move at 40 s adds no start. The third, who walks in at 60 s, waits 20 s (the old rule added a start at
    40 s, which the third took: 40 s, a wait error of 45 % on a development scene)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 81.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot"), (200, (-20.0, 60.0), "out")]  # the one served, the clerk
        for tid, start, end in ((1, 1.0, 20.0), (2, 2.0, 40.0), (3, 60.0, 80.0)):
            place = 55.0 if tid == 2 and t < 20.0 else 15.0  # the second moves up next to the spot at 20 s
            if start - 0.5 <= t < start:
                rows.append((tid, (place, 100.0), "out"))
            elif start <= t < end:
                rows.append((tid, (place, 60.0), "line"))
        done += _feed(waits, t, rows)
        if t in (20.0, 40.0, 80.0):
            done.append(waits.arrived(t))
    assert _served(done) == [19.0, 38.0, 20.0]


def test_of_two_walking_up_together_the_one_who_reached_the_line_carries_on_their_walk() -> None:
    """Two people stand in line, hidden from 5 s on (their starts kept). A and B walk up together, one box for both;
    at 10.5 s the tracker drops it and gives each a new id: A already in the line, B still a step out of it, nearer
    the group's last box. A carries on the walk (a start at 10.5 s), B walks in a second later under their own id.
    A is hidden from 20 s until served. Each wait is served in order (the old rule let B's id, first in the rows,
    carry on the walk: A had no start of their own, took B's when served and B's wait was lost; on a fresh
    development scene, three walking up together, the wait error was 21 %)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 101.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot")]
        for tid, start in ((1, 1.0), (2, 2.0)):
            if start - 0.5 <= t < start:
                rows.append((tid, (40.0 * tid, 100.0), "out"))
            elif start <= t < 5.0:
                rows.append((tid, (40.0 * tid, 60.0), "line"))
        if 9.5 <= t < 10.5:
            rows.append((5, (150.0, 100.0), "out"))  # A and B: one box
        elif 10.5 <= t < 11.5:
            rows.append((7, (155.0, 100.0), "out"))  # B, still out
            rows.append((6, (125.0, 75.0), "line"))  # A, in the line
        elif t >= 11.5:
            if t < 20.0:
                rows.append((6, (125.0, 75.0), "line"))
            if t < 90.0:
                rows.append((7, (150.0, 60.0), "line"))
        done += _feed(waits, t, rows)
        if t in (30.0, 50.0, 70.0, 90.0):
            done.append(waits.arrived(t))
    assert _served(done) == [29.0, 48.0, 59.5, 78.5]


def test_a_box_straying_out_beside_the_front_of_the_line_is_no_newcomer() -> None:
    """Three people in line (seen walking in at 1, 2 and 3 s); at 10 s a second box of the front person strays out
    of the zone for a detection and comes back into the line under a new id for a second, beside them. A newcomer
    joins at the back: someone stepping in nearer the desk than the people behind adds no start. The fourth, who
    walks in at the back at 30 s, waits 50 s (the old ledger gave them the stray box's start, 10.5 s: 69.5 s). The
    ids stay on the places as the line moves up: at each arrival the last of the first three places empties."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 81.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot")]
        for tid, start, emptied in ((1, 1.0, 60.0), (2, 2.0, 40.0), (3, 3.0, 20.0), (4, 30.0, 80.0)):
            if start - 0.5 <= t < start:
                rows.append((tid, (40.0 * tid, 100.0), "out"))
            elif start <= t < emptied:
                rows.append((tid, (40.0 * tid, 60.0), "line"))  # the ids stay on the places
        if t == 10.0:
            rows.append((7, (40.0, 45.0), "out"))
        elif 10.5 <= t <= 11.0:
            rows.append((7, (40.0, 55.0), "line"))
        done += _feed(waits, t, rows)
        if t in (20.0, 40.0, 60.0, 80.0):
            done.append(waits.arrived(t))
    assert _served(done) == [19.0, 38.0, 57.0, 50.0]


def test_a_box_on_the_gap_between_two_people_in_line_is_no_companion_of_either() -> None:
    """Two people walk in a second apart and stand in line closer than a detection's walk; a few seconds later the
    detector draws a third box on the gap between them, for half a minute, never apart from the two. It is no one
    who came in with the first (the old ledger split it off as a companion with the first's start, and the third
    visitor, walking in later, took that start: served 29 s late)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 75.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        for tid, start, x, end in ((1, 1.0, 40.0, 50.0), (2, 2.0, 55.0, 60.0), (3, 30.0, 100.0, 70.0)):
            if start - 0.5 <= t < start:
                rows.append((tid, (x, 100.0), "out"))
            elif start <= t < end:
                rows.append((tid, (x, 60.0), "line"))
        if 4.0 <= t < 40.0:
            rows.append((12, (47.5, 60.0), "line"))  # the box on the gap between the two
        done += _feed(waits, t, rows)
        if t in (50.0, 60.0, 70.0):
            done.append(waits.arrived(t))
    assert _served(done) == [49.0, 58.0, 40.0]


def test_a_new_id_first_seen_just_out_of_the_zone_where_someone_in_line_vanished_is_no_walk_in() -> None:
    """A walks in at 1 s, B at 5 s and stands where the line bends out of its zone. At 20 s B's id is lost and B
    is found under a new id on the same detection, a few pixels away, with the centre just out of the zone; at
    30 s B steps back into it. That id is B (already in the ledger), not a newcomer walking in: it adds no start,
    and C, seen walking in at 60 s, keeps their own (the old code gave B's new id a start of 30 s, which C took:
    a wait 30 s long)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 100.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        if t < 1.0:
            rows.append((1, (40.0, 100.0), "out"))
        elif t < 50.0:
            rows.append((1, (40.0, 60.0), "line"))  # A
        if 4.5 <= t < 5.0:
            rows.append((2, (80.0, 100.0), "out"))
        elif 5.0 <= t < 20.0:
            rows.append((2, (80.0, 60.0), "line"))  # B
        elif 20.0 <= t < 30.0:
            rows.append((3, (84.0, 66.0), "out"))  # B under a new id, at the line's edge
        elif 30.0 <= t < 70.0:
            rows.append((3, (80.0, 60.0), "line"))
        if 59.5 <= t < 60.0:
            rows.append((4, (120.0, 100.0), "out"))
        elif 60.0 <= t < 90.0:
            rows.append((4, (120.0, 60.0), "line"))  # C, seen walking in
        done += _feed(waits, t, rows)
        if t in (50.0, 70.0, 90.0):
            done.append(waits.arrived(t))
    assert _served(done) == [49.0, 65.0, 30.0]


def test_someone_in_line_standing_just_out_of_the_zone_and_stepping_back_is_no_walk_in() -> None:
    """A walks in at 1 s, B at 5 s. As A reaches the desk (20 s) B steps up to where the line bends out of its zone
    and stands there, the centre just out of it, for ten seconds before stepping back in. B was in line all along:
    stepping back adds no start, and C, seen walking in at 60 s, keeps their own (the old code took B back as a
    newcomer with a start of 30 s, which C took: a wait 30 s long)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 100.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        if t < 1.0:
            rows.append((1, (40.0, 100.0), "out"))
        elif t < 20.0:
            rows.append((1, (40.0, 60.0), "line"))  # A
        else:
            rows.append((1, (0.0, 60.0), "spot"))
        if 4.5 <= t < 5.0:
            rows.append((2, (80.0, 100.0), "out"))
        elif 5.0 <= t < 20.0:
            rows.append((2, (80.0, 60.0), "line"))  # B
        elif 20.0 <= t < 30.0:
            rows.append((2, (84.0, 66.0), "out"))  # at the line's edge
        elif 30.0 <= t < 70.0:
            rows.append((2, (70.0, 60.0), "line"))
        if 59.5 <= t < 60.0:
            rows.append((4, (120.0, 100.0), "out"))
        elif 60.0 <= t < 90.0:
            rows.append((4, (120.0, 60.0), "line"))  # C, seen walking in
        done += _feed(waits, t, rows)
        if t in (20.0, 70.0, 90.0):
            done.append(waits.arrived(t))
    assert _served(done) == [19.0, 65.0, 30.0]


def test_someone_found_beside_another_long_after_adds_no_start_while_the_ledger_counts_everyone() -> None:
    """A walks in at 1 s and B at 2 s; from 5 s B is hidden behind A (one box). At 20 s a second box comes up beside
    A, further from where B was last seen than a lost person is looked for, and is split off as someone "born long
    after". The ledger already holds a start for each person it sees: the box is B's (or someone the ledger counted
    already) and adds no start; C, seen walking in at 40 s, keeps their own (the old code added a start of 20 s,
    which C took: a wait 50 s long)."""

    def rows_at(t: float) -> list[Row]:
        rows: list[Row] = []
        if t < 1.0:
            rows.append((1, (40.0, 100.0), "out"))
        elif t < 50.0:
            rows.append((1, (40.0, 60.0), "line"))  # A
        if 1.5 <= t < 2.0:
            rows.append((2, (80.0, 100.0), "out"))
        elif 2.0 <= t < 5.0:
            rows.append((2, (80.0, 60.0), "line"))  # B, then hidden
        elif 20.0 <= t < 60.0:
            rows.append((3, (55.0, 60.0), "line"))  # a second box beside A
        if 39.5 <= t < 40.0:
            rows.append((4, (120.0, 100.0), "out"))
        elif 40.0 <= t < 70.0:
            rows.append((4, (120.0, 60.0), "line"))  # C, seen walking in
        return rows

    assert _waits_of(rows_at, 90.0, (50.0, 60.0, 70.0), relink_px=20.0) == [49.0, 58.0, 30.0]


def test_the_front_of_the_line_under_a_served_persons_id_is_counted_when_someone_walks_in_unseen() -> None:
    """A, C and B walk into the line; A is served; C stands hidden behind B's box for a while (their visit ends,
    their start stays). The served person walks off, and the tracker moves their (retired) id onto C at the front,
    where it stays. D then walks in first seen inside the zone, under a new id on each detection: the line's count
    by place (B and D) matched the ledger (B's and C's starts) without C, so D's start was never added, and when D
    was seen again under a new id after C and B were served, the ledger took that sighting as D's start. C under
    the retired id counts, and D, first seen far from everyone, adds theirs."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 70.0, 0.5):
        t = float(t)
        rows: list[Row] = []
        if t == 0.5:
            rows.append((1, (100.0, 100.0), "out"))  # A walking up
        elif 1.0 <= t < 5.0:
            rows.append((1, (100.0, 60.0), "line"))
        elif 5.0 <= t < 20.0:
            rows.append((1, (140.0, 60.0), "spot"))  # A served
        elif t >= 20.0 and t < 40.0:
            rows.append((1, (100.0, 60.0), "line"))  # A's id moved onto C at the front
        if t == 20.0:
            rows.append((6, (140.0, 100.0), "out"))  # A walking off under a new id
        if t == 1.5:
            rows.append((5, (100.0, 100.0), "out"))  # C walking up
        elif 2.0 <= t < 8.0:
            rows.append((5, (100.0, 60.0) if t >= 5.0 else (80.0, 60.0), "line"))  # then hidden until 20 s
        if t == 2.5:
            rows.append((2, (60.0, 100.0), "out"))  # B walking up
        elif 3.0 <= t < 50.0:
            rows.append((2, (60.0, 60.0), "line"))
        if 25.0 <= t < 38.0:  # D, first seen inside the zone under a new id on each of three detections
            step = min(int((t - 25.0) / 0.5), 2)
            rows.append((10 + step, (20.0, 60.0 + 20.0 * (2 - step)), "line"))
        elif 52.0 <= t < 60.0:  # D hidden behind B, then seen again under a new id
            rows.append((20, (20.0, 60.0), "line"))
        done += _feed(waits, t, rows)
        for at, track in ((5.0, 1), (40.0, None), (50.0, None), (60.0, None)):
            if t == at:
                done.append(waits.arrived(t, track=track))
    assert _served(done) == [4.0, 38.0, 47.0, 35.0]


def test_an_id_from_outside_the_line_landing_on_someone_in_it_is_no_walk_in() -> None:
    """Two people walk into the line at 1 and 2 s. A passer-by stands out of both zones; at 10 s the tracker moves
    their id onto the second person in line, a jump longer than a detection's walk, on top of that person's own box
    (which lingers a few seconds and is lost). That id adds no start: it lands on someone already there (closer than
    a person's width: one person), and nobody walks that far between two detections. The third, who walks in at
    30 s, waits 30 s (the old ledger took the jump for a newcomer and gave them its start, 10 s: 50 s)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 61.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot")]
        if t < 10.0:
            rows.append((9, (80.0, 120.0 if t < 9.5 else 110.0), "out"))  # the passer-by, stepping closer
        elif t < 40.0:
            rows.append((9, (78.0, 60.0), "line"))  # their id, on the second person in line until served
        for tid, start, end in ((1, 1.0, 20.0), (2, 2.0, 14.0), (3, 30.0, 60.0)):
            if start - 0.5 <= t < start:
                rows.append((tid, (40.0 * tid, 100.0), "out"))
            elif start <= t < end:
                rows.append((tid, (40.0 * tid, 60.0), "line"))
        done += _feed(waits, t, rows)
        if t in (20.0, 40.0, 60.0):
            done.append(waits.arrived(t))
    assert _served(done) == [19.0, 38.0, 30.0]


def test_an_id_first_seen_beside_the_spot_as_the_one_served_steps_off_is_no_walker_up() -> None:
    """A is served at the spot while B and C wait (walked in at 1 and 2 s). At 20 s A steps off and the tracker gives
    them a new id right beside the spot (track 5, out of both zones); at 20.5 s B steps up (an arrival), the tracker
    moves C's id onto A walking away and C, still in line, gets a new id (track 6) a detection's walk from where
    track 5 was lost. Track 6 is no newcomer carrying on a walker: track 5 was first seen beside the spot, someone
    stepping off it. D walks in at 35 s and waits 15 s (the old ledger took track 6 for a walk-in at 20.5 s and gave
    D its start: 29.5 s). Found on stall +22000 (docs/queue-accuracy.md, nineteenth session)."""

    def rows_at(t: float) -> list[Row]:
        rows: list[Row] = []
        if t < 20.0:
            rows.append((1, (50.0, 20.0), "spot"))  # A
        elif t == 20.0:
            rows.append((5, (62.0, 28.0), "out"))  # A stepping off, a new id beside the spot
        elif t <= 21.0:
            rows.append((3, (80.0 + 40.0 * (t - 20.5), 15.0), "out"))  # C's id, on A walking away
        for tid, xy, start in ((2, (50.0, 40.0), 1.0), (3, (50.0, 60.0), 2.0)):  # B and C walking in
            if start - 0.5 <= t < start:
                rows.append((tid, (xy[0], 100.0), "out"))
            elif start <= t <= 20.0:
                rows.append((tid, xy, "line"))
        if 20.5 <= t < 30.0:
            rows.append((2, (50.0, 20.0), "spot"))  # B, served
            rows.append((6, (52.0, 58.0), "line"))  # C under a new id
        elif 30.0 <= t < 45.0:
            rows.append((6, (50.0, 20.0), "spot"))  # C, served
        if t == 34.5:
            rows.append((7, (50.0, 100.0), "out"))  # D walking in
        elif 35.0 <= t < 50.0:
            rows.append((7, (50.0, 60.0), "line"))
        return rows

    assert _waits_of(rows_at, 60.0, (20.5, 30.0, 50.0), 20.0) == [19.5, 28.0, 15.0]


def test_a_walker_lost_for_a_few_detections_is_carried_on_by_a_new_id_alone_at_the_lines_back() -> None:
    """A and B walk into the line at 1 and 2 s and stand so close that the count by place takes them for one person.
    C is seen walking up far out (at 9 s), lost for four detections, seen once at the line's back at 11 s, 180 px on,
    with nobody else in line near them (no id of someone there), and then hidden in the line until they reach the
    desk at 40 s. C walked in: their start is in the ledger, and they wait 29 s. (The old ledger carried on a walker
    only one detection's walk, 80 px: C was found in the line, and the count by place, which took A and B for one,
    never added a start for them: C's arrival ended nobody's wait.) Found on tight +23000 (nineteenth session)."""

    def rows_at(t: float) -> list[Row]:
        rows: list[Row] = [(100, (100.0, 0.0), "spot")] if t < 20.0 else []
        for tid, xy, start, end in ((1, (100.0, 60.0), 1.0, 20.0), (2, (110.0, 62.0), 2.0, 30.0)):
            if start - 0.5 <= t < start:
                rows.append((tid, (xy[0], xy[1] + 40.0), "out"))
            elif start <= t < end:
                rows.append((tid, xy, "line"))
        if t == 9.0:
            rows.append((3, (100.0, 320.0), "out"))
        elif t == 11.0:
            rows.append((4, (100.0, 140.0), "line"))
        return rows

    assert _waits_of(rows_at, 45.0, (20.0, 30.0, 40.0), 40.0) == [19.0, 28.0, 29.0]


def test_a_walker_going_on_along_the_line_under_a_new_id_carries_on_nobody_else() -> None:
    """B walks into the line under three ids, one per detection (seen out at 9.5 s, in line at 10 s, 41 px further at
    10.5 s: a step beyond relink_px, so the visit does not pass on); a passer-by lost at 9.5 s stands 90 px from
    where the third id is first seen. That id is B walking on (their visit was lost a detection ago, a walk away),
    not a newcomer alone at the line's back: it carries on nobody, and B holds one start. D, who walks in at 40 s
    while the line is empty, waits 20 s (with B's third id taken for the passer-by walking in: 49.5 s)."""

    def rows_at(t: float) -> list[Row]:
        rows: list[Row] = []
        if t == 9.5:
            rows += [(3, (330.0, 300.0), "out"), (9, (250.0, 372.0), "out")]  # B walking up; the passer-by
        elif t == 10.0:
            rows.append((4, (290.0, 290.0), "line"))
        elif 10.5 <= t < 30.0:
            rows.append((5, (250.0, 282.0), "line"))
        if t == 39.5:
            rows.append((7, (290.0, 330.0), "out"))  # D
        elif 40.0 <= t < 60.0:
            rows.append((7, (250.0, 282.0), "line"))
        return rows

    assert _waits_of(rows_at, 65.0, (30.0, 60.0), 40.0) == [20.0, 20.0]


def test_a_box_on_the_gap_beside_someone_found_again_under_a_new_id_is_no_one_new() -> None:
    """A walks in at 1 s, B at 2 s; B is missed from 10 s to 30 s and found again a step nearer A under a new id,
    whose visit holds no start (B's own stays in the ledger from before). From 40 s the detector draws a third box
    on the gap between A and B for 15 s. It lies between two people in line as much as between two with starts of
    their own: no one new (the old test looked only at neighbours holding a start, split the box off as someone
    found in the line and added a start of 40 s, which C, seen walking in at 50 s, took: served 10 s short)."""

    def rows_at(t: float) -> list[Row]:
        rows: list[Row] = []
        if t < 1.0:
            rows.append((1, (40.0, 100.0), "out"))
        elif t < 60.0:
            rows.append((1, (40.0, 60.0), "line"))  # A
        if 1.5 <= t < 2.0:
            rows.append((2, (80.0, 100.0), "out"))
        elif 2.0 <= t < 10.0:
            rows.append((2, (80.0, 60.0), "line"))  # B, then missed
        elif 30.0 <= t < 70.0:
            rows.append((5, (58.0, 60.0), "line"))  # B again, under a new id
        if 40.0 <= t < 55.0:
            rows.append((9, (49.0, 60.0), "line"))  # the box on the gap
        if 49.5 <= t < 50.0:
            rows.append((4, (120.0, 100.0), "out"))
        elif 50.0 <= t < 80.0:
            rows.append((4, (120.0, 60.0), "line"))  # C, seen walking in
        return rows

    assert _waits_of(rows_at, 90.0, (60.0, 70.0, 80.0), relink_px=20.0) == [59.0, 68.0, 30.0]


def test_a_second_box_of_someone_shifted_sideways_on_their_row_is_no_companion() -> None:
    """A walks in at 1 s; from 5 s the detector often boxes them twice, the second box shifted sideways on the same
    row of the picture, closer than a shoulder's width. Two people standing side by side are at least that far
    apart: it is A, not someone who came in with them (the old test split it off as A's companion with A's start,
    which B, seen walking in at 20 s, took: served 19 s long)."""

    def rows_at(t: float) -> list[Row]:
        rows = _walking_in(t, 1, 1.0, 30.0, (40.0, 60.0), (40.0, 100.0))  # A
        if 5.0 <= t < 30.0 and int(2 * t) % 2 == 0:
            rows.append((2, (48.0, 61.0), "line"))  # A's second box, every other detection
        return rows + _walking_in(t, 4, 20.0, 40.0, (120.0, 60.0), (120.0, 100.0))  # B, seen walking in

    assert _waits_of(rows_at, 50.0, (30.0, 40.0), relink_px=20.0) == [29.0, 20.0]


def test_a_box_on_the_row_of_the_one_in_front_is_no_sign_of_a_second_person() -> None:
    """A walks in at 1 s, B at 2 s and stands behind A, C at 20 s behind B. From 10 s the detector draws B's box
    shifted up onto A's row, half a body aside (B's id follows it), and boxes B's legs under a new id. The shifted
    box lies on A's row closer than a shoulder's width: it is a second box of A, and B's two ids are one person
    until A is served and B steps up (the old test split B's new id off as someone found in the line and added a
    start of 10.5 s, which C took: served 9.5 s long)."""

    def rows_at(t: float) -> list[Row]:
        rows = _walking_in(t, 1, 1.0, 60.0, (208.0, 141.0), (240.0, 180.0))  # A
        rows += _walking_in(t, 2, 2.0, 10.0, (183.0, 157.0), (240.0, 200.0))  # B
        if 10.0 <= t < 60.0:
            rows.append((2, (192.0, 142.0), "line"))  # B's box shifted onto A's row
        if 10.5 <= t < 60.0:
            rows.append((3, (183.0, 157.0), "line"))  # B's legs, under a new id
        elif 60.0 <= t < 70.0:
            rows.append((3, (208.0, 141.0), "line"))  # B steps up once A is served
        return rows + _walking_in(t, 4, 20.0, 80.0, (158.0, 186.0), (240.0, 230.0))  # C

    assert _waits_of(rows_at, 90.0, (60.0, 70.0, 80.0), relink_px=40.0) == [59.0, 68.0, 60.0]


def test_an_id_that_jumped_onto_someone_in_line_from_elsewhere_counts_no_one_new() -> None:
    """A walks in at 1 s, B at 2 s, C at 30 s. At 20 s the clerk's id, seen behind the desk (out of both zones), jumps
    two detections' walk onto B, and then drifts a little aside of B until 55 s. It is an id from elsewhere on someone
    counted already: no one new in the line's count by place (the old ledger added a start of 20 s for it, which C
    took: served 10 s long)."""

    def rows_at(t: float) -> list[Row]:
        rows = _walking_in(t, 1, 1.0, 60.0, (208.0, 141.0), (240.0, 180.0))  # A
        rows += _walking_in(t, 2, 2.0, 70.0, (158.0, 186.0), (240.0, 200.0))  # B
        if t < 20.0:
            rows.append((9, (180.0, 60.0), "out"))  # the clerk, behind the desk
        elif t < 20.5:
            rows.append((9, (165.0, 178.0), "line"))  # ... whose id jumps onto B
        elif t < 55.0:
            rows.append((9, (170.0, 174.0), "line"))  # ... and drifts aside of B
        return rows + _walking_in(t, 4, 30.0, 80.0, (120.0, 215.0), (240.0, 230.0))  # C

    assert _waits_of(rows_at, 90.0, (60.0, 70.0, 80.0), relink_px=40.0) == [59.0, 68.0, 50.0]


def test_an_id_born_beside_someone_in_line_ahead_of_its_back_is_no_walk_in() -> None:
    """A, B and C walk into a line that runs down from the desk (1, 2, 3 s). At 20 s a new id is first seen out of
    both zones right beside A, well ahead of the line's back (the box of someone in line cut off by the one in
    front, its foot point short of the zone), and steps into the line on the next detection, on B, for a few
    seconds. Nobody walked in: no start. D, who walks in at 40 s, waits 40 s (the old ledger gave the id a start of
    20.5 s, which D took: 59.5 s)."""

    def rows_at(t: float) -> list[Row]:
        rows: list[Row] = [(100, (200.0, 60.0), "spot")]  # the one served
        rows += _walking_in(t, 1, 1.0, 50.0, (200.0, 100.0), (260.0, 100.0))  # A
        rows += _walking_in(t, 2, 2.0, 60.0, (200.0, 140.0), (260.0, 140.0))  # B
        rows += _walking_in(t, 3, 3.0, 70.0, (200.0, 180.0), (260.0, 180.0))  # C
        if 20.0 <= t < 20.5:
            rows.append((9, (230.0, 110.0), "out"))  # first seen beside A, out of the zones
        elif 20.5 <= t < 26.0:
            rows.append((9, (205.0, 150.0), "line"))  # ... then in line on B, and lost
        return rows + _walking_in(t, 4, 40.0, 80.0, (200.0, 220.0), (260.0, 220.0))  # D

    assert _waits_of(rows_at, 90.0, (50.0, 60.0, 70.0, 80.0), relink_px=40.0) == [49.0, 58.0, 67.0, 40.0]


def test_a_walker_whose_id_moved_onto_someone_further_out_walks_in_under_the_new_one() -> None:
    """A and B walk into the line (1, 2 s); from 10 s B is hidden behind A. C walks up with a companion who stays out
    of the line: C is first seen out of both zones at 20 s; on the next detection C stands at the line's back under a
    new id, and the tracker moved C's old id onto the companion, further out. C was seen walking in: their start is
    20.5 s, and they wait 29.5 s (the old ledger saw no walk in, and with B hidden the count by place saw nobody
    missing: C's arrival ended no wait)."""

    def rows_at(t: float) -> list[Row]:
        rows: list[Row] = [(100, (200.0, 60.0), "spot")]  # the one served
        rows += _walking_in(t, 1, 1.0, 30.0, (200.0, 100.0), (260.0, 100.0))  # A
        rows += _walking_in(t, 2, 2.0, 10.0, (200.0, 140.0), (260.0, 140.0))  # B, hidden from 10 s
        if 20.0 <= t < 20.5:
            rows.append((3, (240.0, 215.0), "out"))  # C walking up
        elif 20.5 <= t < 60.0:
            rows.append((3, (265.0, 235.0), "out"))  # ... their id on the companion, further out
        if 20.5 <= t < 50.0:
            rows.append((7, (200.0, 180.0), "line"))  # C at the line's back under a new id
        return rows

    assert _waits_of(rows_at, 70.0, (30.0, 40.0, 50.0), relink_px=40.0) == [29.0, 38.0, 29.5]


def test_the_one_served_walking_out_across_the_line_counts_nobody_in_it() -> None:
    """A and B walk in (1, 2 s); from 5 s B is hidden, and from 8 s a box on nobody (a stray id in the line's zone)
    is seen apart from everyone: the line's count by place is two, as the ledger holds. The one served leaves the
    spot at 10 s and stands in the line's zone, apart from everyone, until 14 s. They were never in line: they count
    nobody, so no start is added for the stray box. C walks in at 25 s and waits 15 s (the old ledger counted the
    one served and added a start for the stray box, which had carried on B's lost visit: 2 s again, and C took it:
    38 s)."""

    def rows_at(t: float) -> list[Row]:
        rows: list[Row] = []
        if t < 10.0:
            rows.append((100, (200.0, 60.0), "spot"))  # the one served
        elif t < 14.0:
            rows.append((100, (260.0, 120.0), "line"))  # ... walking out, standing in the line's zone
        rows += _walking_in(t, 1, 1.0, 20.0, (200.0, 100.0), (260.0, 100.0))  # A
        rows += _walking_in(t, 2, 2.0, 5.0, (200.0, 180.0), (260.0, 180.0))  # B, hidden from 5 s
        if 8.0 <= t < 30.0:
            rows.append((6, (150.0, 140.0), "line"))  # a stray box
        return rows + _walking_in(t, 3, 25.0, 40.0, (200.0, 100.0), (260.0, 220.0))  # C

    assert _waits_of(rows_at, 50.0, (20.0, 30.0, 40.0), relink_px=40.0) == [19.0, 28.0, 15.0]


def _queued(tid: int, t: float, x: float, start: float, desk: float) -> list[Row]:
    """Track ``tid`` at ``t``: walking up at ``x`` half a second before ``start``, in line until ``desk``, then at
    the spot for 2 s."""
    if t == start - 0.5:
        return [(tid, (x, 100.0), "out")]
    if start <= t < desk:
        return [(tid, (x, 60.0), "line")]
    return [(tid, (30.0, 30.0), "spot")] if desk <= t < desk + 2.0 else []


@pytest.mark.parametrize(("decided", "waits_served"), [(21.0, [19.0, 48.0, 30.0]), (None, [19.0, 48.0, 30.0])])
def test_a_start_taken_for_someone_walking_out_comes_back_when_they_are_the_desks_leaver(
    decided: float | None, waits_served: list[float]
) -> None:
    """The one served (9) walks off at 20 s under the id of B (2), who stood in line, hidden since 17.5 s; A (1)
    steps up. The waits see track 2 out of the line for over ``reentry_grace_s`` at 21 s and take B's start away as
    someone who left; the desk decides the hand-over (dated 20 s, leaver 2) a detection later, at 21 s. B is still in
    line (found again at 22 s where they stood, under a new id) and keeps their start: they waited 48 s, not 28 s
    from when they were found (counter scene, tight +18000, 157.3 s). Control: the hand-over known at 20 s, before
    the start was taken."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 65.0, 0.5):
        t = float(t)
        rows: list[Row] = [(9, (30.0, 30.0), "spot")] if t < 20.0 else []
        rows += _queued(1, t, 40.0, 1.0, 20.0) + _queued(3, t, 76.0, 30.0, 60.0)
        if t == 1.5:
            rows.append((2, (58.0, 100.0), "out"))
        elif 2.0 <= t < 17.5:
            rows.append((2, (58.0, 60.0), "line"))
        elif 20.0 <= t < 23.0:
            rows.append((2, (10.0 - 10.0 * (t - 20.0), 30.0), "out"))  # the one served, walking off under B's id
        if 22.0 <= t < 50.0:
            rows.append((12, (57.0, 60.0), "line"))  # B found again
        elif 50.0 <= t < 52.0:
            rows.append((12, (30.0, 30.0), "spot"))
        if t == 20.0 and decided is None:
            done.append(waits.arrived(20.0, track=1, leaver=2))
        done += _feed(waits, t, rows)
        if t == decided:
            done.append(waits.arrived(20.0, track=1, leaver=2))
        if t in (50.0, 60.0):
            done.append(waits.arrived(t))
    assert _served(done) == waits_served


@pytest.mark.parametrize(("born_x", "expected"), [(200.0, [19.0, 28.0, 33.0]), (70.0, [19.0, 28.0])])
def test_someone_first_seen_in_the_line_far_beyond_its_back_walked_in(born_x: float, expected: list) -> None:
    """A and B walk in at 1 and 2 s; B is hidden behind A from 5 s on. At 7 s track 3 is first seen in the line's
    zone 160 px beyond its back (people walking in file under ids the tracker hands on: tight scene, seed offset
    27000, 109.3 s), and walks up. Nobody stands there: it is someone walking in, a start of their own (the old code
    took it for an id switch in the line and handed it B's start when B was lost for good: one start for two).
    Control: first seen just behind the back (30 px, under two steps), it may be B under a new id, and adds none
    (B is served at 30 s, and track 3 is seen no more)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 41.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot")]
        for tid, start, x, end in ((1, 1.0, 40.0, 20.0), (2, 2.0, 55.0, 5.0)):
            rows += _walking_in(t, tid, start, end, (x, 60.0), (x, 100.0))
        if 7.0 <= t < (40.0 if len(expected) == 3 else 30.0):
            rows.append((3, (max(born_x - 20.0 * (t - 7.0), 70.0), 60.0), "line"))
        done += _feed(waits, t, rows)
        if t in (20.0, 30.0, 40.0):
            done.append(waits.arrived(t))
    assert _served(done) == expected


@pytest.mark.parametrize(
    ("born", "in_line", "expected"),
    [((20.0, 170.0), 3, [19.0, 28.0, 33.0]), ((-80.0, 90.0), 2, [19.0, 28.0])],
    ids=["beyond-the-bend", "beside-the-one-in-front"],
)
def test_someone_first_seen_two_steps_beyond_a_bending_lines_back_walked_in(
    born: tuple[float, float], in_line: int, expected: list
) -> None:
    """The desk at (0, 60); the line runs away from it to A (-100, 60), then bends back towards the picture's middle:
    B stands at (-60, 110), nearer the desk than A, and is hidden from 5 s on. At 7 s track 3 is first seen in the
    line's zone at (20, 170), 141 px from A (the one nearest it) and farther from the desk than A: someone walking in
    under a new id, three in line (counter scene, busy +11000, 197.3 s: the newcomer's start was missing for 540 s,
    MAE 0.681). The old rule asked for two steps beyond the person in line farthest from the desk, and in a line
    that bends back the back of the line is not that person. Control: first seen a step from A, it may be B under a
    new id: two in line, and nobody left for a third arrival."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 41.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot")]
        rows += _walking_in(t, 1, 1.0, 20.0, (-100.0, 60.0), (-100.0, 100.0))
        rows += _walking_in(t, 2, 2.0, 5.0, (-60.0, 110.0), (-60.0, 150.0))
        if 7.0 <= t < 40.0:
            rows.append((3, born, "line"))
        _feed_and_serve(waits, t, rows, done, in_line, (20.0, 30.0, 40.0)[: len(expected)])
    assert _served(done) == expected


def test_a_walker_whose_id_changes_on_the_way_in_far_beyond_the_lines_back_is_one_start() -> None:
    """A stands in line from 1 s; B is seen walking in at 6.5 s and steps into the line's zone far beyond A at 7 s,
    walking 30 px a detection, and the tracker gives B a new id at 7.5 s (quiet scene, seed offset 20000, 137.3 s).
    Nobody stands there, but B's own visit was lost just now on the way in: the new id is B's, not a second walk-in
    (the first version of the rule above added a start and served a third wait nobody had)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 41.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot"), *_walking_in(t, 1, 1.0, 20.0, (40.0, 60.0), (40.0, 100.0))]
        if t == 6.5:
            rows.append((3, (260.0, 100.0), "out"))
        elif 7.0 <= t < 30.0:
            rows.append((4 if t >= 7.5 else 3, (max(240.0 - 60.0 * (t - 7.0), 70.0), 60.0), "line"))
        done += _feed(waits, t, rows)
        if t in (20.0, 30.0, 40.0):
            done.append(waits.arrived(t))
    assert _served(done) == [19.0, 23.0]


@pytest.mark.parametrize(("untracked", "waiting"), [(1, 1), (0, 0)])
def test_someone_only_a_closer_look_finds_in_line_keeps_the_line_from_emptying(untracked: int, waiting: int) -> None:
    """A (1) walks into the line at 1 s and waits at the front; from 10 s the detector boxes them together with the
    one served behind them (their track is lost) and only the second look finds them, with no track. The ledger
    keeps their start, and the line is not empty while someone stands in it without a track (counter scene, absence
    +10000, 253-308 s: the line read empty for 33 s and a stall went unraised). Control: nobody is seen in line at
    all for ``relink_s``: the line is empty."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 40.0, 0.5):
        t = float(t)
        rows: list[Row] = _walking_in(t, 1, 1.0, 10.0, (50.0, 60.0), (50.0, 90.0))
        ids = np.array([r[0] for r in rows], dtype=int)
        centres = np.array([r[1] for r in rows], dtype=float).reshape(-1, 2)
        lined = np.array([r[2] == "line" for r in rows], dtype=bool)
        waits.update(t, ids, centres, lined, np.zeros(len(rows), bool), untracked=untracked if t >= 10.0 else 0)
        assert waits.waiting(t) == (1 if 1.0 <= t < 14.0 else waiting if t >= 14.0 else 0)
    done = waits.arrived(40.0)
    assert done is not None and done.wait_s == pytest.approx(39.0)


@pytest.mark.parametrize(("second_at", "seen"), [(1.5, True), (5.0, False)])
def test_a_companion_who_walked_in_beside_someone_keeps_a_start_seen_walking_in(second_at: float, seen: bool) -> None:
    """A (1) walks into the line at 1 s; a second box (2) appears beside them at ``second_at`` and the two are seen
    apart from then: two people. One first seen within ``duplicate_s`` of A, as A walked in, walked in with them:
    their start (A's) is as well known as A's, and a trim of the ledger (the line shows fewer people than it holds
    starts for, as a tight line does) keeps it (counter scene, tight +21000, 77.3 s: the companion's start was
    trimmed and the line counted one short for ten minutes). Control: a box found beside A seconds later is someone
    the detector missed until then: their start is a guess, trimmed first."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 12.0, 0.5):
        t = float(t)
        rows: list[Row] = _walking_in(t, 1, 1.0, 12.0, (40.0, 60.0), (40.0, 100.0))
        if t >= second_at:
            rows.append((2, (52.0, 60.0), "line"))
        _feed(waits, t, rows)
    assert sorted((enter, was_seen) for enter, _, was_seen in waits._ledger) == sorted([(1.0, True), (1.0, seen)])


@pytest.mark.parametrize(
    ("leap", "starts"),
    [
        # counter scene, hard +42000, 113.0 s: a small visitor standing in line is boxed twice (ids 12 and 13, a few
        # pixels apart); the older id leaps half a body down the line onto a walker passing below them for three
        # detections, then comes back: one person, one start (the pair was split and a start added: the line read
        # one too many for 45 s and a pile-up was raised 35 s early)
        pytest.param(30.0, 1, id="id-leaps-onto-a-walker-and-back"),
        # a second box a few pixels off that drifts apart at a person's pace and stays: two people
        pytest.param(0.0, 2, id="drifts-apart"),
    ],
)
def test_a_second_id_that_leaps_off_someone_and_back_is_no_companion(leap: float, starts: int) -> None:
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 12.0, 0.5):
        t = float(t)
        leapt = leap and 6.0 <= t <= 7.0  # (the older id, 1, on the walker below)
        rows: list[Row] = _walking_in(t, 1, 1.0, 12.0, (40.0, 60.0 + leap if leapt else 60.0), (40.0, 100.0))
        if t >= 1.5:
            y = 58.0 if leap else 58.0 - min(max(t - 5.5, 0.0), 2.0) * 8.0  # (8 px a second up the line, then still)
            rows.append((2, (42.0, y), "line"))
        _feed(waits, t, rows)
    assert len(waits._ledger) == starts


def test_starts_taken_by_false_arrivals_come_back_while_their_people_stand_in_line() -> None:
    """Three people walk into the line at 1, 2 and 3 s; the first reaches the desk at 20 s. At 24 s and 28 s two more
    arrivals are reported while the other two still stand in line, seen on every frame (in the composite scenes: the
    line runs towards the camera, the front person's box merges with the one served's and the clerk's, and ids
    traded there reach the spot): they take the starts of the two still waiting, and the ledger counted nobody in
    a line of two until they were served. Once two people have been seen in line for ``2 * relink_s`` with the
    ledger short, the latest starts taken come back: the line counts two again, and the real arrivals at 60 s and
    75 s end the waits of 2 and 3 s starts."""
    waits = WaitTracker(relink_px=40.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    counted: dict[float, int] = {}
    for t in np.arange(0.0, 90.0, 0.5):
        t = float(t)
        rows = [
            *_walking_in(t, 1, 1.0, 20.0, (40.0, 60.0), (40.0, 100.0)),
            *_walking_in(t, 2, 2.0, 60.0, (120.0, 60.0), (120.0, 100.0)),
            *_walking_in(t, 3, 3.0, 75.0, (200.0, 60.0), (200.0, 100.0)),
        ]
        done += _feed(waits, t, rows)
        if t in (20.0, 24.0, 28.0, 60.0, 75.0):
            done.append(waits.arrived(t))
        counted[t] = waits.waiting(t)
    assert counted[10.0] == 3 and counted[30.0] == 0  # the false arrivals took both starts
    assert counted[50.0] == 2  # given back: both still stand in line
    assert _served(done)[-2:] == [58.0, 72.0]


@pytest.mark.parametrize("thin", [True, False])
def test_with_a_thin_zone_an_id_back_in_line_from_the_spot_gets_its_start_back(thin: bool) -> None:
    """A, B and C walk in at 1, 2 and 3 s; A is served at 20 s. At 24 s B's id touches the spot (an arrival, which
    takes B's start) and B stands back in their place under that id, which no visit holds any more; at 28 s a
    second false arrival takes C's start. Both stand in line until served at 60 and 75 s. With ``thin_zone`` (the
    analyzer's view survey named the desk zone thin) the ledger gives back starts against everyone seen in line:
    two, and the waits are 58 and 72 s. Without it only the visits in line count (C): one start comes back (C's, the
    latest taken), the line counts one of two until B is served, and B's wait is C's (57 s)."""
    waits = WaitTracker(relink_px=40.0, desk_arrivals=True)
    waits.thin_zone = thin
    done: list[FinishedVisit | None] = []
    counted: dict[float, int] = {}
    for t in np.arange(0.0, 90.0, 0.5):
        t = float(t)
        b = (120.0, 60.0) if not 24.0 <= t < 25.0 else (120.0, 10.0)
        rows = [
            *_walking_in(t, 1, 1.0, 20.0, (40.0, 60.0), (40.0, 100.0)),
            *_walking_in(t, 2, 2.0, 60.0, b, (120.0, 100.0)),
            *_walking_in(t, 3, 3.0, 75.0, (200.0, 60.0), (200.0, 100.0)),
        ]
        rows = [(tid, xy, "spot" if xy[1] == 10.0 else zone) for tid, xy, zone in rows]
        done += _feed(waits, t, rows)
        if t in (20.0, 28.0, 60.0, 75.0):
            done.append(waits.arrived(t))
        elif t == 24.0:
            done.append(waits.arrived(t, track=2))
        counted[t] = waits.waiting(t)
    assert counted[10.0] == 3 and counted[30.0] == 0
    assert counted[50.0] == (2 if thin else 1)
    assert _served(done)[-2:] == ([58.0, 72.0] if thin else [57.0, 72.0])


def test_the_starts_kept_for_giving_back_stay_few_while_the_line_never_empties() -> None:
    """A line that never empties all day (someone always standing in it) and an arrival every 10 s: the starts the
    arrivals took are kept for giving back only for the latest few, not for the whole day."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for k in range(300):
        for t in np.arange(10.0 * k, 10.0 * k + 10.0, 0.5):
            t = float(t)
            rows: list[Row] = [(k + 1, (40.0, 100.0), "out")] if t == 10.0 * k else [(k + 1, (40.0, 60.0), "line")]
            rows.append((10_000, (120.0, 60.0), "line"))  # the one always there
            _feed(waits, t, rows)
        waits.arrived(10.0 * k + 9.5)
    assert 0 < len(waits._taken) <= 32


@pytest.mark.parametrize(("behind", "in_line", "expected"), [(30.0, 3, [19.0, 24.0, 34.0]), (-30.0, 2, [19.0, 24.0])])
def test_someone_first_seen_a_step_behind_a_walker_just_in_walked_in_behind_them(
    behind: float, in_line: int, expected: list
) -> None:
    """C stands at the front from 1 s and is hidden from 4 s on (the ledger keeps C's start). A walks in at 6 s; at 7 s
    track 3 is first seen in the line a step and a half (30 px) behind A, farther from the desk, and walks up behind A:
    someone who walked in hidden behind A, with A's start (tight scene, seed offset 43000, 124.3 s: four walked in in
    file, the third's start was missing for 420 s while people at the front stayed hidden, MAE 0.706). The line
    shows two people and the ledger holds two starts (C's and A's), so the count by place added none: the old code
    counted two in line at 15 s. Control: first seen as far ahead of A, nearer the desk, for a detection, it is no one
    trailing A (a stray box, say), and adds no one. The line runs down the picture, as in that scene: C's start, kept
    when C was taken for someone found at the spot, is one nobody seen or lost in line holds, which a line across the
    picture gives up (``test_a_start_nobody_holds_in_a_line_across_the_picture_goes``)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 41.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot"), *_walking_in(t, 1, 1.0, 4.0, (40.0, 60.0), (40.0, 100.0))]
        a_x = max(150.0 - 40.0 * (t - 6.0), 60.0)
        if t == 5.5:
            rows.append((2, (160.0, 100.0), "out"))
        elif 6.0 <= t < 30.0:
            rows.append((2, (a_x, 60.0), "line"))
        if 7.0 <= t < 40.0 and behind > 0:
            rows.append((3, (max(a_x + behind, 85.0), 60.0), "line"))
        elif t == 7.0:
            rows.append((3, (a_x + behind, 60.0), "line"))
        _feed_and_serve(waits, t, _down(rows), done, in_line, (20.0, 30.0, 40.0)[: len(expected)])
    assert _served(done) == expected


@pytest.mark.parametrize(("lands", "in_line"), [(9.0, 2), (15.0, 3)])
def test_a_walkers_id_that_leapt_onto_someone_in_line_splits_off_no_companion(lands: float, in_line: int) -> None:
    """A stands in line from 1 s. B walks in at 10 s; at 11 s B's id leaps (81 px) onto A, landing 9 px from A (under
    half a step: a second box of A's from then on), and B is boxed under a new id beside it, 16 px on, and stands
    there. The two ids of B's visit stay apart, but one of them stands on A: no companion, two in line (busy scene,
    seed offset 10000, 231.3 s: split off once the leap was 4 s old, a start too many for 190 s, MAE 0.444).
    Control: landing 15 px from A (more than half a step), the id is no box of A's, and the two are two people."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 19.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (60.0, 0.0), "spot"), *_walking_in(t, 1, 1.0, 30.0, (60.0, 40.0), (60.0, 150.0))]
        if t == 9.5:
            rows.append((2, (60.0, 200.0), "out"))
        elif 10.0 <= t < 11.0:
            rows.append((2, (60.0, 150.0 - 40.0 * (t - 10.0)), "line"))
        elif t >= 11.0:
            rows += [(2, (60.0, 40.0 + lands), "line"), (3, (60.0, 56.0 + lands), "line")]
        _feed(waits, t, rows)
    assert waits.waiting(18.5) == in_line


@pytest.mark.parametrize("follower_first", [False, True])
@pytest.mark.parametrize("follower_at", [5.5, 6.0])
def test_a_walker_in_line_under_a_new_id_each_detection_keeps_their_start_beside_a_companion(
    follower_at: float, follower_first: bool
) -> None:
    """A stands in line from 1 s; C from 2 s, hidden from 4 s on (the ledger keeps C's start). Two walk in, in file,
    22 px a detection (a step over ``relink_px``), the tracker giving each a new id on every detection: X is first
    seen out of both zones at 5 s, in line at 5.5 s, then under id 13 a step on at 6 s; Y follows a detection behind
    (``follower_at`` 5.5: reaching the line at 6 s where X stood at 5.5 s, as X's new id is first seen) or two (hard
    scene, seed offset 41000, 159.8 s: X's new id was 43.3 px from where X was lost, relink_px 43.2). X's new id
    carries X on, as far as a walker goes meanwhile; Y, seen walking in, adds a start of their own: four in line,
    whichever order the tracker lists them in (the old code took Y for X, lost there a moment before, and left X with
    no start: three; the first version of the rule, when both new ids came on one detection, too if Y was listed
    first: new tracks that carry on no walker of their own now claim the lost first, nearest first)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 12.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot"), *_walking_in(t, 1, 1.0, 30.0, (40.0, 60.0), (40.0, 100.0))]
        rows += _walking_in(t, 2, 2.0, 4.0, (60.0, 60.0), (60.0, 100.0))
        walkers: list[Row] = []
        for first, ids, stop in ((5.0, (10, 11, 13, 16, 17, 18, 19), 80.0), (follower_at, (12, 14, 15, 20, 21), 102.0)):
            k = round((t - first) / 0.5)
            if k >= 0:
                x = max(210.0 - 22.0 * k, stop)
                tid = ids[min(k, len(ids) - 1)]
                walkers.append((tid, (x, 60.0), "line" if x <= 190.0 else "out"))
        rows += walkers[::-1] if follower_first else walkers
        _feed(waits, t, rows)
    assert waits.waiting(11.5) == 4


def test_someone_stepping_into_the_line_ahead_of_its_back_seen_a_moment_ago_is_no_walk_in() -> None:
    """A, B and C stand in line at 40, 70 and 100 px from the desk; B is hidden from 5 s on (the ledger keeps B's
    start). At 9.5 s a new id is first seen out of both zones below B's place, and at 10 s it stands in line where B
    stood, on the one detection C is missed (tight scene, seed offset 2000, 19.3 s: a box at the line's bend, out of
    its zone, then in it while the line's back was unboxed). The line's back, seen half a second before, stands a step
    and a half farther from the desk: the new id stepped in ahead of the back, no newcomer (the old code measured the
    back on that detection alone, counted a walk-in, and the line read one too many: four)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 14.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot"), *_walking_in(t, 1, 1.0, 30.0, (40.0, 60.0), (40.0, 100.0))]
        rows += _walking_in(t, 2, 2.0, 5.0, (70.0, 60.0), (70.0, 100.0))
        if t != 10.0:
            rows += _walking_in(t, 3, 3.0, 30.0, (100.0, 60.0), (100.0, 100.0))
        if t == 9.5:
            rows.append((4, (70.0, 90.0), "out"))
        elif t >= 10.0:
            rows.append((4, (70.0, 62.0), "line"))
        _feed(waits, t, rows)
    assert waits.waiting(13.5) == 3


def test_someone_found_beside_a_walker_long_after_they_walked_in_is_no_companion_of_theirs() -> None:
    """H stands in line at 60 px from 1 s and is hidden from 3 s on (the ledger keeps H's start). B walks in at 5 s
    and stands at 80 px; at 9.5 s a new id is boxed where H stood, beside B, and stays: after ``duplicate_s`` apart
    it is split off B's visit. Born 4.5 s after B's start (more than ``relink_s``), it did not come in with B: it is H
    found again, and holds H's start (hard scene, seed offset 11000, 95.3 s). The old code lent it B's start as a
    companion's (within ``2 * relink_s``) and the line read one too many: three."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 14.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot"), *_walking_in(t, 1, 1.0, 3.0, (60.0, 60.0), (60.0, 100.0))]
        rows += _walking_in(t, 2, 5.0, 30.0, (90.0, 60.0), (90.0, 100.0))
        if t >= 9.5:
            rows.append((3, (62.0, 60.0), "line"))
        _feed(waits, t, rows)
    assert waits.waiting(13.5) == 2


@pytest.mark.parametrize(("counter", "waits_served"), [(True, [19.0, 28.0]), (False, [19.0, 19.5])])
def test_an_id_in_line_that_walks_off_onto_the_clerk_leaves_its_persons_start(
    counter: bool, waits_served: list
) -> None:
    """A and B walk into the line at 1 and 2 s. At 10 s the tracker moves B's id onto the clerk walking back to the
    desk behind the line: the id walks off out of both zones and into the counter zone, and stays at the clerk's
    seat; B is boxed again under a new id where B stood. B did not leave the line: their start stays, and their wait
    is 28 s when they reach the desk at 30 s (absence scene, seed offset 45000, 240.8 s: the clerk back from a break;
    B's wait read 11 s short). Control: the id walks off the same way out of the counter zone (someone giving up, and
    B's new id someone else): the start goes, and B's wait runs from the new id's first sighting."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 31.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot"), *_walking_in(t, 1, 1.0, 20.0, (40.0, 60.0), (40.0, 100.0))]
        rows += _walking_in(t, 2, 2.0, 10.0, (70.0, 60.0), (70.0, 100.0))
        if t >= 10.0:
            rows.append((2, (min(60.0 + 20.0 * (t - 10.0), 120.0), -30.0), "out"))
        if t >= 10.5:
            rows.append((3, (70.0 if t < 20.0 else 40.0, 60.0), "line"))
        done += _feed(waits, t, rows, {2} if counter and t >= 11.0 else set())
        if t in (20.0, 30.0):
            done.append(waits.arrived(t))
    assert _served(done) == waits_served


@pytest.mark.parametrize("step", [18.0, 22.0])
def test_a_walker_stopping_close_behind_someone_keeps_their_companion(step: float) -> None:
    """A stands in line. B walks in at ``step`` px a detection, a walking step (22 px is just over ``relink_px``, 20),
    and stops 9 px behind A; B's companion is first boxed 16 px behind B at 12 s and stays: three in line. B's last
    step onto their place is a walk, not an id that jumped onto A (see ``_JUMP_STEP``), so B's companion is split off
    with B's start (found in review: the first version of the rule took any move over ``relink_px`` ending within half
    a step of someone for an id that landed on them, and never split B's companion off)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 30.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (60.0, 0.0), "spot"), *_walking_in(t, 1, 1.0, 60.0, (60.0, 40.0), (60.0, 150.0))]
        if t >= 9.5:
            y = max(49.0 + step * 5 - step * (t - 9.5) * 2, 49.0)
            rows.append((2, (60.0, y), "line" if y < 120 else "out"))
        if t >= 12.0:
            rows.append((3, (60.0, 65.0), "line"))
        _feed(waits, t, rows)
    assert waits.waiting(29.5) == 3


def test_the_clerks_own_id_walking_across_the_line_to_the_desk_holds_no_start() -> None:
    """A stands in line. The clerk walks in from outside at 5 s across the line's zone (a start seen walking in) and
    on, a walking step at a time, to the counter zone, and sits there. Their visit walked out of the line: its start
    goes, one in line (found in review: the first version of the clerk rule kept every start whose id ended in the
    counter zone; it now asks for an id that jumped there, as the tracker moves a waiting person's id onto the clerk
    passing by)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 60.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot"), *_walking_in(t, 1, 1.0, 60.0, (40.0, 60.0), (40.0, 100.0))]
        if t >= 4.5:
            if t < 5.0:
                clerk: Row = (50, (150.0, 80.0), "out")
            elif t < 7.0:
                clerk = (50, (150.0 - 20.0 * (t - 5.0), 60.0), "line")
            else:
                y = max(60.0 - 40.0 * (t - 7.0), -30.0)
                clerk = (50, (110.0, y), "line" if y > 50.0 else "out")
            rows.append(clerk)
        _feed(waits, t, rows, {r[0] for r in rows if r[0] == 50 and r[1][1] <= -20.0})
    assert waits.waiting(59.5) == 1


@pytest.mark.parametrize(("stands_at", "waits_served"), [(70.0, [19.0, 28.0]), (100.0, [19.0, 18.0])])
def test_the_one_served_walking_off_past_the_line_with_someones_id_leaves_them_their_start(
    stands_at: float, waits_served: list
) -> None:
    """A and B walk into the line at 1 and 2 s. The one served walks off the spot at 10 s along the front of the
    line, a walking step at a time; as they pass B the tracker swaps their ids: the served person's id stands in
    line where B stood and B's id walks on out of both zones. B did not leave: their start stays, and their wait is
    28 s when they reach the desk at 30 s (composite across view, stall-x-s1 133.8 s: the line read one short for
    two minutes). Control: the served person's id stands 30 px beyond B's place (more than ``relink_px``): someone
    else, and B's id walking off is B leaving: their start goes; the id standing in line is someone waiting since it
    was first seen there, 12 s (see ``_waits_in_line``), and waited 18 s when they reach the desk."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    done: list[FinishedVisit | None] = []
    for t in np.arange(0.0, 31.0, 0.5):
        t = float(t)
        rows: list[Row] = [*_walking_in(t, 1, 1.0, 20.0, (40.0, 60.0), (40.0, 100.0))]
        rows += _walking_in(t, 2, 2.0, 12.0, (70.0, 60.0), (70.0, 100.0))
        if t < 10.0:
            rows.append((100, (0.0, 60.0), "spot"))
        elif t < 12.0:
            rows.append((100, (40.0 * (t - 10.0), 85.0), "out"))
        else:
            rows.append((100, (stands_at, 60.0), "line"))
            rows.append((2, (80.0 + 40.0 * (t - 12.0), 85.0), "out"))
        done += _feed(waits, t, rows)
        if t in (20.0, 30.0):
            done.append(waits.arrived(t))
    assert _served(done) == waits_served


def test_someone_walking_in_taken_for_a_person_missed_for_a_moment_is_split_off_when_they_are_seen_again() -> None:
    """A stands in line from 1 s. At 10 s the detector misses A, and B, walking in a step at a time, is first seen
    in line right beside A's place: taken for A (a person lost is carried on by a new id near where they were).
    A's id is back on the next detection and B walks on and stands 40 px behind A: two people (composite across
    view, stall-x-s1 188.8 s: the newcomer walked on to the line's back uncounted for 40 s)."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    walk = {9.0: (60.0, 100.0), 9.5: (52.0, 82.0), 10.0: (45.0, 64.0), 10.5: (58.0, 61.0), 11.0: (70.0, 60.0)}
    for t in np.arange(0.0, 30.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot")]
        if t != 10.0:
            rows += _walking_in(t, 1, 1.0, 60.0, (40.0, 60.0), (40.0, 100.0))
        if t >= 9.0:
            xy = walk.get(t, (80.0, 60.0))
            rows.append((5, xy, "out" if xy[1] > 70.0 else "line"))
        _feed(waits, t, rows)
    assert waits.waiting(29.5) == 2


@pytest.mark.parametrize(("b_stands_at", "in_line"), [(80.0, 2), (44.0, 1)], ids=["apart", "one-person"])
def test_two_walking_in_together_under_one_visit_are_split_once_they_stand_apart(
    b_stands_at: float, in_line: int
) -> None:
    """A walks into the line at 1 s with B a step behind, unseen. At 2 s the detector misses A and first sees B in
    line beside A's place: taken for A (a person lost is carried on by a new id near where they were). A's id is back
    on the next detection, and B walks on to stand 40 px behind A: both ids on one visit, one start for two people.
    Once the visit is ``2 * relink_s`` old and the two have stood apart for ``duplicate_s``, B is a visit of their
    own, with A's start (composite across view, crowd-x-s7 67.0 s: a pair walking in together, one of them
    uncounted for 75 s). Control: B's box stays on A (4 px off): one person in two boxes."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 30.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot")]
        if t != 2.0:
            rows += _walking_in(t, 1, 1.0, 60.0, (40.0, 60.0), (40.0, 100.0))
        if t >= 2.0:
            x = min(42.0 + 13.0 * (t - 2.0) / 0.5, b_stands_at) if b_stands_at > 44.0 else b_stands_at
            rows.append((5, (x, 62.0), "line"))
        _feed(waits, t, rows)
    assert waits.waiting(29.5) == in_line


@pytest.mark.parametrize(("step", "leap", "in_line"), [(24.0, False, 2), (16.0, False, 2), (24.0, True, 1)])
def test_a_pair_walking_in_with_long_strides_is_told_apart_once_they_stand(
    step: float, leap: bool, in_line: int
) -> None:
    """A walks into the line at 1 s and B, first seen in line a step behind at 1.5 s, walks in after them: both ids on
    A's visit until the two are seen apart. They walk ``step`` px per detection (``relink_px`` 20) and stand from
    about 7 s. A walker taking long strides keeps their pace: no id leap, and B is a visit of their own within
    ``duplicate_s`` of standing apart (composite across view, rush-x-s7 107.3 s: 44 px steps, ``relink_px`` 43.2,
    held as one person for 4 s and a `pile_up` 5.4 s late). Control: B's box leaps 30 px back off their pace at 6 s (an
    id switch onto someone passing): not told apart for ``relink_s``."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 9.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (200.0, 60.0), "spot")]
        if t == 0.5:
            rows.append((1, (0.0, 100.0), "out"))
        if t >= 1.0:
            rows.append((1, (min(10.0 + step * (t - 1.0) / 0.5, 150.0), 60.0), "line"))
        if t >= 1.5:
            xb = min(8.0 + step * (t - 1.5) / 0.5, 110.0) + (-30.0 if leap and t >= 6.0 else 0.0)
            rows.append((2, (xb, 62.0), "line"))
        _feed(waits, t, rows)
    assert waits.waiting(8.5) == in_line


@pytest.mark.parametrize(("stands_until", "in_line"), [(30.0, 2), (11.0, 1)])
def test_an_id_from_the_desk_standing_in_line_a_while_is_someone_waiting(stands_until: float, in_line: int) -> None:
    """The one served's id (track 7, seen at the spot) moves into the line at 5.5 s and stands at (40, 60): the
    tracker put it on someone waiting, whose own box it now is. A visit from the desk is taken for the one served
    walking out across the line and counts nobody; once it has stood in line for ``2 * relink_s`` it is someone
    waiting (composite across view, stall-x-s3, and a fresh set's rush-x-s5 231 s: the line read one short for
    40 s). C walks in at 8 s. Control: the id stands in line until 11 s (under ``2 * relink_s``) and walks off: the
    one served after all, one in line."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 30.0, 0.5):
        t = float(t)
        rows: list[Row] = [*_walking_in(t, 2, 8.0, 60.0, (70.0, 60.0), (70.0, 100.0))]
        if t < 5.5:
            rows.append((7, (20.0, 20.0), "spot"))
        elif t < stands_until:
            rows.append((7, (40.0, 60.0), "line"))
        elif t < stands_until + 2.0:
            rows.append((7, (40.0 - 40.0 * (t - stands_until), 110.0), "out"))
        _feed(waits, t, rows)
    assert waits.waiting(29.5) == in_line


@pytest.mark.parametrize(
    ("c_moves", "view", "thin", "in_line"),
    [(True, "across", False, 2), (False, "across", False, 3), (True, "across", True, 3), (True, "towards", False, 3)],
    ids=["place-taken", "place-kept", "thin-zone", "line-towards-the-camera"],
)
def test_someone_lost_from_the_line_whose_place_the_next_steps_into_left_it(
    c_moves: bool, view: str, thin: bool, in_line: int
) -> None:
    """Someone is served at the desk throughout. A, B and C walk into the line at 1, 2 and 3 s and stand 40, 80 and
    120 px from the desk, the line running across the picture. B is lost at 10 s (walking off behind the line, never
    boxed again) and nobody is served; at 12 s C steps into B's place and stands there. The line does not move up
    with nobody served: B left it unseen, and after C has stood in B's place for ``relink_s`` B's start goes
    (composite across view, rush-x-s5 183.3 s: the line read one long for twenty seconds). Controls: C stays where
    they stood (B may be there, hidden: their start is kept); the zone is thin, or the line runs towards the camera
    (people in line hide each other there, and the line shuffles up under merging boxes: kept)."""

    def at(d: float, off: float = 0.0) -> tuple[float, float]:
        return (d, 60.0 + off) if view == "across" else (40.0 + off, 20.0 + d)

    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    waits.thin_zone = thin
    for t in np.arange(0.0, 30.0, 0.5):
        t = float(t)
        rows = [
            (7, at(0.0), "spot"),
            *_walking_in(t, 1, 1.0, 60.0, at(40.0), at(40.0, 40.0)),
            *_walking_in(t, 2, 2.0, 10.0, at(80.0), at(80.0, 40.0)),
        ]
        c = at(82.0) if c_moves and t >= 12.0 else at(120.0)
        rows += [(3, at(120.0, 40.0), "out")] if 2.5 <= t < 3.0 else [(3, c, "line")] if t >= 3.0 else []
        _feed(waits, t, rows)
    assert waits.waiting(29.5) == in_line


@pytest.mark.parametrize(("box_stays", "in_line"), [(True, 2), (False, 3)], ids=["box-seen", "box-lost-too"])
def test_a_box_found_amid_the_line_taken_for_someone_lost_holds_no_second_start(box_stays: bool, in_line: int) -> None:
    """A and B walk in at 1 and 2 s and stand at x = 40 and 140. From 5 s the detector boxes someone at x = 100,
    between them, never seen walking in: a start is added for them. B's box is lost at 6 s for good, and the box at
    100 is taken for B (it began in the line near B while B was lost) and handed B's start. The box is seen in line,
    and the ledger holds three starts for the two people seen: the box's own start goes (composite across view,
    rush-x-s5 95.8 s: the line read one long for ten seconds and a `pile_up` came 15 s early). Control: the box is
    lost at 6 s too (people hidden in line): every start stays."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 21.0, 0.5):
        t = float(t)
        rows = [
            *_walking_in(t, 1, 1.0, 30.0, (40.0, 60.0), (40.0, 100.0)),
            *_walking_in(t, 2, 2.0, 6.0, (140.0, 60.0), (140.0, 100.0)),
        ]
        if 5.0 <= t < (30.0 if box_stays else 6.0):
            rows.append((9, (100.0, 60.0), "line"))
        _feed(waits, t, rows)
    assert waits.waiting(20.0) == in_line


@pytest.mark.parametrize(("walks_out_at", "in_line"), [(30.0, 1), (13.0, 2)], ids=["stood-long", "a-moment"])
def test_someone_holding_no_start_of_their_own_who_walks_out_takes_one(walks_out_at: float, in_line: int) -> None:
    """A and B walk in at 1 and 2 s (two starts). B's box is lost at 6 s for good (their start kept: B is most often
    still there, unseen), and from 12 s B is boxed again under a new id 50 px further on (too far to be taken for B:
    a visit with no start of its own, the ledger holding two for two people). At 30 s that id walks out of the line
    and away: the line holds A alone, and the one who left takes a start with them (composite across view, rush-x-s5
    270.7 s: someone who had stood in line two minutes gave up and walked off; the line read one long to the end).
    Control: the new id walks out at 13 s, a moment after it was first seen (a passing walker or a second box, under
    ``2 * relink_s`` in line): no start goes."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 41.0, 0.5):
        t = float(t)
        rows: list[Row] = [
            *_walking_in(t, 1, 1.0, 60.0, (40.0, 60.0), (40.0, 100.0)),
            *_walking_in(t, 2, 2.0, 6.0, (80.0, 60.0), (80.0, 100.0)),
        ]
        if 12.0 <= t < walks_out_at:
            rows.append((5, (130.0, 60.0), "line"))
        elif walks_out_at <= t < walks_out_at + 6.0:
            rows.append((5, (130.0, 100.0 + 20.0 * (t - walks_out_at)), "out"))
        _feed(waits, t, rows)
    assert waits.waiting(40.0) == in_line


@pytest.mark.parametrize(("found_x", "in_line"), [(168.0, 1), (100.0, 2)])
def test_a_fast_walker_found_just_past_a_detections_walk_is_not_taken_for_a_walker_lost_far_off(
    found_x: float, in_line: int
) -> None:
    """Someone (track 1) walks by out of both zones until 1.5 s and is lost there. P walks up (track 2, out at 3 s),
    steps into the line under a new id at 3.5 s (track 3, carrying P's walk on) and, striding fast, is lost at 4.5 s
    and found under a third id at 5 s 42 px on, just over a detection period's walk (``2 * relink_px``, 40 px): as
    far as P walks in that time, so P's visit carries on, not the far-off walker's (composite across view, rush-x-s4
    165.8 s: 88 px a detection along the line's back, ``relink_px`` 43.2; the new id carried on a walker lost 266 px
    away and P counted twice, the line one long for 65 s). Control: found 110 px on, beyond P's walk: someone else."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 12.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (300.0, 60.0), "spot")]
        if 0.5 <= t <= 1.5:
            rows.append((1, (60.0, 150.0), "out"))
        if t == 3.0:
            rows.append((2, (230.0, 80.0), "out"))
        elif 3.5 <= t <= 4.0:
            rows.append((3, (210.0, 60.0), "line"))
        elif t >= 5.0:
            rows.append((4, (found_x, 60.0), "line"))
        _feed(waits, t, rows)
    assert waits.waiting(11.5) == in_line


@pytest.mark.parametrize(
    ("seen", "in_line"),
    [
        ({10.0: 75.0, 10.5: 90.0, 11.0: 105.0}, 1),  # walking off, 15 px a detection
        ({10.0: 64.0, 10.5: 68.0, 11.0: 72.0}, 2),  # a foot point off the zone's edge
        ({11.0: 130.0}, 2),  # found 70 px off after a loss: an id leap
    ],
)
def test_someone_seen_walking_off_who_leaves_the_picture_before_the_grace_is_out_left(
    seen: dict[float, float], in_line: int
) -> None:
    """A and B walk into the line at 1 and 2 s. From 10 s B walks out of it (``seen``: where B's box is, out of the
    line, at each time) and is lost at 11.5 s (out of the picture) before ``reentry_grace_s`` out of the line has
    passed. Seen walking off, at least ``relink_px`` (20) from their place, B left: their start goes (composite across
    view, rush-x-s4 289.2 s: someone who gave up walked off to the picture's edge in 2.5 s; the start was kept as
    someone unseen in line and the line read one long to the end). Controls: B's box last seen 12 px off their place
    (a foot point off the zone's edge), or found once 70 px off after a loss (an id gone onto someone else: our
    renderer's hard scene, seed offset 8000, 152.5 s), then lost: most often still there, unseen; the start stays."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 21.0, 0.5):
        t = float(t)
        rows: list[Row] = [
            *_walking_in(t, 1, 1.0, 30.0, (40.0, 60.0), (40.0, 100.0)),
            *_walking_in(t, 2, 2.0, 10.0, (80.0, 60.0), (80.0, 100.0)),
        ]
        if t in seen:
            rows.append((2, (80.0, seen[t]), "out"))
        _feed(waits, t, rows)
    assert waits.waiting(20.5) == in_line


@pytest.mark.parametrize(("lands", "waiting"), [(160.0, 2), (110.0, 1)], ids=["far-on-a-newcomer", "beside-its-person"])
def test_an_id_lost_on_someone_in_line_given_to_a_newcomer_far_off_counts_the_newcomer(
    lands: float, waiting: int
) -> None:
    """A walks in and stands in line at (100, 50) under track 1; at 8 s A is boxed under track 2 for a detection
    (an id switch: one visit, two tracks), then under 1 again. B walks in from outside under track 3 at 11 s; at
    12.5 s track 3 is lost and B is boxed under the old track 2, ``lands`` px along the line, while track 1 stays on
    A. Far off, track 2 leapt onto someone else: B is a person of their own, and the line holds two (composite
    across view, rush-x-s13 139.8 s: someone walking in went uncounted for 56 s). Control: track 2 back beside A,
    10 px off, is A's second box, one person."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 20.0, 0.5):
        t = float(t)
        if t < 4.0:
            rows: list[Row] = [(1, (100.0, 50.0 + 10.0 * (4.0 - t)), "out")]
        elif t == 8.0:
            rows = [(2, (100.0, 50.0), "line")]
        else:
            rows = [(1, (100.0, 50.0), "line")]
        if 11.0 <= t < 12.5:
            rows.append((3, (lands + 10.0 * (12.5 - t), 80.0 + 20.0 * (11.0 - t)), "out"))
        elif t >= 12.5:
            rows.append((2, (lands, 50.0), "line"))
        _feed(waits, t, rows)
    assert waits.waiting(19.5) == waiting


@pytest.mark.parametrize(("found_stays", "waiting"), [(False, 3), (True, 4)], ids=["found-box-lost", "found-one-stays"])
def test_a_companion_split_off_takes_the_start_found_for_them_on_the_way_in(found_stays: bool, waiting: int) -> None:
    """A stands in line (start 2 s). B walks in under track 5 (start 11.5 s); at 12 s a box no walk explains is found
    in line ahead of B (track 6, 45 px on: a start is found for it), lost at 12.5 s; from 13 s C stands beside B
    (track 7, 18 px off), and after ``duplicate_s`` the two are two people, C with B's start. The start found at 12 s
    was C on the way in: it goes, and the line holds three (composite across view, rush-x-s13 219.3 s: a pair walking
    in under changing ids, one more start than people for 28 s, and a false `pile_up`). Control: the box found at 12
    s stays in line, someone of their own; four."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    for t in np.arange(0.0, 20.0, 0.5):
        t = float(t)
        rows: list[Row] = [(1, (100.0, 50.0 + 10.0 * max(0.0, 2.0 - t)), "line" if t >= 2.0 else "out")]
        if 10.0 <= t < 11.5:
            rows.append((5, (130.0, 50.0 + 20.0 * (11.5 - t)), "out"))
        elif t >= 11.5:
            rows.append((5, (130.0, 50.0), "line"))
        if t == 12.0 or (found_stays and t > 12.0):
            rows.append((6, (175.0, 50.0), "line"))
        if t >= 13.0:
            rows.append((7, (148.0, 50.0), "line"))
        _feed(waits, t, rows)
    assert waits.waiting(19.5) == waiting


@pytest.mark.parametrize(("across", "after"), [(True, 2), (False, 3)], ids=["across", "down"])
def test_a_start_nobody_holds_in_a_line_across_the_picture_goes(across: bool, after: int) -> None:
    """C stands at the front from 1 s; at 4 s C's box is gone as the one at the spot is new there (C taken for someone
    found at the desk, and no arrival reported: C's start stays in the ledger). A and B walk in at 6 and 8 s and stand
    in line, seen. Three starts, two people seen, nobody lost in line. In a line across the picture people stand side
    by side with floor between them, and such a start is someone counted twice (composite across view, stall-x-s14
    34.3 s: an id handed on at a hand-over, one person walked in twice; the line read one long for 24 s, and three
    times more): after ``2 * relink_s`` the ledger holds the people seen. In a line down the picture the one in
    front hides the one behind: the start is someone hidden, and stays."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    counts = {}
    for t in np.arange(0.0, 40.0, 0.5):
        t = float(t)
        rows: list[Row] = [(100, (0.0, 60.0), "spot")]
        rows += _walking_in(t, 1, 1.0, 4.0, (40.0, 60.0), (40.0, 100.0))
        rows += _walking_in(t, 2, 6.0, 40.0, (60.0, 60.0), (60.0, 100.0))
        rows += _walking_in(t, 3, 8.0, 40.0, (80.0, 60.0), (80.0, 100.0))
        _feed(waits, t, rows if across else _down(rows))
        counts[t] = waits.waiting(t)
    assert counts[10.0] == 3  # (the extra start is not given up at once: a person may be hidden for a moment)
    assert counts[14.0] == 3
    assert [counts[t] for t in counts if t >= 16.0] == [after] * 48


def _feed_each(
    waits: WaitTracker, until: float, rows_at: Callable[[float], list[Row]], each: Callable[[float], None] | None = None
) -> None:
    """Feed ``rows_at(t)`` every half second from 0 s up to ``until``, then ``each(t)`` if given."""
    for t in np.arange(0.0, until, 0.5):
        _feed(waits, float(t), rows_at(float(t)))
        if each is not None:
            each(float(t))


def _across(t: float, people: tuple[tuple[float, float], ...], until: float) -> list[Row]:
    """The one served at the spot (0, 60), track 100, and ``people`` (start, x; tracks 1, 2, ...) seen walking up from
    below into a line across the picture, each standing at (x, 60) from their start until ``until``."""
    rows: list[Row] = [(100, (0.0, 60.0), "spot")]
    for tid, (start, x) in enumerate(people, start=1):
        rows += _walking_in(t, tid, start, until, (x, 60.0), (x, 100.0))
    return rows


@pytest.mark.parametrize(
    ("across", "front", "ends"), [(True, "stays", False), (True, "gone", True), (False, "stays", True)]
)
def test_someone_first_seen_at_the_desk_with_the_whole_line_in_place_ends_no_wait(
    across: bool, front: str, ends: bool
) -> None:
    """D is served at the spot from 0 s; A and B walk into the line at 2 and 4 s and stand side by side. At 10 s D
    walks off, and a new id is first seen at the spot (born there). In a line across the picture nobody hides behind
    a neighbour, and A and B are both still seen where they stood: nobody from the line stepped up, and the new id
    ends no wait (composite across view, rush-x-s22 141.8 s: a passer-by's new id in the zone as the one served
    walked off took the first start in line). Controls: A's box gone as the new id comes (A stepped up, unboxed on
    the way); a line down the picture, where the one in front hides the one behind."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)
    results: list[FinishedVisit | None] = []

    def rows_at(t: float) -> list[Row]:
        rows = _across(t, ((2.0, 40.0), (4.0, 60.0)), 12.0)[1:]  # (the one served walks off below)
        if t < 10.0:
            rows.append((100, (0.0, 60.0), "spot"))
        elif t < 11.0:
            rows.append((100, (0.0, 100.0 + 20.0 * (t - 9.5)), "out"))
        if t >= 10.5:
            rows.append((7, (2.0, 60.0), "spot"))
        if front == "gone" and t >= 10.5:
            rows = [r for r in rows if r[0] != 1]
        return rows if across else _down(rows)

    def arrive(t: float) -> None:
        if t == 10.5:
            results.append(waits.arrived(t, track=7))

    _feed_each(waits, 12.0, rows_at, arrive)
    assert (results[0] is not None and results[0].served) == ends


@pytest.mark.parametrize(("leaps", "waiting"), [(True, 3), (False, 4)], ids=["id-leaps-onto-them", "walks-in"])
def test_an_id_that_leaps_onto_someone_lost_in_line_adds_no_start(leaps: bool, waiting: int) -> None:
    """A, B and C walk into a line across the picture and stand side by side; from 10 s C is not boxed (lost for good
    after ``relink_s``, their start kept). At 20 s an id seen far off a detection before (someone walking past at the
    top of the picture, 60 px away) is on C, where C stood: the tracker moved it onto C, found again, who adds no
    start; the line holds three (composite across view, crowd-x-s22 99.8 s: it was counted one long for a minute).
    Control: a track seen walking in, a step away a detection before, is someone new at the back of the line."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)

    def rows_at(t: float) -> list[Row]:
        rows = _across(t, ((2.0, 40.0), (4.0, 60.0)), 26.0)
        rows += _walking_in(t, 3, 6.0, 10.0, (80.0, 60.0), (80.0, 100.0))  # (C, unboxed from 10 s)
        if t == 19.5:
            rows.append((9, (82.0, 0.0) if leaps else (88.0, 75.0), "out"))
        elif t >= 20.0:
            rows.append((9, (82.0, 60.0), "line"))
        return rows

    _feed_each(waits, 26.0, rows_at)
    assert waits.waiting(25.5) == waiting


@pytest.mark.parametrize(
    ("found", "carrier", "waiting"),
    [(140.0, 6, 5), (140.0, 7, 5), (200.0, 6, 6)],
    ids=["as-far-as-they-walk", "under-the-walkers-id", "further-on"],
)
def test_someone_crossing_the_line_to_its_back_under_a_new_id_is_counted_once(
    found: float, carrier: int, waiting: int
) -> None:
    """A, B, C and D stand side by side in a line across the picture; someone walks past above it (out of the zones)
    and is lost at 19 s. At 20 s E walks down into the line from above between B and C (ahead of its back: not seen
    walking in at the back; counted by place), is lost there, and a new id is first seen in line at its back 1.5 s
    later, 70 px on: as far as E walks meanwhile, so E's id, not someone new carrying on the walker lost above;
    counted once (composite across view, away-x-s23 188.3 s: someone crossing the middle of the line to its back
    under a new id was counted twice, and a false `pile_up` came); likewise under the id of the one walking past,
    which the tracker moved onto E (stall-x-s23 159.3 s). Control: the new id first seen 130 px on, further than E
    walks: someone who walked up, a sixth."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)

    def rows_at(t: float) -> list[Row]:
        rows = _across(t, ((2.0, 40.0), (4.0, 60.0), (6.0, 80.0), (8.0, 100.0)), 30.0)
        if 17.0 <= t <= 19.0:
            rows.append((7, (150.0 + 25.0 * (19.0 - t), 10.0), "out"))
        if t == 19.5:
            rows.append((5, (70.0, 20.0), "out"))
        elif t == 20.0:
            rows.append((5, (70.0, 58.0), "line"))
        elif t >= 21.5:
            rows.append((carrier, (found, 60.0), "line"))
        return rows

    _feed_each(waits, 30.0, rows_at)
    assert waits.waiting(29.5) == waiting


@pytest.mark.parametrize(("walks_on", "waiting"), [(True, 4), (False, 3)], ids=["walks-to-the-back", "stays-beside"])
def test_an_id_that_landed_on_someone_in_line_and_walked_to_the_back_is_a_person(walks_on: bool, waiting: int) -> None:
    """A, B and C stand side by side in a line across the picture. At 20 s an id seen above the line a detection
    before (58 px away: more than a walk) lands on C, as if the tracker moved it there (it counts nobody); then it
    walks on along the line to its back, 60 px past C, and stands there apart from everyone: someone who crossed
    the line close behind C, a person of their own (composite across view, rush-x-s15 130.8 s: the line read one
    short for 160 s). Control: the id stays beside C (a stray id on C, drifting), and counts nobody."""
    waits = WaitTracker(relink_px=20.0, desk_arrivals=True)

    def rows_at(t: float) -> list[Row]:
        rows = _across(t, ((2.0, 40.0), (4.0, 60.0), (6.0, 80.0)), 30.0)
        if t == 19.5:
            rows.append((5, (75.0, 0.0), "out"))
        elif t >= 20.0:
            x = min(80.0 + 40.0 * (t - 20.0), 140.0) if walks_on else 82.0
            rows.append((5, (x, 60.0), "line"))
        return rows

    _feed_each(waits, 30.0, rows_at)
    assert waits.waiting(29.5) == waiting
