"""``kedirivms ptz``, ``imaging`` and ``events``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from kedirivms.cli._app import JsonOption, app, console, emit_json, emit_json_line, safe
from kedirivms.cli._target import (
    AuthOption,
    PasswordFileOption,
    PasswordOption,
    TargetArg,
    TimeoutOption,
    UserOption,
    open_camera,
)
from kedirivms.errors import InvalidArgument
from kedirivms.onvif import Camera, CameraEvent, PTZStatus
from kedirivms.onvif.imaging import IMAGING_KEYS

PTZ_ACTIONS = ("status", "presets", "goto", "move", "stop", "home", "set-home", "set-preset", "remove-preset")
_NEEDS_NAME = ("goto", "set-preset", "remove-preset")
_MODE_KEYS = ("ir_cut_filter", "exposure_mode", "focus_mode")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def _print_status(st: PTZStatus) -> None:
    p = st.position
    console.print(
        f"pan {_fmt(p.pan)}  tilt {_fmt(p.tilt)}  zoom {_fmt(p.zoom)}  "
        f"pan/tilt {st.pan_tilt_status or '-'}  zoom {st.zoom_status or '-'}"
        + (f"  error {st.error}" if st.error else "")
    )


def run_ptz(
    cam: Camera,
    action: str,
    name: str | None,
    *,
    pan: float,
    tilt: float,
    zoom: float | None,
    seconds: float | None,
    speed: float | None,
) -> Any:
    """Run one ``ptz`` action; returns what to print (a model, a list of models or a dict)."""
    p = cam.ptz
    if action == "status":
        return p.status()
    if action == "presets":
        return p.presets()
    if action == "goto":
        assert name is not None
        found = p.goto_preset(name, speed=speed)
        return {"goto": found.token, "name": found.name}
    if action == "move":
        p.continuous_move(pan, tilt, zoom, timeout=seconds)
        if seconds is not None:
            time.sleep(seconds)  # then stop explicitly: some firmware ignores the Timeout of ContinuousMove
            p.stop()
        return p.status()
    if action == "stop":
        p.stop()
        return p.status()
    if action == "home":
        p.goto_home(speed=speed)
        return {"home": True}
    if action == "set-home":
        p.set_home()
        return {"home_set": True}
    if action == "set-preset":
        assert name is not None
        return {"token": p.set_preset(name), "name": name}
    if action == "remove-preset":
        assert name is not None
        p.remove_preset(name)
        return {"removed": name}
    raise AssertionError(action)  # pragma: no cover - checked by the command


@app.command()
def ptz(
    target: str = TargetArg,
    action: str = typer.Argument(..., help=f"One of: {', '.join(PTZ_ACTIONS)}."),
    name: str | None = typer.Argument(None, help="Preset name or token (goto, set-preset, remove-preset)."),
    pan: float = typer.Option(0.0, "--pan", help="move: pan velocity, -1..1 (generic space)."),
    tilt: float = typer.Option(0.0, "--tilt", help="move: tilt velocity, -1..1."),
    zoom: float | None = typer.Option(None, "--zoom", help="move: zoom velocity, -1..1."),
    seconds: float | None = typer.Option(None, "--seconds", help="move: stop after this many seconds."),
    speed: float | None = typer.Option(None, "--speed", help="goto/home: speed 0..1."),
    username: str | None = UserOption,
    password: str | None = PasswordOption,
    password_file: Path | None = PasswordFileOption,
    timeout: float = TimeoutOption,
    auth: str = AuthOption,
    json: bool = JsonOption,
) -> None:
    """Pan/tilt/zoom: status, presets, goto PRESET, move, stop, home, set-home, set-preset NAME."""
    if action not in PTZ_ACTIONS:
        raise InvalidArgument(f"unknown ptz action {action!r}", hint=f"one of: {', '.join(PTZ_ACTIONS)}")
    if action in _NEEDS_NAME and not name:
        raise InvalidArgument(f"ptz {action} needs a preset name", hint=f"kedirivms ptz TARGET {action} NAME")
    with open_camera(target, username, password, password_file, timeout, auth) as cam:
        result = run_ptz(cam, action, name, pan=pan, tilt=tilt, zoom=zoom, seconds=seconds, speed=speed)
    if json:
        emit_json(result)
    elif isinstance(result, PTZStatus):
        _print_status(result)
    elif isinstance(result, list):
        table = Table("token", "name", "pan", "tilt", "zoom")
        for pr in result:
            pos = pr.position
            table.add_row(pr.token, pr.name, _fmt(pos and pos.pan), _fmt(pos and pos.tilt), _fmt(pos and pos.zoom))
        console.print(table)
    else:
        console.print(" ".join(f"{k}={v}" for k, v in result.items()))


def _parse_sets(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not sep or not key:
            raise InvalidArgument(f"--set {item!r} is not KEY=VALUE", hint=f"keys: {', '.join(IMAGING_KEYS)}")
        if key not in IMAGING_KEYS:
            raise InvalidArgument(f"unknown imaging setting {key!r}", hint=f"keys: {', '.join(IMAGING_KEYS)}")
        if key in _MODE_KEYS:
            out[key] = value.strip().upper()
        else:
            try:
                out[key] = float(value)
            except ValueError:
                raise InvalidArgument(f"{key}={value!r} is not a number", hint=f"e.g. --set {key}=50") from None
    return out


@app.command()
def imaging(
    target: str = TargetArg,
    set_: list[str] | None = typer.Option(None, "--set", help="KEY=VALUE to change (repeatable), e.g. brightness=60."),
    source: str | None = typer.Option(None, "--source", help="Video source token (default: the first)."),
    username: str | None = UserOption,
    password: str | None = PasswordOption,
    password_file: Path | None = PasswordFileOption,
    timeout: float = TimeoutOption,
    auth: str = AuthOption,
    json: bool = JsonOption,
) -> None:
    """Imaging settings (and options) of a video source; ``--set`` changes them after checking the options."""
    changes = _parse_sets(set_ or [])
    with open_camera(target, username, password, password_file, timeout, auth) as cam:
        settings = cam.imaging.set(source, **changes) if changes else cam.imaging.settings(source)
        options = cam.imaging.options(source)
    if json:
        emit_json({"settings": settings.model_dump(mode="json"), "options": options.model_dump(mode="json")})
        return
    table = Table("setting", "value", "valid")
    opts = options.model_dump()
    for key in IMAGING_KEYS:
        value = getattr(settings, key)
        if value is None:
            continue
        if key in _MODE_KEYS:
            valid = ", ".join(opts[{"ir_cut_filter": "ir_cut_filter_modes"}.get(key, key + "s")] or [])
        else:
            rng = opts.get(key)
            valid = f"{rng['min']:g}..{rng['max']:g}" if rng else ""
        table.add_row(key, f"{value:g}" if isinstance(value, float) else str(value), valid)
    console.print(table)


def _event_line(ev: CameraEvent) -> str:
    when = ev.utc_time.strftime("%H:%M:%S") if ev.utc_time else "--:--:--"
    items = " ".join(f"{k}={v}" for k, v in {**ev.source, **ev.data}.items())
    return f"{when} {ev.topic} {ev.property_operation or ''} {items}".replace("  ", " ")


@app.command()
def events(
    target: str = TargetArg,
    seconds: float | None = typer.Option(None, "--seconds", help="Stop after this many seconds (default: Ctrl-C)."),
    topic: list[str] | None = typer.Option(
        None, "--topic", help="Only this topic (repeatable), e.g. tns1:VideoSource/MotionAlarm."
    ),
    username: str | None = UserOption,
    password: str | None = PasswordOption,
    password_file: Path | None = PasswordFileOption,
    timeout: float = TimeoutOption,
    auth: str = AuthOption,
    json: bool = JsonOption,
) -> None:
    """Print camera events as they arrive (``--json``: one JSON object per line)."""
    with (
        open_camera(target, username, password, password_file, timeout, auth) as cam,
        cam.events.pull_point(topic or None, pull_timeout=min(5.0, seconds or 5.0)) as sub,
    ):
        for ev in sub.events(duration=seconds):
            if json:
                emit_json_line(ev)
            else:
                console.print(safe(_event_line(ev), 1000), highlight=False, soft_wrap=True)
