"""The next in line whose box reaches into the service zone while the one served stands at the spot.

Found on the counter scene's hard case (seed offset 9000, 152.8-258 s; docs/queue-accuracy.md, "The next in line
counted at the desk"): the person at the front of the line stepped up one place as the one before them reached the
desk; their box ended well above their feet, so its bottom centre lay in the service zone, beside the one served,
for the whole 105 s they stood there, and the line counted one person short.
"""

from __future__ import annotations

import pytest

from kedirivms.analytics.queue import QueueConfig

from .conftest import scripted_frames

# 640x360: the service spot (y 72-137 px) in front of the desk, the line below it
SERVED = [223.0, 53.0, 253.0, 118.0]  # feet (238, 118): at the spot, 13 px beyond the one stepping up
IN_LINE = [215.0, 90.0, 245.0, 170.0]  # feet (230, 170): in the line
STEPPED_UP = [212.0, 66.0, 242.0, 132.0]  # feet (227, 132): a short box, its bottom in the service zone
WALKED_OFF = [400.0, 60.0, 430.0, 125.0]  # out of both zones


def _config() -> QueueConfig:
    return QueueConfig.model_validate(
        {
            "zones": [
                {"name": "line", "kind": "queue", "points": [[0.2, 0.38], [0.45, 0.38], [0.45, 0.9], [0.2, 0.9]]},
                {"name": "desk", "kind": "service", "points": [[0.3, 0.2], [0.45, 0.2], [0.45, 0.38], [0.3, 0.38]]},
            ],
            "anchor": "bottom_center",
            "detector": "dnn",
            "dnn": {"motion_gate": {"enabled": False}},
            "unstaffed": {"enabled": False},
        }
    )


def _counts(script: dict[float, list[list[float]]], seconds: float) -> dict[float, int]:
    return {t: last.seen_length for t, last in scripted_frames(_config(), script, seconds).items()}


def test_the_next_in_line_reaching_into_the_service_zone_beside_the_one_served_stays_in_line() -> None:
    counts = _counts({0.0: [SERVED, IN_LINE], 3.0: [SERVED, STEPPED_UP], 6.0: [WALKED_OFF, STEPPED_UP]}, 9.0)
    assert counts[2.9] == 1
    # the one served still stands at the spot, farther from the line: the one whose box reached over is in line
    assert [counts[round(3.0 + 0.1 * k, 1)] for k in range(30)] == [1] * 30
    # the one served walked off: the next in line is at the desk now
    assert counts[8.9] == 0


@pytest.mark.parametrize(
    "served",
    [
        pytest.param(None, id="nobody at the spot"),
        # someone in the service zone beside the one stepping up, not beyond them on their way (e.g. leaving)
        pytest.param([200.0, 70.0, 230.0, 134.0], id="someone at the desk not ahead of them"),
    ],
)
def test_someone_stepping_into_the_service_zone_is_at_the_desk_unless_someone_stands_beyond_them(
    served: list[float] | None,
) -> None:
    others = [] if served is None else [served]
    counts = _counts({0.0: [*others, IN_LINE], 3.0: [*others, STEPPED_UP]}, 6.0)
    assert counts[2.9] == 1
    assert counts[5.9] == 0
