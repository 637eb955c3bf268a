"""``kedirivms record``, ``recordings``, ``export`` and ``retention``."""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
from pathlib import Path

import typer
from rich.table import Table

from kedirivms._redact import redact_url
from kedirivms.cli._app import JsonOption, app, console, emit_json, emit_json_line, safe
from kedirivms.cli._target import (
    AuthOption,
    PasswordFileOption,
    PasswordOption,
    TimeoutOption,
    UserOption,
    stream_source,
)
from kedirivms.errors import InvalidArgument
from kedirivms.record import (
    Recorder,
    RetentionPolicy,
    SegmentIndex,
    apply_retention,
    export,
    parse_duration,
    parse_size,
)

RootArg = typer.Argument(..., help="Recording root folder.")


def _when(text: str) -> dt.datetime:
    """ISO 8601 (naive = UTC), epoch seconds, ``now``, or ``now-10m`` / ``-10m`` relative to now."""
    text = text.strip().lower().removeprefix("now") if text.strip().lower().startswith("now") else text.strip()
    if not text:
        return dt.datetime.now(dt.UTC)
    if text.startswith("-"):
        try:
            return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=parse_duration(text[1:]))
        except ValueError:
            raise InvalidArgument(f"not a time: {text!r}", hint="use e.g. now-10m") from None
    try:
        return dt.datetime.fromtimestamp(float(text), dt.UTC)
    except ValueError:
        pass
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(
            f"not a time: {text!r}", hint="use ISO 8601 (2026-01-31T08:00:00Z), epoch seconds, now or now-10m"
        ) from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _policy(
    max_age: str | None, max_bytes: str | None, min_free: str | None = None, camera_age: list[str] | None = None
) -> RetentionPolicy | None:
    """The retention options as a policy (``None`` if none is given); a bad value is an :class:`InvalidArgument`."""
    if not (max_age or max_bytes or min_free or camera_age):
        return None
    try:
        per_camera = {name: parse_duration(age) for name, _, age in (item.partition("=") for item in camera_age or [])}
        return RetentionPolicy(
            max_age=parse_duration(max_age) if max_age else None,
            max_age_per_camera=per_camera,
            max_bytes=parse_size(max_bytes) if max_bytes else None,
            min_free_bytes=parse_size(min_free) if min_free else None,
        )
    except ValueError as exc:
        raise InvalidArgument(str(exc), operation="retention") from None


@app.command()
def record(
    target: str = typer.Argument(..., help="Camera (host, host:port, device URL) or an rtsp:// URL."),
    root: Path = typer.Option(..., "--root", help="Recording root folder."),
    profile: str | None = typer.Option(None, "--profile", help="Media profile token (default: the first)."),
    segment: float = typer.Option(60.0, "--segment", help="Segment length in seconds (cut at keyframes)."),
    seconds: float | None = typer.Option(None, "--seconds", help="Stop after this many seconds (default: Ctrl-C)."),
    camera: str | None = typer.Option(None, "--camera", help="Camera name under the root (default: host_port)."),
    max_age: str | None = typer.Option(None, "--max-age", help="Retention while recording, e.g. 30d."),
    max_bytes: str | None = typer.Option(None, "--max-bytes", help="Retention while recording, e.g. 500G."),
    username: str | None = UserOption,
    password: str | None = PasswordOption,
    password_file: Path | None = PasswordFileOption,
    timeout: float = TimeoutOption,
    auth: str = AuthOption,
    json: bool = JsonOption,
) -> None:
    """Record a camera (or an rtsp:// URL) into indexed MP4 segments until --seconds or Ctrl-C."""
    url, found = stream_source(target, profile, username, password, password_file, timeout, auth)
    name = camera or (found and found.replace(":", "_"))
    policy = _policy(max_age, max_bytes)
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        rec = Recorder.open(url, root, name, segment_seconds=segment, retention=policy, timeout=(timeout, timeout))
        if not json:
            console.print(
                f"recording {safe(redact_url(url))} -> {safe(root / rec.camera)} (segments of {segment:g} s)",
                highlight=False,
            )
        with rec:
            deadline = None if seconds is None else time.monotonic() + seconds
            try:
                while not done.wait(1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))):
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                    if json:
                        emit_json_line(rec.stats)
            except KeyboardInterrupt:
                pass
            failure = rec.stream.last_error
    finally:  # in-process callers (tests, scripts) get their SIGTERM handler back
        signal.signal(signal.SIGTERM, previous)
    stats = rec.stats
    if stats.packets_in == 0 and failure is not None:
        raise failure  # nothing recorded: exit with the code of why (3 credentials, 4 time-out, 5 unreachable)
    if json:
        emit_json_line(stats)
    else:
        console.print(
            f"{stats.segments} segments, {stats.packets_written} packets, {stats.bytes_written} bytes, "
            f"{stats.gaps} gaps, {stats.storage_errors} storage errors"
        )


@app.command()
def recordings(
    root: Path = RootArg,
    camera: str | None = typer.Option(None, "--camera", help="Only this camera."),
    gaps: bool = typer.Option(False, "--gaps", help="List gaps instead of segments."),
    json: bool = JsonOption,
) -> None:
    """List recorded segments (or gaps) of a recording root, after reconciling the index with the files."""
    with SegmentIndex(root) as ix:
        ix.reconcile()
        rows = ix.gaps(camera) if gaps else ix.segments(camera)
    if json:
        emit_json(rows)
        return
    table = Table("camera", "start (UTC)", "end (UTC)", "seconds", "reason" if gaps else "path")
    if not gaps:
        table.add_column("bytes", justify="right")
        table.add_column("status")
    for row in rows:
        cells = [row.camera, f"{row.start:%Y-%m-%d %H:%M:%S}", f"{row.end:%Y-%m-%d %H:%M:%S}"]
        if gaps:
            table.add_row(*cells, f"{row.duration:.1f}", row.reason)  # type: ignore[union-attr]
        else:
            table.add_row(*cells, f"{row.duration:.1f}", row.path, str(row.bytes), row.status.value)  # type: ignore[union-attr]
    console.print(table)


@app.command(name="export")
def export_cmd(
    root: Path = RootArg,
    camera: str = typer.Argument(..., help="Camera name under the root."),
    start: str = typer.Argument(..., help="Start: ISO 8601 (UTC if no zone), epoch seconds, now-10m or now."),
    end: str = typer.Argument(..., help="End: same forms as START."),
    output: Path = typer.Option(..., "-o", "--output", help="MP4 file to write."),
    json: bool = JsonOption,
) -> None:
    """Remux a recorded time range into one MP4 (no transcoding); gaps are listed."""
    result = export(root, camera, _when(start), _when(end), output)
    if json:
        emit_json(result)
        return
    console.print(
        f"wrote {result.path}: {result.duration:.1f} s from {result.start:%H:%M:%S.%f}"[:-3]
        + f" ({len(result.segments)} segments, {result.packets} packets)"
    )
    for gap in result.gaps:
        console.print(f"  gap {gap.start:%H:%M:%S} - {gap.end:%H:%M:%S} ({gap.duration:.1f} s): {gap.reason}")


@app.command()
def retention(
    root: Path = RootArg,
    max_age: str | None = typer.Option(None, "--max-age", help="Delete segments older than this, e.g. 30d."),
    max_bytes: str | None = typer.Option(None, "--max-bytes", help="Keep at most this much, e.g. 500G."),
    min_free: str | None = typer.Option(None, "--min-free", help="Keep this much disk free, e.g. 10G."),
    camera_age: list[str] = typer.Option(
        [], "--camera-max-age", help="Per camera: NAME=AGE (e.g. gate-1=7d); repeatable."
    ),
    json: bool = JsonOption,
) -> None:
    """Delete the oldest segments beyond the given age, size or free-space limits."""
    report = apply_retention(root, _policy(max_age, max_bytes, min_free, camera_age) or RetentionPolicy())
    if json:
        emit_json(report)
        return
    console.print(
        f"deleted {len(report.deleted)} segments ({report.freed_bytes} bytes), {report.kept_bytes} bytes kept"
    )
    for seg in report.deleted:
        console.print(f"  {seg.path}")
