"""Helpers shared by the benchmark scripts (each runs as ``python benchmarks/<name>.py``, which puts this folder on
``sys.path``): CPU time of this process or another one, and virtual cameras (a fleet, or an RTSP server) in a child
process."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any


def self_cpu() -> float:
    """User + system CPU seconds of this process only (child processes are not counted)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (Linux /proc; 0.0 when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu_ns(pid: int) -> int:
    """CPU nanoseconds used so far by the live threads of process ``pid`` (Linux /proc/PID/task/*/schedstat: ns
    resolution, where /proc/PID/stat counts 10 ms ticks); 0 when unreadable. Threads that ended are not counted."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for task in tasks:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
    return total


def thread_cpu(pid: int) -> dict[str, tuple[int, int]]:
    """Per thread of process ``pid``, keyed ``name/tid``: (CPU ns so far, voluntary context switches so far), from
    /proc/PID/task/*/schedstat and status; threads that cannot be read are left out."""
    out: dict[str, tuple[int, int]] = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        with contextlib.suppress(OSError, ValueError, IndexError):
            base = f"/proc/{pid}/task/{task}"
            ns = int(Path(f"{base}/schedstat").read_text().split()[0])
            status = Path(f"{base}/status").read_text()
            name = status.split("\n", 1)[0].split(":", 1)[1].strip()
            vol = int(status.split("voluntary_ctxt_switches:", 1)[1].split()[0])
            out[f"{name}/{task}"] = (ns, vol)
    return out


def start_sim_rtsp(streams: list[str]) -> tuple[subprocess.Popen[str], int]:
    """``python -m kedirivms.sim.rtsp`` on a free port serving ``streams`` (``name=WxH@fps[:bitrate[:gop]]``);
    returns (process, port) once it prints ``READY <port>``. The caller terminates the process."""
    argv = [sys.executable, "-m", "kedirivms.sim.rtsp", "--port", "0"]
    for stream in streams:
        argv += ["--stream", stream]
    return start_ready(argv, "the RTSP server did not start", stderr=subprocess.DEVNULL)


def start_ready(argv: list[str], failure: str, **popen: Any) -> tuple[subprocess.Popen[str], int]:
    """Start a server that prints ``READY <port>`` once it serves (stdin and stdout piped); returns (process, port),
    or exits with ``failure`` (the process killed)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, **popen)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        raise SystemExit(failure)
    return proc, int(line.split()[1])


GST_SERVER = Path(__file__).resolve().parents[1] / "tests" / "stream" / "gst_rtsp_server.py"


def start_gst_rtsp(*args: str) -> tuple[subprocess.Popen[str], str]:
    """GStreamer's RTSP server (a third-party peer: tests/stream/gst_rtsp_server.py under the system python, with
    python3-gi) on a free port, ``args`` as its usage says (``WIDTH HEIGHT FPS [CODEC]``); returns (process, URL)
    once it prints ``READY <port>``. The caller terminates the process."""
    hint = "GStreamer's RTSP server did not start (make test installs python3-gi and gst-rtsp-server)"
    proc, port = start_ready(["/usr/bin/python3", str(GST_SERVER), "0", *args], hint)
    return proc, f"rtsp://127.0.0.1:{port}/test"


def start_fleet(n: int, password: str, *options: str) -> tuple[subprocess.Popen[str], list[dict[str, Any]]]:
    """``kedirivms simulate`` with ``n`` virtual cameras (and ``options``) in a child process; returns (process,
    the cameras as its ``--json`` line lists them). Stop it with :func:`stop_fleet`."""
    argv = [sys.executable, "-c", "from kedirivms.cli import main; main()", "simulate", "-n", str(n), "-p", password]
    return spawn_json([*argv, "--json", *options], "the virtual fleet")


def spawn_json(argv: list[str], what: str, *, stdin: bool = False) -> tuple[subprocess.Popen[str], Any]:
    """Start ``argv`` and read the JSON line it prints when ready; returns (process, that JSON)."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin else None, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit(f"{what} did not start")
    return proc, json.loads(line)


def stop_fleet(proc: subprocess.Popen[str]) -> None:
    """Terminate a fleet process (killed if it does not exit within 20 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
