"""A kept box drawn over the gap between two people in the line, looked at again (``dnn.second_look_straddle``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from kedirivms.analytics.queue.config import DnnDetectorConfig
from kedirivms.analytics.queue.second_look import STRADDLE_PERSIST, SecondLook
from kedirivms.sim.counter_scene import CounterScene
from kedirivms.stream import Frame

from .conftest import in_queue, line_at, looking_detector

# The busy counter scene (benchmarks/queue_accuracy.py "busy", --quick) on a development seed (+4000, never one it
# is scored on): at 141.8 s five people stand in the line and the model draws a sixth box between two of them.
BUSY: dict[str, Any] = {"arrival_rate_per_min": 3.0, "service_time_s": 36.0, "duration_s": 240.0}
SEED, T = 4202, 141.8
LEFT = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))  # a queue zone: x < 320 px of a 640x360 picture

# two people one behind the other, and a box the model draws between them
BEHIND, FRONT, GAP = [100.0, 60.0, 140.0, 160.0], [130.0, 80.0, 176.0, 200.0], [118.0, 70.0, 160.0, 180.0]


@pytest.fixture(scope="module")
def busy_line() -> tuple[CounterScene, Frame, int]:
    return line_at(SEED, T, **BUSY)


def test_a_box_whose_centre_lies_inside_two_others_is_straddling() -> None:
    look = SecondLook(zone=LEFT, straddle=True)
    kept = np.array([BEHIND, FRONT, GAP, [400.0, 60.0, 440.0, 160.0]])
    found = look.straddling(kept, 640, 360)
    assert [i for i, _ in found] == [2] and found[0][1].tolist() == [0, 1]
    assert SecondLook(zone=LEFT).straddling(kept, 640, 360) == []  # off by default in the class
    assert look.straddling(kept[[0, 2]], 640, 360) == []  # inside one other box only
    outside = kept + np.array([300.0, 0.0, 300.0, 0.0])  # the same three standing outside the zone
    assert look.straddling(outside, 640, 360) == []


def test_the_window_must_find_both_neighbours_and_nobody_of_the_box_s_own() -> None:
    kept = np.array([BEHIND, FRONT, GAP])
    around = np.array([0, 1])
    window = SecondLook().window(kept[2], 640, 360)
    both = np.array([[101.0, 61.0, 139.0, 158.0], [131.0, 82.0, 175.0, 199.0]])
    assert SecondLook.unfounded(kept, 2, around, both, window)  # the two people, no third: the box is nobody
    assert not SecondLook.unfounded(kept, 2, around, np.vstack([both, [GAP]]), window)  # a third: it stays
    assert not SecondLook.unfounded(kept, 2, around, both[:1], window)  # one neighbour unseen: says nothing
    assert not SecondLook.unfounded(kept, 2, around, np.zeros((0, 4)), window)  # nobody seen: says nothing


def test_a_box_between_two_people_is_dropped(busy_line: tuple[CounterScene, Frame, int]) -> None:
    pytest.importorskip("onnxruntime")
    scene, frame, true_length = busy_line
    assert true_length == 5
    on = looking_detector(scene)
    assert on.second_look is not None and on.second_look.straddle  # on by default
    off = looking_detector(scene, second_look_straddle=False)
    assert in_queue(scene, off.detect_frame(frame, T).xyxy) == true_length + 1  # the box on the gap counted
    assert in_queue(scene, on.detect_frame(frame, T).xyxy) == true_length
    assert on.straddle_drops == 1 and on.straddle_looks >= 1 and off.straddle_looks == 0
    assert on.second_looks >= off.second_looks + on.straddle_looks


def test_a_box_passed_on_at_that_place_lately_stays(busy_line: tuple[CounterScene, Frame, int]) -> None:
    pytest.importorskip("onnxruntime")
    scene, frame, true_length = busy_line
    det = looking_detector(scene)
    assert det.second_look is not None
    on = det.second_look
    det.second_look = replace(on, straddle=False)
    det.detect_frame(frame, T - 0.5)  # the box was passed on the detection before (a tracked person, maybe)
    det.second_look = on
    assert in_queue(scene, det.detect_frame(frame, T).xyxy) == true_length + 1  # so it stays
    assert det.straddle_drops == 0 and det.straddle_looks >= 1
    again = looking_detector(scene)
    again.detect_frame(frame, T)
    assert in_queue(scene, again.detect_frame(frame, T + 0.5).xyxy) == true_length  # dropped before: dropped
    assert again.straddle_drops == 2


def test_a_box_dropped_at_that_place_every_time_lately_stays(busy_line: tuple[CounterScene, Frame, int]) -> None:
    pytest.importorskip("onnxruntime")
    scene, frame, true_length = busy_line
    det = looking_detector(scene)
    counts = [in_queue(scene, det.detect_frame(frame, T + k / 2).xyxy) for k in range(STRADDLE_PERSIST + 2)]
    # dropped on each of the last four detections: someone standing hidden in a still line, kept from then on
    assert counts == [true_length] * STRADDLE_PERSIST + [true_length + 1] * 2
    assert det.straddle_drops == STRADDLE_PERSIST


def test_the_setting() -> None:
    assert DnnDetectorConfig().second_look_straddle is True
    assert DnnDetectorConfig(second_look_straddle=False).second_look_straddle is False
