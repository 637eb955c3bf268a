"""The line's ledger of starts (WaitTracker with desk arrivals): which starts it keeps, and which it never takes."""

from __future__ import annotations

import numpy as np
import pytest

from kedirivms.analytics.queue.metrics import FinishedVisit, WaitTracker

Row = tuple[int, tuple[float, float], str]  # track, centre, "line" / "spot" / "out"


def _feed(waits: WaitTracker, t: float, rows: list[Row]) -> list[FinishedVisit]:
    ids = np.array([r[0] for r in rows], dtype=int)
    centres = np.array([r[1] for r in rows], dtype=float).reshape(-1, 2)
    in_queue = np.array([r[2] == "line" for r in rows], dtype=bool)
    in_service = np.array([r[2] == "spot" for r in rows], dtype=bool)
    return waits.update(t, ids, centres, in_queue, in_service)


def _served(done: list[FinishedVisit | None]) -> list[float]:
    return [round(v.wait_s, 3) for v in done if v is not None and v.served and not v.censored]


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
