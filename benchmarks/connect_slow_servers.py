"""Benchmark: connect 16 cameras whose web servers are slow in the field, against onvif-zeep-async.

Two server behaviours, each a virtual fleet in its own process (``kedirivms simulate``):

* ``plain``: replies leave in one TCP segment (TCP_NODELAY);
* ``split_reply_nagle``: the quirk of many embedded servers, headers and body in two segments with Nagle on, so
  a keep-alive client in delayed-ACK mode waits ~40 ms per call.

Client variants, each in a fresh process (its own peak RSS), all 16 cameras at once, the same work per camera
(clock, services, device information, profiles, and the device/media/PTZ/events services made ready):

* ``kedirivms``: :func:`kedirivms.connect_cameras` (16 threads), TCP_QUICKACK per response;
* ``kedirivms-no-quickack``: the same with the TCP_QUICKACK fix switched off (what it was before);
* ``onvif-zeep-async``: ``ONVIFCamera.update_xaddrs()`` and ``create_*_service()`` for all 16 under
  ``asyncio.gather`` (PyPI onvif-zeep-async, the ``bench`` extra). Its ``onvif`` package has the same import name
  as onvif-zeep's, so it is installed apart: ``pip install --target .bench-deps onvif-zeep-async`` (``make
  bench`` does it); without it that variant is skipped.

Rounds alternate the variants; figures are medians of the rounds; ratios are against onvif-zeep-async measured in
the same run. Load: the fleet process and each client process share this machine's cores with whatever else runs.

Run: ``.venv/bin/python benchmarks/connect_slow_servers.py [--cameras 16] [--rounds 5]``. Goal (issue 14): total
connect time <= 0.5x onvif-zeep-async's with both server behaviours, peak RSS <= 80 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import start_fleet, stop_fleet

PASSWORD = "bench-pass-1"
SERVICES = ("device", "media", "ptz", "events")
BENCH_DEPS = Path(__file__).resolve().parents[1] / ".bench-deps"
VARIANTS = ("kedirivms", "kedirivms-no-quickack", "onvif-zeep-async")


def run_kedirivms(cams: list[dict[str, Any]], quickack: bool) -> dict[str, Any]:
    import kedirivms._quickack as quickack_module
    from kedirivms import connect_cameras

    if not quickack:
        quickack_module.ENABLED = False  # the client as it was before the fix
    start = time.perf_counter()
    results = connect_cameras(
        [c["device_url"] for c in cams],
        concurrency=len(cams),
        username=cams[0]["username"],
        password=PASSWORD,
        timeout=(3, 10),
        prepare=SERVICES,
    )
    for r in results:
        assert r.camera is not None, r.error
        assert r.camera.device_information().model and r.camera.profiles()
    total = time.perf_counter() - start
    for r in results:
        assert r.camera is not None
        r.camera.close()
    return {"total_s": total}


def run_onvif_zeep_async(cams: list[dict[str, Any]]) -> dict[str, Any]:
    import asyncio

    from onvif import ONVIFCamera  # onvif-zeep-async, from .bench-deps (see the module docstring)

    async def one(c: dict[str, Any]) -> None:
        host, port = c["host"], int(c["port"])
        cam = ONVIFCamera(host, port, c["username"], PASSWORD)
        try:
            await cam.update_xaddrs()
            device = await cam.create_devicemgmt_service()
            info = await device.GetDeviceInformation()
            media = await cam.create_media_service()
            profiles = await media.GetProfiles()
            await cam.create_ptz_service()
            await cam.create_events_service()
            assert info.Model and profiles
        finally:
            await cam.close()

    async def all_of_them() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(one(c) for c in cams))
        return time.perf_counter() - start

    return {"total_s": asyncio.run(all_of_them())}


def child(mode: str, cams_file: str) -> None:
    cams = json.loads(Path(cams_file).read_text())
    if mode == "onvif-zeep-async":
        result = run_onvif_zeep_async(cams)
    else:
        result = run_kedirivms(cams, quickack=mode == "kedirivms")
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run_child(mode: str, cams_file: Path) -> dict[str, Any]:
    env = dict(os.environ)
    if mode == "onvif-zeep-async":
        env["PYTHONPATH"] = str(BENCH_DEPS)  # its own `onvif` package and dependencies first
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--cams-file", str(cams_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def measure(behaviour: str, cameras: int, rounds: int, variants: list[str]) -> dict[str, list[dict[str, Any]]]:
    options = ["--quirk", behaviour] if behaviour != "plain" else []
    fleet, cams = start_fleet(cameras, PASSWORD, *options)
    out: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    try:
        cams_file = Path("/tmp") / f"kedirivms-bench-slow-{fleet.pid}.json"
        cams_file.write_text(json.dumps(cams))
        _run_child("kedirivms", cams_file)  # untimed: the fleet builds its replies once before anything counts
        for _ in range(rounds):
            for variant in variants:  # alternating, so a load spike hits every variant alike
                out[variant].append(_run_child(variant, cams_file))
        cams_file.unlink()
    finally:
        stop_fleet(fleet)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", choices=VARIANTS)
    parser.add_argument("--cams-file")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.cams_file)
        return
    variants = list(VARIANTS)
    if not (BENCH_DEPS / "onvif").is_dir():
        print(f"onvif-zeep-async not found in {BENCH_DEPS}: `pip install --target .bench-deps onvif-zeep-async`")
        variants.remove("onvif-zeep-async")
    load = os.getloadavg()[0]
    print(f"{args.cameras} cameras, {args.rounds} alternating rounds per behaviour, load average {load:.2f} "
          f"on {os.cpu_count()} cores")  # fmt: skip
    print(f"{'server behaviour':20} {'variant':24} {'median total s':>15} {'min-max s':>15} {'peak RSS MiB':>13} "
          f"{'vs onvif-zeep-async':>20}")  # fmt: skip
    for behaviour in ("plain", "split_reply_nagle"):
        runs = measure(behaviour, args.cameras, args.rounds, variants)
        base = statistics.median(r["total_s"] for r in runs["onvif-zeep-async"]) if "onvif-zeep-async" in runs else 0
        for variant, results in runs.items():
            totals = [r["total_s"] for r in results]
            median = statistics.median(totals)
            ratio = f"{median / base:.2f}x" if base else "-"
            print(
                f"{behaviour:20} {variant:24} {median:15.3f} {min(totals):7.3f}-{max(totals):<7.3f} "
                f"{max(r['peak_rss_mib'] for r in results):13.1f} {ratio:>20}"
            )
    print("goal: kedirivms <= 0.50x onvif-zeep-async with both behaviours; peak RSS <= 80 MiB")


if __name__ == "__main__":
    main()
