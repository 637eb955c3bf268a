"""Scaled colour conversion of a new frame: ``Frame.to_bgr(size=...)`` vs PyAV's own ``VideoFrame.reformat``.

``Frame`` converts with a scaler of its own per call and a per-frame lock (so that two plugins may convert one
frame from two threads; PyAV's ``reformat`` caches one scaler on the frame and scales without the GIL). PyAV's
cache only helps a frame converted twice; a camera's frames are each new. The frames are decoded by PyAV from an
H.264 clip ffmpeg makes (testsrc2; the decoder's planes are padded, and swscale's scaled output depends on the line
size). Contenders, in alternating rounds, each on its own batch of newly decoded frames (decoding not timed):

  (a) ``av.VideoFrame.reformat(width, height, format="bgr24", interpolation="AREA")``  -- the baseline
  (b) ``kedirivms.Frame.to_bgr(size=(width, height))``                                  -- what the plugins call

Prints microseconds per conversion (median of the rounds), the ratio (b)/(a) and the load.

Usage: python benchmarks/frame_convert.py [--rounds 7] [--frames 200] [--size 640x360] [--to 416x234]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from kedirivms.stream import Frame


def _clip(w: int, h: int, n: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"kedirivms-bench-convert-{w}x{h}-{n}.mp4"
    if not path.exists():
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
             f"testsrc2=size={w}x{h}:rate=10", "-frames:v", str(n), "-c:v", "libx264", "-pix_fmt", "yuv420p",
             str(path) + ".tmp.mp4"],
            check=True, timeout=300,
        )  # fmt: skip
        os.replace(str(path) + ".tmp.mp4", path)
    return path


def _new_frames(clip: Path, n: int) -> list[av.VideoFrame]:
    with av.open(str(clip)) as container:
        return [f for _, f in zip(range(n), container.decode(video=0), strict=False)]


def _pyav(to: tuple[int, int]) -> Callable[[av.VideoFrame], np.ndarray]:
    def run(f: av.VideoFrame) -> np.ndarray:
        return f.reformat(width=to[0], height=to[1], format="bgr24", interpolation="AREA", threads=1).to_ndarray()

    return run


def _ours(to: tuple[int, int]) -> Callable[[av.VideoFrame], np.ndarray]:
    def run(f: av.VideoFrame) -> np.ndarray:
        return Frame(f, time=0.0).to_bgr(size=to)

    return run


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (default 7)")
    parser.add_argument("--frames", type=int, default=200, help="new frames per contender per round (default 200)")
    parser.add_argument("--size", type=_size, default=(640, 360), help="picture size (default 640x360)")
    parser.add_argument("--to", type=_size, default=(416, 234), help="converted size (default 416x234)")
    args = parser.parse_args()
    w, h = args.size
    clip = _clip(w, h, args.frames)
    contenders = {"(a) PyAV reformat": _pyav(args.to), "(b) Frame.to_bgr": _ours(args.to)}
    # the same pixels either way
    first, second = (run(_new_frames(clip, 1)[0]) for run in contenders.values())
    assert np.array_equal(first, second)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    order = list(contenders)
    for r in range(args.rounds):
        for name in order if r % 2 == 0 else order[::-1]:
            frames = _new_frames(clip, args.frames)
            t0 = time.perf_counter()
            for f in frames:
                contenders[name](f)
            times[name].append((time.perf_counter() - t0) / len(frames) * 1e6)
    load = os.getloadavg()[0]
    print(f"{w}x{h} yuv420p (decoded H.264) -> {args.to[0]}x{args.to[1]} bgr24, {args.frames} frames per round, "
          f"{args.rounds} alternating rounds, load {load:.1f}")  # fmt: skip
    med = {name: statistics.median(v) for name, v in times.items()}
    for name, us in med.items():
        print(f"  {name:<20} {us:8.1f} us per conversion (rounds: {', '.join(f'{v:.0f}' for v in times[name])})")
    print(f"  ratio (b)/(a): {med['(b) Frame.to_bgr'] / med['(a) PyAV reformat']:.2f}")


if __name__ == "__main__":
    main()
