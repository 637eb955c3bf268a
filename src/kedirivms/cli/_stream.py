"""``kedirivms stream``: open a camera profile or a URL/file, decode for a while, report rates and health."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from kedirivms.cli._app import JsonOption, app, console, emit_json
from kedirivms.cli._target import (
    AuthOption,
    PasswordFileOption,
    PasswordOption,
    TimeoutOption,
    UserOption,
    stream_source,
)
from kedirivms.errors import StreamClosed, StreamTimeout
from kedirivms.stream import StreamStats, open_stream


def _line(stats: StreamStats, frames: int) -> str:
    age = "-" if stats.last_frame_age is None else f"{stats.last_frame_age:.2f}s"
    size = f"{stats.width}x{stats.height}" if stats.width else "?"
    return (
        f"{stats.state.value:<12} {size:>9}  fps {stats.fps:6.2f}  frames {frames:6d}  dropped {stats.dropped:5d}"
        f"  reconnects {stats.reconnects:3d}  last frame {age}"
    )


@app.command()
def stream(
    target: str = typer.Argument(..., help="Camera (host, host:port, device URL), an rtsp:// URL or a file."),
    profile: str | None = typer.Option(None, "--profile", help="Profile token (camera targets; default first)."),
    seconds: float = typer.Option(10.0, "--seconds", min=0.1, help="How long to decode."),
    transport: str = typer.Option("tcp", "--transport", help="RTSP transport: tcp or udp."),
    keyframes_only: bool = typer.Option(False, "--keyframes-only", help="Decode keyframes only."),
    max_fps: float | None = typer.Option(None, "--max-fps", help="Cap on delivered frames per second."),
    read_timeout: float = typer.Option(5.0, "--read-timeout", help="Stall time-out of the stream, seconds."),
    username: str | None = UserOption,
    password: str | None = PasswordOption,
    password_file: Path | None = PasswordFileOption,
    timeout: float = TimeoutOption,
    auth: str = AuthOption,
    json: bool = JsonOption,
) -> None:
    """Decode a stream for --seconds and print fps, drops, reconnects and the last frame's age.

    Exits non-zero when no frame arrived and the stream failed (3 credentials refused, 4 time-out, 5 unreachable).
    """
    source, _ = stream_source(target, profile, username, password, password_file, timeout, auth, transport)
    frames = 0
    first_frame_after: float | None = None
    started = time.monotonic()
    deadline = started + seconds
    next_print = started + 1.0
    with open_stream(
        source,
        timeout=(timeout, read_timeout),
        transport=transport,
        keyframes_only=keyframes_only,
        max_fps=max_fps,
        queue_size=4,
    ) as s:
        while (now := time.monotonic()) < deadline:
            try:
                frame = s.read(timeout=min(0.5, max(0.01, deadline - now)))
            except StreamTimeout:
                frame = None
            except StreamClosed:  # a file ran out: raised only once every queued frame was read
                break
            if frame is not None:
                frames += 1
                if first_frame_after is None:
                    first_frame_after = time.monotonic() - started
            if not json and time.monotonic() >= next_print:
                next_print += 1.0
                console.print(_line(s.stats, frames), highlight=False, soft_wrap=True)
        stats = s.stats
        failure = s.last_error
    if frames == 0 and failure is not None:
        # no picture at all: the documented exit code of why (3 credentials, 4 stall, 5 unreachable...)
        raise failure
    elapsed = time.monotonic() - started
    if json:
        report = stats.model_dump(mode="json")
        report.update(
            frames=frames,
            seconds=round(elapsed, 3),
            consumer_fps=round(frames / elapsed, 3) if elapsed > 0 else 0.0,
            first_frame_after=None if first_frame_after is None else round(first_frame_after, 3),
        )
        emit_json(report)
        return
    console.print(_line(stats, frames), highlight=False, soft_wrap=True)
    console.print(
        f"source {stats.source}  codec {stats.codec}  {frames} frames in {elapsed:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
