"""From an alert to the evidence: how long the centre takes to have a clip ready, fetched from the worker.

A 1280x720 H.264 stream (1.5 Mbit/s, one keyframe per second) of the virtual camera is recorded for
``--record`` seconds in 10 s segments; then, alternating, medians of ``--rounds``:

- **through NATS** (contender): ``EvidenceFetcher.fetch`` against a real nats-server and an ``EvidenceResponder``
  (probe -> cut -> chunks of 512 KiB -> SHA-256 check -> file), what the page's ``/api/evidence`` does;
- **local cut** (baseline): ``cut_clip`` on the same recording root, what the worker does inside that chain.

The range is an alert's: 15 s before it to 15 s after it cleared, for an alert of ``--alert`` seconds.

Run: ``PYTHONPATH=src python benchmarks/centre_evidence.py [--record 60] [--alert 20] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from kedirivms.cluster._nats import NatsLink
from kedirivms.cluster._server import NatsServer, free_port
from kedirivms.cluster.evidence import EvidenceFetcher, EvidenceResponder, cut_clip
from kedirivms.record import Recorder, SegmentIndex
from kedirivms.sim.rtsp import RtspServer, StreamSpec
from kedirivms.stream import open_stream

SPEC = StreamSpec(width=1280, height=720, fps=10, bitrate=1_500_000, gop=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", type=float, default=60.0, help="Seconds recorded first.")
    parser.add_argument("--alert", type=float, default=20.0, help="The alert's length, seconds.")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kvms-bench-evidence-"))
    root = tmp / "rec"
    print(f"recording {args.record:.0f} s of {SPEC.width}x{SPEC.height} H.264 ...", flush=True)
    with RtspServer("127.0.0.1", 0) as srv:
        srv.add_stream("cam", SPEC)
        with (
            SegmentIndex(root) as ix,
            open_stream(srv.url("cam"), decode=False) as stream,
            Recorder(stream, root, "loket-1", segment_seconds=10.0, index=ix),
        ):
            time.sleep(args.record)
    server = NatsServer("bench", tmp, free_port(), "").start()
    worker_link = NatsLink([server.url], name="bench-worker").connect(10.0)
    centre_link = NatsLink([server.url], name="bench-centre").connect(10.0)
    index = SegmentIndex(root)
    responder = EvidenceResponder(worker_link, index, "w1", max_clips=2).start()
    fetcher = EvidenceFetcher(centre_link)
    first = index.segments("loket-1")[0].start.timestamp()
    since = first + 15.0
    start, end = since - 15.0, since + args.alert + 15.0
    times: dict[str, list[float]] = {"nats": [], "local": []}
    size = 0
    try:
        for i in range(args.rounds):
            for name in ("nats", "local") if i % 2 == 0 else ("local", "nats"):
                out = tmp / f"{name}-{i}.mp4"
                t0 = time.perf_counter()
                if name == "nats":
                    clip = fetcher.fetch("kota", "loket-1", start, end, out)
                else:
                    clip = cut_clip(index, "loket-1", start, end, out)
                times[name].append(time.perf_counter() - t0)
                assert clip.path is not None
                size = clip.bytes
                out.unlink()
    finally:
        responder.close()
        index.close()
        worker_link.close()
        centre_link.close()
        server.stop()
    nats, local = statistics.median(times["nats"]), statistics.median(times["local"])
    print(f"range {end - start:.0f} s, clip {size / 2**20:.1f} MiB ({-(-size // (512 * 1024))} chunks)")
    print(f"through NATS (probe, cut, chunks, check): median {nats:.3f} s over {args.rounds} rounds "
          f"(min {min(times['nats']):.3f}, max {max(times['nats']):.3f})")  # fmt: skip
    print(f"local cut (baseline):                     median {local:.3f} s "
          f"(min {min(times['local']):.3f}, max {max(times['local']):.3f})")  # fmt: skip
    print(f"ratio NATS / local: {nats / local:.2f}x; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
