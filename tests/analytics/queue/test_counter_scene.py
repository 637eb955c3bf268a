"""The counter scene: deterministic rendering, the Scene protocol, ground truth consistency, truth JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kedirivms.errors import InvalidArgument
from kedirivms.sim.counter_scene import CounterScene
from kedirivms.sim.scene import Scene


def test_same_seed_same_frames_in_any_order(small_scene: CounterScene, small_params: dict) -> None:
    other = CounterScene(7, **small_params)
    times = [61.3, 3.0, 40.25, 12.7]
    first = [small_scene.render(i, t, 160, 90) for i, t in enumerate(times)]
    again = [other.render(99, t, 160, 90) for t in reversed(times)][::-1]
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(first[0], CounterScene(8, **small_params).render(0, times[0], 160, 90))


def test_scene_protocol_and_i420_layout(small_scene: CounterScene) -> None:
    assert isinstance(small_scene, Scene)
    buf = small_scene.render(0, 30.0, 320, 180)
    assert buf.shape == (270, 320) and buf.dtype == np.uint8
    assert (buf[180:] == 128).all()  # grey scene: neutral chroma
    assert np.array_equal(buf[:180], small_scene.render_luma(30.0, 320, 180))


def test_timeline_loops_without_a_jump(small_scene: CounterScene) -> None:
    p = small_scene.period
    ids_a, xy_a, clerk_a = small_scene.positions(12.5)
    ids_b, xy_b, clerk_b = small_scene.positions(12.5 + p)  # people repeat; the lighting runs on
    assert np.array_equal(ids_a, ids_b) and np.allclose(xy_a, xy_b) and np.allclose(clerk_a, clerk_b)
    ids_end, _, _ = small_scene.positions(p - 0.05)
    ids_start, _, _ = small_scene.positions(0.0)
    assert len(ids_end) == len(ids_start) == 0  # the hall is empty at both ends


def test_people_contrast_with_the_floor(small_scene: CounterScene) -> None:
    truth = small_scene.truth()
    t = float(truth.times[int(np.argmax(truth.queue_length))])
    ids, xy, _ = small_scene.positions(t)
    y = small_scene.render_luma(t, 640, 360).astype(int)
    floor = np.median(y[200:, :])
    for x, yy in xy:
        if 0 <= x < 640 and 0 <= yy < 360:
            assert abs(y[int(yy), int(x)] - floor) >= 40


def test_truth_is_consistent(small_scene: CounterScene) -> None:
    truth = small_scene.truth()
    assert len(truth.times) == round(small_scene.period * small_scene.config.fps)
    served = [p for p in truth.people if p.service_start_s is not None]
    assert len(served) == len(truth.people) == 5
    for p in truth.people:
        assert p.queue_enter_s <= p.service_enter_s <= p.service_start_s < p.service_end_s < p.leave_s
        assert p.wait_s == pytest.approx(p.service_enter_s - p.queue_enter_s)
        for a, b in truth.absences:  # nobody is served while the clerk is away
            assert not (a + 5.0 < p.service_start_s < b)
    starts = [p.service_start_s for p in truth.people]
    assert starts == sorted(starts)  # first come, first served
    assert truth.queue_length.max() >= 3
    # the scheduled absence shows as an unstaffed interval (the clerk walks out and back)
    assert any(a <= 28.0 and b >= 50.0 for a, b in truth.unstaffed)  # 2.3 s walk from the desk to the zone edge
    assert not truth.clerk_present[truth.times < 4.0].any()  # the hall opens before the clerk arrives


def test_save_truth_json(small_scene: CounterScene, tmp_path: Path) -> None:
    path = small_scene.save_truth(tmp_path / "truth.json")
    doc = json.loads(path.read_text())
    truth = small_scene.truth()
    assert doc["frames"]["queue_length"] == truth.queue_length.tolist()
    assert len(doc["frames"]["time_s"]) == len(truth.times)
    assert [p["wait_s"] for p in doc["people"]] == [p.wait_s for p in truth.people]
    assert doc["absences"] == [[25.0, 50.0]]
    assert {z["kind"] for z in doc["zones"]} == {"queue", "service", "counter"}
    assert doc["config"]["seed"] == 7


def test_random_absences_are_seeded() -> None:
    a = CounterScene(5, absences="random", absence_rate_per_hour=30, duration_s=300)
    b = CounterScene(5, absences="random", absence_rate_per_hour=30, duration_s=300)
    assert a.absences == b.absences and len(a.absences) >= 1
    assert all(end > start >= 0 for start, end in a.absences)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 321}, "even"),
        ({"absences": [(50.0, 40.0)]}, "absence window"),
        ({"arrival_rate_per_min": -1}, "arrival_rate_per_min"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        CounterScene(1, duration_s=10, **kwargs)


def test_render_size_checked(small_scene: CounterScene) -> None:
    with pytest.raises(InvalidArgument, match="even"):
        small_scene.render(0, 1.0, 161, 90)
