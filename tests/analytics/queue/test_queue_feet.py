"""Feet of people whose box is cut off by the person in front (``tracking.feet_from_height``)."""

from __future__ import annotations

import numpy as np
import pytest
import supervision as sv

from kedirivms.analytics.queue import QueueAnalyzer, QueueConfig, person_detections
from kedirivms.analytics.queue.feet import FootEstimator, cut_off

# a 200x100 picture seen obliquely: the service spot above, the line below it (nearer the camera)
ZONES = [
    {"name": "line", "kind": "queue", "points": [(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)]},
    {"name": "spot", "kind": "service", "points": [(0.0, 0.25), (1.0, 0.25), (1.0, 0.45), (0.0, 0.45)]},
    {"name": "desk", "kind": "counter", "points": [(0.0, 0.0), (1.0, 0.0), (1.0, 0.2), (0.0, 0.2)]},
]
BEHIND_WHOLE = [100, 25, 110, 55]  # feet at y 55: in the line
BEHIND_CUT = [100, 25, 110, 44]  # the same person with their legs hidden: the box ends in the service spot
IN_FRONT = [97, 40, 113, 78]  # the next person, nearer the camera, hiding them


class Scripted:
    """A detector that returns the boxes a script gives for each frame time."""

    def __init__(self, boxes_at: object) -> None:
        self.boxes_at = boxes_at

    def detect(self, y: np.ndarray, t: float) -> sv.Detections:
        assert callable(self.boxes_at)
        return person_detections(self.boxes_at(t), 0.9)


def _line(t: float) -> list[list[int]]:
    # someone stands alone in the line for 3 s; then a second person steps in front of them and hides their legs
    return [BEHIND_WHOLE] if t < 3.0 else [BEHIND_CUT, IN_FRONT]


def _lengths(**tracking: object) -> list[tuple[float, int, int]]:
    cfg = QueueConfig.model_validate(
        {"zones": ZONES, "smoothing_s": 0, "anchor": "bottom_center", "tracking": tracking}
    )
    analyzer = QueueAnalyzer(cfg, detector=Scripted(_line))
    y = np.zeros((100, 200), np.uint8)
    out = []
    for i in range(13):
        t = 0.5 * i
        analyzer.update(y, t)
        assert analyzer._look is not None
        out.append((t, analyzer.last.seen_length if analyzer.last else -1, int(analyzer._look.in_service.sum())))
    return out


def test_a_person_whose_legs_are_hidden_stays_in_the_line() -> None:
    after = [(n, served) for t, n, served in _lengths() if t >= 3.0]
    assert after == [(2, 0)] * len(after)


def test_without_it_the_cut_off_box_lands_in_the_service_zone() -> None:
    after = [(n, served) for t, n, served in _lengths(feet_from_height=False) if t >= 3.0]
    assert after == [(1, 1)] * len(after)  # what the analyzer did before: the hidden person counted as served


def test_cut_off_finds_the_box_in_front() -> None:
    boxes = np.array([BEHIND_CUT, IN_FRONT, [150, 20, 160, 50]], dtype=np.float32)
    assert cut_off(boxes).tolist() == [1, -1, -1]
    # a box that merely touches another from below, or whose bottom centre is beside it, is not cut off
    assert cut_off(np.array([IN_FRONT, [60, 25, 98, 44]], dtype=np.float32)).tolist() == [-1, -1]


def test_feet_go_by_the_usual_height_never_up_nor_past_the_one_in_front() -> None:
    feet = FootEstimator()
    feet.place(0.0, np.array([BEHIND_WHOLE], dtype=np.float32), np.array([7]))
    assert feet.height(7) == pytest.approx(30.0)
    placed = feet.place(1.0, np.array([BEHIND_CUT, IN_FRONT], dtype=np.float32), np.array([7, 8]))
    assert placed[0].tolist() == pytest.approx([100, 25, 110, 55])
    assert placed[1].tolist() == pytest.approx(IN_FRONT)
    assert feet.height(7) == pytest.approx(30.0)  # a cut-off box teaches nothing
    # a person taller than the one in front reaches: their feet stop at that person's bottom edge
    tall = FootEstimator()
    tall.place(0.0, np.array([[100, 25, 110, 95]], dtype=np.float32), np.array([1]))
    placed = tall.place(1.0, np.array([BEHIND_CUT, IN_FRONT], dtype=np.float32), np.array([1, 2]))
    assert placed[0, 3] == pytest.approx(IN_FRONT[3])
    # unknown people (negative ids) and people never seen whole keep their box
    placed = FootEstimator().place(0.0, np.array([BEHIND_CUT, IN_FRONT], dtype=np.float32), np.array([-1, 3]))
    assert placed[0].tolist() == pytest.approx(BEHIND_CUT)
    tall.forget(before=2.0)
    assert tall.height(1) == 0.0


def test_only_with_the_bottom_center_anchor() -> None:
    cfg = QueueConfig.model_validate({"zones": ZONES, "anchor": "center"})
    assert QueueAnalyzer(cfg, detector=Scripted(_line))._feet is None
    with pytest.raises(ValueError, match="feet_from_height"):
        QueueConfig.model_validate({"zones": ZONES, "tracking": {"feet_from_height": "sometimes"}})


def test_a_box_reaching_down_to_someone_nearer_keeps_its_persons_feet_by_their_height() -> None:
    """Two people in one box, the track's person the far one: someone walking past beyond the line (out of the
    zones) boxed together with someone standing in it, the box's top on the walker's head and its bottom at the
    other's feet, while the one in line has a box of their own too (counter scene, absence held-out seed +38000,
    151.3 s: a passer-by's box 1.6 times their height put their feet in the line for a detection, and the line took
    them for someone who walked in and left, or was served)."""
    walker, in_line = [60, 17, 70, 47], [95, 50, 105, 80]  # 30 px tall, walking past; standing in line
    merged = [70, 18, 110, 80]  # the walker's head down to the other's feet
    feet = FootEstimator()
    feet.place(0.0, np.array([walker, in_line], dtype=np.float32), np.array([5, 6]))
    placed = feet.place(0.5, np.array([merged, in_line], dtype=np.float32), np.array([5, 6]))
    assert placed.ravel().tolist() == pytest.approx([70, 18, 110, 48, *in_line])  # feet 30 px below their head
    assert feet.height(5) == pytest.approx(30.0)  # a merged box teaches nothing
    # with no box of its own for the one in line, the merged box is the only one they have: its bottom stays
    alone = FootEstimator()
    alone.place(0.0, np.array([walker], dtype=np.float32), np.array([5]))
    assert alone.place(0.5, np.array([merged], dtype=np.float32), np.array([5]))[0, 3] == pytest.approx(80)
    # the one in line given the merged box: its bottom kept its place (the box reaches up to someone farther
    # away), so their feet stay where they were
    line = FootEstimator()
    line.place(0.0, np.array([in_line, walker], dtype=np.float32), np.array([6, 5]))
    placed = line.place(0.5, np.array([[90, 18, 110, 80], walker], dtype=np.float32), np.array([6, 5]))
    assert placed[0, 3] == pytest.approx(80)
    # a box a little taller than usual (a step nearer the camera) keeps its bottom
    near = FootEstimator()
    near.place(0.0, np.array([walker, in_line], dtype=np.float32), np.array([7, 6]))
    placed = near.place(0.5, np.array([[60, 17, 70, 52], in_line], dtype=np.float32), np.array([7, 6]))
    assert placed[0, 3] == pytest.approx(52)
