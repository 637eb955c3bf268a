"""Connect a fleet at once and list what each camera streams (H.264 or H.265 via Media2).

Run against virtual cameras:

    kedirivms simulate --cameras 4 --distinct-hosts           # prints the device URLs and credentials
    python examples/connect_fleet.py admin admin123 http://127.0.1.1:PORT/onvif/device_service ...

Without arguments the script starts its own fleet on loopback: three cameras (one an NVR with mixed H.264/H.265
channels, described through Media2) and one address where nothing answers.
"""

from __future__ import annotations

import socket
import sys

import kedirivms as kvms
from kedirivms.sim import EncoderSpec, VirtualCameraConfig, VirtualFleet


def show(results: list[kvms.ConnectResult]) -> None:
    for r in results:
        if r.camera is None:
            print(f"{r.target}: {type(r.error).__name__}: {r.error}")
            continue
        with r.camera as cam:
            via = "Media2" if cam.media.uses_media2 else "Media1"
            streams = ", ".join(f"ch{p.channel} {p.encoding} {p.encoder_profile}" for p in cam.profiles())
            print(f"{r.target}: connected in {r.duration_s:.2f} s ({via}): {streams}")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    if len(sys.argv) > 3:
        user, password, *targets = sys.argv[1:]
        show(kvms.connect_cameras(targets, username=user, password=password, concurrency=8))
        return
    h265 = EncoderSpec(width=1280, height=720, fps=15, bitrate_kbps=2048, gop=30, encoding="H265")
    base = VirtualCameraConfig(password="example-pass", media2=True, channels=2, channel_main={2: h265})
    with VirtualFleet.start(3, base=base, distinct_hosts=True) as fleet:
        targets = [cam.device_url for cam in fleet] + [f"127.0.0.1:{_closed_port()}"]
        show(kvms.connect_cameras(targets, username="admin", password="example-pass", timeout=(2.0, 3.0)))


if __name__ == "__main__":
    main()
