"""The entry points: :func:`open_stream` (options in, unstarted :class:`Stream` out) and :func:`grab_frame`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from kedirivms._exports import one_line
from kedirivms.errors import ConfigError
from kedirivms.stream._errors import camera_label, source_text
from kedirivms.stream._frame import Frame
from kedirivms.stream._models import StreamOptions
from kedirivms.stream._reader import Stream

__all__ = ["grab_frame", "open_stream"]


def open_stream(
    source: str | os.PathLike[str],
    *,
    timeout: tuple[float, float] | float = (5.0, 5.0),
    transport: str = "tcp",
    keyframes_only: bool = False,
    max_fps: float | None = None,
    queue_size: int = 2,
    reconnect: bool = True,
    options: Mapping[str, str] | None = None,
    **more: Any,
) -> Stream:
    """Create a :class:`Stream` (not started: ``with``, iteration or :meth:`Stream.read` start it).

    Args:
        source: ``rtsp://`` URL (credentials allowed, always redacted), any FFmpeg URL, or a file path.
        timeout: ``(open, read)`` seconds, or one number for both.
        transport: ``"tcp"`` (default) or ``"udp"`` for RTSP.
        keyframes_only: decode keyframes only.
        max_fps: cap on delivered frames per second (over-cap frames are not decoded where possible).
        queue_size: frames kept for a slow consumer; the oldest is dropped (latest-frame semantics).
        reconnect: reconnect live sources with capped back-off, also when the first connect fails.
        options: extra FFmpeg demuxer/protocol options, e.g. ``{"buffer_size": "1048576"}``.
        **more: further :class:`StreamOptions` fields (``backoff``, ``decode``, ``decoder_threads``, ...).

    Returns:
        A new, unstarted :class:`Stream`.

    Raises:
        ConfigError: an option is invalid.

    Example:
        >>> with open_stream("rtsp://127.0.0.1:8554/Profile_1_sub") as s:
        ...     for frame in s:
        ...         print(frame.y.mean())
    """
    pair = (float(timeout), float(timeout)) if isinstance(timeout, int | float) else tuple(timeout)
    try:
        opts = StreamOptions(
            timeout=pair,
            transport=transport,
            keyframes_only=keyframes_only,
            max_fps=max_fps,
            queue_size=queue_size,
            reconnect=reconnect,
            ffmpeg_options=dict(options or {}),
            **more,
        )
    except ValidationError as exc:
        raise ConfigError(
            f"invalid stream options: {one_line(exc)}",
            camera=camera_label(source_text(source)),
            operation="open_stream",
        ) from None
    return Stream(source, opts)


def grab_frame(source: str | os.PathLike[str], *, timeout: float = 10.0, **kwargs: Any) -> Frame:
    """Open ``source``, return its first decoded frame and close the connection.

    Args:
        source: as for :func:`open_stream`.
        timeout: overall seconds to wait for the first frame (also the open/read time-out).
        **kwargs: more :func:`open_stream` keywords.

    Returns:
        A :class:`Frame` that owns its pixels (it stays valid after the stream is closed).

    Raises:
        StreamTimeout: no frame within ``timeout``.
        StreamOpenError, AuthenticationFailed: the source could not be opened.
    """
    kwargs.setdefault("reconnect", False)
    kwargs.setdefault("timeout", (timeout, timeout))
    with open_stream(source, **kwargs) as stream:
        return stream.read(timeout=timeout).copy()
