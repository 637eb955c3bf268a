"""Run an analytics plugin on a live camera stream and write its events to a JSON Lines file.

    python examples/analytics_plugin.py                       # its own virtual camera on loopback
    python examples/analytics_plugin.py rtsp://user:pw@cam/sub --seconds 30

The plugin is the example *package* in examples/plugin_package (registered programmatically here; once
`pip install ./examples/plugin_package` is done, kedirivms finds it by entry point without the register call).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from kedirivms.analytics import AnalyticsRunner, CameraAnalytics, PluginRegistry, PluginSettings
from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.sinks import JsonlSinkConfig, build_sink

sys.path.insert(0, str(Path(__file__).parent / "plugin_package" / "src"))
from kvms_motion_zone import MotionZonePlugin  # noqa: E402 - the example package, not installed


def run(source: str, seconds: float, out: Path) -> None:
    registry = PluginRegistry()  # built-ins and installed entry points ...
    registry.register(MotionZonePlugin)  # ... plus an in-house class
    camera = CameraAnalytics(
        name="lobby",
        source=source,
        plugins=[PluginSettings(name="motion_zone", config={"roi": [0.0, 0.0, 1.0, 1.0], "hold": 1.0})],
    )
    with AnalyticsRunner([camera], [build_sink(JsonlSinkConfig(path=out))], registry=registry) as runner:
        time.sleep(seconds)
        metrics = runner.metrics()
    for cam in metrics.cameras:
        for p in cam.plugins:
            print(
                f"{cam.camera}/{p.plugin}: {p.frames} frames at {p.fps:.1f} fps, {p.latency_ms:.2f} ms each, "
                f"{p.events} events, {p.drops} dropped, {p.errors} errors"
            )
    lines = out.read_text().splitlines() if out.exists() else []
    print(f"{len(lines)} events in {out}")
    for line in lines[:5]:
        print(" ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", help="stream URL (default: a virtual camera on loopback)")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "kedirivms-example-events.jsonl")
    args = parser.parse_args()
    args.out.unlink(missing_ok=True)
    if args.source:
        run(args.source, args.seconds, args.out)
        return
    with RtspServer() as server:
        server.add_stream("sub", StreamSpec(width=320, height=180, fps=10, bitrate=200_000, gop=10))
        run(server.url("sub"), args.seconds, args.out)


if __name__ == "__main__":
    main()
