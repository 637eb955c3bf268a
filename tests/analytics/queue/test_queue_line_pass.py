"""The line pass: a second model pass on the queue zone's crop tells apart people standing close together."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from kedirivms.analytics import AnalyticsRunner, CameraAnalytics, PluginSettings
from kedirivms.analytics.queue import QueueConfig, person_detections
from kedirivms.analytics.queue.line_pass import LinePass
from kedirivms.analytics.queue.onnx import OnnxPersonDetector
from kedirivms.analytics.zones import Zones
from kedirivms.errors import ConfigError, PluginValidationError
from kedirivms.sim.counter_scene import CounterScene
from kedirivms.stream import Frame

from .conftest import scene_detector, tight_line_at

# The counter scene's tight line (people touching, as in benchmarks/queue_accuracy.py "tight"), on a development
# seed of that benchmark (never one it is scored on): at 130 s four people stand in the queue zone, close together.
SEED, T = 1507, 130.0


@pytest.fixture(scope="module")
def tight_line() -> tuple[CounterScene, Frame, int]:
    return tight_line_at(SEED, T)


def _detector(scene: CounterScene, **dnn: Any) -> OnnxPersonDetector:
    return scene_detector(scene, **dnn)


def test_the_line_pass_counts_people_standing_close_together(tight_line: tuple[CounterScene, Frame, int]) -> None:
    scene, frame, true_length = tight_line
    assert true_length == 4
    one = _detector(scene, line_pass="off", second_look="off")  # the first pass alone (no second look either)
    two = _detector(scene, line_pass="auto", second_look="off")
    assert one.line is None and two.line is not None and two.line.mode == "auto"
    assert _detector(scene).line is None  # off by default
    line = two.line
    in_line = [int(line.inside(d.detect_frame(frame, T).xyxy, 640, 360).sum()) for d in (one, two)]
    assert in_line[0] <= true_length - 2  # one pass over the zones' box: two of the four are lost
    assert in_line[1] == true_length  # the line's own crop, magnified: all four
    assert two.line_runs == 1
    assert 0 < two.session.busy_share() <= 1  # what auto's spare-time rule reads (one camera: nearly idle)
    grey = two.detect(frame.y, T)  # the luma path runs the same pass
    assert int(line.inside(grey.xyxy, 640, 360).sum()) >= true_length - 1 and two.line_runs == 2


def test_auto_runs_only_with_people_in_the_line_and_the_model_free(tight_line: tuple[CounterScene, Frame, int]) -> None:
    scene, _, _ = tight_line
    det = _detector(scene, line_pass="auto", line_pass_min_people=2)
    blank = np.full((360, 640), 120, np.uint8)
    det.detect(blank, 0.0)
    assert det.line_runs == 0  # nobody in the line: one pass
    line = det.line
    assert line is not None
    feet = (240.0, 270.0)  # in the middle of the line's band
    one = person_detections([[feet[0] - 10, feet[1] - 60, feet[0] + 10, feet[1]]], 0.9)
    assert line.inside(one.xyxy, 640, 360).all()
    two = person_detections(np.concatenate([one.xyxy, one.xyxy + [4, 0, 4, 0]]), 0.9)
    assert not line.wanted(one, 640, 360, model_busy=False)  # fewer than line_pass_min_people
    assert line.wanted(two, 640, 360, model_busy=False)
    assert not line.wanted(two, 640, 360, model_busy=True)  # the shared model is busy: spare time only
    always = LinePass(line.zone, "always")
    assert always.wanted(person_detections([], 0.9), 640, 360, model_busy=True)
    # a line filling the picture (the footage's zone) would not be seen larger within the model's input box
    whole = OnnxPersonDetector(line=LinePass(((0, 0), (1, 0), (1, 1), (0, 1)), "always"))
    whole.detect(np.zeros((576, 768), np.uint8), 0.0)
    assert whole.line_runs == 0
    # the merge: the first pass's people outside the zone stay, the second's inside it replace the first's
    outside = person_detections([[0, 0, 20, 40]], 0.8)
    first = person_detections(np.concatenate([outside.xyxy, one.xyxy]), 0.8)
    merged = line.merge(first, two, 640, 360, 0.45)
    assert len(merged) == 2 and (merged.xyxy == [0, 0, 20, 40]).all(axis=1).any()


@pytest.mark.parametrize(
    ("dnn", "field"),
    [
        ({"line_pass": "sometimes"}, "line_pass"),
        ({"line_pass_scale": 0}, "line_pass_scale"),
        ({"line_pass_scale": "big"}, "line_pass_scale"),
        ({"line_pass_min_people": -1}, "line_pass_min_people"),
    ],
)
def test_bad_line_pass_settings_are_refused(dnn: dict[str, Any], field: str) -> None:
    zones = CounterScene(view="oblique", seed=1).zones()
    with pytest.raises(ValidationError, match=field):
        QueueConfig.model_validate({"zones": zones, "dnn": dnn})
    config = {"zones": [z.model_dump(mode="json") for z in zones], "dnn": dnn}
    with pytest.raises(PluginValidationError, match="queue"):  # from YAML: refused before the runner starts
        AnalyticsRunner([CameraAnalytics(name="c", plugins=[PluginSettings(name="queue", config=config)])])
    with pytest.raises(ConfigError):
        LinePass(((0.1, 0.1), (0.2, 0.2)))
    with pytest.raises(ConfigError):
        LinePass(Zones(zones=zones).of_kind("queue")[0].points, scale=9.0)


# A 100x50 picture; the zone's left half, x 0-50 and y 20-40 (pixels): who stands in it goes by the feet (the
# bottom centre), tested as the zone itself tests points (its pixel mask, edge pixels inside).
SQUARE = ((0.0, 0.4), (0.5, 0.4), (0.5, 0.8), (0.0, 0.8))


@pytest.mark.parametrize(
    ("box", "inside"),
    [
        pytest.param([10, 0, 20, 30], True, id="feet-inside"),
        pytest.param([10, 0, 20, 20], True, id="feet-on-the-top-edge"),
        pytest.param([45, 0, 55, 30], True, id="feet-on-the-right-edge"),
        pytest.param([10, 0, 20, 19.5], False, id="feet-half-a-pixel-above"),
        pytest.param([60, 0, 70, 30], False, id="feet-right-of-it-body-overlapping-nothing"),
        pytest.param([40, 30, 80, 45], False, id="box-over-the-edge-feet-outside"),
        pytest.param([10, 0, 20, 60], False, id="feet-below-the-picture"),
    ],
)
def test_who_stands_in_the_line_is_the_zones_own_point_test(box: list[float], inside: bool) -> None:
    line = LinePass(SQUARE)
    xyxy = np.array([box], dtype=np.float64)
    assert line.inside(xyxy, 100, 50).tolist() == [inside]
    zone = Zones(zones=[{"name": "q", "kind": "queue", "points": SQUARE}]).zones[0]
    assert zone.contains([((box[0] + box[2]) / 2, box[3])], (100, 50)).tolist() == [inside]
    assert line.inside(np.zeros((0, 4)), 100, 50).tolist() == []
