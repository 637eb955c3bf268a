"""Benchmark: unicast WS-Discovery sweep of 127.0.1.0/24 with 20 virtual cameras.

The 20 responders (``kedirivms.sim.discovery.DiscoveryResponder`` on 127.0.1.10, .20, ... .200) run in another
process. In the same run we time:

* ``kedirivms``: ``kedirivms.discover(ranges=["127.0.1.0/24"])``: one UDP socket, every Probe sent at once
  (window 256), each address given ``--timeout`` seconds to answer;
* ``naive``: what a simple script does: for each address in turn, send one Probe and wait for its answer
  with a short ``--naive-timeout`` (same codec, so only the strategy differs).

Run: ``.venv/bin/python benchmarks/discovery.py [--runs 3] [--timeout 1.0] [--naive-timeout 0.05]``.
Goal (issue 8): the /24 sweep in <= 2 s with 100% of the cameras found.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time

HOSTS = [f"127.0.1.{i}" for i in range(10, 210, 10)]
RANGE = "127.0.1.0/24"

_FLEET = """
import json, sys
from kedirivms.sim.discovery import DiscoveryResponder
rs = [DiscoveryResponder(host=h, xaddrs=[f"http://{h}:8080/onvif/device_service"]).start() for h in %r]
print(json.dumps([r.endpoint for r in rs]), flush=True)
sys.stdin.readline()
for r in rs:
    r.stop()
"""


def run_kedirivms(timeout: float) -> tuple[float, set[str]]:
    import kedirivms

    t0 = time.perf_counter()
    devices = kedirivms.discover(ranges=[RANGE], timeout=timeout)
    elapsed = time.perf_counter() - t0
    endpoints = [d.endpoint for d in devices]
    assert len(endpoints) == len(set(endpoints)), "duplicates in the result"
    return elapsed, {e for e in endpoints if e}


def run_naive(timeout: float) -> tuple[float, set[str]]:
    import ipaddress

    from kedirivms.discovery import _wsd

    found: set[str] = set()
    t0 = time.perf_counter()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for host in ipaddress.ip_network(RANGE).hosts():
            mid = _wsd.new_message_id()
            sock.sendto(_wsd.build_probe(mid, [_wsd.NVT]), (str(host), _wsd.PORT))
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    data, _ = sock.recvfrom(65535)
                except (TimeoutError, ConnectionRefusedError):
                    break
                try:
                    msg = _wsd.parse(data)
                except _wsd.WsdParseError:
                    continue
                if msg.relates_to == mid:
                    found.update(m.endpoint for m in msg.matches)
                    break
    return time.perf_counter() - t0, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="kedirivms sweeps to time (median reported)")
    parser.add_argument("--timeout", type=float, default=1.0, help="per-address reply window of discover()")
    parser.add_argument("--naive-timeout", type=float, default=0.05, help="per-address wait of the baseline")
    args = parser.parse_args()

    fleet = subprocess.Popen(
        [sys.executable, "-c", _FLEET % (HOSTS,)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert fleet.stdout is not None and fleet.stdin is not None
        expected = set(json.loads(fleet.stdout.readline()))
        times, founds = [], []
        for _ in range(args.runs):
            elapsed, found = run_kedirivms(args.timeout)
            times.append(elapsed)
            founds.append(len(found & expected))
        naive_time, naive_found = run_naive(args.naive_timeout)
        fleet.stdin.write("stop\n")
        fleet.stdin.flush()
        fleet.wait(timeout=30)
    finally:
        if fleet.poll() is None:
            fleet.kill()

    n = len(expected)
    median = statistics.median(times)
    print(f"discovery benchmark: unicast sweep of {RANGE} (254 addresses), {n} responders in another process")
    print(
        f"  kedirivms  timeout {args.timeout:g} s/address  runs {args.runs}: median {median:.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f})  found {min(founds)}/{n} in every run"
    )
    print(
        f"  naive      sequential, {args.naive_timeout:g} s/address:        {naive_time:.3f} s  "
        f"found {len(naive_found & expected)}/{n}"
    )
    print(f"  ratio naive / kedirivms: {naive_time / median:.1f}x faster")
    ok = max(times) <= 2.0 and min(founds) == n
    print(f"  goal <= 2 s and 100% found: {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
