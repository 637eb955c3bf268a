"""The second look's people count in the queue zone only: no track, wait, service or coasting of their own."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import supervision as sv
from pydantic import ValidationError

from kedirivms.analytics.queue import QueueAnalyzer, QueueConfig, TrackingConfig, person_detections
from kedirivms.analytics.queue.onnx import OnnxPersonDetector
from kedirivms.analytics.queue.second_look import EXTRA, SecondLook, extra_mask

# a line standing still in the queue zone (left half); the service spot (right half) empty
FRONT = [100.0, 150.0, 140.0, 250.0]
BEHIND = [108.0, 128.0, 146.0, 226.0]  # half hidden behind FRONT (IoU 0.6): what NMS removes, the second look finds
ZONES = [
    {"name": "line", "kind": "queue", "points": [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]},
    {"name": "spot", "kind": "service", "points": [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]},
]


def test_the_second_look_adds_the_people_it_finds_beside_the_first_looks_boxes() -> None:
    spot = np.array([100.0, 90.0, 160.0, 250.0])
    first = person_detections([FRONT, [400, 100, 440, 200]], [0.8, 0.9])
    # the second look's box of the one in front differs a little from the first look's; the one behind is new
    second = person_detections([[101, 149, 141, 251], BEHIND, [150, 300, 190, 359]], 0.6)
    merged = SecondLook().merge(first, spot, second)
    # the first look's boxes stay exactly as they were (the tracker reads them), the one behind is added, marked
    np.testing.assert_array_equal(merged.xyxy[:2], first.xyxy)
    np.testing.assert_array_equal(merged.xyxy[2], BEHIND)
    assert extra_mask(merged).tolist() == [False, False, True]
    assert not extra_mask(first).any()  # nothing marked: none added
    # a later spot over the same people pairs its boxes with everyone found there so far: nobody added twice
    again = SecondLook().merge(merged, spot, person_detections([FRONT, BEHIND], 0.6))
    assert again is merged


class _Looks(OnnxPersonDetector):
    """The shipped model's adapter (the analyzer's DNN path) answering with scripted boxes, the second look's
    marked as the adapter marks them."""

    def __init__(self, script: Any) -> None:
        super().__init__()
        self.script = script

    def detect_frame(self, frame: object, t: float) -> sv.Detections:
        return self.detect(np.zeros((1, 1), np.uint8), t)

    def detect(self, y: np.ndarray, t: float) -> sv.Detections:
        first, added = self.script(t)
        det = person_detections([*first, *added], 0.8)
        det.data[EXTRA] = np.arange(len(det)) >= len(first)
        return det


def _run(
    script: Any, seconds: float = 6.0, zones: list[dict[str, Any]] = ZONES, **tracking: Any
) -> tuple[QueueAnalyzer, dict[float, int]]:
    config = QueueConfig.model_validate(
        {
            "zones": zones,
            "detector": "dnn",
            "anchor": "bottom_center",
            "dnn": {"motion_gate": {"enabled": False}},
            "unstaffed": {"enabled": False},
            "tracking": tracking,
        }
    )
    analyzer = QueueAnalyzer(config, detector=_Looks(script))
    y = np.zeros((360, 640), np.uint8)
    counts = {}
    for k in range(round(10 * seconds)):
        t = round(0.1 * k, 1)
        analyzer.update(y, t)
        assert analyzer.last is not None
        counts[t] = analyzer.last.seen_length
    return analyzer, counts


def test_someone_the_second_look_finds_on_two_detections_in_a_row_counts_without_a_track() -> None:
    # detections at 0.3, 0.8, 1.3, ...: the one behind is found by the second look on every one from 0.8 s
    analyzer, counts = _run(lambda t: ([FRONT], [BEHIND] if t > 0.5 else []))
    assert counts[0.7] == 1
    assert counts[1.2] == 1  # found once: not yet
    assert counts[1.3] == 2 and counts[5.9] == 2  # found on two detections in a row: counted, and on
    last = analyzer.last
    assert last is not None and extra_mask(last.detections).tolist() == [False, True]
    assert last.detections.tracker_id is not None and last.detections.tracker_id[1] == -1  # no track of their own
    events = analyzer.flush()
    stats = next(e for e in events if e.kind == "queue_stats")
    assert stats.data["in_queue_now"] == 1  # no wait of their own either (the one in front is waiting)


def _every_other(t: float) -> bool:
    return t > 0.5 and round((t - 0.3) / 0.5) % 2 == 1  # (detections at 0, then 0.3 + 0.5 k): 0.8, 1.8, ...


def test_the_second_looks_people_who_come_and_go_are_not_counted_nor_kept() -> None:
    # found on one detection only (0.8 s): never counted
    _, one_off = _run(lambda t: ([FRONT], [BEHIND] if 0.5 < t < 1.0 else []))
    assert max(one_off.values()) == 1
    # found on every other detection, with a window of two (two in a row): never counted
    analyzer, counts = _run(lambda t: ([FRONT], [BEHIND] if _every_other(t) else []), second_look_window=2)
    assert max(counts.values()) == 1
    # counted at once when one detection is enough, and not kept once gone (no coasting: they have no track)
    _, once = _run(lambda t: ([FRONT], [BEHIND] if 0.5 < t < 1.0 else []), second_look_confirm=1)
    assert once[0.8] == 2 and once[1.3] == 1


def test_someone_the_second_look_finds_on_every_other_detection_counts_where_found() -> None:
    # hidden behind the one in front, found by the second look on some detections only: found on two of the last
    # three detections (second_look_window) at about the same place, they count on the detection that finds them
    _, counts = _run(lambda t: ([FRONT], [BEHIND] if _every_other(t) else []))
    assert counts[0.8] == 1  # found once: not yet
    assert counts[1.3] == 1  # not found on this detection: not counted (no track, no coasting)
    assert counts[1.8] == 2 and counts[2.3] == 1 and counts[5.8] == 2  # found again: counted where found
    # found again elsewhere (a box overlapping none of the earlier ones, IoU 0.3): a new one, not yet counted
    moved = [200.0, 128.0, 238.0, 226.0]
    _, apart = _run(lambda t: ([FRONT], [BEHIND if t < 1.0 else moved] if _every_other(t) else []))
    assert apart[1.8] == 1 and apart[2.8] == 2  # (there at 1.8: once; at 2.8: twice in the last three)
    # on the old rule (two detections in a row) they never count
    _, in_a_row = _run(lambda t: ([FRONT], [BEHIND] if _every_other(t) else []), second_look_window=2)
    assert max(in_a_row.values()) == 1


def test_the_second_look_confirm_fits_in_its_window() -> None:
    with pytest.raises(ValidationError, match="more than second_look_window"):
        TrackingConfig(second_look_confirm=3, second_look_window=2)
    assert TrackingConfig(second_look_confirm=3, second_look_window=3).second_look_confirm == 3


def test_a_second_look_box_inside_a_first_look_box_is_that_person() -> None:
    inner = [104.0, 160.0, 136.0, 240.0]  # wholly inside FRONT: a part of that person (legs, torso)
    _, counts = _run(lambda t: ([FRONT], [inner]))
    assert max(counts.values()) == 1
    _, mostly = _run(lambda t: ([FRONT], [BEHIND]), second_look_inside=0.5)  # BEHIND: 0.7 of it inside FRONT
    assert max(counts.values()) == 1 and max(mostly.values()) == 1
    _, counted = _run(lambda t: ([FRONT], [BEHIND]), second_look_inside=0.9)
    assert counted[5.9] == 2


def test_a_second_look_box_cut_off_by_the_one_in_front_counts_at_its_feet() -> None:
    # the queue zone starts at 0.55 of the height (198 px): the one behind is found with a box ending at 190 px,
    # where FRONT hides their legs; as tall as FRONT, their feet are at 200 px, in the line
    zones = [
        {"name": "line", "kind": "queue", "points": [[0, 0.55], [0.5, 0.55], [0.5, 1], [0, 1]]},
        {"name": "spot", "kind": "service", "points": [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]},
    ]
    cut = [108.0, 100.0, 146.0, 190.0]
    _, counts = _run(lambda t: ([FRONT], [cut]), zones=zones)
    assert counts[0.0] == 1 and counts[5.9] == 2  # (found on two detections in a row: counted)
    # without feet_from_height their box's bottom edge places them, above the line
    _, unplaced = _run(lambda t: ([FRONT], [cut]), zones=zones, feet_from_height=False)
    assert max(unplaced.values()) == 1
    # a box nobody hides stays where it ends (above the line: not counted)
    _, alone = _run(lambda t: ([FRONT], [[300.0, 100.0, 338.0, 190.0]]), zones=zones)
    assert max(alone.values()) == 1
