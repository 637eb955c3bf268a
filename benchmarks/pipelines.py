"""Analytics pipelines per CPU core, and the plugin hook-dispatch overhead per frame.

Part 1 — pipelines per core. A virtual camera (the counter scene: people queueing at a service counter) serves
640x360 @ 10 fps H.264 over RTSP from a **separate process**, so its encoding is not counted. This process runs N
camera pipelines (RTSP receive + H.264 decode + the built-in ``queue`` plugin: its default DNN person detector
(YOLOX-Nano via onnxruntime, ``rate_hz`` detections per second per camera, one session batching all cameras) or
the background detector with ``--detector background``, ByteTrack, zones, metrics, alerts) and measures its own
CPU time (user + system) over a fixed window:

* baseline: the same N pipelines with no plugin (receive + decode only), measured in the same run;
* queue: N pipelines with the queue plugin at 10 fps.

It prints CPU per pipeline (fraction of one core), pipelines per core (1 / that), the plugin's share, whether
every pipeline kept up (plugin fps, frames dropped by the latest-frame slot), detections per second per camera
and the DNN's latency per batch size (batches form when several cameras ask at once).

Goal (issue 12): >= 24 cameras of 640x360 @ 10 fps decoded, detected at >= 2 Hz each and tracked on a 2-core box:
``benchmarks/pipelines.py --pipelines 24``.

Part 2 — hook dispatch. On a real decoded frame it times a trivial ``on_frame`` hook called (a) directly as a
method, (b) through its pluggy hook caller (what the runner uses), (c) through the runner's whole per-frame path
on the plugin thread (context update, timing, result check), plus the feeding side (rate check + latest-frame
slot), and prints the overhead per frame in microseconds and as a share of the queue plugin's own time.

Run: ``.venv/bin/python benchmarks/pipelines.py`` (``--pipelines N``, ``--seconds S``, ``--quick``).
The figures depend on the machine and its load; nothing here is hard-coded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

from _common import self_cpu

from kedirivms import hookimpl
from kedirivms.analytics import AnalyticsRunner, CameraAnalytics, PluginRegistry, PluginSettings
from kedirivms.analytics._manager import PluginInstance, validate_config
from kedirivms.analytics._worker import PluginWorker
from kedirivms.analytics.hookspecs import CameraInfo

WIDTH, HEIGHT, FPS = 640, 360, 10.0


# -- the camera, in its own process ----------------------------------------------------------------------------
def serve() -> None:
    """Child process: serve the counter scene until stdin closes; prints ``READY <port>``."""
    from kedirivms.sim.counter_scene import CounterScene
    from kedirivms.sim.rtsp import RtspServer, StreamSpec

    scene = CounterScene(3, arrival_rate_per_min=6.0, service_time_s=20.0, duration_s=3600)
    with RtspServer() as server:
        server.add_stream("sub", StreamSpec(width=WIDTH, height=HEIGHT, fps=FPS, bitrate=500_000, gop=10, scene=scene))
        print(f"READY {server.port}", flush=True)
        sys.stdin.read()  # until the parent closes the pipe


def start_camera() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        raise SystemExit("the virtual camera did not start")
    return proc, f"rtsp://127.0.0.1:{line.split()[1]}/sub"


def queue_config(detector: str, rate_hz: float, threads: int = 1) -> dict[str, Any]:
    from kedirivms.sim.counter_scene import CounterScene

    zones = CounterScene(3).zones()  # the oblique view the camera serves: feet on the floor zones
    return {
        "zones": [z.model_dump(mode="json") for z in zones],
        "anchor": "bottom_center",
        "detector": detector,
        "dnn": {"rate_hz": rate_hz, "threads": threads},
    }


def detector_stats() -> Any:
    """The process-wide DNN session's batch statistics (None if the DNN never ran)."""
    from kedirivms.analytics.queue import _session

    sessions = list(_session._SESSIONS.values())
    return sessions[0].stats if sessions else None


# -- part 1 ------------------------------------------------------------------------------------------------------
def measure(url: str, pipelines: int, plugins: list[PluginSettings], warmup: float, seconds: float) -> dict[str, Any]:
    cams = [CameraAnalytics(name=f"cam-{i}", source=url, plugins=plugins) for i in range(pipelines)]
    with AnalyticsRunner(cams) as runner:
        time.sleep(warmup)
        before = runner.metrics()
        det0 = _pictures()
        cpu0, wall0 = self_cpu(), time.monotonic()
        time.sleep(seconds)
        cpu1, wall1 = self_cpu(), time.monotonic()
        det1 = _pictures()
        after = runner.metrics()
    wall = wall1 - wall0
    frames = sum(a.frames - b.frames for a, b in zip(after.cameras, before.cameras, strict=True))
    plugin_rows = [p for c in after.cameras for p in c.plugins]
    plugin_frames = sum(
        pa.frames - pb.frames
        for ca, cb in zip(after.cameras, before.cameras, strict=True)
        for pa, pb in zip(ca.plugins, cb.plugins, strict=True)
    )
    return {
        "cpu_per_pipeline": (cpu1 - cpu0) / wall / pipelines,
        "fps_per_pipeline": frames / wall / pipelines,
        "plugin_fps_per_pipeline": plugin_frames / wall / pipelines if plugin_rows else None,
        "drops": sum(p.drops for p in plugin_rows),
        "errors": sum(p.errors for p in plugin_rows),
        "latency_ms": (sum(p.latency_ms for p in plugin_rows) / len(plugin_rows)) if plugin_rows else None,
        "events": after.events,
        "detections_per_camera_s": (det1 - det0) / wall / pipelines,
    }


def _pictures() -> int:
    stats = detector_stats()
    return sum(size * runs for size, runs in stats.runs.items()) if stats is not None else 0


# -- part 2 ------------------------------------------------------------------------------------------------------
class Trivial:
    name = "trivial"

    @hookimpl
    def on_frame(self, frame: Any, ctx: Any) -> None:
        return None


def per_call(fn: Any, n: int) -> float:
    """Best of 5 runs of ``n`` calls, seconds per call."""
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def dispatch(url: str, n: int) -> dict[str, float]:
    from kedirivms.stream import grab_frame

    frame = grab_frame(url, timeout=15)
    registry = PluginRegistry(entry_points=False, builtins=False)
    info = registry.register(Trivial)
    instance = PluginInstance(info, CameraInfo(name="bench"), validate_config(info, "bench", {}))
    worker = PluginWorker(instance, max_fps=None, failure_limit=5, event_queue_size=8, emit=lambda *a: None)
    obj, ctx, hook = instance.obj, instance.ctx, instance.on_frame
    direct = per_call(lambda: obj.on_frame(frame=frame, ctx=ctx), n)
    pluggy_call = per_call(lambda: hook(frame=frame, ctx=ctx), n)
    runner_path = per_call(lambda: worker._frame(frame), n)
    t = [0.0]

    def offer() -> None:  # feeding side: rate check + latest-frame slot (the slot is emptied each time)
        t[0] += 0.1
        worker.offer_frame(frame, t[0])
        worker._slot = None

    feed = per_call(offer, n)
    return {"direct": direct, "pluggy": pluggy_call, "runner": runner_path, "feed": feed}


def main() -> None:
    parser = argparse.ArgumentParser(description="analytics pipelines per core and hook-dispatch overhead")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pipelines", type=int, default=4, help="pipelines measured together (default 4)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window per configuration")
    parser.add_argument("--quick", action="store_true", help="2 pipelines, 5 s windows")
    parser.add_argument("--detector", choices=["auto", "dnn", "background"], default="auto", help="queue detector")
    parser.add_argument("--rate", type=float, default=2.0, help="DNN detections per second per camera (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads of the shared model (default 1)")
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.quick:
        args.pipelines, args.seconds = 2, 5.0
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.2f}; {WIDTH}x{HEIGHT} @ {FPS:g} fps H.264")
    camera, url = start_camera()
    try:
        queue = [PluginSettings(name="queue", config=queue_config(args.detector, args.rate, args.threads), max_fps=FPS)]
        base = measure(url, args.pipelines, [], warmup=3.0, seconds=args.seconds)
        full = measure(url, args.pipelines, queue, warmup=5.0, seconds=args.seconds)
        stats = detector_stats()
        calls = dispatch(url, 20_000 if args.quick else 100_000)
    finally:
        camera.stdin.close()  # type: ignore[union-attr]
        camera.wait(10)

    n = args.pipelines
    print(f"\n1. pipelines per core ({n} pipelines at once, {args.seconds:g} s window each)")
    print(f"{'':28}{'CPU/pipeline':>14}{'pipelines/core':>16}{'decoded fps':>13}{'plugin fps':>12}")
    for label, row in (("receive + decode (baseline)", base), ("+ queue plugin", full)):
        plugin_fps = row["plugin_fps_per_pipeline"]
        print(
            f"{label:28}{100 * row['cpu_per_pipeline']:>13.1f}%{1 / row['cpu_per_pipeline']:>16.1f}"
            f"{row['fps_per_pipeline']:>13.1f}{plugin_fps if plugin_fps is not None else float('nan'):>12.1f}"
        )
    plugin_cpu = full["cpu_per_pipeline"] - base["cpu_per_pipeline"]
    print(
        f"queue plugin alone: {100 * plugin_cpu:.1f}% of a core per camera "
        f"({full['latency_ms']:.2f} ms per frame on its thread); pipelines with the plugin cost "
        f"{full['cpu_per_pipeline'] / base['cpu_per_pipeline']:.2f}x the decode-only baseline"
    )
    print(
        f"kept up: {full['plugin_fps_per_pipeline']:.1f} of {FPS:g} fps per pipeline, "
        f"{full['drops']} frames dropped (latest-frame slot), {full['errors']} errors, {full['events']} events"
    )
    print(f"=> about {1 / full['cpu_per_pipeline']:.1f} camera pipelines per core ({cores} cores here)")
    if stats is not None:
        print(
            f"DNN detections: {full['detections_per_camera_s']:.2f} per camera per second (asked: {args.rate:g}); "
            "latency per batch size: "
            + ", ".join(f"{k}: {v:.1f} ms ({stats.runs[k]}x)" for k, v in stats.mean_ms().items())
        )

    per_frame_plugin = (full["latency_ms"] or 0) / 1000
    overhead = calls["runner"] + calls["feed"] - calls["direct"]
    print("\n2. hook dispatch per frame (trivial on_frame, real frame)")
    print(f"direct method call            {1e6 * calls['direct']:8.2f} us")
    print(
        f"pluggy hook caller            {1e6 * calls['pluggy']:8.2f} us  "
        f"({calls['pluggy'] / calls['direct']:.1f}x direct)"
    )
    print(f"runner path on plugin thread  {1e6 * calls['runner']:8.2f} us  (context, timing, result check)")
    print(f"feeding side (rate + slot)    {1e6 * calls['feed']:8.2f} us")
    share = f"{100 * overhead / per_frame_plugin:.2f}% of the queue plugin's time" if per_frame_plugin else ""
    print(
        f"runner overhead vs a direct call: {1e6 * overhead:.2f} us per frame per plugin "
        f"= {100 * overhead * FPS:.4f}% of a core at {FPS:g} fps; {share}"
    )


if __name__ == "__main__":
    main()
