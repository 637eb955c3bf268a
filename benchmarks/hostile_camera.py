"""Benchmark: ``kedirivms info URL --json`` against a hostile ONVIF camera, ``kedirivms stream`` against a hostile
RTSP server, one fresh process per case, its peak RSS measured by the kernel (``wait4``).

Cases: every row of ``tests/hostile_peers.py`` (SOAP_CASES: absurd numbers, bad addresses, auth games, faults
with markup/newlines/secrets, bombs, floods, trickles, broken HTTP/XML), then seeded mutations of real replies of
the virtual camera up to ``--cases`` in all, then RTSP_CASES and a closed RTSP port. Baseline: the same command
against the unmodified virtual camera, run before every 25th case (alternating), medians reported.

Printed: hangs beyond the bound, exceptions outside the error tree (exit 70 / "unexpected error"), tracebacks,
secrets and forged lines in any output, invalid JSON, exit codes other than the table's, peak RSS (max, and ratio
to the baseline's median), the slowest case.

Run: ``.venv/bin/python benchmarks/hostile_camera.py [--cases 320] [--timeout 3]`` (``--cases 0``: RTSP only).
Goals (issue 15): 0 hangs, 0 exceptions outside the tree, 0 tracebacks, 0 secrets or forged lines, peak RSS
<= 150 MiB (SOAP) and <= 250 MiB (RTSP) in every case.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hostile_peers import (  # noqa: E402  (tests/ holds the shared hostile peers)
    PASSWORD,
    RTSP_CASES,
    SOAP_CASES,
    HostileCamera,
    HostileRtsp,
    RtspCase,
    SoapCase,
    _bomb,
    mutation,
)
from kedirivms.sim import VirtualCamera, VirtualCameraConfig  # noqa: E402

# The child reports its own peak RSS (VmHWM of its address space after exec): the kernel's ru_maxrss of a child
# also counts the parent's memory at fork time, which is this benchmark's, hostile servers included.
_CHILD = (
    "import os\n"
    "try:\n"
    "    from kedirivms.cli import main\n"
    "    main()\n"
    "finally:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    open(os.environ['KEDIRIVMS_BENCH_HWM'], 'w').write(hwm)\n"
)
CLI = [sys.executable, "-c", _CHILD]
HANG_S = 20.0  # a case still running after this is a hang (killed)


@dataclass
class Outcome:
    name: str
    kind: str  # soap, fuzz, rtsp, baseline
    code: int
    expected: int | None
    seconds: float
    rss_mib: float
    problems: list[str]


def run_cli(argv: list[str]) -> tuple[int, str, str, float, float]:
    """Run the CLI in a fresh process; (exit code, stdout, stderr, seconds, peak RSS MiB). Killed at HANG_S."""
    hwm_file = tempfile.NamedTemporaryFile("r", suffix=".hwm", delete=False)  # noqa: SIM115 - closed below
    env = {**os.environ, "KEDIRIVMS_PASSWORD": PASSWORD, "KEDIRIVMS_BENCH_HWM": hwm_file.name}
    with hwm_file, tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen([*CLI, *argv], stdout=out, stderr=err, env=env, text=True)
        killer = threading.Timer(HANG_S, proc.kill)
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        hwm = hwm_file.read().strip()
        os.unlink(hwm_file.name)
        # a killed child wrote nothing: fall back to the kernel's figure (an upper bound, see above)
        rss = int(hwm) / 1024 if hwm.isdigit() else usage.ru_maxrss / 1024
        return proc.returncode, out.read(), err.read(), seconds, rss


def _no_nan(value: str) -> None:
    raise ValueError(value)


def check(name: str, kind: str, expected: int | None, argv: list[str]) -> Outcome:
    code, out, err, seconds, rss = run_cli(argv)
    problems = []
    shown = out + err
    if seconds >= HANG_S:
        problems.append("hang")
    if code == 70 or "unexpected error" in err:
        problems.append("outside-tree")
    if "Traceback" in shown:
        problems.append("traceback")
    if PASSWORD in shown or f"admin:{PASSWORD[:4]}" in shown:
        problems.append("secret")
    if code != 0 and (err.count("\n") != 1 or not err.startswith("error: ")):
        problems.append("forged-or-noisy-stderr")
    if code == 0 and err:
        problems.append("stderr-on-success")
    if code == 0 and "--json" in argv and kind != "rtsp":
        try:
            json.loads(out, parse_constant=_no_nan)
        except ValueError:
            problems.append("invalid-json")
    if expected is not None and code != expected:
        problems.append(f"exit-{code}-not-{expected}")
    return Outcome(name, kind, code, expected, seconds, rss, problems)


def soap(upstream: VirtualCamera, case: SoapCase, kind: str, timeout: str) -> Outcome:
    with HostileCamera(upstream.device_url, case) as hostile:
        argv = ["info", hostile.url, "-u", "admin", "--json", "--timeout", timeout]
        return check(case.name, kind, case.cli if kind == "soap" else None, argv)


def rtsp(case: RtspCase) -> Outcome:
    with HostileRtsp(case) as server:
        url = server.url.replace("rtsp://", f"rtsp://admin:{PASSWORD}@")
        argv = ["stream", url, "--seconds", "2", "--read-timeout", "1", "--timeout", "2", "--json"]
        return check(case.name, "rtsp", case.cli, argv)


def baseline(upstream: VirtualCamera, timeout: str) -> Outcome:
    return check(
        "baseline", "baseline", 0, ["info", upstream.device_url, "-u", "admin", "--json", "--timeout", timeout]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=320, help="SOAP cases in all (table rows, then mutations)")
    parser.add_argument("--timeout", default="3", help="the CLI's --timeout (request deadline = 2x this)")
    parser.add_argument("--only", nargs="*", default=None, help="run only these case names (e.g. to re-check one)")
    args = parser.parse_args()
    _bomb("gzip", 400 << 20), _bomb("deflate", 400 << 20)  # build once, outside the measured clients  # noqa: B018
    upstream = VirtualCamera(VirtualCameraConfig(password=PASSWORD)).start()
    outcomes: list[Outcome] = []
    fuzz = [mutation(i) for i in range(max(0, args.cases - len(SOAP_CASES), 1000 if args.only else 0))]
    plan: list[tuple[str, SoapCase | RtspCase]] = []
    plan += [("soap", c) for c in SOAP_CASES[: args.cases]]
    plan += [("fuzz", c) for c in fuzz]
    plan += [("rtsp", c) for c in RTSP_CASES]
    if args.only is not None:
        plan = [(kind, c) for kind, c in plan if c.name in args.only]
    started = time.monotonic()
    try:
        for i, (kind, case) in enumerate(plan):
            if i % 25 == 0:
                outcomes.append(baseline(upstream, args.timeout))
            result = rtsp(case) if isinstance(case, RtspCase) else soap(upstream, case, kind, args.timeout)
            outcomes.append(result)
            if result.problems:
                print(f"  {result.name}: {', '.join(result.problems)}", flush=True)
            if i % 50 == 49:
                print(f"  ... {i + 1}/{len(plan)} cases", flush=True)
        closed = None if args.only is not None else check(
            "rtsp-closed-port", "rtsp", 5,
            ["stream", "rtsp://127.0.0.1:9/x", "--seconds", "2", "--read-timeout", "1", "--timeout", "1", "--json"],
        )  # fmt: skip
        if closed is not None:
            outcomes.append(closed)
        outcomes.append(baseline(upstream, args.timeout))
        # a hang on a loaded machine may be the load: run those cases once more, alone, and report both
        for o in [o for o in outcomes if "hang" in o.problems]:
            kind, case = next((k, c) for k, c in plan if c.name == o.name)
            again = rtsp(case) if isinstance(case, RtspCase) else soap(upstream, case, kind, args.timeout)
            o.problems.append("hang-reproduced" if "hang" in again.problems else f"rerun-{again.seconds:.1f}s")
    finally:
        upstream.stop()
    report(outcomes, time.monotonic() - started)


def report(outcomes: list[Outcome], wall: float) -> None:
    base = [o for o in outcomes if o.kind == "baseline"]
    cases = [o for o in outcomes if o.kind != "baseline"]
    soap_cases = [o for o in cases if o.kind in ("soap", "fuzz")]
    rtsp_cases = [o for o in cases if o.kind == "rtsp"]
    base_rss = statistics.median(o.rss_mib for o in base)
    base_s = statistics.median(o.seconds for o in base)

    def count(problem: str) -> int:
        return sum(1 for o in cases if any(p.startswith(problem) for p in o.problems))

    print(f"\nhostile camera: {len(soap_cases)} SOAP cases ({sum(o.kind == 'fuzz' for o in cases)} seeded mutations),")
    print(f"{len(rtsp_cases)} RTSP cases, one process each, {wall:.0f} s wall; load: this benchmark alone + the")
    print(f"other jobs on the machine (loadavg {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)")
    print(f"baseline (info against the unmodified virtual camera, median of {len(base)} interleaved runs): "
          f"{base_s:.2f} s, peak RSS {base_rss:.0f} MiB")  # fmt: skip
    reruns = [p for o in cases for p in o.problems if p.startswith("rerun-")]
    print(
        f"hangs beyond {HANG_S:.0f} s:                 {count('hang')} (reproduced when re-run alone: "
        f"{count('hang-reproduced')}; re-run times: {', '.join(r[6:] for r in reruns) or '-'})"
    )
    print(f"exceptions outside the tree:      {count('outside-tree')}")
    print(f"tracebacks:                       {count('traceback')}")
    print(f"secrets in output:                {count('secret')}")
    print(f"forged/extra stderr lines:        {count('forged')}  (stderr on success: {count('stderr-on')})")
    print(f"invalid JSON:                     {count('invalid-json')}")
    print(f"exit code not as documented:      {count('exit-')}")
    for label, group, goal in (("SOAP", soap_cases, 150), ("RTSP", rtsp_cases, 250)):
        if not group:
            continue
        worst = max(group, key=lambda o: o.rss_mib)
        print(f"{label} peak RSS max:                {worst.rss_mib:.0f} MiB ({worst.name}; "
              f"{worst.rss_mib / base_rss:.2f}x baseline; goal <= {goal} MiB; "
              f"over goal: {sum(o.rss_mib > goal for o in group)})")  # fmt: skip
    slowest = max(cases, key=lambda o: o.seconds)
    print(f"slowest case:                     {slowest.seconds:.1f} s ({slowest.name}; "
          f"{slowest.seconds / base_s:.1f}x baseline)")  # fmt: skip
    outcomes_by_code: dict[int, int] = {}
    for o in cases:
        outcomes_by_code[o.code] = outcomes_by_code.get(o.code, 0) + 1
    print(f"exit codes:                       {dict(sorted(outcomes_by_code.items()))}")


if __name__ == "__main__":
    main()
