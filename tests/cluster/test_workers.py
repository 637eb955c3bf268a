"""Workers on a real 3-node JetStream cluster, with virtual cameras: leases are exclusive, a joining worker takes
its rendezvous share and nothing else moves, a killed worker's cameras run elsewhere, and a worker frozen past its
lease TTL fences its cameras on waking instead of resuming them. The centre store is the witness throughout."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertools import WorkerProc, lease_intervals, small_fleet, wait_for, write_fleet
from kedirivms.cluster import EVENTS_STREAM, LEASE_BUCKET, Centre, Member, assign
from kedirivms.cluster._nats import NatsLink
from kedirivms.errors import ClusterError
from kedirivms.sim import VirtualFleet

PASSWORD = "Cluster-s3cret-pw"
ENV = "KEDIRIVMS_TEST_CLUSTER_PW"
TTL = 4.0
N_CAMERAS = 6


@pytest.fixture(scope="module")
def cameras() -> Iterator[VirtualFleet]:
    with small_fleet(N_CAMERAS, PASSWORD) as fleet:
        yield fleet


def _holders(link: NatsLink) -> dict[str, str] | None:
    try:
        entries = link.kv_entries(LEASE_BUCKET)
    except ClusterError:  # a leader election in progress: no answer this time
        return None
    return {k.removeprefix("cam."): json.loads(e.value)["worker"] for k, e in entries.items()}


def _expected(names: list[str], workers: list[str]) -> dict[str, str | None]:
    members = [Member(id=w, capacity=100) for w in workers]
    return assign({n: ("kota", None) for n in names}, members)


def test_leases_rebalance_failover_and_fencing(cameras: VirtualFleet, hub: Any, tmp_path: Path) -> None:
    names = [f"cam-{i}" for i in range(N_CAMERAS)]
    fleet = write_fleet(
        tmp_path / "fleet.yaml", "kota", list(zip(names, [c.device_url for c in cameras], strict=True)), ENV
    )
    env = {ENV: PASSWORD}
    extra = ["--replicas", "3"]
    workers: dict[str, WorkerProc] = {}
    centre = Centre(hub.urls, tmp_path / "centre.sqlite", replicas=3).start()
    link = NatsLink(hub.urls).connect()
    link.ensure_kv(LEASE_BUCKET, replicas=3)
    try:
        for w in ("wa", "wb"):
            workers[w] = WorkerProc(fleet, hub.urls, w, ttl=TTL, extra=extra, env=env, log_dir=tmp_path)
        want = _expected(names, ["wa", "wb"])
        assert wait_for(lambda: _holders(link) == want, 60), (_holders(link), want)

        # a joining worker takes its rendezvous share, and only that moves (measured from the assignment the wait just
        # saw: a second read of the bucket may fail mid-election and come back empty)
        before = want
        workers["wc"] = WorkerProc(fleet, hub.urls, "wc", ttl=TTL, extra=extra, env=env, log_dir=tmp_path)
        want = _expected(names, ["wa", "wb", "wc"])
        assert wait_for(lambda: _holders(link) == want, 60), (_holders(link), want)
        moved = {c for c in names if before[c] != want[c]}
        assert moved and all(want[c] == "wc" for c in moved), "only cameras now ranked first on wc moved"

        def running_on(camera: str, worker: str) -> bool:
            view = {c.camera: c for c in centre.store.fleet_view().cameras}
            cam = view.get(camera)
            return cam is not None and cam.worker == worker and cam.state == "running" and bool(cam.frames)

        assert wait_for(lambda: all(running_on(c, want[c]) for c in names), 60), centre.store.fleet_view()

        # kill -9 a worker: its cameras run on the others
        victim = "wb" if any(v == "wb" for v in want.values()) else "wa"
        lost = {c for c, w in want.items() if w == victim}
        workers[victim].kill()
        survivors = [w for w in ("wa", "wb", "wc") if w != victim]
        want = _expected(names, survivors)
        assert wait_for(lambda: _holders(link) == want, 60), (_holders(link), want)
        assert wait_for(lambda: all(running_on(c, want[c]) for c in lost), 60), centre.store.fleet_view()

        # SIGSTOP a worker past its lease TTL: others take over; on SIGCONT it fences, it does not resume
        frozen = survivors[0]
        frozen_cams = {c for c, w in want.items() if w == frozen}
        frozen_revs = {
            (c, rev)
            for c, ivs in lease_intervals(centre.store).items()
            for (w, rev, _s, end) in ivs
            if w == frozen and end is None
        }
        workers[frozen].freeze()
        other = survivors[1]
        assert wait_for(lambda: all((_holders(link) or {}).get(c) == other for c in frozen_cams), 30), _holders(link)
        assert wait_for(lambda: all(running_on(c, other) for c in frozen_cams), 60), centre.store.fleet_view()
        thawed_at = time.time()
        workers[frozen].thaw()
        assert wait_for(
            lambda: bool(workers[frozen].latest) and workers[frozen].latest["fenced"] >= len(frozen_cams), 20
        )  # type: ignore[index]
        time.sleep(2.0)  # let its post-thaw events reach the centre
        for ev in centre.store.events(kind="camera_state", limit=100_000):
            old_lease = ev.data.get("worker") == frozen and (ev.camera, ev.data["lease_revision"]) in frozen_revs
            if old_lease and ev.timestamp >= thawed_at:
                assert ev.data["state"] in ("fenced", "lost"), f"{frozen} resumed {ev.camera}: {ev.data}"

        # every worker stops (releasing its leases); the centre then holds every published event exactly once
        for w in workers.values():
            w.stop()
        published = link.stream_state(EVENTS_STREAM)["messages"]
        assert wait_for(lambda: centre.store.count() == published, 30), (centre.store.count(), published)
        assert len(centre.store.event_ids()) == published

        # no camera was held by two live workers at once (leased..released intervals of the same camera)
        for camera, ivs in lease_intervals(centre.store).items():
            for (w1, _r1, _s1, e1), (w2, _r2, s2, _e2) in zip(ivs, ivs[1:], strict=False):
                if w1 in (victim, frozen) or w1 == w2:
                    continue  # a killed or frozen worker ran nothing after its death/freeze
                assert e1 is not None and e1 <= s2, f"{camera}: {w1} until {e1}, {w2} from {s2}"
        assert PASSWORD not in (tmp_path / "wa.stderr").read_text()
    finally:
        for w in workers.values():
            w.stop()
        link.close()
        centre.close()
    for w in ("wa", "wb", "wc"):
        if w in workers and workers[w].proc.returncode not in (0, -9):
            pytest.fail(
                f"worker {w} exited with {workers[w].proc.returncode}: {workers[w].stderr_path.read_text()[-2000:]}"
            )


def test_the_lease_stream_leader_dies_and_every_camera_runs_again(
    cameras: VirtualFleet, hub: Any, tmp_path: Path
) -> None:
    names = [f"cam-{i}" for i in range(N_CAMERAS)]
    urls = list(zip(names, [c.device_url for c in cameras], strict=True))
    fleet = write_fleet(tmp_path / "fleet.yaml", "kota", urls, ENV)
    env = {ENV: PASSWORD}
    centre = Centre(hub.urls, tmp_path / "centre.sqlite", durable="leader-test", replicas=3).start()
    link = NatsLink(hub.urls).connect()
    link.ensure_kv(LEASE_BUCKET, replicas=3)
    workers = [WorkerProc(fleet, hub.urls, w, ttl=TTL, extra=["--replicas", "3"], env=env, log_dir=tmp_path)
               for w in ("wd", "we")]  # fmt: skip
    killed = None
    try:
        want = _expected(names, ["wd", "we"])
        assert wait_for(lambda: _holders(link) == want, 60), (_holders(link), want)
        leader = link.stream_leader(f"KV_{LEASE_BUCKET}")
        killed = next(n for n in hub.nodes if n.name == leader)
        started = time.time()
        killed.kill()

        def running_again() -> bool:
            view = {c.camera: c for c in centre.store.fleet_view().cameras}
            return _holders(link) == want and all(
                n in view and view[n].state == "running" and (view[n].last_frame_time or 0) > started + 1 for n in names
            )

        assert wait_for(running_again, 90), centre.store.fleet_view()
        assert link.stream_leader(f"KV_{LEASE_BUCKET}") != leader
        for w in workers:
            w.stop()
        published = link.stream_state(EVENTS_STREAM)["messages"]  # this module's events, both tests
        assert wait_for(lambda: centre.store.count() == published, 30), (centre.store.count(), published)
        assert len(centre.store.event_ids()) == published, "every event once across the leader's death"
    finally:
        for w in workers:
            w.stop()
        link.close()
        centre.close()
        if killed is not None:
            killed.start()
