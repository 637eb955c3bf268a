"""benchmarks/_queue_alert_truth.py: true alerts from a scene's true series."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from _queue_alert_truth import match_alerts, true_alerts  # noqa: E402

from kedirivms.analytics.queue import PileUpConfig, StalledConfig, UnstaffedConfig


def _stalls(services: list[tuple[float, float | None]]) -> list[tuple[str, float]]:
    """Alerts on 300 s at 10 fps: two people waiting throughout, the clerk there, arrivals at ``services``."""
    n = 3000
    times = [k / 10 for k in range(n)]
    return true_alerts(
        times,
        [2] * n,
        [True] * n,
        services,
        fps=10.0,
        start_s=0.0,
        pile_up=PileUpConfig(threshold=6, for_s=15.0, clear_for_s=15.0),
        unstaffed=UnstaffedConfig(for_s=30.0, clear_for_s=3.0),
        stalled=StalledConfig(for_s=60.0),
    )


def test_an_arrival_read_back_as_a_float_a_hair_past_its_frame_counts_on_that_frame() -> None:
    # 1006 * 0.1 == 100.60000000000001: frame 1006's time as the composite generator writes it; compared as floats
    # with the frames' times (k / 10) it fell between frames 1006 and 1007 and was never counted (a false stall)
    alerts = _stalls([(100 * 0.1, 40.0), (600 * 0.1, 90.0), (1006 * 0.1, 140.0), (1500 * 0.1, 200.0)])
    assert alerts == [("counter_stalled", 210.1)]


def test_an_arrival_between_two_frames_counts_on_the_next() -> None:
    alerts = _stalls([(10.0, 40.0), (60.0, 90.0), (100.55, 140.0), (150.0, 200.0)])
    assert alerts == [("counter_stalled", 210.1)]


def test_an_alert_left_unpaired_within_the_tolerance_of_the_clip_end_is_censored_not_missed() -> None:
    # a true clear 1.3 s before the end: the analyzer's may come up to 3 s later, after the clip ends
    truth = [("pile_up", 150.0), ("pile_up_cleared", 298.6)]
    measured = [("pile_up", 151.0), ("pile_up", 299.0)]
    scored = match_alerts(truth, measured, 3.0, end_s=299.9)
    assert scored["matched"] == 1
    assert scored["missed"] == [] and scored["false"] == []
    assert scored["censored"] == [("pile_up_cleared", 298.6), ("pile_up", 299.0)]
    # without the end, or earlier than the tolerance before it, they are a miss and a false alert
    assert match_alerts(truth, measured, 3.0)["missed"] == [("pile_up_cleared", 298.6)]
    late = match_alerts([("pile_up_cleared", 290.0)], [("pile_up_cleared", 295.0)], 3.0, end_s=299.9)
    assert late["missed"] == [("pile_up_cleared", 290.0)] and late["false"] == [("pile_up_cleared", 295.0)]
