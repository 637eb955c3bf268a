"""The second look on one box drawn round two people (``dnn.second_look_wide``)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from kedirivms.analytics.queue import QueueConfig
from kedirivms.analytics.queue.config import DnnDetectorConfig
from kedirivms.analytics.queue.second_look import SecondLook, extra_mask
from kedirivms.errors import ConfigError
from kedirivms.sim.counter_scene import CounterScene
from kedirivms.stream import Frame

from .conftest import scene_detector, tight_line_at

# The tight line (benchmarks/queue_accuracy.py "tight") on a development seed, as test_queue_second_look.py uses it.
SEED, T = 2507, 120.0
LEFT = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))  # a queue zone: x < 320 px of a 640x360 picture


@pytest.fixture(scope="module")
def tight_line() -> tuple[CounterScene, Frame, int]:
    return tight_line_at(SEED, T)


def test_a_box_much_wider_for_its_height_than_the_others_is_looked_at() -> None:
    look = SecondLook(zone=LEFT, wide=1.5)
    kept = np.array(
        [
            [100.0, 100.0, 140.0, 200.0],  # a person: 0.4 as wide as tall
            [150.0, 60.0, 180.0, 135.0],  # a person further back, smaller: the same shape
            [190.0, 100.0, 260.0, 200.0],  # 0.7: one box round two
            [200.0, 40.0, 235.0, 105.0],  # 0.54: wider than the others, not 1.5 times the usual
            [400.0, 100.0, 480.0, 200.0],  # as wide, but outside the zone
        ]
    )
    assert look.wide_boxes(kept, 640, 360) == [2]
    assert SecondLook(zone=LEFT).wide_boxes(kept, 640, 360) == []  # off by default in the class
    assert look.wide_boxes(kept[2:3], 640, 360) == []  # no other box to compare with
    # the box outside the zone is one of the others when the zone holds nobody else
    assert look.wide_boxes(kept[[2, 4]], 640, 360) == []


def test_the_detector_looks_again_at_a_wide_box(tight_line: tuple[CounterScene, Frame, int]) -> None:
    scene, frame, _ = tight_line
    off = scene_detector(scene)
    assert off.second_look is not None and off.second_look.wide == 0  # off by default
    wide = scene_detector(scene, second_look_wide=1.5)
    kept = off.detect(frame.y, T)  # (grey, the model draws one of the line's boxes wider than the others)
    wide.detect(frame.y, T)
    assert off.wide_looks == 0 and wide.wide_looks == 1
    assert wide.second_looks == off.second_looks + 1  # one window more, nothing else changed
    assert wide.second_look.wide_boxes(np.asarray(kept.xyxy)[~extra_mask(kept)], 640, 360) != []


def test_bad_wide_ratios_are_refused() -> None:
    with pytest.raises(ValidationError, match="second_look_wide"):
        QueueConfig.model_validate(
            {
                "zones": [{"name": "q", "kind": "queue", "points": [[0, 0], [1, 0], [1, 1]]}],
                "dnn": {"second_look_wide": 0.5},
            }
        )
    assert DnnDetectorConfig(second_look_wide=0).second_look_wide == 0  # off
    with pytest.raises(ConfigError):
        SecondLook(wide=0.9)
