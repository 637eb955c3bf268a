"""Benchmark: time from a worker's death until each of its cameras delivers frames on another worker.

Load: a 3-node JetStream cluster on loopback (replicas 3), 3 ``kedirivms worker`` processes, 6 virtual counter
cameras (320x240 @ 5 fps, the queue plugin at 2 fps), the centre store in this process as the witness. Each round
stops one worker that holds cameras, the two kinds interleaved evenly:

* ``kill -9``: the cameras wait for the lease TTL to run out, then move;
* baseline ``SIGTERM`` (graceful stop, same run): the worker stops its pipelines, hands its leases back and
  deletes its membership key; the others assign again at once and take the cameras.

For each camera of the stopped worker, the failover time is (the new worker's first ``camera_state`` event with
frames > 0 on a new lease) - (the stop). The stopped worker is restarted and the round ends when every camera
runs again. Prints p50/p95/max per kind and the kill/graceful ratio of medians.

Run: ``.venv/bin/python benchmarks/failover.py [--kills 20] [--graceful 7] [--ttl 10]``.
Goal (issue 13): kill -9 p95 <= 20 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from kedirivms.cluster import LEASE_BUCKET, Centre, Member, assign
from kedirivms.cluster._harness import WorkerProc, wait_for, write_fleet
from kedirivms.cluster._nats import NatsLink, retry
from kedirivms.cluster._server import hub_cluster
from kedirivms.sim import EncoderSpec, VirtualCameraConfig, VirtualFleet

PASSWORD = "bench-failover-pw"
ENV = "KEDIRIVMS_BENCH_PW"


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def _arrived(centre: Centre, t0: float, moved: set[str], old: dict[str, int], victim: str) -> dict[str, float]:
    """Per moved camera: seconds from ``t0`` to its first frames on a newer lease of another worker."""
    out: dict[str, float] = {}
    for ev in centre.store.events(kind="camera_state", limit=1_000_000):
        d = ev.data
        fresh = int(str(d.get("lease_revision") or 0)) > old.get(ev.camera, 0)
        if ev.camera in moved and ev.timestamp >= t0 and d.get("worker") != victim and d.get("frames") and fresh:
            out.setdefault(ev.camera, ev.timestamp - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20, help="kill -9 rounds (default 20)")
    parser.add_argument("--graceful", type=int, default=None, help="SIGTERM rounds (default: a third of --kills)")
    parser.add_argument("--ttl", type=float, default=10.0, help="lease TTL, seconds (default 10, the default)")
    parser.add_argument("--cameras", type=int, default=6)
    args = parser.parse_args()
    os.environ[ENV] = PASSWORD
    root = Path(tempfile.mkdtemp(prefix="kedirivms-failover-"))
    hubs = hub_cluster(root / "hub")
    for h in hubs:
        h.start()
    urls = [h.url for h in hubs]
    small = EncoderSpec(width=320, height=240, fps=5, bitrate_kbps=128, gop=5)
    fleet_cams = VirtualFleet.start(args.cameras, base=VirtualCameraConfig(password=PASSWORD, main=small, sub=small),
                                    rtsp=True)  # fmt: skip
    names = [f"cam-{i}" for i in range(args.cameras)]
    fleet = write_fleet(root / "fleet.yaml", "kota", list(zip(names, [c.device_url for c in fleet_cams], strict=True)),
                        ENV)  # fmt: skip
    link = NatsLink(urls)
    retry(lambda: link.connect(5.0))
    retry(lambda: link.ensure_kv(LEASE_BUCKET, replicas=3))
    centre = Centre(urls, root / "centre.sqlite", replicas=3).start()
    ids = ["w1", "w2", "w3"]
    extra = ["--replicas", "3"]
    workers = {w: WorkerProc(fleet, urls, w, ttl=args.ttl, extra=extra, log_dir=root) for w in ids}

    def holders() -> dict[str, str]:
        return {k[4:]: json.loads(e.value)["worker"] for k, e in link.kv_entries(LEASE_BUCKET).items()}

    def settled() -> bool:
        want = assign({n: ("kota", None) for n in names}, [Member(id=w, capacity=100) for w in ids])
        view = {c.camera: c for c in centre.store.fleet_view().cameras}
        return holders() == want and all(
            n in view and view[n].worker == want[n] and view[n].state == "running" and view[n].frames for n in names
        )

    samples: dict[str, list[float]] = {"kill -9": [], "graceful (SIGTERM)": []}
    try:
        if not wait_for(settled, 120):
            raise SystemExit("the cluster did not settle")
        n_graceful = args.graceful if args.graceful is not None else max(1, args.kills // 3)
        plan = sorted(
            [((j + 0.5) / args.kills, "kill -9") for j in range(args.kills)]
            + [((j + 0.75) / n_graceful, "graceful (SIGTERM)") for j in range(n_graceful)]
        )  # the two kinds interleaved evenly
        rounds = len(plan)
        for i, (_, kind) in enumerate(plan):
            held = holders()
            victim = max(ids, key=lambda w: (sum(1 for v in held.values() if v == w), w))
            moved = {c for c, w in held.items() if w == victim}
            if not moved:
                continue  # a worker without cameras: nothing to measure this round
            old_revs = {c.camera: c.lease_revision for c in centre.store.fleet_view().cameras if c.camera in moved}
            t0 = time.time()
            if kind == "kill -9":
                workers[victim].kill()
            else:
                workers[victim].stop()

            def done(t0: float = t0, moved: set[str] = moved, old: dict[str, int] = old_revs, v: str = victim) -> bool:
                return len(_arrived(centre, t0, moved, old, v)) == len(moved)

            if not wait_for(done, 120, step=0.5):
                print(f"round {i}: some cameras did not move within 120 s")
            times = _arrived(centre, t0, moved, old_revs, victim)
            samples[kind] += list(times.values())
            print(f"round {i + 1:2d}/{rounds} {kind:18s} {victim}: {len(moved)} cameras, "
                  f"{', '.join(f'{t:.1f}' for t in sorted(times.values()))} s", flush=True)  # fmt: skip
            workers[victim] = WorkerProc(fleet, urls, victim, ttl=args.ttl, extra=extra, log_dir=root)
            if not wait_for(settled, 120):
                raise SystemExit("the cluster did not settle after a restart")
        print()
        print(f"load: 3-node JetStream cluster (R3), 3 workers, {args.cameras} cameras 320x240@5fps, "
              f"queue plugin @2 fps, lease TTL {args.ttl:.0f} s, {os.cpu_count()} cores (shared)")  # fmt: skip
        for kind, values in samples.items():
            if values:
                print(f"{kind:20s} n={len(values):3d}  p50 {statistics.median(values):5.1f} s  "
                      f"p95 {_pct(values, 0.95):5.1f} s  max {max(values):5.1f} s")  # fmt: skip
        if samples["kill -9"] and samples["graceful (SIGTERM)"]:
            ratio = statistics.median(samples["kill -9"]) / statistics.median(samples["graceful (SIGTERM)"])
            print(f"kill -9 / graceful (median): {ratio:.1f}x  (goal: kill -9 p95 <= 20 s)")
    finally:
        for w in workers.values():
            w.stop()
        centre.close()
        link.close()
        fleet_cams.stop()
        for h in hubs:
            h.stop()


if __name__ == "__main__":
    main()
