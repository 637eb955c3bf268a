"""People hidden in the gaps of a tight line (docs/queue-analytics.md, "The tight line's gaps").

In a line of people standing close, each hides most of the one behind; the detector finds the others at the line's
regular step, with a gap of two steps where someone stands hidden. A loose line's gaps, and gaps opened by people
walking, are real and stay empty.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import supervision as sv

from kedirivms.analytics.queue import QueueAnalyzer, QueueConfig, person_detections
from kedirivms.analytics.queue.feet import feet_beside
from kedirivms.analytics.queue.line_gaps import LineGaps, neighbours, step_modes
from kedirivms.analytics.queue.second_look import EXTRA

from .conftest import scripted_detector


def _config(**tracking: float) -> QueueConfig:
    return QueueConfig.model_validate(
        {
            "zones": [{"name": "all", "kind": "queue", "points": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
            "anchor": "bottom_center",
            "detector": "dnn",
            "dnn": {"motion_gate": {"enabled": False}},
            "unstaffed": {"enabled": False},
            "tracking": tracking,
        }
    )


def _line(step: float, missing: int, n: int = 8, drift: float = 0.0) -> Callable[[float], list[list[float]]]:
    """``n`` people 80 px tall, ``step`` px apart on both axes (moving ``drift`` px/s), the ``missing``-th unseen."""

    def boxes(t: float) -> list[list[float]]:
        out = []
        for k in range(n):
            if k == missing:
                continue
            fx, fy = 250.0 - step * k + drift * t, 100.0 + step * k
            out.append([fx - 15.0, fy - 80.0, fx + 15.0, fy])
        return out

    return boxes


def _counts(analyzer: QueueAnalyzer, seconds: float = 20.0) -> list[int]:
    y = np.zeros((360, 640), np.uint8)
    out = []
    for k in range(int(seconds * 10)):
        analyzer.update(y, round(0.1 * k, 1))
        assert analyzer.last is not None
        out.append(analyzer.last.seen_length)
    return out


def test_neighbours_follow_a_line() -> None:
    pts = np.array([[0.0, 0.0], [30.0, 1.0], [10.0, 0.0], [20.0, 0.0]])
    assert sorted(tuple(sorted(e)) for e in neighbours(pts)) == [(0, 2), (1, 3), (2, 3)]
    assert neighbours(pts[:1]) == []


def test_neighbours_join_feet_on_the_same_pixel() -> None:
    # scipy's graphs read a zero distance as no edge: two boxes' feet on one pixel must still be joined
    pts = np.array([[0.0, 0.0], [0.0, 0.0], [20.0, 0.0], [40.0, 0.0]])
    tree = sorted(tuple(sorted(e)) for e in neighbours(pts))
    assert tree in ([(0, 1), (0, 2), (2, 3)], [(0, 1), (1, 2), (2, 3)])  # either is shortest


def test_someone_hidden_in_a_tight_lines_gap_counts() -> None:
    # 8 people at a step of 0.21 of their height (about 17 px of 80), the 5th never boxed: the gap behind the
    # 6th (who covers the spot) is two steps long
    counts = _counts(QueueAnalyzer(_config(), detector=scripted_detector(_line(12.0, missing=4))))
    assert counts[-1] == 8
    assert set(counts[100:]) == {8}
    off = _counts(QueueAnalyzer(_config(line_pitch=0), detector=scripted_detector(_line(12.0, missing=4))))
    assert set(off[100:]) == {7}  # the setting off: the code before


def test_a_loose_lines_gap_and_people_walking_stay_empty() -> None:
    # people 0.53 of their height apart do not hide each other: a gap there is a gap
    assert set(_counts(QueueAnalyzer(_config(), detector=scripted_detector(_line(30.0, missing=4))))[100:]) == {7}
    # the same tight line walking past (10 px a detection, 0.12 of a height): its gaps are not a line's
    walking = _line(12.0, missing=4, drift=20.0)
    assert max(_counts(QueueAnalyzer(_config(), detector=scripted_detector(walking)))[100:]) == 7


def test_line_gaps_learn_the_pitch_before_filling_anything() -> None:
    gaps = LineGaps(0.3, 60.0)
    feet = np.array([[100.0, 100.0 + 16.0 * k] for k in (0, 1, 2, 4)])  # one missing at 3
    xyxy = np.column_stack([feet[:, 0] - 15, feet[:, 1] - 80, feet[:, 0] + 15, feet[:, 1]])
    ids, counted = np.arange(4), np.ones(4, dtype=bool)
    found = [gaps.hidden(0.5 * k, feet, xyxy, ids, counted) for k in range(40)]
    assert found[0] == 0 and found[32] == 0  # no pitch learnt yet: 3 distances a detection, 100 wanted
    assert found[33] == 1 and found[-1] == 1 and gaps.pitch is not None and abs(gaps.pitch - 0.2) < 1e-6


def test_a_duplicate_box_does_not_teach_the_pitch() -> None:
    # a second-look (or kept) box lying on a person's own box is a step of nothing: learnt, it would shrink the
    # pitch and fill an ordinary gap with several people
    feet = np.array([[100.0, 100.0 + 16.0 * k] for k in (0, 1, 2, 4)] + [[101.0, 102.0]])
    xyxy = np.column_stack([feet[:, 0] - 15, feet[:, 1] - 80, feet[:, 0] + 15, feet[:, 1]])
    ids, counted = np.array([0, 1, 2, 3, -1]), np.ones(5, dtype=bool)
    boxed = np.array([True, True, True, True, False])
    gaps = LineGaps(0.3, 60.0)
    found = [gaps.hidden(0.5 * k, feet, xyxy, ids, counted, boxed) for k in range(60)]
    assert found[-1] == 1 and gaps.pitch is not None and abs(gaps.pitch - 0.2) < 1e-6
    fooled = LineGaps(0.3, 60.0)
    found = [fooled.hidden(0.5 * k, feet, xyxy, ids, counted) for k in range(40)]
    assert fooled.pitch is not None and fooled.pitch < 0.15 and found[-1] > 1  # the one hidden, and ghosts


def _desk_config(**tracking: float) -> QueueConfig:
    return QueueConfig.model_validate(
        {
            "zones": [
                {"name": "desk", "kind": "service", "points": [[0, 0], [1, 0], [1, 99 / 360], [0, 99 / 360]]},
                {"name": "line", "kind": "queue", "points": [[0, 99 / 360], [1, 99 / 360], [1, 1], [0, 1]]},
            ],
            "anchor": "bottom_center",
            "detector": "dnn",
            "dnn": {"motion_gate": {"enabled": False}},
            "unstaffed": {"enabled": False},
            "tracking": tracking,
        }
    )


def _front_cut(shorter: float) -> Callable[[float], list[list[float]]]:
    """The one served (90 px tall, feet on row 98) and behind them a tight line of seven; from 10 s the next in line
    stands at its front, boxed down to row 98 only (its legs hidden by someone nobody boxed) and beginning
    ``shorter`` px lower than the one served."""
    line = _line(12.0, missing=0)

    def boxes(t: float) -> list[list[float]]:
        out = [[235.0, 8.0, 265.0, 98.0], *line(t)]
        if t >= 10.0:
            out.append([240.0, 8.0 + shorter, 262.0, 98.0])
        return out

    return boxes


def test_the_front_of_a_tight_line_cut_off_by_someone_unboxed_counts_in_the_line() -> None:
    # the one at the front of a tight line ends on the row of the one served: the same distance from the camera, yet
    # 30 px shorter, their legs are hidden; as tall as the one served, their feet stand in the line
    counts = _counts(QueueAnalyzer(_desk_config(), detector=scripted_detector(_front_cut(30.0))))
    assert set(counts[60:100]) == {7} and set(counts[110:]) == {8}
    # without a tight line (line_pitch 0: the code before) they stay where their box ends, at the desk
    assert set(
        _counts(QueueAnalyzer(_desk_config(line_pitch=0), detector=scripted_detector(_front_cut(30.0))))[110:]
    ) == {7}


def test_someone_as_tall_as_the_one_beside_them_is_not_moved() -> None:
    # a box beginning only 5 px lower than the one beside it on the same row is a person of their own height
    assert set(_counts(QueueAnalyzer(_desk_config(), detector=scripted_detector(_front_cut(5.0))))[110:]) == {7}


def test_feet_beside_reach_down_as_far_as_the_box_beside_is_tall() -> None:
    boxes = np.array([[0.0, 0.0, 30.0, 100.0], [20.0, 30.0, 45.0, 102.0], [100.0, 30.0, 130.0, 100.0]])
    placed = feet_beside(boxes)
    assert placed[1].tolist() == [20.0, 30.0, 45.0, 130.0]  # cut off beside the first: 100 px below its top
    assert placed[[0, 2]].tolist() == boxes[[0, 2]].tolist()  # the tall one, and one beside nobody, stay


def _front_missed(served_drift: float) -> Callable[[float], list[list[float]]]:
    """A tight line of eight whose first stands a pitch (17 px) behind the one served; at 15 s the one served leaves,
    the first steps up to the desk (moving ``served_drift`` px/s there) and the others move up a place, but the
    new first in line is never boxed."""
    line = _line(12.0, missing=-1)

    def boxes(t: float) -> list[list[float]]:
        if t < 15.0:
            return [[247.0, 0.0, 277.0, 88.0], *line(t)]
        dx = served_drift * (t - 15.0)
        return [[247.0 + dx, 0.0, 277.0 + dx, 88.0], *line(t)[1:-1]]

    return boxes


def test_someone_hidden_at_a_tight_lines_front_counts() -> None:
    # behind the one served, two pitches to the first boxed in line where one is usual: someone stands hidden there
    # (nobody kept at a last box: the tracker follows the people who moved up by their places, not by who they are)
    config = _desk_config(hidden_s=0)
    counts = _counts(QueueAnalyzer(config, detector=scripted_detector(_front_missed(0.0))), seconds=25.0)
    assert set(counts[100:150]) == {8} and set(counts[170:]) == {7}
    # the one served walking off (40 px a second) leaves a gap nobody hides in
    walking = _counts(QueueAnalyzer(config, detector=scripted_detector(_front_missed(40.0))), seconds=25.0)
    assert set(walking[170:]) == {6}


def _line_with_pair(step: float) -> Callable[[float], list[list[float]]]:
    """A line of 8 (see :func:`_line`) whose 5th has someone close behind: one first-look box round both, and the
    second look's box of the one behind, wholly inside it."""

    def boxes(t: float) -> list[list[float]]:
        out = _line(step, missing=-1)(t)
        x0, y0, x1, y1 = out[4]
        out[4] = [x0 - 22.0, y0 - 6.0, x1, y1]  # 52 px wide: the 5th and someone behind them, to the left
        return out

    return boxes


def _pair_looks(
    boxes: Callable[[float], list[list[float]]], inner: Callable[[list[float]], list[float]]
) -> Callable[[float], sv.Detections]:
    """``boxes`` and a box of the second look inside the 5th's box (given by ``inner``), marked as the adapter marks
    them."""

    def detect(t: float) -> sv.Detections:
        first = boxes(t)
        det = person_detections([*first, inner(first[4])], 0.9)
        det.data[EXTRA] = np.arange(len(det)) == len(first)
        return det

    return detect


def test_in_a_tight_line_a_second_look_box_inside_a_first_look_box_is_someone_behind() -> None:
    # a tight line: the first look's box round two people standing close is one box for two, and the second
    # look's box inside it is the one behind, not a part of the one in front
    def behind(b: list[float]) -> list[float]:  # 24 px wide, the left of the 52 px box
        return [b[0], b[1], b[0] + 24.0, b[3] - 6.0]

    counts = _counts(QueueAnalyzer(_config(), detector=scripted_detector(_pair_looks(_line_with_pair(12.0), behind))))
    assert counts[-1] == 9 and set(counts[150:]) == {9}
    # a loose line (people 0.53 of their height apart): a box inside someone's box is a part of them
    loose = _counts(QueueAnalyzer(_config(), detector=scripted_detector(_pair_looks(_line_with_pair(30.0), behind))))
    assert set(loose[150:]) == {8}

    # in the tight line too, a box inside one less than twice as wide is a part of that person (legs, torso)
    def part(b: list[float]) -> list[float]:
        return [b[0] + 20.0, b[1] + 20.0, b[2] - 4.0, b[3] - 4.0]

    own = _counts(QueueAnalyzer(_config(), detector=scripted_detector(_pair_looks(_line_with_pair(12.0), part))))
    assert set(own[150:]) == {8}


def _found_line(distances: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Feet and boxes (80 px tall) of people standing one behind the other, ``distances`` apart (in heights)."""
    ys = 100.0 + 80.0 * np.concatenate([[0.0], np.cumsum(distances)])
    feet = np.column_stack([np.full(len(ys), 200.0), ys])
    return feet, np.column_stack([feet[:, 0] - 15, feet[:, 1] - 80, feet[:, 0] + 15, feet[:, 1]])


def test_the_step_along_a_line_comes_from_its_one_and_two_step_modes() -> None:
    # found boxes measure one step (0.2) long, 0.24, and two steps short, 0.34: the step is the distance per step
    rng = np.random.default_rng(3)
    one, two = rng.normal(0.24, 0.02, 300), rng.normal(0.34, 0.03, 200)
    step = step_modes(np.concatenate([one, two, rng.uniform(0.0, 1.0, 40)]))
    assert step is not None and abs(step - (0.6 * 0.24 + 0.4 * 0.34) / (0.6 + 2 * 0.4)) < 0.01
    full = step_modes(np.full(200, 0.21))  # nobody missed: every distance one step
    assert full is not None and abs(full - 0.21) < 1e-6
    assert step_modes(np.array([0.2])) is None


def test_gaps_too_short_for_two_pitches_count_by_the_lines_span() -> None:
    # a line whose two-step gaps (0.34) measure 1.4 pitches (0.24, the lower quartile), under the gap rule's 1.6: the
    # gaps alone add nobody, while the line's span (1.16 of a height, about six steps of 0.19 over four links) says
    # two; the mean of both counts one
    feet, xyxy = _found_line([0.24, 0.34, 0.24, 0.34])
    ids, counted = np.arange(len(feet)), np.ones(len(feet), dtype=bool)
    gaps, before = LineGaps(0.3, 120.0), LineGaps(0.3, 120.0, span=False)
    found = [gaps.hidden(0.5 * k, feet, xyxy, ids, counted) for k in range(40)]
    old = [before.hidden(0.5 * k, feet, xyxy, ids, counted) for k in range(40)]
    assert gaps.pitch is not None and abs(gaps.pitch - 0.24) < 1e-6 and gaps.tight
    assert set(old[30:]) == {0}  # the code before: no gap of 1.6 pitches
    assert set(found[30:]) == {1}
    # a line with nobody missed (every link one step) gets nobody from its span
    full_feet, full_xyxy = _found_line([0.21] * 6)
    full = LineGaps(0.3, 120.0)
    ids6, counted6 = np.arange(7), np.ones(7, dtype=bool)
    assert {full.hidden(0.5 * k, full_feet, full_xyxy, ids6, counted6) for k in range(40)} == {0}


def _look(steps: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Feet and boxes (80 px tall) of people found at these steps (16 px, 0.2 of a height) down a line."""
    feet = np.array([[100.0, 100.0 + 16.0 * k] for k in steps])
    return feet, np.column_stack([feet[:, 0] - 15, feet[:, 1] - 80, feet[:, 0] + 15, feet[:, 1]])


def _boxed_badly(gaps: LineGaps) -> list[int]:
    """40 s of a tight line with one missed (pitch 0.2), then 100 s with only every other person found (0.4 apart,
    three hidden): the people added on the last 20 s."""
    ids, counted = np.arange(4), np.ones(4, dtype=bool)
    for k in range(80):
        gaps.hidden(0.5 * k, *_look([0, 1, 2, 4]), ids, counted)
    return [gaps.hidden(40.0 + 0.5 * k, *_look([0, 2, 4, 6]), ids, counted) for k in range(200)][-40:]


def test_a_tight_line_the_detector_boxes_badly_stays_tight_until_it_is_gone() -> None:
    held, before = LineGaps(0.3, 60.0), LineGaps(0.3, 60.0, hold=False)
    late, old = _boxed_badly(held), _boxed_badly(before)
    for gaps in (held, before):  # once the window holds only the far neighbours the learnt pitch is 0.4: loose
        assert gaps.pitch is not None and abs(gaps.pitch - 0.4) < 1e-6 and not gaps.tight
    assert set(old) == {0}  # the code before: the line looks loose
    assert min(late) >= 1  # the people hidden in it still count
    # nobody in line for the window: the line is gone, and a loose line of the same spacing later adds nobody
    for k in range(130):
        held.hidden(140.0 + 0.5 * k, np.zeros((0, 2)), np.zeros((0, 4)), np.zeros(0, dtype=int), np.zeros(0, bool))
    ids, counted = np.arange(4), np.ones(4, dtype=bool)
    assert {held.hidden(205.0 + 0.5 * k, *_look([0, 2, 4, 6]), ids, counted) for k in range(200)} == {0}


def test_a_held_lines_step_is_the_one_fitted_while_both_modes_showed() -> None:
    # boxed at every other person, the window's distances are one mode 0.4 long, which the fit takes for one step:
    # the span then says nobody is hidden and the mean with the gaps (three) adds two. While held, the step is at
    # most the one fitted when the line showed a one-step and a two-step mode (0.2): the span says three too
    two, before = LineGaps(0.3, 60.0, recent=False), LineGaps(0.3, 60.0, two_step=False, recent=False)
    assert set(_boxed_badly(before)) == {2}  # the code before: the window's step, two steps long
    assert set(_boxed_badly(two)) == {3}
    assert set(_boxed_badly(LineGaps(0.3, 60.0))) == {3}  # the recent fit's step (the default) says three too
    # a line learnt tight and never held keeps the window's step: a full line gets nobody from its span
    full_feet, full_xyxy = _found_line([0.21] * 6)
    full, ids, counted = LineGaps(0.3, 120.0), np.arange(7), np.ones(7, dtype=bool)
    assert {full.hidden(0.5 * k, full_feet, full_xyxy, ids, counted) for k in range(40)} == {0}


def _boxed_for_two(gaps: LineGaps) -> list[int]:
    """40 s of a tight line with one missed (steps of 0.2, one link two steps), then 60 s of it boxed with every
    link 0.28 long (boxes round two people, their feet between them): the people added each 4 s from 56 s on."""
    out, t = [], 0.0
    for distances, seconds in (([0.2, 0.2, 0.4, 0.2, 0.2], 40.0), ([0.28] * 4, 60.0)):
        feet, xyxy = _found_line(distances)
        ids, counted = np.arange(len(feet)), np.ones(len(feet), dtype=bool)
        for _ in range(int(seconds / 0.5)):
            out.append(gaps.hidden(t, feet, xyxy, ids, counted))
            t += 0.5
    return out[112::8]


def test_a_tight_lines_step_is_at_most_the_recent_fit_that_showed_both_modes() -> None:
    # once every link measures 0.28 the learnt pitch is 0.28 (tight, never held) and the window's fit is one mode,
    # 0.28 a step: neither the gaps nor the span add anyone. A fit made a little earlier over a full window showed
    # both modes (a step of about 0.2): its step spans 1.12 of a height as five or six steps, one person hidden,
    # until it is forgotten (window_s after it was made)
    recent, before = _boxed_for_two(LineGaps(0.3, 20.0)), _boxed_for_two(LineGaps(0.3, 20.0, recent=False))
    assert set(before) == {0}  # the code before: the window's step alone
    assert recent[:4] == [1, 1, 1, 1] and set(recent[-6:]) == {0}


def test_a_gap_is_only_looked_for_between_two_people_the_detector_boxed() -> None:
    # seven people 0.2 of a height apart; the 4th is the second look's (or a kept box), its feet placed 0.7 of a step
    # behind them: it measures 1.7 pitches to the one in front (a gap, by the gap rule) and 0.3 to the one behind.
    # The pitch is learnt from pairs both boxed by the detector; a distance to a placed box is no gap: nobody is added
    steps = [0.0, 1.0, 2.0, 3.7, 4.0, 5.0, 6.0]
    feet = np.array([[100.0, 100.0 + 16.0 * k] for k in steps])
    xyxy = np.column_stack([feet[:, 0] - 15, feet[:, 1] - 80, feet[:, 0] + 15, feet[:, 1]])
    ids, counted = np.array([0, 1, 2, -1, 3, 4, 5]), np.ones(len(feet), dtype=bool)
    boxed = np.array([True, True, True, False, True, True, True])

    def added(gaps: LineGaps) -> set[int]:
        found = [gaps.hidden(0.5 * k, feet, xyxy, ids, counted, boxed) for k in range(60)]
        assert gaps.pitch is not None and abs(gaps.pitch - 0.2) < 1e-6
        return set(found[40:])

    assert added(LineGaps(0.3, 60.0)) == {0}
    assert added(LineGaps(0.3, 60.0, seen_gaps=False)) == {1}  # the code before: the gaps' one, the span's none
    assert added(LineGaps(0.3, 60.0, span=False)) == {0}
    # a gap between two people the detector boxed still holds someone
    gap = LineGaps(0.3, 60.0, span=False)
    feet2 = np.array([[100.0, 100.0 + 16.0 * k] for k in (0, 1, 2, 4)])
    xyxy2 = np.column_stack([feet2[:, 0] - 15, feet2[:, 1] - 80, feet2[:, 0] + 15, feet2[:, 1]])
    found = [gap.hidden(0.5 * k, feet2, xyxy2, np.arange(4), np.ones(4, dtype=bool)) for k in range(40)]
    assert found[-1] == 1


def test_the_seen_gaps_rule_is_a_tracking_setting() -> None:
    def rule(**tracking: float) -> bool:
        analyzer = QueueAnalyzer(_config(**tracking), detector=scripted_detector(_line(12.0, missing=4)))
        assert analyzer._gaps is not None
        return analyzer._gaps.seen_gaps

    assert rule() is True
    assert rule(line_gaps_seen=False) is False


def test_the_back_of_a_tight_line_placed_out_of_it_by_a_box_beside_them_stays_in_line() -> None:
    """A tight line of eight, the line's zone ending 16 px below the back one's feet (row 184). From 10 s to 20 s a
    tall box (two people in one) stands beside the back one, ending on their row: feet placed by it
    (:func:`feet_beside`, 122 px below their top) fall out of the zone while their box stands still (counter scene,
    tight +36000, 337-352 s: the visit ended as a walk out of the line, and stepping back in, as the tall box went,
    was a walk in: a start nobody made). Nobody in the line moved, so none of their visits ends."""
    line = _line(12.0, missing=-1)

    def boxes(t: float) -> list[list[float]]:
        return [*line(t), [170.0, 64.0, 200.0, 186.0]] if 10.0 <= t < 20.0 else line(t)

    config = QueueConfig.model_validate(
        {
            "zones": [
                {"name": "desk", "kind": "service", "points": [[0, 0], [1, 0], [1, 99 / 360], [0, 99 / 360]]},
                {"name": "line", "kind": "queue", "points": [[0, 99 / 360], [1, 99 / 360], [1, 5 / 9], [0, 5 / 9]]},
            ],
            "anchor": "bottom_center",
            "detector": "dnn",
            "dnn": {"motion_gate": {"enabled": False}},
            "unstaffed": {"enabled": False},
        }
    )
    analyzer = QueueAnalyzer(config, detector=scripted_detector(boxes))
    y = np.zeros((360, 640), np.uint8)
    ended = []
    for k in range(300):
        analyzer.update(y, round(0.1 * k, 1))
        assert analyzer.last is not None
        ended += analyzer.last.visits
    assert analyzer._gaps is not None and analyzer._gaps.tight  # (feet_beside places feet in a tight line only)
    assert ended  # (the tall box's own visit, 10-20 s)
    assert [v for v in ended if v.end - v.wait_s < 10.0] == []  # (the line's eight, in it from the start)
