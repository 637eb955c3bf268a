"""Recording CPU per stream against ``ffmpeg -c copy`` on the same RTSP source, H.264 and H.265.

The virtual camera's RTSP server runs in a child process (``python -m kedirivms.sim.rtsp``) serving one 1080p
stream per codec. For each codec, rounds alternate these recorders of that stream, each a child process measured
from /proc (all its threads, ns resolution) over a steady window after a warm-up:

* ``ffmpeg``: ``ffmpeg -rtsp_transport tcp -i URL -c copy -f segment -segment_time 60 -reset_timestamps 1 ...``
  (FFmpeg's demuxer and MP4 muxer with nothing around them; plain MP4: the moov is written when a segment ends,
  so a crash loses the whole open segment);
* ``ffmpeg-frag``: the same, writing fragmented MP4 as kedirivms does (``movflags frag_keyframe+empty_moov+
  default_base_moof``, ``frag_duration`` 1 s: a crash loses at most a second). The like-for-like baseline;
* ``kedirivms``: ``Recorder.open(url, root, ...)`` (demux-only stream, fragmented MP4 segments, the index);
* ``python idle``: a Python process that imported ``kedirivms.record`` and sleeps: the interpreter's own cost,
  printed separately (not subtracted from anything).

``--floor`` adds two bare PyAV contenders, the same FFmpeg libraries as kedirivms without kedirivms: ``pyav-demux``
(a ``container.demux()`` loop that drops every packet) and ``pyav-remux`` (that loop muxing every packet into one
fragmented MP4, one thread, no segments, no index): what any PyAV-based recorder costs before its own Python,
measured in the same run, so a gap to ffmpeg can be split into FFmpeg version + PyAV and kedirivms's own share;
and ``kedirivms-demux``, kedirivms's demux-only ``Stream`` with a packet listener that drops the packets (the
reader's share apart from the recorder's). ``--threads`` prints each contender's CPU and voluntary context
switches (wake-ups) by thread, from /proc/PID/task/*.

"MB/s written" checks that every contender recorded the same stream: all the bytes on disk once the contender has
ended (its files closed), over its whole run. ffmpeg writes its output in 256 KiB blocks (fragments included), so
bytes on disk *during* a window lag a low-bitrate stream by many seconds (GStreamer's ``videotestsrc`` ball:
~17 KB/s, one block per 15 s: a 10 s window showed 0 MB/s for ffmpeg while it recorded the stream).

Figures are medians of the rounds, as a share of one core; ratios are kedirivms / each ffmpeg in the same run.
Caveat printed with the figures: the ffmpeg program is the system's (its FFmpeg libraries may be another version
than the ones PyAV bundles). Load: the box's load average before and after; the server child encodes on the same
cores. ``--ffmpeg PROGRAM`` runs another ffmpeg build (e.g. a static one of a newer FFmpeg) in place of the system's.

``--compare-src DIR`` adds a fourth contender, ``kedirivms@DIR``: the same recorder run from another source tree
(``PYTHONPATH=DIR``, e.g. a ``git archive`` of an older commit's ``src``), for a before/after in one run.

``--source gst`` records from GStreamer's RTSP server instead (a third-party peer: ``x264enc``/``x265enc`` of
``videotestsrc``, run by the system python with python3-gi; bitrate is x264enc's default, 2 Mbit/s).

Run: ``.venv/bin/python benchmarks/record_vs_ffmpeg.py [--spec 1920x1080@15:4000000] [--seconds 12] [--rounds 4]
[--source sim|gst] [--compare-src DIR] [--floor] [--threads] [--ffmpeg PROGRAM] [--transport tcp|udp]``.
Goals (issue 14): kedirivms <= 1.0x ffmpeg -c copy per stream; H.265 costs no more than H.264.
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

from _common import process_cpu_ns, start_gst_rtsp, start_sim_rtsp, thread_cpu

# Python does not name OS threads: the children name theirs (/proc/self/task/TID/comm) for --threads
_NAME_THREADS = """
def name_threads():
    import threading
    for t in threading.enumerate():
        name = t.name.split("[")[0].removeprefix("kedirivms-")[:15]
        if t.native_id and t is not threading.main_thread():
            with open(f"/proc/self/task/{t.native_id}/comm", "w") as f:
                f.write(name)
"""
_RECORDER = f"""
import signal, sys, time
from kedirivms.record import Recorder
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the recorder (its last fragment) when terminated
url, root, transport = sys.argv[1], sys.argv[2], sys.argv[3]
{_NAME_THREADS}
with Recorder.open(url, root, "bench", segment_seconds=60.0, transport=transport):
    for _ in range(6):
        time.sleep(0.5)
        name_threads()
    time.sleep(3600)
"""
_STREAM = f"""
import signal, sys, time
from kedirivms.stream import open_stream
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
{_NAME_THREADS}
with open_stream(sys.argv[1], decode=False, transport=sys.argv[2]) as s:
    s.add_packet_listener(lambda packet, video: None)
    for _ in range(6):
        time.sleep(0.5)
        name_threads()
    time.sleep(3600)
"""
_IDLE = "import time, kedirivms.record; print('READY', flush=True); time.sleep(3600)"
_READERS = ("pyav-demux", "kedirivms-demux")  # contenders that write nothing
_RATES: list[float] = []
_THREADS: list[dict[str, tuple[float, float]]] = []  # per measured child: thread name -> (core share, wake-ups/s)
_FRAG = "movflags=frag_keyframe+empty_moov+default_base_moof:frag_duration=1000000"
_PYAV_OPTS = '{"rtsp_transport": sys.argv[2], "allowed_media_types": "video", "analyzeduration": "100000"}'
_PYAV_DEMUX = f"""
import sys, av
c = av.open(sys.argv[1], options={_PYAV_OPTS})
for p in c.demux(c.streams.video[0]):
    pass
"""
_PYAV_REMUX = f"""
import signal, sys, av
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # close the file (its last fragment) when terminated
c = av.open(sys.argv[1], options={_PYAV_OPTS})
v = c.streams.video[0]
o = av.open(sys.argv[3] + "/0.mp4", "w", format="mp4",
            options={{"movflags": "frag_keyframe+empty_moov+default_base_moof", "frag_duration": "1000000"}})
s = o.add_stream_from_template(v)
try:
    for p in c.demux(v):
        if p.dts is None:
            continue
        p.stream = s
        o.mux(p)
finally:
    o.close()
"""


def _measure(
    argv: list[str],
    warm: float,
    seconds: float,
    ready: bool = False,
    out: Path | None = None,
    env: dict[str, str] | None = None,
) -> float:
    """Share of one core the child ``argv`` used over ``seconds`` after ``warm``; with ``out``, also appends to
    ``_RATES`` the MB/s it wrote under ``out`` over its whole run, counted once it has ended (files closed)."""
    start = time.monotonic()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE if ready else subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        if ready:  # the window starts once the child says its imports are done
            assert proc.stdout is not None
            proc.stdout.readline()
        time.sleep(warm)
        if proc.poll() is not None:
            raise SystemExit(f"{argv[0]} ended early ({proc.returncode})")
        th0, c0, t0 = thread_cpu(proc.pid), process_cpu_ns(proc.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1, th1 = process_cpu_ns(proc.pid), time.monotonic(), thread_cpu(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    per: dict[str, tuple[float, float]] = {}
    for key, (ns, vol) in th1.items():
        ns0, vol0 = th0.get(key, (0, 0))
        name = key.rsplit("/", 1)[0]
        cpu, wake = per.get(name, (0.0, 0.0))
        per[name] = (cpu + (ns - ns0) / 1e9 / (t1 - t0), wake + (vol - vol0) / (t1 - t0))
    _THREADS.append(per)
    if out:
        _RATES.append(_bytes(out) / 1e6 / (time.monotonic() - start))
    return (c1 - c0) / 1e9 / (t1 - t0)


def _contenders(
    url: str, out: Path, names: list[str], program: str = "ffmpeg", transport: str = "tcp"
) -> dict[str, list[str]]:
    """Each contender's command line, writing under ``out/<name>``; ``program`` is the ffmpeg to run."""
    ffmpeg = [program, "-hide_banner", "-nostats", "-nostdin", "-loglevel", "error", "-rtsp_transport", transport,
              "-i", url, "-c", "copy", "-f", "segment", "-segment_time", "60", "-reset_timestamps", "1"]  # fmt: skip
    for name in names:
        (out / name).mkdir(parents=True)
    runs = {
        "ffmpeg": [*ffmpeg, str(out / "ffmpeg" / "%03d.mp4")],
        "ffmpeg-frag": [*ffmpeg, "-segment_format_options", _FRAG, str(out / "ffmpeg-frag" / "%03d.mp4")],
        "kedirivms": [sys.executable, "-c", _RECORDER, url, str(out / "kedirivms"), transport],
    }
    for name in names[3:]:
        if name == "pyav-demux":
            runs[name] = [sys.executable, "-c", _PYAV_DEMUX, url, transport]
        elif name == "pyav-remux":
            runs[name] = [sys.executable, "-c", _PYAV_REMUX, url, transport, str(out / name)]
        elif name == "kedirivms-demux":
            runs[name] = [sys.executable, "-c", _STREAM, url, transport]
        else:  # --compare-src: the same recorder from another tree
            runs[name] = [sys.executable, "-c", _RECORDER, url, str(out / name), transport]
    return runs


def _bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*.mp4"))


def _ffmpeg_version(program: str) -> str:
    try:
        line = subprocess.run([program, "-version"], capture_output=True, text=True, timeout=10).stdout.split("\n")[0]
    except (OSError, subprocess.SubprocessError):
        return "?"
    return line.split()[2] if len(line.split()) > 2 else line


def _start_gst(spec: str, codec: str) -> tuple[subprocess.Popen[str], str]:
    """GStreamer's RTSP server serving ``spec``'s size and rate."""
    size, fps = spec.split("@")[0].split("x"), spec.split("@")[1].split(":")[0]
    return start_gst_rtsp(size[0], size[1], fps, codec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", default="1920x1080@15:4000000", help="WxH@FPS:BITRATE of the stream")
    parser.add_argument("--seconds", type=float, default=12.0, help="measured window per recorder")
    parser.add_argument("--warm", type=float, default=4.0, help="seconds before the window (connect, first GOP)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--codecs", default="h264,h265", help="comma-separated: h264, h265")
    parser.add_argument("--source", choices=["sim", "gst"], default="sim", help="whose RTSP server serves the stream")
    parser.add_argument("--compare-src", type=Path, help="also record with the kedirivms package under this src dir")
    parser.add_argument("--transport", choices=["tcp", "udp"], default="tcp", help="RTSP lower transport, for all")
    parser.add_argument("--ffmpeg", default="ffmpeg", help="the ffmpeg program to compare with (default: on PATH)")
    parser.add_argument("--floor", action="store_true", help="also run bare PyAV demux and remux loops (no kedirivms)")
    parser.add_argument("--threads", action="store_true", help="also print each contender's CPU and wake-ups by thread")
    args = parser.parse_args()
    import av

    fps = args.spec.split("@")[1].split(":")[0]
    codecs = {c: f"{c}={args.spec}:{fps}:{c}" for c in args.codecs.split(",")}
    load0 = os.getloadavg()[0]
    if args.source == "gst":
        servers, urls = [], {}
        for codec in codecs:
            proc, url = _start_gst(args.spec, codec)
            servers.append(proc)
            urls[codec] = url
    else:
        server, port = start_sim_rtsp(list(codecs.values()))
        servers, urls = [server], {c: f"rtsp://127.0.0.1:{port}/{c}" for c in codecs}
    names = ["ffmpeg", "ffmpeg-frag", "kedirivms"]
    envs: dict[str, dict[str, str] | None] = dict.fromkeys(names)
    if args.compare_src:
        other = f"kedirivms@{args.compare_src}"
        names.append(other)
        envs[other] = dict(os.environ, PYTHONPATH=str(args.compare_src.resolve()))
    if args.floor:
        names += ["pyav-demux", "pyav-remux", "kedirivms-demux"]
        envs.update(dict.fromkeys(names[-3:]))
    results: dict[str, dict[str, list[float]]] = {c: {n: [] for n in names} for c in codecs}
    written: dict[str, dict[str, list[float]]] = {c: {n: [] for n in names} for c in codecs}  # MB per second
    idle: list[float] = []
    by_thread: dict[str, dict[str, list[tuple[float, float]]]] = {}  # "codec contender" -> thread -> per round
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                for codec in codecs:
                    out = Path(tmp) / f"{codec}-{r}"
                    runs = _contenders(urls[codec], out, names, args.ffmpeg, args.transport)
                    order = names if r % 2 == 0 else names[::-1]  # alternate who goes first
                    for name in order:
                        cpu = _measure(runs[name], args.warm, args.seconds, out=out / name, env=envs[name])
                        results[codec][name].append(cpu)
                        written[codec][name].append(_RATES.pop())
                        for thread, figures in _THREADS.pop().items():
                            by_thread.setdefault(f"{codec} {name}", {}).setdefault(thread, []).append(figures)
                idle.append(_measure([sys.executable, "-c", _IDLE], 1.0, args.seconds, ready=True))
    finally:
        for server in servers:
            server.terminate()
            server.wait(20)
    print(f"source: {'GStreamer RTSP server' if args.source == 'gst' else 'kedirivms virtual camera'}")
    print(f"one {args.spec} stream per codec over RTSP/{args.transport.upper()}, {args.rounds} alternating rounds "
          f"of {args.seconds:g} s; load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after, "
          f"on {os.cpu_count()} cores")  # fmt: skip
    print(f"ffmpeg program {_ffmpeg_version(args.ffmpeg)}; PyAV {av.__version__} with FFmpeg {av.ffmpeg_version_info}")
    print(f"{'codec':6} {'ffmpeg %':>9} {'ffmpeg-frag %':>14} {'kedirivms %':>12} {'/ ffmpeg':>9} {'/ frag':>7}"
          f"   MB/s written ({', '.join(n for n in names if n not in _READERS)})")  # fmt: skip
    ours_by_codec = {}
    for codec, res in results.items():
        ff, frag, ours = (statistics.median(res[n]) for n in names[:3])
        rates = [statistics.median(written[codec][n]) for n in names if n not in _READERS]
        ours_by_codec[codec] = ours
        print(f"{codec:6} {ff * 100:9.3f} {frag * 100:14.3f} {ours * 100:12.3f} {ours / ff:8.2f}x {ours / frag:6.2f}x"
              f"   {', '.join(f'{x:.3f}' for x in rates)}")  # fmt: skip
        for name in names[3:]:
            theirs = statistics.median(res[name])
            print(f"  {name}: {theirs * 100:.3f} % ({theirs / ff:.2f}x ffmpeg, {theirs / frag:.2f}x frag); "
                  f"kedirivms / it: {ours / theirs:.2f}x")  # fmt: skip
        if min(rates) < 0.8 * max(rates):
            print(f"  ! {codec}: the contenders did not write the same stream (MB/s above): not a like-for-like ratio")
    print(f"python idle (interpreter + kedirivms.record imported, sleeping): {statistics.median(idle) * 100:.3f} % "
          "(included in the kedirivms figures, not subtracted)")  # fmt: skip
    if args.threads:
        print("by thread (median CPU % of a core, voluntary context switches a second):")
        for contender, threads in by_thread.items():
            cells = [f"{t} {statistics.median(c for c, _ in v) * 100:.3f} % {statistics.median(w for _, w in v):.1f}/s"
                     for t, v in sorted(threads.items())]  # fmt: skip
            print(f"  {contender}: {'; '.join(cells)}")
    if "h264" in ours_by_codec and "h265" in ours_by_codec:
        print(f"H.265 / H.264 recording CPU (kedirivms): {ours_by_codec['h265'] / ours_by_codec['h264']:.2f}x")
    print("goals: kedirivms <= 1.0x ffmpeg -c copy; H.265 <= H.264")


if __name__ == "__main__":
    main()
