"""The second look where the model gave a weak box beside the confident ones (``dnn.second_look_weak``)."""

from __future__ import annotations

from typing import Any

import av
import numpy as np
import pytest
from pydantic import ValidationError

from kedirivms.analytics.queue import QueueConfig, person_detections
from kedirivms.analytics.queue.second_look import EXTRA, SecondLook, extra_mask
from kedirivms.errors import ConfigError
from kedirivms.sim.counter_scene import CounterScene
from kedirivms.stream import Frame

from .conftest import in_queue, line_at, looking_detector

# The busy counter scene (benchmarks/queue_accuracy.py "busy", --quick) on a development seed of that benchmark
# (+4000, never one it is scored on): at 70 s seven people stand in the line, the first of them right behind the
# one served and half behind the second; the model scores them 0.15-0.26 at the first look's size.
BUSY: dict[str, Any] = {"arrival_rate_per_min": 3.0, "service_time_s": 36.0, "duration_s": 240.0}
SEED, T = 4202, 70.0


@pytest.fixture(scope="module")
def busy_line() -> tuple[CounterScene, Frame, int]:
    return line_at(SEED, T, **BUSY)


def test_the_first_in_line_the_model_scores_low_is_looked_at_again(busy_line: tuple[CounterScene, Frame, int]) -> None:
    pytest.importorskip("onnxruntime")
    scene, frame, true_length = busy_line
    assert true_length == 7
    default = looking_detector(scene)
    assert default.second_look is not None and default.second_look.weak_score == 0.01  # on by default
    off = looking_detector(scene, second_look_weak=0)
    assert in_queue(scene, off.detect_frame(frame, T).xyxy) == true_length - 1  # the first in line missed
    assert in_queue(scene, default.detect_frame(frame, T).xyxy) == true_length  # looked at again: found
    floor = looking_detector(scene, second_look_weak=0.15)  # the default before the fifteenth session finds them too
    assert in_queue(scene, floor.detect_frame(frame, T).xyxy) == true_length


def test_the_first_in_line_scored_under_the_old_floor_is_looked_at_again() -> None:
    pytest.importorskip("onnxruntime")
    # the same scene at 230 s: three in the line, the first (in white, against the wall) right behind the one
    # served; the model scores them under 0.11 at the first look's size and 0.76 magnified twice
    scene = CounterScene(view="oblique", width=640, height=360, fps=10.0, seed=SEED, **BUSY)
    truth = scene.truth()
    t = 230.0
    i = int(np.searchsorted(truth.times, t))
    frame = Frame(av.VideoFrame.from_ndarray(scene.render(i, t, 640, 360), format="yuv420p"), time=t)
    assert int(truth.queue_length[i]) == 3
    old = looking_detector(scene, second_look_weak=0.15)
    assert in_queue(scene, old.detect_frame(frame, t).xyxy) == 2  # at 0.15 no spot there: missed
    default = looking_detector(scene)
    assert in_queue(scene, default.detect_frame(frame, t).xyxy) == 3  # every weak box beside the others: found
    assert default.second_looks > old.second_looks


def test_only_weak_boxes_beside_every_kept_box_in_the_zone_are_spots() -> None:
    look = SecondLook(weak_score=0.15, zone=((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)))  # x < 320 px
    kept = np.array([[100.0, 100.0, 140.0, 200.0]])
    weak = np.array(
        [
            [150.0, 90.0, 185.0, 190.0],  # beside the kept box: someone the model scored low
            [152.0, 92.0, 186.0, 191.0],  # the same one again, weaker: one spot
            [104.0, 102.0, 144.0, 202.0],  # a weak copy of the kept box (IoU over the NMS threshold)
            [110.0, 120.0, 130.0, 190.0],  # a part of the kept person (centred in their box)
            [200.0, 100.0, 240.0, 200.0],  # too weak
            [400.0, 100.0, 440.0, 200.0],  # outside the zone
        ]
    )
    scores = np.array([0.3, 0.2, 0.3, 0.3, 0.1, 0.3])
    spots = look.weak_spots(kept, weak, scores, 0.45, 640, 360)
    assert len(spots) == 1
    np.testing.assert_allclose(spots[0], weak[0])
    low = SecondLook(weak_score=0.01, zone=look.zone).weak_spots(kept, weak, scores, 0.45, 640, 360)
    assert len(low) == 2  # the weaker box beside the kept one is a spot at 0.01, after the stronger one
    np.testing.assert_allclose(low[1], weak[4])
    assert look.spots(kept, weak, scores, 0.45, 640, 360) == []  # the removed-box spots are not theirs
    assert SecondLook(weak_score=0.0).weak_spots(kept, weak, scores, 0.45, 640, 360) == []  # off


def test_a_weak_spot_adds_only_people_beside_everyone_found_so_far() -> None:
    spot = np.array([150.0, 90.0, 185.0, 190.0])
    # the first look's person, and one a removed box's window already added next to the weak spot
    people = person_detections([[100, 100, 140, 200], [140, 88, 176, 186]], [0.8, 0.6])
    people.data[EXTRA] = np.array([False, True])
    again = person_detections([[142, 90, 177, 188]], 0.6)  # the one added, seen again in this window
    assert SecondLook.merge_beside(people, spot, again, 0.45) is people
    beside = person_detections([[150, 92, 184, 190], [300, 100, 340, 200]], 0.6)  # someone new; one off the spot
    low = person_detections([[100, 100, 140, 200]], 0.8)
    merged = SecondLook.merge_beside(low, spot, beside, 0.45)
    assert merged.xyxy.tolist() == [[100, 100, 140, 200], [150, 92, 184, 190]]
    assert extra_mask(merged).tolist() == [False, True]


def test_bad_weak_scores_are_refused() -> None:
    with pytest.raises(ValidationError, match="second_look_weak"):
        QueueConfig.model_validate(
            {
                "zones": [{"name": "q", "kind": "queue", "points": [[0, 0], [1, 0], [1, 1]]}],
                "dnn": {"second_look_weak": 1.0},
            }
        )
    with pytest.raises(ConfigError):
        SecondLook(weak_score=-0.1)
