"""The counter scene through the oblique camera: colour sprites, projected zones, and the hard cases with truth."""

from __future__ import annotations

import fnmatch
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from kedirivms.sim import _counter_view as view
from kedirivms.sim.counter_scene import CounterScene

HARD = {
    "arrival_rate_per_min": 4.0,
    "service_time_s": 12.0,
    "absences": [(40.0, 70.0)],
    "stalls": [(90.0, 110.0)],
    "duration_s": 120,
    "fps": 5.0,
    "size_jitter": 0.12,
    "grey_clothing": 0.4,
    "pair_fraction": 0.5,
    "clerk_arrives_s": 0.0,
}


@pytest.fixture(scope="module")
def hard() -> CounterScene:
    return CounterScene(4, **HARD)


def test_oblique_is_the_default_and_renders_colour_deterministically(hard: CounterScene) -> None:
    assert CounterScene(1, duration_s=10).config.view == "oblique"
    times = [33.3, 5.0, 61.0]
    first = [hard.render(i, t, 320, 180) for i, t in enumerate(times)]
    again = [CounterScene(4, **HARD).render(7, t, 320, 180) for t in reversed(times)][::-1]
    for a, b in zip(first, again, strict=True):
        assert a.shape == (270, 320) and a.dtype == np.uint8 and np.array_equal(a, b)
    chroma = first[0][180:].astype(int)
    assert np.abs(chroma - 128).max() > 20  # real colour in the U and V planes, not neutral grey
    assert np.array_equal(first[0][:180], hard.render_luma(33.3, 320, 180))


def test_zones_are_the_projected_floor_plan(hard: CounterScene) -> None:
    truth = hard.truth()
    zones = {z.kind: z for z in hard.zones()}
    agree = total = 0
    for k in range(0, len(truth.times), 3):
        ids, xy, _ = hard.positions(float(truth.times[k]))
        feet = hard.project(xy, 640, 360)  # where a detector's bottom_center anchor lands
        n = int(zones["queue"].contains(feet, (640, 360)).sum()) if len(feet) else 0
        agree += n == truth.queue_length[k]
        total += 1
    assert agree / total >= 0.98  # only rasterised polygon edges may disagree
    assert truth.queue_length.max() >= 3
    # everyone waiting, being served or at the desk is in the picture: the detector-count reference covers them
    in_zones = truth.queue_length + truth.service_occupied + truth.clerk_present
    assert (truth.visible >= in_zones).all() and (truth.visible > in_zones).any()  # and people walking in or out


def test_clerk_seated_from_the_first_frame_is_drawn_and_in_the_counter_zone(hard: CounterScene) -> None:
    truth = hard.truth()
    assert truth.clerk_present[0] and truth.visible[0] >= 1
    ids, xy, clerk = hard.positions(0.0)
    assert clerk is not None and len(ids) == 0
    feet = hard.project(clerk[None, :], 640, 360)
    counter = next(z for z in hard.zones() if z.kind == "counter")
    assert counter.contains(feet, (640, 360))[0]
    # the clerk is painted over the empty room at t=0: the picture differs from the static background there
    bg = hard._oblique.layers(640, 360)[0]
    x, y = feet[0].astype(int)
    h = int(view.person_height(clerk[None, :])[0])
    patch = hard.render_bgr(0.0, 640, 360)[y - h : y - h // 2, x - 8 : x + 8].astype(int)
    assert np.abs(patch - bg[y - h : y - h // 2, x - 8 : x + 8]).mean() > 15


def test_hard_cases_are_in_the_truth(hard: CounterScene) -> None:
    truth = hard.truth()
    people = truth.people
    scales = [p.scale for p in people]
    assert max(scales) - min(scales) > 0.15  # varied body sizes
    grey = [p for p in people if p.grey]
    floor_luma = float(np.dot(view.ObliqueRenderer.FLOOR_BGR, (0.114, 0.587, 0.299)))
    assert grey and all(abs(p.luma - floor_luma) < 20 for p in grey)
    pairs = [p for p in people if p.companion_of is not None]
    assert pairs
    for p in pairs:
        lead = people[p.companion_of]
        assert 0 < p.arrival_s - lead.arrival_s < 1.0
        assert p.queue_enter_s is not None and lead.queue_enter_s is not None
        assert abs(p.queue_enter_s - lead.queue_enter_s) < 2.0  # they walk into the line together
    # the stall: the clerk is there, yet nobody starts service and the served person is not released
    assert truth.stalls == [(90.0, 110.0)]
    assert truth.stalled and truth.stalled[0][0] == pytest.approx(90.0) and truth.stalled[0][1] == pytest.approx(110.0)
    stall = (truth.times >= 90.0) & (truth.times < 110.0)
    assert truth.clerk_present[stall].all() and truth.service_occupied[stall].all()
    for p in people:
        if p.service_start_s is not None:
            assert not 90.0 < p.service_start_s < 110.0
            assert not 90.0 < p.service_end_s < 110.0
    # the line stands still while the clerk is away: the same length for a long stretch with several waiting
    away = (truth.times >= 40.0) & (truth.times < 70.0)
    q = truth.queue_length[away]
    edges = np.flatnonzero(np.diff(q)) + 1
    runs = [r for r in np.split(q, edges) if r[0] >= 2]
    assert runs and max(len(r) for r in runs) / HARD["fps"] >= 5.0
    for a, b in truth.unstaffed:
        assert not any(p.service_start_s is not None and a + 1.0 < p.service_start_s < b - 1.0 for p in people)


def test_hard_cases_do_not_move_the_base_timeline() -> None:
    base = CounterScene(9, arrival_rate_per_min=3.0, duration_s=100, fps=5.0).truth()
    jitter = CounterScene(9, arrival_rate_per_min=3.0, duration_s=100, fps=5.0, size_jitter=0.2).truth()
    assert [p.arrival_s for p in base.people] == [p.arrival_s for p in jitter.people]
    top = CounterScene(9, arrival_rate_per_min=3.0, duration_s=100, fps=5.0, view="top").truth()
    assert np.array_equal(base.queue_length, top.queue_length)  # the truth lives on the floor, in either view


def test_atlas_ships_with_the_package() -> None:
    assets = resources.files("kedirivms.sim").joinpath("assets")
    assert assets.joinpath("people.png").is_file() and assets.joinpath("people.json").is_file()
    sprites = view.load_sprites()
    assert 16 <= len(sprites) <= 30
    for s in sprites:
        h, w = s.alpha.shape
        assert 55 <= h <= 150 and h > 1.5 * w and s.bgr.shape == (h, w, 3)
        assert s.alpha.max() == 1.0 and s.alpha[0].mean() < 0.5 and s.alpha.mean() < 0.8  # a cut-out
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["kedirivms"]
    for name in ("sim/assets/people.png", "sim/assets/people.json"):
        assert any(fnmatch.fnmatch(name, pat) for pat in patterns)
