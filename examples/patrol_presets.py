"""Patrol a PTZ camera through its presets, then return home.

Run against a camera:

    python examples/patrol_presets.py http://192.0.2.10/onvif/device_service admin PASSWORD

Without arguments the script starts its own virtual PTZ camera on loopback, stores three presets and patrols them.
"""

from __future__ import annotations

import sys
import time

import kedirivms as kvms
from kedirivms.sim import VirtualCamera, VirtualCameraConfig

DWELL_S = 0.3  # seconds to stay at each preset


def store_presets(camera: kvms.Camera) -> None:
    """Aim at three spots and store them as named presets (idempotent: same names are updated)."""
    for name, (pan, tilt, zoom) in {
        "Gate": (-0.6, 0.1, 0.2),
        "Counter": (0.0, -0.2, 0.5),
        "Exit": (0.7, 0.0, 0.1),
    }.items():
        camera.ptz.absolute_move(pan=pan, tilt=tilt, zoom=zoom)
        camera.ptz.wait_idle(timeout=20)
        camera.ptz.set_preset(name)


def patrol(camera: kvms.Camera, rounds: int = 1) -> None:
    presets = camera.ptz.presets()
    if not presets:
        print("the camera has no presets")
        return
    for _ in range(rounds):
        for preset in presets:
            camera.ptz.goto_preset(preset.token, speed=1.0)
            status = camera.ptz.wait_idle(timeout=30)
            pos = status.position
            print(f"at {preset.name:10} pan {pos.pan:+.2f} tilt {pos.tilt:+.2f} zoom {pos.zoom:+.2f}")
            time.sleep(DWELL_S)
    camera.ptz.goto_home()
    print("home:", camera.ptz.wait_idle(timeout=30).position)


def main() -> None:
    if len(sys.argv) == 4:
        target, user, password = sys.argv[1:]
        with kvms.Camera(target, username=user, password=password) as camera:
            patrol(camera)
        return
    config = VirtualCameraConfig(password="example-pass", ptz_node={"pan_tilt_speed": 4.0, "zoom_speed": 2.0})
    with VirtualCamera(config) as vcam, kvms.Camera(vcam.device_url, username="admin", password="example-pass") as cam:
        node = cam.ptz.nodes()[0]
        print(f"node {node.token}: up to {node.max_presets} presets, home {'yes' if node.home_supported else 'no'}")
        store_presets(cam)
        patrol(cam)


if __name__ == "__main__":
    main()
