"""A bounded RTSP DESCRIBE before FFmpeg opens a source.

FFmpeg's RTSP demuxer reads the whole SDP a server announces into memory (a 300 MB "SDP" cost ~400 MiB) and has
no option to cap it. So before each open of an ``rtsp://`` source this module asks for the SDP itself, reads at
most ``max_sdp_bytes`` of it and counts its media sections; a reply over either cap fails the open with
:class:`~kedirivms.errors.LimitExceeded`. Anything else (refusals, 401 it cannot answer, 404) is left for FFmpeg
to report as before. Costs one extra round trip per open.

The connection is handed back open and the caller closes it once FFmpeg's own open is done: servers such as
GStreamer's build the media for a DESCRIBE and tear it down when that client leaves, and a DESCRIBE arriving
during the teardown gets a 5XX (seen as opens that failed again and again under load).
"""

from __future__ import annotations

import base64
import socket
import time
from urllib.parse import unquote, urlsplit, urlunsplit

from requests.auth import HTTPDigestAuth
from requests.utils import parse_dict_header

from kedirivms.errors import LimitExceeded, StreamTimeout

__all__ = ["check_describe"]

_MAX_HEAD = 16 * 1024


class _Skip(Exception):
    """The pre-check cannot decide; FFmpeg's own open reports whatever is wrong."""


def check_describe(
    url: str, *, budget: float, per_read: float, max_bytes: int, max_tracks: int, label: str
) -> socket.socket | None:
    """DESCRIBE ``url``; raise if its SDP is larger than ``max_bytes`` or lists more than ``max_tracks`` media.

    Returns:
        The RTSP connection, still open (close it after the real open), or ``None`` when none is left open.

    Raises:
        LimitExceeded: the SDP passes a cap.
        StreamTimeout: the server did not answer within ``per_read`` seconds (or ``budget`` in all).
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or 554
    except ValueError:
        return None
    if parts.scheme.lower() != "rtsp" or not host:
        return None
    bare = urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, parts.query, ""))
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else ""
    deadline = time.monotonic() + budget
    sock: socket.socket | None = None
    try:
        sock = socket.create_connection((host, port), timeout=min(budget, per_read))
        status, headers, body = _describe(sock, bare, 1, None, deadline, per_read, max_bytes, label)
        if status == 401 and user is not None:
            auth = _authorization(headers.get("www-authenticate", ""), user, password, bare)
            if auth is None:
                return sock
            status, headers, body = _describe(sock, bare, 2, auth, deadline, per_read, max_bytes, label)
    except _Skip:
        return sock
    except TimeoutError:
        _close(sock)
        raise StreamTimeout(
            f"no reply to DESCRIBE within {per_read:g} s",
            camera=label,
            operation="open",
            hint="the camera is unreachable, frozen or overloaded; raise timeout=(open, read) if it is slow",
        ) from None
    except OSError:
        _close(sock)
        return None  # refused, reset: FFmpeg's open says so in its own words
    except BaseException:
        _close(sock)
        raise
    if status == 200 and body.count(b"\nm=") + body.startswith(b"m=") > max_tracks:
        _close(sock)
        raise _too_many_tracks(label, max_tracks)
    return sock


def _close(sock: socket.socket | None) -> None:
    if sock is not None:
        sock.close()


def _describe(
    sock: socket.socket,
    url: str,
    cseq: int,
    auth: str | None,
    deadline: float,
    per_read: float,
    max_bytes: int,
    label: str,
) -> tuple[int, dict[str, str], bytes]:
    request = f"DESCRIBE {url} RTSP/1.0\r\nCSeq: {cseq}\r\nAccept: application/sdp\r\nUser-Agent: kedirivms\r\n"
    if auth:
        request += f"Authorization: {auth}\r\n"
    sock.sendall((request + "\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HEAD or not data.startswith(b"RTSP/"[: len(data)]):
            raise _Skip  # not an RTSP reply: FFmpeg's own open reports it
        data += _recv(sock, deadline, per_read)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise _Skip from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    length_text = headers.get("content-length", "0").strip()
    length = int(length_text) if length_text.isdigit() else 0
    if length > max_bytes:
        raise LimitExceeded(
            f"the server announces a {length}-byte SDP, more than max_sdp_bytes={max_bytes}",
            limit="max_sdp_bytes",
            value=max_bytes,
            camera=label,
            operation="open",
            hint="if the server is trusted, raise it: open_stream(..., max_sdp_bytes=...)",
        )
    while len(body) < length:
        body += _recv(sock, deadline, per_read)
    return status, headers, body[:length]


def _recv(sock: socket.socket, deadline: float, per_read: float) -> bytes:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    sock.settimeout(min(per_read, left))
    chunk = sock.recv(65536)
    if not chunk:
        raise _Skip  # closed: FFmpeg will report it
    return chunk


def _authorization(challenge: str, user: str, password: str, url: str) -> str | None:
    """The Authorization header answering ``challenge`` (Digest or Basic), or None if it cannot be answered."""
    scheme, _, params = challenge.strip().partition(" ")
    if scheme.lower() == "basic":
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    if scheme.lower() != "digest":
        return None
    digest = HTTPDigestAuth(user, password)
    digest.init_per_thread_state()
    try:
        getattr(digest, "_thread_local").chal = parse_dict_header(params)  # noqa: B009 - private in the stubs
        header = digest.build_digest_header("DESCRIBE", url)
    except (KeyError, ValueError, TypeError):
        return None
    return header or None


def _too_many_tracks(label: str, max_tracks: int) -> LimitExceeded:
    return LimitExceeded(
        f"the SDP lists more than max_tracks={max_tracks} media",
        limit="max_tracks",
        value=max_tracks,
        camera=label,
        operation="open",
        hint="if the server is trusted, raise it: open_stream(..., max_tracks=...)",
    )
