"""``kedirivms discover``: multicast or unicast sweeps, optional HTTP check, and ``--watch``."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kedirivms.cli._app import JsonOption, app, console, emit_json, emit_json_line, err_console
from kedirivms.discovery import DEFAULT_HTTP_PORTS, DiscoveredDevice, HelloListener, discover
from kedirivms.errors import InvalidArgument


def _table(devices: list[DiscoveredDevice]) -> Table:
    table = Table(title=f"{len(devices)} device(s)")
    table.add_column("Address", no_wrap=True)
    for column in ("Name", "Location", "Hardware", "Profiles", "Device service", "Endpoint"):
        table.add_column(column, overflow="fold")
    table.add_column("Via", no_wrap=True)
    for d in devices:
        table.add_row(
            d.address,
            d.name or "",
            d.location or "",
            d.hardware or "",
            ",".join(d.profiles),
            d.device_service_url or "",
            d.endpoint or "",
            d.source,
        )
    return table


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled or not err_console.is_terminal:
        yield None
        return
    columns = (TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("sweep", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _key(d: DiscoveredDevice) -> str:
    return d.endpoint or f"http:{d.address}"


def _event(kind: str, device: DiscoveredDevice, json: bool) -> None:
    if json:
        emit_json_line({"event": kind, **device.model_dump(mode="json")})
        return
    sign = {"found": "+", "hello": "+", "lost": "-", "bye": "-"}[kind]
    label = device.name or device.endpoint or ""
    console.print(f"{sign} {kind:5} {device.address:15} {label}  {device.device_service_url or ''}", highlight=False)


@app.command("discover")
def discover_command(
    timeout: float | None = typer.Option(
        None, "--timeout", "-t", help="Seconds to wait for replies (multicast 2.0, per address 1.0 by default)."
    ),
    interface: list[str] | None = typer.Option(
        None, "--interface", "-i", help="Interface name or local address for multicast (repeatable)."
    ),
    ranges: list[str] | None = typer.Option(
        None, "--range", "-r", help="CIDR, a-b range, address or host name to sweep by unicast (repeatable)."
    ),
    watch: bool = typer.Option(
        False, "--watch", "-w", help="Keep running: Hello/Bye events (multicast) or periodic sweeps (--range)."
    ),
    json: bool = JsonOption,
    http_check: bool = typer.Option(
        False, "--http-check", help="With --range: POST GetSystemDateAndTime to addresses that ignore Probes."
    ),
    http_port: list[int] | None = typer.Option(
        None, "--http-port", help="Ports for --http-check (repeatable; default 80, 8000, 8080, 8899)."
    ),
    types: list[str] | None = typer.Option(
        None, "--type", help="Type to probe for, e.g. dn:NetworkVideoTransmitter (repeatable)."
    ),
    scopes: list[str] | None = typer.Option(
        None, "--scope", help="Scope every device must match, e.g. onvif://www.onvif.org/location/site-7."
    ),
    ipv6: bool = typer.Option(False, "--ipv6", help="Also probe FF02::C on IPv6 link-local addresses."),
    concurrency: int = typer.Option(256, "--concurrency", help="Unicast addresses in flight at once."),
    interval: float = typer.Option(60.0, "--interval", help="Seconds between sweeps with --watch --range."),
    duration: float | None = typer.Option(None, "--duration", help="With --watch: stop after this many seconds."),
) -> None:
    """Find ONVIF cameras: multicast on the local link, or unicast sweeps of --range (routed sites)."""
    if http_check and not ranges:
        raise InvalidArgument("--http-check needs --range", operation="discover", hint="add --range CIDR")
    kwargs: dict[str, Any] = {
        "timeout": timeout,
        "interfaces": interface or None,
        "ranges": ranges or None,
        "types": types or None,
        "scopes": scopes or (),
        "ipv6": ipv6,
        "concurrency": concurrency,
        "http_check_ports": (http_port or list(DEFAULT_HTTP_PORTS)) if http_check else None,
    }
    with _progress(bool(ranges) and not watch) as progress:
        devices = discover(progress=progress, **kwargs)
    if not watch:
        if json:
            emit_json(devices)
        else:
            console.print(_table(devices))
        return
    stop_at = time.monotonic() + duration if duration is not None else float("inf")
    known = {_key(d): d for d in devices}
    for d in devices:
        _event("found", d, json)
    if ranges:
        _watch_sweeps(known, kwargs, interval, stop_at, json)
    else:
        _watch_hello(interface or None, stop_at, json)


def _watch_sweeps(
    known: dict[str, DiscoveredDevice], kwargs: dict[str, Any], interval: float, stop_at: float, json: bool
) -> None:
    while True:
        pause = min(interval, stop_at - time.monotonic())
        if pause <= 0:
            return
        time.sleep(pause)
        if time.monotonic() >= stop_at:
            return
        current = {_key(d): d for d in discover(**kwargs)}
        for key in current.keys() - known.keys():
            _event("found", current[key], json)
        for key in known.keys() - current.keys():
            _event("lost", known[key], json)
        known.clear()
        known.update(current)


def _watch_hello(interfaces: list[str] | None, stop_at: float, json: bool) -> None:
    events: queue.Queue[tuple[str, DiscoveredDevice]] = queue.Queue()
    listener = HelloListener(
        interfaces=interfaces,
        on_hello=lambda d: events.put(("hello", d)),
        on_bye=lambda d: events.put(("bye", d)),
    )
    with listener:
        # on stderr even with --json: stdout stays pure JSON lines
        err_console.print("listening for Hello/Bye (Ctrl-C to stop)")
        while (left := stop_at - time.monotonic()) > 0:
            try:
                kind, device = events.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            _event(kind, device, json)
