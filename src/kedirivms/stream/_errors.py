"""Translate PyAV/FFmpeg exceptions into the kedirivms error tree (credentials redacted)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import av

from kedirivms._redact import redact_text, redact_url
from kedirivms.errors import (
    AuthenticationFailed,
    KedirivmsError,
    StreamError,
    StreamOpenError,
    StreamTimeout,
)

LIVE_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "udp", "rtp", "srt", "tcp", "http", "https", "hls"})


def source_text(source: str | os.PathLike[str]) -> str:
    """The source as a string (paths kept, URLs unchanged)."""
    return os.fspath(source)


def is_live(source: str) -> bool:
    """True for network URLs (reconnectable), False for local files."""
    scheme = source.partition("://")[0].lower() if "://" in source else ""
    return scheme in LIVE_SCHEMES


def camera_label(source: str) -> str:
    """``host:port`` for URLs, the file name for paths; never credentials."""
    if "://" in source:
        try:
            parts = urlsplit(source)
            host = parts.hostname or "?"
        except ValueError:  # "rtsp://[::1/main": no host we can name
            return "?"
        try:
            port = parts.port
        except ValueError:
            port = None
        return f"{host}:{port}" if port else host
    return os.path.basename(source) or source


def map_av_error(exc: BaseException, source: str, operation: str, *, read_timeout: float) -> KedirivmsError:
    """Return the most specific kedirivms error for ``exc`` (to be raised ``from exc``)."""
    if isinstance(exc, KedirivmsError):
        return exc
    label = camera_label(source)
    # FFmpeg errors render as "[Errno N] text: 'url'"; keep the text, the camera label names the source
    raw = getattr(exc, "strerror", None) if isinstance(exc, av.error.FFmpegError) else None
    text = redact_text(str(raw or exc)).replace(source, redact_url(source))
    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return AuthenticationFailed(
            f"the server refused the credentials ({text})",
            camera=label,
            operation=operation,
            hint="check the user name and password in the stream URL",
        )
    if isinstance(exc, av.error.ExitError | TimeoutError) or getattr(exc, "errno", None) in (110, 62):
        return StreamTimeout(
            f"no data within {read_timeout:g} s",
            camera=label,
            operation=operation,
            hint="the camera is unreachable, frozen or overloaded; raise timeout=(open, read) if it is slow",
        )
    if isinstance(exc, av.error.HTTPNotFoundError):
        return StreamOpenError(
            f"the stream was not found ({text})", camera=label, operation=operation, hint="check the path/profile"
        )
    if isinstance(exc, av.error.FileNotFoundError | FileNotFoundError):
        return StreamOpenError(f"no such file ({text})", camera=label, operation=operation, hint="check the path")
    if isinstance(exc, OSError | av.error.FFmpegError):
        return StreamOpenError(
            text or type(exc).__name__,
            camera=label,
            operation=operation,
            hint="check that the camera is up and the URL is right",
        )
    return StreamError(f"{type(exc).__name__}: {text}", camera=label, operation=operation)
