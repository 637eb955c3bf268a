"""A worker joins and another leaves (SIGTERM) while cameras stream and events flow: the joiner takes exactly its
rendezvous share, the leaver hands its leases back (its cameras move without waiting for a TTL), and the centre
holds every acknowledged event once, with no camera on two workers at once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clustertools import WorkerProc, lease_intervals, overlaps, small_fleet, wait_for, write_fleet
from kedirivms.cluster import EVENTS_STREAM, LEASE_BUCKET, Centre, Member, assign
from kedirivms.cluster._nats import NatsLink
from kedirivms.cluster._server import NatsServer
from kedirivms.errors import ClusterError
from kedirivms.sim import VirtualFleet

PASSWORD = "Join-leave-s3cret"
ENV = "KEDIRIVMS_TEST_JOIN_LEAVE_PW"
N_CAMERAS = 5
TTL = 20.0  # long on purpose: a camera that moved faster than this was handed over, not left to expire


@pytest.fixture(scope="module")
def cameras() -> Iterator[VirtualFleet]:
    with small_fleet(N_CAMERAS, PASSWORD) as fleet:
        yield fleet


def _plan(names: list[str], workers: list[str]) -> dict[str, str | None]:
    return assign({n: ("kota", None) for n in names}, [Member(id=w, capacity=100) for w in workers])


def _holders(link: NatsLink) -> dict[str, str] | None:
    try:
        return {k[4:]: json.loads(e.value)["worker"] for k, e in link.kv_entries(LEASE_BUCKET).items()}
    except ClusterError:
        return None


def _settled(centre: Centre, link: NatsLink, want: dict[str, str | None], since: float) -> bool:
    view = {c.camera: c for c in centre.store.fleet_view().cameras}
    return _holders(link) == want and all(
        c in view and view[c].worker == w and view[c].state == "running" and (view[c].last_frame_time or 0) > since
        for c, w in want.items()
    )


def test_a_worker_joins_and_one_leaves_under_load(
    cameras: VirtualFleet, nats_single: NatsServer, tmp_path: Path
) -> None:
    names = [f"cam-{i}" for i in range(N_CAMERAS)]
    fleet = write_fleet(tmp_path / "fleet.yaml", "kota", list(zip(names, [c.device_url for c in cameras], strict=True)),
                        ENV)  # fmt: skip
    env = {ENV: PASSWORD}
    servers = [nats_single.url]
    centre = Centre(servers, tmp_path / "centre.sqlite", durable="join-leave").start()
    link = NatsLink(servers).connect()
    link.ensure_kv(LEASE_BUCKET)
    workers = {w: WorkerProc(fleet, servers, w, ttl=TTL, env=env, log_dir=tmp_path) for w in ("wa", "wb")}
    try:
        want = _plan(names, ["wa", "wb"])
        assert wait_for(lambda: _settled(centre, link, want, 0), 60), (_holders(link), centre.store.fleet_view())

        joined = time.time()  # a third worker joins: only the cameras it now ranks first on move, to it
        workers["wc"] = WorkerProc(fleet, servers, "wc", ttl=TTL, env=env, log_dir=tmp_path)
        before, want = want, _plan(names, ["wa", "wb", "wc"])
        moved = {c for c in names if before[c] != want[c]}
        assert moved and all(want[c] == "wc" for c in moved), (before, want)
        assert wait_for(lambda: _settled(centre, link, want, joined), 60), (_holders(link), centre.store.fleet_view())

        leaver = max(("wa", "wb"), key=lambda w: sum(1 for h in want.values() if h == w))
        left = {c for c, w in want.items() if w == leaver}
        assert left
        stopped = time.time()
        assert workers[leaver].stop() == 0, workers[leaver].stderr_path.read_text()[-2000:]
        want = _plan(names, [w for w in ("wa", "wb", "wc") if w != leaver])
        assert wait_for(lambda: _settled(centre, link, want, stopped), TTL * 0.75), (
            "the leaver's cameras should move before its leases could expire", _holders(link),
            centre.store.fleet_view(),
        )  # fmt: skip

        for w in workers.values():
            assert w.stop() == 0, w.stderr_path.read_text()[-2000:]
        finals = [w.latest or {} for w in workers.values()]
        assert all(f["queued"] == 0 and f["dropped"] == 0 for f in finals), finals
        published = link.stream_state(EVENTS_STREAM)["messages"]
        assert published == sum(f["published"] for f in finals), (published, finals)
        assert wait_for(lambda: centre.store.count() >= published, 30), (centre.store.count(), published)
        time.sleep(1.0)
        assert centre.store.count() == len(centre.store.event_ids()) == published, "every event stored once"
        intervals = lease_intervals(centre.store)
        assert overlaps(intervals) == [], "a camera on two workers at once"
        for camera in left | moved:  # each handed over: an ended lease, then a lease on another worker
            assert len({iv[0] for iv in intervals[camera]}) >= 2, intervals[camera]
    finally:
        for w in workers.values():
            w.stop()
        link.close()
        centre.close()
