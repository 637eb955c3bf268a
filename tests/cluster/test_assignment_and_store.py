"""Rendezvous assignment (movement on join, capacity, site pins) and the centre store (each event once, the fleet
view folded from out-of-order events) without any server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kedirivms.analytics import Event
from kedirivms.cluster import CentreStore, Member, assign


def _cams(n: int, site: str = "s", pins: list[str] | None = None) -> dict[str, tuple[str, list[str] | None]]:
    return {f"cam-{i:04d}": (site, pins) for i in range(n)}


@pytest.mark.parametrize("n_workers", [1, 2, 4, 9])
def test_a_joining_worker_takes_about_its_share_and_only_that_moves(n_workers: int) -> None:
    cams = _cams(1000)
    before = assign(cams, [Member(id=f"w{i}", capacity=10_000) for i in range(n_workers)])
    after = assign(cams, [Member(id=f"w{i}", capacity=10_000) for i in range(n_workers + 1)])
    moved = [c for c in cams if before[c] != after[c]]
    assert all(after[c] == f"w{n_workers}" for c in moved), "cameras only move to the new worker"
    assert len(moved) <= 1.2 * len(cams) / (n_workers + 1)
    assert len(moved) >= 0.8 * len(cams) / (n_workers + 1)


def test_capacity_and_pins_are_respected() -> None:
    cams = {**_cams(10, "kota"), **{f"pare-{i}": ("pare", ["pare-box"]) for i in range(3)}}
    members = [Member(id="big", capacity=100), Member(id="small", capacity=2), Member(id="pare-box", capacity=5)]
    plan = assign(cams, members)
    assert all(plan[f"pare-{i}"] == "pare-box" for i in range(3))
    assert sum(1 for w in plan.values() if w == "small") <= 2
    assert all(w is not None for w in plan.values())
    plan = assign(cams, [Member(id="big", capacity=100)])
    assert all(plan[f"pare-{i}"] is None for i in range(3)), "a pinned site waits for its box"
    plan = assign(cams, [Member(id="tiny", capacity=4), Member(id="only-kota", capacity=9, sites=["kota"])])
    assert {c for c, w in plan.items() if w is None} == {"pare-0", "pare-1", "pare-2"}  # their box is away
    assert sum(1 for w in plan.values() if w == "tiny") <= 4


def _ev(camera: str, kind: str, data: dict[str, object] | None = None, **kw: object) -> Event:
    return Event(camera=camera, source="t", kind=kind, time=datetime.now(UTC), data=data or {}, **kw)  # type: ignore[arg-type]


def test_store_keeps_each_event_once_and_folds_out_of_order_leases() -> None:
    with CentreStore(":memory:") as store:
        leased_b = _ev("c1", "camera_state", {"worker": "b", "lease_revision": 7, "state": "running", "frames": 5,
                                              "last_frame_time": 100.0})  # fmt: skip
        released_a = _ev("c1", "camera_state", {"worker": "a", "lease_revision": 3, "state": "released"})
        old_a = _ev("c1", "camera_state", {"worker": "a", "lease_revision": 3, "state": "running", "frames": 9})
        assert store.add(leased_b, site="kota") is True
        assert store.add(leased_b, site="kota") is False  # a redelivery
        store.add_many([(released_a, "kota", None, None), (old_a, "kota", None, None)])  # late news of an old lease
        cam = store.fleet_view().cameras[0]
        assert (cam.worker, cam.lease_revision, cam.state, cam.frames, cam.last_frame_time) == (
            "b", 7, "running", 5, 100.0,
        )  # fmt: skip
        store.add(_ev("c1", "queue_stats", {"length_mean": 3.5, "length_max": 5, "wait_mean_s": 42.0}), site="kota")
        store.add(_ev("c1", "pile_up", zone="line"), site="kota")
        store.add(_ev("c2", "counter_unstaffed", zone="desk"), site="pare")
        store.add(_ev("c2", "counter_staffed", zone="desk"), site="pare")
        store.add(_ev("w1", "worker_state", {"worker": "w1", "cameras": ["c1"]}), site="_fleet")
        view = store.fleet_view()
        by = {c.camera: c for c in view.cameras}
        assert by["c1"].queue_length == 3.5 and by["c1"].wait_s == 42.0 and by["c1"].open_alerts == ["pile_up"]
        assert by["c2"].open_alerts == [] and by["c2"].site == "pare"
        assert [w.worker for w in view.workers] == ["w1"]
        assert view.events == store.count() == 8 and view.duplicates == store.duplicates() == 1
        store.add(_ev("c1", "camera_state", {"worker": "b", "lease_revision": 7, "state": "fenced"}), site="kota")
        assert store.fleet_view().cameras[0].worker is None


def test_view_warnings_are_kept_per_camera_once_each() -> None:
    """A queue analytics' ``view_warning`` (sent once per analyzer run, so again after each restart) is kept per
    camera and code: the fleet view lists the codes once each, and a camera without one lists none."""
    with CentreStore(":memory:") as store:
        warning = {"code": "desk_zone_thin", "message": "the service zone is 13 px tall ...", "value": 0.14}
        store.add(_ev("c1", "view_warning", warning, zone="desk"), site="kota")
        store.add(_ev("c1", "view_warning", warning, zone="desk"), site="kota")  # the worker restarted
        store.add(_ev("c2", "queue_stats", {"length_mean": 1.0}), site="kota")
        by = {c.camera: c for c in store.fleet_view().cameras}
        assert by["c1"].view_warnings == ["desk_zone_thin"] and by["c2"].view_warnings == []
        assert by["c1"].open_alerts == []  # a finding about the view, not an alert
