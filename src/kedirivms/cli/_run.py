"""``kedirivms run FLEET.yaml``: run a fleet file's cameras (zones, plugins, sinks, recording) on this host."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import typer
from rich.live import Live

from kedirivms.cli._app import app, console, emit_json, err_console


@app.command()
def run(
    config: Path = typer.Argument(..., help="Fleet file (YAML): sites, cameras, zones, plugins, sinks, recording."),
    only: list[str] = typer.Option(None, "--only", help="Camera name or site id to run (repeatable; default: all)."),
    seconds: float | None = typer.Option(None, "--seconds", help="Stop after this long (default: until Ctrl-C)."),
    chart: Path | None = typer.Option(None, "--chart", help="Write a PNG chart of queue length and alerts at the end."),
    json: bool = typer.Option(False, "--json", help="Print the final metrics as JSON instead of a live table."),
    http: str | None = typer.Option(None, "--http", help="Serve the centre's web page on HOST:PORT (no NATS)."),
    centre_db: Path | None = typer.Option(None, "--centre-db", help="The page's store (default: beside the fleet)."),
) -> None:
    """Run analytics, recording and event forwarding for the cameras of a fleet file.

    Cameras that cannot be reached are retried with capped back-off for as long as the run lasts.
    """
    from kedirivms.deploy import Deployment
    from kedirivms.deploy.live import LiveBoard
    from kedirivms.fleet import load_fleet

    fleet = load_fleet(config)
    board = LiveBoard([t.name for t in fleet.cameras(only or None)])
    local = None
    if http:
        from kedirivms.centre_web import LocalCentre

        local = LocalCentre(fleet, centre_db or config.parent / "centre.sqlite", http, only=only or None)
    sinks = [board.sink()] + ([local.sink()] if local else [])
    deployment = Deployment(fleet, only=only or None, extra_sinks=sinks)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        deployment.start()
        if local is not None:
            local.start(lambda: deployment.statuses)
            err_console.print(f"centre page: {local.url}", highlight=False)
        deployment.wait_tried(15.0)
        for status in deployment.statuses.values():
            if status.error:
                console.print(f"[yellow]camera {status.name} retrying:[/] {status.error}", highlight=False)
        deadline = time.monotonic() + seconds if seconds else None
        if json:
            _wait(stop, deadline)
        else:
            with Live(board.table(deployment.metrics()), console=console, refresh_per_second=2) as live:
                while not _wait(stop, deadline, step=1.0):
                    live.update(board.table(deployment.metrics()))
    except KeyboardInterrupt:
        pass
    finally:
        metrics = deployment.metrics()
        statuses = deployment.statuses
        deployment.close()
        if local is not None:
            local.close()
        signal.signal(signal.SIGTERM, previous)
    if chart is not None:
        console.print(f"chart: {board.chart(chart)}")
    if json:
        emit_json(
            {
                "cameras": {
                    name: {
                        "state": s.state,
                        "connected": s.connected,
                        "attempts": s.attempts,
                        "error": s.error,
                        "frames": s.frames,
                        "analytics_uri": s.analytics_uri,
                    }
                    for name, s in statuses.items()
                },
                "metrics": metrics,
                "events": board.events,
            }
        )


def _wait(stop: threading.Event, deadline: float | None, step: float | None = None) -> bool:
    """Wait until ``stop``/``deadline`` (True) or for ``step`` seconds (False)."""
    while True:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return True
        timeout = min(x for x in (remaining, step, 3600.0) if x is not None)
        if stop.wait(timeout):
            return True
        if step is not None:
            return False
