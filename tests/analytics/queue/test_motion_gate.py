"""The motion gate on pictures built here: slow shifts add up, a visitor at a sign post does not wake it."""

from __future__ import annotations

import numpy as np
import supervision as sv

from kedirivms.analytics.queue.motion_gate import MotionGate, MotionGateConfig

W, H = 256, 144  # the gate's own comparison width: one picture pixel is one comparison pixel


def _det(*boxes: tuple[int, int, int, int]) -> sv.Detections:
    xyxy = np.array(boxes, dtype=np.float32).reshape(-1, 4)
    return sv.Detections(xyxy=xyxy, confidence=np.full(len(xyxy), 0.8, np.float32), class_id=np.zeros(len(xyxy), int))


def _picture() -> np.ndarray:
    return np.full((H, W), 90, dtype=np.uint8)


def test_a_seated_person_who_shifts_slowly_is_counted_once_the_shift_adds_up() -> None:
    """Each 0.5 s a further 2 % of the box changes (half the share one step needs): the change since the oldest
    picture kept (at most 3 s old) adds up past it; change between neighbours alone never would."""
    gate = MotionGate(MotionGateConfig())
    box = (100, 40, 150, 120)  # 50 x 80 = 4000 pixels; 80 of them change per step
    y = _picture()
    kept = []
    for k in range(6):
        if k:
            rows = slice(40 + 2 * (k - 1), 40 + 2 * k)
            y[rows, 110:150] = 200  # two more rows of 40 pixels: 80 pixels, 2 % of the box
        kept.append(bool(gate.update(y.copy(), 0.5 * k, _det(box))[0]))
    assert kept[0] is False and kept[1] is False  # still scenery: one step is not enough
    assert kept[2:] == [True] * 4  # two steps since the first picture: 4 %


def test_someone_standing_at_a_sign_post_does_not_wake_it() -> None:
    """A visitor walks up to a post seen since the start, stands joined to its box, and leaves: the post stays
    scenery (the change since an older picture lies in a box that grew with their body)."""
    gate = MotionGate(MotionGateConfig())
    post = (40, 30, 60, 90)
    y = _picture()
    y[30:90, 45:55] = 30  # the post
    t = 0.0
    for _ in range(4):  # the post alone, 2 s
        assert not gate.update(y.copy(), t, _det(post)).any()
        t += 0.5
    # the visitor beside it, found as a box of their own (their change is theirs)
    visitor = (56, 40, 74, 100)
    y[40:100, 56:74] = 220
    assert gate.update(y.copy(), t, _det(post, visitor)).tolist() == [False, True]
    t += 0.5
    # a step closer: the detector joins them to the post's box, which grows with their body
    y[40:100, 56:74] = 90
    y[30:90, 45:55] = 30
    y[40:100, 54:72] = 220
    assert not gate.update(y.copy(), t, _det((40, 30, 72, 100))).any()
    t += 0.5
    # back beside it, then away
    y[40:100, 54:72] = 90
    y[30:90, 45:55] = 30
    y[40:100, 56:74] = 220
    assert gate.update(y.copy(), t, _det(post, visitor)).tolist() == [False, True]
    t += 0.5
    y[40:100, 56:74] = 90
    for _ in range(6):
        assert not gate.update(y.copy(), t, _det(post)).any()
        t += 0.5
