"""Draw the queue-analytics zones over a camera snapshot and save a PNG preview (plus the zones as YAML).

    python examples/queue_zones.py                         # a virtual counter camera on loopback
    python examples/queue_zones.py --out /tmp/zones.png --at 95
    python examples/queue_zones.py --source rtsp://user:pw@cam/sub --zones my-zones.yaml

Without ``--source`` the script starts a virtual camera streaming the counter scene, takes one decoded frame
from its RTSP sub-stream and draws the scene's default zones on it. ``--at`` starts the scene that many seconds
in, so the snapshot shows a line of people. With ``--source`` it snapshots your camera and draws the zones of
``--zones`` (a YAML list of ``{name, kind, points}``, the same list as the queue plugin's ``zones`` setting).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import yaml

from kedirivms import open_stream
from kedirivms.analytics.zones import Zone, save_zone_preview
from kedirivms.sim.counter_scene import CounterScene
from kedirivms.sim.rtsp import RtspServer, StreamSpec


class _Delayed:
    """The counter scene shifted ``offset`` seconds, so the live stream starts mid-morning, not at opening."""

    def __init__(self, scene: CounterScene, offset: float) -> None:
        self.scene, self.offset = scene, offset

    def render(self, index: int, t: float, width: int, height: int) -> np.ndarray:
        return self.scene.render(index, t + self.offset, width, height)


def snapshot(url: str) -> np.ndarray:
    """One decoded frame's luma, copied (the view is only valid while the frame is)."""
    with open_stream(url, timeout=(5.0, 5.0), reconnect=False) as stream:
        for frame in stream:
            return np.array(frame.y)
    raise SystemExit(f"no frame from {url}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "queue_zones.png")
    ap.add_argument("--source", help="RTSP URL or file of a real camera (default: a virtual counter camera)")
    ap.add_argument("--zones", type=Path, help="YAML list of zones (default: the counter scene's)")
    ap.add_argument("--at", type=float, default=95.0, help="scene time of the virtual snapshot, seconds")
    args = ap.parse_args()

    scene = CounterScene(7, view="top", arrival_rate_per_min=4.0, service_time_s=30.0, duration_s=300)
    zones = scene.zones()
    if args.zones:
        zones = [Zone.model_validate(z) for z in yaml.safe_load(args.zones.read_text())]
    if args.source:
        grey = snapshot(args.source)
    else:
        with RtspServer() as server:
            spec = StreamSpec.sub_profile(scene=_Delayed(scene, args.at))  # 640x360 @ 10 fps
            server.add_stream("counter_sub", spec)
            grey = snapshot(server.url("counter_sub"))

    path = save_zone_preview(grey, zones, args.out)
    print(f"zone preview: {path} ({grey.shape[1]}x{grey.shape[0]})")
    print("queue plugin zones (paste under plugins: - name: queue / config: zones:):")
    print(yaml.safe_dump([z.model_dump(mode="json") for z in zones], sort_keys=False, default_flow_style=None))


if __name__ == "__main__":
    main()
