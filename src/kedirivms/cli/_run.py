"""``kedirivms run CONFIG.yaml``: run a deployment (cameras, zones, plugins, sinks, recording) until stopped."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import typer
from rich.live import Live

from kedirivms.cli._app import app, console, emit_json


@app.command()
def run(
    config: Path = typer.Argument(..., help="Deployment file (YAML): cameras, zones, plugins, sinks, recording."),
    seconds: float | None = typer.Option(None, "--seconds", help="Stop after this long (default: until Ctrl-C)."),
    chart: Path | None = typer.Option(None, "--chart", help="Write a PNG chart of queue length and alerts at the end."),
    json: bool = typer.Option(False, "--json", help="Print the final metrics as JSON instead of a live table."),
) -> None:
    """Run analytics, recording and event forwarding for the cameras of a deployment file."""
    from kedirivms.deploy import Deployment, load_deployment
    from kedirivms.deploy.live import LiveBoard

    cfg = load_deployment(config)
    board = LiveBoard([c.name for c in cfg.cameras])
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    deployment = Deployment(cfg, extra_sinks=[board.sink()], base_dir=config.resolve().parent)
    try:
        deployment.start()
        for status in deployment.statuses.values():
            if status.error:
                console.print(f"[yellow]camera {status.name} skipped:[/] {status.error}", highlight=False)
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
        deployment.stop()
        signal.signal(signal.SIGTERM, previous)
    if chart is not None:
        console.print(f"chart: {board.chart(chart)}")
    if json:
        emit_json(
            {
                "cameras": {
                    name: {"connected": s.connected, "error": s.error, "analytics_uri": s.analytics_uri}
                    for name, s in deployment.statuses.items()
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
