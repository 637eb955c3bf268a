"""``make demo``: the whole story on loopback, no hardware.

0. the command centre's page starts first (its URL is the first line printed): open it and watch the counters
   fill, pile up and go unstaffed live while the story runs;
1. a fleet of virtual counter cameras starts on 127.0.1.x (one with its clock years off, one Digest-only, one a
   4-channel NVR), each with ONVIF SOAP, RTSP and a WS-Discovery responder;
2. they are **discovered** by a unicast sweep of 127.0.1.0/24 (nothing leaves loopback);
3. each is **read** over ONVIF: device info, clock offset, channels, profiles, stream URIs;
4. a fleet file is written and **run** like ``kedirivms run``: sub-streams feed the queue-analytics plugin,
   main streams are **recorded**, camera events and alerts go to JSONL (and MQTT with ``--mqtt URL``);
5. a live table per counter while it runs (for the terminal-only user); at the end a PNG chart of queue length
   and alerts, the recorded segments and the event counts. Alerts on the page open their recording.

Run: ``python -m kedirivms.demo [--seconds 70] [--out demo-output] [--http 127.0.0.1:8088] [--mqtt URL]``.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.live import Live
from rich.table import Table

from kedirivms import connect_cameras
from kedirivms.discovery import discover
from kedirivms.errors import ConfigError, KedirivmsError
from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig
from kedirivms.sim.counter_scene import CounterScene

console = Console(width=None if Console().is_terminal else 150)
PASSWORD_ENV = "KEDIRIVMS_DEMO_PASSWORD"
PASSWORD = "demo-Pass-2026"  # the virtual cameras' password: it reaches the library only through the env var
MAIN = EncoderSpec(width=1280, height=720, fps=10, bitrate_kbps=1500, gop=10)  # light enough for a 2-core box
SUB = EncoderSpec(width=640, height=360, fps=10, bitrate_kbps=512, gop=10)
SITE, LOCATION = "demo", "kediri/demo"
SEGMENT_S = 20

# name, host, camera settings, counter scene settings
FLEET: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "loket-1",
        "127.0.1.11",
        {"clock_skew_s": 7 * 365.25 * 86400, "model": "VirtualCam-1", "location": "Kota/Dukcapil"},
        {"seed": 11, "arrival_rate_per_min": 9.0, "service_time_s": 25.0},  # busy: piles up
    ),
    (
        "loket-2",
        "127.0.1.12",
        {"auth": "digest", "model": "VirtualCam-D", "location": "Pesantren/Kecamatan"},
        {"seed": 12, "arrival_rate_per_min": 2.0, "service_time_s": 15.0, "absences": [(20.0, 70.0)]},
    ),
    (
        "loket-nvr",
        "127.0.1.13",
        {"channels": 4, "model": "VirtualNVR-4", "location": "Mojoroto/Samsat"},
        {"seed": 13, "arrival_rate_per_min": 3.0, "service_time_s": 20.0},
    ),
]


def start_fleet(seconds: float = 70.0) -> list[VirtualCamera]:
    cams = []
    for name, host, cam_cfg, scene_cfg in FLEET:
        # arrivals for the demo's length plus a margin (the scene loops after that); a long busy timeline is slow
        # to simulate because its queue keeps growing
        scene = CounterScene(**scene_cfg, duration_s=max(120.0, seconds + 60.0))  # oblique view, real people
        config = VirtualCameraConfig(host=host, password=PASSWORD, name=name, main=MAIN, sub=SUB,
                                     serial_number=f"KVC-{name}", **cam_cfg)  # fmt: skip
        factory = lambda ch, kind, scene=scene: scene if ch == 1 else None  # noqa: E731
        cams.append(VirtualCamera(config, rtsp=True, discovery=True, scene=factory).start())
    return cams


def show_discovery() -> list[Any]:
    console.rule("[bold]1. Discovery: unicast WS-Discovery sweep of 127.0.1.0/24")
    found = discover(ranges=["127.0.1.0/24"], timeout=1.5)
    table = Table("address", "name", "location", "hardware", "endpoint")
    for d in sorted(found, key=lambda d: d.address or ""):
        table.add_row(d.address or "", d.name or "", d.location or "", d.hardware or "", d.endpoint or "")
    console.print(table)
    return found


def show_devices(found: list[Any]) -> None:
    console.rule("[bold]2. ONVIF: device info, clock, channels, profiles")
    table = Table("camera", "model", "clock offset", "auth", "ch", "profile", "size", "stream URI (no credentials)")
    devices = sorted(found, key=lambda d: d.address or "")
    # every camera connects at once (bounded), each result a connected Camera or a typed error
    results = connect_cameras(
        [d.xaddrs[0] for d in devices], username="admin", password=os.environ[PASSWORD_ENV], timeout=5
    )
    for d, result in zip(devices, results, strict=True):
        try:
            if result.camera is None:
                assert result.error is not None
                raise result.error
            with result.camera as cam:
                info = cam.device_information()
                profiles = cam.profiles(with_stream_uris=True)
                offset = (
                    f"{cam.clock_offset_s / 86400 / 365.25:+.1f} y"
                    if abs(cam.clock_offset_s) > 86400
                    else (f"{cam.clock_offset_s:+.1f} s")
                )
                auth = cam.auth_mode
        except KedirivmsError as exc:
            table.add_row(d.name or d.address, f"[red]{exc}[/]")
            continue
        for i, p in enumerate(profiles):
            head = [d.name or "", info.model, offset, auth] if i == 0 else ["", "", "", ""]
            table.add_row(*head, str(p.channel), p.token, f"{p.width}x{p.height}", p.stream_uri or "-")
    console.print(table)


def write_deployment(out: Path, found: list[Any], mqtt: str | None) -> Path:
    zones = [z.model_dump(mode="json") for z in CounterScene(0).zones()]
    rules = {"pile_up": {"threshold": 4, "for_s": 8.0, "clear_for_s": 8.0}, "unstaffed": {"for_s": 10.0}}
    # the default detector (the DNN with kedirivms[detect]) on the oblique view: feet on the floor zones
    queue = {"name": "queue", "config": {"interval_s": 5.0, "anchor": "bottom_center", **rules}}
    snapshot = {"name": "snapshot", "config": {"interval_s": 10.0}}  # a small picture on each tile of the page
    by_host = {d.address: d for d in found}
    cameras = []
    for name, host, _cam_cfg, _scene in FLEET:
        d = by_host.get(host)
        if d is None:
            continue
        cameras.append({
            "name": name,
            "address": d.xaddrs[0],
            "credentials": {"username": "admin", "password_env": PASSWORD_ENV},
            "zones": zones,
            "plugins": [queue, snapshot],
        })  # fmt: skip
    sinks: list[dict[str, Any]] = [{"type": "jsonl", "path": "events.jsonl"}]
    if mqtt:
        sinks.append({"type": "mqtt", "url": mqtt})
    doc = {
        "version": 2,
        "sites": {SITE: {"location": LOCATION, "cameras": cameras}},
        "sinks": sinks,
        "recording": {"root": "recordings", "segment_seconds": SEGMENT_S},
    }
    path = out / "fleet.yaml"
    path.write_text("# written by the kedirivms demo; run it yourself with: kedirivms run " + str(path) + "\n"
                    + yaml.safe_dump(doc, sort_keys=False))  # fmt: skip
    return path


def open_page(out: Path, bind: str) -> Any:
    """The centre's page over a fresh store, before anything else (the counters are known: the demo's own).

    Tries ``bind`` and, when its port is taken, any free port. Its fleet is the plan of the deployment (names,
    site, recording root); the deployment's own events and states fill it once it runs.
    """
    from kedirivms.centre_web import LocalCentre
    from kedirivms.fleet import parse_fleet

    for name in ("centre.sqlite", "centre.sqlite-wal", "centre.sqlite-shm"):
        (out / name).unlink(missing_ok=True)  # a new story each run
    cameras = [{"name": name, "address": host} for name, host, _cfg, _scene in FLEET]
    plan = {"version": 2, "sites": {SITE: {"location": LOCATION, "cameras": cameras}},
            "recording": {"root": "recordings", "segment_seconds": SEGMENT_S}}  # fmt: skip
    fleet = parse_fleet(yaml.safe_dump(plan), "<demo page>", base_dir=out.resolve())
    try:
        page = LocalCentre(fleet, out / "centre.sqlite", bind)
    except ConfigError:
        host = bind.rpartition(":")[0] or "127.0.0.1"
        page = LocalCentre(fleet, out / "centre.sqlite", f"{host}:0")
    page.web.start()
    return page


def run_deployment(path: Path, seconds: float, fleet: list[VirtualCamera], page: Any = None) -> None:
    from kedirivms.deploy import Deployment
    from kedirivms.deploy.live import LiveBoard
    from kedirivms.fleet import load_fleet
    from kedirivms.record import SegmentIndex

    console.rule(f"[bold]3. Running {path.name} for {seconds:.0f} s: analytics (sub), recording (main), events")
    fleet_file = load_fleet(path)
    cameras = fleet_file.cameras()
    board = LiveBoard([c.name for c in cameras])
    deployment = Deployment(fleet_file, extra_sinks=[board.sink(), *([page.sink()] if page is not None else [])])
    start = time.monotonic()
    # Ctrl-C ends the story early from the moment the deployment starts: while its cameras are still being tried
    # (events already flow) as well as while the board is shown
    try:
        deployment.start()
        if page is not None:
            page.start(lambda: deployment.statuses)
        deployment.wait_tried(15.0)
        for status in deployment.statuses.values():
            if status.error:
                console.print(f"[yellow]{status.name} retrying: {status.error}")
        start = time.monotonic()
        motion_sent = False
        with Live(board.table(deployment.metrics()), console=console, refresh_per_second=1) as live:
            while time.monotonic() - start < seconds:
                time.sleep(1.0)
                if not motion_sent and time.monotonic() - start > seconds / 2:
                    fleet[0].trigger_motion(True)  # a camera-side event, forwarded to the sinks
                    motion_sent = True
                live.update(board.table(deployment.metrics()))
    except KeyboardInterrupt:  # Ctrl-C (or SIGINT) ends the story early; its results are still shown
        console.print(f"[yellow]story ended early after {time.monotonic() - start:.0f} s")
    finally:
        deployment.close()
    console.print()
    console.rule("[bold]4. Results")
    chart = board.chart(path.parent / "queue_chart.png")
    console.print(f"chart of queue length and alerts: {chart}")
    events = path.parent / "events.jsonl"
    lines = events.read_text().splitlines() if events.exists() else []
    kinds: dict[str, int] = {}
    for line in lines:
        kind = json.loads(line).get("kind", "?")
        kinds[kind] = kinds.get(kind, 0) + 1
    console.print(
        f"events written to {events}: {len(lines)} ({', '.join(f'{k}={v}' for k, v in sorted(kinds.items()))})"
    )
    root = Path(fleet_file.recording.root) if fleet_file.recording else path.parent / "recordings"
    index = SegmentIndex(root)
    try:
        table = Table("camera", "segments", "seconds", "MiB")
        for c in cameras:
            segs = index.segments(c.name)
            table.add_row(c.name, str(len(segs)), f"{sum(s.duration for s in segs):.0f}",
                          f"{sum(s.bytes for s in segs) / 2**20:.1f}")  # fmt: skip
        console.print(table)
    finally:
        index.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=70.0, help="How long the deployment runs (default 70).")
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="Output folder.")
    parser.add_argument("--mqtt", help="Also publish events to this MQTT broker (mqtt://host:port).")
    parser.add_argument("--http", default="127.0.0.1:8088", help="The centre page's HOST:PORT ('' for none).")
    args = parser.parse_args(argv)
    faulthandler.enable()  # a crash in native code (decoder, model, muxer) prints every thread's stack
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ[PASSWORD_ENV] = PASSWORD  # the deployment file refers to it by name, never in clear
    page = None
    if args.http:
        try:
            page = open_page(args.out, args.http)
            # the first line: open the page now, the counters appear there as the story runs
            console.print(f"[bold]centre page: {page.url}[/]  (open it now: every counter live, pile-ups, absences)")
        except KedirivmsError as exc:  # e.g. no 'cluster' extra (its store): the terminal story still runs
            console.print(f"[yellow]no centre page: {exc}")
    console.rule("[bold]kedirivms demo: virtual counter cameras on loopback")
    fleet = start_fleet(args.seconds)
    try:
        for cam in fleet:
            console.print(f"started {cam.config.name:10} {cam.device_url}  rtsp port {cam.config.rtsp_port}"
                          f"  auth {cam.config.auth}  channels {cam.config.channels}")  # fmt: skip
        found = show_discovery()
        show_devices(found)
        path = write_deployment(args.out, found, args.mqtt)
        run_deployment(path, args.seconds, fleet, page)
        if page is not None:
            console.print(f"centre page: {page.url} (its store: {args.out / 'centre.sqlite'})")
    except KedirivmsError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(1) from None
    finally:
        if page is not None:
            page.close()
        for cam in fleet:
            cam.stop()


if __name__ == "__main__":
    main()
