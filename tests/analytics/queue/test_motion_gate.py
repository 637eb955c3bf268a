"""The motion gate on pictures built here: slow shifts add up, a visitor at a sign post does not wake it, people
still from the first picture count from it while a post drops out."""

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
    picture kept (at most 3 s old) adds up past it; change between neighbours alone never would. (The start-up
    trial is off here: it would count the box from the first picture.)"""
    gate = MotionGate(MotionGateConfig(start_trial=False))
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
    assert gate.update(y.copy(), 0.0, _det(post)).all()  # the first picture: on trial
    t = 0.5
    for _ in range(3):  # the post alone, 2 s: perfectly still at the second picture, scenery since
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


def _seated(k: int) -> np.ndarray:
    """A picture of a post and a seated person (``k``: the picture's number): the person breathes, so 20 pixels
    of their box (0.5 %, far below ``moving_fraction``) change between one picture and the next, and back."""
    y = _picture()
    y[30:90, 45:55] = 30  # the post
    y[40:120, 100:150] = 60  # the person
    y[60:62, 120:130] = 60 if k % 2 else 200  # their breath
    return y


def test_people_still_since_the_first_picture_count_from_it_and_a_post_drops_out() -> None:
    """Both are in the first picture: both count from it (on trial). At the second the post is perfectly still
    (not one pixel of it changed) and is scenery since; the person's box changed a little, so they still count,
    until ``max_gap_s`` has passed without the evidence of a movement."""
    gate = MotionGate(MotionGateConfig())
    post, seated = (40, 30, 60, 90), (100, 40, 150, 120)
    kept = [gate.update(_seated(k), 0.5 * k, _det(post, seated)).tolist() for k in range(9)]
    assert kept[0] == [True, True]
    assert kept[1:7] == [[False, True]] * 6  # up to 3.0 s: max_gap_s
    assert kept[7:] == [[False, False]] * 2  # never seen moving: scenery after the trial


def test_without_the_start_trial_the_first_pictures_people_wait_for_a_movement() -> None:
    gate = MotionGate(MotionGateConfig(start_trial=False))
    post, seated = (40, 30, 60, 90), (100, 40, 150, 120)
    kept = [gate.update(_seated(k), 0.5 * k, _det(post, seated)).tolist() for k in range(4)]
    assert kept == [[False, False]] * 4


def test_a_place_found_still_once_is_not_on_trial_again() -> None:
    """A seated person whose box did not change at all between two pictures waits for a movement, as before the
    trial: one perfectly still comparison ends it, later breaths do not bring it back."""
    gate = MotionGate(MotionGateConfig())
    seated = (100, 40, 150, 120)
    frames = [_seated(0), _seated(0), _seated(1), _seated(0)]  # still between the first two pictures
    kept = [bool(gate.update(y, 0.5 * k, _det(seated))[0]) for k, y in enumerate(frames)]
    assert kept == [True, False, False, False]
