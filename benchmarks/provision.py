"""Benchmark: plan + apply an inventory over 100 virtual cameras; goal <= 10 s on this box (issue 7).

Each measured configuration gets a fresh fleet (``kedirivms simulate --distinct-hosts`` in a child process), so
every apply really writes: hostname, scopes, NTP, time zone, main and sub encoders, an operator account,
imaging and a PTZ preset on each camera. Measured in the same run:

* ``sequential``: concurrency 1 (the baseline: one camera after the other);
* ``default``: ``kedirivms.provision``'s default concurrency;
* the second apply of the converged fleet (every camera unchanged: reads only);
* ``apply`` alone on a fresh fleet (``apply(inventory)`` without a plan: it reads each camera itself), in
  this process and spread over ``--processes`` forked workers (``kedirivms apply --processes N``).

"plan + apply" is ``p = plan(inventory)`` then ``apply(inventory, plan=p)``, as ``kedirivms apply`` does: the
cameras are read once, by the plan, and apply writes. The CPU time of the client (this process) and of the
fleet (the ``simulate`` process, from /proc) are reported beside the wall time: on a 2-core box both compete.
The WSDLs are parsed once per process before timing (a one-off cold start, reported separately).

Run: ``.venv/bin/python benchmarks/provision.py [--cameras 100] [--baseline-cameras 100]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _common import process_cpu_s, start_fleet, stop_fleet

PASSWORD = "bench-prov-pw"
GOAL_S = 10.0

INVENTORY = """\
version: 1
defaults:
  credentials: {{username: admin, password_env: BENCH_CAM_PW}}
  timeout: 10
  hostname: "{{site}}-{{name}}"
  time: {{ntp_servers: [10.20.0.1, ntp.example.org], time_zone: WIB-7}}
  encoders:
    main: {{resolution: 1280x720, fps: 15, bitrate_kbps: 2048, gop: 30}}
    sub: {{resolution: 640x360, fps: 5, bitrate_kbps: 256}}
  users:
    - {{name: operator, role: Operator, password_env: BENCH_OPERATOR_PW}}
  imaging: {{brightness: 55, ir_cut_filter: AUTO}}
  ptz: {{presets: [{{name: Queue, pan: 0.2, tilt: -0.1, zoom: 0.1}}]}}
sites:
  bench:
    location: bench/site
    cameras:
{cameras}
"""


def measure(
    n: int, concurrency: int, workdir: Path, second: bool, with_plan: bool = True, processes: int = 1
) -> dict[str, float]:
    from kedirivms.fleet import load_fleet
    from kedirivms.provision import apply, plan

    proc, cams = start_fleet(n, PASSWORD, "--distinct-hosts")
    try:
        rows = [f"      - {{name: cam{i:03d}, address: '{c['host']}:{c['port']}'}}" for i, c in enumerate(cams)]
        path = workdir / f"inventory-{concurrency}.yaml"
        path.write_text(INVENTORY.format(cameras="\n".join(rows)))
        inv = load_fleet(path)
        t0, cpu0, fleet0 = time.perf_counter(), time.process_time(), process_cpu_s(proc.pid)
        p = plan(inv, concurrency=concurrency) if with_plan else None
        t1 = time.perf_counter()
        report = apply(inv, plan=p, concurrency=concurrency, processes=processes, audit=workdir / "audit.jsonl")
        t2, cpu2, fleet2 = time.perf_counter(), time.process_time(), process_cpu_s(proc.pid)
        children = os.times()
        if p is not None:
            assert p.count("changes") == n, [
                (c.name, c.status, c.error, c.problems) for c in p.cameras if c.status != "changes"
            ]
        assert report.count("changed") == n, [(c.name, c.error) for c in report.cameras if c.status != "changed"]
        out = {
            "plan_s": t1 - t0,
            "apply_s": t2 - t1,
            "total_s": t2 - t0,
            "client_cpu_s": cpu2 - cpu0,
            "fleet_cpu_s": fleet2 - fleet0,
            "workers_cpu_s": children.children_user + children.children_system,
            "changes": float(sum(len(c.changes) for c in report.cameras)),
        }
        if second:
            again = apply(inv, concurrency=concurrency)
            out["second_apply_s"] = time.perf_counter() - t2
            assert again.count("unchanged") == n
        return out
    finally:
        stop_fleet(proc)


def main() -> None:
    from kedirivms.onvif import preload
    from kedirivms.provision import DEFAULT_CONCURRENCY

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=100)
    ap.add_argument("--baseline-cameras", type=int, default=100, help="cameras for the sequential baseline")
    ap.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    ap.add_argument("--processes", type=int, default=2, help="worker processes for the last measure")
    args = ap.parse_args()
    os.environ["BENCH_CAM_PW"] = PASSWORD
    os.environ["BENCH_OPERATOR_PW"] = "bench-operator-pw"

    t = time.perf_counter()
    preload("device", "media", "ptz", "imaging")
    cold = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        fast = measure(args.cameras, args.concurrency, work, second=True)
        alone = measure(args.cameras, args.concurrency, work, second=False, with_plan=False)
        before = os.times()
        spread = measure(args.cameras, args.concurrency, work, second=False, with_plan=False, processes=args.processes)
        spread["workers_cpu_s"] -= before.children_user + before.children_system
        base = measure(args.baseline_cameras, 1, work, second=False)
    per_cam_fast = fast["total_s"] / args.cameras
    per_cam_base = base["total_s"] / args.baseline_cameras
    print(f"WSDL cold start (once per process): {cold:.2f} s", flush=True)
    print(
        f"baseline  concurrency 1, {args.baseline_cameras} cameras: plan {base['plan_s']:.2f} s + apply "
        f"{base['apply_s']:.2f} s = {base['total_s']:.2f} s ({per_cam_base * 1000:.0f} ms/camera)"
    )
    print(
        f"default   concurrency {args.concurrency}, {args.cameras} cameras: plan {fast['plan_s']:.2f} s + apply "
        f"{fast['apply_s']:.2f} s = {fast['total_s']:.2f} s ({per_cam_fast * 1000:.0f} ms/camera, "
        f"{fast['changes']:.0f} changes)"
    )
    print(
        f"CPU for plan + apply: client {fast['client_cpu_s']:.2f} s (this process), "
        f"fleet {fast['fleet_cpu_s']:.2f} s (the simulate process)"
    )
    print(f"second apply (all unchanged): {fast['second_apply_s']:.2f} s")
    print(
        f"apply alone on a fresh fleet (no plan: it reads each camera itself): "
        f"{alone['apply_s']:.2f} s (client CPU {alone['client_cpu_s']:.2f} s)"
    )
    print(
        f"apply alone on a fresh fleet, {args.processes} worker processes (apply --processes {args.processes}): "
        f"{spread['apply_s']:.2f} s (workers' CPU {spread['workers_cpu_s']:.2f} s, fleet {spread['fleet_cpu_s']:.2f} s)"
    )
    print(f"speed-up vs sequential (per camera): {per_cam_base / per_cam_fast:.1f}x")
    verdict = "MET" if fast["total_s"] <= GOAL_S else "MISSED"
    print(f"goal plan + apply <= {GOAL_S:.0f} s for {args.cameras} cameras: {fast['total_s']:.2f} s -> {verdict}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")


if __name__ == "__main__":
    main()
