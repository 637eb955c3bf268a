"""``kedirivms info``, ``profiles`` and ``snapshot``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from kedirivms._redact import redact_url
from kedirivms.cli._app import JsonOption, app, console, emit_json, safe
from kedirivms.cli._target import (
    AuthOption,
    PasswordFileOption,
    PasswordOption,
    TargetArg,
    TimeoutOption,
    UserOption,
    is_direct_source,
    open_camera,
    stream_source,
)
from kedirivms.errors import InvalidArgument
from kedirivms.onvif import Camera


def camera_report(cam: Camera) -> dict[str, Any]:
    """Device info, clock offset, services, channels and profiles with credential-free stream URIs."""
    info = cam.device_information()
    profiles = cam.profiles(with_stream_uris=True)
    return {
        "camera": cam.name,
        "device": info.model_dump(mode="json"),
        "clock_offset_s": round(cam.clock_offset_s, 3),
        "services": cam.services().xaddrs,
        "channels": len({p.channel for p in profiles}),
        "profiles": [p.model_dump(mode="json") for p in profiles],
    }


@app.command()
def info(
    target: str = TargetArg,
    username: str | None = UserOption,
    password: str | None = PasswordOption,
    password_file: Path | None = PasswordFileOption,
    timeout: float = TimeoutOption,
    auth: str = AuthOption,
    json: bool = JsonOption,
) -> None:
    """Device information, clock offset, channels and profiles of a camera."""
    with open_camera(target, username, password, password_file, timeout, auth) as cam:
        report = camera_report(cam)
    if json:
        emit_json(report)
        return
    dev = report["device"]
    console.print(
        f"[bold]{safe(dev['manufacturer'], 80)} {safe(dev['model'], 80)}[/]"
        f"  firmware {safe(dev['firmware_version'], 80)}  serial {safe(dev['serial_number'], 80)}"
        f"  clock offset {report['clock_offset_s']:+.1f} s  "
        f"channels {report['channels']}"
    )
    console.print(_profiles_table(report["profiles"]))


@app.command()
def profiles(
    target: str = TargetArg,
    username: str | None = UserOption,
    password: str | None = PasswordOption,
    password_file: Path | None = PasswordFileOption,
    timeout: float = TimeoutOption,
    auth: str = AuthOption,
    json: bool = JsonOption,
) -> None:
    """Media profiles (token, channel, encoder, stream URI)."""
    with open_camera(target, username, password, password_file, timeout, auth) as cam:
        items = [p.model_dump(mode="json") for p in cam.profiles(with_stream_uris=True)]
    if json:
        emit_json(items)
    else:
        console.print(_profiles_table(items))


@app.command()
def snapshot(
    target: str = TargetArg,
    output: Path = typer.Option(..., "-o", "--output", help="File to write (JPEG/PNG by suffix)."),
    profile: str | None = typer.Option(None, "--profile", help="Profile token (default: the first)."),
    from_stream: bool = typer.Option(False, "--from-stream", help="Decode one frame from the RTSP stream."),
    username: str | None = UserOption,
    password: str | None = PasswordOption,
    password_file: Path | None = PasswordFileOption,
    timeout: float = TimeoutOption,
    auth: str = AuthOption,
) -> None:
    """Save a snapshot: the camera's HTTP snapshot, or a frame decoded from its stream."""
    if from_stream or is_direct_source(target):
        from kedirivms.stream import grab_frame

        source, _ = stream_source(target, profile, username, password, password_file, timeout, auth)
        grab_frame(source, timeout=timeout).save(output)
    else:
        with open_camera(target, username, password, password_file, timeout, auth) as cam:
            data = cam.snapshot(profile)
        try:
            output.write_bytes(data)
        except OSError as exc:
            raise InvalidArgument(f"cannot write {output}: {exc.strerror}") from None
    console.print(f"saved {output}")


def _profiles_table(items: list[dict[str, Any]]) -> Table:
    table = Table("token", "ch", "name", "encoding", "size", "fps", "kbit/s", "gop", "ptz", "stream URI")
    for p in items:
        size = f"{p['width']}x{p['height']}" if p.get("width") else "-"
        cells = (
            p["token"],
            str(p["channel"]),
            p.get("name") or "",
            " ".join(x for x in (p.get("encoding"), p.get("encoder_profile")) if x) or "-",  # H265 Main10
            size,
            str(p.get("fps") or "-"),
            str(p.get("bitrate_kbps") or "-"),
            str(p.get("gop") or "-"),
            "yes" if p.get("ptz_configured") else "",
            redact_url(p.get("stream_uri") or "-"),
        )
        table.add_row(*(safe(cell, 120) for cell in cells))
    return table
