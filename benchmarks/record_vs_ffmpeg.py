"""Recording CPU per stream against ``ffmpeg -c copy`` on the same RTSP source, H.264 and H.265.

The virtual camera's RTSP server runs in a child process (``python -m kedirivms.sim.rtsp``) serving one 1080p
stream per codec. For each codec, rounds alternate two recorders of that stream, each a child process measured
from /proc over a steady window (after a warm-up):

* ``ffmpeg``: ``ffmpeg -rtsp_transport tcp -i URL -c copy -f segment -segment_time 60 -reset_timestamps 1 ...``
  (the baseline: FFmpeg's demuxer and MP4 muxer with nothing around them);
* ``kedirivms``: ``Recorder.open(url, root, ...)`` (demux-only stream, fragmented MP4 segments, the index).

Figures are medians of the rounds, as a share of one core; the ratio is kedirivms / ffmpeg in the same run.
Load: the box's load average is printed; the server child encodes on the same cores.

Run: ``.venv/bin/python benchmarks/record_vs_ffmpeg.py [--spec 1920x1080@15:4000000] [--seconds 8] [--rounds 3]``.
Goals (issue 14): kedirivms <= 1.0x ffmpeg per stream; H.265 costs no more than H.264.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import process_cpu_s, start_sim_rtsp

_RECORDER = """
import sys, time
from kedirivms.record import Recorder
url, root = sys.argv[1], sys.argv[2]
with Recorder.open(url, root, "bench", segment_seconds=60.0):
    time.sleep(3600)
"""


def _measure(argv: list[str], warm: float, seconds: float) -> float:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(warm)
        if proc.poll() is not None:
            raise SystemExit(f"{argv[0]} ended early ({proc.returncode})")
        c0, t0 = process_cpu_s(proc.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = process_cpu_s(proc.pid), time.monotonic()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return (c1 - c0) / (t1 - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", default="1920x1080@15:4000000", help="WxH@FPS:BITRATE of the stream")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured window per recorder")
    parser.add_argument("--warm", type=float, default=4.0, help="seconds before the window (connect, first GOP)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    fps = args.spec.split("@")[1].split(":")[0]
    codecs = {"h264": f"h264={args.spec}:{fps}:h264", "h265": f"h265={args.spec}:{fps}:h265"}
    server, port = start_sim_rtsp(list(codecs.values()))
    results: dict[str, dict[str, list[float]]] = {c: {"ffmpeg": [], "kedirivms": []} for c in codecs}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                for codec in codecs:
                    url = f"rtsp://127.0.0.1:{port}/{codec}"
                    out = Path(tmp) / f"{codec}-{r}"
                    out.mkdir()
                    ffmpeg = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
                              "-c", "copy", "-f", "segment", "-segment_time", "60", "-reset_timestamps", "1",
                              str(out / "ff%03d.mp4")]  # fmt: skip
                    ours = [sys.executable, "-c", _RECORDER, url, str(out)]
                    for name, argv in (("ffmpeg", ffmpeg), ("kedirivms", ours)):
                        results[codec][name].append(_measure(argv, args.warm, args.seconds))
    finally:
        server.terminate()
        server.wait(20)
    print(f"one {args.spec} stream per codec, {args.rounds} alternating rounds of {args.seconds:g} s, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"{'codec':6} {'ffmpeg -c copy % core':>22} {'kedirivms % core':>17} {'ratio':>7}")
    ours_by_codec = {}
    for codec, r in results.items():
        ff, ours = statistics.median(r["ffmpeg"]), statistics.median(r["kedirivms"])
        ours_by_codec[codec] = ours
        print(f"{codec:6} {ff * 100:22.2f} {ours * 100:17.2f} {ours / ff:6.2f}x")
    print(f"H.265 / H.264 recording CPU (kedirivms): {ours_by_codec['h265'] / ours_by_codec['h264']:.2f}x")
    print("goals: kedirivms <= 1.0x ffmpeg -c copy; H.265 <= H.264")


if __name__ == "__main__":
    main()
