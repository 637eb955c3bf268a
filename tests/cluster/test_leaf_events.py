"""Events from a district leaf node (its own JetStream domain) reach the centre store exactly once through a
WAN cut (the leaf's link to the hub dropped and restored) and a worker killed during the cut."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertools import WorkerProc, small_fleet, wait_for, write_fleet
from kedirivms.cluster import EVENTS_STREAM, LEASE_BUCKET, Centre
from kedirivms.cluster._nats import NatsLink
from kedirivms.sim import VirtualFleet

PASSWORD = "Leaf-s3cret-pw"
ENV = "KEDIRIVMS_TEST_LEAF_PW"


@pytest.fixture(scope="module")
def cameras() -> Iterator[VirtualFleet]:
    with small_fleet(3, PASSWORD) as f:
        yield f


def test_events_once_through_a_leaf_cut_and_a_worker_kill(cameras: VirtualFleet, hub: Any, tmp_path: Path) -> None:
    names = [f"pare-{i}" for i in range(3)]
    fleet = write_fleet(
        tmp_path / "fleet.yaml", "pare", list(zip(names, [c.device_url for c in cameras], strict=True)), ENV
    )
    env = {ENV: PASSWORD}
    centre = Centre(hub.urls, tmp_path / "centre.sqlite", leaf_domains=["d1"], replicas=3).start()
    leaf = NatsLink(hub.leaf.url).connect()
    workers = [
        WorkerProc(fleet, [hub.leaf.url], w, ttl=4.0, env=env, log_dir=tmp_path) for w in ("pare-box-1", "pare-box-2")
    ]
    try:
        leaf.ensure_kv(LEASE_BUCKET)
        assert wait_for(lambda: len(leaf.kv_entries(LEASE_BUCKET)) == 3, 60)

        def from_site() -> int:
            return sum(1 for c in centre.store.fleet_view().cameras if c.site == "pare" and c.state == "running")

        assert wait_for(lambda: from_site() == 3, 60), centre.store.fleet_view()

        hub.relay.cut()
        time.sleep(1.0)  # in-flight messages settle
        stored_at_cut = centre.store.count()
        at_cut = leaf.stream_state(EVENTS_STREAM)["messages"]
        workers[1].kill()  # during the cut: the other box takes its cameras over (leases live on the leaf)
        assert wait_for(lambda: all("pare-box-1" in e.value.decode() for e in leaf.kv_entries(LEASE_BUCKET).values())
                        and len(leaf.kv_entries(LEASE_BUCKET)) == 3, 30)  # fmt: skip
        time.sleep(2.0)
        during = leaf.stream_state(EVENTS_STREAM)["messages"]
        assert during > at_cut, "the leaf kept storing events while cut off"
        assert centre.store.count() <= stored_at_cut + 5, "nothing new crossed the cut link"

        hub.relay.restore()
        healed = time.monotonic()
        assert wait_for(lambda: centre.store.count() >= during, 60), (centre.store.count(), during)
        catch_up = time.monotonic() - healed
        workers[0].stop()
        published = leaf.stream_state(EVENTS_STREAM)["messages"]
        assert wait_for(lambda: centre.store.count() == published, 60), (centre.store.count(), published)
        time.sleep(1.0)
        assert centre.store.count() == published, "0 lost, 0 duplicated"
        assert len(centre.store.event_ids()) == published
        assert catch_up < 60  # a bound on the wait, not a speed claim
        view = {c.camera: c for c in centre.store.fleet_view().cameras}
        assert {c for c in view if view[c].site == "pare"} == set(names)
    finally:
        for w in workers:
            w.stop()
        leaf.close()
        centre.close()
