"""benchmarks/queue_alerts.py's cause line: each unmatched alert put down to the count, a knife edge, or the rule."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import queue_alerts  # noqa: E402


def _scene(true_n: list[int], read_n: list[int]) -> tuple[list[tuple[object, ...]], SimpleNamespace]:
    """Rows as queue_alerts.trace keeps them (10 frames a second) and a truth with the true lengths."""
    times = np.arange(len(true_n)) / 10.0
    rows = [(float(t), m, m, True, True, False, [], []) for t, m in zip(times, read_n, strict=True)]
    truth = SimpleNamespace(times=times, queue_length=np.array(true_n), clerk_present=np.ones(len(true_n), bool))
    return rows, truth


def test_a_clear_on_an_under_count_is_the_count() -> None:
    true_n = [6] * 100 + [5] * 300
    read_n = [6] * 100 + [4] * 300  # five read as four: cleared 15 s after the count dropped
    rows, truth = _scene(true_n, read_n)
    got = queue_alerts.cause("pile_up_cleared", 25.0, "false", [("pile_up", 5.0)], rows, truth, [])
    assert got.startswith("the count: the median -1")


def test_the_same_condition_decided_otherwise_is_the_rule() -> None:
    rows, truth = _scene([6] * 400, [6] * 400)
    got = queue_alerts.cause("pile_up", 15.0, "missed", [], rows, truth, [])
    assert got.startswith("the rule")


def test_an_alert_the_other_side_could_not_make_follows_an_earlier_one() -> None:
    rows, truth = _scene([6] * 400, [4] * 400)
    got = queue_alerts.cause(
        "pile_up_cleared", 35.0, "missed", [("pile_up", 1.0), ("pile_up_cleared", 20.0)], rows, truth, []
    )
    assert got == "follows an earlier one: on the measured side, pile_up_cleared at 20.0 s"


def test_a_stall_between_arrivals_a_hair_over_for_s_apart_is_a_knife_edge() -> None:
    rows, truth = _scene([2] * 1000, [2] * 1000)
    got = queue_alerts.cause("counter_stalled", 70.1, "missed", [], rows, truth, [10.0, 70.4])
    assert got.startswith("the truth's knife edge: true arrivals at 10.0 and 70.4 s, 60.4 s apart")
    # arrivals 85 s apart: not an edge; the desk seeing none of them is the desk's count
    far = queue_alerts.cause("counter_stalled", 70.1, "missed", [], rows, truth, [10.0, 95.0])
    assert far == "the desk's arrivals: true 10.0 s not seen"


def test_a_stall_missed_on_a_line_read_empty_is_the_count() -> None:
    read_n = [1] * 600 + [0] * 15 + [1] * 385  # the one waiting missed for 1.5 s: the stall timer began again
    rows, truth = _scene([1] * 1000, read_n)
    rows[100] = (*rows[100][:6], [10.0], [])  # the desk saw the true arrival
    got = queue_alerts.cause("counter_stalled", 70.0, "missed", [], rows, truth, [10.0, 80.0])
    assert got == (
        "the count: the desk's arrivals match the truth's, but the line (median) read empty against the truth on 15 of "
        "601 frames 60.0-61.4 s"
    )
