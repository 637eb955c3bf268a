"""``kedirivms simulate``: run virtual ONVIF cameras until Ctrl-C / SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, get_args

import typer
from rich.table import Table

from kedirivms.cli._app import app, console, emit_json_line
from kedirivms.errors import ConfigError
from kedirivms.sim import AuthMode, Quirk, VirtualCamera, VirtualCameraConfig, VirtualFleet
from kedirivms.sim.fleet import fleet_configs

_AUTH_MODES: tuple[str, ...] = get_args(AuthMode)
_QUIRKS: tuple[str, ...] = get_args(Quirk)


def camera_summary(cam: VirtualCamera) -> dict[str, Any]:
    """What a user needs to reach ``cam`` (endpoints and credentials)."""
    cfg = cam.config
    return {
        "name": cfg.name,
        "host": cam.host,
        "port": cam.port,
        "device_url": cam.device_url,
        "username": cfg.username,
        "password": cfg.password.get_secret_value(),
        "auth": cfg.auth,
        "channels": cfg.channels,
        "clock_skew_s": cfg.clock_skew_s,
        "rtsp_port": cfg.rtsp_port or 554,
        "profiles": cam.profile_tokens,
        "discovery": "multicast+unicast" if cam.discovery_responder is not None else None,
    }


class SimulatedSite:
    """The cameras that ``simulate`` runs, each with its RTSP server when started with ``rtsp``."""

    def __init__(self, fleet: VirtualFleet) -> None:
        self.fleet = fleet

    @property
    def rtsp_servers(self) -> list[Any]:
        """The cameras' RTSP servers (empty without ``rtsp``)."""
        return [cam.rtsp_server for cam in self.fleet if cam.rtsp_server is not None]

    def stop(self) -> None:
        """Stop every camera and its RTSP server."""
        self.fleet.stop()


def start_cameras(
    cameras: int,
    host: str,
    base_port: int,
    distinct_hosts: bool,
    config: VirtualCameraConfig,
    rtsp: bool = False,
    discovery: bool = False,
) -> SimulatedSite:
    """Start what ``simulate`` serves: the cameras and, with ``rtsp``, an RTSP server for each on a free port
    that the camera's stream URIs name (streams follow the encoder settings, changes included, and encode
    lazily); with ``discovery`` a WS-Discovery responder per camera (multicast and unicast)."""
    if cameras < 1:
        raise ConfigError("--cameras must be >= 1")
    if discovery and cameras > 1 and not distinct_hosts:
        raise ConfigError(
            "--discovery answers on each camera's address, port 3702: several cameras need --distinct-hosts"
        )
    update: dict[str, Any] = {"host": host, "port": base_port}
    if rtsp:
        update["rtsp_port"] = None  # free ports: several servers may share one host
    base = config.model_copy(update=update)
    if cameras == 1 and not distinct_hosts:
        configs = [base]
    else:
        configs = fleet_configs(cameras, base=base, distinct_hosts=distinct_hosts)
    return SimulatedSite(VirtualFleet.from_configs(configs, rtsp=rtsp, discovery="multicast" if discovery else False))


@app.command()
def simulate(
    cameras: int = typer.Option(1, "--cameras", "-n", help="How many virtual cameras to run."),
    host: str = typer.Option("127.0.0.1", "--host", help="Loopback address to listen on."),
    base_port: int = typer.Option(0, "--base-port", help="Port of the first camera (+1 each); 0 = free ports."),
    distinct_hosts: bool = typer.Option(
        False, "--distinct-hosts", help="One address per camera (127.0.1.1, 127.0.1.2, ...), all on --base-port."
    ),
    nvr_channels: int = typer.Option(1, "--nvr-channels", help="Video channels per camera (> 1 = NVR)."),
    auth: str = typer.Option("username_token", "--auth", help=f"One of: {', '.join(_AUTH_MODES)}."),
    username: str = typer.Option("admin", "--username", "-u", help="Administrator user name."),
    password: str = typer.Option("admin123", "--password", "-p", help="Administrator password."),
    clock_skew_s: float = typer.Option(0.0, "--clock-skew", help="Camera clock minus UTC, seconds."),
    rtsp_port: int | None = typer.Option(None, "--rtsp-port", help="Port named in stream URIs (default 554)."),
    advertised_host: str | None = typer.Option(None, "--advertised-host", help="Host named in XAddrs (NAT)."),
    quirk: list[str] = typer.Option([], "--quirk", help=f"Vendor quirk to emit (repeatable): {', '.join(_QUIRKS)}."),
    rtsp: bool = typer.Option(False, "--rtsp", help="Also serve the H.264 streams (one RTSP server per camera)."),
    discovery: bool = typer.Option(
        False, "--discovery", help="Answer WS-Discovery Probes (multicast and unicast) on each camera's address."
    ),
    duration: float | None = typer.Option(None, "--duration", help="Stop after this many seconds."),
    json: bool = typer.Option(False, "--json", help="Print the cameras as one JSON line."),
) -> None:
    """Run virtual ONVIF cameras on loopback; print endpoints and credentials; Ctrl-C stops."""
    if auth not in _AUTH_MODES:
        raise ConfigError(f"unknown --auth {auth!r}; valid: {', '.join(_AUTH_MODES)}")
    bad = [q for q in quirk if q not in _QUIRKS]
    if bad:
        raise ConfigError(f"unknown --quirk {', '.join(bad)}; valid: {', '.join(_QUIRKS)}")
    try:
        config = VirtualCameraConfig.model_validate(
            {
                "username": username,
                "password": password,
                "auth": auth,
                "channels": nvr_channels,
                "clock_skew_s": clock_skew_s,
                "rtsp_port": rtsp_port,
                "advertised_host": advertised_host,
                "quirks": frozenset(quirk),
            }
        )
    except ValueError as exc:
        raise ConfigError(f"invalid camera settings: {exc}") from None
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    site = start_cameras(cameras, host, base_port, distinct_hosts, config, rtsp=rtsp, discovery=discovery)
    try:
        rows = [camera_summary(cam) for cam in site.fleet]
        if json:
            emit_json_line(rows)
        elif not console.is_terminal:
            _print_lines(rows, rtsp)
        else:
            table = Table(title=f"{len(rows)} virtual camera(s), Ctrl-C stops")
            width = max(len(r["device_url"]) for r in rows)
            table.add_column("device_url", no_wrap=True, min_width=width)
            for column in _COLUMNS[1:]:
                table.add_column(column, no_wrap=True)
            for row in rows:
                table.add_row(*(_cell(row, c) for c in _COLUMNS))
            console.print(table)
            console.print(_uri_note(rtsp), highlight=False)
        stop.wait(duration)
    finally:
        site.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


_COLUMNS = ("device_url", "username", "password", "auth", "channels", "profiles", "rtsp_port", "discovery")


def _cell(row: dict[str, Any], column: str) -> str:
    value = row[column]
    if column == "profiles":
        return str(len(value))
    return "-" if value is None else str(value)


def _uri_note(rtsp: bool) -> str:
    where = "served here" if rtsp else "no RTSP server started (use --rtsp)"
    return f"stream URIs: rtsp://{{host}}:{{rtsp_port}}/{{profile_token}} ({where})"


def _print_lines(rows: list[dict[str, Any]], rtsp: bool) -> None:
    """Whole lines for a pipe or a file (a rich table would be cut to 80 columns), flushed at once: the
    command keeps running, and whoever reads the file wants the endpoints now."""
    widths = {c: max(len(c), *(len(_cell(r, c)) for r in rows)) for c in _COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in _COLUMNS).rstrip()]
    lines += ["  ".join(_cell(r, c).ljust(widths[c]) for c in _COLUMNS).rstrip() for r in rows]
    sys.stdout.write("\n".join(lines) + "\n" + _uri_note(rtsp) + "\n")
    sys.stdout.flush()
