"""Provision a small fleet declaratively: start virtual cameras, write an inventory, plan, apply, plan again.

    python examples/provision_fleet.py

Four virtual cameras start on 127.0.4.x (one Digest-only, one NVR with 4 channels); the inventory asks for
hostnames, scopes, NTP, time zone, encoder settings, an operator account and a PTZ preset. The second plan has
nothing left to do. Passwords reach the inventory only as environment-variable references.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from kedirivms.fleet import load_fleet
from kedirivms.provision import apply, plan
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

ADMIN_PASSWORD = "example-admin-pw"

INVENTORY = """\
version: 1
defaults:
  credentials: {{username: admin, password_env: EXAMPLE_CAM_PASSWORD}}
  hostname: "{{site}}-{{name}}"
  time: {{ntp_servers: [10.20.0.1], time_zone: WIB-7}}
  encoders:
    main: {{resolution: 1280x720, fps: 15, bitrate_kbps: 2048, gop: 30}}
    sub: {{resolution: 640x360, fps: 5}}
  users:
    - {{name: operator, role: Operator, password_env: EXAMPLE_OPERATOR_PASSWORD}}
sites:
  kota:
    location: kediri/kota
    defaults:
      ptz: {{presets: [{{name: Queue, pan: 0.2, tilt: -0.1, zoom: 0.3}}]}}
    cameras:
{cameras}
"""


def main() -> None:
    os.environ.setdefault("EXAMPLE_CAM_PASSWORD", ADMIN_PASSWORD)
    os.environ.setdefault("EXAMPLE_OPERATOR_PASSWORD", "example-operator-pw")
    configs = [
        VirtualCameraConfig(host="127.0.4.1", password=ADMIN_PASSWORD),
        VirtualCameraConfig(host="127.0.4.2", password=ADMIN_PASSWORD, auth="digest"),
        VirtualCameraConfig(host="127.0.4.3", password=ADMIN_PASSWORD),
        VirtualCameraConfig(host="127.0.4.4", password=ADMIN_PASSWORD, channels=4, model="VirtualNVR-4"),
    ]
    cams = [VirtualCamera(c).start() for c in configs]
    try:
        lines = []
        for i, cam in enumerate(cams, start=1):
            extra = ", ptz: null" if cam.config.channels > 1 else ""  # the NVR has no PTZ
            lines.append(f"      - {{name: loket-{i}, address: '{cam.host}:{cam.port}', counter: Loket {i}{extra}}}")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "inventory.yaml"
            path.write_text(INVENTORY.format(cameras="\n".join(lines)))
            inventory = load_fleet(path)

            first = plan(inventory)
            print(f"plan: {first.changes} change(s) on {first.count('changes')} camera(s)")
            for change in first.cameras[3].changes[:6]:
                print(f"  {first.cameras[3].name}: {change}")

            report = apply(inventory, plan=first, audit=Path(tmp) / "audit.jsonl")  # no second read
            for result in report.cameras:
                print(f"apply {result.name}: {result.status} ({len(result.changes)} change(s))")
            print(f"audit log: {len((Path(tmp) / 'audit.jsonl').read_text().splitlines())} line(s)")

            again = plan(inventory)
            print(f"plan again: {again.changes} change(s); in sync: {again.count('in_sync')}/{len(again.cameras)}")
            assert again.changes == 0 and report.ok
    finally:
        for cam in cams:
            cam.stop()


if __name__ == "__main__":
    main()
