"""Recorder cost and capacity, measured against a baseline in the same run.

1. CPU per recorded stream. The virtual camera's RTSP server runs in a child process (one 1080p30 4 Mb/s encoder
   shared by N paths); this process opens N demux-only readers (``decode=False``: the recorder never needs
   pictures). The process CPU is sampled in alternating windows: readers alone (the baseline: RTSP/RTP demux) and
   readers with a :class:`~kedirivms.Recorder` attached to each (the same connections: the recorder hooks the packet
   listener). Recorder CPU per stream = (with - without) / N, as a share of one core. Goal: <= 0.5 %.

2. Many streams at once. An in-process RTSP server serves M paths of the same spec (as the virtual fleet does:
   one shared encoder); M readers + M recorders run for a while. "Sent" is the encoder's access units during a
   steady window, compared with what each reader demuxed; after stopping, every demuxed packet must be in a file
   (written + before-first-keyframe skips, zero queue drops) and ffprobe must count the same packets in the files.

Usage: python benchmarks/record.py [--streams 4] [--seconds 8] [--rounds 2] [--fleet 32] [--fleet-seconds 10]
       [--fleet-spec 1920x1080@30:4000000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import self_cpu, start_sim_rtsp

from kedirivms.record import Recorder, SegmentIndex
from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.stream import Stream, open_stream


def spec_of(text: str) -> StreamSpec:
    size, _, rest = text.partition("@")
    width, height = (int(x) for x in size.split("x"))
    fps, _, bitrate = rest.partition(":")
    return StreamSpec(
        width=width, height=height, fps=float(fps), bitrate=int(bitrate or 4_000_000), gop=int(float(fps))
    )


def wait_streaming(streams: list[Stream], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(s.stats.packets > 0 for s in streams):
        time.sleep(0.2)
    if not all(s.stats.packets > 0 for s in streams):
        sys.exit("some streams never delivered a packet")


def window(streams: list[Stream], seconds: float) -> tuple[float, float, int, int]:
    """(cores used, wall, packets, bytes) over ``seconds``."""
    p0, b0 = sum(s.stats.packets for s in streams), sum(s.stats.bytes for s in streams)
    c0, t0 = self_cpu(), time.monotonic()
    time.sleep(seconds)
    c1, t1 = self_cpu(), time.monotonic()
    p1, b1 = sum(s.stats.packets for s in streams), sum(s.stats.bytes for s in streams)
    return (c1 - c0) / (t1 - t0), t1 - t0, p1 - p0, b1 - b0


def cpu_per_stream(n: int, seconds: float, rounds: int, spec: str) -> dict[str, float]:
    server, port = start_sim_rtsp([f"s{i}={spec}" for i in range(n)])
    root = Path(tempfile.mkdtemp(prefix="kedirivms-bench-rec-"))
    streams = [open_stream(f"rtsp://127.0.0.1:{port}/s{i}", decode=False, timeout=(15, 10)) for i in range(n)]
    base: list[float] = []
    rec: list[float] = []
    fps = mbps = 0.0
    try:
        for s in streams:
            s.start()
        wait_streaming(streams)
        time.sleep(1.0)
        index = SegmentIndex(root)
        for _ in range(rounds):
            cores, wall, packets, size = window(streams, seconds)
            base.append(cores)
            fps, mbps = packets / wall / n, size * 8 / wall / n / 1e6
            recorders = [Recorder(s, root, f"cam{i}", segment_seconds=60, index=index) for i, s in enumerate(streams)]
            for r in recorders:
                r.start()
            time.sleep(1.0)  # first keyframe, first segment open
            cores, _, _, _ = window(streams, seconds)
            rec.append(cores)
            for r in recorders:
                r.stop()
        index.close()
    finally:
        for s in streams:
            s.close()
        server.terminate()
        server.wait(10)
        shutil.rmtree(root, ignore_errors=True)
    b, r = sum(base) / len(base), sum(rec) / len(rec)
    return {
        "streams": n,
        "fps_per_stream": round(fps, 2),
        "mbps_per_stream": round(mbps, 3),
        "baseline_cores": round(b, 4),
        "with_recorder_cores": round(r, 4),
        "demux_core_pct_per_stream": round(100 * b / n, 3),
        "recorder_core_pct_per_stream": round(100 * (r - b) / n, 3),
        "goal_pct": 0.5,
    }


def fleet(m: int, seconds: float, spec: StreamSpec) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="kedirivms-bench-fleet-"))
    sent = [0]

    def count(_au: object) -> None:
        sent[0] += 1

    try:
        with RtspServer() as srv, SegmentIndex(root) as index:
            for i in range(m):
                srv.add_stream(f"cam{i}", spec)
            streams = [open_stream(srv.url(f"cam{i}"), decode=False, timeout=(20, 10)) for i in range(m)]
            recorders = [Recorder(s, root, f"cam{i}", segment_seconds=5, index=index) for i, s in enumerate(streams)]
            for s, r in zip(streams, recorders, strict=True):
                r.start()
                s.start()
            wait_streaming(streams)
            time.sleep(2.0)
            encoder = srv.encoders()[0]
            encoder.subscribe(count)
            demuxed0 = [s.stats.packets for s in streams]
            time.sleep(seconds)
            encoder.unsubscribe(count)
            demuxed1 = [s.stats.packets for s in streams]
            lag = [sent[0] - (b - a) for a, b in zip(demuxed0, demuxed1, strict=True)]
            for s in streams:  # no packet after this; then every queued packet must reach a file
                s.close()
            for r in recorders:
                r.stop()
            stats = [r.stats for r in recorders]
            demuxed = [s.stats.packets for s in streams]
            segs = index.segments()
        probed = 0
        for seg in segs:
            out = subprocess.run(
                ["ffprobe", "-v", "error", "-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "json",
                 str(root / seg.path)],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            probed += int(json.loads(out.stdout)["streams"][0]["nb_read_packets"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    written = sum(st.packets_written for st in stats)
    accounted = [st.packets_written + st.packets_skipped + st.packets_dropped for st in stats]
    return {
        "streams": m,
        "spec": f"{spec.width}x{spec.height}@{spec.fps:g} {spec.bitrate / 1e6:g} Mb/s",
        "window_s": seconds,
        "sent_per_stream_in_window": sent[0],
        "demux_shortfall_per_stream_max": max(lag),
        "demux_shortfall_per_stream_min": min(lag),
        "demuxed_total": sum(demuxed),
        "written_total": written,
        "skipped_before_first_keyframe_total": sum(st.packets_skipped for st in stats),
        "queue_dropped_total": sum(st.packets_dropped for st in stats),
        "storage_errors": sum(st.storage_errors for st in stats),
        "recorder_received_total": sum(st.packets_in for st in stats),
        "every_demuxed_packet_accounted": accounted == demuxed and demuxed == [st.packets_in for st in stats],
        "ffprobe_packets_in_files": probed,
        "files_match_written": probed == written,
        "segments": len(segs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=4, help="streams for the CPU measurement")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per CPU window")
    parser.add_argument("--rounds", type=int, default=2, help="baseline/recorder window pairs")
    parser.add_argument("--spec", default="1920x1080@30:4000000", help="stream for the CPU measurement")
    parser.add_argument("--fleet", type=int, default=32, help="streams recorded at once (0 skips)")
    parser.add_argument("--fleet-seconds", type=float, default=10.0)
    parser.add_argument("--fleet-spec", default="1920x1080@30:4000000")
    args = parser.parse_args()
    threading.excepthook = lambda a: print(f"thread failed: {a.exc_value!r}", file=sys.stderr)
    cpu = cpu_per_stream(args.streams, args.seconds, args.rounds, args.spec)
    print(json.dumps({"cpu": cpu}, indent=2), flush=True)
    pct = cpu["recorder_core_pct_per_stream"]
    print(f"recorder CPU per {args.spec} stream: {pct:.3f} % of a core (goal <= 0.5 %); "
          f"demux alone: {cpu['demux_core_pct_per_stream']:.3f} %; ratio recorder/demux: "
          f"{pct / max(cpu['demux_core_pct_per_stream'], 1e-9):.2f}", flush=True)  # fmt: skip
    if args.fleet:
        result = fleet(args.fleet, args.fleet_seconds, spec_of(args.fleet_spec))
        print(json.dumps({"fleet": result}, indent=2), flush=True)


if __name__ == "__main__":
    main()
