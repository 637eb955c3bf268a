"""``kedirivms worker FLEET.yaml --nats URL`` and ``kedirivms centre --nats URL``: scale-out on NATS JetStream."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import typer
from rich.live import Live
from rich.table import Table

from kedirivms.cli._app import app, console, emit_json, emit_json_line, err_console

NatsOption = typer.Option(..., "--nats", help="NATS URL (repeatable): the district's leaf node, or the hub.")
ConnectTimeoutOption = typer.Option(
    10.0, "--connect-timeout", min=0.1, help="Seconds to wait for a NATS server at start; then a one-line error."
)


def _until_stopped(seconds: float | None, step: float, tick: Any) -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    deadline = time.monotonic() + seconds if seconds else None
    try:
        while not stop.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            stop.wait(step if left is None else min(step, left))
            tick()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command()
def worker(
    fleet_file: Path = typer.Argument(..., help="Fleet file (YAML), the same on every worker."),
    nats: list[str] = NatsOption,
    worker_id: str | None = typer.Option(None, "--id", help="Worker id, unique in the cluster (default: host name)."),
    capacity: int | None = typer.Option(None, "--capacity", min=0, help="Cameras at most (default: 4 per core)."),
    site: list[str] = typer.Option(None, "--site", help="Only take cameras of this site (repeatable)."),
    lease_ttl: float = typer.Option(10.0, "--lease-ttl", min=3, help="Lease time-to-live, seconds."),
    replicas: int = typer.Option(1, "--replicas", min=1, help="Bucket/stream copies (3 on a 3-node cluster)."),
    domain: str | None = typer.Option(None, "--domain", help="JetStream domain (default: the server's own)."),
    status_interval: float = typer.Option(5.0, "--status-interval", min=0.2, help="State published every N s."),
    max_connects: int = typer.Option(8, "--max-connects", min=1, help="Cameras connecting at once."),
    connect_timeout: float = ConnectTimeoutOption,
    publish_queue: int = typer.Option(
        100_000, "--publish-queue", min=1, help="Events kept while NATS is away; beyond, the oldest are dropped."
    ),
    seconds: float | None = typer.Option(None, "--seconds", help="Stop after this long (default: until stopped)."),
    json: bool = typer.Option(False, "--json", help="Print a JSON status line every few seconds, no table."),
    log_level: str = typer.Option("warning", "--log-level", help="Log level on stderr: debug, info, warning, error."),
) -> None:
    """Take cameras of a fleet file by lease and run them; stops them before a lease it cannot renew expires."""
    import logging

    from kedirivms.cluster import Worker, WorkerConfig
    from kedirivms.fleet import load_fleet

    # a long-running service: its log (leases taken, released, fenced; cameras retried) goes to stderr
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    fields: dict[str, Any] = {
        "servers": nats,
        "lease_ttl": lease_ttl,
        "replicas": replicas,
        "domain": domain,
        "status_interval": status_interval,
        "max_connects": max_connects,
        "connect_timeout": connect_timeout,
        "publish_queue": publish_queue,
    }
    if worker_id:
        fields["id"] = worker_id
    if capacity is not None:
        fields["capacity"] = capacity
    if site:
        fields["sites"] = site
    w = Worker(load_fleet(fleet_file), WorkerConfig(**fields))
    w.start()
    try:
        if json:
            _until_stopped(seconds, w.config.status_interval, lambda: emit_json_line(w.status()))
        else:
            with Live(_worker_table(w.status()), console=console, refresh_per_second=1) as live:
                _until_stopped(seconds, 1.0, lambda: live.update(_worker_table(w.status())))
    finally:
        w.close()
    if json:
        emit_json_line(w.status())


def _worker_table(status: Any) -> Table:
    table = Table(title=f"worker {status.id}: {len(status.cameras)}/{status.capacity} cameras, "
                  f"{len(status.members)} workers, {status.published} events published")  # fmt: skip
    if status.dropped:
        table.caption = f"[bold red]{status.dropped} events dropped (publish queue full: NATS away too long)[/]"
    for col in ("camera", "state", "frames", "attempts", "retry in s", "error"):
        table.add_column(col)
    for name, cam in sorted(status.cameras.items()):
        retry = cam.get("retry_in")
        table.add_row(
            name, str(cam.get("state")), str(cam.get("frames", 0)), str(cam.get("attempts", 0)),
            "-" if retry is None else f"{retry:.0f}", str(cam.get("error") or ""),
        )  # fmt: skip
    for name in status.wanted:
        table.add_row(name, "[yellow]waiting for lease[/]", "-", "-", "-", "")
    return table


@app.command()
def centre(
    nats: list[str] = NatsOption,
    db: Path = typer.Option(Path("centre.sqlite"), "--db", help="SQLite store of events and the fleet view."),
    leaf: list[str] = typer.Option(None, "--leaf", help="JetStream domain of a district leaf to source (repeatable)."),
    replicas: int = typer.Option(1, "--replicas", min=1, help="Stream copies (3 on a 3-node cluster)."),
    connect_timeout: float = ConnectTimeoutOption,
    seconds: float | None = typer.Option(None, "--seconds", help="Stop after this long (default: until stopped)."),
    json: bool = typer.Option(False, "--json", help="Print the fleet view as JSON (at the end), no live table."),
    http: str | None = typer.Option(None, "--http", help="Serve the web page on HOST:PORT (e.g. 127.0.0.1:8088)."),
    fleet: Path | None = typer.Option(None, "--fleet", help="Fleet file: districts, offices, counters for the page."),
    users: Path | None = typer.Option(
        None,
        "--users",
        help="Users file (scrypt hashes): the page needs a login (default: the fleet file's centre.users).",
    ),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="Serve the page over HTTPS with this certificate."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="The certificate's private key."),
) -> None:
    """Store every event once (SQLite) and keep the current fleet view: holders, queues, alerts, last frames."""
    from kedirivms.cluster import Centre

    c = Centre(nats, db, leaf_domains=leaf or [], replicas=replicas, connect_timeout=connect_timeout)
    c.start()
    web = None
    try:
        if http:
            from kedirivms.centre_web import serve_centre

            tls = (tls_cert, tls_key) if tls_cert and tls_key else None
            web = serve_centre(c, http, fleet=fleet, users=users, tls=tls)
            (console if not json else err_console).print(f"centre page: {web.url}")
        if json:
            _until_stopped(seconds, 1.0, lambda: None)
        else:
            with Live(_centre_table(c.store.fleet_view()), console=console, refresh_per_second=1) as live:
                _until_stopped(seconds, 1.0, lambda: live.update(_centre_table(c.store.fleet_view())))
        view = c.store.fleet_view()
    finally:
        if web is not None:
            web.close()
        c.close()
    if json:
        emit_json(view)


def _centre_table(view: Any) -> Table:
    table = Table(title=f"fleet: {len(view.cameras)} cameras, {view.events} events stored")
    for col in ("site", "camera", "worker", "state", "queue", "wait s", "alerts", "last frame"):
        table.add_column(col)
    now = time.time()
    for cam in view.cameras:
        age = "-" if cam.last_frame_time is None else f"{now - cam.last_frame_time:.0f} s ago"
        alerts = ", ".join(cam.open_alerts) or "ok"
        style = "bold red" if cam.open_alerts else "green"
        table.add_row(
            cam.site, cam.camera, cam.worker or "-", cam.state or "-",
            "-" if cam.queue_length is None else f"{cam.queue_length:.1f}",
            "-" if cam.wait_s is None else f"{cam.wait_s:.0f}", f"[{style}]{alerts}[/]", age,
        )  # fmt: skip
    lost = [f"{w.worker} {w.dropped}" for w in view.workers if w.dropped]
    if lost:  # events a worker dropped from its full publish queue never reach the centre: say so
        table.caption = f"[bold red]events lost by workers before JetStream: {', '.join(lost)}[/]"
    return table


@app.command("centre-hash")
def centre_hash(
    user: str = typer.Argument(..., help="The operator's user name."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True, help="(prompted)"),
) -> None:
    """Print a users-file line for ``kedirivms centre --users``: the name and a scrypt hash of the password."""
    from kedirivms.centre_web import hash_password

    console.print(f'  {user}: "{hash_password(password)}"', highlight=False)
