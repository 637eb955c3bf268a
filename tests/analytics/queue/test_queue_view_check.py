"""The view survey: a service zone too thin for the people standing in it is named, with its figures."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from kedirivms.analytics.queue import ViewSurvey
from kedirivms.analytics.queue.view_check import DESK_ZONE_SHARE, vertical_extent

SLANTED = np.array([[199, 102], [282, 125], [263, 145], [177, 120]], dtype=float)  # the counter scene's desk


def test_vertical_extent_is_the_zones_height_through_a_column() -> None:
    square = np.array([[0, 0], [10, 0], [10, 20], [0, 20]], dtype=float)
    assert vertical_extent(square, 5.0) == pytest.approx(20.0)
    assert vertical_extent(square, 11.0) == 0.0
    assert vertical_extent(SLANTED, 230.0) == pytest.approx(24.8, abs=0.1)  # the bounding box says 43


def _people_at(survey: ViewSurvey, n: int, foot: tuple[float, float], height: float) -> None:
    rng = np.random.default_rng(1)
    for _ in range(n):
        x, y = foot[0] + rng.normal(0, 2), foot[1] + rng.normal(0, 3)
        h = height * (1.0 + rng.normal(0, 0.05))
        survey.add(np.array([[x - 15, y - h, x + 15, y], [x + 80, y - h, x + 110, y]]), np.array([True, False]))


def test_a_zone_thinner_than_a_fifth_of_the_people_in_it_is_named() -> None:
    thin = ViewSurvey([np.array([[100, 100], [300, 100], [300, 113], [100, 113]], dtype=float)])
    _people_at(thin, 150, (200.0, 108.0), 90.0)
    [finding] = thin.findings()
    assert finding.code == "desk_zone_thin"
    assert finding.value == pytest.approx(13.0 / 90.0, rel=0.05) and finding.limit == DESK_ZONE_SHARE
    assert "13 px" in finding.message and "taller" in finding.message


def test_a_zone_tall_enough_or_not_seen_enough_says_nothing() -> None:
    counter = ViewSurvey([SLANTED])
    _people_at(counter, 150, (230.0, 125.0), 77.0)
    assert counter.findings() == [] and counter.desk_zone_share == pytest.approx(24.8 / 77.0, rel=0.05)
    early = ViewSurvey([np.array([[100, 100], [300, 100], [300, 113], [100, 113]], dtype=float)])
    _people_at(early, early.min_people - 1, (200.0, 108.0), 90.0)
    assert early.findings() == [] and early.desk_zone_share is None


def test_the_analyzer_sends_a_thin_desk_zone_once_as_a_view_warning(caplog: pytest.LogCaptureFixture) -> None:
    """The analyzer over frames of someone standing at a desk whose zone is a thin strip (a recorded detector: the
    person's box, the same on every frame): once 20 detections saw them there, one ``view_warning`` event, logged
    once, and the finding listed; never again after."""
    import supervision as sv

    from kedirivms.analytics.queue import QueueAnalyzer, QueueConfig

    class Standing:
        def detect(self, y: np.ndarray, t: float) -> sv.Detections:
            del y, t
            box = np.array([[300.0, 110.0, 330.0, 200.0]])
            return sv.Detections(xyxy=box, confidence=np.array([0.9]), class_id=np.array([0]))

    zones = [
        {"name": "line", "kind": "queue", "points": [[0.1, 0.6], [0.4, 0.6], [0.4, 0.9], [0.1, 0.9]]},
        {"name": "desk", "kind": "service", "points": [[0.4, 0.53], [0.6, 0.53], [0.6, 0.57], [0.4, 0.57]]},
        {"name": "staff", "kind": "counter", "points": [[0.4, 0.1], [0.6, 0.1], [0.6, 0.3], [0.4, 0.3]]},
    ]
    config = QueueConfig.model_validate({"zones": zones, "anchor": "bottom_center", "detector": "background"})
    analyzer = QueueAnalyzer(config, detector=Standing())
    y = np.zeros((360, 640), dtype=np.uint8)
    warnings = []
    with caplog.at_level(logging.WARNING, logger="kedirivms.analytics.queue"):
        for k in range(300):
            warnings += [e for e in analyzer.update(y, k / 10.0) if e.kind == "view_warning"]
    assert [r.getMessage() for r in caplog.records].count(f"queue zone desk: {warnings[0].data['message']}") == 1
    assert len(warnings) == 1 and warnings[0].zone == "desk"
    assert warnings[0].data["code"] == "desk_zone_thin" and warnings[0].data["limit"] == DESK_ZONE_SHARE
    assert warnings[0].time < 3.0  # (20 boxes at the desk, one a frame: not 100)
    assert [f.code for f in analyzer.view_findings] == ["desk_zone_thin"]
    assert analyzer._service is not None and analyzer._service.thin_zone  # (the desk's rule for thin zones is on)


def _box(x: float, feet_y: float, h: float = 90.0) -> list[float]:
    return [x - 15.0, feet_y - h, x + 15.0, feet_y]


def _dipping_line(line_count: str, desk_top: float) -> list[tuple[float, int, int]]:
    """(time, queue_length, seen_length) while the front of a line of two dips into the desk zone and steps back.

    A recorded detector: someone is served at the desk for 5 s (the survey sees them), the front person P1 stands in
    the desk zone from 8 s (an arrival: longer than a dip) and back at their place in line from 14 s for good; P2
    stands behind throughout.
    """
    import supervision as sv

    from kedirivms.analytics.queue import QueueAnalyzer, QueueConfig

    class Script:
        def detect(self, y: np.ndarray, t: float) -> sv.Detections:
            del y
            people = [_box(320, 198)] if t < 5.0 else []  # the one served
            people += [_box(200, 200 if 8.0 <= t < 14.0 else 225), _box(150, 290)]  # P1 (at the desk a while), P2
            xyxy = np.array(people, dtype=float)
            return sv.Detections(xyxy=xyxy, confidence=np.full(len(xyxy), 0.9), class_id=np.zeros(len(xyxy), int))

    zones = [
        {"name": "line", "kind": "queue", "points": [[0.1, 0.6], [0.4, 0.6], [0.4, 0.9], [0.1, 0.9]]},
        {"name": "desk", "kind": "service", "points": [[0.3, desk_top], [0.6, desk_top], [0.6, 0.57], [0.3, 0.57]]},
        {"name": "staff", "kind": "counter", "points": [[0.4, 0.1], [0.6, 0.1], [0.6, 0.3], [0.4, 0.3]]},
    ]
    config = QueueConfig.model_validate(
        {"zones": zones, "anchor": "bottom_center", "detector": "background", "line_count": line_count}
    )
    analyzer = QueueAnalyzer(config, detector=Script())
    y = np.zeros((360, 640), dtype=np.uint8)
    rows = []
    for k in range(200):
        analyzer.update(y, k / 10.0)
        assert analyzer.last is not None
        rows.append((k / 10.0, analyzer.last.queue_length, analyzer.last.seen_length))
    return rows


def test_in_a_thin_view_the_line_is_the_people_seen() -> None:
    """The front person's visit to a thin desk zone takes their start from the ledger, and they are back in line
    (an arrival the view cannot tell from a real one: ids trade between the front of the line and the desk): with
    ``line_count: auto`` the line reads the two people seen; counted by the ledger alone (``line_count: ledger``), or
    where the zone is tall enough (the survey names nothing), it reads one until the ledger's give-back."""
    after_dip = slice(145, 200)  # 14.5-19.9 s
    thin = _dipping_line("auto", 0.53)  # 14 px for people 90 px tall: 0.16
    assert {n for _, n, _ in thin[after_dip]} == {2} and {s for _, _, s in thin[after_dip]} == {2}
    ledger = _dipping_line("ledger", 0.53)
    assert {n for _, n, _ in ledger[after_dip]} == {1}
    tall = _dipping_line("auto", 0.48)  # 32 px: 0.36, nothing named
    assert {n for _, n, _ in tall[after_dip]} == {1}
