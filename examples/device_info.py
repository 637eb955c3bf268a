"""Print device information, channels and profiles of a camera.

Run against virtual cameras:

    kedirivms simulate --cameras 1            # prints the device URL and credentials
    python examples/device_info.py http://127.0.0.1:PORT/onvif/device_service admin admin123

Without arguments the script starts its own virtual NVR on loopback.
"""

from __future__ import annotations

import sys

import kedirivms as kvms
from kedirivms.sim import VirtualCamera, VirtualCameraConfig


def show(camera: kvms.Camera) -> None:
    info = camera.device_information()
    print(f"{info.manufacturer} {info.model} (firmware {info.firmware_version}, serial {info.serial_number})")
    print(f"clock offset: {camera.clock_offset_s:+.1f} s")
    for channel in camera.channels():
        print(f"channel {channel.index} ({channel.video_source_token}):")
        for p in channel.profiles:
            uri = camera.stream_uri(p)  # printing it never shows the password
            print(f"  {p.token:16} {p.encoding} {p.width}x{p.height} @{p.fps} fps  {uri}")


def main() -> None:
    if len(sys.argv) == 4:
        target, user, password = sys.argv[1:]
        with kvms.Camera(target, username=user, password=password) as camera:
            show(camera)
        return
    config = VirtualCameraConfig(channels=4, password="example-pass", model="VirtualNVR-4")
    with VirtualCamera(config) as nvr, kvms.Camera(nvr.device_url, username="admin", password="example-pass") as cam:
        show(cam)


if __name__ == "__main__":
    main()
