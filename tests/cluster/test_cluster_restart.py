"""The whole hub restarts (its three nats-server nodes stopped, then started again on the same stores) while two
workers, a district's worker on its leaf node and the centre run. Nobody is restarted or told: the workers fence
and take their cameras again, the centre's sources and consumer resume by themselves. Checked on what the centre
received: every camera runs again, no camera on two workers at once, every event the workers got acknowledged
stored once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertools import WorkerProc, lease_intervals, overlaps, small_fleet, wait_for, write_fleet
from kedirivms.cluster import EVENTS_STREAM, Centre
from kedirivms.cluster._nats import NatsLink, retry
from kedirivms.sim import VirtualFleet

PASSWORD = "Restart-s3cret-pw"
ENV = "KEDIRIVMS_TEST_RESTART_PW"
TTL = 4.0


@pytest.fixture(scope="module")
def cameras() -> Iterator[VirtualFleet]:
    with small_fleet(4, PASSWORD) as f:
        yield f


def _running_since(centre: Centre, names: list[str], since: float) -> bool:
    view = {c.camera: c for c in centre.store.fleet_view().cameras}
    return all(
        n in view and view[n].worker is not None and view[n].state == "running"
        and (view[n].last_frame_time or 0) > since
        for n in names
    )  # fmt: skip


def _messages(link: NatsLink) -> int:
    out: list[int] = []
    retry(lambda: out.append(link.stream_state(EVENTS_STREAM)["messages"]), timeout=30.0)
    return out[-1]


def test_the_whole_hub_restarts_under_workers_and_the_centre(cameras: VirtualFleet, hub: Any, tmp_path: Path) -> None:
    urls = [c.device_url for c in cameras]
    kota = [f"kota-{i}" for i in range(3)]
    kota_fleet = write_fleet(tmp_path / "kota.yaml", "kota", list(zip(kota, urls[:3], strict=True)), ENV)
    pare_fleet = write_fleet(tmp_path / "pare.yaml", "pare", [("pare-0", urls[3])], ENV)
    env = {ENV: PASSWORD}
    centre = Centre(hub.urls, tmp_path / "centre.sqlite", leaf_domains=["d1"], replicas=3).start()
    hub_workers = [
        WorkerProc(kota_fleet, hub.urls, w, ttl=TTL, extra=["--replicas", "3"], env=env, log_dir=tmp_path)
        for w in ("wa", "wb")
    ]
    leaf_worker = WorkerProc(pare_fleet, [hub.leaf.url], "pare-box", ttl=TTL, env=env, log_dir=tmp_path)
    workers = [*hub_workers, leaf_worker]
    link = NatsLink(hub.urls, timeout=2.0).connect()
    leaf = NatsLink(hub.leaf.url, timeout=2.0).connect()
    try:
        assert wait_for(lambda: _running_since(centre, [*kota, "pare-0"], 0), 60), centre.store.fleet_view()

        for node in hub.nodes:  # the whole hub goes down, then comes back on the same stores
            node.stop()
        time.sleep(1.0)
        for node in hub.nodes:
            node.start()
        restarted = time.time()
        assert wait_for(lambda: _running_since(centre, [*kota, "pare-0"], restarted + 1.0), 60), (
            centre.last_error, centre.store.fleet_view(),
        )  # fmt: skip

        for w in workers:
            assert w.stop() == 0, w.stderr_path.read_text()[-2000:]
        finals = {w.id: w.latest or {} for w in workers}
        assert all(f["queued"] == 0 and f["dropped"] == 0 for f in finals.values()), finals
        hub_msgs, leaf_msgs = _messages(link), _messages(leaf)
        assert hub_msgs == finals["wa"]["published"] + finals["wb"]["published"], (hub_msgs, finals)
        assert leaf_msgs == finals["pare-box"]["published"], (leaf_msgs, finals)
        total = hub_msgs + leaf_msgs
        assert wait_for(lambda: centre.store.count() >= total, 30), (centre.store.count(), total)
        time.sleep(1.0)
        assert centre.store.count() == len(centre.store.event_ids()) == total, "every event stored once"
        # fencing at TTL/2 comes before the server's expiry at TTL: no camera ran on two workers at once
        assert overlaps(lease_intervals(centre.store)) == []
    finally:
        for w in workers:
            w.stop()
        link.close()
        leaf.close()
        centre.close()
