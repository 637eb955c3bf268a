"""Many sub-streams in one process: CPU of the reader process per 640x360 @ 10 fps stream.

Starts the virtual fleet's RTSP server in a child process (N paths sharing ONE encoder, as the fleet does), opens N
kedirivms readers here (one RTSP/TCP connection and demux thread each, decode with thread_type AUTO, an ``on_frame``
consumer touching ``frame.y``), waits until every stream delivers, then measures this process's CPU time over a
window. Prints cores used, CPU per stream and how many streams fit in the goal's 1.6 cores (goal: >= 64), for each
decoder-thread setting, all measured in this run.

Usage: python benchmarks/many_streams.py [--streams 64] [--seconds 10] [--threads 0,1]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from _common import process_cpu_s, self_cpu, start_sim_rtsp

from kedirivms.stream import Frame, Stream, StreamState, open_stream

GOAL_STREAMS, GOAL_CORES = 64, 1.6


def run(urls: list[str], threads: int, seconds: float, server_pid: int) -> dict[str, float]:
    touched = [0] * len(urls)

    def consumer(i: int) -> object:
        def on_frame(frame: Frame) -> None:
            _ = frame.y[0, 0]
            touched[i] += 1

        return on_frame

    streams: list[Stream] = []
    for i, url in enumerate(urls):
        s = open_stream(url, timeout=(15.0, 10.0), decoder_threads=threads)
        s.on_frame(consumer(i))  # type: ignore[arg-type]
        streams.append(s.start())
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not all(touched):
        time.sleep(0.2)
    ready = sum(1 for t in touched if t)
    time.sleep(1.0)  # settle
    d0 = sum(s.stats.decoded for s in streams)
    c0, s0, t0 = self_cpu(), process_cpu_s(server_pid), time.monotonic()
    time.sleep(seconds)
    c1, s1, t1 = self_cpu(), process_cpu_s(server_pid), time.monotonic()
    d1 = sum(s.stats.decoded for s in streams)
    states = [s.state for s in streams]
    dropped = sum(s.stats.dropped for s in streams)
    for s in streams:
        s.close()
    wall = t1 - t0
    return {
        "ready": ready,
        "streaming": sum(1 for st in states if st is StreamState.STREAMING),
        "fps": (d1 - d0) / wall,
        "cores": (c1 - c0) / wall,
        "server_cores": (s1 - s0) / wall,
        "dropped": dropped,
        "threads": threading.active_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=GOAL_STREAMS)
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement window per setting")
    parser.add_argument("--threads", default="0,1", help="decoder_threads settings to compare (0 = FFmpeg picks)")
    args = parser.parse_args()
    server, port = start_sim_rtsp([f"cam{i:03d}=640x360@10:500000:10" for i in range(args.streams)])
    try:
        urls = [f"rtsp://127.0.0.1:{port}/cam{i:03d}" for i in range(args.streams)]
        print(f"{args.streams} readers of 640x360@10 H.264 (expected {args.streams * 10} frames/s in total)")
        for setting in (int(x) for x in args.threads.split(",")):
            r = run(urls, setting, args.seconds, server.pid)
            per_stream = r["cores"] / args.streams
            fit = GOAL_CORES / per_stream if per_stream > 0 else float("inf")
            label = "auto" if setting == 0 else str(setting)
            print(
                f"decoder_threads={label:<4} ready {r['ready']:.0f}/{args.streams}  decoded {r['fps']:7.1f} fps  "
                f"reader {r['cores']:.3f} cores = {per_stream * 1000:.1f} ms CPU/s per stream  "
                f"-> {fit:.0f} streams in {GOAL_CORES} cores (goal {GOAL_STREAMS}: ratio {fit / GOAL_STREAMS:.2f})  "
                f"server {r['server_cores']:.3f} cores  dropped {r['dropped']:.0f}"
            )
            sys.stdout.flush()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
