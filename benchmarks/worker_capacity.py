"""Benchmark: cameras per core for one ``kedirivms worker``, against the same pipelines under ``kedirivms run``.

Load: N virtual counter cameras (ONVIF + RTSP, the counter scene: people queueing at a desk) served from a
**separate process** (their encoding is not counted), one fleet file (the queue plugin on each camera, its
detector and rate as given), and one JetStream server on loopback for the worker. Two contenders, alternating
round by round (ABBA order, so drift and neighbours' load hit both alike), each a fresh process:

* baseline: the fleet's pipelines as ``kedirivms run FLEET.yaml`` runs them (a ``Deployment``: receive + decode
  + the plugin, events to no sink), in a child process that prints each camera's frames every 5 s;
* ``kedirivms worker FLEET.yaml --nats …`` (the same pipelines + leases, camera and worker state, and every
  event published to JetStream and acknowledged).

For each, once every camera delivers frames and a warm-up has passed, the process's own CPU time (user +
system, /proc) over a fixed window, divided by the window and the cameras: CPU per camera, as a fraction of one
core. Prints the medians over the rounds, their spread, the frames fed to the plugin per camera per second (that
every pipeline kept up), the worker's overhead over the baseline, nats-server's CPU, and the capacity a worker on
this host should declare: ``--capacity = floor(cores x utilisation / CPU per camera)`` (utilisation 0.7 by
default: headroom for reconnect storms, recording and the OS).

Run: ``.venv/bin/python benchmarks/worker_capacity.py [--cameras 6] [--rounds 4] [--detector background]``.
The figures depend on the machine, its load and the camera profile; measure with your own (``--size``, ``--fps``,
``--plugin-fps``, ``--detector``). Nothing is hard-coded.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import process_cpu_s, spawn_json

from kedirivms.cluster._harness import CLI, write_fleet
from kedirivms.cluster._server import NatsServer, free_port, wait_jetstream

PASSWORD = "bench-capacity-pw"
ENV = "KEDIRIVMS_BENCH_PW"


def serve(n: int, width: int, height: int, fps: int) -> None:
    """Child process: N virtual counter cameras until stdin closes; prints their device URLs as one JSON line."""
    from kedirivms.sim import EncoderSpec, VirtualCameraConfig, VirtualFleet
    from kedirivms.sim.counter_scene import CounterScene

    spec = EncoderSpec(width=width, height=height, fps=fps, bitrate_kbps=500, gop=fps)
    base = VirtualCameraConfig(password=PASSWORD, main=spec, sub=spec)

    def scene(channel: int, kind: str) -> CounterScene:
        return CounterScene(channel, arrival_rate_per_min=6.0, service_time_s=20.0)  # repeats every 600 s

    with VirtualFleet.start(n, base=base, rtsp=True, scene=scene) as fleet:
        print(json.dumps([cam.device_url for cam in fleet]), flush=True)
        sys.stdin.read()


def start_cameras(args: argparse.Namespace) -> tuple[subprocess.Popen[str], list[str]]:
    argv = [sys.executable, __file__, "--serve", "--cameras", str(args.cameras), "--size", args.size]
    proc, urls = spawn_json([*argv, "--fps", str(args.fps)], "the virtual cameras", stdin=True)
    return proc, list(urls)


def baseline(fleet_path: str) -> None:
    """Child process: the fleet's pipelines as ``kedirivms run`` runs them (a Deployment, no sink), printing
    each camera's frames as a JSON line every 5 s (as the worker's ``--json`` does) until SIGTERM."""
    import threading

    from kedirivms.deploy import Deployment
    from kedirivms.fleet import load_fleet

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    deployment = Deployment(load_fleet(fleet_path))
    deployment.start()
    try:
        while not stop.wait(5.0):
            cams = {n: {"frames": st.frames} for n, st in deployment.statuses.items()}
            print(json.dumps({"cameras": cams}), flush=True)
    finally:
        deployment.close()


def measure(argv: list[str], args: argparse.Namespace, server_pid: int | None) -> dict[str, Any]:
    """Start one contender; once every camera delivers frames, wait the warm-up, then measure its CPU (and the
    frames its status lines report) over the window; stop it (SIGTERM)."""
    import threading

    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, ENV: PASSWORD}, start_new_session=True)  # fmt: skip
    lines: list[tuple[float, dict[str, Any]]] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip():
                lines.append((time.monotonic(), json.loads(line)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def frames(status: dict[str, Any]) -> list[int]:
        return [int(c.get("frames") or 0) for c in status.get("cameras", {}).values()]

    try:
        deadline = time.monotonic() + 180
        while not (lines and len(f := frames(lines[-1][1])) == args.cameras and min(f) > 0):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"{' '.join(argv[3:5])}: the cameras did not all deliver frames")
            time.sleep(0.2)
        time.sleep(args.warmup)
        cpu0, srv0, t0 = process_cpu_s(proc.pid), process_cpu_s(server_pid) if server_pid else 0.0, time.monotonic()
        time.sleep(args.seconds)
        cpu1, srv1, t1 = process_cpu_s(proc.pid), process_cpu_s(server_pid) if server_pid else 0.0, time.monotonic()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        reader.join(10)
    inside = [(t, st) for t, st in lines if t0 <= t <= t1 and len(frames(st)) == args.cameras]
    fps = (sum(frames(inside[-1][1])) - sum(frames(inside[0][1]))) / (inside[-1][0] - inside[0][0]) / args.cameras
    final = lines[-1][1]
    wall = t1 - t0
    return {
        "cpu_per_camera": (cpu1 - cpu0) / wall / args.cameras,
        "server_cpu": (srv1 - srv0) / wall,
        "fps_per_camera": fps,
        "published": final.get("published"),
        "dropped": final.get("dropped"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", help=argparse.SUPPRESS)
    parser.add_argument("--cameras", type=int, default=6, help="cameras on the one worker (default 6)")
    parser.add_argument("--size", default="640x360", help="camera resolution WxH (default 640x360)")
    parser.add_argument("--fps", type=int, default=10, help="camera frame rate (default 10)")
    parser.add_argument("--plugin-fps", type=float, default=2.0, help="frames per second given to the queue plugin")
    parser.add_argument("--detector", choices=["auto", "dnn", "background"], default="auto", help="queue detector")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of both contenders (default 4)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds from all cameras delivering to the window")
    parser.add_argument("--seconds", type=float, default=30.0, help="window per contender and round (default 30)")
    parser.add_argument("--utilisation", type=float, default=0.7, help="share of the cores to plan for (0.7)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    if args.serve:
        serve(args.cameras, width, height, args.fps)
        return
    if args.baseline:
        baseline(args.baseline)
        return

    from kedirivms.sim.counter_scene import CounterScene

    root = Path(tempfile.mkdtemp(prefix="kedirivms-capacity-"))
    cams, urls = start_cameras(args)
    plugin = {"interval_s": 1.0, "anchor": "bottom_center", "detector": args.detector}
    fleet = write_fleet(root / "fleet.yaml", "kota", [(f"cam-{i}", u) for i, u in enumerate(urls)], ENV,
                        zones=CounterScene(1).zones(), plugins=[{"name": "queue", "max_fps": args.plugin_fps,
                                                                 "config": plugin}])  # fmt: skip
    server = NatsServer("bench", root, free_port(), f'jetstream {{ store_dir: "{root / "js"}" }}').start()
    wait_jetstream(server.url)
    run_argv = [sys.executable, __file__, "--baseline", str(fleet)]
    worker_argv = [sys.executable, "-c", CLI, "worker", str(fleet), "--nats", server.url, "--id", "bench",
                   "--capacity", str(args.cameras), "--json", "--status-interval", "5"]  # fmt: skip
    contenders = {"run's pipelines (baseline)": run_argv, "kedirivms worker": worker_argv}
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in contenders}
    cores = os.cpu_count() or 1
    load0 = os.getloadavg()[0]
    try:
        for r in range(args.rounds):
            order = list(contenders) if r % 2 == 0 else list(reversed(contenders))  # ABBA
            for name in order:
                pid = server.process.pid if name == "kedirivms worker" and server.process else None
                row = measure(contenders[name], args, pid)
                results[name].append(row)
                print(f"round {r + 1}/{args.rounds} {name:26s} {100 * row['cpu_per_camera']:5.1f}% of a core per "
                      f"camera, {row['fps_per_camera']:4.1f} frames/s per camera",
                      flush=True)  # fmt: skip
    finally:
        cams.stdin.close()  # type: ignore[union-attr]
        cams.wait(20)
        server.stop()

    print(f"\nload: {args.cameras} cameras {args.size} @ {args.fps} fps (counter scene, separate process), "
          f"queue plugin @ {args.plugin_fps:g} fps (detector {args.detector}); {args.rounds} rounds ABBA, "
          f"{args.seconds:g} s windows after {args.warmup:g} s; {cores} cores, load average {load0:.1f} -> "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'':28}{'CPU/camera':>11}{'(min-max)':>15}{'cameras/core':>14}{'frames/s/cam':>14}")
    medians = {}
    for name, rows in results.items():
        cpu = [r["cpu_per_camera"] for r in rows]
        medians[name] = statistics.median(cpu)
        fps = statistics.median(r["fps_per_camera"] for r in rows)
        print(f"{name:28}{100 * medians[name]:>10.1f}%{f'{100 * min(cpu):.1f}-{100 * max(cpu):.1f}%':>15}"
              f"{1 / medians[name]:>14.1f}{fps:>14.1f}")  # fmt: skip
    base, worker = medians["run's pipelines (baseline)"], medians["kedirivms worker"]
    w_rows = results["kedirivms worker"]
    print(f"worker / run: {worker / base:.2f}x; the worker's own share (leases, state, JetStream publishing): "
          f"{100 * (worker - base):+.1f}% of a core per camera")  # fmt: skip
    print(f"nats-server during the worker's windows: {100 * statistics.median(r['server_cpu'] for r in w_rows):.1f}% "
          f"of a core; events acknowledged per run: {statistics.median(r['published'] or 0 for r in w_rows):.0f}, "
          f"dropped: {max(r['dropped'] or 0 for r in w_rows)}")  # fmt: skip
    capacity = math.floor(cores * args.utilisation / worker)
    print(
        f"=> declare --capacity {capacity} on this host for this camera profile "
        f"(floor({cores} cores x {args.utilisation:g} / {100 * worker:.1f}%))"
    )


if __name__ == "__main__":
    main()
